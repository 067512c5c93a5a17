/* ev_corrupt.c - the evaluator of --corrupt Q and --gaussian SIGMA: after
 * the clean pass (and everything that reads it), the batch runs once more
 * with its inputs corrupted, and each reconstruction loss's layer
 * (target=input) is scored against the CLEAN inputs:
 *   --corrupt Q       each value set to 0 with probability Q (cn_corrupt_mask):
 *                     corrupt_recon_mse
 *   --gaussian SIGMA  each value plus SIGMA * N(0, 1), not clipped, as the
 *                     [noise] layer's type=gaussian (cn_corrupt_gaussian):
 *                     gauss_recon_mse
 * (eval.c adds _rmse and _psnr to each). Each noise has its own stream,
 * seeded by the options and drawn in sample order, so two networks scored
 * with the same seed see the same corruption.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "evaluator.h"

typedef struct corrupt_ev {
    float *xc;     /* (batch, input size) the corrupted batch */
    cn_rng mask;   /* the masking noise */
    cn_rng gauss;  /* the Gaussian noise */
} corrupt_ev;

static int corrupt_wanted(const cn_net *net, const cn_eval_opts *o)
{
    (void)net;
    return o->corrupt || o->gauss;
}

static cn_status corrupt_open(void *st, const cn_eval_pass *p, cn_error *err)
{
    corrupt_ev *x = st;
    const cn_net *net = p->net;
    const char *what = p->opts->corrupt ? "corrupt" : "gaussian";
    int recon = 0;
    for (int i = 0; i < net->n_losses; i++)
        recon |= net->losses[i].target_kind == CN_TARGET_INPUT;
    if (!recon)
        return cn_errorf(err, CN_ERR_USAGE, "%s: %s has no reconstruction loss "
                         "(target=input) to score", what, net->name);
    if (p->opts->corrupt && !(p->opts->corrupt_q >= 0.0f && p->opts->corrupt_q <= 1.0f))
        return cn_errorf(err, CN_ERR_USAGE, "corrupt: q = %g, expected a probability in [0, 1]",
                         p->opts->corrupt_q);
    if (p->opts->gauss && !(p->opts->gauss_sigma >= 0.0f && isfinite(p->opts->gauss_sigma)))
        return cn_errorf(err, CN_ERR_USAGE, "gaussian: sigma = %g, expected a finite number "
                         ">= 0", p->opts->gauss_sigma);
    size_t d = cn_tensor_sample(&net->layers[0].out);
    if (!(x->xc = malloc((size_t)net->batch * d * sizeof *x->xc)))
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for evaluation");
    cn_rng_seed(&x->mask, p->opts->corrupt_seed);
    cn_rng_seed(&x->gauss, p->opts->corrupt_seed);
    return CN_OK;
}

/* Run the net on x->xc (the batch, corrupted) and add each reconstruction's
 * squared error against the clean batch to metric `name`. */
static cn_status score(corrupt_ev *x, const cn_eval_pass *p, const char *name, cn_error *err)
{
    cn_net *net = p->net;
    const cn_batch *b = &p->b;
    size_t count = (size_t)b->n * cn_tensor_sample(&net->layers[0].out);
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
        cn_metric_add(p->acc, name, se, (double)count);
    }
    return CN_OK;
}

static cn_status corrupt_batch(void *st, const cn_eval_pass *p, cn_error *err)
{
    corrupt_ev *x = st;
    const cn_batch *b = &p->b;
    size_t count = (size_t)b->n * cn_tensor_sample(&p->net->layers[0].out);
    if (p->opts->corrupt) {
        memcpy(x->xc, b->x, count * sizeof *x->xc);
        cn_corrupt_mask(x->xc, count, p->opts->corrupt_q, &x->mask, NULL);
        if (score(x, p, "corrupt_recon_mse", err))
            return err->code;
    }
    if (p->opts->gauss) {
        memcpy(x->xc, b->x, count * sizeof *x->xc);
        cn_corrupt_gaussian(x->xc, count, p->opts->gauss_sigma, &x->gauss);
        if (score(x, p, "gauss_recon_mse", err))
            return err->code;
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
