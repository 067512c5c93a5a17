/* upsample.c - nearest-neighbour upsampling by an integer factor
 * (PyTorch's Upsample(scale_factor=f, mode='nearest')), the parameter-free
 * way to grow a decoder's feature maps.
 *
 * Legend: input X (n, C, H, W), factor f, output Y (n, C, f*H, f*W).
 *   forward   y[c][i][j] = x[c][i / f][j / f]
 *   backward  dx[c][a][b] += sum of dy over the f x f block it was copied to
 */
#include <stdlib.h>

#include "internal.h"

static const cn_key keys[] = {
    {"factor", CN_KEY_INT, "2", "[1, 1024]", "each pixel becomes a factor x factor block (>= 1)"},
    CN_KEY_END};

typedef struct upsample_state {
    int factor;
} upsample_state;

static cn_status upsample_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    (void)b;
    upsample_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    if (cn_sec_int(s, "factor", &st->factor, err))
        return err->code;
    l->c = l->in[0]->c;
    l->h = l->in[0]->h * st->factor;
    l->w = l->in[0]->w * st->factor;
    return CN_OK;
}

static void upsample_forward(cn_layer *l, const cn_ctx *ctx)
{
    const upsample_state *st = l->state;
    const cn_layer *in = l->in[0];
    const int f = st->factor, rows = ctx->n * l->c * in->h; /* input rows of all planes */
    for (int r = 0; r < rows; r++) {
        const float *x = in->out.data + (size_t)r * in->w; /* (W) */
        float *y = l->out.data + (size_t)r * f * l->w;     /* (f, f*W): the row's block */
        for (int j = 0; j < l->w; j++)
            y[j] = x[j / f];
        for (int k = 1; k < f; k++)
            for (int j = 0; j < l->w; j++)
                y[k * l->w + j] = y[j];
    }
}

static void upsample_backward(cn_layer *l, const cn_ctx *ctx)
{
    const upsample_state *st = l->state;
    cn_layer *in = l->in[0];
    if (!in->needs_grad)
        return;
    const int f = st->factor, rows = ctx->n * l->c * in->h;
    for (int r = 0; r < rows; r++) {
        float *dx = in->dout.data + (size_t)r * in->w;          /* (W) */
        const float *dy = l->dout.data + (size_t)r * f * l->w;  /* (f, f*W) */
        for (int k = 0; k < f; k++)
            for (int j = 0; j < l->w; j++)
                dx[j / f] += dy[k * l->w + j];
    }
}

static void upsample_destroy(cn_layer *l)
{
    free(l->state);
    l->state = NULL;
}

const cn_layer_ops cn_layer_upsample = {
    .type = "upsample",
    .keys = keys,
    .doc = "nearest-neighbour upsampling: each pixel becomes a factor x factor block",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = upsample_setup,
    .forward = upsample_forward,
    .backward = upsample_backward,
    .destroy = upsample_destroy,
};
