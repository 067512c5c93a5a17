/* mae.c - mean absolute error between the attached output and its target.
 *
 *   f(y, t) = |y - t|,  df/dy = sign(y - t) (0 at y = t),  df/dt = -df/dy
 *   reduce=mean: L = 1/(n D) sum f  (PyTorch's nn.L1Loss);  reduce=sum: 1/n sum f
 * The L1 reconstruction loss of H. Bae's lecture "Loss function and
 * cooperative learning", and with target=label (one-hot class, unlabelled
 * samples skipped) the L1 separability loss of Kamal & Bae's cooperative
 * super-encoder ("Cooperative and Non-cooperative Autonets: from
 * Dimensionality Reduction to Classification").
 */
#include "elementwise.h"

static const cn_key keys[] = {
    CN_EW_REDUCE_KEY,
    CN_KEY_END
};

static inline double abs_value(float y, float t, float p)
{
    (void)p;
    double r = (double)y - t;
    return r < 0.0 ? -r : r;
}

/* The subgradient 0 at y = t keeps an exact fit stationary. */
static inline float abs_dy(float y, float t, float p)
{
    (void)p;
    return y > t ? 1.0f : y < t ? -1.0f : 0.0f;
}

static inline float abs_dt(float y, float t, float p)
{
    return -abs_dy(y, t, p);
}

CN_EW_KERNEL(static, kernel, abs_value, abs_dy, abs_dt);

static cn_status mae_setup(cn_loss *loss, cn_sec *s, cn_error *err)
{
    return cn_ew_setup(loss, s, &kernel, 0.0f, err);
}

const cn_loss_ops cn_loss_mae = {
    .type = "mae",
    .keys = keys,
    .doc = "mean absolute error |y - t| against the input or a layer",
    .targets = CN_TARGETS(CN_TARGET_INPUT) | CN_TARGETS(CN_TARGET_LAYER) |
               CN_TARGETS(CN_TARGET_LABEL),
    .target_default = CN_TARGET_INPUT,
    .setup = mae_setup,
    .forward = cn_ew_forward,
    .backward = cn_ew_backward,
    .destroy = cn_ew_destroy,
};
