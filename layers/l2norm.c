/* l2norm.c - each sample's vector scaled to unit L2 norm: the normalised
 * codes a / ||a|| that Paiton & Lundquist's semi-supervised LCA feeds to its
 * classifier ("Entropy loss function for unsupervised deep learning",
 * section 3.6, eq. 16), and a cosine-similarity front end in general.
 *
 * Legend: n samples, K = c*h*w values per sample, eps the key.
 *   forward   s = sqrt(||x||^2 + eps),  y = x / s
 *   backward  dx += (dy - y (y . dy)) / s
 * (dy_i/dx_j = delta_ij / s - x_i x_j / s^3.) eps keeps an all-zero vector
 * (an LCA code with every unit below threshold) finite: it maps to 0, and
 * its gradient is dy / sqrt(eps), so eps also bounds how hard a loss on y
 * pushes a vector that is nearly 0.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const cn_key keys[] = {
    {"eps", CN_KEY_FLOAT, "1e-6", "(0, inf)",
     "added to the squared norm before the square root (> 0): 0 maps to 0, and a small "
     "vector's gradient is at most 1/sqrt(eps) times dy"},
    CN_KEY_END};

typedef struct l2norm_state {
    float eps;
} l2norm_state;

static cn_status l2norm_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    (void)b;
    l2norm_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    cn_status rc = cn_sec_float(s, "eps", &st->eps, err);
    if (rc)
        return rc;
    l->c = l->in[0]->c, l->h = l->in[0]->h, l->w = l->in[0]->w;
    return CN_OK;
}

/* s = sqrt(||x||^2 + eps) of one sample's K values, summed in double. */
static double norm_of(const float *x, size_t K, float eps)
{
    double ss = eps;
    for (size_t i = 0; i < K; i++)
        ss += (double)x[i] * x[i];
    return sqrt(ss);
}

static void l2norm_forward(cn_layer *l, const cn_ctx *ctx)
{
    const l2norm_state *st = l->state;
    size_t K = cn_tensor_sample(&l->out);
    for (int n = 0; n < ctx->n; n++) {
        const float *x = l->in[0]->out.data + (size_t)n * K; /* (K) sample n */
        float *y = l->out.data + (size_t)n * K;              /* (K) */
        float inv = (float)(1.0 / norm_of(x, K, st->eps));
        for (size_t i = 0; i < K; i++)
            y[i] = x[i] * inv;
    }
}

static void l2norm_backward(cn_layer *l, const cn_ctx *ctx)
{
    const l2norm_state *st = l->state;
    cn_layer *src = l->in[0];
    if (!src->needs_grad)
        return;
    size_t K = cn_tensor_sample(&l->out);
    for (int n = 0; n < ctx->n; n++) {
        const float *x = src->out.data + (size_t)n * K;  /* (K) sample n */
        const float *y = l->out.data + (size_t)n * K;    /* (K) */
        const float *dy = l->dout.data + (size_t)n * K;  /* (K) */
        float *dx = src->dout.data + (size_t)n * K;      /* (K) */
        double ydy = 0.0;
        for (size_t i = 0; i < K; i++)
            ydy += (double)y[i] * dy[i];
        float inv = (float)(1.0 / norm_of(x, K, st->eps)), proj = (float)ydy;
        for (size_t i = 0; i < K; i++)
            dx[i] += (dy[i] - y[i] * proj) * inv;
    }
}

static void l2norm_destroy(cn_layer *l)
{
    free(l->state);
    l->state = NULL;
}

const cn_layer_ops cn_layer_l2norm = {
    .type = "l2norm",
    .keys = keys,
    .doc = "each sample divided by its L2 norm, y = x / sqrt(||x||^2 + eps): the normalised "
           "codes a / ||a|| of Paiton & Lundquist's LCA classifier (section 3.6)",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = l2norm_setup,
    .forward = l2norm_forward,
    .backward = l2norm_backward,
    .destroy = l2norm_destroy,
};
