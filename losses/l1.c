/* l1.c - L1 penalty on the attached layer's weights (not its biases).
 *
 *   L = sum_j |W_j|  over every non-buffer parameter not ending in ".b"
 *   dL/dW_j = sign(W_j)  (0 at W_j = 0)
 * A per-step value, not divided by the batch: backward adds weight * sign(W)
 * into the parameters' grad. Tibshirani, "Regression shrinkage and
 * selection via the lasso", 1996; a sparsity prior on the filters.
 */
#include <math.h>

#include "elementwise.h"

static double abs_value(float w)
{
    return fabs((double)w);
}

static float sign_of(float w)
{
    return w > 0.0f ? 1.0f : w < 0.0f ? -1.0f : 0.0f;
}

static double l1_forward(cn_loss *loss, const cn_ctx *ctx)
{
    (void)ctx;
    return cn_penalty_value(loss, abs_value);
}

static void l1_backward(cn_loss *loss, const cn_ctx *ctx)
{
    (void)ctx;
    cn_penalty_grad(loss, sign_of);
}

const cn_loss_ops cn_loss_l1 = {
    .type = "l1",
    .keys = NULL,
    .doc = "L1 penalty sum |W| on the attached layer's weights (biases excluded)",
    .targets = CN_TARGETS(CN_TARGET_NONE),
    .target_default = CN_TARGET_NONE,
    .setup = cn_penalty_setup,
    .forward = l1_forward,
    .backward = l1_backward,
};
