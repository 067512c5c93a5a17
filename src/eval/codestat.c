/* codestat.c - measurements of a code layer (see codestat.h).
 *
 * Sparsity over a split, for a layer with D units (c*h*w values):
 *   mean_act   = mean of h over samples and units
 *   near_zero  = mean over samples of the fraction of units with |h| < 0.05
 *   dead_units = units with |h| < 0.05 on every sample of the split
 *   bits       = sum_l H(p_l) in bits, p_l = fraction of samples with h_l > 0.5,
 *                H(p) = -p log2 p - (1-p) log2(1-p): the entropy of each unit's
 *                binarised activation, summed over units (an upper bound on the
 *                entropy of the binary code, bits per code).
 *
 * Quantized code (Ranzato, Boureau & LeCun, "Sparse Feature Learning for
 * Deep Belief Networks", NIPS 2007, measure a code's information this way):
 * unit l takes the nearest of Q levels lo_l + k (hi_l - lo_l) / (Q - 1),
 *   k = ceil(t - 1/2) clamped to [0, Q-1],  t = (h_l - lo_l) / (hi_l - lo_l) (Q - 1),
 *   bits = sum_l H_l,  H_l = -sum_k p_lk log2 p_lk,  p_lk the fraction of
 *          samples at level k of unit l.
 * The paper pools every unit into one histogram (units coded alike); the
 * sum of per-unit entropies is the cost of coding each unit with its own
 * histogram, never more than the pooled one, and at Q = 2 on [0, 1] it is
 * exactly `bits` above (level 1 iff h_l > 0.5).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codestat.h"

cn_status cn_layer_lookup(const cn_net *net, const char *name, const char *what,
                          cn_layer **out, cn_error *err)
{
    *out = cn_net_find_layer(net, name);
    if (*out)
        return CN_OK;
    char list[512] = "";
    size_t len = 0;
    for (int i = 0; i < cn_net_n_layers(net) && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                cn_net_layer(net, i)->name);
    return cn_errorf(err, CN_ERR_USAGE, "%s: no layer named '%s' in %s (layers: %s)", what, name,
                     cn_net_name(net), list);
}

cn_status cn_sparsity_init(cn_sparsity *sp, const cn_layer *l, cn_error *err)
{
    memset(sp, 0, sizeof *sp);
    sp->layer = l;
    sp->D = l->c * l->h * l->w;
    sp->max_abs = calloc((size_t)sp->D, sizeof *sp->max_abs);
    sp->ones = calloc((size_t)sp->D, sizeof *sp->ones);
    if (!sp->max_abs || !sp->ones)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for the sparsity of layer '%s'",
                         l->name);
    return CN_OK;
}

void cn_sparsity_add(cn_sparsity *sp, int n)
{
    for (int s = 0; s < n; s++) {
        const float *h = sp->layer->out.data + (size_t)s * sp->D; /* (D) sample s */
        long silent = 0;
        for (int l = 0; l < sp->D; l++) {
            float a = fabsf(h[l]);
            sp->sum += h[l];
            silent += a < CN_NEAR_ZERO;
            sp->max_abs[l] = fmaxf(sp->max_abs[l], a);
            sp->ones[l] += h[l] > CN_ACTIVE;
        }
        sp->silent += (double)silent / sp->D;
    }
    sp->samples += n;
}

/* Entropy in bits of a binary variable that is 1 with probability p. */
static double bits(double p)
{
    return p <= 0.0 || p >= 1.0 ? 0.0 : -(p * log2(p) + (1.0 - p) * log2(1.0 - p));
}

void cn_sparsity_put(const cn_sparsity *sp, cn_metrics *m)
{
    char name[48];
    const char *ln = sp->layer->name;
    double n = sp->samples > 0 ? (double)sp->samples : 1.0, dead = 0.0, code = 0.0;
    for (int l = 0; l < sp->D; l++) {
        dead += sp->max_abs[l] < CN_NEAR_ZERO;
        code += bits(sp->ones[l] / n);
    }
    snprintf(name, sizeof name, "%s_mean_act", ln);
    cn_metrics_put(m, name, sp->sum / (n * sp->D));
    snprintf(name, sizeof name, "%s_near_zero", ln);
    cn_metrics_put(m, name, sp->silent / n);
    snprintf(name, sizeof name, "%s_dead_units", ln);
    cn_metrics_put(m, name, dead);
    snprintf(name, sizeof name, "%s_bits", ln);
    cn_metrics_put(m, name, code);
}

void cn_sparsity_free(cn_sparsity *sp)
{
    free(sp->max_abs);
    free(sp->ones);
    sp->max_abs = NULL;
    sp->ones = NULL;
}

cn_status cn_quant_init(cn_quant *qz, int D, int Q, const float *lo, const float *hi,
                        cn_error *err)
{
    memset(qz, 0, sizeof *qz);
    if (Q < 2 || Q > CN_QUANT_MAX_LEVELS)
        return cn_errorf(err, CN_ERR_USAGE, "quantize: %d levels, expected 2 to %d", Q,
                         CN_QUANT_MAX_LEVELS);
    qz->D = D, qz->Q = Q, qz->lo = lo, qz->hi = hi;
    if (!(qz->count = calloc((size_t)D * Q, sizeof *qz->count)))
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for a code of %d units at %d levels",
                         D, Q);
    return CN_OK;
}

void cn_quant_add(cn_quant *qz, float *h, int n)
{
    const int Q = qz->Q;
    for (int s = 0; s < n; s++) {
        float *hs = h + (size_t)s * qz->D; /* (D) sample s */
        for (int l = 0; l < qz->D; l++) {
            float lo = qz->lo ? qz->lo[l] : 0.0f, hi = qz->hi ? qz->hi[l] : 1.0f;
            float step = (hi - lo) / (float)(Q - 1);
            int k = 0;
            if (step > 0.0f) {
                float t = ceilf((hs[l] - lo) / step - 0.5f); /* a NaN stays at level 0 */
                k = t >= (float)(Q - 1) ? Q - 1 : t > 0.0f ? (int)t : 0;
            }
            hs[l] = lo + (float)k * step;
            qz->count[(size_t)l * Q + k] += 1.0;
        }
    }
    qz->samples += n;
}

double cn_quant_bits(const cn_quant *qz)
{
    double total = 0.0, n = qz->samples > 0 ? (double)qz->samples : 1.0;
    for (size_t i = 0; i < (size_t)qz->D * qz->Q; i++)
        if (qz->count[i] > 0.0)
            total -= qz->count[i] / n * log2(qz->count[i] / n);
    return total;
}

void cn_quant_free(cn_quant *qz)
{
    free(qz->count);
    qz->count = NULL;
}
