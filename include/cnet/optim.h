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

/* Learning-rate schedule, a pure function of the step (optim/schedule.c). */
typedef enum cn_sched_kind {
    CN_SCHED_CONSTANT, CN_SCHED_STEP, CN_SCHED_EXP, CN_SCHED_COSINE
} cn_sched_kind;

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

/* Build an optimizer from the cfg's [optim] section (defaults if absent). */
cn_status cn_optim_create(const cn_cfg *cfg, cn_param **params, int n_params, cn_optim **out,
                          cn_error *err);
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

const cn_optim_ops *cn_optim_find(const char *type);
const cn_optim_ops *const *cn_optim_types(void);

#endif
