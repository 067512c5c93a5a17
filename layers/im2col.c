/* im2col.c - lowering a convolution to a matrix product (Chellapilla et al.
 * 2006; Caffe's im2col), and the small passes around that product shared by
 * [conv] and [deconv].
 *
 * Legend: an image x (C, H, W), a k x k window moved by `stride` over x
 * padded with `pad` zeros, Ho x Wo window positions, P = Ho*Wo.
 *   im2col   col (C*k*k, P): col[(c,i,j)][(oy,ox)] = x[c][oy*s-pad+i][ox*s-pad+j]
 *   col2im   x += col placed back at the same pixels (the adjoint of im2col)
 * so a convolution with W (F, C*k*k) is Y (F, P) = W col, and its gradient
 * with respect to x is col2im(W^T dY).
 *
 * The column matrix is written with a row stride `ld`: the columns of m
 * samples sit side by side as (C*k*k, m*P), which turns m small products
 * into one wide one.
 */
#include <stdint.h>
#include <string.h>

#include "im2col.h"

/* Rows of a tap block are short (Wo = 7 or 14 in conv_ae), so a memcpy call
 * or a scalar loop per row costs more than the copy itself. Rows are moved
 * in 8-float vectors instead (fixed-size memcpy, a vector load or store),
 * the last one reaching up to 7 floats past the row: the column matrix has
 * CN_COL_SLACK floats after each row (cn_col_ld) and the phase images 8
 * floats after their end (phase_floats). Vectors stay local (no vector
 * argument or return value, whose ABI depends on the -march of the build). */
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

/* d[0, w) = s[0, w), full < w <= full + 8, and d[w, full + 8) = s[w, full + 8):
 * the extra lanes land where the next row or image goes, and are written
 * over with the right values when it is (a blend would read them back right
 * after the previous row's store, which stalls the load). */
static inline void copy_row(float *d, const float *s, int full)
{
    for (int x = 0; x <= full; x += 8)
        memcpy(d + x, s + x, sizeof(v8f));
}

/* d[0, w) += s[0, w), the lanes past w adding +0; tail[i] = -1 for the lanes
 * of the last vector inside the row, else 0. */
static inline void add_row(float *d, const float *s, int full, const int32_t *tail)
{
    v8f a, b;
    v8i m;
    int x = 0;
    for (; x < full; x += 8) {
        memcpy(&a, d + x, sizeof a);
        memcpy(&b, s + x, sizeof b);
        a += b;
        memcpy(d + x, &a, sizeof a);
    }
    memcpy(&a, d + x, sizeof a);
    memcpy(&b, s + x, sizeof b);
    memcpy(&m, tail, sizeof m);
    a += (v8f)((v8i)b & m);
    memcpy(d + x, &a, sizeof a);
}

/* Scratch budget of one lowered product per thread, in floats (1 MiB, a
 * core's L2: the columns stay in cache between im2col and the GEMM; 4 MiB
 * made conv_ae 12 % slower, and lenet gains nothing from wider products). */
#define GROUP_FLOATS ((size_t)1 << 18)

/* The phase images of a padded image (why: every column row becomes a run
 * of contiguous copies, whatever the stride). For stride s the padded image
 * xp (C, H + 2 pad, W + 2 pad) is cut into s*s phases
 *   ph[c][a][b][u][v] = xp[c][u*s + a][v*s + b],  u < Hq, v < Wq,
 * Hq = ceil((H + 2 pad) / s) (likewise Wq), so the tap (i, j) at window
 * position (oy, ox) reads ph[c][i%s][j%s][oy + i/s][ox + j/s]: for a fixed
 * tap and row oy, Wo neighbours in one phase row. */
static void phase_dims(const cn_conv_geom *g, int *Hq, int *Wq)
{
    *Hq = (g->H + 2 * g->pad + g->stride - 1) / g->stride;
    *Wq = (g->W + 2 * g->pad + g->stride - 1) / g->stride;
}

size_t cn_col_ld(int m, size_t P)
{
    return (size_t)m * P + CN_COL_SLACK;
}

/* Floats of one channel's s*s phase images. */
static size_t phase_chan(const cn_conv_geom *g, int Hq, int Wq)
{
    return (size_t)g->stride * g->stride * Hq * Wq;
}

/* Floats of all phase images and the 8 after them that a row's last vector
 * may read; the work area holds them, then a padded row of s*Wq floats. */
static size_t phase_floats(const cn_conv_geom *g, int Hq, int Wq)
{
    return g->C * phase_chan(g, Hq, Wq) + 8;
}

/* Phase rows r_b[v] = row[v*s + b], b < s, v < Wq, the rows r_b Hq*Wq floats
 * apart; for s = 2 in vectors of 8 (the even and odd lanes of 16 floats). */
static inline __attribute__((always_inline)) void split_row(const float *row, float *r, int s,
                                                            int Wq, size_t apart)
{
    int v = 0;
    if (s == 2)
        for (; v + 8 <= Wq; v += 8) {
            v8f lo, hi;
            memcpy(&lo, row + 2 * v, sizeof lo);
            memcpy(&hi, row + 2 * v + 8, sizeof hi);
            v8f even = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14);
            v8f odd = __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15);
            memcpy(r + v, &even, sizeof even);
            memcpy(r + apart + v, &odd, sizeof odd);
        }
    for (; v < Wq; v++)
        for (int b = 0; b < s; b++)
            r[b * apart + v] = row[v * s + b];
}

/* The inverse of split_row: row[v*s + b] = r_b[v]. */
static inline __attribute__((always_inline)) void merge_row(const float *r, float *row, int s,
                                                            int Wq, size_t apart)
{
    int v = 0;
    if (s == 2)
        for (; v + 8 <= Wq; v += 8) {
            v8f even, odd;
            memcpy(&even, r + v, sizeof even);
            memcpy(&odd, r + apart + v, sizeof odd);
            v8f lo = __builtin_shufflevector(even, odd, 0, 8, 1, 9, 2, 10, 3, 11);
            v8f hi = __builtin_shufflevector(even, odd, 4, 12, 5, 13, 6, 14, 7, 15);
            memcpy(row + 2 * v, &lo, sizeof lo);
            memcpy(row + 2 * v + 8, &hi, sizeof hi);
        }
    for (; v < Wq; v++)
        for (int b = 0; b < s; b++)
            row[v * s + b] = r[b * apart + v];
}

/* ph = the phases of x (add = 0), or x += the in-image part of ph (add = 1),
 * for stride s (inlined with s a constant for the common strides). Each
 * image row goes through a zero-padded copy (the work area's row buffer),
 * so that cutting it into phases has no edges to test. */
static inline __attribute__((always_inline)) void phases_s(const cn_conv_geom *g, float *x,
                                                           float *ph, int add, const int s)
{
    int Hq, Wq;
    phase_dims(g, &Hq, &Wq);
    const int W = g->W, pad = g->pad, Wp = s * Wq; /* Wp >= W + 2 pad */
    const size_t apart = (size_t)Hq * Wq;          /* phase images of one row a */
    const size_t chan = phase_chan(g, Hq, Wq);
    float *buf = ph + phase_floats(g, Hq, Wq);
    for (int c = 0; c < g->C; c++)
        for (int a = 0; a < s; a++)
            for (int u = 0; u < Hq; u++) {
                float *r = ph + c * chan + ((size_t)a * s * Hq + u) * Wq; /* b = 0 */
                int iy = u * s + a - pad;
                if (iy < 0 || iy >= g->H) {
                    if (!add)
                        for (int b = 0; b < s; b++)
                            memset(r + b * apart, 0, (size_t)Wq * sizeof *r);
                    continue;
                }
                float *xr = x + ((size_t)c * g->H + iy) * W; /* (W) */
                float *row = s == 1 ? r : buf;               /* the padded row (Wp) */
                if (add) {
                    if (s != 1)
                        merge_row(r, buf, s, Wq, apart);
                    for (int t = 0; t < W; t++)
                        xr[t] += row[pad + t];
                    continue;
                }
                memset(row, 0, (size_t)pad * sizeof *row);
                memcpy(row + pad, xr, (size_t)W * sizeof *row);
                memset(row + pad + W, 0, (size_t)(Wp - pad - W) * sizeof *row);
                if (s != 1)
                    split_row(buf, r, s, Wq, apart);
            }
}

size_t cn_im2col_work(const cn_conv_geom *g)
{
    int Hq, Wq;
    phase_dims(g, &Hq, &Wq);
    return phase_floats(g, Hq, Wq) + (size_t)g->stride * Wq;
}

static void phases(const cn_conv_geom *g, float *x, float *ph, int add)
{
    if (g->stride == 1)
        phases_s(g, x, ph, add, 1);
    else if (g->stride == 2)
        phases_s(g, x, ph, add, 2);
    else
        phases_s(g, x, ph, add, g->stride);
}

/* The (Hq, Wq) phase row block that tap (i, j) of channel 0 reads from; the
 * channels' phases are s*s*Hq*Wq floats apart. */
static size_t tap_offset(const cn_conv_geom *g, int i, int j, int Hq, int Wq)
{
    const int s = g->stride;
    return (((size_t)(i % s) * s + j % s) * Hq + i / s) * Wq + j / s;
}

void cn_im2col(const cn_conv_geom *g, const float *x, float *col, size_t ld, float *work)
{
    const int k = g->k, Ho = g->Ho, Wo = g->Wo;
    int Hq, Wq;
    phase_dims(g, &Hq, &Wq);
    const int full = (Wo - 1) / 8 * 8;
    const size_t chan = phase_chan(g, Hq, Wq);
    phases(g, (float *)x, work, 0);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
            for (int c = 0; c < g->C; c++) {
                float *row = col + ((size_t)(c * k + i) * k + j) * ld; /* (P) */
                const float *q = work + c * chan + tap_offset(g, i, j, Hq, Wq);
                for (int oy = 0; oy < Ho; oy++)
                    copy_row(row + (size_t)oy * Wo, q + (size_t)oy * Wq, full);
            }
}

void cn_col2im_add(const cn_conv_geom *g, const float *col, size_t ld, float *x, float *work)
{
    const int k = g->k, Ho = g->Ho, Wo = g->Wo;
    int Hq, Wq;
    phase_dims(g, &Hq, &Wq);
    const int full = (Wo - 1) / 8 * 8;
    int32_t tail[8];
    for (int i = 0; i < 8; i++)
        tail[i] = i < Wo - full ? -1 : 0;
    const size_t chan = phase_chan(g, Hq, Wq);
    memset(work, 0, phase_floats(g, Hq, Wq) * sizeof *work);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
            for (int c = 0; c < g->C; c++) {
                const float *row = col + ((size_t)(c * k + i) * k + j) * ld; /* (P) */
                float *q = work + c * chan + tap_offset(g, i, j, Hq, Wq);
                /* even rows, then odd: the vector past one row's end may
                 * overlap the next row, and reading that back right after
                 * its store would stall */
                for (int oy = 0; oy < Ho; oy += 2)
                    add_row(q + (size_t)oy * Wq, row + (size_t)oy * Wo, full, tail);
                for (int oy = 1; oy < Ho; oy += 2)
                    add_row(q + (size_t)oy * Wq, row + (size_t)oy * Wo, full, tail);
            }
    phases(g, x, work, 1);
}

int cn_conv_group(int batch, size_t per_sample)
{
    size_t m = GROUP_FLOATS / (per_sample ? per_sample : 1);
    return m < 1 ? 1 : m > (size_t)batch ? batch : (int)m;
}

void cn_pack_channels(const float *x, int m, int C, size_t P, float *y, size_t ld)
{
    for (int i = 0; i < m; i++)
        for (int c = 0; c < C; c++)
            memcpy(y + (size_t)c * ld + i * P, x + ((size_t)i * C + c) * P, P * sizeof *y);
}

void cn_unpack_channels_add(const float *x, size_t ld, int m, int C, size_t P, float *y)
{
    for (int i = 0; i < m; i++)
        for (int c = 0; c < C; c++)
            cn_axpy(P, 1.0f, x + (size_t)c * ld + i * P, y + ((size_t)i * C + c) * P);
}

void cn_bias_act(float *y, int n, int C, size_t P, const float *b, cn_act act, float param)
{
    for (int i = 0; i < n; i++)
        for (int c = 0; c < C; c++) {
            float *yr = y + ((size_t)i * C + c) * P; /* (P), still in cache for f */
            if (b)
                for (size_t q = 0; q < P; q++)
                    yr[q] += b[c];
            cn_act_forward(act, param, yr, P);
        }
}

void cn_bias_grad(const float *dz, int n, int C, size_t P, float *db)
{
    for (int i = 0; i < n; i++)
        for (int c = 0; c < C; c++) {
            /* 8 running sums (a strict float sum does not vectorise), then
             * the lanes and the tail in a fixed order */
            const float *r = dz + ((size_t)i * C + c) * P;
            v8f acc = {0}, v;
            size_t q = 0;
            for (; q + 8 <= P; q += 8) {
                memcpy(&v, r + q, sizeof v);
                acc += v;
            }
            float sum = 0.0f;
            for (int lane = 0; lane < 8; lane++)
                sum += acc[lane];
            for (; q < P; q++)
                sum += r[q];
            db[c] += sum;
        }
}

size_t cn_split_scratch(int parts, size_t slice, const cn_param *W, const cn_param *b)
{
    size_t grad = W->count + (b ? b->count : 0);
    return (size_t)parts * slice + (size_t)(parts - 1) * grad;
}

float *cn_split_slice(float *scratch, int part, size_t slice)
{
    return scratch + (size_t)part * slice;
}

void cn_split_targets(float *scratch, int part, int parts, size_t slice, const cn_param *W,
                      const cn_param *b, float **dW, float **db)
{
    if (part == 0) {
        *dW = W->grad, *db = b ? b->grad : NULL;
        return;
    }
    size_t grad = W->count + (b ? b->count : 0);
    float *g = scratch + (size_t)parts * slice + (size_t)(part - 1) * grad;
    memset(g, 0, grad * sizeof *g);
    *dW = g, *db = b ? g + W->count : NULL;
}

void cn_split_backward(cn_layer *l, const cn_ctx *ctx, cn_pool_fn fn, size_t slice,
                       const cn_param *W, const cn_param *b)
{
    cn_layer_run(l, ctx, ctx->pool, fn);
    int parts = cn_pool_size(ctx->pool);
    const float *g = l->scratch_buf + (size_t)parts * slice;
    for (int i = 1; i < parts; i++) {
        cn_axpy(W->count, 1.0f, g, W->grad);
        g += W->count;
        if (b) {
            cn_axpy(b->count, 1.0f, g, b->grad);
            g += b->count;
        }
    }
}
