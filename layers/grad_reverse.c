/* grad_reverse.c - the gradient-reversal layer (Ganin and Lempitsky,
 * "Unsupervised Domain Adaptation by Backpropagation", ICML 2015): the
 * identity going forward, the gradient negated and scaled going back.
 *
 * Legend: n samples, K = c*h*w values per sample, the same on both sides;
 * lambda the key `scale`.
 *   forward   y = x                       (a copy: the net owns each output)
 *   backward  dx += -lambda * dy
 *
 * Placed between a feature extractor (an encoder) and an adversary (a
 * discriminator or a domain classifier), one backward pass trains the
 * adversary to minimise its loss while the layers above the reversal get
 * -lambda times its gradient, so they maximise it: the min-max game in one
 * step, instead of alternating the two players' steps. Whatever lies above
 * the layer therefore does not follow the gradient of the total loss; a
 * finite-difference check of it must expect -lambda times the numeric
 * gradient (tests/check_layers.c).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const cn_key keys[] = {
    {"scale", CN_KEY_FLOAT, "1", "[0, inf)",
     "lambda: backward passes -lambda * dout (0 stops the gradient)"},
    CN_KEY_END};

typedef struct reverse_state {
    float scale; /* lambda */
} reverse_state;

static cn_status reverse_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    (void)b;
    reverse_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    cn_status rc = cn_sec_float(s, "scale", &st->scale, err);
    if (rc)
        return rc;
    l->c = l->in[0]->c, l->h = l->in[0]->h, l->w = l->in[0]->w;
    return CN_OK;
}

static void reverse_forward(cn_layer *l, const cn_ctx *ctx)
{
    size_t count = (size_t)ctx->n * cn_tensor_sample(&l->out); /* (n, K) */
    memcpy(l->out.data, l->in[0]->out.data, count * sizeof(float));
}

static void reverse_backward(cn_layer *l, const cn_ctx *ctx)
{
    const reverse_state *st = l->state;
    cn_layer *src = l->in[0];
    if (src->needs_grad) /* dx (n, K) += -lambda dy */
        cn_axpy((size_t)ctx->n * cn_tensor_sample(&l->out), -st->scale, l->dout.data,
                src->dout.data);
}

static void reverse_destroy(cn_layer *l)
{
    free(l->state);
    l->state = NULL;
}

const cn_layer_ops cn_layer_grad_reverse = {
    .type = "grad_reverse",
    .keys = keys,
    .doc = "gradient reversal (Ganin & Lempitsky): the identity forward, -scale * dout "
           "backward. Between an encoder and an adversary it makes one backward pass train "
           "the adversary to minimise its loss and the layers above to maximise it: the "
           "one-pass alternative to alternating min-max steps",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = reverse_setup,
    .forward = reverse_forward,
    .backward = reverse_backward,
    .destroy = reverse_destroy,
};
