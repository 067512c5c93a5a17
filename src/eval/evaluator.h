/* evaluator.h - the measurements cn_eval_with runs, by capability
 * (src/eval/registry.c holds the table).
 *
 * An evaluator measures one thing over an evaluation pass (the losses' own
 * metrics, the ELBO, the clustering of a layer's argmax, ...). It says when
 * it applies through the capabilities it needs, which losses and layers
 * offer (CN_OFFER_* in cnet/layer.h), or through a predicate on the net and
 * the options, so evaluation never names a loss or a layer type. Each one
 * opens (finds what it measures; a usage error names the option), takes
 * every batch, puts its metrics and closes. Metrics summed per batch go
 * through cn_metric_add (they print before any put).
 */
#ifndef CNET_EVAL_EVALUATOR_H
#define CNET_EVAL_EVALUATOR_H

#include "match.h" /* cn_argmax */
#include "net_internal.h"

/* What an evaluator sees of the pass. */
typedef struct cn_eval_pass {
    cn_net *net;
    const cn_dataset *ds;     /* the split's dataset (labels, n_classes) */
    const cn_eval_opts *opts; /* never NULL */
    int n_idx;                /* samples in the split */
    /* each batch: */
    cn_batch b;               /* the batch just run clean: inputs, labels, n */
    cn_ctx ctx;               /* its context (labels as the net holds them) */
    int seen;                 /* samples of the split before this batch */
    cn_metric_acc *acc;       /* sums that become metrics */
} cn_eval_pass;

typedef struct cn_evaluator {
    const char *name;
    /* Runs when a loss or a layer offers one of `needs`, or when `wants`
     * says so; with neither it always runs. */
    unsigned needs;
    int (*wants)(const cn_net *net, const cn_eval_opts *o);
    size_t size; /* bytes of its state, zeroed before open */
    cn_status (*open)(void *st, const cn_eval_pass *p, cn_error *err);
    /* After the clean forward pass of a batch; may run the net again. */
    cn_status (*batch)(void *st, const cn_eval_pass *p, cn_error *err);
    void (*put)(const void *st, const cn_eval_pass *p, cn_metrics *out); /* may be NULL */
    void (*close)(void *st);                                             /* may be NULL */
} cn_evaluator;

#define CN_EVALUATORS_MAX 16

/* The evaluators that apply to one pass, with their states. */
typedef struct cn_eval_set {
    const cn_evaluator *ev[CN_EVALUATORS_MAX];
    void *st[CN_EVALUATORS_MAX];
    int n;
} cn_eval_set;

/* Open, in table order, every evaluator that applies to p->net and p->opts. */
cn_status cn_eval_set_open(cn_eval_set *set, const cn_eval_pass *p, cn_error *err);
/* Give each the batch just run, in table order. */
cn_status cn_eval_set_batch(cn_eval_set *set, const cn_eval_pass *p, cn_error *err);
/* Each one's metrics, in table order. */
void cn_eval_set_put(const cn_eval_set *set, const cn_eval_pass *p, cn_metrics *out);
void cn_eval_set_close(cn_eval_set *set);

/* The capabilities the net's losses and layers offer (CN_OFFER_* bits). */
unsigned cn_net_offers(const cn_net *net);

#endif
