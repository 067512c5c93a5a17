/* jacobian.c - the Jacobian norm of a dense encoder (see jacobian.h),
 * shared by the contractive loss and `cnet eval --jacobian`.
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
 */
#include <math.h>

#include "jacobian.h"

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

cn_status cn_jacobian_init(const cn_layer *l, cn_jacobian *j, cn_error *err)
{
    char shape[64];
    cn_layer_shape_str(l, shape, sizeof shape);
    if (!l->ops->linear_weight) /* the layer says whether it is f(W x + b) */
        return cn_errorf(err, CN_ERR_CFG, "layer '%s' (%s, %s) is not a [dense] layer; the "
                         "Jacobian norm needs a dense encoder h = f(W x + b)",
                         l->name, l->ops->type, shape);
    int act = cn_layer_act(l, &j->param);
    if (act != CN_ACT_SIGMOID && act != CN_ACT_TANH && act != CN_ACT_RELU)
        return cn_errorf(err, CN_ERR_CFG, "layer '%s' (%s, %s) has activation %s; the "
                         "Jacobian norm needs activation sigmoid, tanh or relu",
                         l->name, l->ops->type, shape, cn_act_name(act));
    j->act = (cn_act)act;
    j->W = l->ops->linear_weight(l);
    j->N = l->c * l->h * l->w;
    if (!j->W)
        return cn_errorf(err, CN_ERR_CFG, "layer '%s' (%s, %s) is tied and has no W of its "
                         "own; use the encoder whose W it shares", l->name, l->ops->type, shape);
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

