/* act.c - element-wise kernels shared by layers and losses: activations
 * (forward in place, backward through the output), stable row softmax and
 * small vector helpers.
 */
#include <math.h>

#include "internal.h"

void cn_act_forward(cn_act a, float param, float *x, size_t n)
{
    switch (a) {
    case CN_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            x[i] = 1.0f / (1.0f + expf(-param * x[i]));
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

void cn_softmax_rows(const float *x, float *y, int rows, int cols, float scale)
{
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * cols;
        float *yr = y + (size_t)r * cols;
        float m = -INFINITY;
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

void cn_axpy(size_t n, float a, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

int cn_all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}
