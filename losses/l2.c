/* l2.c - L2 penalty (weight decay as a loss) on the attached layer's
 * weights (not its biases).
 *
 *   L = 0.5 sum_j W_j^2  over every non-buffer parameter not ending in ".b"
 *   dL/dW_j = W_j
 * A per-step value, not divided by the batch: backward adds weight * W into
 * the parameters' grad. The L2 (Tikhonov) regulariser of A. Ekbal's lecture
 * "CS 349: Autoencoder Part-II" (IIT Patna) on regularised autoencoders;
 * Krogh & Hertz, "A simple weight decay can improve generalization", NIPS
 * 1991.
 */
#include "elementwise.h"

static double half_square(float w)
{
    return 0.5 * (double)w * w;
}

static float identity(float w)
{
    return w;
}

static double l2_forward(cn_loss *loss, const cn_ctx *ctx)
{
    (void)ctx;
    return cn_penalty_value(loss, half_square);
}

static void l2_backward(cn_loss *loss, const cn_ctx *ctx)
{
    (void)ctx;
    cn_penalty_grad(loss, identity);
}

const cn_loss_ops cn_loss_l2 = {
    .type = "l2",
    .keys = NULL,
    .doc = "L2 penalty 0.5 sum W^2 on the attached layer's weights (biases excluded)",
    .targets = CN_TARGETS(CN_TARGET_NONE),
    .target_default = CN_TARGET_NONE,
    .setup = cn_penalty_setup,
    .forward = l2_forward,
    .backward = l2_backward,
};
