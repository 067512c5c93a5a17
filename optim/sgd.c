/* sgd.c - stochastic gradient descent with momentum, Nesterov momentum and
 * coupled L2 weight decay, step for step as torch.optim.SGD (dampening 0).
 *
 * Per parameter p, with lr_p = lr * p.lr_mult and wd_p = weight_decay * p.decay_mult:
 *   g = grad + wd_p * w                 L2 decay folded into the gradient
 *   v = mu * v + g                      momentum buffer (v starts at 0, so the
 *                                       first step gives v = g, PyTorch's init)
 *   g = nesterov ? g + mu * v : v       look-ahead (Sutskever et al. 2013)
 *   w = w - lr_p * g
 * Without momentum the buffer is neither kept nor saved.
 */
#include <stdlib.h>

#include "cnet/optim.h"
#include "internal.h"

static const cn_key sgd_keys[] = {
    {"momentum", CN_KEY_FLOAT, "0", "[0, 1)", "momentum factor mu, 0 <= mu < 1 (0 = plain SGD)"},
    {"nesterov", CN_KEY_BOOL, "0", NULL, "Nesterov momentum (needs momentum > 0)"},
    CN_KEY_END,
};

typedef struct sgd_state {
    float momentum;
    int nesterov;
    size_t n;  /* floats in v: the non-inner params' counts, or 0 without momentum */
    float *v;  /* (n) velocity, the params' values back to back in list order */
} sgd_state;

static cn_status sgd_setup(cn_optim *o, cn_sec *s, cn_error *err)
{
    float mu;
    int nesterov;
    cn_status rc;
    if ((rc = cn_sec_float(s, "momentum", &mu, err)) ||
        (rc = cn_sec_bool(s, "nesterov", &nesterov, err)))
        return rc;
    if (nesterov && mu == 0.0f)
        return cn_sec_bad(s, "nesterov", CN_ERR_CFG, err,
                          "Nesterov momentum needs momentum > 0 (momentum is 0)");
    sgd_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for the SGD state");
    o->state = st;
    st->momentum = mu;
    st->nesterov = nesterov;
    if (mu == 0.0f)
        return CN_OK;
    st->n = o->n_state;
    if (st->n && !(st->v = calloc(st->n, sizeof *st->v)))
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for %zu SGD momentum values", st->n);
    return CN_OK;
}

static void sgd_update(cn_optim *o, int i, float lr, size_t lo, size_t hi)
{
    sgd_state *st = o->state;
    const cn_param *p = o->params[i];
    const float mu = st->momentum;
    const float lr_p = lr * p->lr_mult;
    const float wd_p = o->weight_decay * p->decay_mult;
    float *w = p->value, *grad = p->grad;
    float *v = st->v ? st->v + o->offset[i] : NULL;
    for (size_t j = lo; j < hi; j++) {
        float g = grad[j] + wd_p * w[j]; /* coupled L2 decay */
        grad[j] = 0.0f;                  /* consumed */
        if (v) {
            v[j] = mu * v[j] + g;                   /* momentum buffer */
            g = st->nesterov ? g + mu * v[j] : v[j]; /* Nesterov look-ahead or heavy ball */
        }
        w[j] -= lr_p * g; /* descend */
    }
}

static size_t sgd_state_floats(const cn_optim *o)
{
    const sgd_state *st = o->state;
    return st->n;
}

static float *sgd_state_data(cn_optim *o)
{
    sgd_state *st = o->state;
    return st->v;
}

static void sgd_destroy(cn_optim *o)
{
    sgd_state *st = o->state;
    if (st)
        free(st->v);
    free(st);
    o->state = NULL;
}

const cn_optim_ops cn_optim_sgd = {
    .type = "sgd",
    .keys = sgd_keys,
    .doc = "stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD",
    .setup = sgd_setup,
    .update = sgd_update,
    .state_floats = sgd_state_floats,
    .state_data = sgd_state_data,
    .destroy = sgd_destroy,
};
