/* lca.c - sparse codes by the locally competitive algorithm (Rozell,
 * Johnson, Baraniuk & Olshausen, "Sparse Coding via Thresholding and Local
 * Competition in Neural Circuits", Neural Computation 2008), run by the
 * inner-inference loop of src/infer.c (the one behind [code]).
 *
 * Legend: n samples, M = `size` code units (dictionary atoms), u (n, M) the
 * membrane potentials, a (n, M) = T(u) the output; lambda, tau the keys.
 *   soft threshold  a = sign(u) max(|u| - lambda, 0)   (sparsity cost lambda |a|)
 *   hard threshold  a = u [|u| > lambda]               (an l0-like cost)
 *   LCA             tau du/dt = b - u - (G - I) a,  b = Phi^T x,  G = Phi^T Phi
 * For E(a) = 1/2 ||x - Phi a||^2 + lambda sum_m C(a_m), the threshold is the
 * inverse of u = a + lambda C'(a), so the dynamics read
 *   tau du/dt = -(dE_s/da + u - a)     E_s: every term but the sparsity cost
 * (Paiton & Lundquist, "Entropy loss function for unsupervised deep
 * learning", section 3.6, eq. 17: u follows -dE/da, with lambda C'(a)
 * replaced by u - a). Below lambda, a is exactly 0.
 *
 * How it runs. u is a per-batch `inner` parameter, 0 at the start of each
 * batch (inner_init). Each inner step is the net's whole step: forward
 * (a = T(u)), the losses, backward, which leaves dout = dE_s/da / n in
 * this layer (losses are batch means). backward writes the LCA drive
 *   u.grad += dout + (u - a) / n
 * and inner_steps gives the step size n / tau, so the inner loop's
 * u -= lr * u.grad is one Euler step u += (1/tau)(-n dout - u + a).
 * With the reconstruction 1/2 ||x - Phi a||^2 as a loss on a decoder
 * x_hat = Phi a reading this layer ([dict], whose unit-norm columns are the
 * dictionary, or a [dense] with bias=0; [mse] reduce=sum weight=0.5
 * target=input), n dout = Phi^T (Phi a - x) = G a - b, and the step is
 * exactly Rozell's: the lateral inhibition (G - I) a arrives through the
 * decoder's backward (Phi^T of Phi a) and b = Phi^T x as Phi^T of the
 * target (with a decoder bias c, b = Phi^T (x - c): the coded data are
 * centred by a learned offset). Any other loss on the codes (the entropy
 * of a / ||a|| in section 3.6) adds its own dE/da, as in eq. 17.
 * Why not a Gram matrix formed here: the inner loop runs every loss at
 * every step, so a G a - b of this layer's own would count the
 * reconstruction twice; and the decoder is needed anyway, since the
 * reconstruction's gradient is what learns the dictionary.
 *
 * u is also a `buffer`: its "gradient" is the LCA drive, not dE/du (the
 * dynamics are not a gradient flow in u), so the optimizer, the weight
 * penalties and the gradient checker leave it alone; the inner loop moves
 * it because it is inner. The parameter step that follows inference sees
 * a = T(u_K) fixed (Olshausen & Field's alternation): backward passes
 * nothing to the input, and the dictionary learns from the reconstruction
 * through the decoder. The input is read for the batch size only: the data
 * reach the codes through the losses. Codes are always inferred, in
 * training and evaluation alike (there is no feed-forward code).
 *
 * The dictionary: Rozell takes unit-norm atoms, so that one lambda
 * thresholds every atom alike and G has a unit diagonal; [dict] keeps them
 * so (layers never change parameters, so it normalises in its forward). A
 * [dense] decoder is exact too, but a learned one drifts: its atoms grow
 * as the codes shrink, G with them, and the fixed Euler step diverges. The
 * step is stable while the largest eigenvalue of G over the active units
 * stays below 2 tau: correlated atoms that are active together need a
 * larger tau (cfg/lca_entropy.cfg).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { LCA_SOFT, LCA_HARD };

static const cn_key keys[] = {
    {"size", CN_KEY_INT, NULL, "[1, 16777216]", "M: code units, one per dictionary atom"},
    {"lambda", CN_KEY_FLOAT, "0.1", "[0, inf)",
     "threshold: a = 0 exactly where abs(u) <= lambda; the weight of the sparsity cost (>= 0)"},
    {"threshold", CN_KEY_ENUM, "soft", "soft|hard",
     "soft: a = sign(u) max(abs(u) - lambda, 0), the cost lambda abs(a); hard: a = u where "
     "abs(u) > lambda, else 0"},
    {"steps", CN_KEY_INT, "20", "[1, 100000]", "LCA steps per batch (before each parameter "
     "step, and in evaluation)"},
    {"tau", CN_KEY_FLOAT, "10", "[1, inf)",
     "time constant in steps: each step moves u by 1/tau of tau du/dt (>= 1)"},
    CN_KEY_END};

typedef struct lca_state {
    int M;        /* code units */
    int soft;     /* soft (1) or hard (0) threshold */
    int steps;
    float lambda, tau;
    cn_param *u;  /* (batch, M): membrane potentials, inner and buffer */
} lca_state;

static cn_status lca_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    lca_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    int kind;
    cn_status rc = cn_sec_int(s, "size", &st->M, err);
    if (!rc)
        rc = cn_sec_float(s, "lambda", &st->lambda, err);
    if (!rc)
        rc = cn_sec_enum(s, "threshold", &kind, err);
    if (!rc)
        rc = cn_sec_int(s, "steps", &st->steps, err);
    if (!rc)
        rc = cn_sec_float(s, "tau", &st->tau, err);
    if (rc)
        return rc;
    st->soft = kind == LCA_SOFT;
    l->c = st->M, l->h = 1, l->w = 1;
    st->u = cn_build_param(b, l, "u", cn_build_batch(b), st->M, 1, 1, CN_INIT_ZERO,
                           (double)st->M, (double)st->M, CN_PARAM_NO_DECAY);
    if (!st->u)
        return cn_build_error(b, l, err);
    st->u->inner = 1;
    st->u->buffer = 1;
    return CN_OK;
}

/* a = T(u), element-wise; exactly 0 for |u| <= lambda. */
static float threshold(const lca_state *st, float u)
{
    float lam = st->lambda;
    if (u <= lam && u >= -lam)
        return 0.0f;
    if (!st->soft)
        return u;
    return u > 0.0f ? u - lam : u + lam;
}

static void lca_forward(cn_layer *l, const cn_ctx *ctx)
{
    const lca_state *st = l->state;
    const float *u = st->u->value; /* (n, M) */
    float *a = l->out.data;        /* (n, M) */
    size_t count = (size_t)ctx->n * (size_t)st->M;
    for (size_t i = 0; i < count; i++)
        a[i] = threshold(st, u[i]);
}

/* u.grad (n, M) += dout + (u - a) / n: the LCA drive; nothing into the input. */
static void lca_backward(cn_layer *l, const cn_ctx *ctx)
{
    const lca_state *st = l->state;
    const float *u = st->u->value, *a = l->out.data, *dout = l->dout.data; /* (n, M) */
    float *g = st->u->grad;                                                /* (n, M) */
    size_t count = (size_t)ctx->n * (size_t)st->M;
    float inv_n = ctx->n > 0 ? 1.0f / (float)ctx->n : 0.0f;
    for (size_t i = 0; i < count; i++)
        g[i] += dout[i] + inv_n * (u[i] - a[i]);
}

/* Every mode infers: lr = n / tau turns the drive above into an Euler step. */
static int lca_inner_steps(const cn_layer *l, const cn_ctx *ctx, float *lr)
{
    const lca_state *st = l->state;
    *lr = (float)ctx->n / st->tau;
    return st->steps;
}

static void lca_inner_init(cn_layer *l, const cn_ctx *ctx)
{
    const lca_state *st = l->state;
    memset(st->u->value, 0, (size_t)ctx->n * (size_t)st->M * sizeof(float));
}

static void lca_destroy(cn_layer *l)
{
    free(l->state);
    l->state = NULL;
}

const cn_layer_ops cn_layer_lca = {
    .type = "lca",
    .keys = keys,
    .doc = "sparse codes by the locally competitive algorithm (Rozell et al. 2008): `steps` "
           "Euler steps of tau du/dt = -(dE/da + u - a), a = T(u) soft or hard thresholded, "
           "per batch in the inner loop, dE/da from every loss on the codes (a decoder's "
           "reconstruction gives b - G a); the input is read for the batch size only",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = lca_setup,
    .forward = lca_forward,
    .backward = lca_backward,
    .destroy = lca_destroy,
    .inner_steps = lca_inner_steps,
    .inner_init = lca_inner_init,
    .offers = CN_OFFER_CODE,
};
