/* im2col.h - the lowering shared by [conv] and [deconv]: a convolution over
 * an image becomes one matrix product with the image's "column matrix".
 * Not part of the public API.
 */
#ifndef CNET_LAYERS_IM2COL_H
#define CNET_LAYERS_IM2COL_H

#include <stddef.h>

#include "internal.h"

/* A k x k convolution with stride and zero padding over a C x H x W image
 * that yields Ho x Wo positions (Ho = (H + 2 pad - k) / stride + 1). */
typedef struct cn_conv_geom {
    int C, H, W;
    int k, stride, pad;
    int Ho, Wo;
} cn_conv_geom;

/* Floats after the m*P columns of each row of a group's column matrix:
 * cn_im2col and cn_col2im_add move rows in 8-float vectors, and the last
 * vector of a row may reach up to 7 floats past it (read, and for cn_im2col
 * written back unchanged). */
#define CN_COL_SLACK 8
/* The row stride of the column matrix of m samples of P positions each. */
size_t cn_col_ld(int m, size_t P);

/* Write the column matrix of one image x (C, H, W) into col:
 * row (c*k + i)*k + j, column oy*Wo + ox holds
 * x[c][oy*stride - pad + i][ox*stride - pad + j] (0 outside the image).
 * Rows are `ld` floats apart, so several images' columns can sit side by
 * side; the last image's row is followed by CN_COL_SLACK floats (cn_col_ld).
 * Each row is written up to 7 floats past its P columns, where the next
 * image's columns go: write a group's images in order, first to last.
 * `work` holds cn_im2col_work(g) floats of scratch. */
void cn_im2col(const cn_conv_geom *g, const float *x, float *col, size_t ld, float *work);
/* The adjoint of cn_im2col: x (C, H, W) += each column entry at its pixel. */
void cn_col2im_add(const cn_conv_geom *g, const float *col, size_t ld, float *x, float *work);
/* Floats of scratch that cn_im2col and cn_col2im_add need. */
size_t cn_im2col_work(const cn_conv_geom *g);

/* Samples per lowered product: as many as fit in about 1 MiB of scratch at
 * `per_sample` floats each, at least 1 and at most `batch`. */
int cn_conv_group(int batch, size_t per_sample);
/* Gather m samples x (m, C, P) into channel-major y (C, m*P), rows ld apart. */
void cn_pack_channels(const float *x, int m, int C, size_t P, float *y, size_t ld);
/* Scatter channel-major x (C, m*P), rows ld apart, back, adding: y (m, C, P) += x. */
void cn_unpack_channels_add(const float *x, size_t ld, int m, int C, size_t P, float *y);
/* Bias and activation over n samples y (n, C, P) in place: y = f(y + b[c]). */
void cn_bias_act(float *y, int n, int C, size_t P, const float *b, cn_act act, float param);
/* db (C) += the sums of dz (n, C, P) over samples and positions. */
void cn_bias_grad(const float *dz, int n, int C, size_t P, float *db);

/* The batch split over the net's threads (include/cnet/pool.h): each of
 * `parts` threads owns a slice of `slice` floats of the layer's scratch and,
 * every part but the first, a private copy of the gradients of W and b that
 * cn_split_backward adds in part order. */
/* Scratch floats of a split layer with parameters W and b (b may be NULL). */
size_t cn_split_scratch(int parts, size_t slice, const cn_param *W, const cn_param *b);
float *cn_split_slice(float *scratch, int part, size_t slice);
/* Where part `part` accumulates the gradients of W and b (b may be NULL):
 * part 0 straight into the parameters' gradients, every other part into
 * its private copy, zeroed here (W's, then b's). */
void cn_split_targets(float *scratch, int part, int parts, size_t slice, const cn_param *W,
                      const cn_param *b, float **dW, float **db);
/* Run a backward part function over the pool, then add the private
 * gradients of parts 1.. into W's and b's in part order. */
void cn_split_backward(cn_layer *l, const cn_ctx *ctx, cn_pool_fn fn, size_t slice,
                       const cn_param *W, const cn_param *b);

#endif
