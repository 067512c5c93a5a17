/* noise.c - train-only input corruption for denoising autoencoders
 * (Vincent et al., ICML 2008). The loss target `input` still reads the
 * clean network input, so the net learns to undo the corruption.
 *
 *   train, type=mask:        y = x * keep, keep_i ~ Bernoulli(1 - q)
 *   train, type=saltpepper:  y_i = x_i where keep_i, else 0 or 1 (even odds)
 *   train, type=gaussian:    y = x + sigma * N(0, 1)
 *   eval:                    y = x
 *   backward                 dx += dy * keep (mask, saltpepper), dx += dy otherwise
 *
 * The kernels live in data/corrupt.c and draw from the net's RNG.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { NOISE_MASK, NOISE_GAUSSIAN, NOISE_SALTPEPPER };

static const cn_key keys[] = {
    {"type", CN_KEY_ENUM, "mask", "mask|gaussian|saltpepper", "kind of corruption"},
    {"q", CN_KEY_FLOAT, "0.25", "[0, 1]", "corrupted fraction for mask and saltpepper, in [0, 1]"},
    {"sigma", CN_KEY_FLOAT, "0.1", "[0, inf)", "standard deviation for gaussian (>= 0)"},
    CN_KEY_END};

typedef struct noise_state {
    int type;
    float q, sigma;
    float *keep; /* (batch, c*h*w) 1 where the value was kept; NULL for gaussian */
    int masked;  /* the last forward applied `keep` */
} noise_state;

/* Read the keys of the chosen type; a key the type ignores is an error. */
static cn_status read_keys(cn_sec *s, noise_state *st, cn_error *err)
{
    cn_status rc = cn_sec_enum(s, "type", &st->type, err);
    if (rc)
        return rc;
    if (st->type == NOISE_GAUSSIAN) {
        if (cn_sec_has(s, "q"))
            return cn_sec_bad(s, "q", CN_ERR_CFG, err,
                              "applies only to type=mask and type=saltpepper");
        return cn_sec_float(s, "sigma", &st->sigma, err);
    }
    if (cn_sec_has(s, "sigma"))
        return cn_sec_bad(s, "sigma", CN_ERR_CFG, err, "applies only to type=gaussian");
    return cn_sec_float(s, "q", &st->q, err);
}

static cn_status noise_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    noise_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    cn_status rc = read_keys(s, st, err);
    if (rc)
        return rc;
    l->c = l->in[0]->c;
    l->h = l->in[0]->h;
    l->w = l->in[0]->w;
    if (st->type != NOISE_GAUSSIAN) {
        size_t count = (size_t)cn_build_batch(b) * l->c * l->h * l->w;
        st->keep = cn_build_alloc(b, l, count * sizeof *st->keep);
        if (!st->keep)
            return cn_build_error(b, l, err);
    }
    return CN_OK;
}

static void noise_forward(cn_layer *l, const cn_ctx *ctx)
{
    noise_state *st = l->state;
    size_t count = (size_t)ctx->n * cn_tensor_sample(&l->out); /* (n, c*h*w) */
    float *y = l->out.data;
    memcpy(y, l->in[0]->out.data, count * sizeof(float));
    st->masked = ctx->train && st->type != NOISE_GAUSSIAN;
    if (!ctx->train)
        return;
    if (st->type == NOISE_MASK)
        cn_corrupt_mask(y, count, st->q, ctx->rng, st->keep);
    else if (st->type == NOISE_SALTPEPPER)
        cn_corrupt_saltpepper(y, count, st->q, ctx->rng, st->keep);
    else
        cn_corrupt_gaussian(y, count, st->sigma, ctx->rng);
}

static void noise_backward(cn_layer *l, const cn_ctx *ctx)
{
    const noise_state *st = l->state;
    cn_layer *src = l->in[0];
    if (!src->needs_grad)
        return;
    size_t count = (size_t)ctx->n * cn_tensor_sample(&l->out);
    const float *dy = l->dout.data;
    float *dx = src->dout.data;
    if (st->masked) {
        for (size_t i = 0; i < count; i++)
            dx[i] += dy[i] * st->keep[i];
    } else {
        cn_axpy(count, 1.0f, dy, dx);
    }
}

static void noise_destroy(cn_layer *l)
{
    noise_state *st = l->state;
    if (st)
        free(st->keep);
    free(st);
    l->state = NULL;
}

const cn_layer_ops cn_layer_noise = {
    .type = "noise",
    .keys = keys,
    .doc = "train-only corruption (mask, gaussian, saltpepper) for denoising autoencoders",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = noise_setup,
    .forward = noise_forward,
    .backward = noise_backward,
    .destroy = noise_destroy,
};
