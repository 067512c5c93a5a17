/* codestat.c - measurements of a code layer (see codestat.h).
 *
 * Jacobian of a dense encoder (Rifai et al., "Contractive Auto-Encoders",
 * ICML 2011): for h = f(a), a = W x + b, W (N, K),
 *   ||J_x(h)||_F^2 = sum_l f'(a_l)^2 s_l,   s_l = sum_j W_lj^2.
 * With phi(h) = f'(a) read from the output,
 *   sigmoid (gain g): phi = g h (1 - h),  dphi/dh = g (1 - 2h)
 *   tanh:             phi = 1 - h^2,      dphi/dh = -2h
 *   relu:             phi = [h > 0],      dphi/dh = 0   (f'' = 0 off the kink)
 * d||J||^2/dh_l = 2 phi_l dphi_l s_l: the layer's own backward turns it into
 * the a-, W-, b- and x-gradients (d/da = d/dh * f'), which is exact because
 * d(f'^2)/da = 2 f' f'' and f'' = (dphi/dh) f'.
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

int cn_layer_act(const cn_layer *l, float *param)
{
    *param = 1.0f;
    return l->ops->activation ? l->ops->activation(l, param) : -1;
}

const char *cn_act_name(int act)
{
    static const char *const names[CN_ACT_COUNT] = {"linear", "sigmoid", "tanh", "relu",
                                                    "leaky"};
    return act >= 0 && act < CN_ACT_COUNT ? names[act] : "no element-wise activation";
}

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

cn_status cn_jacobian_init(const cn_layer *l, cn_jacobian *j, cn_error *err)
{
    char shape[64];
    cn_layer_shape_str(l, shape, sizeof shape);
    if (strcmp(l->ops->type, "dense"))
        return cn_errorf(err, CN_ERR_CFG, "layer '%s' (%s, %s) is not a [dense] layer; the "
                         "Jacobian norm needs a dense encoder h = f(W x + b)",
                         l->name, l->ops->type, shape);
    int act = cn_layer_act(l, &j->param);
    if (act != CN_ACT_SIGMOID && act != CN_ACT_TANH && act != CN_ACT_RELU)
        return cn_errorf(err, CN_ERR_CFG, "layer '%s' (dense, %s) has activation %s; the "
                         "Jacobian norm needs activation sigmoid, tanh or relu",
                         l->name, shape, cn_act_name(act));
    j->act = (cn_act)act;
    j->W = cn_layer_param(l, "W");
    j->N = l->c * l->h * l->w;
    if (!j->W)
        return cn_errorf(err, CN_ERR_CFG, "layer '%s' (dense, %s) is tied and has no W of its "
                         "own; use the encoder whose W it shares", l->name, shape);
    j->K = (int)(j->W->count / (size_t)j->N);
    if (j->W->shape[0] != j->N || (size_t)j->N * j->K != j->W->count)
        return cn_errorf(err, CN_ERR_INTERNAL, "layer '%s': W (%d x %d) does not match its %d "
                         "outputs", l->name, j->W->shape[0], j->W->shape[1], j->N);
    return CN_OK;
}

void cn_jacobian_rowsq(const cn_jacobian *j, float *s)
{
    for (int l = 0; l < j->N; l++) {
        const float *w = j->W->value + (size_t)l * j->K; /* (K) row l */
        double sum = 0.0;
        for (int k = 0; k < j->K; k++)
            sum += (double)w[k] * w[k];
        s[l] = (float)sum;
    }
}

/* phi = f'(a) and dphi/dh, from the output h. */
static void deriv(const cn_jacobian *j, float h, double *phi, double *dphi)
{
    switch (j->act) {
    case CN_ACT_SIGMOID:
        *phi = (double)j->param * h * (1.0 - h);
        *dphi = (double)j->param * (1.0 - 2.0 * h);
        break;
    case CN_ACT_TANH:
        *phi = 1.0 - (double)h * h;
        *dphi = -2.0 * h;
        break;
    default: /* relu */
        *phi = h > 0.0f;
        *dphi = 0.0;
        break;
    }
}

double cn_jacobian_sample(const cn_jacobian *j, const float *h, const float *s, float scale,
                          float *dh, double *fp2)
{
    double sum = 0.0;
    for (int l = 0; l < j->N; l++) {
        double phi, dphi;
        deriv(j, h[l], &phi, &dphi);
        sum += phi * phi * s[l];
        if (dh)
            dh[l] += (float)(scale * 2.0 * phi * dphi * s[l]);
        if (fp2)
            fp2[l] += phi * phi;
    }
    return sum;
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
