/* adam.c - Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019),
 * step for step as torch.optim.Adam / AdamW (amsgrad off).
 *
 * Per parameter p, with lr_p = lr * p.lr_mult, wd_p = weight_decay * p.decay_mult
 * and t = the number of this step (1-based):
 *   adamw:  w = w - lr_p * wd_p * w       decoupled decay, before the Adam step
 *   adam:   g = grad + wd_p * w           coupled L2 decay (adamw: g = grad)
 *   m = b1 * m + (1 - b1) * g             first moment
 *   v = b2 * v + (1 - b2) * g^2           second moment
 *   w = w - lr_p * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * The last line is evaluated as
 *   w -= (lr_p / (1 - b1^t)) * m / (sqrt(v) * (1 / sqrt(1 - b2^t)) + eps).
 * State: m then v, each the non-inner params' values back to back.
 */
#include <math.h>
#include <stdlib.h>

#include "cnet/optim.h"
#include "internal.h"

static const cn_key adam_keys[] = {
    {"beta1", CN_KEY_FLOAT, "0.9", "[0, 1)", "decay of the first-moment average, in [0, 1)"},
    {"beta2", CN_KEY_FLOAT, "0.999", "[0, 1)", "decay of the second-moment average, in [0, 1)"},
    {"eps", CN_KEY_FLOAT, "1e-8", "(0, inf)", "added to the root of the second moment (> 0)"},
    CN_KEY_END,
};

typedef struct adam_state {
    float beta1, beta2, eps;
    int decoupled; /* AdamW: decay applied to w directly, not through g */
    size_t n;      /* floats in each of m and v: the non-inner params' counts */
    float *mv;     /* (2, n): m then v, one block so the checkpoint saves both */
} adam_state;

/* Shared by adam and adamw; `decoupled` tells them apart. */
static cn_status setup(cn_optim *o, cn_sec *s, int decoupled, cn_error *err)
{
    float b1, b2, eps;
    cn_status rc;
    if ((rc = cn_sec_float(s, "beta1", &b1, err)) || (rc = cn_sec_float(s, "beta2", &b2, err)) ||
        (rc = cn_sec_float(s, "eps", &eps, err)))
        return rc;
    adam_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for the %s state", o->ops->type);
    o->state = st;
    st->beta1 = b1;
    st->beta2 = b2;
    st->eps = eps;
    st->decoupled = decoupled;
    st->n = o->n_state;
    if (st->n && !(st->mv = calloc(2 * st->n, sizeof *st->mv)))
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for %zu %s moment values",
                         2 * st->n, o->ops->type);
    return CN_OK;
}

static cn_status adam_setup(cn_optim *o, cn_sec *s, cn_error *err)
{
    return setup(o, s, 0, err);
}

static cn_status adamw_setup(cn_optim *o, cn_sec *s, cn_error *err)
{
    return setup(o, s, 1, err);
}

static void adam_update(cn_optim *o, int i, float lr, size_t lo, size_t hi)
{
    adam_state *st = o->state;
    const cn_param *p = o->params[i];
    const float b1 = st->beta1, b2 = st->beta2, eps = st->eps;
    const double t = (double)(o->t + 1); /* o->t steps are done; this is step t */
    const double bc1 = 1.0 - pow(b1, t);  /* bias corrections, in double as PyTorch */
    /* 1 / sqrt of the v correction: a product in the loop where PyTorch
     * divides (the same value to within an ulp; a division costs as much as
     * the square root, and the two bound this loop) */
    const float inv_v_scale = (float)(1.0 / sqrt(1.0 - pow(b2, t)));
    const float lr_p = lr * p->lr_mult;
    const float wd_p = o->weight_decay * p->decay_mult;
    const float step_size = (float)(lr_p / bc1); /* lr_p scaled by the m correction */
    /* AdamW scales w by 1 - lr_p * wd_p; Adam adds wd_p * w to g */
    const float shrink = st->decoupled ? 1.0f - lr_p * wd_p : 1.0f;
    const float wd_g = st->decoupled ? 0.0f : wd_p;
    float *w = p->value, *grad = p->grad;
    float *m = st->mv + o->offset[i], *v = st->mv + st->n + o->offset[i];
    for (size_t j = lo; j < hi; j++) {
        /* in locals: the stores below may not alias the loads for the compiler */
        const float g = grad[j] + wd_g * w[j];
        const float wj = w[j] * shrink;
        const float mj = b1 * m[j] + (1.0f - b1) * g;     /* first moment */
        const float vj = b2 * v[j] + (1.0f - b2) * g * g; /* second moment */
        grad[j] = 0.0f; /* consumed */
        m[j] = mj;
        v[j] = vj;
        w[j] = wj - step_size * mj / (sqrtf(vj) * inv_v_scale + eps); /* mean over RMS */
    }
}

static size_t adam_state_floats(const cn_optim *o)
{
    const adam_state *st = o->state;
    return 2 * st->n;
}

static float *adam_state_data(cn_optim *o)
{
    adam_state *st = o->state;
    return st->mv;
}

static void adam_destroy(cn_optim *o)
{
    adam_state *st = o->state;
    if (st)
        free(st->mv);
    free(st);
    o->state = NULL;
}

const cn_optim_ops cn_optim_adam = {
    .type = "adam",
    .keys = adam_keys,
    .doc = "Adam with coupled L2 weight decay, as torch.optim.Adam",
    .setup = adam_setup,
    .update = adam_update,
    .state_floats = adam_state_floats,
    .state_data = adam_state_data,
    .destroy = adam_destroy,
};

const cn_optim_ops cn_optim_adamw = {
    .type = "adamw",
    .keys = adam_keys,
    .doc = "Adam with decoupled weight decay, as torch.optim.AdamW",
    .setup = adamw_setup,
    .update = adam_update,
    .state_floats = adam_state_floats,
    .state_data = adam_state_data,
    .destroy = adam_destroy,
};
