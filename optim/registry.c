/* registry.c - the optimizer types, the [optim] section and the step driver.
 *
 * [optim] is optional: without it every key takes its table default (plain
 * SGD, lr 0.01, constant schedule). The section is read through the common
 * keys below plus the chosen type's keys; any other key is an error.
 * One step: lr = schedule(t); the type's update with that lr; t++.
 */
#include <stdlib.h>
#include <string.h>

#include "cnet/optim.h"
#include "internal.h"

/* The optimizer types, one line each (cn_optim_<type> in optim/<file>.c),
 * in the order of `cnet doc` and of the `type` key's choices; those of
 * cn_optim_register (src/register.c) follow. */
#define OPTIM_TYPES(X) \
    X(sgd)             \
    X(adam)            \
    X(adamw)

#define DECLARE(t) extern const cn_optim_ops cn_optim_##t;
OPTIM_TYPES(DECLARE)

#define ENTRY(t) &cn_optim_##t,
#define ONE(t) +1
enum { N_BUILTIN = 0 OPTIM_TYPES(ONE) };

/* Built-ins, then the registered types, then NULL. */
static const cn_optim_ops *optim_types[N_BUILTIN + CN_REGISTER_MAX + 1] = {
    OPTIM_TYPES(ENTRY) NULL};
static int n_types = N_BUILTIN;

/* The choices strings "|a|b|c", read from their second character: `type`'s
 * grows with each registered type, so index i of the choice is optim_types[i]. */
#define CHOICE(t) "|" #t
static char type_choices[sizeof(OPTIM_TYPES(CHOICE)) + CN_REGISTER_MAX * CN_NAME_MAX] =
    OPTIM_TYPES(CHOICE);
#define SCHED_CHOICE(kind, name, lr, doc) "|" #name
static const char sched_choices[] = CN_SCHEDULES(SCHED_CHOICE);

const cn_key cn_optim_common_keys[] = {
    {"type", CN_KEY_ENUM, "sgd", type_choices + 1, "optimizer type"},
    {"lr", CN_KEY_FLOAT, "0.01", "(0, inf)", "base learning rate (> 0)"},
    {"schedule", CN_KEY_ENUM, "constant", sched_choices + 1,
     "learning-rate schedule after warm-up (the list below)"},
    {"warmup", CN_KEY_INT, "0", "[0, 1000000000]", "steps of linear warm-up from lr/warmup to lr (>= 0)"},
    {"step_size", CN_KEY_INT, "1000", "[1, 2147483647]", "schedule=step: steps between decays (>= 1)"},
    {"gamma", CN_KEY_FLOAT, "0.1", "(0, inf)", "schedule=step|exp: decay factor (> 0)"},
    {"min_lr", CN_KEY_FLOAT, "0", "[0, inf)", "schedule=cosine: final learning rate (0 <= min_lr <= lr)"},
    {"weight_decay", CN_KEY_FLOAT, "0", "[0, inf)",
     "L2 weight decay (>= 0), times each parameter's decay_mult; coupled into the gradient "
     "for sgd and adam, decoupled for adamw"},
    {"name", CN_KEY_STRING, "", NULL,
     "the parameter group this section trains: the layers with group = name (none: the "
     "group 'default', the layers naming no group); docs/training.md"},
    {"steps", CN_KEY_INT, "1", "[1, 1000]",
     "with several groups: the consecutive steps this group takes in each round of "
     "alternating training (e.g. k for a discriminator, 1 for its generator)"},
    CN_KEY_END,
};

const cn_optim_ops *const *cn_optim_types(void)
{
    return optim_types;
}

const cn_optim_ops *cn_optim_find(const char *type)
{
    for (int i = 0; type && optim_types[i]; i++)
        if (!strcmp(optim_types[i]->type, type))
            return optim_types[i];
    return NULL;
}

int cn_optim_types_add(const cn_optim_ops *ops)
{
    if (n_types - N_BUILTIN >= CN_REGISTER_MAX)
        return -1;
    /* room: CN_NAME_MAX per registered type, '|' included (names are shorter) */
    size_t len = strlen(type_choices);
    snprintf(type_choices + len, sizeof type_choices - len, "|%s", ops->type);
    optim_types[n_types++] = ops;
    return 0;
}

/* The common keys into o->sched and o->weight_decay (total_steps stays 0). */
static cn_status read_common(cn_optim *o, cn_sec *s, cn_error *err)
{
    cn_schedule *sc = &o->sched;
    int kind, steps;
    const char *name; /* read (and checked) by src/groups.c; read here for a bare optimizer */
    cn_status st;
    if ((st = cn_sec_str(s, "name", &name, err)) || (st = cn_sec_int(s, "steps", &steps, err)) ||
        (st = cn_sec_float(s, "lr", &sc->lr, err)) ||
        (st = cn_sec_enum(s, "schedule", &kind, err)) ||
        (st = cn_sec_int(s, "warmup", &sc->warmup, err)) ||
        (st = cn_sec_int(s, "step_size", &sc->step_size, err)) ||
        (st = cn_sec_float(s, "gamma", &sc->gamma, err)) ||
        (st = cn_sec_float(s, "min_lr", &sc->min_lr, err)) ||
        (st = cn_sec_float(s, "weight_decay", &o->weight_decay, err)))
        return st;
    sc->kind = (cn_sched_kind)kind; /* the choices are CN_SCHEDULES, in cn_sched_kind order */
    sc->total_steps = 0;
    if (sc->kind == CN_SCHED_COSINE && sc->min_lr > sc->lr)
        return cn_sec_bad(s, "min_lr", CN_ERR_CFG, err,
                          "must not exceed lr = %g, the cosine schedule decays to it",
                          (double)sc->lr);
    return CN_OK;
}

/* The [optim] section into *out, NULL when there is none (or no cfg). */
static cn_status optim_section(const cn_cfg *cfg, cn_cfg_section **out, cn_error *err)
{
    *out = NULL;
    for (int i = 0; cfg && i < cfg->n_sections; i++) {
        cn_cfg_section *sec = &cfg->sections[i];
        if (cn_section_find(sec->type) != CN_SECTION_OPTIM)
            continue;
        if (*out)
            return cn_errorf(err, CN_ERR_CFG, "%s:%d: [optim]: a second [optim] section "
                             "(the first is at line %d)", cfg->file, sec->line, (*out)->line);
        *out = sec;
    }
    return CN_OK;
}

static int trainable(const cn_param *p) { return !p->inner && !p->buffer; }

cn_status cn_optim_create(const cn_cfg *cfg, cn_param **params, int n_params, cn_optim **out,
                          cn_error *err)
{
    cn_cfg_section *sec;
    *out = NULL;
    cn_status st = optim_section(cfg, &sec, err);
    return st ? st : cn_optim_create_in(cfg, sec, params, n_params, out, err);
}

cn_status cn_optim_create_in(const cn_cfg *cfg, cn_cfg_section *sec, cn_param **params,
                             int n_params, cn_optim **out, cn_error *err)
{
    cn_optim *o = NULL;
    int type;
    cn_status st;
    *out = NULL;
    /* Without a section (sec NULL) every key reads as its table default.
     * The type picks the second key table, so read it through the first alone. */
    cn_sec head = cn_sec_make(cfg, sec, cn_optim_common_keys, NULL, NULL);
    if ((st = cn_sec_enum(&head, "type", &type, err)))
        return st;
    o = calloc(1, sizeof *o);
    if (!o)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for the optimizer");
    o->ops = optim_types[type];
    o->params = params;
    o->n_params = n_params;
    o->offset = calloc((size_t)n_params + 1, sizeof *o->offset);
    o->claimed = calloc((size_t)n_params + 1, 1);
    if (!o->offset || !o->claimed) {
        st = cn_errorf(err, CN_ERR_NOMEM, "out of memory for the optimizer");
        goto fail;
    }
    for (int i = 0; i < n_params; i++) {
        o->offset[i] = o->n_state;
        if (trainable(params[i]))
            o->n_state += params[i]->count;
    }
    cn_sec s = cn_sec_make(cfg, sec, cn_optim_common_keys, o->ops->keys, NULL);
    if ((st = read_common(o, &s, err)) || (st = o->ops->setup(o, &s, err)) ||
        (st = cn_sec_finish(&s, err)))
        goto fail;
    *out = o;
    return CN_OK;
fail:
    cn_optim_free(o);
    return st;
}

typedef struct step_task {
    cn_optim *o;
    float lr;
} step_task;

/* Part `part` of every unclaimed param, last param first: the first layers'
 * weights, which the next forward reads first, are then the ones in cache. */
static void step_part(void *arg, int part, int parts)
{
    step_task *t = arg;
    cn_optim *o = t->o;
    for (int i = o->n_params - 1; i >= 0; i--) {
        cn_param *p = o->params[i];
        size_t lo, hi;
        cn_optim_share(p->count, part, parts, &lo, &hi);
        if (!trainable(p)) /* consumed all the same */
            memset(p->grad + lo, 0, (hi - lo) * sizeof *p->grad);
        else if (!o->claimed[i])
            o->ops->update(o, i, t->lr, lo, hi);
    }
}

void cn_optim_step(cn_optim *o)
{
    step_task t = {o, cn_schedule_lr(&o->sched, o->t)};
    int all_claimed = 1; /* then there is nothing to wake the pool for */
    for (int i = 0; i < o->n_params && all_claimed; i++)
        all_claimed = o->claimed[i];
    if (!all_claimed)
        cn_pool_run(o->pool, step_part, &t);
    memset(o->claimed, 0, (size_t)o->n_params);
    o->t++;
}

int cn_optim_claim(cn_optim *o, const cn_param *p)
{
    for (int i = 0; o && i < o->n_params; i++)
        if (o->params[i] == p) {
            if (!trainable(p))
                return -1;
            o->claimed[i] = 1;
            return i;
        }
    return -1;
}

void cn_optim_update(cn_optim *o, int i, size_t lo, size_t hi)
{
    o->ops->update(o, i, cn_schedule_lr(&o->sched, o->t), lo, hi);
}

static int hook_claim(void *o, const cn_param *p)
{
    return cn_optim_claim(o, p);
}

static void hook_ready(void *o, int i, size_t lo, size_t hi)
{
    cn_optim_update(o, i, lo, hi);
}

cn_grad_hook cn_optim_grad_hook(cn_optim *o)
{
    return (cn_grad_hook){hook_claim, hook_ready, o};
}

void cn_optim_share(size_t count, int part, int parts, size_t *lo, size_t *hi)
{
    cn_pool_share(count, 16, part, parts, lo, hi); /* 16 floats: one cache line */
}

void cn_optim_free(cn_optim *o)
{
    if (!o)
        return;
    if (o->ops && o->ops->destroy)
        o->ops->destroy(o);
    free(o->offset);
    free(o->claimed);
    free(o);
}
