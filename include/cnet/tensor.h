/* tensor.h - a non-owning NCHW view of floats, and the seeded RNG. */
#ifndef CNET_TENSOR_H
#define CNET_TENSOR_H

#include <stddef.h>
#include <stdint.h>

/* A view: data points into an arena owned elsewhere. n is the batch. */
typedef struct cn_tensor {
    float *data; /* (n, c, h, w) row-major */
    int n, c, h, w;
} cn_tensor;

/* Elements of one sample (c*h*w). */
static inline size_t cn_tensor_sample(const cn_tensor *t)
{
    return (size_t)t->c * (size_t)t->h * (size_t)t->w;
}

/* Elements of the whole view (n*c*h*w). */
static inline size_t cn_tensor_count(const cn_tensor *t)
{
    return (size_t)t->n * cn_tensor_sample(t);
}

/* The one RNG (xoshiro256**): init, shuffling, corruption and sampling. */
typedef struct cn_rng {
    uint64_t s[4];
} cn_rng;

/* Seed the generator deterministically from a 64-bit seed (splitmix64). */
void cn_rng_seed(cn_rng *r, uint64_t seed);
/* Next raw 64-bit value. */
uint64_t cn_rng_u64(cn_rng *r);
/* Uniform float in [0, 1). */
float cn_rng_uniform(cn_rng *r);
/* Standard normal (Box-Muller; uses two uniforms, keeps no cache). */
float cn_rng_normal(cn_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint32_t cn_rng_below(cn_rng *r, uint32_t n);
/* Fisher-Yates shuffle of idx[0..n). */
void cn_rng_shuffle(cn_rng *r, int *idx, int n);

#endif
