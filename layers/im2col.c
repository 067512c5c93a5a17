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
#include <string.h>

#include "im2col.h"

/* Scratch budget of one lowered product, in floats (4 MiB: the columns stay
 * in cache between im2col and the GEMM; wider products gain little). */
#define GROUP_FLOATS ((size_t)1 << 20)

/* The window positions o in [*lo, *hi) that read a pixel inside [0, size):
 * 0 <= o*stride + off < size, with off the offset of the kernel tap. */
static void span(int off, int stride, int size, int n_out, int *lo, int *hi)
{
    int a = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int b = size - 1 - off < 0 ? 0 : (size - 1 - off) / stride + 1;
    *lo = CN_MIN(a, n_out);
    *hi = CN_MAX(CN_MIN(b, n_out), *lo);
}

void cn_im2col(const cn_conv_geom *g, const float *x, float *col, size_t ld)
{
    const int k = g->k, s = g->stride, Wo = g->Wo;
    for (int c = 0; c < g->C; c++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) {
                float *row = col + ((size_t)(c * k + i) * k + j) * ld; /* (P) */
                int off = j - g->pad, lo, hi;
                span(off, s, g->W, Wo, &lo, &hi);
                for (int oy = 0; oy < g->Ho; oy++) {
                    float *r = row + (size_t)oy * Wo;
                    int iy = oy * s - g->pad + i;
                    if (iy < 0 || iy >= g->H) {
                        memset(r, 0, (size_t)Wo * sizeof *r);
                        continue;
                    }
                    const float *xr = x + ((size_t)c * g->H + iy) * g->W; /* (W) */
                    for (int ox = 0; ox < lo; ox++)
                        r[ox] = 0.0f;
                    if (s == 1) /* the common case: a contiguous run, vectorised */
                        for (int ox = lo; ox < hi; ox++)
                            r[ox] = xr[ox + off];
                    else
                        for (int ox = lo; ox < hi; ox++)
                            r[ox] = xr[ox * s + off];
                    for (int ox = hi; ox < Wo; ox++)
                        r[ox] = 0.0f;
                }
            }
}

void cn_col2im_add(const cn_conv_geom *g, const float *col, size_t ld, float *x)
{
    const int k = g->k, s = g->stride, Wo = g->Wo;
    for (int c = 0; c < g->C; c++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) {
                const float *row = col + ((size_t)(c * k + i) * k + j) * ld; /* (P) */
                int off = j - g->pad, lo, hi;
                span(off, s, g->W, Wo, &lo, &hi);
                for (int oy = 0; oy < g->Ho; oy++) {
                    int iy = oy * s - g->pad + i;
                    if (iy < 0 || iy >= g->H)
                        continue; /* padding: nothing to give back */
                    const float *r = row + (size_t)oy * Wo;
                    float *xr = x + ((size_t)c * g->H + iy) * g->W; /* (W) */
                    if (s == 1)
                        for (int ox = lo; ox < hi; ox++)
                            xr[ox + off] += r[ox];
                    else
                        for (int ox = lo; ox < hi; ox++)
                            xr[ox * s + off] += r[ox];
                }
            }
}

int cn_conv_group(int batch, size_t per_sample)
{
    size_t m = GROUP_FLOATS / (per_sample ? per_sample : 1);
    return m < 1 ? 1 : m > (size_t)batch ? batch : (int)m;
}

void cn_pack_channels(const float *x, int m, int C, size_t P, float *y)
{
    for (int i = 0; i < m; i++)
        for (int c = 0; c < C; c++)
            memcpy(y + ((size_t)c * m + i) * P, x + ((size_t)i * C + c) * P, P * sizeof *y);
}

void cn_unpack_channels_add(const float *x, int m, int C, size_t P, float *y)
{
    for (int i = 0; i < m; i++)
        for (int c = 0; c < C; c++)
            cn_axpy(P, 1.0f, x + ((size_t)c * m + i) * P, y + ((size_t)i * C + c) * P);
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
            const float *r = dz + ((size_t)i * C + c) * P;
            float sum = 0.0f;
            for (size_t q = 0; q < P; q++)
                sum += r[q];
            db[c] += sum;
        }
}
