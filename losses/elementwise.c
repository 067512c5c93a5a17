/* elementwise.c - the shared loops of the element-wise losses and weight
 * penalties (see elementwise.h for the reductions and the legend).
 *
 * y, dy: the attached layer's out/dout, (n, D), D = c*h*w.
 * t, dt: the target's out/dout, (n, D) (the builder checked the sizes), or
 *        for target=label the one-hot row of each labelled sample's class;
 *        unlabelled samples (-1, or a class >= D) are skipped and the
 *        reduction counts the m labelled ones: 1/(m D) or 1/m.
 * Sums run in double; gradients are written as float.
 */
#include <stdlib.h>
#include <string.h>

#include "elementwise.h"

/* Element-wise state: the kernel, its parameter and the reduction. */
typedef struct ew_state {
    const cn_ew_kernel *k;
    float p;
    int sum;       /* 1: reduce=sum */
    float *onehot; /* (D) the one-hot target row for target=label, else NULL */
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
    size_t D = sample_size(loss);
    int label = loss->target_kind == CN_TARGET_LABEL;
    if (label && D < 2) {
        char shape[64];
        const cn_layer *l = loss->layer;
        return cn_sec_errorf(s, CN_ERR_SHAPE, err,
                             "target=label needs one value per class (at least 2), but layer "
                             "'%s' (%s, %s) has %zu",
                             l->name, l->ops->type, cn_layer_shape_str(l, shape, sizeof shape),
                             D);
    }
    ew_state *e = calloc(1, sizeof *e);
    if (!e || (label && !(e->onehot = calloc(D, sizeof *e->onehot)))) {
        free(e);
        return cn_errorf(err, CN_ERR_NOMEM, "loss '%s': out of memory", loss->name);
    }
    e->k = k;
    e->p = p;
    e->sum = reduce == 1;
    loss->state = e;
    return CN_OK;
}

/* Sum of f over the labelled samples (the one-hot row as target); *m gets
 * their count. With dy, add scale * df/dy into it instead. */
static double label_pass(cn_loss *loss, const cn_ctx *ctx, int *m, float *dy, float scale)
{
    const ew_state *e = loss->state;
    size_t D = sample_size(loss);
    double sum = 0.0;
    *m = 0;
    for (int s = 0; s < ctx->n; s++) {
        int c = cn_loss_label(loss, ctx, s);
        if (c < 0)
            continue;
        const float *y = loss->layer->out.data + (size_t)s * D; /* (D) */
        e->onehot[c] = 1.0f;
        if (dy)
            e->k->dy(y, e->onehot, dy + (size_t)s * D, D, e->p, scale);
        else
            sum += e->k->sum(y, e->onehot, D, e->p);
        e->onehot[c] = 0.0f;
        (*m)++;
    }
    return sum;
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
    if (e->onehot) {
        int m;
        double sum = label_pass(loss, ctx, &m, NULL, 0.0f);
        return sum * reduce_scale(loss, m);
    }
    return cn_ew_sum(loss, ctx, e->k, e->p) * reduce_scale(loss, ctx->n);
}

void cn_ew_backward(cn_loss *loss, const cn_ctx *ctx)
{
    const ew_state *e = loss->state;
    if (e->onehot) {
        int m = cn_loss_n_labelled(loss, ctx);
        if (m && loss->layer->needs_grad)
            label_pass(loss, ctx, &m, loss->layer->dout.data,
                       (float)(loss->weight * reduce_scale(loss, m)));
        return;
    }
    float scale = (float)(loss->weight * reduce_scale(loss, ctx->n));
    cn_ew_grad(loss, ctx, e->k, e->p, scale);
}

double cn_ew_nll(const cn_loss *loss, const cn_ctx *ctx, int s)
{
    ew_state *e = loss->state;
    size_t D = sample_size(loss);
    const float *y = loss->layer->out.data + (size_t)s * D; /* (D) */
    if (!e->onehot)
        return e->k->sum(y, cn_loss_target(loss)->data + (size_t)s * D, D, e->p);
    int c = cn_loss_label(loss, ctx, s);
    if (c < 0)
        return 0.0;
    e->onehot[c] = 1.0f;
    double v = e->k->sum(y, e->onehot, D, e->p);
    e->onehot[c] = 0.0f;
    return v;
}

void cn_ew_destroy(cn_loss *loss)
{
    ew_state *e = loss->state;
    if (e)
        free(e->onehot);
    free(loss->state);
    loss->state = NULL;
}

/* The kernel over `count` values split over the pool's threads: each part
 * sums its blocks of 256 (the kernel's own float blocks), and the parts'
 * sums are added in part order; gradients are element by element. */
typedef struct ew_task {
    const cn_ew_kernel *k;
    const float *y, *t; /* (count) */
    float *dy, *dt;     /* (count) or NULL; both NULL: sum */
    size_t count;
    float p, scale;
    double sums[CN_POOL_MAX];
} ew_task;

static void ew_part(void *arg, int part, int parts)
{
    ew_task *w = arg;
    size_t lo, hi;
    cn_pool_share(w->count, 256, part, parts, &lo, &hi);
    if (!w->dy && !w->dt)
        w->sums[part] = w->k->sum(w->y + lo, w->t + lo, hi - lo, w->p);
    if (w->dy)
        w->k->dy(w->y + lo, w->t + lo, w->dy + lo, hi - lo, w->p, w->scale);
    if (w->dt)
        w->k->dt(w->y + lo, w->t + lo, w->dt + lo, hi - lo, w->p, w->scale);
}

static double ew_run(cn_pool *pool, ew_task *w)
{
    pool = cn_pool_if(pool, w->count);
    cn_pool_run(pool, ew_part, w);
    double total = 0.0;
    for (int i = 0; i < cn_pool_size(pool); i++)
        total += w->sums[i];
    return total;
}

double cn_ew_sum(const cn_loss *loss, const cn_ctx *ctx, const cn_ew_kernel *k, float p)
{
    ew_task w = {.k = k,
                 .y = loss->layer->out.data,      /* (n, D) */
                 .t = cn_loss_target(loss)->data, /* (n, D) */
                 .count = (size_t)ctx->n * sample_size(loss),
                 .p = p};
    return ew_run(ctx->pool, &w);
}

void cn_ew_grad(const cn_loss *loss, const cn_ctx *ctx, const cn_ew_kernel *k, float p,
                float scale)
{
    int to_target =
        loss->target_kind == CN_TARGET_LAYER && loss->target_grad && loss->target->needs_grad;
    ew_task w = {.k = k,
                 .y = loss->layer->out.data,      /* (n, D) */
                 .t = cn_loss_target(loss)->data, /* (n, D) */
                 .dy = loss->layer->needs_grad ? loss->layer->dout.data : NULL,
                 .dt = to_target ? loss->target->dout.data : NULL,
                 .count = (size_t)ctx->n * sample_size(loss),
                 .p = p,
                 .scale = scale};
    if (w.dy || w.dt)
        ew_run(ctx->pool, &w);
}

int cn_penalty_is_weight(const cn_param *p)
{
    return !p->buffer && p->role != CN_PARAM_BIAS;
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
