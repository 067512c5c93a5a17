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

#endif
