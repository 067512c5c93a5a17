/* activation.c - the element-wise activation layers: [sigmoid], [tanh],
 * [relu], [leaky] and [linear] (identity). The output has the input's shape.
 *
 *   forward   y = f(x)                  (copy, then src/act.c in place)
 *   backward  dx += dy * f'(x), with f' expressed through y:
 *             sigmoid g y (1 - y) (y = 1/(1+exp(-g x)), gain g, as in SESM),
 *             tanh 1 - y^2, relu [y > 0], leaky y > 0 ? 1 : slope, linear 1.
 *
 * The five types share one implementation; the ops table a layer was made
 * from picks the function. (Several ops tables in one file is the accepted
 * exception to one exported symbol per layer file.)
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

extern const cn_layer_ops cn_layer_sigmoid, cn_layer_tanh, cn_layer_relu, cn_layer_leaky,
    cn_layer_linear;

static const cn_key sigmoid_keys[] = {
    {"gain", CN_KEY_FLOAT, "1", "(-inf, inf)", "gain g in 1/(1+exp(-g x))"}, CN_KEY_END};
static const cn_key leaky_keys[] = {
    {"slope", CN_KEY_FLOAT, "0.01", "[0, inf)", "slope for x < 0 (>= 0)"}, CN_KEY_END};
static const cn_key no_keys[] = {CN_KEY_END};

typedef struct act_state {
    cn_act act;
    float param; /* gain (sigmoid) or slope (leaky) */
} act_state;

static cn_status act_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    (void)b;
    act_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    st->param = 1.0f;
    cn_status rc = CN_OK;
    if (l->ops == &cn_layer_sigmoid) {
        st->act = CN_ACT_SIGMOID;
        rc = cn_sec_float(s, "gain", &st->param, err);
    } else if (l->ops == &cn_layer_leaky) {
        st->act = CN_ACT_LEAKY;
        rc = cn_sec_float(s, "slope", &st->param, err);
        /* the derivative is read from the output's sign, which needs slope >= 0 */
        if (!rc && st->param < 0.0f)
            rc = cn_sec_bad(s, "slope", CN_ERR_CFG, err, "expects a slope >= 0");
    } else if (l->ops == &cn_layer_tanh) {
        st->act = CN_ACT_TANH;
    } else if (l->ops == &cn_layer_relu) {
        st->act = CN_ACT_RELU;
    } else {
        st->act = CN_ACT_LINEAR;
    }
    l->c = l->in[0]->c;
    l->h = l->in[0]->h;
    l->w = l->in[0]->w;
    return rc;
}

static void act_forward(cn_layer *l, const cn_ctx *ctx)
{
    const act_state *st = l->state;
    size_t count = (size_t)ctx->n * cn_tensor_sample(&l->out); /* (n, c*h*w) */
    memcpy(l->out.data, l->in[0]->out.data, count * sizeof(float));
    cn_act_forward(st->act, st->param, l->out.data, count);
}

static void act_backward(cn_layer *l, const cn_ctx *ctx)
{
    const act_state *st = l->state;
    cn_layer *src = l->in[0];
    if (!src->needs_grad)
        return;
    size_t count = (size_t)ctx->n * cn_tensor_sample(&l->out);
    /* our own dout is consumed only here, so it can hold dy * f'(y) */
    cn_act_backward(st->act, st->param, l->out.data, l->dout.data, count);
    cn_axpy(count, 1.0f, l->dout.data, src->dout.data);
}

static void act_destroy(cn_layer *l)
{
    free(l->state);
    l->state = NULL;
}

static int act_activation(const cn_layer *l, float *param)
{
    const act_state *st = l->state;
    *param = st->param;
    return (int)st->act;
}

#define ACT_OPS(name, key_table, text)                                                         \
    const cn_layer_ops cn_layer_##name = {                                                     \
        .type = #name,                                                                         \
        .keys = key_table,                                                                     \
        .doc = text,                                                                           \
        .n_inputs_min = 1,                                                                     \
        .n_inputs_max = 1,                                                                     \
        .setup = act_setup,                                                                    \
        .forward = act_forward,                                                                \
        .backward = act_backward,                                                              \
        .destroy = act_destroy,                                                                \
        .activation = act_activation,                                                          \
    };

ACT_OPS(sigmoid, sigmoid_keys, "element-wise logistic y = 1/(1+exp(-g x))")
ACT_OPS(tanh, no_keys, "element-wise y = tanh(x)")
ACT_OPS(relu, no_keys, "element-wise y = max(x, 0)")
ACT_OPS(leaky, leaky_keys, "element-wise y = x > 0 ? x : slope x")
ACT_OPS(linear, no_keys, "identity y = x (a named branch point)")
