/* pool.c - the pooling layers [maxpool] and [avgpool], each channel on its
 * own (PyTorch's MaxPool2d and AvgPool2d).
 *
 * Legend: input X (n, C, H, W), k x k windows moved by stride s over X
 * padded with p on each side, output (n, C, Ho, Wo) with
 * Ho = floor((H + 2p - k) / s) + 1 (likewise Wo).
 *   maxpool  forward   y = the largest in-image value of the window
 *                      (padding never wins), its position kept in argmax
 *            backward  dx[argmax] += dy
 *   avgpool  forward   y = (1/k^2) * sum of the window, padding counted as
 *                      zeros (PyTorch's count_include_pad)
 *            backward  dx += dy / k^2 at every in-image position of the window
 * pad < size keeps at least one input value in every window.
 *
 * The two types share setup and window geometry; the ops table a layer was
 * made from picks the function (as in activation.c).
 */
#include <stdlib.h>

#include "internal.h"

extern const cn_layer_ops cn_layer_maxpool, cn_layer_avgpool;

static const cn_key keys[] = {
    {"size", CN_KEY_INT, "2", "[1, 1024]", "window height and width k (>= 1)"},
    {"stride", CN_KEY_INT, "0", "[0, 1024]", "step between windows (>= 1; 0 = size)"},
    {"pad", CN_KEY_INT, "0", "[0, 1023]", "padding on each side (0 <= pad < size)"},
    CN_KEY_END};

typedef struct pool_state {
    int k, stride, pad;
    int *argmax; /* maxpool: (batch, C, Ho, Wo) offset iy*W + ix of the max in its channel */
} pool_state;

static cn_status pool_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    pool_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    const cn_layer *in = l->in[0];
    if (cn_sec_int(s, "size", &st->k, err) ||
        cn_sec_int(s, "stride", &st->stride, err) ||
        cn_sec_int(s, "pad", &st->pad, err))
        return err->code;
    if (st->stride == 0)
        st->stride = st->k;
    if (st->pad >= st->k)
        return cn_sec_bad(s, "pad", CN_ERR_CFG, err,
                          "expects pad < size (%d), so every window holds an input value",
                          st->k);
    if (in->h + 2 * st->pad < st->k || in->w + 2 * st->pad < st->k) {
        char a[64], hint[400];
        return cn_sec_bad(s, "size", CN_ERR_SHAPE, err,
                          "layer '%s' (input %s) with size %d, pad %d has an output smaller "
                          "than 1x1: needs height and width + 2*pad >= size%s",
                          l->name, cn_layer_shape_str(in, a, sizeof a), st->k, st->pad,
                          cn_flat_hint(in, hint, sizeof hint));
    }
    l->c = in->c;
    l->h = (in->h + 2 * st->pad - st->k) / st->stride + 1;
    l->w = (in->w + 2 * st->pad - st->k) / st->stride + 1;
    if (l->ops == &cn_layer_maxpool) {
        size_t count = (size_t)cn_build_batch(b) * l->c * l->h * l->w;
        st->argmax = cn_build_alloc(b, l, count * sizeof *st->argmax);
        if (!st->argmax)
            return cn_build_error(b, l, err);
    }
    return CN_OK;
}

/* Window geometry in locals, so the loops below need no reloads. */
typedef struct geom {
    int k, stride, pad, H, W, Ho, Wo;
} geom;

static geom geom_of(const cn_layer *l)
{
    const pool_state *st = l->state;
    const cn_layer *in = l->in[0];
    return (geom){st->k, st->stride, st->pad, in->h, in->w, l->h, l->w};
}

/* The in-image span [*a, *b) of window o along a side of `size` pixels. */
static void span(const geom *g, int o, int size, int *a, int *b)
{
    int t = o * g->stride - g->pad;
    *a = CN_MAX(t, 0), *b = CN_MIN(t + g->k, size);
}

/* One channel: y (Ho, Wo) = max of x (H, W) per window, arg its offset. */
static void max_plane(const geom *g, const float *x, float *y, int *arg)
{
    for (int oy = 0; oy < g->Ho; oy++) {
        int y0, y1;
        span(g, oy, g->H, &y0, &y1);
        for (int ox = 0; ox < g->Wo; ox++) {
            int x0, x1;
            span(g, ox, g->W, &x0, &x1);
            int best = y0 * g->W + x0; /* the window is never empty (pad < size) */
            float m = x[best];
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++)
                    if (x[iy * g->W + ix] > m)
                        m = x[iy * g->W + ix], best = iy * g->W + ix;
            y[oy * g->Wo + ox] = m;
            arg[oy * g->Wo + ox] = best;
        }
    }
}

/* max_plane for 2x2 windows at stride 2 without padding (the usual
 * pooling), with the same first-of-equals rule, in straight-line code. */
static void max_plane_2x2(const geom *g, const float *x, float *y, int *arg)
{
    const int W = g->W;
    for (int oy = 0; oy < g->Ho; oy++) {
        const int row = 2 * oy * W;
        const float *r0 = x + row, *r1 = r0 + W;
        float *yr = y + oy * g->Wo;
        int *ar = arg + oy * g->Wo;
        for (int ox = 0; ox < g->Wo; ox++) {
            float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
            int best = row + 2 * ox;
            float m = a;
            best = b > m ? row + 2 * ox + 1 : best, m = b > m ? b : m;
            best = c > m ? row + W + 2 * ox : best, m = c > m ? c : m;
            best = d > m ? row + W + 2 * ox + 1 : best, m = d > m ? d : m;
            yr[ox] = m;
            ar[ox] = best;
        }
    }
}

/* One channel: y (Ho, Wo) = window sums of x (H, W) / k^2; with `back`,
 * the adjoint dx (H, W) += dy / k^2 over each window instead. */
static void avg_plane(const geom *g, float *x, float *y, int back)
{
    const float inv = 1.0f / (float)(g->k * g->k);
    for (int oy = 0; oy < g->Ho; oy++) {
        int y0, y1;
        span(g, oy, g->H, &y0, &y1);
        for (int ox = 0; ox < g->Wo; ox++) {
            int x0, x1;
            span(g, ox, g->W, &x0, &x1);
            float acc = 0.0f, d = back ? y[oy * g->Wo + ox] * inv : 0.0f;
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++) {
                    if (back)
                        x[iy * g->W + ix] += d;
                    else
                        acc += x[iy * g->W + ix];
                }
            if (!back)
                y[oy * g->Wo + ox] = acc * inv;
        }
    }
}

/* Each thread takes the channel planes of its share of the samples. */
static void forward_part(void *arg, int part, int parts)
{
    const cn_layer_task *t = arg;
    cn_layer *l = t->l;
    pool_state *st = l->state;
    const geom g = geom_of(l);
    const size_t in_plane = (size_t)g.H * g.W, out_plane = (size_t)g.Ho * g.Wo;
    int lo, hi;
    cn_pool_range(t->n, part, parts, &lo, &hi);
    for (size_t pl = (size_t)lo * l->c; pl < (size_t)hi * l->c; pl++) {
        float *x = l->in[0]->out.data + pl * in_plane; /* (H, W) of one channel */
        float *y = l->out.data + pl * out_plane;       /* (Ho, Wo) */
        if (st->argmax && g.k == 2 && g.stride == 2 && g.pad == 0)
            max_plane_2x2(&g, x, y, st->argmax + pl * out_plane);
        else if (st->argmax)
            max_plane(&g, x, y, st->argmax + pl * out_plane);
        else
            avg_plane(&g, x, y, 0);
    }
}

static void pool_forward(cn_layer *l, const cn_ctx *ctx)
{
    cn_layer_run(l, ctx, ctx->pool, forward_part);
}

static void backward_part(void *targ, int part, int parts)
{
    const cn_layer_task *t = targ;
    cn_layer *l = t->l;
    const pool_state *st = l->state;
    cn_layer *in = l->in[0];
    const geom g = geom_of(l);
    const size_t in_plane = (size_t)g.H * g.W, out_plane = (size_t)g.Ho * g.Wo;
    int lo, hi;
    cn_pool_range(t->n, part, parts, &lo, &hi);
    for (size_t pl = (size_t)lo * l->c; pl < (size_t)hi * l->c; pl++) {
        float *dx = in->dout.data + pl * in_plane; /* (H, W) */
        float *dy = l->dout.data + pl * out_plane; /* (Ho, Wo) */
        if (!st->argmax) {
            avg_plane(&g, dx, dy, 1);
            continue;
        }
        const int *arg = st->argmax + pl * out_plane;
        for (size_t q = 0; q < out_plane; q++)
            dx[arg[q]] += dy[q];
    }
}

static void pool_backward(cn_layer *l, const cn_ctx *ctx)
{
    if (!l->in[0]->needs_grad)
        return;
    cn_layer_run(l, ctx, ctx->pool, backward_part);
}

static void pool_destroy(cn_layer *l)
{
    pool_state *st = l->state;
    if (st)
        free(st->argmax);
    free(st);
    l->state = NULL;
}

static double pool_flops(const cn_layer *l)
{
    const pool_state *st = l->state;
    return (double)l->c * l->h * l->w * st->k * st->k;
}

#define POOL_OPS(name, text)                                                                   \
    const cn_layer_ops cn_layer_##name = {                                                     \
        .type = #name,                                                                         \
        .keys = keys,                                                                          \
        .doc = text,                                                                           \
        .n_inputs_min = 1,                                                                     \
        .n_inputs_max = 1,                                                                     \
        .setup = pool_setup,                                                                   \
        .forward = pool_forward,                                                               \
        .backward = pool_backward,                                                             \
        .destroy = pool_destroy,                                                               \
        .flops = pool_flops,                                                                   \
    };

POOL_OPS(maxpool, "the largest value of each k x k window, per channel")
POOL_OPS(avgpool, "the mean of each k x k window (padding counts as 0), per channel")
