/* ev_corrupt.c - the evaluator of --corrupt Q: after the clean pass (and
 * everything that reads it), the batch runs once more with its inputs
 * masked (each value set to 0 with probability Q, cn_corrupt_mask), and
 * each reconstruction loss's layer (target=input) is scored against the
 * CLEAN inputs: corrupt_recon_mse (eval.c adds _rmse and _psnr). The noise
 * has its own stream, seeded by the options, drawn in sample order.
 */
#include <stdlib.h>
#include <string.h>

#include "evaluator.h"

typedef struct corrupt_ev {
    float *xc;  /* (batch, input size) the masked batch */
    cn_rng rng; /* the masking noise */
} corrupt_ev;

static int corrupt_wanted(const cn_net *net, const cn_eval_opts *o)
{
    (void)net;
    return o->corrupt;
}

static cn_status corrupt_open(void *st, const cn_eval_pass *p, cn_error *err)
{
    corrupt_ev *x = st;
    const cn_net *net = p->net;
    int recon = 0;
    for (int i = 0; i < net->n_losses; i++)
        recon |= net->losses[i].target_kind == CN_TARGET_INPUT;
    if (!recon)
        return cn_errorf(err, CN_ERR_USAGE, "corrupt: %s has no reconstruction loss "
                         "(target=input) to score", net->name);
    if (!(p->opts->corrupt_q >= 0.0f && p->opts->corrupt_q <= 1.0f))
        return cn_errorf(err, CN_ERR_USAGE, "corrupt: q = %g, expected a probability in [0, 1]",
                         p->opts->corrupt_q);
    size_t d = cn_tensor_sample(&net->layers[0].out);
    if (!(x->xc = malloc((size_t)net->batch * d * sizeof *x->xc)))
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for evaluation");
    cn_rng_seed(&x->rng, p->opts->corrupt_seed);
    return CN_OK;
}

static cn_status corrupt_batch(void *st, const cn_eval_pass *p, cn_error *err)
{
    corrupt_ev *x = st;
    cn_net *net = p->net;
    const cn_batch *b = &p->b;
    size_t d = cn_tensor_sample(&net->layers[0].out), count = (size_t)b->n * d;
    memcpy(x->xc, b->x, count * sizeof *x->xc);
    cn_corrupt_mask(x->xc, count, p->opts->corrupt_q, &x->rng, NULL);
    cn_net_set_batch(net, x->xc, b->labels, b->n);
    if (cn_net_infer(net, err))
        return err->code;
    cn_net_forward(net);
    for (int i = 0; i < net->n_losses; i++) {
        if (net->losses[i].target_kind != CN_TARGET_INPUT)
            continue;
        const float *y = net->losses[i].layer->out.data; /* (n, d) */
        double se = 0.0;
        for (size_t j = 0; j < count; j++)
            se += (double)(y[j] - b->x[j]) * (y[j] - b->x[j]);
        cn_metric_add(p->acc, "corrupt_recon_mse", se, (double)count);
    }
    return CN_OK;
}

static void corrupt_close(void *st)
{
    free(((corrupt_ev *)st)->xc);
}

const cn_evaluator cn_evaluator_corrupt = {
    .name = "corrupt",
    .wants = corrupt_wanted,
    .size = sizeof(corrupt_ev),
    .open = corrupt_open,
    .batch = corrupt_batch,
    .close = corrupt_close,
};
