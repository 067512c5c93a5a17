/* elementwise.c - the shared loops of the element-wise losses and weight
 * penalties (see elementwise.h for the reductions and the legend).
 *
 * y, dy: the attached layer's out/dout, (n, D), D = c*h*w.
 * t, dt: the target's out/dout, (n, D) (the builder checked the sizes).
 * Sums run in double; gradients are written as float.
 */
#include <stdlib.h>
#include <string.h>

#include "elementwise.h"

/* Element-wise state: the kernel, its parameter and the reduction. */
typedef struct ew_state {
    const cn_ew_kernel *k;
    float p;
    int sum; /* 1: reduce=sum */
} ew_state;

static inline double sq_value(float y, float t, float p)
{
    (void)p;
    double r = (double)y - t;
    return r * r;
}

static inline float sq_dy(float y, float t, float p)
{
    (void)p;
    return 2.0f * (y - t);
}

static inline float sq_dt(float y, float t, float p)
{
    (void)p;
    return 2.0f * (t - y);
}

CN_EW_KERNEL(, cn_ew_squared, sq_value, sq_dy, sq_dt);

static size_t sample_size(const cn_loss *loss)
{
    return (size_t)loss->layer->c * loss->layer->h * loss->layer->w;
}

cn_status cn_ew_setup(cn_loss *loss, cn_sec *s, const cn_ew_kernel *k, float p, cn_error *err)
{
    int reduce;
    cn_status st = cn_sec_enum(s, "reduce", &reduce, err);
    if (st)
        return st;
    ew_state *e = malloc(sizeof *e);
    if (!e)
        return cn_errorf(err, CN_ERR_NOMEM, "loss '%s': out of memory", loss->name);
    e->k = k;
    e->p = p;
    e->sum = reduce == 1;
    loss->state = e;
    return CN_OK;
}

/* 1/(n D) for reduce=mean, 1/n for reduce=sum. */
static double reduce_scale(const cn_loss *loss, int n)
{
    const ew_state *e = loss->state;
    double div = e->sum ? (double)n : (double)n * (double)sample_size(loss);
    return div > 0.0 ? 1.0 / div : 0.0;
}

double cn_ew_forward(cn_loss *loss, const cn_ctx *ctx)
{
    const ew_state *e = loss->state;
    return cn_ew_sum(loss, ctx->n, e->k, e->p) * reduce_scale(loss, ctx->n);
}

void cn_ew_backward(cn_loss *loss, const cn_ctx *ctx)
{
    const ew_state *e = loss->state;
    float scale = (float)(loss->weight * reduce_scale(loss, ctx->n));
    cn_ew_grad(loss, ctx->n, e->k, e->p, scale);
}

void cn_ew_destroy(cn_loss *loss)
{
    free(loss->state);
    loss->state = NULL;
}

double cn_ew_sum(const cn_loss *loss, int n, const cn_ew_kernel *k, float p)
{
    const float *y = loss->layer->out.data;       /* (n, D) */
    const float *t = cn_loss_target(loss)->data;  /* (n, D) */
    size_t count = (size_t)n * sample_size(loss);
    return k->sum(y, t, count, p);
}

void cn_ew_grad(const cn_loss *loss, int n, const cn_ew_kernel *k, float p, float scale)
{
    const float *y = loss->layer->out.data;       /* (n, D) */
    const float *t = cn_loss_target(loss)->data;  /* (n, D) */
    size_t count = (size_t)n * sample_size(loss);
    if (loss->layer->needs_grad) {
        k->dy(y, t, loss->layer->dout.data, count, p, scale); /* (n, D) */
    }
    if (loss->target_kind == CN_TARGET_LAYER && loss->target_grad && loss->target->needs_grad) {
        k->dt(y, t, loss->target->dout.data, count, p, scale); /* (n, D) */
    }
}

int cn_penalty_is_weight(const cn_param *p)
{
    size_t len = strlen(p->name);
    return !p->buffer && !(len >= 2 && strcmp(p->name + len - 2, ".b") == 0);
}

cn_status cn_penalty_setup(cn_loss *loss, cn_sec *s, cn_error *err)
{
    const cn_layer *l = loss->layer;
    for (int i = 0; i < l->n_params; i++)
        if (cn_penalty_is_weight(l->params[i]))
            return CN_OK;
    char shape[64];
    return cn_sec_errorf(s, CN_ERR_CFG, err,
                         "layer '%s' (%s, %s) has no weight parameter (%s); attach the penalty "
                         "with layer= to a layer with weights, such as a [dense] layer",
                         l->name, l->ops->type, cn_layer_shape_str(l, shape, sizeof shape),
                         l->n_params ? "only biases" : "no parameters at all");
}

double cn_penalty_value(const cn_loss *loss, double (*f)(float w))
{
    const cn_layer *l = loss->layer;
    double sum = 0.0;
    for (int i = 0; i < l->n_params; i++) {
        const cn_param *p = l->params[i];
        if (!cn_penalty_is_weight(p))
            continue;
        for (size_t j = 0; j < p->count; j++)
            sum += f(p->value[j]);
    }
    return sum;
}

void cn_penalty_grad(const cn_loss *loss, float (*g)(float w))
{
    const cn_layer *l = loss->layer;
    for (int i = 0; i < l->n_params; i++) {
        const cn_param *p = l->params[i];
        if (!cn_penalty_is_weight(p))
            continue;
        for (size_t j = 0; j < p->count; j++)
            p->grad[j] += loss->weight * g(p->value[j]);
    }
}
