/* conv_wino.c - [conv]'s Winograd F(4x4, 5x5) path (conv.c chooses it):
 * per group of samples, the input tiles' transforms V, 64 products
 * (F, C) x (C, tiles) with the filters' transforms U, and the output
 * transform; backward turns the filters for the input gradient and
 * accumulates the filter gradient dU per thread, turned into dW once.
 */
#include <cblas.h>

#include "conv.h"

/* Winograd's plans and its per-thread slice for groups of st->group samples:
 * V or V' (64, C or F, tiles), then M, D or M' (64, F or C, tiles), then dU
 * (64, F, C) and the transforms' work area. */
cn_status cn_conv_wino_setup(cn_layer *l, conv_state *st, int batch, int parts, cn_error *err)
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
                    (size_t)hi, cn_conv_slice_work(l, part));
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
    float *work = cn_conv_slice_work(l, part);
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
    float *dU = D + st->regB, *work = cn_conv_slice_work(l, part), *dW, *db;
    int lo, hi;
    cn_conv_backward_begin(t, part, parts, &dW, &db, &lo, &hi);
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

void cn_conv_wino_forward(cn_layer *l, const cn_ctx *ctx)
{
    cn_layer_run(l, ctx, ctx->pool, filters_fwd);
    cn_layer_run(l, ctx, ctx->pool, wino_forward_part);
}

void cn_conv_wino_backward(cn_layer *l, const cn_ctx *ctx)
{
    const conv_state *st = l->state;
    if (l->in[0]->needs_grad)
        cn_layer_run(l, ctx, ctx->pool, filters_bwd);
    cn_split_backward(l, ctx, wino_backward_part, st->slice, st->W, st->b);
}
