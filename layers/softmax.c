/* softmax.c - softmax with temperature over each sample's c*h*w values
 * (cluster assignments, class probabilities). Its rows are probability
 * distributions: it offers CN_OFFER_PROBS (kl_sparse accepts it; cce, kl
 * and entropy read it as probabilities, never applying a second softmax).
 *
 *   forward   y_j = exp(x_j / T) / sum_k exp(x_k / T)   (max-subtracted)
 *   backward  dx_j += (1/T) y_j (dy_j - sum_k dy_k y_k)
 *
 * A low temperature sharpens the distribution, a high one flattens it.
 */
#include <stdlib.h>

#include "internal.h"

static const cn_key keys[] = {
    {"temperature", CN_KEY_FLOAT, "1", "(0, inf)", "T > 0 in softmax(x / T)"}, CN_KEY_END};

typedef struct softmax_state {
    float temperature;
} softmax_state;

static cn_status softmax_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    (void)b;
    softmax_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    cn_status rc = cn_sec_float(s, "temperature", &st->temperature, err);
    if (rc)
        return rc;
    l->c = l->in[0]->c;
    l->h = l->in[0]->h;
    l->w = l->in[0]->w;
    return CN_OK;
}

static void softmax_forward(cn_layer *l, const cn_ctx *ctx)
{
    const softmax_state *st = l->state;
    int cols = (int)cn_tensor_sample(&l->out);
    /* (n, cols) -> (n, cols) */
    cn_softmax_rows(l->in[0]->out.data, l->out.data, ctx->n, cols, 1.0f / st->temperature);
}

static void softmax_backward(cn_layer *l, const cn_ctx *ctx)
{
    const softmax_state *st = l->state;
    cn_layer *src = l->in[0];
    if (!src->needs_grad)
        return;
    size_t cols = cn_tensor_sample(&l->out);
    float inv_t = 1.0f / st->temperature;
    for (int r = 0; r < ctx->n; r++) {
        const float *y = l->out.data + (size_t)r * cols;   /* (cols) */
        const float *dy = l->dout.data + (size_t)r * cols; /* (cols) */
        float *dx = src->dout.data + (size_t)r * cols;     /* (cols) */
        double dot = 0.0;
        for (size_t j = 0; j < cols; j++)
            dot += (double)dy[j] * y[j];
        for (size_t j = 0; j < cols; j++)
            dx[j] += inv_t * y[j] * (dy[j] - (float)dot);
    }
}

static void softmax_destroy(cn_layer *l)
{
    free(l->state);
    l->state = NULL;
}

const cn_layer_ops cn_layer_softmax = {
    .type = "softmax",
    .keys = keys,
    .doc = "softmax over each sample's values with temperature: y = softmax(x / T)",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = softmax_setup,
    .forward = softmax_forward,
    .backward = softmax_backward,
    .destroy = softmax_destroy,
    .offers = CN_OFFER_PROBS,
};
