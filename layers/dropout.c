/* dropout.c - inverted dropout (Srivastava, Hinton, Krizhevsky, Sutskever
 * and Salakhutdinov, "Dropout: a simple way to prevent neural networks from
 * overfitting", JMLR 2014; PyTorch's nn.Dropout).
 *
 *   train   m_i = 1/(1-p) with probability 1-p, else 0;  y = x * m
 *   eval    y = x
 *   backward  dx += dy * m (train), dx += dy (eval)
 * Scaling the kept values in training keeps E[y] = x, so evaluation needs
 * no rescaling. The mask is drawn from the net's one seeded RNG, one
 * uniform per value, so a seed gives the same masks; it is kept for
 * backward (the gradient checker replays the RNG, so both forward passes of
 * a finite difference draw the same mask).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const cn_key keys[] = {
    {"p", CN_KEY_FLOAT, "0.5", "[0, 1)", "probability of dropping each value in training"},
    CN_KEY_END};

typedef struct dropout_state {
    float p;
    float *mask; /* (batch, c*h*w) 0 or 1/(1-p): the last training forward's */
    int masked;  /* the last forward applied `mask` */
} dropout_state;

static cn_status dropout_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    dropout_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    cn_status rc = cn_sec_float(s, "p", &st->p, err);
    if (rc)
        return rc;
    l->c = l->in[0]->c;
    l->h = l->in[0]->h;
    l->w = l->in[0]->w;
    size_t count = (size_t)cn_build_batch(b) * l->c * l->h * l->w;
    st->mask = cn_build_alloc(b, l, count * sizeof *st->mask);
    return st->mask ? CN_OK : cn_build_error(b, l, err);
}

static void dropout_forward(cn_layer *l, const cn_ctx *ctx)
{
    dropout_state *st = l->state;
    size_t count = (size_t)ctx->n * cn_tensor_sample(&l->out); /* (n, c*h*w) */
    const float *x = l->in[0]->out.data;
    float *y = l->out.data;
    st->masked = ctx->train;
    if (!ctx->train) {
        memcpy(y, x, count * sizeof(float));
        return;
    }
    const float scale = 1.0f / (1.0f - st->p);
    for (size_t i = 0; i < count; i++) {
        st->mask[i] = cn_rng_uniform(ctx->rng) < st->p ? 0.0f : scale;
        y[i] = x[i] * st->mask[i];
    }
}

static void dropout_backward(cn_layer *l, const cn_ctx *ctx)
{
    const dropout_state *st = l->state;
    cn_layer *src = l->in[0];
    if (!src->needs_grad)
        return;
    size_t count = (size_t)ctx->n * cn_tensor_sample(&l->out);
    const float *dy = l->dout.data;
    float *dx = src->dout.data;
    if (!st->masked) {
        cn_axpy(count, 1.0f, dy, dx);
        return;
    }
    for (size_t i = 0; i < count; i++)
        dx[i] += dy[i] * st->mask[i];
}

static void dropout_destroy(cn_layer *l)
{
    dropout_state *st = l->state;
    if (st)
        free(st->mask);
    free(st);
    l->state = NULL;
}

const cn_layer_ops cn_layer_dropout = {
    .type = "dropout",
    .keys = keys,
    .doc = "inverted dropout: in training each value is dropped with probability p and the "
           "kept ones are scaled by 1/(1-p), drawn from the net's seeded RNG; the identity in "
           "evaluation",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = dropout_setup,
    .forward = dropout_forward,
    .backward = dropout_backward,
    .destroy = dropout_destroy,
};
