/* constant.c - a constant output: every value of every sample is `value`.
 * The fixed targets of a discriminator's losses (1 for real, 0 for fake, as
 * in Goodfellow et al., "Generative Adversarial Nets"), or any constant a
 * loss compares a layer with. It reads its input only for the batch size
 * (from=input) and passes no gradient.
 */
#include <stdlib.h>

#include "internal.h"

static const cn_key keys[] = {
    {"output", CN_KEY_INT, NULL, "[1, 65536]", "D: values per sample"},
    {"value", CN_KEY_FLOAT, "0", "(-inf, inf)", "the value of every output"},
    CN_KEY_END};

static cn_status constant_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    float *v = cn_build_alloc(b, l, sizeof *v);
    int D;
    if (!v)
        return cn_build_error(b, l, err);
    l->state = v;
    if (cn_sec_int(s, "output", &D, err) || cn_sec_float(s, "value", v, err))
        return err->code;
    l->c = D, l->h = 1, l->w = 1;
    return CN_OK;
}

static void constant_forward(cn_layer *l, const cn_ctx *ctx)
{
    const float v = *(const float *)l->state;
    size_t n = (size_t)ctx->n * (size_t)l->c;
    for (size_t i = 0; i < n; i++)
        l->out.data[i] = v;
}

static void constant_destroy(cn_layer *l)
{
    free(l->state);
    l->state = NULL;
}

const cn_layer_ops cn_layer_constant = {
    .type = "constant",
    .keys = keys,
    .doc = "a constant output of D values, each `value`: a fixed target such as a "
           "discriminator's 1 (real) or 0 (fake); reads its input only for the batch size "
           "(from=input) and passes no gradient",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = constant_setup,
    .forward = constant_forward,
    .destroy = constant_destroy,
};
