/* mse.c - mean squared error between the attached output and its target.
 *
 *   f(y, t) = (y - t)^2,  df/dy = 2 (y - t),  df/dt = -2 (y - t)
 *   reduce=mean: L = 1/(n D) sum f   (PyTorch's nn.MSELoss, as in the peer)
 *   reduce=sum:  L = 1/n sum f       (squared error summed over a sample)
 * The reconstruction loss of autoencoders (e.g. Hinton & Salakhutdinov,
 * "Reducing the dimensionality of data with neural networks", 2006); H. Bae's
 * lecture "Loss function and cooperative learning" lists it with MAE, RMSE
 * and Huber. With target=label
 * the target is the one-hot class (the super-encoder's separator loss).
 */
#include "elementwise.h"

static const cn_key keys[] = {
    CN_EW_REDUCE_KEY,
    CN_KEY_END
};

static cn_status mse_setup(cn_loss *loss, cn_sec *s, cn_error *err)
{
    return cn_ew_setup(loss, s, &cn_ew_squared, 0.0f, err);
}

const cn_loss_ops cn_loss_mse = {
    .type = "mse",
    .keys = keys,
    .doc = "mean squared error (y - t)^2 against the input or a layer",
    .targets = CN_TARGETS(CN_TARGET_INPUT) | CN_TARGETS(CN_TARGET_LAYER) |
               CN_TARGETS(CN_TARGET_LABEL),
    .target_default = CN_TARGET_INPUT,
    .setup = mse_setup,
    .forward = cn_ew_forward,
    .backward = cn_ew_backward,
    .destroy = cn_ew_destroy,
};
