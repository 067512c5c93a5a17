/* act.c - element-wise kernels shared by layers and losses: activations
 * (forward in place, backward through the output, and the reading of a
 * layer's activation keys), the stable row softmax
 *
 * and binary cross-entropy's value.
 *
 * Built with -ffast-math (see the Makefile) so the exp/tanh/log loops use
 * glibc's vector math (libmvec); nothing here tests for NaN or Inf, the
 * trainer checks the losses.
 */
#include <float.h>
#include <math.h>

#include "internal.h"

void cn_act_forward(cn_act a, float param, float *x, size_t n)
{
    switch (a) {
    case CN_ACT_SIGMOID:
        /* exp's argument capped below ln(FLT_MAX): 1 / (1 + inf), done with a reciprocal
         * estimate and a Newton step under fast-math, is NaN, not 0 */
        for (size_t i = 0; i < n; i++)
            x[i] = 1.0f / (1.0f + expf(fminf(-param * x[i], 88.0f)));
        break;
    case CN_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            x[i] = tanhf(x[i]);
        break;
    case CN_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            x[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    case CN_ACT_LEAKY:
        for (size_t i = 0; i < n; i++)
            x[i] = x[i] > 0.0f ? x[i] : param * x[i];
        break;
    case CN_ACT_LINEAR:
    case CN_ACT_COUNT:
        break;
    }
}

void cn_act_backward(cn_act a, float param, const float *y, float *dy, size_t n)
{
    switch (a) {
    case CN_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            dy[i] *= param * y[i] * (1.0f - y[i]);
        break;
    case CN_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            dy[i] *= 1.0f - y[i] * y[i];
        break;
    case CN_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
        break;
    case CN_ACT_LEAKY:
        /* y > 0 exactly when x > 0 for a positive slope */
        for (size_t i = 0; i < n; i++)
            dy[i] = y[i] > 0.0f ? dy[i] : param * dy[i];
        break;
    case CN_ACT_LINEAR:
    case CN_ACT_COUNT:
        break;
    }
}

cn_status cn_act_read(cn_sec *s, cn_act *act, float *param, cn_error *err)
{
    int a;
    cn_status rc = cn_sec_enum(s, "activation", &a, err);
    if (rc)
        return rc;
    *act = (cn_act)a;
    *param = 1.0f;
    if (*act != CN_ACT_SIGMOID && cn_sec_has(s, "gain"))
        return cn_sec_bad(s, "gain", CN_ERR_CFG, err, "applies only to activation=sigmoid");
    if (*act != CN_ACT_LEAKY && cn_sec_has(s, "slope"))
        return cn_sec_bad(s, "slope", CN_ERR_CFG, err, "applies only to activation=leaky");
    if (*act == CN_ACT_SIGMOID)
        return cn_sec_float(s, "gain", param, err);
    if (*act == CN_ACT_LEAKY) /* f' is read from the output's sign: slope's range is >= 0 */
        return cn_sec_float(s, "slope", param, err);
    return CN_OK;
}

void cn_softmax_rows(const float *x, float *y, int rows, int cols, float scale)
{
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * cols;
        float *yr = y + (size_t)r * cols;
        float m = -FLT_MAX;
        for (int j = 0; j < cols; j++)
            m = fmaxf(m, scale * xr[j]);
        double sum = 0.0;
        for (int j = 0; j < cols; j++) {
            yr[j] = expf(scale * xr[j] - m);
            sum += yr[j];
        }
        float inv = (float)(1.0 / sum);
        for (int j = 0; j < cols; j++)
            yr[j] *= inv;
    }
}

double cn_bce_prob_sum(const float *y, const float *t, size_t n)
{
    const float lo = 1e-7f, hi = 1.0f - 1e-7f; /* CN_PROB_EPS of losses/elementwise.h */
    double total = 0.0;
    for (size_t b = 0; b < n; b += 256) {
        size_t e = n - b < 256 ? n : b + 256;
        float part = 0.0f;
        for (size_t i = b; i < e; i++) {
            float q = fminf(fmaxf(y[i], lo), hi);
            part -= t[i] * logf(q) + (1.0f - t[i]) * logf(1.0f - q);
        }
        total += part;
    }
    return total;
}
