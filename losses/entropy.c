/* entropy.c - the entropy clustering loss of Paiton & Lundquist, "Entropy
 * loss function for unsupervised deep learning" (UC Berkeley, Redwood
 * Center for Theoretical Neuroscience).
 *
 * Legend: B samples in the batch (ctx->n), N values per sample (c*h*w);
 * X[i,l] = out[l*N + i] is node i of sample l (the paper's N x B matrix).
 *   Q[i,l] = e^(-beta X[i,l]) / sum_j e^(-beta X[j,l])  softmax over nodes (eq. 1)
 *   P[i,l] = e^(-beta X[i,l]) / sum_m e^(-beta X[i,m])  softmax over the batch (eq. 2)
 *   H_l = -sum_i Q[i,l] ln Q[i,l] (eq. 3),  H_i = -sum_l P[i,l] ln P[i,l] (eq. 4)
 *   C = sum_l H_l - lambda sum_i H_i                                     (eq. 5)
 * Low H_l: each sample picks one node (its cluster, the layer's argmax);
 * high H_i: each node's activation is spread evenly over the batch. An
 * output constant over the batch also maximises H_i, so the loss alone does
 * not prevent collapse into one cluster: standardise the attached layer over
 * the batch ([batchnorm] affine=0), as cfg/entropy_ae.cfg does, so no node
 * can be constant. The gradient (eq. 14):
 *   dC/dX[k,n] = beta^2 [ Q[k,n] (sum_i X[i,n] Q[i,n] - X[k,n])
 *                        - lambda P[k,n] (sum_l X[k,l] P[k,l] - X[k,n]) ]
 * forward returns C / B and backward adds weight * dC/dX / B: the paper sums
 * over the batch, the per-sample scale keeps the loss (and a good weight=)
 * independent of the batch size. beta = -1 makes Q the softmax of X.
 * Probabilities (input=probs, or auto on a layer offering CN_OFFER_PROBS
 * such as [softmax]): the loss reads X = ln Y of the layer's output Y
 * (clamped to [1e-7, 1 - 1e-7]), so with beta = -1 Q = Y itself and
 * P[i,l] = Y[i,l] / sum_m Y[i,m], never a softmax of a softmax; the
 * gradient goes on through dX/dY = 1 / Y. input=logits on such a layer is
 * an error (xent.c's cn_xent_input, the rule cce and kl follow too).
 * Numerics: with a = -beta X and m = max a along the softmax's axis,
 *   H = ln sum e^(a - m) + sum Q (m - a)      (= beta sum Q X + ln Z, eq. 5)
 * adds only non-negative terms and never takes the log of an underflowed Q.
 * Only per-node statistics are kept (2 N doubles, sized at setup); the
 * per-sample ones are recomputed where needed, so no buffer depends on B.
 * Metrics: entropy_sample = mean H_l over samples (nats); entropy_node =
 * mean over nodes of H_i / ln B, in [0, 1] (1: a node is spread evenly over
 * the batch), normalised so batches of any size B >= 2 compare.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "elementwise.h"
#include "xent.h"

typedef struct entropy_state {
    float beta, lambda;
    int probs;       /* X = ln Y: the layer outputs probabilities */
    int n;           /* samples in the last forward */
    double h_sample; /* sum_l H_l of the last forward */
    double h_node;   /* sum_i H_i of the last forward */
    double *lz;      /* (N) ln sum_l e^(-beta X[i,l]): P's normaliser per node */
    double *sx;      /* (N) sum_l X[i,l] P[i,l] */
} entropy_state;

static const cn_key keys[] = {
    {"beta", CN_KEY_FLOAT, "-1", "(-inf, inf)",
     "inverse temperature: Q = softmax(-beta X); -1 is the plain softmax (nonzero)"},
    {"lambda", CN_KEY_FLOAT, "1", "[0, inf)",
     "weight of the per-node (batch) entropy that is maximised (>= 0)"},
    {"input", CN_KEY_ENUM, "auto", "auto|logits|probs",
     "auto: probs when attached to a [softmax] layer, else logits; probs reads X = ln Y, so "
     "Q = Y at beta = -1; logits on a [softmax] layer is an error (softmax twice)"},
    CN_KEY_END
};

/* X of one output value: the value itself, or ln of the probability. */
static double xval(const entropy_state *e, float y)
{
    return e->probs ? log(cn_prob_clamp(y)) : y;
}

/* Softmax q of a = -beta X over `count` outputs `stride` apart: returns its
 * entropy, sets *lz = ln sum e^a and *sx = sum X q. */
static double soft_entropy(const entropy_state *e, const float *y, size_t stride, int count,
                           double *lz, double *sx)
{
    const double beta = e->beta;
    double m = -INFINITY;
    for (int j = 0; j < count; j++)
        m = fmax(m, -beta * xval(e, y[j * stride]));
    double z = 0.0;
    for (int j = 0; j < count; j++)
        z += exp(-beta * xval(e, y[j * stride]) - m);
    double h = 0.0, s = 0.0;
    for (int j = 0; j < count; j++) {
        double x = xval(e, y[j * stride]), q = exp(-beta * x - m) / z;
        h += q * (m + beta * x);
        s += q * x;
    }
    /* cppcheck-suppress invalidFunctionArg ; z >= 1: the maximum's term is e^0 (count >= 1) */
    *lz = m + log(z);
    *sx = s;
    /* cppcheck-suppress invalidFunctionArg ; z >= 1, as above */
    return log(z) + h;
}

/* P's statistics for every node over the first B samples; returns sum_i H_i. */
static double node_pass(entropy_state *e, const float *x, int N, int B)
{
    double h = 0.0;
    for (int i = 0; i < N; i++)
        h += soft_entropy(e, x + i, (size_t)N, B, &e->lz[i], &e->sx[i]);
    return h;
}

static double entropy_forward(cn_loss *loss, const cn_ctx *ctx)
{
    entropy_state *e = loss->state;
    const float *x = loss->layer->out.data; /* (B, N) */
    int N = loss->layer->c * loss->layer->h * loss->layer->w, B = ctx->n;
    e->n = B;
    e->h_sample = e->h_node = 0.0;
    if (B < 1)
        return 0.0;
    for (int l = 0; l < B; l++) {
        double lz, sx;
        e->h_sample += soft_entropy(e, x + (size_t)l * N, 1, N, &lz, &sx);
    }
    e->h_node = node_pass(e, x, N, B);
    return (e->h_sample - e->lambda * e->h_node) / B;
}

static void entropy_backward(cn_loss *loss, const cn_ctx *ctx)
{
    entropy_state *e = loss->state;
    const float *x = loss->layer->out.data; /* (B, N) */
    float *dx = loss->layer->dout.data;     /* (B, N) */
    int N = loss->layer->c * loss->layer->h * loss->layer->w, B = ctx->n;
    if (B < 1 || !loss->layer->needs_grad)
        return;
    node_pass(e, x, N, B);
    double beta = e->beta, scale = beta * beta * loss->weight / B;
    for (int n = 0; n < B; n++) {
        const float *xn = x + (size_t)n * N; /* (N) sample n */
        double lzq, sq;
        soft_entropy(e, xn, 1, N, &lzq, &sq);
        for (int k = 0; k < N; k++) {
            double xk = xval(e, xn[k]);
            double q = exp(-beta * xk - lzq), p = exp(-beta * xk - e->lz[k]);
            double g = q * (sq - xk) - e->lambda * p * (e->sx[k] - xk);
            if (e->probs) /* dX/dY = 1 / Y */
                g /= cn_prob_clamp(xn[k]);
            dx[(size_t)n * N + k] += (float)(scale * g);
        }
    }
}

static void entropy_metrics(cn_loss *loss, const cn_ctx *ctx, cn_metric_acc *acc)
{
    (void)ctx;
    const entropy_state *e = loss->state;
    int N = loss->layer->c * loss->layer->h * loss->layer->w;
    if (e->n > 0)
        cn_metric_add(acc, "entropy_sample", e->h_sample, e->n);
    if (e->n > 1)
        cn_metric_add(acc, "entropy_node", e->h_node / log((double)e->n), N);
}

static cn_status entropy_setup(cn_loss *loss, cn_sec *s, cn_error *err)
{
    float beta, lambda;
    int probs = 0;
    cn_status st = cn_sec_float(s, "beta", &beta, err);
    if (!st && beta == 0.0f)
        st = cn_sec_bad(s, "beta", CN_ERR_CFG, err,
                        "expects a nonzero float (beta = 0 makes every distribution uniform)");
    if (!st)
        st = cn_sec_float(s, "lambda", &lambda, err);
    if (!st)
        st = cn_xent_input(loss, s, &probs, err);
    if (st)
        return st;
    size_t N = (size_t)loss->layer->c * loss->layer->h * loss->layer->w;
    entropy_state *e = malloc(sizeof *e + 2 * N * sizeof(double));
    if (!e)
        return cn_errorf(err, CN_ERR_NOMEM, "loss '%s': out of memory for %zu nodes",
                         loss->name, N);
    *e = (entropy_state){.beta = beta, .lambda = lambda, .probs = probs};
    e->lz = (double *)(e + 1);
    e->sx = e->lz + N;
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
    .offers = CN_OFFER_CLUSTERS,
    .setup = entropy_setup,
    .forward = entropy_forward,
    .backward = entropy_backward,
    .metrics = entropy_metrics,
    .destroy = entropy_destroy,
};
