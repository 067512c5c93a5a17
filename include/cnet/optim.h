/* optim.h - optimizers over the flat parameter list, and LR schedules.
 *
 * An optimizer type is one file in optim/ exporting a `const cn_optim_ops`.
 * It sees only cn_param entries (value, grad, lr_mult, decay_mult, inner),
 * never layers. Its state is flat arrays allocated at setup, saved in the
 * checkpoint so a resumed run continues exactly. Params flagged `inner` (the
 * trainer optimises them per batch) or `buffer` (running statistics) are skipped.
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
};

struct cn_optim_ops {
    const char *type;
    const cn_key *keys;
    const char *doc;
    /* Read keys, allocate state for the params. */
    cn_status (*setup)(cn_optim *o, cn_sec *s, cn_error *err);
    /* One update with learning rate lr of part `part` of `parts` of every
     * non-inner param: the elements cn_optim_share gives (the same result
     * for any split, element by element). */
    void (*step)(cn_optim *o, float lr, int part, int parts);
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
/* One step: lr from the schedule at o->t, then o->t++. */
void cn_optim_step(cn_optim *o);
/* The elements [*lo, *hi) of a param of `count` that part `part` updates. */
void cn_optim_share(size_t count, int part, int parts, size_t *lo, size_t *hi);
void cn_optim_free(cn_optim *o);

const cn_optim_ops *cn_optim_find(const char *type);
const cn_optim_ops *const *cn_optim_types(void);

#endif
