/* samples.c - pictures of a VAE's generative model (`cnet sample`):
 * z ~ N(0, I), or for a 2-D latent a grid over [-3, 3]^2, decoded by the
 * network's own layers.
 *
 * The latent layer is the [sample] layer a loss offering
 * CN_OFFER_GAUSS_POSTERIOR (kl_gauss) is attached to;
 * the picture is the output of the first loss with target=input. Every
 * layer that output depends on must come after the sample layer, or be the
 * sample layer itself, so writing z into the sample layer's output and
 * running cn_net_forward_from(sample + 1) in eval mode decodes it; the
 * encoder is not run (its input is left at zero). Batches of the net's size.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "canvas.h"

/* The [sample] layer of the first Gaussian-posterior KL loss, or NULL. */
static cn_layer *latent_layer(const cn_net *net)
{
    for (int i = 0; i < cn_net_n_losses(net); i++)
        if (cn_net_loss(net, i)->ops->offers & CN_OFFER_GAUSS_POSTERIOR)
            return cn_net_loss(net, i)->layer;
    return NULL;
}

/* Error unless everything `out` reads comes after z or through z. */
static cn_status decoder_only(const cn_net *net, const cn_layer *z, const cn_layer *out,
                              cn_error *err)
{
    int n = cn_net_n_layers(net), top = 0;
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    const cn_layer **stack = malloc(((size_t)n * CN_MAX_INPUTS + 1) * sizeof *stack);
    char *seen = calloc((size_t)n, 1);
    cn_status rc = CN_OK;
    if (!stack || !seen) {
        rc = cn_errorf(err, CN_ERR_NOMEM, "out of memory");
        goto done;
    }
    stack[top++] = out;
    while (top && !rc) {
        const cn_layer *l = stack[--top];
        if (l == z || seen[l->index])
            continue;
        seen[l->index] = 1;
        if (l->index < z->index) {
            rc = cn_errorf(err, CN_ERR_SHAPE, "%s: the output '%s' depends on layer '%s', which "
                           "comes before the latent layer '%s', so it cannot be decoded from z "
                           "alone", cn_net_name(net), out->name, l->name, z->name);
            break;
        }
        for (int i = 0; i < l->n_in; i++)
            stack[top++] = l->in[i];
    }
done:
    free(stack);
    free(seen);
    return rc;
}

/* z (count, D): a traversal of [-3, 3]^2 for D = 2 (count = side^2), else N(0, I). */
static void draw_latents(float *z, int count, int side, size_t D, uint64_t seed)
{
    cn_rng rng;
    cn_rng_seed(&rng, seed);
    for (int i = 0; i < count; i++) {
        float *zi = z + (size_t)i * D;
        if (D == 2) {
            float step = side > 1 ? 6.0f / (float)(side - 1) : 0.0f;
            zi[0] = -3.0f + step * (float)(i % side);
            zi[1] = 3.0f - step * (float)(i / side);
            continue;
        }
        for (size_t j = 0; j < D; j++)
            zi[j] = cn_rng_normal(&rng);
    }
}

/* Decode z (count, D) into img (count, d) through layers z+1.. of the net. */
static void decode(cn_net *net, cn_layer *zl, const cn_layer *out, const float *z, float *x0,
                   float *img, int count)
{
    int batch = cn_net_batch(net);
    size_t D = cn_tensor_sample(&zl->out), d = cn_tensor_sample(&out->out);
    cn_net_set_train(net, 0);
    cn_net_set_sample(net, 0);
    for (int s0 = 0; s0 < count; s0 += batch) {
        int m = CN_MIN(batch, count - s0);
        cn_net_set_batch(net, x0, NULL, m);
        memcpy(zl->out.data, z + (size_t)s0 * D, (size_t)m * D * sizeof *z);
        cn_net_forward_from(net, zl->index + 1);
        memcpy(img + (size_t)s0 * d, out->out.data, (size_t)m * d * sizeof *img);
    }
}

cn_status cn_vis_samples(cn_net *net, int n, uint64_t seed, const char *path, cn_error *err)
{
    cn_layer *zl = latent_layer(net);
    const cn_loss *rec = cn_vis_recon_loss(net);
    if (!zl || !rec)
        return cn_errorf(err, CN_ERR_CFG, "%s: no %s, so there is no %s to sample",
                         cn_net_name(net), zl ? "loss with target=input" : "kl_gauss loss",
                         zl ? "decoder output" : "latent prior");
    const cn_layer *in = cn_net_layer(net, 0), *out = rec->layer;
    size_t D = cn_tensor_sample(&zl->out), d = cn_tensor_sample(&out->out);
    if (d != cn_net_input_size(net))
        return cn_errorf(err, CN_ERR_SHAPE, "%s: the output '%s' has %zu values per sample, "
                         "the input %zu; expected images of the input's shape", cn_net_name(net),
                         out->name, d, cn_net_input_size(net));
    if (n < 1)
        return cn_errorf(err, CN_ERR_USAGE, "%d samples requested; expected at least 1", n);
    cn_status rc = decoder_only(net, zl, out, err);
    if (rc)
        return rc;
    int side = (int)ceil(sqrt((double)n)), count = D == 2 ? side * side : n;
    int cols = side, rows = (count + cols - 1) / cols;
    float *z = malloc((size_t)count * D * sizeof *z);
    float *img = malloc((size_t)count * d * sizeof *img);
    float *x0 = calloc((size_t)cn_net_batch(net) * d, sizeof *x0);
    cn_canvas cv = {0};
    if (!z || !img || !x0) {
        rc = cn_errorf(err, CN_ERR_NOMEM, "out of memory for %d samples", count);
        goto done;
    }
    draw_latents(z, count, side, D, seed);
    decode(net, zl, out, z, x0, img, count);
    float lo, hi;
    cn_min_max(img, (size_t)count * d, &lo, &hi);
    lo = fminf(lo, 0.0f), hi = fmaxf(hi, 1.0f);
    int s = cn_tile_scale(in->h, in->w), tw = in->w * s, th = in->h * s;
    if ((rc = cn_canvas_init(&cv, cols * tw + cols - 1, rows * th + rows - 1, err)))
        goto done;
    for (int i = 0; i < count; i++)
        cn_put_tile(&cv, i % cols * (tw + 1), i / cols * (th + 1), img + (size_t)i * d, in->c,
                    in->h, in->w, s, lo, hi);
    rc = cn_canvas_write(&cv, path, err);
done:
    free(z);
    free(img);
    free(x0);
    return rc;
}
