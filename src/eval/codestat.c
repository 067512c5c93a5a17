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
