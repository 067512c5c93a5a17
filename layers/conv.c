/* conv.c - the 2-D convolution layer (cross-correlation, as in PyTorch's
 * Conv2d), lowered to one matrix product per group of samples.
 *
 * Legend: n samples, input X (n, C, H, W), F filters of k x k, stride s,
 * zero padding p, output Y (n, F, Ho, Wo) with Ho = (H + 2p - k)/s + 1
 * (likewise Wo), P = Ho*Wo, K = C*k*k, f the activation.
 * W (F, C, k, k) is used as a matrix (F, K); col(x) (K, P) is im2col.c's
 * column matrix of one sample.
 *   forward   Y_i = f(W col(X_i) + b)
 *   backward  dZ = dY * f'(Y);  dW += sum_i dZ_i col(X_i)^T;
 *             db += sums of dZ over samples and positions;
 *             dX_i += col2im(W^T dZ_i)
 * The columns of m samples sit side by side (K, m*P), so a whole group is
 * one cblas_sgemm (F, K) x (K, m*P) even when each image is small. The
 * group's columns and its channel-major product live in the net's shared
 * scratch; the column matrix is rebuilt in backward rather than kept.
 * The batch is split over the net's threads, each with its own groups,
 * scratch and private dW, db (im2col.h, cn_split_*).
 * A 5x5 stride-1 convolution of enough channels (algo=auto), or any 5x5
 * stride-1 one with algo=winograd, runs as Winograd's F(4x4, 5x5) instead
 * (winograd.h): 64 products (F, C) x (C, tiles) per group of samples, each
 * thread with its own filter-gradient accumulator dU, turned into dW once.
 * Init (PyTorch's default): W, b ~ U(-1/sqrt(K), 1/sqrt(K)) with fan_in = K.
 */
#include <stdlib.h>

#include <cblas.h>

#include "im2col.h"
#include "winograd.h"

static const cn_key keys[] = {
    {"filters", CN_KEY_INT, NULL, NULL, "output channels F (>= 1)"},
    {"size", CN_KEY_INT, "3", NULL, "kernel height and width k (>= 1)"},
    {"stride", CN_KEY_INT, "1", NULL, "step between kernel positions (>= 1)"},
    {"pad", CN_KEY_INT, "0", NULL, "zeros added on each side of the input (>= 0)"},
    {"activation", CN_KEY_ENUM, "linear", CN_ACT_CHOICES, "activation applied to W * x + b"},
    {"gain", CN_KEY_FLOAT, "1", NULL, "sigmoid gain g in 1/(1+exp(-g x))"},
    {"slope", CN_KEY_FLOAT, "0.01", NULL, "leaky slope for x < 0 (>= 0)"},
    {"bias", CN_KEY_BOOL, "1", NULL, "add a learned bias per filter"},
    {"algo", CN_KEY_ENUM, "auto", "auto|im2col|winograd",
     "im2col + GEMM, or Winograd F(4x4,5x5) (size 5, stride 1, pad <= 4); auto: Winograd "
     "where it applies and channels and filters are both >= 8"},
    CN_KEY_END};

enum { ALGO_AUTO, ALGO_IM2COL, ALGO_WINOGRAD };

typedef struct conv_state {
    cn_act act;
    float param;    /* sigmoid gain or leaky slope */
    cn_conv_geom g; /* over the input: C x H x W -> Ho x Wo positions */
    int F;          /* filters */
    int group;      /* samples per lowered product */
    size_t slice;   /* scratch floats of one thread: (K + F) rows of cn_col_ld + work */
    size_t work;    /* floats of cn_im2col's work area, at the slice's end */
    cn_param *W;    /* (F, C, k, k) */
    cn_param *b;    /* (F) or NULL */
    int wino;       /* Winograd instead of im2col */
    cn_wino_plan fwd, bwd; /* X -> Y, and dY -> dX with the turned filters */
    size_t regA, regB;     /* Winograd slice: (V | V') (M | D | M') dU work */
} conv_state;

static cn_status read_keys(cn_sec *s, conv_state *st, int *bias, int *algo, cn_error *err)
{
    cn_conv_geom *g = &st->g;
    if (cn_act_read(s, &st->act, &st->param, err) ||
        cn_sec_int_min(s, "filters", 1, &st->F, err) ||
        cn_sec_int_min(s, "size", 1, &g->k, err) ||
        cn_sec_int_min(s, "stride", 1, &g->stride, err) ||
        cn_sec_int_min(s, "pad", 0, &g->pad, err) || cn_sec_bool(s, "bias", bias, err) ||
        cn_sec_enum(s, "algo", algo, err))
        return err->code;
    return CN_OK;
}

/* Winograd's plans and its per-thread slice for groups of st->group samples:
 * V or V' (64, C or F, tiles), then M, D or M' (64, F or C, tiles), then dU
 * (64, F, C) and the transforms' work area. */
static cn_status wino_setup(cn_layer *l, conv_state *st, int batch, int parts, cn_error *err)
{
    const cn_conv_geom *g = &st->g;
    const int C = g->C, F = st->F;
    if (cn_wino_plan_init(&st->fwd, C, g->H, g->W, g->pad) ||
        cn_wino_plan_init(&st->bwd, F, g->Ho, g->Wo, g->k - 1 - g->pad))
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    size_t nt = (size_t)st->fwd.nt, nt2 = (size_t)st->bwd.nt;
    size_t a = CN_MAX(C * nt, F * nt2), b = CN_MAX(F * nt, C * nt2);
    /* a quarter of the per-sample floats against im2col's budget: the 64
     * products are thin (inner size C), so groups of 4x the samples keep
     * them at >= 128 tiles (lenet: 8 samples of 16 tiles) */
    st->group = cn_conv_group((batch + parts - 1) / parts, CN_WINO_XI * (a + b) / 4);
    st->regA = CN_WINO_XI * a * st->group, st->regB = CN_WINO_XI * b * st->group;
    st->work = CN_MAX(cn_wino_work(&st->fwd, st->group), cn_wino_work(&st->bwd, st->group));
    st->slice = st->regA + st->regB + (size_t)CN_WINO_XI * F * C + st->work;
    /* after the slices and private gradients: U (64, F, C) or U' (64, C, F) */
    l->scratch = cn_split_scratch(parts, st->slice, st->W, st->b) + (size_t)CN_WINO_XI * F * C;
    return CN_OK;
}

static cn_status conv_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    conv_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    cn_conv_geom *g = &st->g;
    const cn_layer *in = l->in[0];
    int bias, algo;
    if (read_keys(s, st, &bias, &algo, err))
        return err->code;
    g->C = in->c, g->H = in->h, g->W = in->w;
    if (g->H + 2 * g->pad < g->k || g->W + 2 * g->pad < g->k) {
        char a[64];
        return cn_sec_bad(s, "size", CN_ERR_SHAPE, err,
                          "layer '%s' (input %s) with size %d, pad %d has an output smaller "
                          "than 1x1: needs height and width + 2*pad >= size",
                          l->name, cn_layer_shape_str(in, a, sizeof a), g->k, g->pad);
    }
    g->Ho = (g->H + 2 * g->pad - g->k) / g->stride + 1;
    g->Wo = (g->W + 2 * g->pad - g->k) / g->stride + 1;
    l->c = st->F, l->h = g->Ho, l->w = g->Wo;

    int K = g->C * g->k * g->k;
    cn_init init = cn_build_init(b);
    st->W = cn_build_param(b, l, "W", st->F, g->C, g->k, g->k, init, K, st->F * g->k * g->k, 0);
    if (bias)
        st->b = cn_build_param(b, l, "b", st->F, 1, 1, 1, init, K, st->F * g->k * g->k, 1);
    if (!st->W || (bias && !st->b))
        return cn_errorf(err, CN_ERR_INTERNAL, "layer '%s': too many parameters", l->name);
    int fits = g->k == 5 && g->stride == 1 && g->pad <= g->k - 1;
    if (algo == ALGO_WINOGRAD && !fits)
        return cn_sec_bad(s, "algo", CN_ERR_CFG, err, "layer '%s': winograd needs size 5, "
                          "stride 1 and pad <= 4 (got size %d, stride %d, pad %d)", l->name,
                          g->k, g->stride, g->pad);
    st->wino = algo == ALGO_WINOGRAD || (algo == ALGO_AUTO && fits && g->C >= 8 && st->F >= 8);
    if (st->wino)
        return wino_setup(l, st, cn_build_batch(b), cn_build_threads(b), err);
    /* scratch per sample: its columns (K, P) and its product (F, P) */
    size_t P = (size_t)g->Ho * g->Wo, per_sample = ((size_t)K + st->F) * P;
    int parts = cn_build_threads(b);
    st->group = cn_conv_group((cn_build_batch(b) + parts - 1) / parts, per_sample);
    st->work = cn_im2col_work(g);
    st->slice = ((size_t)K + st->F) * cn_col_ld(st->group, P) + st->work;
    l->scratch = cn_split_scratch(parts, st->slice, st->W, st->b);
    return CN_OK;
}

/* A thread's work area, at the end of its slice. */
static float *slice_work(const cn_layer *l, int part)
{
    const conv_state *st = l->state;
    return cn_split_slice(l->scratch_buf, part, st->slice) + st->slice - st->work;
}

/* The start of every backward part: this thread's samples [*lo, *hi), where
 * its dW, db go, and dZ = dY * f'(Y) with its bias gradient over them. */
static void backward_begin(const cn_layer_task *t, int part, int parts, float **dW, float **db,
                           int *lo, int *hi)
{
    cn_layer *l = t->l;
    const conv_state *st = l->state;
    const size_t FP = (size_t)st->F * st->g.Ho * st->g.Wo;
    float *dZ = l->dout.data; /* our dout, turned into dZ in place */
    cn_split_targets(l->scratch_buf, part, parts, st->slice, st->W, st->b, dW, db);
    cn_pool_range(t->n, part, parts, lo, hi);
    size_t off = (size_t)*lo * FP;
    cn_act_backward(st->act, st->param, l->out.data + off, dZ + off, (size_t)(*hi - *lo) * FP);
    if (*db)
        cn_bias_grad(dZ + off, *hi - *lo, st->F, (size_t)st->g.Ho * st->g.Wo, *db);
}

/* The samples [lo, hi) of one thread, in groups, into its own scratch. */
static void forward_part(void *arg, int part, int parts)
{
    const cn_layer_task *t = arg;
    cn_layer *l = t->l;
    const conv_state *st = l->state;
    const cn_conv_geom *g = &st->g;
    const int F = st->F, K = g->C * g->k * g->k;
    const size_t P = (size_t)g->Ho * g->Wo, in_size = cn_tensor_sample(&l->in[0]->out);
    const float *X = l->in[0]->out.data; /* (n, C, H, W) */
    float *Y = l->out.data;              /* (n, F, Ho, Wo) */
    float *work = slice_work(l, part);
    int lo, hi;
    cn_pool_range(t->n, part, parts, &lo, &hi);
    for (int i0 = lo; i0 < hi; i0 += st->group) {
        int m = CN_MIN(st->group, hi - i0), N = m * (int)P;
        size_t ld = cn_col_ld(m, P);
        float *col = cn_split_slice(l->scratch_buf, part, st->slice); /* (K, m*P) */
        float *prod = col + (size_t)K * ld;                           /* (F, m*P) */
        for (int i = 0; i < m; i++)
            cn_im2col(g, X + (i0 + i) * in_size, col + i * P, ld, work);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, F, N, K, 1.0f, st->W->value, K,
                    col, (int)ld, 0.0f, prod, (int)ld);
        /* back to NCHW, adding the bias and applying f while the row is hot */
        for (int i = 0; i < m; i++)
            for (int f = 0; f < F; f++) {
                const float *src = prod + (size_t)f * ld + i * P;
                float *y = Y + ((size_t)(i0 + i) * F + f) * P;
                float bf = st->b ? st->b->value[f] : 0.0f;
                for (size_t q = 0; q < P; q++)
                    y[q] = src[q] + bf;
                cn_act_forward(st->act, st->param, y, P);
            }
    }
}

/* The shared filter transforms, after the slices and private gradients. */
static float *wino_U(const cn_layer *l, int parts)
{
    const conv_state *st = l->state;
    return l->scratch_buf + cn_split_scratch(parts, st->slice, st->W, st->b);
}

/* U (64, F, C), or turned for the input gradient U' (64, C, F): pairs split. */
static void filters_part(cn_layer *l, int part, int parts, int flip)
{
    const conv_state *st = l->state;
    int lo, hi;
    cn_pool_range(st->F * st->g.C, part, parts, &lo, &hi);
    cn_wino_filters(st->W->value, st->F, st->g.C, flip, wino_U(l, parts), (size_t)lo,
                    (size_t)hi, slice_work(l, part));
}

static void filters_fwd(void *arg, int part, int parts)
{
    filters_part(((const cn_layer_task *)arg)->l, part, parts, 0);
}

static void filters_bwd(void *arg, int part, int parts)
{
    filters_part(((const cn_layer_task *)arg)->l, part, parts, 1);
}

/* One GEMM per tile position: out_xi (R, T) = U_xi (R, S) in_xi^T, in_xi (T, S). */
static void wino_products(const float *U, int R, int S, const float *in, float *out, size_t T)
{
    for (int xi = 0; xi < CN_WINO_XI; xi++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, (int)T, S, 1.0f,
                    U + (size_t)xi * R * S, S, in + xi * T * S, S, 0.0f, out + xi * R * T,
                    (int)T);
}

static void wino_forward_part(void *arg, int part, int parts)
{
    const cn_layer_task *t = arg;
    cn_layer *l = t->l;
    const conv_state *st = l->state;
    const int F = st->F, C = st->g.C;
    const size_t P = (size_t)st->g.Ho * st->g.Wo, in_size = cn_tensor_sample(&l->in[0]->out);
    float *V = cn_split_slice(l->scratch_buf, part, st->slice), *M = V + st->regA;
    float *work = slice_work(l, part);
    const float *U = wino_U(l, parts);
    int lo, hi;
    cn_pool_range(t->n, part, parts, &lo, &hi);
    for (int i0 = lo; i0 < hi; i0 += st->group) {
        int m = CN_MIN(st->group, hi - i0);
        size_t T = (size_t)m * st->fwd.nt;
        float *y = l->out.data + (size_t)i0 * F * P;
        cn_wino_input(&st->fwd, l->in[0]->out.data + i0 * in_size, m, V, T, work);
        wino_products(U, F, C, V, M, T);
        cn_wino_output(&st->fwd, M, F, m, T, y, 0, work);
        cn_bias_act(y, m, F, P, st->b ? st->b->value : NULL, st->act, st->param);
    }
}

static void conv_forward(cn_layer *l, const cn_ctx *ctx)
{
    const conv_state *st = l->state;
    if (st->wino) {
        cn_layer_run(l, ctx, ctx->pool, filters_fwd);
        cn_layer_run(l, ctx, ctx->pool, wino_forward_part);
        return;
    }
    cn_layer_run(l, ctx, ctx->pool, forward_part);
}

static void backward_part(void *arg, int part, int parts)
{
    const cn_layer_task *t = arg;
    cn_layer *l = t->l;
    const conv_state *st = l->state;
    const cn_conv_geom *g = &st->g;
    const int F = st->F, K = g->C * g->k * g->k;
    const size_t P = (size_t)g->Ho * g->Wo, in_size = cn_tensor_sample(&l->in[0]->out);
    cn_layer *src = l->in[0];
    const float *X = src->out.data; /* (n, C, H, W) */
    const float *dZ = l->dout.data; /* (n, F, Ho, Wo) */
    float *dW, *db, *work = slice_work(l, part);
    int lo, hi;
    backward_begin(t, part, parts, &dW, &db, &lo, &hi);
    for (int i0 = lo; i0 < hi; i0 += st->group) {
        int m = CN_MIN(st->group, hi - i0), N = m * (int)P;
        size_t ld = cn_col_ld(m, P);
        float *col = cn_split_slice(l->scratch_buf, part, st->slice); /* (K, m*P) */
        float *dz = col + (size_t)K * ld;                             /* (F, m*P) */
        cn_pack_channels(dZ + i0 * (size_t)F * P, m, F, P, dz, ld);
        for (int i = 0; i < m; i++)
            cn_im2col(g, X + (i0 + i) * in_size, col + i * P, ld, work);
        /* dW (F, K) += dz (F, m*P) col^T (m*P, K) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, F, K, N, 1.0f, dz, (int)ld, col,
                    (int)ld, 1.0f, dW, K);
        if (!src->needs_grad)
            continue;
        /* dcol (K, m*P) = W^T dz, written over the columns, then back to pixels */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, F, 1.0f, st->W->value, K, dz,
                    (int)ld, 0.0f, col, (int)ld);
        for (int i = 0; i < m; i++)
            cn_col2im_add(g, col + i * P, ld, src->dout.data + (i0 + i) * in_size, work);
    }
}

static void wino_backward_part(void *arg, int part, int parts)
{
    const cn_layer_task *t = arg;
    cn_layer *l = t->l;
    const conv_state *st = l->state;
    const int F = st->F, C = st->g.C;
    const size_t P = (size_t)st->g.Ho * st->g.Wo, in_size = cn_tensor_sample(&l->in[0]->out);
    cn_layer *src = l->in[0];
    const float *dZ = l->dout.data; /* (n, F, Ho, Wo) */
    float *V = cn_split_slice(l->scratch_buf, part, st->slice), *D = V + st->regA;
    float *dU = D + st->regB, *work = slice_work(l, part), *dW, *db;
    int lo, hi;
    backward_begin(t, part, parts, &dW, &db, &lo, &hi);
    for (int i0 = lo; i0 < hi; i0 += st->group) {
        int m = CN_MIN(st->group, hi - i0);
        size_t T = (size_t)m * st->fwd.nt, T2 = (size_t)m * st->bwd.nt;
        const float *dz = dZ + (size_t)i0 * F * P;
        cn_wino_input(&st->fwd, src->out.data + i0 * in_size, m, V, T, work);
        cn_wino_out_tiles(&st->fwd, dz, F, m, D, T, work);
        /* dU_xi (F, C) += D_xi (F, T) V_xi (T, C) */
        for (int xi = 0; xi < CN_WINO_XI; xi++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, F, C, (int)T, 1.0f,
                        D + xi * F * T, (int)T, V + xi * T * C, C, i0 == lo ? 0.0f : 1.0f,
                        dU + (size_t)xi * F * C, C);
        if (!src->needs_grad)
            continue;
        /* dX += the convolution of dZ with the turned filters, V' and M' over V and D */
        cn_wino_input(&st->bwd, dz, m, V, T2, work);
        wino_products(wino_U(l, parts), C, F, V, D, T2);
        cn_wino_output(&st->bwd, D, C, m, T2, src->dout.data + i0 * in_size, 1, work);
    }
    if (hi > lo)
        cn_wino_filter_grad(dU, F, C, dW, work);
}

static void conv_backward(cn_layer *l, const cn_ctx *ctx)
{
    const conv_state *st = l->state;
    if (st->wino) {
        if (l->in[0]->needs_grad)
            cn_layer_run(l, ctx, ctx->pool, filters_bwd);
        cn_split_backward(l, ctx, wino_backward_part, st->slice, st->W, st->b);
        return;
    }
    cn_split_backward(l, ctx, backward_part, st->slice, st->W, st->b);
}

static void conv_destroy(cn_layer *l)
{
    conv_state *st = l->state;
    if (st) {
        cn_wino_plan_free(&st->fwd);
        cn_wino_plan_free(&st->bwd);
    }
    free(l->state);
    l->state = NULL;
}

static int conv_activation(const cn_layer *l, float *param)
{
    const conv_state *st = l->state;
    *param = st->param;
    return (int)st->act;
}

static const char *conv_algo(const cn_layer *l)
{
    const conv_state *st = l->state;
    return st->wino ? "Winograd F(4x4,5x5)" : NULL;
}

static double conv_flops(const cn_layer *l)
{
    const conv_state *st = l->state;
    const cn_conv_geom *g = &st->g;
    return 2.0 * g->C * g->k * g->k * st->F * g->Ho * g->Wo;
}

const cn_layer_ops cn_layer_conv = {
    .type = "conv",
    .keys = keys,
    .doc = "2-D convolution Y = f(W * X + b) (PyTorch's Conv2d), im2col + one GEMM per "
           "group of samples, or Winograd F(4x4,5x5) for 5x5 stride-1 kernels",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = conv_setup,
    .forward = conv_forward,
    .backward = conv_backward,
    .destroy = conv_destroy,
    .flops = conv_flops,
    .activation = conv_activation,
    .algo = conv_algo,
};
