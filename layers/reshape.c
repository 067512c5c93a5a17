/* reshape.c - the same values under another shape (PyTorch's view /
 * Unflatten / Flatten), so a dense layer can feed a spatial one and back.
 *
 * A dense layer reads its input flattened (c*h*w values in NCHW order) and
 * outputs a flat vector (N x 1 x 1). A conv or deconv reading that vector
 * sees N channels of 1x1 pixels, which is rarely what was meant; reshape
 * output=C,H,W gives it height and width again, and output=N flattens a
 * feature map (a dense layer does that by itself).
 *
 * Legend: n samples, K = c*h*w values per sample, the same on both sides.
 *   forward   y[s][k] = x[s][k]            (a copy: the net owns each output)
 *   backward  dx[s][k] += dy[s][k]
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const cn_key keys[] = {
    {"output", CN_KEY_LIST, NULL, "[1, 16777216]",
     "the output shape C,H,W, or a flat N; C*H*W must equal the input's count"},
    CN_KEY_END};

/* "64x7x7" or "3136", as cn_layer_shape_str writes a layer's shape. */
static void shape_text(const int *d, char *buf, size_t size)
{
    if (d[1] == 1 && d[2] == 1)
        snprintf(buf, size, "%d", d[0]);
    else
        snprintf(buf, size, "%dx%dx%d", d[0], d[1], d[2]);
}

static cn_status reshape_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    (void)b;
    int d[3] = {1, 1, 1}, nd;
    cn_status rc = cn_sec_ints(s, "output", d, 3, &nd, err);
    if (rc)
        return rc;
    if (nd == 2)
        return cn_sec_bad(s, "output", CN_ERR_CFG, err, "expected C,H,W or a flat N");
    const cn_layer *in = l->in[0];
    size_t have = (size_t)in->c * in->h * in->w;
    double want = (double)d[0] * d[1] * d[2]; /* double: three keys may overflow size_t */
    if (want != (double)have) {
        char where[160], asked[64];
        shape_text(d, asked, sizeof asked);
        return cn_sec_bad(s, "output", CN_ERR_SHAPE, err,
                          "layer '%s' cannot give its input %s the shape %s: %.0f values "
                          "where the input has %zu (a reshape keeps every value)",
                          l->name, cn_layer_where(in, where, sizeof where), asked, want, have);
    }
    l->c = d[0], l->h = d[1], l->w = d[2];
    return CN_OK;
}

static void reshape_forward(cn_layer *l, const cn_ctx *ctx)
{
    size_t count = (size_t)ctx->n * cn_tensor_sample(&l->out); /* (n, K) */
    memcpy(l->out.data, l->in[0]->out.data, count * sizeof(float));
}

static void reshape_backward(cn_layer *l, const cn_ctx *ctx)
{
    cn_layer *src = l->in[0];
    if (src->needs_grad)
        cn_axpy((size_t)ctx->n * cn_tensor_sample(&l->out), 1.0f, l->dout.data,
                src->dout.data);
}

const cn_layer_ops cn_layer_reshape = {
    .type = "reshape",
    .keys = keys,
    .doc = "the same values under another shape. Shapes between dense and spatial layers: a "
           "[dense] layer reads its input flattened (C*H*W values, NCHW order) and outputs a "
           "flat vector N (N x 1 x 1), which a [conv] or [deconv] would read as N channels of "
           "1x1; `[reshape] output=64,7,7` after `[dense] output=3136` restores a spatial "
           "shape for a [deconv], and `output=N` flattens a feature map (a [dense] needs no "
           "reshape before it)",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = reshape_setup,
    .forward = reshape_forward,
    .backward = reshape_backward,
};
