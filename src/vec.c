/* vec.c - small vector helpers shared by layers and losses (built with the
 * ordinary floating-point rules, unlike act.c, because of the finiteness
 * test). */
#include <math.h>

#include "internal.h"

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
