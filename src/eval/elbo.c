/* elbo.c - evaluation of a variational autoencoder (Kingma & Welling,
 * "Auto-Encoding Variational Bayes", ICLR 2014) and the importance-weighted
 * bound (Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders",
 * ICLR 2016), found through capabilities, never through type names:
 *   - each loss offering CN_OFFER_GAUSS_POSTERIOR is KL(q(z|x) || N(0, I))
 *     for the [sample] layer it is attached to, mu and lv = ln sigma^2 being
 *     that layer's inputs 0 and 1, z its output;
 *   - each loss with an nll slot and target=input gives -ln p(x|z) (bce: a
 *     Bernoulli per pixel), summed over those losses.
 *
 * One pass with z ~ q(z|x) drawn (ev_elbo.c turns sampling on) gives, per
 * sample, -ELBO = -ln p(x|z) + KL (the KL in closed form, as the loss).
 *
 * The IW estimate draws z_1..z_K ~ q(z|x) by K further forward passes:
 *   ln w_k = ln p(x|z_k) + ln p(z_k) - ln q(z_k|x)
 *   ln p(z) - ln q(z|x) = sum_j [-z_j^2 + lv_j + eps_j^2] / 2,
 *                         eps_j = (z_j - mu_j) exp(-lv_j / 2)   (2 pi cancels)
 *   -ln p(x) ~ iw_nll = -(logsumexp_k ln w_k - ln K)
 * iw_nll <= iw_neg_elbo = mean_k (-ln w_k) for the same draws (Jensen), and
 * iw_nll -> -ln p(x) as K grows. The log-sum-exp runs as a streaming
 * maximum and rescaled sum, so no ln w is kept.
 */
#include <math.h>
#include <stdlib.h>

#include "elbo.h"

cn_status cn_elbo_open(const cn_net *net, int iw, cn_elbo *e, cn_error *err)
{
    *e = (cn_elbo){.iw = iw};
    for (int i = 0; i < net->n_losses; i++) {
        const cn_loss *l = &net->losses[i];
        if ((l->ops->offers & CN_OFFER_GAUSS_POSTERIOR) && e->n_kl < CN_ELBO_MAX)
            e->kl[e->n_kl++] = l;
        if (l->ops->nll && l->target_kind == CN_TARGET_INPUT && e->n_rec < CN_ELBO_MAX)
            e->rec[e->n_rec++] = l;
    }
    if (iw <= 0)
        return CN_OK;
    if (!e->n_kl || !e->n_rec)
        return cn_errorf(err, CN_ERR_USAGE, "--iw: %s has no %s, so there is no latent "
                         "posterior to weight (a VAE needs a kl_gauss loss on its [sample] "
                         "layer and a bce loss with target=input)", net->name,
                         e->n_kl ? "likelihood loss (bce) with target=input" : "kl_gauss loss");
    e->top = malloc((size_t)net->batch * sizeof *e->top);
    e->sum = malloc((size_t)net->batch * sizeof *e->sum);
    e->mean = malloc((size_t)net->batch * sizeof *e->mean);
    if (!e->top || !e->sum || !e->mean)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for the IW estimate");
    return CN_OK;
}

/* -ln p(x_s | z_s) of the last forward. */
static double recon_nll(const cn_elbo *e, const cn_ctx *ctx, int s)
{
    double v = 0.0;
    for (int i = 0; i < e->n_rec; i++)
        v += e->rec[i]->ops->nll(e->rec[i], ctx, s);
    return v;
}

void cn_elbo_batch(const cn_elbo *e, const cn_ctx *ctx, cn_metric_acc *acc)
{
    double kl = 0.0, rec = 0.0;
    for (int i = 0; i < e->n_kl; i++)
        kl += e->kl[i]->value * ctx->n; /* the loss is the mean over the batch */
    for (int s = 0; e->n_rec && s < ctx->n; s++)
        rec += recon_nll(e, ctx, s);
    cn_metric_add(acc, "neg_elbo_kl", kl, ctx->n);
    if (!e->n_rec)
        return;
    cn_metric_add(acc, "neg_elbo_recon", rec, ctx->n);
    cn_metric_add(acc, "neg_elbo", rec + kl, ctx->n);
}

double cn_elbo_log_ratio(const cn_elbo *e, int s)
{
    double r = 0.0;
    for (int i = 0; i < e->n_kl; i++) {
        const cn_layer *l = e->kl[i]->layer;
        size_t D = cn_tensor_sample(&l->out), off = (size_t)s * D;
        const float *z = l->out.data + off, *mu = l->in[0]->out.data + off; /* (D) */
        const float *lv = l->in[1]->out.data + off;                          /* (D) */
        for (size_t j = 0; j < D; j++) {
            double eps = ((double)z[j] - mu[j]) * exp(-0.5 * lv[j]);
            r += 0.5 * (-(double)z[j] * z[j] + lv[j] + eps * eps);
        }
    }
    return r;
}

void cn_elbo_iw(cn_net *net, cn_elbo *e, cn_metric_acc *acc)
{
    cn_ctx ctx = {.train = net->train, .sample = 1, .n = net->n, .rng = &net->rng,
                  .pool = net->pool,
                  .labels = net->labels};
    for (int k = 0; k < e->iw; k++) {
        cn_net_forward(net);
        for (int s = 0; s < ctx.n; s++) {
            double lw = -recon_nll(e, &ctx, s) + cn_elbo_log_ratio(e, s);
            if (k == 0) {
                e->top[s] = lw, e->sum[s] = 1.0, e->mean[s] = 0.0;
            } else if (lw > e->top[s]) {
                e->sum[s] = e->sum[s] * exp(e->top[s] - lw) + 1.0;
                e->top[s] = lw;
            } else {
                e->sum[s] += exp(lw - e->top[s]);
            }
            e->mean[s] -= lw / e->iw;
        }
    }
    double nll = 0.0, neg_elbo = 0.0;
    for (int s = 0; s < ctx.n; s++) {
        nll -= e->top[s] + log(e->sum[s]) - log((double)e->iw);
        neg_elbo += e->mean[s];
    }
    cn_metric_add(acc, "iw_nll", nll, ctx.n);
    cn_metric_add(acc, "iw_neg_elbo", neg_elbo, ctx.n);
    cn_metric_add(acc, "iw_k", (double)e->iw * ctx.n, ctx.n);
}

void cn_elbo_close(cn_elbo *e)
{
    free(e->top);
    free(e->sum);
    free(e->mean);
    e->top = e->sum = e->mean = NULL;
}
