/* registry.c - the evaluators of cn_eval_with (see evaluator.h). Adding a
 * measurement is one file in src/eval/ and one line in the table below.
 *
 * Table order is the order of every phase, and it matters: the evaluators
 * that read the clean pass's outputs come before those that run the net
 * again (iw draws more z, corrupt feeds masked inputs), and the puts follow
 * the order the metrics have always been reported in.
 */
#include <stdlib.h>

#include "evaluator.h"

/* One line per evaluator: X(name) for `const cn_evaluator cn_evaluator_<name>`. */
#define EVALUATORS(X)                                                                        \
    X(losses)    /* always: recon_mse, accuracy, each loss's own metrics */                   \
    X(elbo)      /* CN_OFFER_GAUSS_POSTERIOR: neg_elbo and its terms */                       \
    X(confusion) /* a loss with target=label: per-class P/R/F1 */                             \
    X(sparsity)  /* CN_OFFER_CODE, or --sparsity: code statistics */                          \
    X(jacobian)  /* --jacobian: ||J_x(h)||_F of a dense encoder */                            \
    X(clusters)  /* CN_OFFER_CLUSTERS: clustering accuracy, NMI, ARI */                       \
    X(quantize)  /* --quantize: decoding a quantized code (leaves later layers changed) */    \
    X(iw)        /* --iw: the importance-weighted bound */                                    \
    X(corrupt)   /* --corrupt, --gaussian: reconstruction of corrupted inputs */

#define DECLARE(name) extern const cn_evaluator cn_evaluator_##name;
EVALUATORS(DECLARE)
#define ENTRY(name) &cn_evaluator_##name,
static const cn_evaluator *const table[] = {EVALUATORS(ENTRY)};
#define ONE(name) +1
enum { N_EVALUATORS = 0 EVALUATORS(ONE) };
_Static_assert(N_EVALUATORS <= CN_EVALUATORS_MAX, "raise CN_EVALUATORS_MAX");

unsigned cn_net_offers(const cn_net *net)
{
    unsigned offers = 0;
    for (int i = 0; i < net->n_losses; i++)
        offers |= net->losses[i].ops->offers;
    for (int i = 0; i < net->n_layers; i++)
        offers |= cn_layer_offers(&net->layers[i]);
    return offers;
}

static int applies(const cn_evaluator *e, unsigned offers, const cn_net *net,
                   const cn_eval_opts *o)
{
    if (!e->needs && !e->wants)
        return 1;
    return (e->needs & offers) || (e->wants && e->wants(net, o));
}

cn_status cn_eval_set_open(cn_eval_set *set, const cn_eval_pass *p, cn_error *err)
{
    unsigned offers = cn_net_offers(p->net);
    set->n = 0;
    for (int i = 0; i < N_EVALUATORS; i++) {
        const cn_evaluator *e = table[i];
        if (!applies(e, offers, p->net, p->opts))
            continue;
        void *st = calloc(1, e->size ? e->size : 1);
        if (!st)
            return cn_errorf(err, CN_ERR_NOMEM, "out of memory for evaluation");
        set->ev[set->n] = e;
        set->st[set->n++] = st; /* counted now so close() frees a failed open */
        if (e->open && e->open(st, p, err))
            return err->code;
    }
    return CN_OK;
}

cn_status cn_eval_set_batch(cn_eval_set *set, const cn_eval_pass *p, cn_error *err)
{
    for (int i = 0; i < set->n; i++)
        if (set->ev[i]->batch && set->ev[i]->batch(set->st[i], p, err))
            return err->code;
    return CN_OK;
}

void cn_eval_set_put(const cn_eval_set *set, const cn_eval_pass *p, cn_metrics *out)
{
    for (int i = 0; i < set->n; i++)
        if (set->ev[i]->put)
            set->ev[i]->put(set->st[i], p, out);
}

void cn_eval_set_close(cn_eval_set *set)
{
    for (int i = 0; i < set->n; i++) {
        if (set->ev[i]->close)
            set->ev[i]->close(set->st[i]);
        free(set->st[i]);
    }
    set->n = 0;
}
