/* bce.c - binary cross-entropy of per-value probabilities against targets
 * in [0, 1].
 *
 * input=probs (y is a probability, e.g. a sigmoid output):
 *   p = clamp(y, 1e-7, 1 - 1e-7)
 *   f = -[t ln p + (1 - t) ln(1 - p)]
 *   df/dy = (p - t) / (p (1 - p)),  df/dt = ln(1 - p) - ln p
 *   (clamping keeps f and its slope finite at p = 0 or 1).
 * input=logits (y = z is a logit, p = sigmoid(z)), the stable softplus form:
 *   f = softplus(z) - t z = max(z, 0) - t z + ln(1 + e^-|z|)
 *   df/dz = sigmoid(z) - t,  df/dt = -z
 * reduce=mean: 1/(n D) sum f (PyTorch's nn.BCELoss); reduce=sum: 1/n sum f,
 * the Bernoulli reconstruction term of the VAE's ELBO (Kingma & Welling,
 * "Auto-Encoding Variational Bayes", ICLR 2014; the binary cross-entropy of
 * H. Bae's lecture "Loss function and cooperative learning").
 * nll(s) = sum_d f over sample s: -ln p(x_s | y_s) under independent
 * Bernoulli values, read by the ELBO and the IW bound (src/eval/elbo.c).
 */
#include <math.h>

#include "elementwise.h"

static const cn_key keys[] = {
    {"input", CN_KEY_ENUM, "probs", "probs|logits",
     "probs: the layer outputs probabilities; logits: it outputs logits (stable softplus form)"},
    CN_EW_REDUCE_KEY,
    CN_KEY_END
};

static inline float prob_dy(float y, float t, float p)
{
    (void)p;
    double q = cn_prob_clamp(y);
    return (float)((q - t) / (q * (1.0 - q)));
}

static inline float prob_dt(float y, float t, float p)
{
    (void)t;
    (void)p;
    double q = cn_prob_clamp(y);
    return (float)(log1p(-q) - log(q));
}

static inline double logit_value(float z, float t, float p)
{
    (void)p;
    double a = fabs((double)z);
    return (z > 0.0f ? z : 0.0) - (double)t * z + log1p(exp(-a));
}

static inline float logit_dy(float z, float t, float p)
{
    (void)p;
    double e = exp(-fabs((double)z)); /* sigmoid without overflow for either sign */
    double s = z >= 0.0f ? 1.0 / (1.0 + e) : e / (1.0 + e);
    return (float)(s - t);
}

static inline float logit_dt(float z, float t, float p)
{
    (void)t;
    (void)p;
    return -z;
}

/* input=probs: the value through vector logf (src/act.c), the slopes here */
static void probs_dy(const float *y, const float *t, float *d, size_t n, float p, float scale)
{
    for (size_t i = 0; i < n; i++)
        d[i] += scale * prob_dy(y[i], t[i], p);
}

static void probs_dt(const float *y, const float *t, float *d, size_t n, float p, float scale)
{
    for (size_t i = 0; i < n; i++)
        d[i] += scale * prob_dt(y[i], t[i], p);
}

static double probs_sum(const float *y, const float *t, size_t n, float p)
{
    (void)p;
    return cn_bce_prob_sum(y, t, n);
}

static const cn_ew_kernel probs = {probs_sum, probs_dy, probs_dt};
CN_EW_KERNEL(static, logits, logit_value, logit_dy, logit_dt);

static cn_status bce_setup(cn_loss *loss, cn_sec *s, cn_error *err)
{
    int input;
    cn_status st = cn_sec_enum(s, "input", &input, err);
    if (st)
        return st;
    return cn_ew_setup(loss, s, input == 1 ? &logits : &probs, 0.0f, err);
}

const cn_loss_ops cn_loss_bce = {
    .type = "bce",
    .keys = keys,
    .doc = "binary cross-entropy of probabilities (or logits) against targets in [0, 1]",
    .targets = CN_TARGETS(CN_TARGET_INPUT) | CN_TARGETS(CN_TARGET_LAYER) |
               CN_TARGETS(CN_TARGET_LABEL),
    .target_default = CN_TARGET_INPUT,
    .setup = bce_setup,
    .forward = cn_ew_forward,
    .nll = cn_ew_nll,
    .backward = cn_ew_backward,
    .destroy = cn_ew_destroy,
};
