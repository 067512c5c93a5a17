/* route.c - concatenation along channels (darknet's route): the branch and
 * merge point of a network graph. With one input it is the identity.
 *
 * Legend: inputs i = 1..m of shape (c_i, h, w), output (sum c_i, h, w).
 * NCHW makes each sample's output the inputs' samples one after another:
 *   forward   y[s] = [x_1[s], x_2[s], ..., x_m[s]]
 *   backward  dx_i[s] += the matching slice of dy[s]
 */
#include <string.h>

#include "internal.h"

static const cn_key keys[] = {CN_KEY_END};

static cn_status route_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    (void)b;
    const cn_layer *first = l->in[0];
    l->c = 0;
    l->h = first->h;
    l->w = first->w;
    for (int i = 0; i < l->n_in; i++) {
        const cn_layer *x = l->in[i];
        if (x->h != first->h || x->w != first->w) {
            char a[64], c[64];
            return cn_sec_bad(s, "from", CN_ERR_SHAPE, err,
                              "layer '%s' cannot concatenate '%s' (%s) and '%s' (%s): channels "
                              "join only when height and width are equal",
                              l->name, first->name, cn_layer_shape_str(first, a, sizeof a),
                              x->name, cn_layer_shape_str(x, c, sizeof c));
        }
        l->c += x->c;
    }
    return CN_OK;
}

static void route_forward(cn_layer *l, const cn_ctx *ctx)
{
    size_t out_size = cn_tensor_sample(&l->out);
    for (int r = 0; r < ctx->n; r++) {
        float *y = l->out.data + r * out_size; /* (sum c_i, h, w) of sample r */
        for (int i = 0; i < l->n_in; i++) {
            size_t size = cn_tensor_sample(&l->in[i]->out);
            memcpy(y, l->in[i]->out.data + r * size, size * sizeof(float));
            y += size;
        }
    }
}

static void route_backward(cn_layer *l, const cn_ctx *ctx)
{
    size_t out_size = cn_tensor_sample(&l->out);
    for (int r = 0; r < ctx->n; r++) {
        const float *dy = l->dout.data + r * out_size;
        for (int i = 0; i < l->n_in; i++) {
            cn_layer *x = l->in[i];
            size_t size = cn_tensor_sample(&x->out);
            if (x->needs_grad)
                cn_axpy(size, 1.0f, dy, x->dout.data + r * size);
            dy += size;
        }
    }
}

const cn_layer_ops cn_layer_route = {
    .type = "route",
    .keys = keys,
    .doc = "concatenate the from= layers along channels (equal h and w); one input: identity",
    .n_inputs_min = 1,
    .n_inputs_max = CN_MAX_INPUTS,
    .setup = route_setup,
    .forward = route_forward,
    .backward = route_backward,
};
