/* eval.c - evaluation on held-out data: each loss's mean, and the metrics
 * that fit the cfg's losses:
 *   - a loss with target=input reconstructs: per-element MSE, RMSE and PSNR
 *     (10 log10(1/MSE), inputs in [0,1]) of its layer against the clean input;
 *   - a loss with target=label classifies: accuracy of its layer's argmax;
 *   - a loss type marked `clusters` (the entropy loss): the argmax of its
 *     layer is a cluster id, scored against the labels by clustering accuracy
 *     (Hungarian matching), NMI and ARI, with the cluster-size balance
 *     (entropy of the size distribution / log k, 1 = equal sizes);
 *   - losses add their own (sparsity, entropies) through cn_metric_add.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

struct cn_metric_acc {
    int n;
    char name[CN_METRICS_MAX][48];
    double sum[CN_METRICS_MAX], count[CN_METRICS_MAX];
};

void cn_metric_add(cn_metric_acc *acc, const char *name, double value, double count)
{
    int i = 0;
    while (i < acc->n && strcmp(acc->name[i], name))
        i++;
    if (i == acc->n) {
        if (acc->n == CN_METRICS_MAX)
            return;
        snprintf(acc->name[acc->n++], sizeof acc->name[0], "%s", name);
    }
    acc->sum[i] += value;
    acc->count[i] += count;
}

double cn_metrics_get(const cn_metrics *m, const char *name)
{
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->name[i], name))
            return m->value[i];
    return NAN;
}

static void put(cn_metrics *m, const char *name, double value)
{
    if (m->n < CN_METRICS_MAX) {
        snprintf(m->name[m->n], sizeof m->name[0], "%s", name);
        m->value[m->n++] = value;
    }
}

static int argmax(const float *x, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return (int)best;
}

/* Batch sums for the generic metrics of one loss. */
static void loss_metrics(const cn_loss *loss, const cn_ctx *ctx, cn_metric_acc *acc, int *pred,
                         int offset)
{
    const cn_tensor *y = &loss->layer->out;
    size_t d = cn_tensor_sample(y);
    if (loss->target_kind == CN_TARGET_INPUT) {
        const float *t = loss->target->out.data;
        double se = 0.0;
        for (size_t i = 0; i < (size_t)ctx->n * d; i++)
            se += (double)(y->data[i] - t[i]) * (y->data[i] - t[i]);
        cn_metric_add(acc, "recon_mse", se, (double)ctx->n * d);
    }
    if (loss->target_kind == CN_TARGET_LABEL && d > 1) {
        double correct = 0.0, labelled = 0.0;
        for (int s = 0; s < ctx->n; s++)
            if (ctx->labels[s] >= 0) {
                labelled++;
                correct += argmax(y->data + (size_t)s * d, d) == ctx->labels[s];
            }
        if (labelled > 0)
            cn_metric_add(acc, "accuracy", correct, labelled);
    }
    if (loss->ops->clusters && pred)
        for (int s = 0; s < ctx->n; s++)
            pred[offset + s] = argmax(y->data + (size_t)s * d, d);
}

/* Clustering scores of pred against labels. */
static void cluster_metrics(cn_metrics *m, const int *pred, const int *labels, int n, int k,
                            int n_classes)
{
    double *size = calloc((size_t)k, sizeof *size);
    if (!size)
        return;
    for (int i = 0; i < n; i++)
        size[pred[i]]++;
    double h = 0.0;
    int used = 0;
    for (int c = 0; c < k; c++)
        if (size[c] > 0) {
            used++;
            h -= size[c] / n * log(size[c] / n);
        }
    free(size);
    put(m, "clusters_used", used);
    put(m, "cluster_balance", k > 1 ? h / log(k) : 1.0);
    if (labels && n_classes > 0) {
        put(m, "cluster_acc", cn_cluster_acc(pred, k, labels, n_classes, n));
        put(m, "nmi", cn_cluster_nmi(pred, k, labels, n_classes, n));
        put(m, "ari", cn_cluster_ari(pred, k, labels, n_classes, n));
    }
}

static void finish(cn_net *net, cn_metric_acc *acc, const double *loss_sum, double total,
                   int n, cn_metrics *out)
{
    put(out, "loss", total / n);
    for (int i = 0; i < net->n_losses; i++) {
        char name[48];
        snprintf(name, sizeof name, "loss_%s", net->losses[i].name);
        put(out, name, loss_sum[i] / n);
    }
    for (int i = 0; i < acc->n; i++) {
        double v = acc->sum[i] / acc->count[i];
        put(out, acc->name[i], v);
        if (!strcmp(acc->name[i], "recon_mse")) {
            put(out, "recon_rmse", sqrt(v));
            put(out, "recon_psnr", 10.0 * log10(1.0 / v));
        }
    }
}

cn_status cn_eval(cn_net *net, const cn_dataset *ds, const int *idx, int n_idx,
                  cn_metrics *out, cn_error *err)
{
    cn_error local;
    if (!err)
        err = &local;
    memset(out, 0, sizeof *out);
    int *all = NULL, *pred = NULL, *labels = NULL, k = 0;
    double *loss_sum = calloc((size_t)CN_MAX(net->n_losses, 1), sizeof *loss_sum), total = 0;
    cn_metric_acc *acc = calloc(1, sizeof *acc);
    cn_loader *ld = NULL;
    const cn_loss *cluster = NULL;
    for (int i = 0; i < net->n_losses; i++)
        if (net->losses[i].ops->clusters && !cluster)
            cluster = &net->losses[i];
    if (!idx) {
        n_idx = ds->n;
        all = malloc((size_t)n_idx * sizeof *all);
        for (int i = 0; all && i < n_idx; i++)
            all[i] = i;
        idx = all;
    }
    if (cluster) {
        k = (int)cn_tensor_sample(&cluster->layer->out);
        pred = malloc((size_t)n_idx * sizeof *pred);
        labels = malloc((size_t)n_idx * sizeof *labels);
    }
    if (!loss_sum || !acc || !idx || (cluster && (!pred || !labels))) {
        cn_errorf(err, CN_ERR_NOMEM, "out of memory for evaluation");
        goto done;
    }
    if (cn_loader_create(ds, idx, n_idx, net->batch, 0, 0, &ld, err))
        goto done;
    cn_net_set_train(net, 0);
    cn_loader_epoch(ld, NULL);
    cn_batch b;
    int seen = 0;
    while (cn_loader_next(ld, &b)) {
        cn_net_set_batch(net, b.x, b.labels, b.n);
        cn_net_forward(net);
        total += cn_net_loss_forward(net) * b.n;
        cn_ctx ctx = {.train = 0, .n = b.n, .rng = &net->rng, .labels = net->labels};
        for (int i = 0; i < net->n_losses; i++) {
            cn_loss *loss = &net->losses[i];
            loss_sum[i] += loss->value * b.n;
            loss_metrics(loss, &ctx, acc, loss == cluster ? pred : NULL, seen);
            if (loss->ops->metrics)
                loss->ops->metrics(loss, &ctx, acc);
        }
        if (labels)
            memcpy(labels + seen, b.labels, (size_t)b.n * sizeof *labels);
        seen += b.n;
    }
    finish(net, acc, loss_sum, total, seen, out);
    if (cluster)
        cluster_metrics(out, pred, ds->labels ? labels : NULL, seen, k, ds->n_classes);
    err->code = CN_OK;
done:
    cn_loader_free(ld);
    free(all);
    free(pred);
    free(labels);
    free(loss_sum);
    free(acc);
    return err->code;
}
