/* infer.c - the inner inference loop over per-batch free variables: the
 * general mechanism behind SESM's code Z (Ranzato, Boureau & LeCun, "Sparse
 * Feature Learning for Deep Belief Networks", NIPS 2007), and any other
 * model that optimises latent variables per batch before the parameter step
 * (predictive sparse decomposition, sparse coding).
 *
 * A layer owning params flagged `inner` says through its ops how many steps
 * K_l and which step size lr_l it wants in this mode (inner_steps), and
 * initialises them for a new batch (inner_init, e.g. Z = f_enc(Y)). Then,
 * with E the sum of the weighted losses:
 *
 *     forward, calling inner_init of each active layer once its inputs are done
 *     for k < K = max K_l:
 *         the step of kind CN_STEP_INNER (src/step.c): zero_grad; forward; E;
 *         finiteness check; backward; then this file's update:
 *         for every active layer with k < K_l, each inner param p:
 *             p -= lr_l * dE/dp
 *
 * Only inner params move: the optimizer's params, its state and the step
 * counter are untouched, so the caller's parameter step that follows sees
 * the inferred values fixed (online coordinate descent). Every pass of the
 * batch restarts from the same RNG state, so noise and sampling layers draw
 * the same values while the variables are optimised and in the final pass.
 * Nothing here allocates.
 */
#include <math.h>

#include "net_internal.h"

/* The steps a layer wants now (< 0: its inner params are unused now). */
static int steps_of(const cn_layer *l, const cn_ctx *ctx, float *lr)
{
    *lr = 0.0f;
    return l->ops->inner_steps ? l->ops->inner_steps(l, ctx, lr) : -1;
}

int cn_net_has_inner(const cn_net *net)
{
    for (int i = 0; i < net->n_params; i++)
        if (net->params[i]->inner)
            return 1;
    return 0;
}

/* p -= lr * grad on the inner params of every layer still stepping at k. */
void cn_net_inner_update(cn_net *net, int k)
{
    cn_ctx ctx = {.train = net->train, .n = net->n, .rng = &net->rng, .labels = net->labels,
                  .pool = net->pool};
    for (int i = 1; i < net->n_layers; i++) {
        cn_layer *l = &net->layers[i];
        float lr;
        if (k >= steps_of(l, &ctx, &lr))
            continue;
        for (int j = 0; j < l->n_params; j++)
            if (l->params[j]->inner)
                cn_axpy(l->params[j]->count, -lr, l->params[j]->grad, l->params[j]->value);
    }
}

cn_status cn_net_infer(cn_net *net, cn_error *err)
{
    cn_ctx ctx = {.train = net->train, .n = net->n, .rng = &net->rng, .labels = net->labels,
                  .pool = net->pool};
    int steps = -1;
    float lr;
    cn_error local;
    if (!err)
        err = &local;
    for (int i = 1; i < net->n_layers; i++)
        steps = CN_MAX(steps, steps_of(&net->layers[i], &ctx, &lr));
    if (steps < 0)
        return CN_OK;
    const cn_rng start = net->rng;
    /* a forward pass that starts each layer's variables as soon as its inputs
     * are current, so a later [code] layer starts from an earlier one's start */
    for (int i = 1; i < net->n_layers; i++) {
        cn_layer *l = &net->layers[i];
        l->ops->forward(l, &ctx);
        if (l->ops->inner_init && steps_of(l, &ctx, &lr) >= 0) {
            l->ops->inner_init(l, &ctx);
            l->ops->forward(l, &ctx);
        }
    }
    for (int k = 0; k < steps; k++) {
        net->rng = start;
        cn_step_opts inner = {.kind = CN_STEP_INNER, .inner_k = k};
        double total;
        if (cn_net_step(net, &inner, &total, err))
            return cn_error_prefix(err, "inner inference step %d of %d: ", k + 1, steps);
    }
    net->rng = start;
    return CN_OK;
}
