/* step.c - the one step on a batch: zero gradients, forward, losses, the
 * finiteness check, backward, and the update its kind asks for. The train
 * loop, inner inference (src/infer.c), the probe, the gradient checker and
 * the tests all run it, so there is one place where a non-finite loss is
 * caught and one order of operations to reason about.
 *
 * A CN_STEP_TRAIN step is online coordinate descent when the net has inner
 * params (SESM's code): inner inference first moves them alone, then this
 * step's update leaves them as inferred (the optimizer skips them).
 * Its backward carries the net's gradient hook: by default the optimizer
 * updates a parameter as soon as a layer says its gradient is final, while
 * that gradient is in cache (a dense layer's W after dX has read it); the
 * update phase then covers only the params nobody claimed. With several
 * parameter groups (src/groups.c) a training step trains one group: only
 * the losses training it run backward, with their sign, the group's own
 * optimizer is the hook, and only its params are updated;
 * cn_net_train_batch picks the group (or the round) for a batch.
 */
#include <math.h>
#include <time.h>

#include "net_internal.h"

double cn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Add the time since *t to phase ph when timing; *t moves on. */
static void lap(const cn_step_opts *o, int ph, double *t)
{
    if (!o->phase_s)
        return;
    double t1 = cn_now();
    o->phase_s[ph] += t1 - *t;
    *t = t1;
}

cn_status cn_net_step(cn_net *net, const cn_step_opts *o, double *loss, cn_error *err)
{
    cn_error local;
    if (!err)
        err = &local;
    double t = o->phase_s ? cn_now() : 0.0; /* inner inference counts as forward */
    if (o->kind == CN_STEP_TRAIN && cn_net_has_inner(net) && cn_net_infer(net, err))
        return err->code;
    /* a group's step: its losses, signed, its hook and its update */
    int g = o->kind == CN_STEP_TRAIN ? o->group : -1;
    if (o->kind == CN_STEP_TRAIN && (g < 0 || g >= net->n_groups))
        return cn_errorf(err, CN_ERR_USAGE, "a training step of group %d: the net has %d "
                         "parameter groups", g, net->n_groups);
    const cn_grad_hook *def = &net->groups[net->default_group].hook, *hook = NULL;
    if (g >= 0)
        hook = net->grad_hook == def ? &net->groups[g].hook : net->grad_hook;
    cn_net_zero_grad(net);
    cn_net_forward(net);
    *loss = cn_net_loss_forward(net);
    lap(o, CN_PHASE_FORWARD, &t);
    if (!isfinite(*loss))
        return cn_net_check_finite(net, *loss, err);
    if (o->before_backward)
        o->before_backward(net, o->user);
    net->phase = g;
    cn_net_backward_with(net, hook);
    net->phase = -1;
    lap(o, CN_PHASE_BACKWARD, &t);
    if (o->kind == CN_STEP_TRAIN)
        cn_net_update(net, g);
    else if (o->kind == CN_STEP_INNER)
        cn_net_inner_update(net, o->inner_k);
    lap(o, CN_PHASE_UPDATE, &t);
    return CN_OK;
}

cn_status cn_net_train_batch(cn_net *net, const cn_step_opts *opts, double *loss,
                             cn_error *err)
{
    cn_step_opts o = *opts;
    cn_status st = CN_OK;
    o.kind = CN_STEP_TRAIN;
    if (net->n_groups == 1 || net->alternate == CN_ALTERNATE_FRESH) {
        o.group = cn_groups_turn(net, net->step);
        st = cn_net_step(net, &o, loss, err);
    } else { /* shared: the whole round on this batch */
        for (int g = 0; !st && g < net->n_groups; g++)
            for (int k = 0; !st && k < net->groups[g].steps; k++) {
                o.group = g;
                st = cn_net_step(net, &o, loss, err);
            }
    }
    if (st)
        return st;
    net->step++;
    return CN_OK;
}

cn_status cn_net_train_step(cn_net *net, double *loss, cn_error *err)
{
    const cn_step_opts train = {.kind = CN_STEP_TRAIN};
    return cn_net_train_batch(net, &train, loss, err);
}
