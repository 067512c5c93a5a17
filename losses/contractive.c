/* contractive.c - the contractive penalty of Rifai, Vincent, Muller, Glorot &
 * Bengio, "Contractive Auto-Encoders: Explicit Invariance During Feature
 * Extraction", ICML 2011: the squared Frobenius norm of the encoder's
 * Jacobian, which makes the code insensitive to small input changes.
 *
 * Legend: B samples (ctx->n); the attached layer is a [dense] encoder
 * h = f(a), a = W x + b, with its own W (N, K) and f sigmoid (gain g), tanh
 * or relu; phi(h) = f'(a) read from the output (src/jacobian.c).
 *   Omega = 1/B sum_n ||J_x(h_n)||_F^2,  ||J||_F^2 = sum_l f'(a_l)^2 s_l,
 *   s_l = sum_j W_lj^2                                  (eq. 4 of the paper)
 * The exact gradient has two paths:
 *   direct, through s:  dOmega/dW_lj += 2/B sum_n f'(a_nl)^2 W_lj
 *   through the code:   dOmega/dh_nl  = 1/B 2 f'_nl (dphi/dh)_nl s_l,
 *     dphi/dh = g (1 - 2h) (sigmoid), -2h (tanh), 0 (relu: f'' = 0),
 * added into the layer's dout; the dense layer's own backward multiplies
 * by f' (giving dOmega/da = 2 f' f'' s / B) and carries it to W (outer
 * product with x), b and, when it needs one, the input's gradient.
 * forward returns Omega; backward adds weight * both paths. Cost: one N x K
 * pass for s and one for the direct W term per call, O(B N) for the rest.
 * The formula lives once, in src/jacobian.c, shared with
 * `cnet eval --jacobian`.
 */
#include <stdlib.h>

#include "jacobian.h"

typedef struct contractive_state {
    cn_jacobian jac;
    float *s;    /* (N) squared row norms of W */
    double *fp2; /* (N) sum over the batch of f'(a_l)^2 */
} contractive_state;

static const cn_key keys[] = {CN_KEY_END};

static double contractive_forward(cn_loss *loss, const cn_ctx *ctx)
{
    contractive_state *c = loss->state;
    const cn_jacobian *j = &c->jac;
    const float *h = loss->layer->out.data; /* (B, N) */
    if (ctx->n < 1)
        return 0.0;
    cn_jacobian_rowsq(j, c->s);
    double sum = 0.0;
    for (int n = 0; n < ctx->n; n++)
        sum += cn_jacobian_sample(j, h + (size_t)n * j->N, c->s, 0.0f, NULL, NULL);
    return sum / ctx->n;
}

static void contractive_backward(cn_loss *loss, const cn_ctx *ctx)
{
    contractive_state *c = loss->state;
    const cn_jacobian *j = &c->jac;
    cn_layer *l = loss->layer;
    const float *h = l->out.data;              /* (B, N) */
    float *dh = l->needs_grad ? l->dout.data : NULL; /* (B, N) */
    if (ctx->n < 1)
        return;
    float scale = loss->weight / (float)ctx->n;
    cn_jacobian_rowsq(j, c->s);
    for (int i = 0; i < j->N; i++)
        c->fp2[i] = 0.0;
    for (int n = 0; n < ctx->n; n++)
        cn_jacobian_sample(j, h + (size_t)n * j->N, c->s, scale, dh ? dh + (size_t)n * j->N : NULL,
                           c->fp2);
    /* the direct path: dW row l += 2 scale sum_n f'_nl^2 W row l */
    for (int i = 0; i < j->N; i++)
        cn_axpy((size_t)j->K, 2.0f * scale * (float)c->fp2[i], j->W->value + (size_t)i * j->K,
                j->W->grad + (size_t)i * j->K);
}

static cn_status contractive_setup(cn_loss *loss, cn_sec *s, cn_error *err)
{
    cn_jacobian jac;
    cn_error why = {0};
    if (cn_jacobian_init(loss->layer, &jac, &why))
        return cn_sec_errorf(s, why.code, err, "%s; attach contractive to such an encoder",
                             why.msg);
    contractive_state *c = malloc(sizeof *c + (size_t)jac.N * (sizeof(double) + sizeof(float)));
    if (!c)
        return cn_errorf(err, CN_ERR_NOMEM, "loss '%s': out of memory for %d units", loss->name,
                         jac.N);
    c->jac = jac;
    c->fp2 = (double *)(c + 1);
    /* cppcheck-suppress invalidPointerCast ; one block carved: N doubles, then N floats */
    c->s = (float *)(c->fp2 + jac.N);
    loss->state = c;
    return CN_OK;
}

static void contractive_destroy(cn_loss *loss)
{
    free(loss->state);
    loss->state = NULL;
}

const cn_loss_ops cn_loss_contractive = {
    .type = "contractive",
    .keys = keys,
    .doc = "contractive penalty ||J_x(h)||_F^2 of a dense sigmoid/tanh/relu encoder "
           "(Rifai et al. 2011); adds into the encoder's W gradient",
    .targets = CN_TARGETS(CN_TARGET_NONE),
    .target_default = CN_TARGET_NONE,
    .setup = contractive_setup,
    .forward = contractive_forward,
    .backward = contractive_backward,
    .destroy = contractive_destroy,
};
