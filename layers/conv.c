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
 * The Winograd path lives in conv_wino.c.
 * Init (PyTorch's default): W, b ~ U(-1/sqrt(K), 1/sqrt(K)) with fan_in = K.
 * share=L uses the earlier [conv] L's W and b (and its size, stride, pad and
 * activation) on this layer's own input, of L's channels: one set of
 * filters for two inputs. It declares no parameter; both uses add into the
 * one gradient, which the update phase applies once.
 */
#include <stdio.h>
#include <stdlib.h>

#include <cblas.h>

#include "conv.h"
#include "jacobian.h"

static const cn_key keys[] = {
    {"filters", CN_KEY_INT, NULL, "[1, 65536]", "output channels F (may be left out with share)"},
    {"size", CN_KEY_INT, "3", "[1, 1024]", "kernel height and width k (>= 1)"},
    {"stride", CN_KEY_INT, "1", "[1, 1024]", "step between kernel positions (>= 1)"},
    {"pad", CN_KEY_INT, "0", "[0, 1024]", "zeros added on each side of the input (>= 0)"},
    {"activation", CN_KEY_ENUM, "linear", CN_ACT_CHOICES, "activation applied to W * x + b"},
    {"gain", CN_KEY_FLOAT, "1", "(-inf, inf)", "sigmoid gain g in 1/(1+exp(-g x))"},
    {"slope", CN_KEY_FLOAT, "0.01", "[0, inf)", "leaky slope for x < 0 (>= 0)"},
    {"bias", CN_KEY_BOOL, "1", NULL, "add a learned bias per filter"},
    {"share", CN_KEY_STRING, "", NULL,
     "earlier conv layer whose W, b, size, stride, pad and activation this layer uses as they "
     "are, on its own input of the same channels (gradients add up)"},
    {"algo", CN_KEY_ENUM, "auto", "auto|im2col|winograd",
     "im2col + GEMM, or Winograd F(4x4,5x5) (size 5, stride 1, pad <= 4); auto: Winograd "
     "where it applies and channels and filters are both >= 8"},
    CN_KEY_END};

enum { ALGO_AUTO, ALGO_IM2COL, ALGO_WINOGRAD };

static cn_status read_keys(cn_sec *s, conv_state *st, int *bias, int *algo, cn_error *err)
{
    cn_conv_geom *g = &st->g;
    if (cn_act_read(s, &st->act, &st->param, err) ||
        cn_sec_int(s, "filters", &st->F, err) ||
        cn_sec_int(s, "size", &g->k, err) ||
        cn_sec_int(s, "stride", &g->stride, err) ||
        cn_sec_int(s, "pad", &g->pad, err) || cn_sec_bool(s, "bias", bias, err) ||
        cn_sec_enum(s, "algo", algo, err))
        return err->code;
    return CN_OK;
}

/* share=<ref>: take the earlier [conv]'s W, b, geometry and activation; a
 * key given here must agree with what it takes. */
static cn_status read_share(cn_layer *l, cn_sec *s, cn_build *b, const char *ref,
                            conv_state *st, cn_error *err)
{
    cn_layer *own;
    char at[160], has[64] = "";
    if (cn_build_ref(b, l, s, "share", ref, &own, err))
        return err->code;
    if (own->ops != &cn_layer_conv)
        return cn_sec_bad(s, "share", CN_ERR_CFG, err, "layer '%s' is a [%s]; a [conv] layer "
                          "shares only another [conv] layer's parameters", own->name,
                          own->ops->type);
    const conv_state *o = own->state;
    cn_layer_where(own, at, sizeof at);
    if (l->in[0]->c != o->g.C) {
        char a[64];
        return cn_sec_bad(s, "share", CN_ERR_SHAPE, err, "layer '%s' (input %s) cannot use "
                          "the parameters of %s, whose input has %d channels: a shared "
                          "layer's input has its owner's channels", l->name,
                          cn_layer_shape_str(l->in[0], a, sizeof a), at, o->g.C);
    }
    static const char *const ints[] = {"filters", "size", "stride", "pad"};
    const int theirs[] = {o->F, o->g.k, o->g.stride, o->g.pad};
    const char *key = NULL;
    int v;
    for (int i = 0; i < 4 && !key; i++) {
        if (cn_sec_has(s, ints[i]) && cn_sec_int(s, ints[i], &v, err))
            return err->code;
        if (cn_sec_has(s, ints[i]) && v != theirs[i])
            key = ints[i], snprintf(has, sizeof has, "%d", theirs[i]);
    }
    if (cn_act_read(s, &st->act, &st->param, err) ||
        (cn_sec_has(s, "bias") && cn_sec_bool(s, "bias", &v, err)))
        return err->code;
    if (!key && cn_sec_has(s, "activation") && st->act != o->act)
        key = "activation", snprintf(has, sizeof has, "%s", cn_act_name((int)o->act));
    if (!key && (cn_sec_has(s, "gain") || cn_sec_has(s, "slope")) && st->param != o->param)
        key = cn_sec_has(s, "gain") ? "gain" : "slope",
        snprintf(has, sizeof has, "%g", (double)o->param);
    if (!key && cn_sec_has(s, "bias") && v != (o->b != NULL))
        key = "bias", snprintf(has, sizeof has, "%d", o->b != NULL);
    if (key)
        return cn_sec_bad(s, key, CN_ERR_CFG, err, "layer '%s' shares %s and takes its %s "
                          "from it (%s = %s); leave %s out or set it to %s", l->name, at, key,
                          key, has, key, has);
    st->act = o->act, st->param = o->param, st->F = o->F, st->g.k = o->g.k;
    st->g.stride = o->g.stride, st->g.pad = o->g.pad;
    st->W = o->W, st->b = o->b, st->shared = 1;
    l->uses = own->uses ? own->uses : own;
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
    const char *share;
    if (cn_sec_str(s, "share", &share, err))
        return err->code;
    if (share && share[0]) {
        if (read_share(l, s, b, share, st, err) || cn_sec_enum(s, "algo", &algo, err))
            return err->code;
        bias = st->b != NULL;
    } else if (read_keys(s, st, &bias, &algo, err)) {
        return err->code;
    }
    g->C = in->c, g->H = in->h, g->W = in->w;
    if (g->H + 2 * g->pad < g->k || g->W + 2 * g->pad < g->k) {
        char a[64], hint[400];
        return cn_sec_bad(s, "size", CN_ERR_SHAPE, err,
                          "layer '%s' (input %s) with size %d, pad %d has an output smaller "
                          "than 1x1: needs height and width + 2*pad >= size%s",
                          l->name, cn_layer_shape_str(in, a, sizeof a), g->k, g->pad,
                          cn_flat_hint(in, hint, sizeof hint));
    }
    g->Ho = (g->H + 2 * g->pad - g->k) / g->stride + 1;
    g->Wo = (g->W + 2 * g->pad - g->k) / g->stride + 1;
    l->c = st->F, l->h = g->Ho, l->w = g->Wo;

    double kk = (double)g->k * g->k, fan_in = g->C * kk, fan_out = st->F * kk;
    cn_init init = cn_build_init(b);
    if (!st->shared)
        st->W = cn_build_param(b, l, "W", st->F, g->C, g->k, g->k, init, fan_in, fan_out,
                               CN_PARAM_WEIGHT);
    if (!st->shared && st->W && bias)
        st->b = cn_build_param(b, l, "b", st->F, 1, 1, 1, init, fan_in, fan_out, CN_PARAM_BIAS);
    if (!st->W || (bias && !st->b))
        return cn_build_error(b, l, err);
    int K = g->C * g->k * g->k; /* fits: W, F times larger, was accepted */
    int fits = g->k == 5 && g->stride == 1 && g->pad <= g->k - 1;
    if (algo == ALGO_WINOGRAD && !fits)
        return cn_sec_bad(s, "algo", CN_ERR_CFG, err, "layer '%s': winograd needs size 5, "
                          "stride 1 and pad <= 4 (got size %d, stride %d, pad %d)", l->name,
                          g->k, g->stride, g->pad);
    st->wino = algo == ALGO_WINOGRAD || (algo == ALGO_AUTO && fits && g->C >= 8 && st->F >= 8);
    if (st->wino)
        return cn_conv_wino_setup(l, st, cn_build_batch(b), cn_build_threads(b), err);
    /* scratch per sample: its columns (K, P) and its product (F, P) */
    size_t P = (size_t)g->Ho * g->Wo, per_sample = ((size_t)K + st->F) * P;
    int parts = cn_build_threads(b);
    st->group = cn_conv_group((cn_build_batch(b) + parts - 1) / parts, per_sample);
    st->work = cn_im2col_work(g);
    st->slice = ((size_t)K + st->F) * cn_col_ld(st->group, P) + st->work;
    l->scratch = cn_split_scratch(parts, st->slice, st->W, st->b);
    return CN_OK;
}

float *cn_conv_slice_work(const cn_layer *l, int part)
{
    const conv_state *st = l->state;
    return cn_split_slice(l->scratch_buf, part, st->slice) + st->slice - st->work;
}

void cn_conv_backward_begin(const cn_layer_task *t, int part, int parts, float **dW, float **db,
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
    float *work = cn_conv_slice_work(l, part);
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

static void conv_forward(cn_layer *l, const cn_ctx *ctx)
{
    const conv_state *st = l->state;
    if (st->wino)
        cn_conv_wino_forward(l, ctx);
    else
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
    float *dW, *db, *work = cn_conv_slice_work(l, part);
    int lo, hi;
    cn_conv_backward_begin(t, part, parts, &dW, &db, &lo, &hi);
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

static void conv_backward(cn_layer *l, const cn_ctx *ctx)
{
    const conv_state *st = l->state;
    if (st->wino)
        cn_conv_wino_backward(l, ctx);
    else
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
           "group of samples, or Winograd F(4x4,5x5) for 5x5 stride-1 kernels; share= uses an "
           "earlier conv's filters as they are on a second input",
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
