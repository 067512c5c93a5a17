/* codestat.h - what `cnet eval` measures on a code layer: the sparsity
 * statistics (docs/eval.md), and the lookup of a layer named by an option.
 */
#ifndef CNET_CODESTAT_H
#define CNET_CODESTAT_H

#include "cnet/cnet.h"
#include "jacobian.h"

/* The layer `name` of net for option `what` ("probe", ...); CN_ERR_USAGE
 * listing the layers when there is none. */
cn_status cn_layer_lookup(const cn_net *net, const char *name, const char *what,
                          cn_layer **out, cn_error *err);

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

/* ---- a code quantized to Q levels, and its bits (docs/eval.md) ---- */

#define CN_QUANT_MAX_LEVELS 65536

typedef struct cn_quant {
    int D, Q;          /* units, levels */
    const float *lo;   /* (D) each unit's lowest level, or NULL: 0 for every unit */
    const float *hi;   /* (D) its highest level, or NULL: 1 */
    double *count;     /* (D, Q) samples at each level of each unit */
    long samples;
} cn_quant;

/* Q levels (2 to CN_QUANT_MAX_LEVELS) evenly spaced from lo_l to hi_l for
 * each of D units; lo and hi are borrowed (NULL: [0, 1], a sigmoid code). */
cn_status cn_quant_init(cn_quant *qz, int D, int Q, const float *lo, const float *hi,
                        cn_error *err);
/* Replace each value of the n codes h (n, D) by its unit's nearest level
 * (values beyond the range by the end level; halfway rounds down), and
 * count the levels. */
void cn_quant_add(cn_quant *qz, float *h, int n);
/* sum_l H(level of unit l) in bits over the samples added: the bits per code. */
double cn_quant_bits(const cn_quant *qz);
void cn_quant_free(cn_quant *qz);

#endif
