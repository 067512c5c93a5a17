/* ev_elbo.c - the evaluators of a variational autoencoder (elbo.c has the
 * math): a net whose loss offers CN_OFFER_GAUSS_POSTERIOR (KL(q(z|x) ||
 * N(0, I)) of its [sample] layer's mu and logvar) reports neg_elbo and its
 * terms; `--iw K` adds the importance-weighted bound, and is a usage error
 * on a net without such a loss and a likelihood loss with target=input.
 *
 * The ELBO is an expectation over q(z|x), so while it is measured the
 * sample layers draw z in eval mode too, from a stream seeded with the
 * net's seed (cn_eval_with restores the net's RNG and sampling after).
 */
#include "elbo.h"
#include "evaluator.h"

static cn_status elbo_open(void *st, const cn_eval_pass *p, cn_error *err)
{
    cn_elbo *e = st;
    if (cn_elbo_open(p->net, 0, e, err))
        return err->code;
    cn_net_draw_posterior(p->net);
    return CN_OK;
}

static cn_status elbo_batch(void *st, const cn_eval_pass *p, cn_error *err)
{
    (void)err;
    cn_elbo_batch(st, &p->ctx, p->acc);
    return CN_OK;
}

static void elbo_close(void *st)
{
    cn_elbo_close(st);
}

const cn_evaluator cn_evaluator_elbo = {
    .name = "elbo",
    .needs = CN_OFFER_GAUSS_POSTERIOR,
    .size = sizeof(cn_elbo),
    .open = elbo_open,
    .batch = elbo_batch,
    .close = elbo_close,
};

static int iw_wanted(const cn_net *net, const cn_eval_opts *o)
{
    (void)net;
    return o->iw > 0;
}

static cn_status iw_open(void *st, const cn_eval_pass *p, cn_error *err)
{
    return cn_elbo_open(p->net, p->opts->iw, st, err);
}

/* K more passes of the batch, after everything that reads the clean one. */
static cn_status iw_batch(void *st, const cn_eval_pass *p, cn_error *err)
{
    (void)err;
    cn_elbo_iw(p->net, st, p->acc);
    return CN_OK;
}

const cn_evaluator cn_evaluator_iw = {
    .name = "iw",
    .wants = iw_wanted,
    .size = sizeof(cn_elbo),
    .open = iw_open,
    .batch = iw_batch,
    .close = elbo_close,
};
