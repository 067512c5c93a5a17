/* schedule.c - learning-rate schedules, pure functions of the step.
 *
 * With base rate lr and warm-up w, at optimizer step t (0-based):
 *   t <  w : lr * (t+1) / w                      linear warm-up to lr
 *   t >= w : with t' = t - w,
 *     constant  lr
 *     step      lr * gamma^floor(t' / step_size)
 *     exp       lr * gamma^t'                      (gamma per step)
 *     cosine    min_lr + (lr - min_lr) * (1 + cos(pi * min(t', T) / T)) / 2,
 *               T = total_steps - w                (SGDR without restarts,
 *               Loshchilov & Hutter 2017); T <= 0 means lr.
 * Powers and the cosine are taken in double, then rounded once to float.
 * A new schedule is one line in CN_SCHEDULES (include/cnet/optim.h) and its
 * function below.
 */
#include <math.h>

#include "cnet/optim.h"
#include "internal.h"

/* The rate tp steps after warm-up, one function per line of CN_SCHEDULES. */
static float sched_constant(const cn_schedule *s, long tp)
{
    (void)tp;
    return s->lr;
}

static float sched_step(const cn_schedule *s, long tp)
{
    return (float)(s->lr * pow(s->gamma, (double)(tp / CN_MAX(s->step_size, 1))));
}

static float sched_exp(const cn_schedule *s, long tp)
{
    return (float)(s->lr * pow(s->gamma, (double)tp));
}

static float sched_cosine(const cn_schedule *s, long tp)
{
    long span = s->total_steps - s->warmup; /* T: steps to decay over */
    if (span <= 0)
        return s->lr;
    double frac = (double)CN_MIN(tp, span) / (double)span;
    return (float)(s->min_lr + (s->lr - s->min_lr) * 0.5 * (1.0 + cos(M_PI * frac)));
}

#define ENTRY(kind, name, lr, doc) {#name, doc, lr},
static const cn_sched_type types[] = {CN_SCHEDULES(ENTRY){0, 0, 0}};

const cn_sched_type *cn_schedule_types(void)
{
    return types;
}

float cn_schedule_lr(const cn_schedule *s, long t)
{
    if (t < 0)
        t = 0;
    if (t < s->warmup)
        return (float)((double)s->lr * (double)(t + 1) / (double)s->warmup);
    long tp = t - s->warmup; /* steps since the end of warm-up */
    /* a kind out of range (a hand-made cn_schedule) holds lr, as it always did */
    if ((unsigned)s->kind >= CN_SCHED_COUNT)
        return s->lr;
    return types[s->kind].lr(s, tp);
}
