/* winograd.c - the tile transforms of F(4x4, 5x5) (Lavin & Gray, "Fast
 * Algorithms for Convolutional Neural Networks", 2016; winograd.h).
 *
 * The matrices come from Toom-Cook interpolation at 0, 1, -1, 2, -2, 1/2,
 * -1/2 and infinity, the points that keep float32 error near 1e-5 of the
 * output's scale. Every 2-D transform X -> T X T^T runs as two passes of
 * 1-D transforms over rows of n values, so the inner loops are contiguous
 * and vectorised: n is the C channels of a tile for the input transform
 * (over a channels-last padded copy of the sample), and the group's tiles
 * or a chunk of filter pairs for the others; output blocks are placed
 * through an index table built once per layer.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "winograd.h"

#define TA 8  /* tile side */
#define TM 4  /* outputs per tile side */
#define TR 5  /* filter side */
#define CHUNK 128 /* filter pairs per pass */

/* The 1-D transforms never write what they read: let GCC vectorise the
 * loop below without run-time overlap checks (which fail it here). Clang
 * builds only the sanitizer suites, where speed does not matter. */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_ALIAS _Pragma("GCC ivdep")
#else
#define NO_ALIAS
#endif

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
static const float GT[TR * TA] = { /* G transposed */
    -1, -2.f / 9, -2.f / 9, 1.f / 90, 1.f / 90, 32.f / 45, 32.f / 45, 0,
    0, -2.f / 9, 2.f / 9, 1.f / 45, -1.f / 45, 16.f / 45, -16.f / 45, 0,
    0, -2.f / 9, -2.f / 9, 2.f / 45, 2.f / 45, 8.f / 45, 8.f / 45, 0,
    0, -2.f / 9, 2.f / 9, 4.f / 45, -4.f / 45, 4.f / 45, -4.f / 45, 0,
    0, -2.f / 9, -2.f / 9, 8.f / 45, 8.f / 45, 2.f / 45, 2.f / 45, 1,
};

/* out row o = sum_i mat[o][i] * in row i, for o < no, i < ni; rows of n
 * floats, in rows `is` apart, out rows `os` apart. Zero taps are skipped.
 * (The filter transforms, once per batch.) */
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

/* A 1-D transform of rows: n values of each input row (rows xs apart) to
 * each output row (rows ys apart). */
typedef void (*tf1d)(const float *x, size_t xs, float *y, size_t ys, size_t n);

static void g_rows(const float *x, size_t xs, float *y, size_t ys, size_t n)
{
    rows(G, TA, TR, x, xs, y, ys, n);
}

static void gt_rows(const float *x, size_t xs, float *y, size_t ys, size_t n)
{
    rows(GT, TR, TA, x, xs, y, ys, n);
}

/* B^T on 8 rows given by pointers; rows 1-2, 3-4 and 5-6 of B^T are sums
 * and differences of shared terms. */
static void bt8(const float *const x[TA], float *y, size_t ys, size_t n)
{
    const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
    const float *x4 = x[4], *x5 = x[5], *x6 = x[6], *x7 = x[7];
    NO_ALIAS
    for (size_t t = 0; t < n; t++) {
        float d0 = x0[t], d1 = x1[t], d2 = x2[t], d3 = x3[t];
        float d4 = x4[t], d5 = x5[t], d6 = x6[t], d7 = x7[t];
        float a = d2 - 4.25f * d4 + d6, b = d1 - 4.25f * d3 + d5;
        float c = 0.25f * d2 - 1.25f * d4 + d6, e = 0.5f * d1 - 2.5f * d3 + 2.0f * d5;
        float f = 4.0f * d2 - 5.0f * d4 + d6, h = 2.0f * d1 - 2.5f * d3 + 0.5f * d5;
        y[0 * ys + t] = d6 - d0 + 5.25f * (d2 - d4);
        y[1 * ys + t] = a + b;
        y[2 * ys + t] = a - b;
        y[3 * ys + t] = c + e;
        y[4 * ys + t] = c - e;
        y[5 * ys + t] = f + h;
        y[6 * ys + t] = f - h;
        y[7 * ys + t] = d7 - d1 + 5.25f * (d3 - d5);
    }
}

/* A^T: 8 rows to 4. */
static void at4(const float *x, size_t xs, float *y, size_t ys, size_t n)
{
    NO_ALIAS
    for (size_t t = 0; t < n; t++) {
        float m0 = x[t], m1 = x[xs + t], m2 = x[2 * xs + t], m3 = x[3 * xs + t];
        float m4 = x[4 * xs + t], m5 = x[5 * xs + t], m6 = x[6 * xs + t], m7 = x[7 * xs + t];
        float s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
        float s56 = m5 + m6, d56 = m5 - m6;
        y[t] = m0 + s12 + s34 + s56;
        y[ys + t] = d12 + 2.0f * d34 + 0.5f * d56;
        y[2 * ys + t] = s12 + 4.0f * s34 + 0.25f * s56;
        y[3 * ys + t] = d12 + 8.0f * d34 + 0.125f * d56 + m7;
    }
}

/* A = (A^T)^T: 4 rows to 8. */
static void a8(const float *x, size_t xs, float *y, size_t ys, size_t n)
{
    NO_ALIAS
    for (size_t t = 0; t < n; t++) {
        float z0 = x[t], z1 = x[xs + t], z2 = x[2 * xs + t], z3 = x[3 * xs + t];
        float e = z0 + z2, o = z1 + z3, e4 = z0 + 4.0f * z2, o4 = 2.0f * z1 + 8.0f * z3;
        float eq = z0 + 0.25f * z2, oq = 0.5f * z1 + 0.125f * z3;
        y[t] = z0;
        y[ys + t] = e + o;
        y[2 * ys + t] = e - o;
        y[3 * ys + t] = e4 + o4;
        y[4 * ys + t] = e4 - o4;
        y[5 * ys + t] = eq + oq;
        y[6 * ys + t] = eq - oq;
        y[7 * ys + t] = z3;
    }
}

/* out[io*no + jo] = the 1-D transform f (ni -> no values) applied along
 * both axes of in[i*ni + j]; every value is a row of n floats, in rows `is`
 * apart, out rows `os` apart; tmp holds ni*no*n floats. */
static void tf2d(tf1d f, int no, int ni, const float *in, size_t is, float *out, size_t os,
                 size_t n, float *tmp)
{
    for (int i = 0; i < ni; i++) /* along rows: tmp[i][jo] */
        f(in + (size_t)i * ni * is, is, tmp + (size_t)i * no * n, n, n);
    for (int jo = 0; jo < no; jo++) /* along columns */
        f(tmp + (size_t)jo * n, (size_t)no * n, out + (size_t)jo * os, (size_t)no * os, n);
}

int cn_wino_plan_init(cn_wino_plan *p, int C, int H, int W, int pad)
{
    *p = (cn_wino_plan){.C = C, .H = H, .W = W, .pad = pad};
    p->Ho = H + 2 * pad - (TR - 1), p->Wo = W + 2 * pad - (TR - 1);
    p->th = (p->Ho + TM - 1) / TM, p->tw = (p->Wo + TM - 1) / TM;
    p->nt = p->th * p->tw;
    p->out_idx = malloc(sizeof(int) * TM * TM * (size_t)p->nt);
    if (!p->out_idx)
        return -1;
    for (int ty = 0; ty < p->th; ty++)
        for (int tx = 0; tx < p->tw; tx++)
            for (int a = 0; a < TM; a++)
                for (int b = 0; b < TM; b++) {
                    int y = ty * TM + a, x = tx * TM + b;
                    p->out_idx[(a * TM + b) * p->nt + ty * p->tw + tx] =
                        y < p->Ho && x < p->Wo ? y * p->Wo + x : -1;
                }
    return 0;
}

void cn_wino_plan_free(cn_wino_plan *p)
{
    free(p->out_idx);
    p->out_idx = NULL;
}

/* A padded sample (Hp, Wp, C), channels last: each tile value of all C
 * channels is one contiguous vector, the unit of the input transform. */
static void padded_dims(const cn_wino_plan *p, int *Hp, int *Wp)
{
    *Hp = TM * p->th + TA - TM, *Wp = TM * p->tw + TA - TM;
}

size_t cn_wino_work(const cn_wino_plan *p, int m)
{
    int Hp, Wp;
    padded_dims(p, &Hp, &Wp);
    size_t input = ((size_t)Hp * Wp + TA * TA) * p->C;
    size_t tiles = (TM * TM + TA * TM) * (size_t)m * p->nt, pairs = (TR * TR + TA * TR) * CHUNK;
    return CN_MAX(input, CN_MAX(tiles, pairs));
}

void cn_wino_input(const cn_wino_plan *p, const float *x, int m, float *V, size_t ld,
                   float *work)
{
    int Hp, Wp;
    padded_dims(p, &Hp, &Wp);
    const int C = p->C;
    const size_t plane = (size_t)p->H * p->W, xs = (size_t)TA * ld * C;
    float *pp = work, *tmp = work + (size_t)Hp * Wp * C; /* tmp (8, 8, C) */
    memset(pp, 0, (size_t)Hp * Wp * C * sizeof *pp); /* the padding stays zero */
    for (int i = 0; i < m; i++) {
        const float *src = x + (size_t)i * C * plane;
        for (int c = 0; c < C; c++)
            for (int y = 0; y < p->H; y++) {
                float *d = pp + ((size_t)(y + p->pad) * Wp + p->pad) * C + c;
                const float *s = src + c * plane + (size_t)y * p->W;
                for (int u = 0; u < p->W; u++)
                    d[(size_t)u * C] = s[u];
            }
        for (int ty = 0; ty < p->th; ty++)
            for (int tx = 0; tx < p->tw; tx++) {
                size_t t = (size_t)i * p->nt + (size_t)ty * p->tw + tx;
                const float *r[TA];
                for (int a = 0; a < TA; a++) { /* along the tile's rows: tmp[a][jo] */
                    for (int j = 0; j < TA; j++)
                        r[j] = pp + ((size_t)(TM * ty + a) * Wp + TM * tx + j) * C;
                    bt8(r, tmp + (size_t)a * TA * C, (size_t)C, (size_t)C);
                }
                for (int jo = 0; jo < TA; jo++) { /* down its columns: V[io*8 + jo][t] */
                    for (int a = 0; a < TA; a++)
                        r[a] = tmp + ((size_t)a * TA + jo) * C;
                    bt8(r, V + ((size_t)jo * ld + t) * C, xs, (size_t)C);
                }
            }
    }
}

void cn_wino_output(const cn_wino_plan *p, const float *M, int F, int m, size_t ld, float *y,
                    int add, float *work)
{
    const size_t T = (size_t)m * p->nt, plane = (size_t)p->Ho * p->Wo;
    float *o = work, *tmp = work + TM * TM * T;
    for (int f = 0; f < F; f++) {
        tf2d(at4, TM, TA, M + f * ld, F * ld, o, T, T, tmp);
        for (int i = 0; i < m; i++) {
            float *yp = y + ((size_t)i * F + f) * plane;
            for (int k = 0; k < TM * TM; k++) {
                const int *ix = p->out_idx + (size_t)k * p->nt;
                const float *v = o + k * T + (size_t)i * p->nt;
                if (add) {
                    for (int t = 0; t < p->nt; t++)
                        if (ix[t] >= 0)
                            yp[ix[t]] += v[t];
                } else {
                    for (int t = 0; t < p->nt; t++)
                        if (ix[t] >= 0)
                            yp[ix[t]] = v[t];
                }
            }
        }
    }
}

void cn_wino_out_tiles(const cn_wino_plan *p, const float *dz, int F, int m, float *D, size_t ld,
                       float *work)
{
    const size_t T = (size_t)m * p->nt, plane = (size_t)p->Ho * p->Wo;
    float *z = work, *tmp = work + TM * TM * T;
    for (int f = 0; f < F; f++) {
        for (int i = 0; i < m; i++) {
            const float *src = dz + ((size_t)i * F + f) * plane;
            for (int k = 0; k < TM * TM; k++) {
                const int *ix = p->out_idx + (size_t)k * p->nt;
                float *d = z + k * T + (size_t)i * p->nt;
                for (int t = 0; t < p->nt; t++)
                    d[t] = ix[t] >= 0 ? src[ix[t]] : 0.0f;
            }
        }
        tf2d(a8, TA, TM, z, T, D + f * ld, F * ld, T, tmp);
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
        tf2d(g_rows, TA, TR, g, n, U + q0, P, n, tmp);
    }
}

void cn_wino_filter_grad(const float *dU, int R, int S, float *dW, float *work)
{
    const size_t P = (size_t)R * S;
    float *w = work, *tmp = work + TR * TR * CHUNK;
    for (size_t q0 = 0; q0 < P; q0 += CHUNK) {
        size_t n = P - q0 < CHUNK ? P - q0 : CHUNK;
        tf2d(gt_rows, TR, TA, dU + q0, P, w, n, n, tmp);
        for (size_t q = q0; q < q0 + n; q++)
            for (int k = 0; k < TR * TR; k++)
                dW[q * TR * TR + k] += w[k * n + (q - q0)];
    }
}
