/* ev_jacobian.c - the evaluator of --jacobian LAYER: the mean over samples
 * of ||J_x(h)||_F and of ||J_x(h)||_F^2 for an encoder h = f(W x + b)
 * (jacobian.c: the same formula as the contractive loss). The weights stay
 * fixed during evaluation, so W's squared row norms are taken once.
 */
#include <math.h>
#include <stdlib.h>

#include "codestat.h"
#include "evaluator.h"

typedef struct jacobian_ev {
    cn_jacobian jac;
    const cn_layer *layer;
    float *s;               /* (N) squared row norms of W */
    double fro, sq;         /* sums over samples of ||J||_F and ||J||_F^2 */
    long n;
} jacobian_ev;

static int jacobian_wanted(const cn_net *net, const cn_eval_opts *o)
{
    (void)net;
    return o->jacobian != NULL;
}

static cn_status jacobian_open(void *st, const cn_eval_pass *p, cn_error *err)
{
    jacobian_ev *x = st;
    cn_layer *l;
    cn_error why = {0};
    if (cn_layer_lookup(p->net, p->opts->jacobian, "jacobian", &l, err))
        return err->code;
    if (cn_jacobian_init(l, &x->jac, &why))
        return cn_errorf(err, CN_ERR_USAGE, "jacobian: %s", why.msg);
    if (!(x->s = malloc((size_t)x->jac.N * sizeof *x->s)))
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for evaluation");
    cn_jacobian_rowsq(&x->jac, x->s);
    x->layer = l;
    return CN_OK;
}

static cn_status jacobian_batch(void *st, const cn_eval_pass *p, cn_error *err)
{
    (void)err;
    jacobian_ev *x = st;
    for (int s = 0; s < p->ctx.n; s++) {
        const float *h = x->layer->out.data + (size_t)s * x->jac.N; /* (N) */
        double sq = cn_jacobian_sample(&x->jac, h, x->s, 0.0f, NULL, NULL);
        x->fro += sqrt(sq);
        x->sq += sq;
    }
    x->n += p->ctx.n;
    return CN_OK;
}

static void jacobian_put(const void *st, const cn_eval_pass *p, cn_metrics *out)
{
    (void)p;
    const jacobian_ev *x = st;
    char name[48];
    if (x->n <= 0)
        return;
    snprintf(name, sizeof name, "%s_jacobian", x->layer->name);
    cn_metrics_put(out, name, x->fro / x->n);
    snprintf(name, sizeof name, "%s_jacobian_sq", x->layer->name);
    cn_metrics_put(out, name, x->sq / x->n);
}

static void jacobian_close(void *st)
{
    free(((jacobian_ev *)st)->s);
}

const cn_evaluator cn_evaluator_jacobian = {
    .name = "jacobian",
    .wants = jacobian_wanted,
    .size = sizeof(jacobian_ev),
    .open = jacobian_open,
    .batch = jacobian_batch,
    .put = jacobian_put,
    .close = jacobian_close,
};
