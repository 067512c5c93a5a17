/* huber.c - Huber loss between the attached output and its target.
 *
 *   r = y - t,  f = 0.5 r^2              if |r| <= delta
 *               delta (|r| - 0.5 delta)  otherwise
 *   df/dy = clamp(r, -delta, delta),  df/dt = -df/dy
 *   reduce=mean: 1/(n D) sum f (PyTorch's nn.HuberLoss);  reduce=sum: 1/n sum f
 * Huber, "Robust estimation of a location parameter", Ann. Math. Statist.
 * 1964; quadratic near the target, linear (robust) far from it (as in H.
 * Bae's lecture "Loss function and cooperative learning").
 */
#include "elementwise.h"

static const cn_key keys[] = {
    {"delta", CN_KEY_FLOAT, "1", "(0, inf)",
     "residual where the loss turns from quadratic to linear (> 0)"},
    CN_EW_REDUCE_KEY,
    CN_KEY_END
};

static inline double huber_value(float y, float t, float delta)
{
    double r = (double)y - t, a = r < 0.0 ? -r : r;
    return a <= delta ? 0.5 * r * r : delta * (a - 0.5 * delta);
}

static inline float huber_dy(float y, float t, float delta)
{
    float r = y - t;
    return r > delta ? delta : r < -delta ? -delta : r;
}

static inline float huber_dt(float y, float t, float delta)
{
    return -huber_dy(y, t, delta);
}

CN_EW_KERNEL(static, kernel, huber_value, huber_dy, huber_dt);

static cn_status huber_setup(cn_loss *loss, cn_sec *s, cn_error *err)
{
    float delta;
    cn_status st = cn_sec_float(s, "delta", &delta, err);
    if (st)
        return st;
    return cn_ew_setup(loss, s, &kernel, delta, err);
}

const cn_loss_ops cn_loss_huber = {
    .type = "huber",
    .keys = keys,
    .doc = "Huber loss: quadratic for |y - t| <= delta, linear beyond",
    .targets = CN_TARGETS(CN_TARGET_INPUT) | CN_TARGETS(CN_TARGET_LAYER) |
               CN_TARGETS(CN_TARGET_LABEL),
    .target_default = CN_TARGET_INPUT,
    .setup = huber_setup,
    .forward = cn_ew_forward,
    .backward = cn_ew_backward,
    .destroy = cn_ew_destroy,
};
