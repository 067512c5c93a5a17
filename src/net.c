/* net.c - running a built network: batches in, forward in cfg order, the
 * losses' values and gradients, backward in reverse order, and the NaN/Inf
 * check that names the first non-finite loss or layer.
 */
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "net_internal.h"

const char *cn_net_name(const cn_net *net) { return net->name; }
int cn_net_batch(const cn_net *net) { return net->batch; }
uint64_t cn_net_seed(const cn_net *net) { return net->seed; }
cn_rng *cn_net_rng(cn_net *net) { return &net->rng; }
uint64_t cn_net_fingerprint(const cn_net *net) { return net->fingerprint; }
int cn_net_n_layers(const cn_net *net) { return net->n_layers; }
cn_layer *cn_net_layer(const cn_net *net, int i) { return &net->layers[i]; }
cn_layer *cn_net_output(const cn_net *net) { return &net->layers[net->n_layers - 1]; }
int cn_net_n_losses(const cn_net *net) { return net->n_losses; }
cn_loss *cn_net_loss(const cn_net *net, int i) { return &net->losses[i]; }
int cn_net_n_params(const cn_net *net) { return net->n_params; }
cn_param **cn_net_params(const cn_net *net) { return net->params; }
cn_optim *cn_net_optim(const cn_net *net) { return net->optim; }
void cn_net_set_train(cn_net *net, int train) { net->train = train; }
void cn_net_set_sample(cn_net *net, int on) { net->sample = on; }
void cn_net_set_input_grad(cn_net *net, int on) { net->layers[0].needs_grad = on; }

size_t cn_net_input_size(const cn_net *net)
{
    const cn_layer *in = &net->layers[0];
    return (size_t)in->c * in->h * in->w;
}

float *cn_net_param_arena(cn_net *net, size_t *count)
{
    *count = net->n_param_floats;
    return net->param_arena;
}

cn_layer *cn_net_find_layer(const cn_net *net, const char *name)
{
    int i = cn_names_find(&net->names, net->layers, name);
    return i >= 0 && i < net->n_layers ? &net->layers[i] : NULL;
}

const cn_tensor *cn_loss_target(const cn_loss *loss)
{
    return loss->target ? &loss->target->out : NULL;
}

int cn_loss_label(const cn_loss *loss, const cn_ctx *ctx, int s)
{
    const cn_layer *l = loss->layer;
    int c = ctx->labels ? ctx->labels[s] : -1;
    return c >= 0 && (size_t)c < (size_t)l->c * l->h * l->w ? c : -1;
}

int cn_loss_n_labelled(const cn_loss *loss, const cn_ctx *ctx)
{
    int m = 0;
    for (int s = 0; s < ctx->n; s++)
        m += cn_loss_label(loss, ctx, s) >= 0;
    return m;
}

double cn_layer_flops(const cn_layer *l)
{
    return l->ops->flops ? l->ops->flops(l) : 0.0;
}

double cn_layer_train_flops(const cn_layer *l)
{
    /* forward, the weight gradient (as costly as the forward product) and
     * the input gradient, which the first layer after the input skips */
    int input_grad = 0;
    for (int i = 0; i < l->n_in; i++)
        input_grad |= l->in[i]->needs_grad;
    return cn_layer_flops(l) * (1 + (l->n_params > 0) + input_grad);
}

void cn_layer_run(cn_layer *l, const cn_ctx *ctx, cn_pool *pool, cn_pool_fn fn)
{
    cn_layer_task t = {l, ctx->n};
    cn_pool_run(pool, fn, &t);
}

static cn_ctx make_ctx(cn_net *net)
{
    /* The pool is the one threading model: BLAS runs single-threaded in
     * whichever thread calls it, so OpenBLAS's own threads never wake up to
     * spin against the pool's (a threaded 1024 x 10 product in lenet left
     * them spinning through the convolutions: 17 % slower) */
    if (openblas_get_num_threads() != 1)
        openblas_set_num_threads(1);
    return (cn_ctx){.train = net->train, .sample = net->sample, .n = net->n, .rng = &net->rng,
                    .labels = net->labels, .pool = net->pool};
}

void cn_net_set_batch(cn_net *net, const float *x, const int *labels, int n)
{
    net->n = n;
    memcpy(net->layers[0].out.data, x, (size_t)n * cn_net_input_size(net) * sizeof(float));
    for (int i = 0; i < n; i++)
        net->labels[i] = labels ? labels[i] : -1;
    for (int i = 0; i < net->n_layers; i++)
        net->layers[i].out.n = net->layers[i].dout.n = n;
}

void cn_net_forward(cn_net *net)
{
    cn_net_forward_from(net, 1);
}

void cn_net_forward_from(cn_net *net, int first)
{
    cn_ctx ctx = make_ctx(net);
    for (int i = first > 1 ? first : 1; i < net->n_layers; i++)
        net->layers[i].ops->forward(&net->layers[i], &ctx);
}

double cn_net_loss_forward(cn_net *net)
{
    cn_ctx ctx = make_ctx(net);
    double total = 0.0;
    for (int i = 0; i < net->n_losses; i++) {
        cn_loss *loss = &net->losses[i];
        loss->value = loss->ops->forward(loss, &ctx);
        if (!loss->consumed) /* else it counts through its [combine] */
            total += loss->weight * loss->value;
    }
    return total;
}

/* Part of both gradient arenas, in whole cache lines. */
static void zero_part(void *arg, int part, int parts)
{
    cn_net *net = arg;
    size_t lo, hi;
    if (!net->grads_zero) {
        cn_pool_share(net->n_param_floats, 16, part, parts, &lo, &hi);
        memset(net->grad_arena + lo, 0, (hi - lo) * sizeof(float));
    }
    cn_pool_share(net->n_act_floats, 16, part, parts, &lo, &hi);
    memset(net->dact_arena + lo, 0, (hi - lo) * sizeof(float));
}

void cn_net_zero_grad(cn_net *net)
{
    /* split over the pool: one core alone clears deep_ae's 14 MB in about
     * a millisecond; after an update only the layer gradients are left */
    size_t floats = net->n_act_floats + (net->grads_zero ? 0 : net->n_param_floats);
    cn_pool_run(cn_pool_if(net->pool, floats), zero_part, net);
}

void cn_net_backward_with(cn_net *net, const cn_grad_hook *hook)
{
    cn_ctx ctx = make_ctx(net);
    ctx.grad = hook;
    net->grads_zero = 0;
    for (int i = 0; i < net->n_losses; i++) {
        cn_loss *loss = &net->losses[i];
        /* a group's step runs the losses training it, with their sign */
        int sign = net->phase >= 0 ? loss->sign[net->phase] : 1;
        if (loss->consumed || !sign)
            continue;
        float weight = loss->weight;
        loss->weight = sign * weight;
        loss->ops->backward(loss, &ctx);
        loss->weight = weight;
    }
    /* a group's step skips the layers its gradients need not pass (groups.c) */
    const unsigned char *needs = net->phase >= 0 && net->n_groups > 1
                                     ? net->groups[net->phase].needs : NULL;
    for (int i = net->n_layers - 1; i >= 1; i--)
        if (net->layers[i].ops->backward && (!needs || needs[i]))
            net->layers[i].ops->backward(&net->layers[i], &ctx);
}

void cn_net_backward(cn_net *net)
{
    cn_net_backward_with(net, NULL);
}

void cn_net_update(cn_net *net, int g)
{
    cn_optim_step(net->groups[g].optim);
    net->grads_zero = net->n_groups == 1; /* else the other groups' gradients are left */
}

void cn_net_set_grad_hook(cn_net *net, const cn_grad_hook *hook)
{
    net->grad_hook = hook;
}

int cn_grad_claim(const cn_ctx *ctx, const cn_param *p)
{
    return ctx->grad ? ctx->grad->claim(ctx->grad->user, p) : -1;
}

void cn_grad_ready(const cn_ctx *ctx, int handle, size_t lo, size_t hi)
{
    if (handle >= 0)
        ctx->grad->ready(ctx->grad->user, handle, lo, hi);
}

cn_status cn_net_check_finite(cn_net *net, double total, cn_error *err)
{
    for (int i = 0; i < net->n_losses; i++)
        if (!isfinite(net->losses[i].value)) {
            const cn_loss *loss = &net->losses[i];
            for (int j = 0; j < net->n_layers; j++) {
                const cn_layer *l = &net->layers[j];
                if (!cn_all_finite(l->out.data, cn_tensor_count(&l->out)))
                    return cn_errorf(err, CN_ERR_NUMERIC, "loss '%s' (line %d) is %g; first "
                                     "non-finite output: layer '%s' ([%s], line %d)",
                                     loss->name, loss->cfg_line, loss->value, l->name,
                                     l->ops->type, l->cfg_line);
            }
            return cn_errorf(err, CN_ERR_NUMERIC, "loss '%s' (line %d, on layer '%s') is %g",
                             loss->name, loss->cfg_line, loss->layer->name, loss->value);
        }
    if (!isfinite(total)) /* every term finite, but their weighted sum overflowed */
        return cn_errorf(err, CN_ERR_NUMERIC, "the total loss is %g, though every loss is "
                         "finite: their weighted sum overflowed (check the weights)", total);
    for (int i = 0; i < net->n_params; i++)
        if (!cn_all_finite(net->params[i]->grad, net->params[i]->count))
            return cn_errorf(err, CN_ERR_NUMERIC, "gradient of parameter '%s' is not finite",
                             net->params[i]->name);
    return CN_OK;
}
