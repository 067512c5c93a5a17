/* ev_sparsity.c - the evaluator of sparse codes: the sparsity statistics
 * (codestat.c) of the layer named by --sparsity, then of every layer that is
 * a code: the attached layer of a loss offering CN_OFFER_CODE (kl_sparse),
 * or a layer offering it (the cfg key offers=code). Each layer once.
 */
#include <stdlib.h>

#include "codestat.h"
#include "evaluator.h"

typedef struct sparsity_ev {
    cn_sparsity *sp; /* (n) one per measured layer */
    int n;
} sparsity_ev;

static int sparsity_wanted(const cn_net *net, const cn_eval_opts *o)
{
    (void)net;
    return o->sparsity != NULL;
}

static cn_status add(sparsity_ev *x, const cn_layer *l, cn_error *err)
{
    for (int i = 0; i < x->n; i++)
        if (x->sp[i].layer == l)
            return CN_OK;
    return cn_sparsity_init(&x->sp[x->n++], l, err);
}

static cn_status sparsity_open(void *st, const cn_eval_pass *p, cn_error *err)
{
    sparsity_ev *x = st;
    const cn_net *net = p->net;
    cn_layer *l;
    x->sp = calloc((size_t)net->n_losses + (size_t)net->n_layers + 1, sizeof *x->sp);
    if (!x->sp)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for evaluation");
    if (p->opts->sparsity &&
        (cn_layer_lookup(net, p->opts->sparsity, "sparsity", &l, err) || add(x, l, err)))
        return err->code;
    for (int i = 0; i < net->n_losses; i++)
        if ((net->losses[i].ops->offers & CN_OFFER_CODE) && add(x, net->losses[i].layer, err))
            return err->code;
    for (int i = 0; i < net->n_layers; i++)
        if ((cn_layer_offers(&net->layers[i]) & CN_OFFER_CODE) && add(x, &net->layers[i], err))
            return err->code;
    return CN_OK;
}

static cn_status sparsity_batch(void *st, const cn_eval_pass *p, cn_error *err)
{
    (void)err;
    sparsity_ev *x = st;
    for (int i = 0; i < x->n; i++)
        cn_sparsity_add(&x->sp[i], p->ctx.n);
    return CN_OK;
}

static void sparsity_put(const void *st, const cn_eval_pass *p, cn_metrics *out)
{
    (void)p;
    const sparsity_ev *x = st;
    for (int i = 0; i < x->n; i++)
        cn_sparsity_put(&x->sp[i], out);
}

static void sparsity_close(void *st)
{
    sparsity_ev *x = st;
    for (int i = 0; i < x->n; i++)
        cn_sparsity_free(&x->sp[i]);
    free(x->sp);
}

const cn_evaluator cn_evaluator_sparsity = {
    .name = "sparsity",
    .needs = CN_OFFER_CODE,
    .wants = sparsity_wanted,
    .size = sizeof(sparsity_ev),
    .open = sparsity_open,
    .batch = sparsity_batch,
    .put = sparsity_put,
    .close = sparsity_close,
};
