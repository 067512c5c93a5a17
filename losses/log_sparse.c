/* log_sparse.c - the log sparsity penalty of SESM on the attached layer's
 * output y (n, D), typically the code after its logistic l(z):
 *
 *   L = 1/n sum_{s,i} log(1 + y_si^2)      (summed over a sample, mean over the batch)
 *   dL/dy_si = 1/n * 2 y_si / (1 + y_si^2)
 *
 * Ranzato, Boureau & LeCun, "Sparse Feature Learning for Deep Belief
 * Networks", NIPS 2007: h(Z) = sum_i log(1 + l^2(z_i)), weighted by alpha_s
 * (the loss's weight). The penalty grows like y^2 near 0 and only like
 * log|y| far from it, so it pushes small units to zero without shrinking
 * large ones much (the Cauchy / Student-t prior of sparse coding). Its
 * gradient is bounded by 1/n in magnitude, so it is stable for any y.
 */
#include <math.h>

#include "internal.h"

static size_t count_of(const cn_loss *loss, int n)
{
    return (size_t)n * loss->layer->c * loss->layer->h * loss->layer->w;
}

static double log_sparse_forward(cn_loss *loss, const cn_ctx *ctx)
{
    const float *y = loss->layer->out.data; /* (n, D) */
    size_t count = count_of(loss, ctx->n);
    double sum = 0.0;
    for (size_t i = 0; i < count; i++)
        sum += log1p((double)y[i] * y[i]);
    return ctx->n > 0 ? sum / ctx->n : 0.0;
}

static void log_sparse_backward(cn_loss *loss, const cn_ctx *ctx)
{
    if (!loss->layer->needs_grad || ctx->n <= 0)
        return;
    const float *y = loss->layer->out.data; /* (n, D) */
    float *dy = loss->layer->dout.data;     /* (n, D) */
    size_t count = count_of(loss, ctx->n);
    float scale = 2.0f * loss->weight / (float)ctx->n;
    for (size_t i = 0; i < count; i++)
        dy[i] += scale * y[i] / (1.0f + y[i] * y[i]);
}

const cn_loss_ops cn_loss_log_sparse = {
    .type = "log_sparse",
    .keys = NULL,
    .doc = "sparsity penalty sum log(1 + y^2) per sample, mean over the batch; on y = l(Z) "
           "it is SESM's h(Z) (Ranzato, Boureau & LeCun 2007)",
    .targets = CN_TARGETS(CN_TARGET_NONE),
    .target_default = CN_TARGET_NONE,
    .forward = log_sparse_forward,
    .backward = log_sparse_backward,
};
