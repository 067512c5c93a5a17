/* eval.c - evaluation on held-out data: the total loss and each loss's
 * mean, then whatever the registered evaluators measure (registry.c, one
 * file each): every evaluator whose capability a loss or a layer offers,
 * or that the options ask for, runs over the same pass (docs/eval.md):
 *   - always, per loss (ev_losses.c): recon_mse for target=input, accuracy
 *     for target=label, and the loss's own metrics (cn_metric_add);
 *   - a loss with target=label: its confusion matrix (ev_confusion.c);
 *   - CN_OFFER_CODE or --sparsity: sparsity statistics (ev_sparsity.c);
 *   - --jacobian: the Jacobian norm of a dense encoder (ev_jacobian.c);
 *   - CN_OFFER_CLUSTERS: clustering metrics of an argmax (ev_clusters.c);
 *   - CN_OFFER_GAUSS_POSTERIOR (a VAE): neg_elbo, with its sample layers
 *     drawing z ~ q(z|x); --iw: the importance-weighted bound (ev_elbo.c);
 *   - --corrupt: reconstruction of masked inputs (ev_corrupt.c).
 * Sums kept through cn_metric_add become means; every *recon_mse also
 * gives its RMSE and PSNR (10 log10(1/MSE), inputs in [0, 1]). The net's
 * RNG and sampling mode are restored afterwards.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "evaluator.h"

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

void cn_metrics_put(cn_metrics *m, const char *name, double value)
{
    if (m->n < CN_METRICS_MAX) {
        snprintf(m->name[m->n], sizeof m->name[0], "%s", name);
        m->value[m->n++] = value;
    }
}


static void finish(cn_net *net, cn_metric_acc *acc, const double *loss_sum, double total,
                   int n, cn_metrics *out)
{
    cn_metrics_put(out, "loss", total / n);
    for (int i = 0; i < net->n_losses; i++) {
        char name[48];
        snprintf(name, sizeof name, "loss_%s", net->losses[i].name);
        cn_metrics_put(out, name, loss_sum[i] / n);
    }
    for (int i = 0; i < acc->n; i++) {
        double v = acc->sum[i] / acc->count[i];
        cn_metrics_put(out, acc->name[i], v);
        size_t len = strlen(acc->name[i]), tail = strlen("recon_mse");
        if (len >= tail && !strcmp(acc->name[i] + len - tail, "recon_mse")) {
            char name[48]; /* recon_mse, corrupt_recon_mse: with RMSE and PSNR */
            int pre = (int)(len - tail);
            snprintf(name, sizeof name, "%.*srecon_rmse", pre, acc->name[i]);
            cn_metrics_put(out, name, sqrt(v));
            snprintf(name, sizeof name, "%.*srecon_psnr", pre, acc->name[i]);
            cn_metrics_put(out, name, 10.0 * log10(1.0 / v));
        }
    }
}

cn_status cn_eval(cn_net *net, const cn_dataset *ds, const int *idx, int n_idx,
                  cn_metrics *out, cn_error *err)
{
    return cn_eval_with(net, ds, idx, n_idx, NULL, out, err);
}

/* Run the split in batches: each batch clean, its losses summed, then the
 * evaluators (which may run it again). */
static cn_status pass(cn_net *net, cn_loader *ld, cn_eval_set *set, cn_eval_pass *p,
                      double *loss_sum, double *total, cn_error *err)
{
    cn_loader_epoch(ld, NULL);
    while (cn_loader_next(ld, &p->b)) {
        cn_net_set_batch(net, p->b.x, p->b.labels, p->b.n);
        if (cn_net_infer(net, err)) /* a [code] layer with infer=1 */
            return err->code;
        cn_net_forward(net);
        *total += cn_net_loss_forward(net) * p->b.n;
        p->ctx = (cn_ctx){.train = 0, .n = p->b.n, .rng = &net->rng, .labels = net->labels,
                          .pool = net->pool};
        for (int i = 0; i < net->n_losses; i++)
            loss_sum[i] += net->losses[i].value * p->b.n;
        if (cn_eval_set_batch(set, p, err))
            return err->code;
        p->seen += p->b.n;
    }
    return CN_OK;
}

cn_status cn_eval_with(cn_net *net, const cn_dataset *ds, const int *idx, int n_idx,
                       const cn_eval_opts *opts, cn_metrics *out, cn_error *err)
{
    static const cn_eval_opts none;
    const cn_rng saved = net->rng;
    cn_eval_set set = {0};
    cn_error local;
    if (!err)
        err = &local;
    memset(out, 0, sizeof *out);
    double *loss_sum = calloc((size_t)CN_MAX(net->n_losses, 1), sizeof *loss_sum), total = 0;
    cn_metric_acc *acc = calloc(1, sizeof *acc);
    cn_loader *ld = NULL;
    if (!idx) /* the loader reads every sample */
        n_idx = ds->n;
    cn_eval_pass p = {.net = net, .ds = ds, .opts = opts ? opts : &none, .n_idx = n_idx,
                      .acc = acc};
    if (!loss_sum || !acc) {
        cn_errorf(err, CN_ERR_NOMEM, "out of memory for evaluation");
        goto done;
    }
    if (cn_net_check_labels(net, ds, err) || cn_eval_set_open(&set, &p, err) ||
        cn_loader_create(ds, idx, n_idx, net->batch, 0, 0, &ld, err))
        goto done;
    cn_net_set_train(net, 0);
    if (pass(net, ld, &set, &p, loss_sum, &total, err))
        goto done;
    finish(net, acc, loss_sum, total, p.seen, out);
    cn_eval_set_put(&set, &p, out);
    err->code = CN_OK;
done:
    cn_eval_set_close(&set);
    net->rng = saved;
    cn_net_set_sample(net, 0);
    cn_loader_free(ld);
    free(loss_sum);
    free(acc);
    return err->code;
}
