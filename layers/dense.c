/* dense.c - the fully connected layer, optionally tied to the transpose of
 * an earlier dense layer's weights (autoencoder decoders).
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
 * A tied layer declares no W: the parameter appears once in the net's list
 * and its gradient accumulates the contributions of both uses.
 */
#include <stdlib.h>

#include <cblas.h>

#include "internal.h"

extern const cn_layer_ops cn_layer_dense;

static const cn_key keys[] = {
    {"output", CN_KEY_INT, NULL, NULL, "output features (may be left out with tie)"},
    {"activation", CN_KEY_ENUM, "linear", CN_ACT_CHOICES, "activation applied to X W^T + b"},
    {"gain", CN_KEY_FLOAT, "1", NULL, "sigmoid gain g in 1/(1+exp(-g x))"},
    {"slope", CN_KEY_FLOAT, "0.01", NULL, "leaky slope for x < 0 (>= 0)"},
    {"tie", CN_KEY_STRING, "", NULL, "earlier dense layer whose W is used transposed"},
    {"bias", CN_KEY_BOOL, "1", NULL, "add a learned bias"},
    CN_KEY_END};

typedef struct dense_state {
    cn_act act;
    float param;   /* sigmoid gain or leaky slope */
    int in, out;   /* K and N */
    int tied;      /* W is another layer's (K, N) weight, used transposed */
    cn_param *W;   /* (N, K) own, or (K, N) tied; a param pointer because the
                      shared value/grad are only placed after build */
    cn_param *b;   /* (N) or NULL */
} dense_state;

/* Resolve tie=<ref>: an earlier dense layer with its own W of shape
 * (this layer's input, anything). */
static cn_status resolve_tie(cn_layer *l, cn_sec *s, cn_build *b, const char *ref,
                             dense_state *st, cn_error *err)
{
    cn_layer *enc;
    cn_status rc = cn_build_ref(b, l, s, "tie", ref, &enc, err);
    if (rc)
        return rc;
    if (enc->ops != &cn_layer_dense)
        return cn_sec_bad(s, "tie", CN_ERR_CFG, err,
                          "layer '%s' is a [%s]; only a [dense] layer's W can be tied",
                          enc->name, enc->ops->type);
    cn_param *W = cn_layer_param(enc, "W");
    if (!W)
        return cn_sec_bad(s, "tie", CN_ERR_CFG, err,
                          "layer '%s' is itself tied and has no W of its own", enc->name);
    if (W->shape[0] != st->in)
        return cn_sec_bad(s, "tie", CN_ERR_SHAPE, err,
                          "layer '%s' (input %d) cannot use the transpose of '%s' W (%d x %d): "
                          "needs input %d",
                          l->name, st->in, enc->name, W->shape[0], W->shape[1], W->shape[0]);
    st->tied = 1;
    st->W = W;
    st->out = W->shape[1];
    if (cn_sec_has(s, "output")) {
        int n;
        rc = cn_sec_int(s, "output", &n, err);
        if (rc)
            return rc;
        if (n != st->out)
            return cn_sec_bad(s, "output", CN_ERR_CFG, err,
                              "layer '%s' is tied to '%s' and outputs %d (the input size of "
                              "'%s'); leave output out or set it to %d",
                              l->name, enc->name, st->out, enc->name, st->out);
    }
    return CN_OK;
}

static cn_status dense_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    dense_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    st->in = l->in[0]->c * l->in[0]->h * l->in[0]->w;
    const char *tie;
    int bias;
    cn_status rc = cn_act_read(s, &st->act, &st->param, err);
    if (!rc)
        rc = cn_sec_str(s, "tie", &tie, err);
    if (!rc)
        rc = cn_sec_bool(s, "bias", &bias, err);
    if (rc)
        return rc;
    if (tie && tie[0])
        rc = resolve_tie(l, s, b, tie, st, err);
    else
        rc = cn_sec_int_min(s, "output", 1, &st->out, err);
    if (rc)
        return rc;
    l->c = st->out;
    l->h = 1;
    l->w = 1;
    cn_init init = cn_build_init(b);
    if (!st->tied)
        st->W = cn_build_param(b, l, "W", st->out, st->in, 1, 1, init, st->in, st->out, 0);
    if (bias)
        st->b = cn_build_param(b, l, "b", st->out, 1, 1, 1, init, st->in, st->out, 1);
    if ((!st->tied && !st->W) || (bias && !st->b))
        return cn_errorf(err, CN_ERR_INTERNAL, "layer '%s': too many parameters", l->name);
    return CN_OK;
}

/* The element-wise passes around the products, split over the net's threads:
 * forward by rows (bias and f), backward by columns (f' and the bias
 * gradient, each column summed over the rows in order, as with one thread). */
typedef struct ew_task {
    cn_layer *l;
    int n;
} ew_task;

static void bias_act_part(void *arg, int part, int parts)
{
    const ew_task *t = arg;
    const dense_state *st = t->l->state;
    const size_t N = (size_t)st->out;
    int lo, hi;
    cn_pool_range(t->n, part, parts, &lo, &hi);
    float *Y = t->l->out.data + (size_t)lo * N; /* rows [lo, hi) */
    if (st->b)
        for (int r = lo; r < hi; r++)
            cn_axpy(N, 1.0f, st->b->value, Y + (size_t)(r - lo) * N);
    cn_act_forward(st->act, st->param, Y, (size_t)(hi - lo) * N);
}

static void act_grad_part(void *arg, int part, int parts)
{
    const ew_task *t = arg;
    const dense_state *st = t->l->state;
    const size_t N = (size_t)st->out;
    size_t c0, c1;
    cn_pool_share(N, 16, part, parts, &c0, &c1);
    for (int r = 0; r < t->n && c1 > c0; r++) {
        float *dz = t->l->dout.data + r * N + c0; /* row r, columns [c0, c1) */
        cn_act_backward(st->act, st->param, t->l->out.data + r * N + c0, dz, c1 - c0);
        if (st->b)
            cn_axpy(c1 - c0, 1.0f, dz, st->b->grad + c0);
    }
}

static void dense_forward(cn_layer *l, const cn_ctx *ctx)
{
    const dense_state *st = l->state;
    const int n = ctx->n, K = st->in, N = st->out;
    const float *X = l->in[0]->out.data; /* (n, K) */
    float *Y = l->out.data;              /* (n, N) */
    /* own W is (N, K): Y = X W^T; tied W is (K, N): Y = X W */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, st->tied ? CblasNoTrans : CblasTrans, n, N, K,
                1.0f, X, K, st->W->value, st->tied ? N : K, 0.0f, Y, N);
    ew_task t = {l, n};
    cn_pool_run(cn_pool_if(ctx->pool, (size_t)n * N), bias_act_part, &t);
}

static void dense_backward(cn_layer *l, const cn_ctx *ctx)
{
    const dense_state *st = l->state;
    const int n = ctx->n, K = st->in, N = st->out;
    cn_layer *src = l->in[0];
    const float *X = src->out.data; /* (n, K) */
    float *dZ = l->dout.data;       /* (n, N): our own dout, turned into dZ in place */
    ew_task t = {l, n};
    cn_pool_run(cn_pool_if(ctx->pool, (size_t)n * N), act_grad_part, &t);
    if (st->tied) /* dW (K, N) += X^T dZ */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, n, 1.0f, X, K, dZ, N, 1.0f,
                    st->W->grad, N);
    else /* dW (N, K) += dZ^T X */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, K, n, 1.0f, dZ, N, X, K, 1.0f,
                    st->W->grad, K);
    if (src->needs_grad) /* dX (n, K) += dZ W (own) or dZ W^T (tied) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, st->tied ? CblasTrans : CblasNoTrans, n, K, N,
                    1.0f, dZ, N, st->W->value, st->tied ? N : K, 1.0f, src->dout.data, K);
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

static double dense_flops(const cn_layer *l)
{
    const dense_state *st = l->state;
    return 2.0 * st->in * st->out;
}

const cn_layer_ops cn_layer_dense = {
    .type = "dense",
    .keys = keys,
    .doc = "fully connected layer Y = f(X W^T + b), optionally tied to an earlier W^T",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = dense_setup,
    .forward = dense_forward,
    .backward = dense_backward,
    .destroy = dense_destroy,
    .flops = dense_flops,
    .activation = dense_activation,
};
