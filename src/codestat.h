/* codestat.h - what cnet measures on a code layer: its element-wise
 * activation, the Jacobian norm of a dense encoder (one formula, shared by
 * the contractive loss and `cnet eval --jacobian`) and the sparsity
 * statistics of `cnet eval` (docs/eval.md). Internal to the library.
 */
#ifndef CNET_CODESTAT_H
#define CNET_CODESTAT_H

#include "internal.h"

/* The layer's element-wise activation (its ops' `activation` slot) with its
 * gain/slope in *param, or -1 when it has none. */
int cn_layer_act(const cn_layer *l, float *param);
/* "linear", "sigmoid", ... for a cn_act; "no element-wise activation" for -1. */
const char *cn_act_name(int act);
/* The layer `name` of net for option `what` ("probe", ...); CN_ERR_USAGE
 * listing the layers when there is none. */
cn_status cn_layer_lookup(const cn_net *net, const char *name, const char *what,
                          cn_layer **out, cn_error *err);

/* ---- the Jacobian of a dense encoder h = f(a), a = W x + b ----
 * J_x(h) = diag(f'(a)) W, so ||J||_F^2 = sum_l f'(a_l)^2 s_l with
 * s_l = sum_j W_lj^2; f' is read from h (sigmoid g h(1-h), tanh 1-h^2,
 * relu [h > 0]), so no pre-activation needs keeping. */
typedef struct cn_jacobian {
    cn_act act;
    float param; /* sigmoid gain */
    cn_param *W; /* (N, K) the layer's own weight */
    int N, K;    /* units, inputs */
} cn_jacobian;

/* Check that l is a [dense] layer with its own W and activation sigmoid,
 * tanh or relu, and describe it in j. The error (CN_ERR_CFG) names the layer
 * and says what it has instead. */
cn_status cn_jacobian_init(const cn_layer *l, cn_jacobian *j, cn_error *err);
/* s (N) = the squared norms of W's rows (one N x K pass). */
void cn_jacobian_rowsq(const cn_jacobian *j, float *s);
/* ||J_x(h)||_F^2 of one sample with code h (N), s from cn_jacobian_rowsq.
 * With dh (N): dh[l] += scale * d||J||^2/dh_l = scale * 2 f'_l (df'/dh)_l s_l.
 * With fp2 (N): fp2[l] += f'_l^2. */
double cn_jacobian_sample(const cn_jacobian *j, const float *h, const float *s, float scale,
                          float *dh, double *fp2);

/* ---- sparsity statistics of a layer's output over a split ---- */

#define CN_NEAR_ZERO 0.05f /* |h| below this: a silent unit */
#define CN_ACTIVE 0.5f     /* h above this: the unit's bit is 1 */

typedef struct cn_sparsity {
    const cn_layer *layer;
    int D;           /* units: the layer's c*h*w */
    long samples;
    double sum;      /* of every h */
    double silent;   /* sum over samples of the fraction of |h| < CN_NEAR_ZERO */
    float *max_abs;  /* (D) max over samples of |h| */
    double *ones;    /* (D) samples with h > CN_ACTIVE */
} cn_sparsity;

cn_status cn_sparsity_init(cn_sparsity *sp, const cn_layer *l, cn_error *err);
/* Add the first n samples of the layer's output. */
void cn_sparsity_add(cn_sparsity *sp, int n);
/* Append <layer>_mean_act, _near_zero, _dead_units and _bits to m. */
void cn_sparsity_put(const cn_sparsity *sp, cn_metrics *m);
void cn_sparsity_free(cn_sparsity *sp);

#endif
