/* optim.h - optimizers over the flat parameter list, and LR schedules.
 *
 * An optimizer type is one file in optim/ exporting a `const cn_optim_ops`.
 * It sees only cn_param entries (value, grad, lr_mult, decay_mult, inner),
 * never layers. Its state is flat arrays allocated at setup, saved in the
 * checkpoint so a resumed run continues exactly. Params flagged `inner` (the
 * trainer optimises them per batch) or `buffer` (running statistics) are skipped.
 *
 * A step consumes the gradients: every param's gradient is zero after it.
 * The optimizer also serves as the net's default gradient-ready hook
 * (cn_optim_grad_hook): during a training step's backward it updates a
 * param's elements as soon as the layer says they are final, while they are
 * in cache (cn_optim_claim, cn_optim_update); the step then updates only
 * the params nobody claimed. It never sees layers.
 */
#ifndef CNET_OPTIM_H
#define CNET_OPTIM_H

#include <stdio.h>

#include "layer.h"

typedef struct cn_optim cn_optim;
typedef struct cn_optim_ops cn_optim_ops;

/* The learning-rate schedules after warm-up, one line each:
 * X(KIND, name, lr, doc) makes CN_SCHED_KIND, the [optim] choice
 * schedule=name, its docs/cfg.md line and its entry in cn_schedule_types();
 * `lr`, static in optim/schedule.c (the only file expanding that slot),
 * gives the rate t' steps after warm-up. */
#define CN_SCHEDULES(X)                                                                       \
    X(CONSTANT, constant, sched_constant, "lr")                                               \
    X(STEP, step, sched_step, "lr * gamma^floor(t' / step_size)")                             \
    X(EXP, exp, sched_exp, "lr * gamma^t'")                                                   \
    X(COSINE, cosine, sched_cosine,                                                           \
      "min_lr + (lr - min_lr) * (1 + cos(pi * min(t', T) / T)) / 2, T = total steps - warmup")

/* Learning-rate schedule, a pure function of the step (optim/schedule.c). */
#define CN_SCHED_ENUM_(kind, name, lr, doc) CN_SCHED_##kind,
typedef enum cn_sched_kind { CN_SCHEDULES(CN_SCHED_ENUM_) CN_SCHED_COUNT } cn_sched_kind;

typedef struct cn_schedule {
    cn_sched_kind kind;
    float lr;          /* base learning rate */
    int warmup;        /* linear warm-up steps from 0 to lr */
    int step_size;     /* STEP: multiply by gamma every step_size steps */
    float gamma;       /* STEP/EXP factor (EXP: lr * gamma^step) */
    long total_steps;  /* COSINE: steps to decay over (set by the trainer) */
    float min_lr;      /* COSINE floor */
} cn_schedule;

/* Learning rate at optimizer step t (0-based). */
float cn_schedule_lr(const cn_schedule *s, long t);

/* One schedule of CN_SCHEDULES. */
typedef struct cn_sched_type {
    const char *name; /* the `schedule` choice */
    const char *doc;  /* its rate after warm-up, for docs/cfg.md */
    float (*lr)(const cn_schedule *s, long tp); /* the rate tp >= 0 steps after warm-up */
} cn_sched_type;
/* The schedules in cn_sched_kind order (CN_SCHED_COUNT of them), then a zeroed row. */
const cn_sched_type *cn_schedule_types(void);

struct cn_optim {
    const cn_optim_ops *ops;
    cn_param **params;   /* borrowed list */
    int n_params;
    cn_schedule sched;
    float weight_decay;
    long t;              /* steps taken */
    void *state;
    cn_pool *pool;       /* the net's threads: each updates a share of every param */
    size_t *offset;      /* (n_params) where each trainable param's state starts */
    size_t n_state;      /* trainable floats: the params' counts, inner and buffers left out */
    unsigned char *claimed; /* (n_params) updated during this step's backward */
};

struct cn_optim_ops {
    const char *type;
    const cn_key *keys;
    const char *doc;
    /* Read keys, allocate state for the params. */
    cn_status (*setup)(cn_optim *o, cn_sec *s, cn_error *err);
    /* Update elements [lo, hi) of trainable param i (neither inner nor a
     * buffer) with learning rate lr at step o->t, element by element (so any
     * split gives the same result), and zero their gradient. The state of
     * param i starts at o->offset[i] in each of the type's arrays. */
    void (*update)(cn_optim *o, int i, float lr, size_t lo, size_t hi);
    /* Serialised state: a flat float array of state_floats() values. */
    size_t (*state_floats)(const cn_optim *o);
    float *(*state_data)(cn_optim *o);
    void (*destroy)(cn_optim *o);
};

/* Keys of [optim] common to every type (type, lr, schedule, ...). */
extern const cn_key cn_optim_common_keys[];

/* Build an optimizer from the cfg's [optim] section (defaults if absent;
 * CN_ERR_CFG when there are several: a net builds one per group). */
cn_status cn_optim_create(const cn_cfg *cfg, cn_param **params, int n_params, cn_optim **out,
                          cn_error *err);
/* Build one from the [optim] section sec of cfg (NULL: the defaults). */
cn_status cn_optim_create_in(const cn_cfg *cfg, cn_cfg_section *sec, cn_param **params,
                             int n_params, cn_optim **out, cn_error *err);
/* One step: lr from the schedule at o->t, every unclaimed param updated,
 * every gradient left at zero, then o->t++. */
void cn_optim_step(cn_optim *o);
/* Before this step's cn_optim_step: the index of trainable param p, now
 * marked as updated by the caller, or -1 (not trainable, or o NULL). Call it
 * in one thread, once p's gradient is complete and nothing in the rest of
 * the backward pass reads p. */
int cn_optim_claim(cn_optim *o, const cn_param *p);
/* Elements [lo, hi) of claimed param i, at this step's learning rate. */
void cn_optim_update(cn_optim *o, int i, size_t lo, size_t hi);
/* The gradient-ready hook that updates each claimed param at once: claim
 * is cn_optim_claim, ready is cn_optim_update (net.h: cn_net_set_grad_hook). */
cn_grad_hook cn_optim_grad_hook(cn_optim *o);
/* The elements [*lo, *hi) of a param of `count` that part `part` updates. */
void cn_optim_share(size_t count, int part, int parts, size_t *lo, size_t *hi);
void cn_optim_free(cn_optim *o);

/* An optimizer type by name (built-in or registered), or NULL. */
const cn_optim_ops *cn_optim_find(const char *type);
/* NULL-terminated list of every optimizer type: built-ins, then registered ones. */
const cn_optim_ops *const *cn_optim_types(void);
/* Add an optimizer type, which [optim] type= then accepts; as for layers
 * (layer.h), before building nets and not thread-safe. CN_ERR_CFG when ops
 * is NULL, lacks setup, update, state_floats or state_data, its type is not
 * 1 to CN_NAME_MAX-1 characters of [a-z0-9_] or already an optimizer type,
 * or CN_REGISTER_MAX optimizer types were already registered. */
cn_status cn_optim_register(const cn_optim_ops *ops, cn_error *err);

#endif
