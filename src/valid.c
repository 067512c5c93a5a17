/* valid.c - the train loop's validation: the mean total loss over a split,
 * in eval mode, with the same per-sample weighting as cn_eval's "loss", so
 * the best checkpoint is chosen on exactly what `cnet eval` reports; and
 * the metrics an epoch line and early stopping watch, computed as cnet eval
 * computes them: the accuracy of the first label loss's layer (argmax over
 * the labelled samples) and the clustering accuracy of the cluster layer
 * (the first loss offering clusters, else the first layer marked so).
 *
 * A loss that offers a Gaussian posterior (a VAE's KL term) is an
 * expectation over q(z|x): its [sample] layers draw in eval mode too, from
 * a stream seeded with the net's seed so every validation pass sees the
 * same draws; the net's RNG is restored afterwards.
 */
#include <math.h>
#include <stdlib.h>

#include "match.h"
#include "net_internal.h"

/* The seed offset of the eval-mode sampling stream. */
#define SAMPLE_STREAM 0xE1B0

void cn_net_draw_posterior(cn_net *net)
{
    cn_net_set_sample(net, 1);
    cn_rng_seed(&net->rng, net->seed ^ SAMPLE_STREAM);
}

int cn_net_has_posterior(const cn_net *net)
{
    for (int i = 0; i < net->n_losses; i++)
        if (net->losses[i].ops->offers & CN_OFFER_GAUSS_POSTERIOR)
            return 1;
    return 0;
}

/* The layers the metrics read: a label loss's and the cluster layer (or NULL). */
static const cn_layer *label_layer(const cn_net *net)
{
    for (int i = 0; i < net->n_losses; i++)
        if (net->losses[i].target_kind == CN_TARGET_LABEL)
            return net->losses[i].layer;
    return NULL;
}

const cn_layer *cn_net_cluster_layer(const cn_net *net)
{
    for (int i = 0; i < net->n_losses; i++)
        if (net->losses[i].ops->offers & CN_OFFER_CLUSTERS)
            return net->losses[i].layer;
    for (int i = 0; i < net->n_layers; i++)
        if (cn_layer_offers(&net->layers[i]) & CN_OFFER_CLUSTERS)
            return &net->layers[i];
    return NULL;
}

cn_valid_metrics cn_net_valid_kinds(const cn_net *net, int labelled)
{
    return (cn_valid_metrics){.loss = 0.0,
                              .accuracy = label_layer(net) && labelled ? 0.0 : NAN,
                              .cluster_acc = cn_net_cluster_layer(net) && labelled ? 0.0 : NAN};
}

cn_status cn_net_validate(cn_net *net, const cn_dataset *ds, const int *idx, int n_idx,
                          cn_valid_metrics *out, cn_error *err)
{
    cn_error local;
    if (!err)
        err = &local;
    const cn_rng saved = net->rng;
    const int train = net->train;
    const cn_layer *cls = ds->labels ? label_layer(net) : NULL;
    const cn_layer *clu = ds->labels && ds->n_classes > 0 ? cn_net_cluster_layer(net) : NULL;
    int n = idx ? n_idx : ds->n;
    int *pred = clu ? malloc((size_t)CN_MAX(n, 1) * sizeof *pred) : NULL;
    int *truth = clu ? malloc((size_t)CN_MAX(n, 1) * sizeof *truth) : NULL;
    cn_loader *ld = NULL;
    *out = (cn_valid_metrics){NAN, NAN, NAN};
    err->code = CN_OK;
    if (clu && (!pred || !truth)) {
        cn_errorf(err, CN_ERR_NOMEM, "out of memory for the validation metrics");
        goto done;
    }
    if (cn_loader_create(ds, idx, n_idx, net->batch, 0, 0, &ld, err))
        goto done;
    cn_net_set_train(net, 0);
    if (cn_net_has_posterior(net))
        cn_net_draw_posterior(net);
    cn_loader_epoch(ld, NULL);
    cn_batch b;
    double total = 0.0;
    int seen = 0, labelled = 0, right = 0, clustered = 0;
    while (cn_loader_next(ld, &b)) {
        cn_net_set_batch(net, b.x, b.labels, b.n);
        if (cn_net_infer(net, err)) /* a [code] layer with infer=1 */
            goto done;
        cn_net_forward(net);
        total += cn_net_loss_forward(net) * b.n;
        seen += b.n;
        for (int i = 0; cls && i < b.n; i++) {
            size_t k = cn_tensor_sample(&cls->out);
            if (b.labels[i] >= 0) {
                labelled++;
                right += cn_argmax(cls->out.data + (size_t)i * k, k) == b.labels[i];
            }
        }
        for (int i = 0; clu && i < b.n; i++) {
            size_t k = cn_tensor_sample(&clu->out);
            if (b.labels[i] >= 0 && b.labels[i] < ds->n_classes) {
                pred[clustered] = cn_argmax(clu->out.data + (size_t)i * k, k);
                truth[clustered++] = b.labels[i];
            }
        }
    }
    out->loss = total / seen;
    if (labelled)
        out->accuracy = (double)right / labelled;
    if (clustered)
        out->cluster_acc = cn_cluster_acc(pred, (int)cn_tensor_sample(&clu->out), truth,
                                          ds->n_classes, clustered);
done:
    net->rng = saved;
    cn_net_set_sample(net, 0);
    cn_net_set_train(net, train);
    cn_loader_free(ld);
    free(pred);
    free(truth);
    return err->code;
}
