/* dict.c - a linear decoder whose atoms have unit norm: the dictionary Phi
 * of sparse coding, x_hat = Phi a + c, as LCA assumes it (Rozell, Johnson,
 * Baraniuk & Olshausen, "Sparse Coding via Thresholding and Local
 * Competition in Neural Circuits", 2008: unit-norm dictionary elements).
 *
 * Legend: n samples, M values per input sample (the code a), D = `output`;
 * V (D, M) the parameter W, its column m the raw atom v_m; c (D) the bias.
 *   forward   phi_m = v_m / ||v_m||  (Phi (D, M), recomputed from V),
 *             Y = A Phi^T + c
 *   backward  dA += dY Phi
 *             S = dY^T A (D, M): dL/dPhi
 *             dv_m += (s_m - phi_m (phi_m . s_m)) / ||v_m||,  dc += sum_n dY
 * (weight normalisation of each column with its gain fixed at 1: Salimans &
 * Kingma, "Weight Normalization", 2016.) Why not a [dense] decoder: with
 * an L1 cost on the codes, an unconstrained dictionary lowers the energy by
 * growing its atoms while the codes shrink, and G = Phi^T Phi grows with
 * them until LCA's fixed Euler step diverges; here G keeps a unit diagonal,
 * and one threshold lambda means the same for every atom. The raw V may
 * drift in scale; only its directions matter.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "internal.h"

static const cn_key keys[] = {
    {"output", CN_KEY_INT, NULL, "[1, 16777216]", "D: values of the reconstruction"},
    {"bias", CN_KEY_BOOL, "1", NULL, "add a learned bias c (the reconstruction's offset)"},
    CN_KEY_END};

typedef struct dict_state {
    int M, D;
    cn_param *V;   /* (D, M) raw atoms as columns */
    cn_param *c;   /* (D) or NULL */
    double *sum;   /* (M) per-column sums: of squares (forward), of phi_m s_m (backward) */
    float *phi;    /* (D, M) unit-norm atoms, from the last forward; one buffer with s, inv */
    float *s;      /* (D, M) dL/dPhi, in backward */
    float *inv;    /* (M) 1 / ||v_m|| */
} dict_state;

static cn_status dict_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    dict_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    int bias;
    cn_status rc = cn_sec_int(s, "output", &st->D, err);
    if (!rc)
        rc = cn_sec_bool(s, "bias", &bias, err);
    if (rc)
        return rc;
    st->M = l->in[0]->c * l->in[0]->h * l->in[0]->w;
    l->c = st->D, l->h = 1, l->w = 1;
    cn_init init = cn_build_init(b);
    size_t DM = (size_t)st->D * st->M;
    st->V = cn_build_param(b, l, "W", st->D, st->M, 1, 1, init, st->M, st->D, CN_PARAM_WEIGHT);
    if (st->V && bias)
        st->c = cn_build_param(b, l, "b", st->D, 1, 1, 1, init, st->M, st->D, CN_PARAM_BIAS);
    if (!st->V || (bias && !st->c) ||
        !(st->sum = cn_build_alloc(b, l, (size_t)st->M * sizeof *st->sum)) ||
        !(st->phi = cn_build_alloc(b, l, (2 * DM + (size_t)st->M) * sizeof *st->phi)))
        return cn_build_error(b, l, err);
    st->s = st->phi + DM;
    st->inv = st->s + DM;
    return CN_OK;
}

/* Phi = V with unit columns; a zero column stays 0. */
static void normalise(dict_state *st)
{
    const int D = st->D, M = st->M;
    const float *V = st->V->value; /* (D, M), row by row */
    double *ss = st->sum;
    memset(ss, 0, (size_t)M * sizeof *ss);
    for (int d = 0; d < D; d++)
        for (int m = 0; m < M; m++)
            ss[m] += (double)V[(size_t)d * M + m] * V[(size_t)d * M + m];
    for (int m = 0; m < M; m++)
        st->inv[m] = ss[m] > 0.0 ? (float)(1.0 / sqrt(ss[m])) : 0.0f;
    for (int d = 0; d < D; d++)
        for (int m = 0; m < M; m++)
            st->phi[(size_t)d * M + m] = V[(size_t)d * M + m] * st->inv[m];
}

/* Work split over the net's threads, single-threaded BLAS per slab:
 * forward and dL/dPhi by rows [d0, d1) of Phi, dA by its columns. */
static void forward_part(void *arg, int part, int parts)
{
    const cn_layer_task *t = arg;
    const dict_state *st = t->l->state;
    const int n = t->n, M = st->M, D = st->D;
    const float *A = t->l->in[0]->out.data; /* (n, M) */
    float *Y = t->l->out.data;              /* (n, D) */
    size_t lo, hi;
    cn_pool_share((size_t)D, 16, part, parts, &lo, &hi);
    if (hi <= lo)
        return;
    for (int r = 0; r < n && st->c; r++)
        memcpy(Y + (size_t)r * D + lo, st->c->value + lo, (hi - lo) * sizeof(float));
    /* Y[:, lo:hi] = A Phi[lo:hi, :]^T (+ c) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, (int)(hi - lo), M, 1.0f, A, M,
                st->phi + lo * M, M, st->c ? 1.0f : 0.0f, Y + lo, D);
}

static void dphi_part(void *arg, int part, int parts)
{
    const cn_layer_task *t = arg;
    const dict_state *st = t->l->state;
    const int n = t->n, M = st->M, D = st->D;
    const float *A = t->l->in[0]->out.data, *dY = t->l->dout.data; /* (n, M), (n, D) */
    size_t lo, hi;
    cn_pool_share((size_t)D, 16, part, parts, &lo, &hi);
    if (hi <= lo)
        return;
    /* S[lo:hi, :] = dY[:, lo:hi]^T A */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(hi - lo), M, n, 1.0f, dY + lo, D,
                A, M, 0.0f, st->s + lo * M, M);
    for (int r = 0; r < n && st->c; r++)
        cn_axpy(hi - lo, 1.0f, dY + (size_t)r * D + lo, st->c->grad + lo);
}

static void dinput_part(void *arg, int part, int parts)
{
    const cn_layer_task *t = arg;
    const dict_state *st = t->l->state;
    const int n = t->n, M = st->M, D = st->D;
    const float *dY = t->l->dout.data; /* (n, D) */
    float *dA = t->l->in[0]->dout.data; /* (n, M) */
    size_t lo, hi;
    cn_pool_share((size_t)M, 16, part, parts, &lo, &hi);
    if (hi <= lo)
        return;
    /* dA[:, lo:hi] += dY Phi[:, lo:hi] */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, (int)(hi - lo), D, 1.0f, dY, D,
                st->phi + lo, M, 1.0f, dA + lo, M);
}

/* The pool when the products are worth splitting, else NULL (the caller). */
static cn_pool *pool_for(const cn_layer *l, const cn_ctx *ctx)
{
    const dict_state *st = l->state;
    return cn_pool_if(ctx->pool, (size_t)ctx->n * st->M * st->D / 32);
}

static void dict_forward(cn_layer *l, const cn_ctx *ctx)
{
    normalise(l->state);
    cn_layer_run(l, ctx, pool_for(l, ctx), forward_part);
}

static void dict_backward(cn_layer *l, const cn_ctx *ctx)
{
    dict_state *st = l->state;
    const int M = st->M, D = st->D;
    cn_pool *pool = pool_for(l, ctx);
    if (l->in[0]->needs_grad)
        cn_layer_run(l, ctx, pool, dinput_part);
    cn_layer_run(l, ctx, pool, dphi_part);
    /* dv_m += (s_m - phi_m (phi_m . s_m)) / ||v_m||, row by row over (D, M) */
    double *dot = st->sum;
    memset(dot, 0, (size_t)M * sizeof *dot);
    for (int d = 0; d < D; d++)
        for (int m = 0; m < M; m++)
            dot[m] += (double)st->phi[(size_t)d * M + m] * st->s[(size_t)d * M + m];
    for (int d = 0; d < D; d++)
        for (int m = 0; m < M; m++) {
            size_t i = (size_t)d * M + m;
            st->V->grad[i] += (st->s[i] - st->phi[i] * (float)dot[m]) * st->inv[m];
        }
}

static void dict_destroy(cn_layer *l)
{
    dict_state *st = l->state;
    if (st) {
        free(st->sum);
        free(st->phi);
    }
    free(st);
    l->state = NULL;
}

static double dict_flops(const cn_layer *l)
{
    const dict_state *st = l->state;
    return 2.0 * st->M * st->D;
}

const cn_layer_ops cn_layer_dict = {
    .type = "dict",
    .keys = keys,
    .doc = "a dictionary of unit-norm atoms: Y = X Phi^T + c with Phi = W / ||W||, each "
           "column of W (D, M) normalised in every forward (the decoder of sparse coding, as "
           "[lca] assumes it)",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = dict_setup,
    .forward = dict_forward,
    .backward = dict_backward,
    .destroy = dict_destroy,
    .flops = dict_flops,
};
