/* sample.c - the reparameterised Gaussian sample of a variational
 * autoencoder (Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR
 * 2014): a layer reading the mean and the log-variance of q(z|x).
 *
 * Legend: n samples, D = c*h*w values of each input; mu, lv (n, D) the
 * inputs from=mu,logvar (in that order); z, dz (n, D) the output and its
 * gradient; eps (n, D) the noise of the last forward.
 *
 *   forward   z = mu + exp(lv / 2) * eps,  eps ~ N(0, 1) from the net's RNG
 *             when drawing (training, ctx->sample, or sample_eval=1),
 *             eps = 0 otherwise, so z = mu (the code of the posterior mean)
 *   backward  dmu += dz;  dlv += dz * exp(lv / 2) * eps / 2
 *
 * The noise is drawn sample by sample, value by value, and kept for
 * backward. The KL term of the ELBO is the kl_gauss loss attached here.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const cn_key keys[] = {
    {"sample_eval", CN_KEY_BOOL, "0", NULL,
     "draw z in eval mode too (default: z = mu; evaluation of a net with a kl_gauss loss "
     "always draws)"},
    CN_KEY_END};

typedef struct sample_state {
    int sample_eval;
    size_t D;   /* values per sample */
    float *eps; /* (batch, D) the noise of the last forward, 0 when not drawing */
} sample_state;

static cn_status sample_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    sample_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    cn_status rc = cn_sec_bool(s, "sample_eval", &st->sample_eval, err);
    if (rc)
        return rc;
    const cn_layer *mu = l->in[0], *lv = l->in[1];
    if (mu->c != lv->c || mu->h != lv->h || mu->w != lv->w) {
        char a[64], c[64];
        return cn_sec_bad(s, "from", CN_ERR_SHAPE, err,
                          "the mean '%s' (%s) and the log-variance '%s' (%s) must have the "
                          "same shape",
                          mu->name, cn_layer_shape_str(mu, a, sizeof a), lv->name,
                          cn_layer_shape_str(lv, c, sizeof c));
    }
    l->c = mu->c, l->h = mu->h, l->w = mu->w;
    st->D = (size_t)l->c * l->h * l->w;
    st->eps = cn_build_alloc(b, l, (size_t)cn_build_batch(b) * st->D * sizeof *st->eps);
    if (!st->eps)
        return cn_build_error(b, l, err);
    return CN_OK;
}

static void sample_forward(cn_layer *l, const cn_ctx *ctx)
{
    sample_state *st = l->state;
    const float *mu = l->in[0]->out.data, *lv = l->in[1]->out.data; /* (n, D) */
    float *z = l->out.data;                                         /* (n, D) */
    size_t count = (size_t)ctx->n * st->D;
    if (!(ctx->train || ctx->sample || st->sample_eval)) {
        memset(st->eps, 0, count * sizeof *st->eps); /* backward: no gradient into lv */
        memcpy(z, mu, count * sizeof *z);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        st->eps[i] = cn_rng_normal(ctx->rng);
        z[i] = mu[i] + expf(0.5f * lv[i]) * st->eps[i];
    }
}

static void sample_backward(cn_layer *l, const cn_ctx *ctx)
{
    const sample_state *st = l->state;
    cn_layer *mu = l->in[0], *lv = l->in[1];
    size_t count = (size_t)ctx->n * st->D;
    const float *dz = l->dout.data; /* (n, D) */
    if (mu->needs_grad)
        cn_axpy(count, 1.0f, dz, mu->dout.data);
    if (!lv->needs_grad)
        return;
    const float *v = lv->out.data; /* (n, D) */
    float *dv = lv->dout.data;     /* (n, D) */
    for (size_t i = 0; i < count; i++)
        dv[i] += dz[i] * 0.5f * expf(0.5f * v[i]) * st->eps[i];
}

static void sample_destroy(cn_layer *l)
{
    sample_state *st = l->state;
    if (st)
        free(st->eps);
    free(st);
    l->state = NULL;
}

const cn_layer_ops cn_layer_sample = {
    .type = "sample",
    .keys = keys,
    .doc = "VAE reparameterised sample z = mu + exp(logvar/2) eps (from=mu,logvar); "
           "z = mu in eval mode",
    .n_inputs_min = 2,
    .n_inputs_max = 2,
    .setup = sample_setup,
    .forward = sample_forward,
    .backward = sample_backward,
    .destroy = sample_destroy,
};
