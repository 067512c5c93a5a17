/* code.c - a per-batch free variable: the code Z of SESM (Ranzato, Boureau
 * & LeCun, "Sparse Feature Learning for Deep Belief Networks", NIPS 2007)
 * and of other energy-based sparse coders, inferred per batch by the inner
 * loop of src/infer.c and held fixed during the parameter step.
 *
 * Legend: n samples, D = c*h*w of the input X = f_enc(Y); Z (batch, D) is a
 * parameter flagged `inner` (the optimizer never moves it).
 *
 *   begin of a batch (inner_init)  Z = X            (the encoder's prediction)
 *   training forward               out = Z
 *   training backward              dZ += dout;      nothing into X
 *   eval forward                   out = X          (fast feed-forward code)
 *                                  out = Z with infer=1 (Z inferred per batch)
 *
 * X reaches the energy only through a loss such as
 * [mse] layer=<code> target=<encoder> target_grad=1, the paper's
 * alpha_e ||Z - f_enc(Y)||^2, which is what trains the encoder.
 *
 * The inner step on Z is lr * n * dE/dZ: the losses are means over the
 * batch, so n times the gradient is the gradient of each sample's own
 * energy, and `lr` is a step size independent of the batch size.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const cn_key keys[] = {
    {"steps", CN_KEY_INT, "20", "[0, 100000]",
     "inner gradient steps on Z per batch (0: Z = the input, no inference)"},
    {"lr", CN_KEY_FLOAT, "0.1", "(0, inf)", "inner step size on each sample's energy (> 0)"},
    {"infer", CN_KEY_BOOL, "0", NULL,
     "in eval mode, output the inferred Z instead of the input f_enc(Y)"},
    CN_KEY_END};

typedef struct code_state {
    int steps;
    float lr;
    int infer;
    size_t D;     /* values per sample */
    cn_param *Z;  /* (batch, D), inner */
} code_state;

static cn_status code_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    code_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    cn_status rc = cn_sec_int(s, "steps", &st->steps, err);
    if (!rc)
        rc = cn_sec_float(s, "lr", &st->lr, err);
    if (!rc)
        rc = cn_sec_bool(s, "infer", &st->infer, err);
    if (rc)
        return rc;
    const cn_layer *in = l->in[0];
    l->c = in->c, l->h = in->h, l->w = in->w;
    st->D = (size_t)in->c * in->h * in->w;
    /* zero-initialised; no weight decay (CN_PARAM_NO_DECAY), and the optimizer skips it */
    st->Z = cn_build_param(b, l, "Z", cn_build_batch(b), in->c, in->h, in->w, CN_INIT_ZERO,
                           (double)st->D, (double)st->D, CN_PARAM_NO_DECAY);
    if (!st->Z)
        return cn_build_error(b, l, err);
    st->Z->inner = 1;
    return CN_OK;
}

/* Z is used in training, and in eval mode only with infer=1. */
static int uses_z(const code_state *st, const cn_ctx *ctx)
{
    return ctx->train || st->infer;
}

static void code_forward(cn_layer *l, const cn_ctx *ctx)
{
    const code_state *st = l->state;
    const float *src = uses_z(st, ctx) ? st->Z->value : l->in[0]->out.data; /* (n, D) */
    memcpy(l->out.data, src, (size_t)ctx->n * st->D * sizeof(float));
}

static void code_backward(cn_layer *l, const cn_ctx *ctx)
{
    const code_state *st = l->state;
    size_t count = (size_t)ctx->n * st->D;
    if (uses_z(st, ctx))
        cn_axpy(count, 1.0f, l->dout.data, st->Z->grad);
    else if (l->in[0]->needs_grad) /* eval without inference: out is the input */
        cn_axpy(count, 1.0f, l->dout.data, l->in[0]->dout.data);
}

static int code_inner_steps(const cn_layer *l, const cn_ctx *ctx, float *lr)
{
    const code_state *st = l->state;
    *lr = st->lr * (float)ctx->n;
    return uses_z(st, ctx) ? st->steps : -1;
}

static void code_inner_init(cn_layer *l, const cn_ctx *ctx)
{
    const code_state *st = l->state;
    memcpy(st->Z->value, l->in[0]->out.data, (size_t)ctx->n * st->D * sizeof(float));
}

static void code_destroy(cn_layer *l)
{
    free(l->state);
    l->state = NULL;
}

const cn_layer_ops cn_layer_code = {
    .type = "code",
    .keys = keys,
    .doc = "per-batch free code Z (SESM, Ranzato, Boureau & LeCun 2007): starts at its input, "
           "takes `steps` gradient steps on the energy before each parameter step; eval "
           "outputs the input unless infer=1 (docs/sesm.md)",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = code_setup,
    .forward = code_forward,
    .backward = code_backward,
    .destroy = code_destroy,
    .inner_steps = code_inner_steps,
    .inner_init = code_inner_init,
};
