/* deconv.c - the transposed convolution (PyTorch's ConvTranspose2d), which
 * grows a small code map back to an image, optionally tied to an earlier
 * [conv] layer's filters (the tied convolutional decoder).
 *
 * Legend: n samples, input X (n, C, H, W), output Y (n, F, Ho, Wo) with
 *   Ho = (H - 1) s - 2p + k + output_padding   (likewise Wo),
 * stride s, padding p, k x k kernels, W (C, F, k, k) as a matrix (C, F*k*k),
 * P = H*W. The layer is the adjoint of a conv from F x Ho x Wo to C x H x W
 * with the same k, s, p; col() is that conv's im2col (F*k*k, P).
 *   forward   Y_i = f(col2im(W^T X_i) + b)             (X_i as (C, P))
 *   backward  dZ = dY * f'(Y);  dW += sum_i X_i col(dZ_i)^T;
 *             db += sums of dZ;  dX_i += W col(dZ_i)
 * output_padding < s picks one of the s output sizes that the conv maps back
 * to H; the extra rows and columns are at the bottom and right.
 *   tied to enc (tie=enc): enc is a conv C_in -> C_out with W (C_out, C_in,
 *   k, k) - already the (C, F, k, k) layout of a deconv C_out -> C_in - so the
 *   decoder runs the adjoint of enc's filters on the shared parameter, whose
 *   gradient accumulates both uses; the decoder keeps its own bias.
 * Samples are grouped and split over the threads as in conv.c: one GEMM per
 * group, scratch shared, private dW and db per thread.
 * Init: U(-1/sqrt(F*k*k), 1/sqrt(F*k*k)) (PyTorch's fan_in for this layer).
 */
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "conv.h"

static const cn_key keys[] = {
    {"filters", CN_KEY_INT, NULL, "[1, 65536]", "output channels F (may be left out with tie)"},
    {"size", CN_KEY_INT, "3", "[1, 1024]", "kernel height and width k (with tie: the conv's)"},
    {"stride", CN_KEY_INT, "1", "[1, 1024]", "output step per input pixel (>= 1)"},
    {"pad", CN_KEY_INT, "0", "[0, 1024]", "rows and columns cropped from each side of the output (>= 0)"},
    {"output_padding", CN_KEY_INT, "0", "[0, 1023]",
     "rows and columns added at the bottom and right of the output (< stride)"},
    {"activation", CN_KEY_ENUM, "linear", CN_ACT_CHOICES, "activation applied to W^T * x + b"},
    {"gain", CN_KEY_FLOAT, "1", "(-inf, inf)", "sigmoid gain g in 1/(1+exp(-g x))"},
    {"slope", CN_KEY_FLOAT, "0.01", "[0, inf)", "leaky slope for x < 0 (>= 0)"},
    {"bias", CN_KEY_BOOL, "1", NULL, "add a learned bias per output channel"},
    {"tie", CN_KEY_STRING, "", NULL, "earlier conv layer whose filters are used transposed"},
    CN_KEY_END};

typedef struct deconv_state {
    cn_act act;
    float param;    /* sigmoid gain or leaky slope */
    cn_conv_geom g; /* the adjoint conv: F x Ho x Wo image, H x W positions */
    int C;          /* input channels */
    int group;      /* samples per lowered product */
    size_t slice;   /* scratch floats of one thread: (C + F*k*k) rows of cn_col_ld + work */
    size_t work;    /* floats of cn_im2col's work area, at the slice's end */
    cn_param *W;    /* (C, F, k, k): own, or the tied conv's */
    cn_param *b;    /* (F) or NULL */
} deconv_state;

/* tie=<ref>: an earlier [conv] whose W (C_out, C_in, k, k) reads our input
 * channels as its C_out; filters and size follow from it. */
static cn_status resolve_tie(cn_layer *l, cn_sec *s, cn_build *b, const char *ref,
                             deconv_state *st, cn_error *err)
{
    cn_layer *enc;
    if (cn_build_ref(b, l, s, "tie", ref, &enc, err))
        return err->code;
    if (enc->ops != &cn_layer_conv)
        return cn_sec_bad(s, "tie", CN_ERR_CFG, err,
                          "layer '%s' is a [%s]; only a [conv] layer's W can be tied",
                          enc->name, enc->ops->type);
    cn_param *W = ((const conv_state *)enc->state)->W; /* its own, or the one it shares */
    const int *d = W->shape;
    if (d[0] != st->C) {
        char a[64];
        return cn_sec_bad(s, "tie", CN_ERR_SHAPE, err,
                          "layer '%s' (input %s) cannot use the transpose of '%s' W "
                          "(%d x %d x %d x %d): needs %d input channels",
                          l->name, cn_layer_shape_str(l->in[0], a, sizeof a), enc->name, d[0],
                          d[1], d[2], d[3], d[0]);
    }
    st->W = W;
    l->uses = enc->uses ? enc->uses : enc;
    st->g.C = d[1];
    st->g.k = d[2];
    static const char *const what[] = {"filters", "size"};
    const int want[] = {d[1], d[2]};
    for (int i = 0; i < 2; i++) {
        int v;
        if (!cn_sec_has(s, what[i]))
            continue;
        if (cn_sec_int(s, what[i], &v, err))
            return err->code;
        if (v != want[i])
            return cn_sec_bad(s, what[i], CN_ERR_CFG, err,
                              "layer '%s' is tied to '%s', whose W gives %s %d; leave %s out "
                              "or set it to %d",
                              l->name, enc->name, what[i], want[i], what[i], want[i]);
    }
    return CN_OK;
}

static cn_status read_keys(cn_layer *l, cn_sec *s, cn_build *b, deconv_state *st, int *bias,
                           cn_error *err)
{
    cn_conv_geom *g = &st->g;
    const char *tie;
    int op;
    if (cn_act_read(s, &st->act, &st->param, err) ||
        cn_sec_int(s, "stride", &g->stride, err) ||
        cn_sec_int(s, "pad", &g->pad, err) ||
        cn_sec_int(s, "output_padding", &op, err) || cn_sec_bool(s, "bias", bias, err) ||
        cn_sec_str(s, "tie", &tie, err))
        return err->code;
    if (op >= g->stride)
        return cn_sec_bad(s, "output_padding", CN_ERR_CFG, err,
                          "expects output_padding < stride (%d)", g->stride);
    if (tie && tie[0]) {
        if (resolve_tie(l, s, b, tie, st, err))
            return err->code;
    } else if (cn_sec_int(s, "filters", &g->C, err) ||
               cn_sec_int(s, "size", &g->k, err)) {
        return err->code;
    }
    g->Ho = l->in[0]->h, g->Wo = l->in[0]->w;
    g->H = (g->Ho - 1) * g->stride - 2 * g->pad + g->k + op;
    g->W = (g->Wo - 1) * g->stride - 2 * g->pad + g->k + op;
    if (g->H < 1 || g->W < 1) {
        char a[64], hint[400];
        return cn_sec_bad(s, "pad", CN_ERR_SHAPE, err,
                          "layer '%s' (input %s) with size %d, stride %d, pad %d, "
                          "output_padding %d has an output of %dx%d: needs (H - 1)*stride - "
                          "2*pad + size + output_padding >= 1%s",
                          l->name, cn_layer_shape_str(l->in[0], a, sizeof a), g->k, g->stride,
                          g->pad, op, g->H, g->W, cn_flat_hint(l->in[0], hint, sizeof hint));
    }
    return CN_OK;
}

static cn_status deconv_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    deconv_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    st->C = l->in[0]->c;
    int bias;
    if (read_keys(l, s, b, st, &bias, err))
        return err->code;
    const cn_conv_geom *g = &st->g;
    l->c = g->C, l->h = g->H, l->w = g->W;
    double kk = (double)g->k * g->k, fan_in = g->C * kk, fan_out = st->C * kk;
    cn_init init = cn_build_init(b);
    if (!st->W)
        st->W = cn_build_param(b, l, "W", st->C, g->C, g->k, g->k, init, fan_in, fan_out,
                               CN_PARAM_WEIGHT);
    if (st->W && bias)
        st->b = cn_build_param(b, l, "b", g->C, 1, 1, 1, init, fan_in, fan_out, CN_PARAM_BIAS);
    if (!st->W || (bias && !st->b))
        return cn_build_error(b, l, err);
    int FKK = g->C * g->k * g->k; /* fits: W, C times larger, was accepted */
    /* scratch per sample: the input channel-major (C, P) and its columns (F*k*k, P) */
    size_t P = (size_t)g->Ho * g->Wo, per_sample = ((size_t)st->C + FKK) * P;
    int parts = cn_build_threads(b);
    st->group = cn_conv_group((cn_build_batch(b) + parts - 1) / parts, per_sample);
    st->work = cn_im2col_work(g);
    st->slice = ((size_t)st->C + FKK) * cn_col_ld(st->group, P) + st->work;
    l->scratch = cn_split_scratch(parts, st->slice, st->W, st->b);
    return CN_OK;
}

/* The samples [lo, hi) of one thread, in groups, into its own scratch. */
static void forward_part(void *arg, int part, int parts)
{
    const cn_layer_task *t = arg;
    cn_layer *l = t->l;
    const deconv_state *st = l->state;
    const cn_conv_geom *g = &st->g;
    const int C = st->C, FKK = g->C * g->k * g->k;
    const size_t P = (size_t)g->Ho * g->Wo, out_size = cn_tensor_sample(&l->out);
    const float *X = l->in[0]->out.data; /* (n, C, H, W) */
    float *Y = l->out.data;              /* (n, F, Ho, Wo) */
    float *work = cn_split_slice(l->scratch_buf, part, st->slice) + st->slice - st->work;
    int lo, hi;
    cn_pool_range(t->n, part, parts, &lo, &hi);
    memset(Y + lo * out_size, 0, (size_t)(hi - lo) * out_size * sizeof *Y);
    for (int i0 = lo; i0 < hi; i0 += st->group) {
        int m = CN_MIN(st->group, hi - i0), N = m * (int)P;
        size_t ld = cn_col_ld(m, P);
        float *rows = cn_split_slice(l->scratch_buf, part, st->slice); /* (C, m*P) */
        float *col = rows + (size_t)C * ld;                            /* (F*k*k, m*P) */
        cn_pack_channels(X + i0 * (size_t)C * P, m, C, P, rows, ld);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, FKK, N, C, 1.0f, st->W->value, FKK,
                    rows, (int)ld, 0.0f, col, (int)ld);
        for (int i = 0; i < m; i++)
            cn_col2im_add(g, col + i * P, ld, Y + (i0 + i) * out_size, work);
    }
    cn_bias_act(Y + lo * out_size, hi - lo, g->C, (size_t)g->H * g->W,
                st->b ? st->b->value : NULL, st->act, st->param);
}

static void deconv_forward(cn_layer *l, const cn_ctx *ctx)
{
    cn_layer_run(l, ctx, ctx->pool, forward_part);
}

static void backward_part(void *arg, int part, int parts)
{
    const cn_layer_task *t = arg;
    cn_layer *l = t->l;
    const deconv_state *st = l->state;
    const cn_conv_geom *g = &st->g;
    const int C = st->C, FKK = g->C * g->k * g->k;
    const size_t P = (size_t)g->Ho * g->Wo, out_size = cn_tensor_sample(&l->out);
    cn_layer *src = l->in[0];
    float *dZ = l->dout.data; /* (n, F, Ho, Wo): our dout, turned into dZ in place */
    float *dW, *db;
    cn_split_targets(l->scratch_buf, part, parts, st->slice, st->W, st->b, &dW, &db);
    float *work = cn_split_slice(l->scratch_buf, part, st->slice) + st->slice - st->work;
    int lo, hi;
    cn_pool_range(t->n, part, parts, &lo, &hi);
    cn_act_backward(st->act, st->param, l->out.data + lo * out_size, dZ + lo * out_size,
                    (hi - lo) * out_size);
    if (db)
        cn_bias_grad(dZ + lo * out_size, hi - lo, g->C, (size_t)g->H * g->W, db);
    for (int i0 = lo; i0 < hi; i0 += st->group) {
        int m = CN_MIN(st->group, hi - i0), N = m * (int)P;
        size_t ld = cn_col_ld(m, P);
        float *rows = cn_split_slice(l->scratch_buf, part, st->slice); /* (C, m*P) */
        float *col = rows + (size_t)C * ld;                            /* (F*k*k, m*P) */
        for (int i = 0; i < m; i++)
            cn_im2col(g, dZ + (i0 + i) * out_size, col + i * P, ld, work);
        cn_pack_channels(src->out.data + i0 * (size_t)C * P, m, C, P, rows, ld);
        /* dW (C, F*k*k) += X (C, m*P) col^T (m*P, F*k*k) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, C, FKK, N, 1.0f, rows, (int)ld, col,
                    (int)ld, 1.0f, dW, FKK);
        if (!src->needs_grad)
            continue;
        /* dX (C, m*P) = W col, written over the packed input, then back to NCHW */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C, N, FKK, 1.0f, st->W->value,
                    FKK, col, (int)ld, 0.0f, rows, (int)ld);
        cn_unpack_channels_add(rows, ld, m, C, P, src->dout.data + i0 * (size_t)C * P);
    }
}

static void deconv_backward(cn_layer *l, const cn_ctx *ctx)
{
    const deconv_state *st = l->state;
    cn_split_backward(l, ctx, backward_part, st->slice, st->W, st->b);
}

static void deconv_destroy(cn_layer *l)
{
    free(l->state);
    l->state = NULL;
}

static int deconv_activation(const cn_layer *l, float *param)
{
    const deconv_state *st = l->state;
    *param = st->param;
    return (int)st->act;
}

static double deconv_flops(const cn_layer *l)
{
    const deconv_state *st = l->state;
    const cn_conv_geom *g = &st->g;
    return 2.0 * st->C * g->C * g->k * g->k * g->Ho * g->Wo;
}

const cn_layer_ops cn_layer_deconv = {
    .type = "deconv",
    .keys = keys,
    .doc = "transposed convolution (PyTorch's ConvTranspose2d), output (H - 1)*stride - 2*pad + "
           "size + output_padding; tie= uses an earlier conv's filters (tied decoder)",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = deconv_setup,
    .forward = deconv_forward,
    .backward = deconv_backward,
    .destroy = deconv_destroy,
    .flops = deconv_flops,
    .activation = deconv_activation,
};
