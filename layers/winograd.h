/* winograd.h - 5x5 stride-1 convolutions by Winograd's minimal filtering
 * F(4x4, 5x5), used by [conv] (algo=winograd). Not part of the public API.
 *
 * A 4x4 block of outputs of a 5x5 filter g over an 8x8 input tile d is
 *   Y = A^T [(G g G^T) . (B^T d B)] A        (. = element-wise)
 * so over C channels and F filters each of the 64 tile positions xi is one
 * matrix product M_xi (F, tiles) = U_xi (F, C) V_xi^T, V_xi (tiles, C): 64 products
 * of F*C*tiles multiply-adds where the direct convolution needs 25*16 per
 * output block, 400 against 64 (6.25x fewer; the tile transforms are
 * element-wise). The input gradient is the same kind of convolution of the
 * output gradient with the filters turned by 180 degrees, and the filter
 * gradient is the adjoint: dW = G^T [sum over tiles (A dY A^T) . V] G.
 */
#ifndef CNET_LAYERS_WINOGRAD_H
#define CNET_LAYERS_WINOGRAD_H

#include <stddef.h>

#define CN_WINO_XI 64 /* transformed values per tile: 8 x 8 */

/* Tiles of one 5x5 stride-1 convolution over C planes of H x W padded with
 * `pad` zeros, giving Ho x Wo outputs (Ho = H + 2 pad - 4), in 4x4 blocks. */
typedef struct cn_wino_plan {
    int C, H, W, pad;
    int Ho, Wo;
    int th, tw;   /* tile rows and columns: ceil(Ho / 4), ceil(Wo / 4) */
    int nt;       /* tiles per plane: th * tw, row by row */
    int *out_idx; /* (16, nt): where in an output plane each tile output goes, -1 = past it */
} cn_wino_plan;

/* Fill p (allocates its index tables); 0, or -1 when out of memory. */
int cn_wino_plan_init(cn_wino_plan *p, int C, int H, int W, int pad);
void cn_wino_plan_free(cn_wino_plan *p);
/* Floats of work area the functions below need for m samples of plan p. */
size_t cn_wino_work(const cn_wino_plan *p, int m);

/* Filter transforms of W (R, S, 5, 5) for the pairs [lo, hi) of R*S:
 *   flip = 0: U (64, R, S), U[xi][r][s] from W[r][s];
 *   flip = 1: U (64, S, R), U[xi][s][r] from W[r][s] turned by 180 degrees
 *             (pair q = s*R + r), the filters of the input gradient. */
void cn_wino_filters(const float *W, int R, int S, int flip, float *U, size_t lo, size_t hi,
                     float *work);
/* V (64, ld, C): the input tiles of m samples x (m, C, H, W), tile t of
 * sample i in row i*nt + t of each V_xi, its C channels contiguous. */
void cn_wino_input(const cn_wino_plan *p, const float *x, int m, float *V, size_t ld,
                   float *work);
/* y (m, F, Ho, Wo) = A^T M A, or += with add, from M (64, F, ld). */
void cn_wino_output(const cn_wino_plan *p, const float *M, int F, int m, size_t ld, float *y,
                    int add, float *work);
/* D (64, F, ld) = A dz A^T of the 4x4 output blocks of dz (m, F, Ho, Wo). */
void cn_wino_out_tiles(const cn_wino_plan *p, const float *dz, int F, int m, float *D, size_t ld,
                       float *work);
/* dW (R, S, 5, 5) += G^T dU G, dU (64, R, S). */
void cn_wino_filter_grad(const float *dU, int R, int S, float *dW, float *work);

#endif
