/* kl_gauss.c - the KL term of the variational autoencoder's ELBO (Kingma &
 * Welling, "Auto-Encoding Variational Bayes", ICLR 2014, appendix B; the
 * VAE part of H. Bae's lecture "Loss function and cooperative learning"):
 * the divergence of the encoder's diagonal Gaussian q(z|x) = N(mu, exp(lv))
 * from the prior N(0, I), in nats.
 *
 * Attached to the [sample] layer; reads its two inputs, mu = in[0] and
 * lv = in[1], each (n, D):
 *
 *   L = 1/n sum_s KL_s,  KL_s = -1/2 sum_j (1 + lv_sj - mu_sj^2 - exp(lv_sj))
 *   dL/dmu = mu / n,  dL/dlv = (exp(lv) - 1) / (2 n)
 *
 * Summed over the latent values and averaged over the batch, so with the
 * reconstruction as [bce] reduce=sum the total is the negative ELBO per
 * sample. It offers CN_OFFER_GAUSS_POSTERIOR, so evaluation reports the ELBO
 * and the importance-weighted bound (src/eval/elbo.c).
 */
#include <math.h>

#include "internal.h"

static size_t sample_size(const cn_layer *l)
{
    return (size_t)l->c * l->h * l->w;
}

static cn_status kl_gauss_setup(cn_loss *loss, cn_sec *s, cn_error *err)
{
    const cn_layer *l = loss->layer;
    char shape[64];
    if (l->n_in != 2 || sample_size(l->in[0]) != sample_size(l) ||
        sample_size(l->in[1]) != sample_size(l))
        return cn_sec_errorf(s, CN_ERR_CFG, err,
                             "layer '%s' (%s, %s) does not read a mean and a log-variance of "
                             "its own size; attach kl_gauss to a [sample] layer "
                             "(from=mu,logvar)",
                             l->name, l->ops->type, cn_layer_shape_str(l, shape, sizeof shape));
    return CN_OK;
}

static double kl_gauss_forward(cn_loss *loss, const cn_ctx *ctx)
{
    const cn_layer *l = loss->layer;
    const float *mu = l->in[0]->out.data, *lv = l->in[1]->out.data; /* (n, D) */
    size_t count = (size_t)ctx->n * sample_size(l);
    double sum = 0.0;
    for (size_t i = 0; i < count; i++)
        sum += 1.0 + lv[i] - (double)mu[i] * mu[i] - exp((double)lv[i]);
    return ctx->n ? -0.5 * sum / ctx->n : 0.0;
}

static void kl_gauss_backward(cn_loss *loss, const cn_ctx *ctx)
{
    cn_layer *mu = loss->layer->in[0], *lv = loss->layer->in[1];
    size_t count = (size_t)ctx->n * sample_size(loss->layer);
    if (!ctx->n)
        return;
    float scale = loss->weight / (float)ctx->n;
    if (mu->needs_grad)
        cn_axpy(count, scale, mu->out.data, mu->dout.data);
    if (!lv->needs_grad)
        return;
    const float *v = lv->out.data; /* (n, D) */
    float *dv = lv->dout.data;     /* (n, D) */
    for (size_t i = 0; i < count; i++)
        dv[i] += scale * 0.5f * (expf(v[i]) - 1.0f);
}

const cn_loss_ops cn_loss_kl_gauss = {
    .type = "kl_gauss",
    .keys = NULL,
    .doc = "VAE KL(N(mu, exp(logvar)) || N(0, I)) in nats, summed over z, on a [sample] layer",
    .targets = CN_TARGETS(CN_TARGET_NONE),
    .target_default = CN_TARGET_NONE,
    .offers = CN_OFFER_GAUSS_POSTERIOR,
    .setup = kl_gauss_setup,
    .forward = kl_gauss_forward,
    .backward = kl_gauss_backward,
};
