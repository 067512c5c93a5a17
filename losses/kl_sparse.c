/* kl_sparse.c - the KL sparsity penalty of sparse autoencoders (Ng, "Sparse
 * autoencoder", CS294A lecture notes, 2011; Lee, Ekanadham & Ng, "Sparse deep
 * belief net model for visual area V2", NIPS 2007).
 *
 * Legend: B samples in the batch (ctx->n), D units per sample (c*h*w: every
 * value of the attached layer is a unit, also for conv outputs); h[n,l] in
 * (0, 1) is unit l of sample n.
 *   rho_hat_l = 1/B sum_n h[n,l]                  (the unit's mean activation)
 *   Omega = sum_l rho ln(rho / rho_hat_l) + (1 - rho) ln((1 - rho) / (1 - rho_hat_l))
 * the KL divergence of Bernoulli(rho_hat_l) from Bernoulli(rho), summed over
 * units: it pulls each unit's mean activation towards the target rho.
 *   dOmega/dh[n,l] = 1/B (-rho / rho_hat_l + (1 - rho) / (1 - rho_hat_l))
 * forward returns Omega (a batch statistic: no further mean); backward adds
 * weight * dOmega/dh. Numerics: rho_hat is clamped into [1e-6, 1 - 1e-6]
 * before the logs and the divisions, so a unit that is silent or saturated
 * over the whole batch gives a large but finite value and gradient (the
 * gradient uses the clamped rho_hat, pushing it back inside).
 * The output must lie in (0, 1): setup accepts a layer whose activation is
 * sigmoid ([sigmoid], [dense]/[conv] activation=sigmoid) or one offering
 * CN_OFFER_PROBS ([softmax]); anything else is an error. The loss offers
 * CN_OFFER_CODE: eval reports the layer's sparsity statistics (mean
 * activation, near-zero fraction, dead units, code bits).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jacobian.h"

#define RHO_EPS 1e-6

typedef struct kl_sparse_state {
    double rho;
    double *rho_hat; /* (D) clamped mean activations of the last pass */
} kl_sparse_state;

static const cn_key keys[] = {
    {"rho", CN_KEY_FLOAT, "0.05", "(0, 1)", "target mean activation of every unit, in (0, 1)"},
    CN_KEY_END
};

/* rho_hat over the first B samples of y (B, D), clamped. */
static void mean_activation(kl_sparse_state *k, const float *y, int B, int D)
{
    for (int l = 0; l < D; l++)
        k->rho_hat[l] = 0.0;
    for (int n = 0; n < B; n++)
        for (int l = 0; l < D; l++)
            k->rho_hat[l] += y[(size_t)n * D + l];
    for (int l = 0; l < D; l++)
        k->rho_hat[l] = fmin(fmax(k->rho_hat[l] / B, RHO_EPS), 1.0 - RHO_EPS);
}

static int units(const cn_loss *loss)
{
    return loss->layer->c * loss->layer->h * loss->layer->w;
}

static double kl_sparse_forward(cn_loss *loss, const cn_ctx *ctx)
{
    kl_sparse_state *k = loss->state;
    int D = units(loss);
    if (ctx->n < 1)
        return 0.0;
    mean_activation(k, loss->layer->out.data, ctx->n, D);
    double rho = k->rho, omega = 0.0;
    for (int l = 0; l < D; l++)
        omega += rho * log(rho / k->rho_hat[l]) + (1.0 - rho) * log((1.0 - rho) /
                                                                      (1.0 - k->rho_hat[l]));
    return omega;
}

static void kl_sparse_backward(cn_loss *loss, const cn_ctx *ctx)
{
    kl_sparse_state *k = loss->state;
    int D = units(loss), B = ctx->n;
    if (B < 1 || !loss->layer->needs_grad)
        return;
    mean_activation(k, loss->layer->out.data, B, D);
    float *dy = loss->layer->dout.data; /* (B, D) */
    double rho = k->rho, scale = loss->weight / (double)B;
    for (int l = 0; l < D; l++) {
        float g = (float)(scale * (-rho / k->rho_hat[l] + (1.0 - rho) / (1.0 - k->rho_hat[l])));
        for (int n = 0; n < B; n++)
            dy[(size_t)n * D + l] += g;
    }
}

static cn_status kl_sparse_setup(cn_loss *loss, cn_sec *s, cn_error *err)
{
    const cn_layer *l = loss->layer;
    float rho, param;
    cn_status st = cn_sec_float(s, "rho", &rho, err);
    if (st)
        return st;
    int act = cn_layer_act(l, &param);
    if (act != CN_ACT_SIGMOID && !(cn_layer_offers(l) & CN_OFFER_PROBS)) {
        char shape[64];
        return cn_sec_errorf(s, CN_ERR_CFG, err,
                             "layer '%s' (%s, %s) has %s%s, so its output is not bounded in "
                             "(0, 1); attach kl_sparse to a [sigmoid] or [softmax] layer or "
                             "to one with activation=sigmoid",
                             l->name, l->ops->type, cn_layer_shape_str(l, shape, sizeof shape),
                             act >= 0 ? "activation " : "", cn_act_name(act));
    }
    size_t D = (size_t)units(loss);
    kl_sparse_state *k = malloc(sizeof *k + D * sizeof(double));
    if (!k)
        return cn_errorf(err, CN_ERR_NOMEM, "loss '%s': out of memory for %zu units",
                         loss->name, D);
    k->rho = rho;
    k->rho_hat = (double *)(k + 1);
    loss->state = k;
    return CN_OK;
}

static void kl_sparse_destroy(cn_loss *loss)
{
    free(loss->state);
    loss->state = NULL;
}

const cn_loss_ops cn_loss_kl_sparse = {
    .type = "kl_sparse",
    .keys = keys,
    .doc = "KL sparsity penalty sum_l KL(rho || rho_hat_l) on the batch-mean activations of "
           "a (0, 1)-bounded layer (sparse autoencoders)",
    .targets = CN_TARGETS(CN_TARGET_NONE),
    .target_default = CN_TARGET_NONE,
    .offers = CN_OFFER_CODE,
    .setup = kl_sparse_setup,
    .forward = kl_sparse_forward,
    .backward = kl_sparse_backward,
    .destroy = kl_sparse_destroy,
};
