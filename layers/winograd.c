/* winograd.c - the tile transforms of F(4x4, 5x5) (Lavin & Gray, "Fast
 * Algorithms for Convolutional Neural Networks", 2016; winograd.h).
 *
 * The matrices come from Toom-Cook interpolation at 0, 1, -1, 2, -2, 1/2,
 * -1/2 and infinity, the points that keep float32 error near 1e-5 of the
 * output's scale. Every 2-D transform X -> T X T^T runs as two passes of
 * 1-D transforms over rows of n values (one per tile, or per filter pair),
 * so the inner loops are long, contiguous and vectorised; the tile values
 * are gathered through index tables built once per layer.
 */
#include <stdlib.h>
#include <string.h>

#include "winograd.h"

#define TA 8  /* tile side */
#define TM 4  /* outputs per tile side */
#define TR 5  /* filter side */
#define CHUNK 128 /* filter pairs per pass */

static const float BT[TA * TA] = {
    -1, 0, 21.f / 4, 0, -21.f / 4, 0, 1, 0,
    0, 1, 1, -17.f / 4, -17.f / 4, 1, 1, 0,
    0, -1, 1, 17.f / 4, -17.f / 4, -1, 1, 0,
    0, 0.5f, 0.25f, -2.5f, -1.25f, 2, 1, 0,
    0, -0.5f, 0.25f, 2.5f, -1.25f, -2, 1, 0,
    0, 2, 4, -2.5f, -5, 0.5f, 1, 0,
    0, -2, 4, 2.5f, -5, -0.5f, 1, 0,
    0, -1, 0, 21.f / 4, 0, -21.f / 4, 0, 1,
};
static const float G[TA * TR] = {
    -1, 0, 0, 0, 0,
    -2.f / 9, -2.f / 9, -2.f / 9, -2.f / 9, -2.f / 9,
    -2.f / 9, 2.f / 9, -2.f / 9, 2.f / 9, -2.f / 9,
    1.f / 90, 1.f / 45, 2.f / 45, 4.f / 45, 8.f / 45,
    1.f / 90, -1.f / 45, 2.f / 45, -4.f / 45, 8.f / 45,
    32.f / 45, 16.f / 45, 8.f / 45, 4.f / 45, 2.f / 45,
    32.f / 45, -16.f / 45, 8.f / 45, -4.f / 45, 2.f / 45,
    0, 0, 0, 0, 1,
};
static const float AT[TM * TA] = {
    1, 1, 1, 1, 1, 1, 1, 0,
    0, 1, -1, 2, -2, 0.5f, -0.5f, 0,
    0, 1, 1, 4, 4, 0.25f, 0.25f, 0,
    0, 1, -1, 8, -8, 0.125f, -0.125f, 1,
};

/* out row o = sum_i mat[o][i] * in row i, for o < no, i < ni; rows of n
 * floats, in rows `is` apart, out rows `os` apart. Zero taps are skipped. */
static void rows(const float *mat, int no, int ni, const float *in, size_t is, float *out,
                 size_t os, size_t n)
{
    for (int o = 0; o < no; o++) {
        float *y = out + (size_t)o * os;
        int first = 1;
        for (int i = 0; i < ni; i++) {
            const float c = mat[o * ni + i], *x = in + (size_t)i * is;
            if (c == 0.0f)
                continue;
            if (first)
                for (size_t t = 0; t < n; t++)
                    y[t] = c * x[t];
            else
                for (size_t t = 0; t < n; t++)
                    y[t] += c * x[t];
            first = 0;
        }
        if (first)
            memset(y, 0, n * sizeof *y);
    }
}

/* out[io*no + jo] = sum_ij mat[io][i] in[i*ni + j] mat[jo][j]: the 2-D
 * transform of ni x ni values into no x no, each a row of n floats; in rows
 * `is` apart, out rows `os` apart; tmp holds ni*no*n floats. */
static void tf2d(const float *mat, int no, int ni, const float *in, size_t is, float *out,
                 size_t os, size_t n, float *tmp)
{
    for (int i = 0; i < ni; i++) /* along rows: tmp[i][jo] */
        rows(mat, no, ni, in + (size_t)i * ni * is, is, tmp + (size_t)i * no * n, n, n);
    for (int jo = 0; jo < no; jo++) /* along columns */
        rows(mat, no, ni, tmp + (size_t)jo * n, (size_t)no * n, out + (size_t)jo * os,
             (size_t)no * os, n);
}

int cn_wino_plan_init(cn_wino_plan *p, int C, int H, int W, int pad)
{
    *p = (cn_wino_plan){.C = C, .H = H, .W = W, .pad = pad};
    p->Ho = H + 2 * pad - (TR - 1), p->Wo = W + 2 * pad - (TR - 1);
    int th = (p->Ho + TM - 1) / TM, tw = (p->Wo + TM - 1) / TM;
    p->nt = th * tw;
    p->in_idx = malloc(sizeof(int) * TA * TA * (size_t)p->nt);
    p->out_idx = malloc(sizeof(int) * TM * TM * (size_t)p->nt);
    if (!p->in_idx || !p->out_idx) {
        cn_wino_plan_free(p);
        return -1;
    }
    for (int ty = 0; ty < th; ty++)
        for (int tx = 0; tx < tw; tx++) {
            int t = ty * tw + tx;
            for (int i = 0; i < TA; i++)
                for (int j = 0; j < TA; j++) {
                    int y = ty * TM - pad + i, x = tx * TM - pad + j;
                    p->in_idx[(i * TA + j) * p->nt + t] =
                        y >= 0 && y < H && x >= 0 && x < W ? y * W + x : -1;
                }
            for (int a = 0; a < TM; a++)
                for (int b = 0; b < TM; b++) {
                    int y = ty * TM + a, x = tx * TM + b;
                    p->out_idx[(a * TM + b) * p->nt + t] =
                        y < p->Ho && x < p->Wo ? y * p->Wo + x : -1;
                }
        }
    return 0;
}

void cn_wino_plan_free(cn_wino_plan *p)
{
    free(p->in_idx);
    free(p->out_idx);
    p->in_idx = p->out_idx = NULL;
}

size_t cn_wino_work(const cn_wino_plan *p, int m)
{
    size_t tiles = 2 * TA * TA * (size_t)m * p->nt, pairs = (TR * TR + TA * TR) * CHUNK;
    return tiles > pairs ? tiles : pairs;
}

/* dst[k][i*nt + t] = plane_i[idx[k][t]] (0 where idx < 0), k < nk, for the
 * m planes plane_i = src + i*stride. */
static void gather(const int *idx, int nk, int nt, const float *src, size_t stride, int m,
                   float *dst)
{
    size_t T = (size_t)m * nt;
    for (int i = 0; i < m; i++) {
        const float *plane = src + (size_t)i * stride;
        for (int k = 0; k < nk; k++) {
            const int *ix = idx + (size_t)k * nt;
            float *d = dst + k * T + (size_t)i * nt;
            for (int t = 0; t < nt; t++)
                d[t] = ix[t] >= 0 ? plane[ix[t]] : 0.0f;
        }
    }
}

void cn_wino_input(const cn_wino_plan *p, const float *x, int m, float *V, size_t ld,
                   float *work)
{
    size_t T = (size_t)m * p->nt, plane = (size_t)p->H * p->W;
    float *d = work, *tmp = work + TA * TA * T;
    for (int c = 0; c < p->C; c++) {
        gather(p->in_idx, TA * TA, p->nt, x + c * plane, p->C * plane, m, d);
        tf2d(BT, TA, TA, d, T, V + c * ld, p->C * ld, T, tmp);
    }
}

void cn_wino_output(const cn_wino_plan *p, const float *M, int F, int m, size_t ld, float *y,
                    int add, float *work)
{
    const size_t T = (size_t)m * p->nt, plane = (size_t)p->Ho * p->Wo;
    float *o = work, *tmp = work + TM * TM * T;
    for (int f = 0; f < F; f++) {
        tf2d(AT, TM, TA, M + f * ld, F * ld, o, T, T, tmp);
        for (int i = 0; i < m; i++) {
            float *yp = y + ((size_t)i * F + f) * plane;
            for (int k = 0; k < TM * TM; k++) {
                const int *ix = p->out_idx + (size_t)k * p->nt;
                const float *v = o + k * T + (size_t)i * p->nt;
                for (int t = 0; t < p->nt; t++)
                    if (ix[t] >= 0)
                        yp[ix[t]] = add ? yp[ix[t]] + v[t] : v[t];
            }
        }
    }
}

void cn_wino_out_tiles(const cn_wino_plan *p, const float *dz, int F, int m, float *D, size_t ld,
                       float *work)
{
    const size_t T = (size_t)m * p->nt, plane = (size_t)p->Ho * p->Wo;
    float *z = work, *tmp = work + TM * TM * T;
    float a[TA * TM]; /* A = AT transposed */
    for (int i = 0; i < TA; i++)
        for (int j = 0; j < TM; j++)
            a[i * TM + j] = AT[j * TA + i];
    for (int f = 0; f < F; f++) {
        gather(p->out_idx, TM * TM, p->nt, dz + f * plane, F * plane, m, z);
        tf2d(a, TA, TM, z, T, D + f * ld, F * ld, T, tmp);
    }
}

void cn_wino_filters(const float *W, int R, int S, int flip, float *U, size_t lo, size_t hi,
                     float *work)
{
    const size_t P = (size_t)R * S;
    float *g = work, *tmp = work + TR * TR * CHUNK;
    for (size_t q0 = lo; q0 < hi; q0 += CHUNK) {
        size_t n = hi - q0 < CHUNK ? hi - q0 : CHUNK;
        for (size_t q = q0; q < q0 + n; q++) {
            /* pair q of U: (r, s), or (s, r) turned */
            size_t src = flip ? ((q % R) * S + q / R) : q;
            const float *w = W + src * TR * TR;
            for (int k = 0; k < TR * TR; k++)
                g[k * n + (q - q0)] = w[flip ? TR * TR - 1 - k : k];
        }
        tf2d(G, TA, TR, g, n, U + q0, P, n, tmp);
    }
}

void cn_wino_filter_grad(const float *dU, int R, int S, float *dW, float *work)
{
    const size_t P = (size_t)R * S;
    float *w = work, *tmp = work + TR * TR * CHUNK, gt[TR * TA];
    for (int i = 0; i < TR; i++)
        for (int j = 0; j < TA; j++)
            gt[i * TA + j] = G[j * TR + i];
    for (size_t q0 = 0; q0 < P; q0 += CHUNK) {
        size_t n = P - q0 < CHUNK ? P - q0 : CHUNK;
        tf2d(gt, TR, TA, dU + q0, P, w, n, n, tmp);
        for (size_t q = q0; q < q0 + n; q++)
            for (int k = 0; k < TR * TR; k++)
                dW[q * TR * TR + k] += w[k * n + (q - q0)];
    }
}
