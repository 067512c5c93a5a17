/* corrupt.c - the corruption kernels of denoising autoencoders (Vincent et
 * al., "Extracting and Composing Robust Features with Denoising
 * Autoencoders", ICML 2008).
 *
 *   masking:          x_i <- 0 with probability q
 *   gaussian:         x_i <- x_i + sigma * N(0, 1)
 *   salt-and-pepper:  with probability q, x_i <- 0 or 1 (even odds)
 *
 * Every kernel draws a fixed number of values from the RNG per element, in
 * element order, so the same seed gives the same corruption whatever q is.
 * keep (n), when given, gets 1 where x_i was left as it was, else 0: the
 * gradient of the corrupted value with respect to the clean one.
 */
#include "internal.h"

void cn_corrupt_mask(float *x, size_t n, float q, cn_rng *rng, float *keep)
{
    for (size_t i = 0; i < n; i++) {
        int drop = cn_rng_uniform(rng) < q;
        if (drop)
            x[i] = 0.0f;
        if (keep)
            keep[i] = drop ? 0.0f : 1.0f;
    }
}

void cn_corrupt_gaussian(float *x, size_t n, float sigma, cn_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        x[i] += sigma * cn_rng_normal(rng);
}

void cn_corrupt_saltpepper(float *x, size_t n, float q, cn_rng *rng, float *keep)
{
    for (size_t i = 0; i < n; i++) {
        /* one uniform per value: u < q/2 is pepper (0), q/2 <= u < q salt (1) */
        float u = cn_rng_uniform(rng);
        int hit = u < q;
        if (hit)
            x[i] = u < 0.5f * q ? 0.0f : 1.0f;
        if (keep)
            keep[i] = hit ? 0.0f : 1.0f;
    }
}
