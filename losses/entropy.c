/* entropy.c - the entropy clustering loss of Paiton & Lundquist, "Entropy
 * loss function for unsupervised deep learning" (seeds/000).
 *
 * Legend: B samples in the batch (ctx->n), N values per sample (c*h*w);
 * X[i,l] = out[l*N + i] is node i of sample l (the paper's N x B matrix).
 *   Q[i,l] = e^(-beta X[i,l]) / sum_j e^(-beta X[j,l])  softmax over nodes (eq. 1)
 *   P[i,l] = e^(-beta X[i,l]) / sum_m e^(-beta X[i,m])  softmax over the batch (eq. 2)
 *   H_l = -sum_i Q[i,l] ln Q[i,l] (eq. 3),  H_i = -sum_l P[i,l] ln P[i,l] (eq. 4)
 *   C = sum_l H_l - lambda sum_i H_i                                     (eq. 5)
 * Low H_l: each sample picks one node (its cluster, the layer's argmax);
 * high H_i: every node is used across the batch. The gradient (eq. 14):
 *   dC/dX[k,n] = beta^2 [ Q[k,n] (sum_i X[i,n] Q[i,n] - X[k,n])
 *                        - lambda P[k,n] (sum_l X[k,l] P[k,l] - X[k,n]) ]
 * forward returns C / B and backward adds weight * dC/dX / B: the paper sums
 * over the batch, the per-sample scale keeps the loss (and a good weight=)
 * independent of the batch size. beta = -1 makes Q the softmax of X.
 * Numerics: with a = -beta X and m = max a along the softmax's axis,
 *   H = ln sum e^(a - m) + sum Q (m - a)      (= beta sum Q X + ln Z, eq. 5)
 * adds only non-negative terms and never takes the log of an underflowed Q.
 * Metrics: entropy_sample = mean H_l over samples (nats); entropy_node =
 * mean over nodes of H_i / ln B, in [0, 1] (1: a node is spread evenly over
 * the batch), normalised so batches of any size B >= 2 compare.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "internal.h"

typedef struct entropy_state {
    float beta, lambda;
    int n;        /* samples in the last forward */
    float *q;     /* (B, N) Q in the output's layout */
    float *p;     /* (B, N) P in the output's layout */
    double *sq;   /* (B) sum_i X[i,l] Q[i,l] */
    double *sp;   /* (N) sum_l X[i,l] P[i,l] */
    double *hs;   /* (B) H_l */
    double *hn;   /* (N) H_i */
} entropy_state;

static const cn_key keys[] = {
    {"beta", CN_KEY_FLOAT, "-1", NULL,
     "inverse temperature: Q = softmax(-beta X); -1 is the plain softmax (nonzero)"},
    {"lambda", CN_KEY_FLOAT, "1", NULL,
     "weight of the per-node (batch) entropy that is maximised (>= 0)"},
    CN_KEY_END
};

/* Softmax of a = -beta x over `count` values `stride` apart, into q (same
 * stride); returns its entropy and sets *sx = sum x q. */
static double soft_entropy(const float *x, size_t stride, int count, double beta, float *q,
                           double *sx)
{
    double m = -INFINITY;
    for (int j = 0; j < count; j++)
        m = fmax(m, -beta * x[j * stride]);
    double z = 0.0;
    for (int j = 0; j < count; j++) {
        double e = exp(-beta * x[j * stride] - m);
        q[j * stride] = (float)e;
        z += e;
    }
    double h = 0.0, s = 0.0;
    for (int j = 0; j < count; j++) {
        double qj = q[j * stride] / z;
        q[j * stride] = (float)qj;
        h += qj * (m + beta * x[j * stride]);
        s += qj * x[j * stride];
    }
    *sx = s;
    return log(z) + h;
}

static double entropy_forward(cn_loss *loss, const cn_ctx *ctx)
{
    entropy_state *e = loss->state;
    const float *x = loss->layer->out.data; /* (B, N) */
    int N = loss->layer->c * loss->layer->h * loss->layer->w, B = ctx->n;
    e->n = B;
    if (B < 1)
        return 0.0;
    double c = 0.0;
    for (int l = 0; l < B; l++) {
        size_t off = (size_t)l * N;
        e->hs[l] = soft_entropy(x + off, 1, N, e->beta, e->q + off, &e->sq[l]);
        c += e->hs[l];
    }
    for (int i = 0; i < N; i++) {
        e->hn[i] = soft_entropy(x + i, (size_t)N, B, e->beta, e->p + i, &e->sp[i]);
        c -= e->lambda * e->hn[i];
    }
    return c / B;
}

static void entropy_backward(cn_loss *loss, const cn_ctx *ctx)
{
    const entropy_state *e = loss->state;
    const float *x = loss->layer->out.data; /* (B, N) */
    float *dx = loss->layer->dout.data;     /* (B, N) */
    int N = loss->layer->c * loss->layer->h * loss->layer->w, B = ctx->n;
    if (B < 1 || !loss->layer->needs_grad)
        return;
    double scale = (double)e->beta * e->beta * loss->weight / B;
    for (int l = 0; l < B; l++) {
        for (int k = 0; k < N; k++) {
            size_t j = (size_t)l * N + k;
            double g = e->q[j] * (e->sq[l] - x[j]) - e->lambda * e->p[j] * (e->sp[k] - x[j]);
            dx[j] += (float)(scale * g);
        }
    }
}

static void entropy_metrics(cn_loss *loss, const cn_ctx *ctx, cn_metric_acc *acc)
{
    (void)ctx;
    const entropy_state *e = loss->state;
    int N = loss->layer->c * loss->layer->h * loss->layer->w;
    double hs = 0.0, hn = 0.0;
    for (int l = 0; l < e->n; l++)
        hs += e->hs[l];
    if (e->n > 0)
        cn_metric_add(acc, "entropy_sample", hs, e->n);
    if (e->n < 2)
        return;
    for (int i = 0; i < N; i++)
        hn += e->hn[i];
    cn_metric_add(acc, "entropy_node", hn / log((double)e->n), N);
}

static cn_status entropy_setup(cn_loss *loss, cn_sec *s, cn_error *err)
{
    float beta, lambda;
    cn_status st = cn_sec_float(s, "beta", &beta, err);
    if (!st && beta == 0.0f)
        st = cn_sec_bad(s, "beta", CN_ERR_CFG, err,
                        "expects a nonzero float (beta = 0 makes every distribution uniform)");
    if (!st)
        st = cn_sec_float_range(s, "lambda", 0.0f, FLT_MAX, &lambda, err);
    if (st)
        return st;
    const cn_layer *l = loss->layer;
    size_t B = (size_t)l->out.n, N = (size_t)l->c * l->h * l->w;
    if (B < 1)
        return cn_errorf(err, CN_ERR_INTERNAL, "loss '%s': layer '%s' has no batch size yet",
                         loss->name, l->name);
    /* one block: the state, then the doubles, then the floats */
    size_t doubles = 2 * B + 2 * N, floats = 2 * B * N;
    entropy_state *e = malloc(sizeof *e + doubles * sizeof(double) + floats * sizeof(float));
    if (!e)
        return cn_errorf(err, CN_ERR_NOMEM, "loss '%s': out of memory for %zu x %zu values",
                         loss->name, B, N);
    e->beta = beta;
    e->lambda = lambda;
    e->n = 0;
    e->sq = (double *)(e + 1);
    e->hs = e->sq + B;
    e->sp = e->hs + B;
    e->hn = e->sp + N;
    e->q = (float *)(e->hn + N);
    e->p = e->q + B * N;
    loss->state = e;
    return CN_OK;
}

static void entropy_destroy(cn_loss *loss)
{
    free(loss->state);
    loss->state = NULL;
}

const cn_loss_ops cn_loss_entropy = {
    .type = "entropy",
    .keys = keys,
    .doc = "entropy clustering loss (Paiton & Lundquist): low entropy per sample, "
           "high per node over the batch",
    .targets = CN_TARGETS(CN_TARGET_NONE),
    .target_default = CN_TARGET_NONE,
    .clusters = 1,
    .setup = entropy_setup,
    .forward = entropy_forward,
    .backward = entropy_backward,
    .metrics = entropy_metrics,
    .destroy = entropy_destroy,
};
