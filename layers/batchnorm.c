/* batchnorm.c - batch normalisation (Ioffe & Szegedy 2015) after dense or
 * conv layers: statistics per channel over the batch and the spatial
 * positions (a dense output of N features is N channels of 1x1).
 *
 * Legend: n samples, C channels, S = h*w positions, M = n*S values per channel.
 *   train:  mu_c = mean x, var_c = mean (x - mu)^2 (biased),
 *           xh = (x - mu) / sqrt(var + eps),  y = gamma * xh + beta
 *           running_mean += m (mu - running_mean),
 *           running_var  += m (var * M/(M-1) - running_var)   (unbiased, as PyTorch)
 *   eval:   the same with running statistics in place of the batch's.
 *   backward (train): dbeta += sum dy, dgamma += sum dy*xh,
 *           dx += gamma/sqrt(var+eps) * (dy - mean(dy) - xh * mean(dy*xh))
 *   backward (eval): dx += gamma/sqrt(running_var+eps) * dy
 * The running statistics are `buffer` parameters: saved in checkpoints,
 * never touched by the optimizer. With affine=0 there is no gamma/beta: the
 * layer standardises each channel over the batch.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

static const cn_key keys[] = {
    {"affine", CN_KEY_BOOL, "1", NULL, "learn a scale gamma and shift beta per channel"},
    {"momentum", CN_KEY_FLOAT, "0.1", "(0, 1]", "running statistics update rate m in (0, 1]"},
    {"eps", CN_KEY_FLOAT, "1e-5", "(0, 1]", "added to the variance (> 0)"},
    CN_KEY_END};

typedef struct bn_state {
    int affine;
    float momentum, eps;
    cn_param *gamma, *beta;     /* (C) or NULL */
    cn_param *mean, *var;       /* (C) running statistics */
    float *bmean, *binvstd;     /* (C) the last training batch's statistics */
} bn_state;

static cn_status bn_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    bn_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory");
    l->state = st;
    const cn_layer *in = l->in[0];
    l->c = in->c, l->h = in->h, l->w = in->w;
    if (cn_sec_bool(s, "affine", &st->affine, err) ||
        cn_sec_float(s, "momentum", &st->momentum, err) ||
        cn_sec_float(s, "eps", &st->eps, err))
        return err->code;
    int C = l->c;
    if (st->affine) {
        st->gamma = cn_build_param(b, l, "gamma", C, 1, 1, 1, CN_INIT_ONE, 1, 1,
                                   CN_PARAM_NO_DECAY);
        st->beta = cn_build_param(b, l, "beta", C, 1, 1, 1, CN_INIT_ZERO, 1, 1,
                                  CN_PARAM_NO_DECAY);
    }
    st->mean = cn_build_param(b, l, "running_mean", C, 1, 1, 1, CN_INIT_ZERO, 1, 1,
                              CN_PARAM_NO_DECAY);
    st->var = cn_build_param(b, l, "running_var", C, 1, 1, 1, CN_INIT_ONE, 1, 1,
                             CN_PARAM_NO_DECAY);
    if (!st->mean || !st->var || (st->affine && (!st->gamma || !st->beta)))
        return cn_build_error(b, l, err);
    st->mean->buffer = st->var->buffer = 1;
    st->bmean = cn_build_alloc(b, l, 2 * (size_t)C * sizeof(float));
    if (!st->bmean)
        return cn_build_error(b, l, err);
    st->binvstd = st->bmean + C;
    return CN_OK;
}

/* Mean and 1/std of channel c over n samples of C*S values; returns var. */
static double batch_stats(const float *x, int n, int C, int S, int c, double *mean)
{
    double sum = 0.0, sq = 0.0;
    for (int i = 0; i < n; i++) {
        const float *xc = x + ((size_t)i * C + c) * S;
        for (int j = 0; j < S; j++)
            sum += xc[j];
    }
    *mean = sum / ((double)n * S);
    for (int i = 0; i < n; i++) {
        const float *xc = x + ((size_t)i * C + c) * S;
        for (int j = 0; j < S; j++)
            sq += (xc[j] - *mean) * (xc[j] - *mean);
    }
    return sq / ((double)n * S);
}

static void bn_forward(cn_layer *l, const cn_ctx *ctx)
{
    bn_state *st = l->state;
    const float *x = l->in[0]->out.data;
    float *y = l->out.data;
    int n = ctx->n, C = l->c, S = l->h * l->w;
    double M = (double)n * S;
    for (int c = 0; c < C; c++) {
        float mu, inv;
        if (ctx->train) {
            double mean, var = batch_stats(x, n, C, S, c, &mean);
            mu = (float)mean;
            inv = (float)(1.0 / sqrt(var + st->eps));
            st->bmean[c] = mu, st->binvstd[c] = inv;
            float m = st->momentum;
            st->mean->value[c] += m * (mu - st->mean->value[c]);
            st->var->value[c] += m * ((float)(M > 1 ? var * M / (M - 1) : var) -
                                      st->var->value[c]);
        } else {
            mu = st->mean->value[c];
            inv = 1.0f / sqrtf(st->var->value[c] + st->eps);
        }
        float g = st->affine ? st->gamma->value[c] : 1.0f;
        float be = st->affine ? st->beta->value[c] : 0.0f;
        for (int i = 0; i < n; i++) {
            size_t o = ((size_t)i * C + c) * S;
            for (int j = 0; j < S; j++)
                y[o + j] = g * (x[o + j] - mu) * inv + be;
        }
    }
}

static void bn_backward(cn_layer *l, const cn_ctx *ctx)
{
    bn_state *st = l->state;
    const float *x = l->in[0]->out.data, *dy = l->dout.data;
    float *dx = l->in[0]->needs_grad ? l->in[0]->dout.data : NULL;
    int n = ctx->n, C = l->c, S = l->h * l->w;
    double M = (double)n * S;
    for (int c = 0; c < C; c++) {
        float mu = ctx->train ? st->bmean[c] : st->mean->value[c];
        float inv = ctx->train ? st->binvstd[c] : 1.0f / sqrtf(st->var->value[c] + st->eps);
        double sdy = 0.0, sdyxh = 0.0;
        for (int i = 0; i < n; i++) {
            size_t o = ((size_t)i * C + c) * S;
            for (int j = 0; j < S; j++) {
                sdy += dy[o + j];
                sdyxh += dy[o + j] * (x[o + j] - mu) * inv;
            }
        }
        float g = st->affine ? st->gamma->value[c] : 1.0f;
        if (st->affine) {
            st->gamma->grad[c] += (float)sdyxh;
            st->beta->grad[c] += (float)sdy;
        }
        if (!dx)
            continue;
        /* in eval mode the statistics are constants: no mean terms */
        float a = ctx->train ? (float)(sdy / M) : 0.0f, bq = ctx->train ? (float)(sdyxh / M) : 0;
        for (int i = 0; i < n; i++) {
            size_t o = ((size_t)i * C + c) * S;
            for (int j = 0; j < S; j++)
                dx[o + j] += g * inv * (dy[o + j] - a - (x[o + j] - mu) * inv * bq);
        }
    }
}

static void bn_destroy(cn_layer *l)
{
    bn_state *st = l->state;
    if (st)
        free(st->bmean);
    free(st);
}

static double bn_flops(const cn_layer *l)
{
    return 4.0 * l->c * l->h * l->w;
}

const cn_layer_ops cn_layer_batchnorm = {
    .type = "batchnorm",
    .keys = keys,
    .doc = "batch normalisation per channel; running statistics in eval mode and checkpoints",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = bn_setup,
    .forward = bn_forward,
    .backward = bn_backward,
    .destroy = bn_destroy,
    .flops = bn_flops,
};
