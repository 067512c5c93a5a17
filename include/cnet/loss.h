/* loss.h - the loss interface: attached, targeted, weighted, self-reporting.
 *
 * A loss type is one file in losses/ exporting a `const cn_loss_ops` and one
 * line in losses/registry.c. A loss section names the layer it attaches to
 * (`layer=`, default: the last layer), a target (`target=input` = the clean
 * network input, `label`, a layer reference, or `none`) and a `weight`.
 * forward() returns the UNWEIGHTED value, mean over the batch unless the
 * type documents otherwise; backward() ADDS weight * dL/d(out) into the
 * attached layer's dout (and, with target_grad=1, into a target layer's
 * dout), and may add into the attached layer's parameter gradients.
 * backward() reads `weight` as its effective weight: a [combine] loss calls
 * the backward of the losses it uses with their weight scaled by the
 * expression's derivative, so no loss needs to know about combining.
 */
#ifndef CNET_LOSS_H
#define CNET_LOSS_H

#include "layer.h"

typedef enum cn_target_kind {
    CN_TARGET_NONE,  /* the loss needs no target */
    CN_TARGET_INPUT, /* the clean network input */
    CN_TARGET_LABEL, /* integer class labels (ctx->labels) */
    CN_TARGET_LAYER  /* another layer's output (constant unless target_grad) */
} cn_target_kind;

/* Which targets a loss type accepts (bit set of 1 << cn_target_kind). */
#define CN_TARGETS(k) (1u << (k))

typedef struct cn_loss cn_loss;
typedef struct cn_loss_ops cn_loss_ops;

/* Most parameter groups a net has ([optim] sections; net.h). */
#define CN_GROUPS_MAX 8

struct cn_loss {
    const cn_loss_ops *ops;
    char name[CN_NAME_MAX];  /* name= or the type */
    int cfg_line;
    cn_layer *layer;         /* attached layer */
    cn_target_kind target_kind;
    cn_layer *target;        /* CN_TARGET_INPUT: the input layer; LAYER: that layer */
    int target_grad;         /* let gradient flow into a target layer */
    float weight;
    signed char sign[CN_GROUPS_MAX]; /* per parameter group (key groups): +1 the loss trains
                                        it, -1 it trains it against the loss (ascends it),
                                        0 not at all; every group +1 by default */
    double value;            /* last unweighted forward() value */
    void *state;             /* type-private */
    cn_build *build;         /* during setup() only: the builder (cn_loss_consume) */
    cn_loss *consumed;       /* the loss that consumes this loss's value, or NULL: the net
                                neither adds it to the total nor runs its backward; the
                                consumer does (cn_loss_consume) */
};

/* Sums a loss can add to during evaluation; see cn_loss_ops.metrics. */
typedef struct cn_metric_acc cn_metric_acc;
/* Add `value` (already summed over `count` samples) to a named eval metric. */
void cn_metric_add(cn_metric_acc *acc, const char *name, double value, double count);

struct cn_loss_ops {
    const char *type;
    const cn_key *keys;        /* type-specific keys (common ones are added by the builder) */
    const char *doc;           /* one line for docs/cfg.md */
    unsigned targets;          /* accepted cn_target_kind bits */
    cn_target_kind target_default;
    unsigned offers;           /* CN_OFFER_* bits (cnet/layer.h): what the loss, or the
                                  layer it is attached to, offers to evaluation */
    /* Read keys, check the attached layer and target shapes. May be NULL. */
    cn_status (*setup)(cn_loss *loss, cn_sec *s, cn_error *err);
    double (*forward)(cn_loss *loss, const cn_ctx *ctx);
    void (*backward)(cn_loss *loss, const cn_ctx *ctx);
    /* Optional, for losses that are a likelihood of their target (bce: Bernoulli):
     * -ln p(target_s | output_s) in nats of sample s of the last forward(), summed
     * over its values whatever the reduction. The ELBO and --iw read it. */
    double (*nll)(const cn_loss *loss, const cn_ctx *ctx, int s);
    /* Optional: add eval metrics for this batch (called after forward). */
    void (*metrics)(cn_loss *loss, const cn_ctx *ctx, cn_metric_acc *acc);
    void (*destroy)(cn_loss *loss); /* may be NULL */
    /* Optional: a whole tiny net using the type ([net] batch and input, a
     * layer, then its section), which the test suite's gradient-check sweep
     * runs when its fixture tables have no row for the type. */
    const char *example;
};

/* For setup(): the loss called `name` above this one, which `loss` will
 * consume (cn_loss.consumed): the net stops counting it and running its
 * backward. Errors (CN_ERR_CFG) cite key `key` of s: no such loss (listing
 * the losses above), two of that name, or one another loss consumes. With s
 * NULL, err->msg is the bare reason, for a caller that cites the place. */
cn_status cn_loss_consume(cn_loss *loss, cn_sec *s, const char *key, const char *name,
                          cn_loss **out, cn_error *err);

/* The target tensor of a loss (input or layer output), or NULL. */
const cn_tensor *cn_loss_target(const cn_loss *loss);
/* Sample s's class for a target=label loss: its label when that is in
 * [0, D), D the attached layer's values per sample; -1 when the sample is
 * unlabelled (or the batch has no labels) and so does not count. */
int cn_loss_label(const cn_loss *loss, const cn_ctx *ctx, int s);
/* How many of the batch's ctx->n samples have a class (cn_loss_label >= 0). */
int cn_loss_n_labelled(const cn_loss *loss, const cn_ctx *ctx);

/* ---- registry (losses/registry.c; registration checks: src/register.c) ----
 * As for layers (layer.h): register before building nets, not thread-safe. */

/* A loss type by section name (built-in or registered), or NULL. */
const cn_loss_ops *cn_loss_find(const char *type);
/* NULL-terminated list of every loss type: built-ins, then registered ones. */
const cn_loss_ops *const *cn_loss_types(void);
/* Add a loss type; `ops` must outlive every use. CN_ERR_CFG when ops is
 * NULL, lacks forward or backward, does not accept its target_default, its
 * type is not 1 to CN_NAME_MAX-1 characters of [a-z0-9_], names a special
 * section or an existing layer or loss type, or CN_REGISTER_MAX loss types
 * were already registered. */
cn_status cn_loss_register(const cn_loss_ops *ops, cn_error *err);

#endif
