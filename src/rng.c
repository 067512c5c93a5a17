/* rng.c - the one seeded generator: xoshiro256** seeded by splitmix64.
 * Everything random in cnet (init, shuffling, corruption, sampling) draws
 * from a cn_rng, so a cfg and a seed fix a run.
 */
#include <math.h>

#include "cnet/tensor.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void cn_rng_seed(cn_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t cn_rng_u64(cn_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float cn_rng_uniform(cn_rng *r)
{
    /* 24 high bits: every value exactly representable, never 1.0 */
    return (float)(cn_rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

float cn_rng_normal(cn_rng *r)
{
    /* Box-Muller in double; u1 in (0, 1] keeps the log finite */
    double u1 = ((double)(cn_rng_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(cn_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

uint32_t cn_rng_below(cn_rng *r, uint32_t n)
{
    /* Lemire's multiply-shift with rejection: no modulo bias */
    uint64_t m = (uint64_t)(uint32_t)(cn_rng_u64(r) >> 32) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t thresh = (uint32_t)(-n) % n;
        while (low < thresh) {
            m = (uint64_t)(uint32_t)(cn_rng_u64(r) >> 32) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

void cn_rng_shuffle(cn_rng *r, int *idx, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)cn_rng_below(r, (uint32_t)i + 1);
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
