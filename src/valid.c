/* valid.c - the train loop's validation: the mean total loss over a split,
 * in eval mode, with the same per-sample weighting as cn_eval's "loss", so
 * the best checkpoint is chosen on exactly what `cnet eval` reports.
 *
 * A loss that offers a Gaussian posterior (a VAE's KL term) is an
 * expectation over q(z|x): its [sample] layers draw in eval mode too, from
 * a stream seeded with the net's seed so every validation pass sees the
 * same draws; the net's RNG is restored afterwards.
 */
#include <math.h>

#include "net_internal.h"

/* The seed offset of the eval-mode sampling stream. */
#define SAMPLE_STREAM 0xE1B0

void cn_net_draw_posterior(cn_net *net)
{
    cn_net_set_sample(net, 1);
    cn_rng_seed(&net->rng, net->seed ^ SAMPLE_STREAM);
}

static int samples_in_eval(const cn_net *net)
{
    for (int i = 0; i < net->n_losses; i++)
        if (net->losses[i].ops->offers & CN_OFFER_GAUSS_POSTERIOR)
            return 1;
    return 0;
}

cn_status cn_net_mean_loss(cn_net *net, const cn_dataset *ds, const int *idx, int n_idx,
                           double *loss, cn_error *err)
{
    cn_error local;
    if (!err)
        err = &local;
    const cn_rng saved = net->rng;
    const int train = net->train;
    cn_loader *ld = NULL;
    *loss = NAN;
    err->code = CN_OK;
    if (cn_loader_create(ds, idx, n_idx, net->batch, 0, 0, &ld, err))
        goto done;
    cn_net_set_train(net, 0);
    if (samples_in_eval(net))
        cn_net_draw_posterior(net);
    cn_loader_epoch(ld, NULL);
    cn_batch b;
    double total = 0.0;
    int seen = 0;
    while (cn_loader_next(ld, &b)) {
        cn_net_set_batch(net, b.x, b.labels, b.n);
        if (cn_net_infer(net, err)) /* a [code] layer with infer=1 */
            goto done;
        cn_net_forward(net);
        total += cn_net_loss_forward(net) * b.n;
        seen += b.n;
    }
    *loss = total / seen;
done:
    net->rng = saved;
    cn_net_set_sample(net, 0);
    cn_net_set_train(net, train);
    cn_loader_free(ld);
    return err->code;
}
