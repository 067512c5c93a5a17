/* jacobian.h - a layer's element-wise activation and the Jacobian norm of
 * a dense encoder: one formula, shared by the contractive loss and
 * `cnet eval --jacobian`. Internal to the library.
 */
#ifndef CNET_JACOBIAN_H
#define CNET_JACOBIAN_H

#include "internal.h"

/* The layer's element-wise activation (its ops' `activation` slot) with its
 * gain/slope in *param, or -1 when it has none. */
int cn_layer_act(const cn_layer *l, float *param);
/* "linear", "sigmoid", ... for a cn_act; "no element-wise activation" for -1. */
const char *cn_act_name(int act);
/* ---- the Jacobian of a dense encoder h = f(a), a = W x + b ----
 * J_x(h) = diag(f'(a)) W, so ||J||_F^2 = sum_l f'(a_l)^2 s_l with
 * s_l = sum_j W_lj^2; f' is read from h (sigmoid g h(1-h), tanh 1-h^2,
 * relu [h > 0]), so no pre-activation needs keeping. */
typedef struct cn_jacobian {
    cn_act act;
    float param; /* sigmoid gain */
    const cn_param *W; /* (N, K) the layer's own weight (its ops' linear_weight) */
    int N, K;    /* units, inputs */
} cn_jacobian;

/* Check that l is a layer h = f(W x + b) with its own W (its ops'
 * linear_weight: a [dense] layer) and activation sigmoid, tanh or relu, and
 * describe it in j. The error (CN_ERR_CFG) names the layer and says what it
 * has instead. */
cn_status cn_jacobian_init(const cn_layer *l, cn_jacobian *j, cn_error *err);
/* s (N) = the squared norms of W's rows (one N x K pass). */
void cn_jacobian_rowsq(const cn_jacobian *j, float *s);
/* ||J_x(h)||_F^2 of one sample with code h (N), s from cn_jacobian_rowsq.
 * With dh (N): dh[l] += scale * d||J||^2/dh_l = scale * 2 f'_l (df'/dh)_l s_l.
 * With fp2 (N): fp2[l] += f'_l^2. */
double cn_jacobian_sample(const cn_jacobian *j, const float *h, const float *s, float scale,
                          float *dh, double *fp2);

#endif
