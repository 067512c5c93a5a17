/* dense.c - the fully connected layer, optionally tied to the transpose of
 * an earlier dense layer's weights (autoencoder decoders) or sharing an
 * earlier one's weights as they are (one layer applied to two inputs).
 *
 * Legend: n samples, K input features (the input's c*h*w, NCHW order),
 * N output features; X (n, K), Y (n, N), f the activation.
 *
 *   own W (N, K), PyTorch's Linear layout:
 *     forward   Y = f(X W^T + b)
 *     backward  dZ = dY * f'(Y);  dW += dZ^T X;  db += sum_rows dZ;  dX += dZ W
 *   tied to enc (tie=enc), using enc's W (K, N) transposed:
 *     forward   Y = f(X W + b)
 *     backward  dW += X^T dZ (into enc's W grad);  db += sum_rows dZ;  dX += dZ W^T
 *
 *   sharing L (share=L): L's own W (N, K) and b as they are, on this layer's
 *     input (the same K), with L's activation: L applied to a second input
 *
 * A tied or sharing layer declares no parameter of its own: each appears
 * once in the net's list and its gradient accumulates every use's part. The
 * owner is earlier in cfg order, so its backward runs after every user's:
 * only the owner tells the net (cn_grad_claim / cn_grad_ready) that the sum
 * is final, and the trainer updates it once.
 */
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "dense.h"

static const cn_key keys[] = {
    {"output", CN_KEY_INT, NULL, "[1, 16777216]",
     "output features (may be left out with tie or share)"},
    {"activation", CN_KEY_ENUM, "linear", CN_ACT_CHOICES, "activation applied to X W^T + b"},
    {"gain", CN_KEY_FLOAT, "1", "(-inf, inf)", "sigmoid gain g in 1/(1+exp(-g x))"},
    {"slope", CN_KEY_FLOAT, "0.01", "[0, inf)", "leaky slope for x < 0 (>= 0)"},
    {"tie", CN_KEY_STRING, "", NULL, "earlier dense layer whose W is used transposed"},
    {"share", CN_KEY_STRING, "", NULL,
     "earlier dense layer whose W, b and activation this layer uses as they are, on its own "
     "input of the same size (one set of weights for two inputs; gradients add up)"},
    {"bias", CN_KEY_BOOL, "1", NULL, "add a learned bias"},
    CN_KEY_END};

static cn_status dense_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    dense_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    st->in = l->in[0]->c * l->in[0]->h * l->in[0]->w;
    int bias;
    cn_status rc = cn_act_read(s, &st->act, &st->param, err);
    if (!rc)
        rc = cn_sec_bool(s, "bias", &bias, err);
    if (!rc)
        rc = cn_dense_resolve(l, s, b, st, bias, err);
    if (rc)
        return rc;
    l->c = st->out;
    l->h = 1;
    l->w = 1;
    if (st->shared)
        return CN_OK;
    cn_init init = cn_build_init(b);
    if (!st->tied)
        st->W = cn_build_param(b, l, "W", st->out, st->in, 1, 1, init, st->in, st->out,
                               CN_PARAM_WEIGHT);
    if (bias)
        st->b = cn_build_param(b, l, "b", st->out, 1, 1, 1, init, st->in, st->out,
                               CN_PARAM_BIAS);
    if ((!st->tied && !st->W) || (bias && !st->b))
        return cn_build_error(b, l, err);
    return CN_OK;
}

/* Work split over the net's threads (include/cnet/pool.h), each product
 * by single-threaded BLAS on a slab, so no sum is split and no thread waits
 * for another inside a layer:
 *   forward   thread t computes the output columns [c0, c1): its slab of W,
 *             then bias and f on those columns;
 *   backward  (1) columns [c0, c1) of dZ: f', the bias gradient (each column
 *             summed over the rows in order) and the matching slab of dW;
 *             (2) the input-gradient columns [k0, k1) of dX.
 *             In a training step the slab of dW waits for (3), after dX has
 *             read W: the slab of dW, then at once the net's gradient-ready
 *             hook for the same rows [c0, c1) of the layer's own W and b
 *             (the trainer's handler updates them while they are in cache).
 * Slabs are whole cache lines (16 floats). Small layers run in the caller. */
/* Columns [*c0, *c1) of `count` for this part. */
static void slab(int count, int part, int parts, int *c0, int *c1)
{
    size_t lo, hi;
    cn_pool_share((size_t)count, 16, part, parts, &lo, &hi);
    *c0 = (int)lo, *c1 = (int)hi;
}

static void forward_part(void *arg, int part, int parts)
{
    const cn_layer_task *t = arg;
    const dense_state *st = t->l->state;
    const int n = t->n, K = st->in, N = st->out;
    const float *X = t->l->in[0]->out.data; /* (n, K) */
    float *Y = t->l->out.data;              /* (n, N) */
    int c0, c1;
    slab(N, part, parts, &c0, &c1);
    if (c1 <= c0)
        return;
    /* the bias goes in first and the product adds to it (beta 1): one pass
     * over Y fewer than zeroing it (beta 0) and adding the bias after */
    if (st->b)
        for (int r = 0; r < n; r++)
            memcpy(Y + (size_t)r * N + c0, st->b->value + c0, (size_t)(c1 - c0) * sizeof(float));
    const float beta = st->b ? 1.0f : 0.0f;
    /* own W (N, K): Y[:, c] = X W[c, :]^T; tied W (K, N): Y[:, c] = X W[:, c] */
    if (st->tied)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, c1 - c0, K, 1.0f, X, K,
                    st->W->value + c0, N, beta, Y + c0, N);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, c1 - c0, K, 1.0f, X, K,
                    st->W->value + (size_t)c0 * K, K, beta, Y + c0, N);
    if (st->act != CN_ACT_LINEAR)
        for (int r = 0; r < n; r++)
            cn_act_forward(st->act, st->param, Y + (size_t)r * N + c0, (size_t)(c1 - c0));
}

/* Columns [c0, c1) of dZ = dY * f'(Y), in place in dout, and their bias
 * gradient (each column summed over the rows in order). */
static void dz_slab(const cn_layer *l, int n, int c0, int c1)
{
    const dense_state *st = l->state;
    const int N = st->out;
    float *dZ = l->dout.data;
    for (int r = 0; r < n; r++) {
        float *dz = dZ + (size_t)r * N + c0; /* row r, columns [c0, c1) */
        cn_act_backward(st->act, st->param, l->out.data + (size_t)r * N + c0, dz,
                        (size_t)(c1 - c0));
        if (st->b)
            cn_axpy((size_t)(c1 - c0), 1.0f, dz, st->b->grad + c0);
    }
}

/* The slab of dW for the columns [c0, c1) of dZ. */
static void dw_slab(const cn_layer *l, int n, int c0, int c1)
{
    const dense_state *st = l->state;
    const int K = st->in, N = st->out;
    const float *X = l->in[0]->out.data; /* (n, K) */
    const float *dZ = l->dout.data;      /* (n, N) */
    if (st->tied) /* dW[:, c] (K, N) += X^T dZ[:, c] */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, c1 - c0, n, 1.0f, X, K, dZ + c0,
                    N, 1.0f, st->W->grad + c0, N);
    else /* dW[c, :] (N, K) += dZ[:, c]^T X */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, c1 - c0, K, n, 1.0f, dZ + c0, N, X,
                    K, 1.0f, st->W->grad + (size_t)c0 * K, K);
}

static void dz_part(void *arg, int part, int parts)
{
    const cn_layer_task *t = arg;
    int c0, c1;
    slab(((const dense_state *)t->l->state)->out, part, parts, &c0, &c1);
    if (c1 > c0)
        dz_slab(t->l, t->n, c0, c1);
}

static void weight_grad_part(void *arg, int part, int parts)
{
    const cn_layer_task *t = arg;
    int c0, c1;
    slab(((const dense_state *)t->l->state)->out, part, parts, &c0, &c1);
    if (c1 <= c0)
        return;
    dz_slab(t->l, t->n, c0, c1);
    dw_slab(t->l, t->n, c0, c1);
}

static void input_grad_part(void *arg, int part, int parts)
{
    const cn_layer_task *t = arg;
    const dense_state *st = t->l->state;
    const int n = t->n, K = st->in, N = st->out;
    const float *dZ = t->l->dout.data;   /* (n, N) */
    float *dX = t->l->in[0]->dout.data;  /* (n, K) */
    int k0, k1;
    slab(K, part, parts, &k0, &k1);
    if (k1 <= k0)
        return;
    if (st->tied) /* dX[:, k] += dZ W[k, :]^T, W (K, N) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, k1 - k0, N, 1.0f, dZ, N,
                    st->W->value + (size_t)k0 * N, N, 1.0f, dX + k0, K);
    else /* dX[:, k] += dZ W[:, k], W (N, K) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, k1 - k0, N, 1.0f, dZ, N,
                    st->W->value + k0, K, 1.0f, dX + k0, K);
}

/* The pool, or NULL (the caller, with OpenBLAS's threads) when the product
 * is too small to split or has fewer slabs of `cols` columns than threads. */
static cn_pool *pool_for(const cn_layer *l, const cn_ctx *ctx, int cols)
{
    const dense_state *st = l->state;
    if ((cols + 15) / 16 < cn_pool_size(ctx->pool))
        return NULL;
    return cn_pool_if(ctx->pool, (size_t)ctx->n * st->out * st->in / 32);
}

static void dense_forward(cn_layer *l, const cn_ctx *ctx)
{
    const dense_state *st = l->state;
    cn_layer_run(l, ctx, pool_for(l, ctx, st->out), forward_part);
}

/* In a training step, the slab of dW and at once the gradient-ready hook
 * for the same rows of the layer's own W and b, the gradient still in cache
 * (a tied or shared W is an earlier layer's, whose gradient is complete
 * only after that layer's backward). */
typedef struct ready_task {
    const cn_layer *l;
    const cn_ctx *ctx;
    int hW, hb; /* claim handles, or -1 */
} ready_task;

static void ready_part(void *arg, int part, int parts)
{
    const ready_task *t = arg;
    const dense_state *st = t->l->state;
    int c0, c1;
    slab(st->out, part, parts, &c0, &c1);
    if (c1 <= c0)
        return;
    dw_slab(t->l, t->ctx->n, c0, c1);
    /* own W (N, K): rows [c0, c1) */
    cn_grad_ready(t->ctx, t->hW, (size_t)c0 * st->in, (size_t)c1 * st->in);
    cn_grad_ready(t->ctx, t->hb, (size_t)c0, (size_t)c1);
}

static void dense_backward(cn_layer *l, const cn_ctx *ctx)
{
    const dense_state *st = l->state;
    cn_pool *pool = pool_for(l, ctx, st->out);
    ready_task t = {l, ctx, st->tied || st->shared ? -1 : cn_grad_claim(ctx, st->W),
                    st->b && !st->shared ? cn_grad_claim(ctx, st->b) : -1};
    int early = t.hW >= 0 || t.hb >= 0;
    /* when the hook listens, dW waits until dX has read W */
    cn_layer_run(l, ctx, pool, early ? dz_part : weight_grad_part);
    if (l->in[0]->needs_grad)
        cn_layer_run(l, ctx, pool_for(l, ctx, st->in), input_grad_part);
    if (early)
        cn_pool_run(pool, ready_part, &t);
}

static void dense_destroy(cn_layer *l)
{
    free(l->state);
    l->state = NULL;
}

static int dense_activation(const cn_layer *l, float *param)
{
    const dense_state *st = l->state;
    *param = st->param;
    return (int)st->act;
}

/* The W (N, K) of out = f(W x + b), its own or the one it shares; a tied
 * layer has none. */
static const cn_param *dense_linear_weight(const cn_layer *l)
{
    const dense_state *st = l->state;
    return st->tied ? NULL : st->W;
}

static double dense_flops(const cn_layer *l)
{
    const dense_state *st = l->state;
    return 2.0 * st->in * st->out;
}

const cn_layer_ops cn_layer_dense = {
    .type = "dense",
    .keys = keys,
    .doc = "fully connected layer Y = f(X W^T + b), optionally tied to an earlier W^T (tie) "
           "or using an earlier layer's W and b as they are (share)",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = dense_setup,
    .forward = dense_forward,
    .backward = dense_backward,
    .destroy = dense_destroy,
    .flops = dense_flops,
    .activation = dense_activation,
    .linear_weight = dense_linear_weight,
};
