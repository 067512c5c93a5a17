/* net_internal.h - the network structure, shared by the core's files
 * (build, net, step, infer, valid, train, ckpt). Layers and losses never
 * see it. */
#ifndef CNET_NET_INTERNAL_H
#define CNET_NET_INTERNAL_H

#include "cnet/cnet.h"
#include "internal.h"

/* What best.ckpt and early stopping watch ([net] monitor). */
typedef enum cn_monitor { CN_MONITOR_LOSS, CN_MONITOR_ACCURACY, CN_MONITOR_CLUSTER_ACC } cn_monitor;
#define CN_MONITOR_CHOICES "loss|accuracy|cluster_acc"

/* Whether a loss offers a Gaussian posterior (a VAE's KL term): its
 * [sample] layers draw in evaluation too, and its loss is a negative ELBO. */
int cn_net_has_posterior(const cn_net *net);

/* The layer whose argmax is a cluster id: the attached layer of the first
 * loss offering CN_OFFER_CLUSTERS, else the first layer offering it, or
 * NULL (valid.c; evaluation's clusters use the same). */
const cn_layer *cn_net_cluster_layer(const cn_net *net);

/* Layer names hashed for O(1) lookup (names.c): slots hold index + 1. */
typedef struct cn_names {
    int *slot;
    size_t mask;
} cn_names;

/* A parameter group (src/groups.c): one [optim] section, its optimizer
 * over the params of the layers naming it, its turn in a round. */
typedef struct cn_group {
    char name[CN_NAME_MAX];
    cn_cfg_section *sec;    /* its [optim], NULL for the defaults */
    int steps;              /* consecutive steps in a round (0: an empty default group) */
    cn_optim *optim;
    cn_param **params;      /* (n_params) borrowed, in the net's order */
    int n_params;
    cn_grad_hook hook;      /* its optimizer as the gradient-ready hook */
    unsigned char *needs;   /* (n_layers) 1: the layer's backward runs in this group's step */
} cn_group;

/* Where the batches of a round come from ([net] alternate). */
enum { CN_ALTERNATE_FRESH, CN_ALTERNATE_SHARED };
#define CN_ALTERNATE_CHOICES "fresh|shared"

struct cn_net {
    char name[64];          /* run name: [net] name or the cfg file stem */
    char file[256];         /* cfg file, for messages */
    int batch;              /* rows of every arena */
    int epochs;             /* [net] epochs */
    int threads;            /* [net] threads (0 = OpenBLAS's default) */
    int monitor;            /* [net] monitor: a cn_monitor */
    int patience;           /* [net] patience (0 = no early stopping) */
    float min_delta;        /* [net] min_delta */
    cn_pool *pool;          /* the threads actually used (include/cnet/pool.h) */
    uint64_t seed;
    cn_rng rng;             /* the one RNG: init, noise, sampling, shuffling */
    int n;                  /* samples in the current batch */
    int train;              /* mode */
    int sample;             /* sampling layers draw in eval mode too */
    int input_grad;         /* compute the input layer's dout */

    cn_layer *layers;       /* (n_layers) in cfg order; [0] is the input */
    int n_layers;
    cn_names names;         /* layers by name */
    double bytes, scratch_bytes; /* memory the layers built so far need (build.c) */
    cn_loss *losses;        /* (n_losses) */
    int n_losses;
    cn_param **params;      /* (n_params) owned parameters, cfg order */
    int n_params;

    float *param_arena;     /* (n_param_floats) values of every parameter */
    float *grad_arena;      /* (n_param_floats) their gradients */
    int grads_zero;         /* the grad arena is zero: an update consumed it */
    size_t n_param_floats;
    float *act_arena;       /* (batch * sum of layer sizes) layer outputs */
    float *dact_arena;      /* same shape: layer output gradients */
    size_t n_act_floats;
    float *scratch;         /* (n_scratch) shared by all layers */
    size_t n_scratch;
    int *labels;            /* (batch) current labels, -1 = none */

    cn_group groups[CN_GROUPS_MAX]; /* (n_groups) in [optim] section order */
    int n_groups;
    int default_group;      /* the group of layers naming none */
    int alternate;          /* [net] alternate: CN_ALTERNATE_* */
    int phase;              /* the group the running step trains, -1: none (every loss +1) */
    long step;              /* batches trained (cn_net_steps) */
    cn_optim *optim;        /* the default group's optimizer */
    const cn_grad_hook *grad_hook; /* the hook a training step's backward uses, or NULL;
                               the default group's hook stands for each group's own */
    uint64_t fingerprint;
};

/* The name index (names.c), sized for n_layers; find gives -1 when absent. */
cn_status cn_names_init(cn_names *t, int n_layers);
void cn_names_free(cn_names *t);
int cn_names_find(const cn_names *t, const cn_layer *layers, const char *name);
void cn_names_add(cn_names *t, const cn_layer *layers, int index);

/* The run name from [net] name `key` as read through s (its [net] view),
 * else the cfg file's stem, checked (runname.c). */
cn_status cn_run_name(const cn_sec *s, const char *key, char *name, size_t size,
                      cn_error *err);

/* A label loss or a label-reading layer with no labelled sample in the
 * training part of d is an error naming it (labelcheck.c). */
cn_status cn_net_check_labelled(const cn_net *net, const cn_data *d, cn_error *err);

/* The run folder's resolved settings (runcfg.c): save writes dir/run.cfg
 * (atomically); resume compares `now` with it, refusing changes that would
 * make another run and logging those it applies (*changed: how many). */
cn_status cn_run_cfg_save(const char *dir, const cn_cfg *cfg, cn_error *err);
cn_status cn_run_cfg_resume(const char *dir, const cn_cfg *now, int *changed, cn_error *err);

/* The context of one section's setup (cn_build_* in build.c): the net being
 * built, the section, and the layer's multipliers and init rule. */
struct cn_build {
    cn_net *net;
    cn_sec *sec;        /* section of the layer being set up */
    float lr_mult, decay_mult, init_scale;
    cn_init init;
    cn_status param_code; /* why the last cn_build_param returned NULL */
    char param_why[192];
};

/* The cn_target_kind a loss `target` word names ("none", "input", "label"),
 * or -1 for a layer reference; no layer may take such a name (build_loss.c). */
int cn_target_word(const char *t);
/* A loss section into *loss, attached at or above layer `current` (build_loss.c). */
cn_status cn_build_loss(cn_net *net, const cn_cfg *cfg, cn_cfg_section *sec, cn_loss *loss,
                        int current, cn_error *err);

/* Build helpers used by build.c only (defined in ref.c). */
cn_status cn_resolve_ref(const cn_net *net, int current, const cn_sec *s, const char *key,
                         const char *ref, cn_layer **out, cn_error *err);
/* Read a layer's `offers` key, a comma list of CN_OFFER_MARK_NAMES, into
 * CN_OFFER_* bits (defined in offers.c). */
cn_status cn_offers_read(cn_sec *s, const char *key, unsigned *out, cn_error *err);

/* Flat float arenas of the net: parameters then grads (for the checkpoint). */
float *cn_net_param_arena(cn_net *net, size_t *count);

/* CN_ERR_SHAPE when a label of ds lies outside the outputs of a label
 * loss's layer or the classes of a layer reading labels (labelcheck.c;
 * cn_eval checks its split too). */
cn_status cn_net_check_labels(const cn_net *net, const cn_dataset *ds, cn_error *err);
/* Sampling layers draw in eval mode from the stream every evaluation of a
 * Gaussian posterior uses (seeded from the net's seed), so validation and
 * cn_eval see the same z (src/valid.c). The caller restores the RNG. */
void cn_net_draw_posterior(cn_net *net);
/* Seconds on the monotonic clock (src/step.c; the phase and epoch timings). */
double cn_now(void);
/* The backward of a step: loss backward, then layer backward in reverse
 * order, with `hook` in the layers' context (NULL: none). */
void cn_net_backward_with(cn_net *net, const cn_grad_hook *hook);
/* The update phase of a CN_STEP_TRAIN step of group g: its optimizer's
 * step for every param of g the hook did not update; it consumes their
 * gradients (the other groups' wait for the next zero_grad). */
void cn_net_update(cn_net *net, int g);

/* ---- parameter groups (groups.c) ---- */
/* Before the layers: one group per [optim] section (name, steps), the
 * default group first when no section is unnamed. */
cn_status cn_groups_scan(cn_net *net, const cn_cfg *cfg, cn_error *err);
/* A layer's `group` key (read through s) into l->group. */
cn_status cn_groups_layer(cn_net *net, cn_layer *l, cn_sec *s, cn_error *err);
/* A loss's `groups` key (read through s) into loss->sign. */
cn_status cn_groups_loss(cn_net *net, cn_loss *loss, cn_sec *s, cn_error *err);
/* After the params are allocated: each group's params and optimizer. */
cn_status cn_groups_create(cn_net *net, const cn_cfg *cfg, cn_error *err);
void cn_groups_free(cn_net *net);
/* Steps group g has taken after `batches` batches of training. */
long cn_groups_t(const cn_net *net, int g, long batches);
/* The group whose step trains batch number `batch` (alternate=fresh). */
int cn_groups_turn(const cn_net *net, long batch);
/* Set the trainer's position: net->step and each optimizer's t. */
void cn_groups_seek(cn_net *net, long batches);
/* The optimizers' state as one array: its floats, and the types "adam+sgd". */
size_t cn_groups_state_floats(const cn_net *net);
void cn_groups_types(const cn_net *net, char *buf, size_t size);
/* The update phase of a CN_STEP_INNER step k (src/infer.c). */
void cn_net_inner_update(cn_net *net, int k);
/* Whether some layer owns inner params (src/infer.c). */
int cn_net_has_inner(const cn_net *net);

#endif
