/* rmse.c - root mean squared error between the attached output and its target.
 *
 *   L = sqrt(m),  m = 1/(n D) sum (y - t)^2
 *   dL/dy = (y - t) / (n D L),  dL/dt = -dL/dy,  and 0 when L == 0
 *   (the gradient of sqrt is unbounded at 0; an exact fit is stationary).
 * The RMSE of H. Bae's lecture "Loss function and cooperative learning" and
 * the reconstruction error reported for SESM (Ranzato, Boureau & LeCun,
 * "Sparse Feature Learning for Deep Belief Networks", NIPS 2007).
 */
#include <math.h>

#include "elementwise.h"

static size_t values(const cn_loss *loss, int n)
{
    return (size_t)n * loss->layer->c * loss->layer->h * loss->layer->w;
}

static double rmse_of(const cn_loss *loss, const cn_ctx *ctx)
{
    size_t count = values(loss, ctx->n);
    if (!count)
        return 0.0;
    return sqrt(cn_ew_sum(loss, ctx, &cn_ew_squared, 0.0f) / (double)count);
}

static double rmse_forward(cn_loss *loss, const cn_ctx *ctx)
{
    return rmse_of(loss, ctx);
}

static void rmse_backward(cn_loss *loss, const cn_ctx *ctx)
{
    double r = rmse_of(loss, ctx);
    if (r <= 0.0)
        return;
    /* d(y-t)^2/dy = 2 (y - t); dL/dm = 1 / (2 L); dm/df = 1 / (n D) */
    double scale = loss->weight / (2.0 * r * (double)values(loss, ctx->n));
    cn_ew_grad(loss, ctx, &cn_ew_squared, 0.0f, (float)scale);
}

const cn_loss_ops cn_loss_rmse = {
    .type = "rmse",
    .keys = NULL,
    .doc = "root mean squared error sqrt(mean (y - t)^2) against the input or a layer",
    .targets = CN_TARGETS(CN_TARGET_INPUT) | CN_TARGETS(CN_TARGET_LAYER),
    .target_default = CN_TARGET_INPUT,
    .forward = rmse_forward,
    .backward = rmse_backward,
};
