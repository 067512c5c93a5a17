/* eval.c - evaluation on held-out data: each loss's mean, and the metrics
 * that fit the cfg's losses:
 *   - a loss with target=input reconstructs: per-element MSE, RMSE and PSNR
 *     (10 log10(1/MSE), inputs in [0,1]) of its layer against the clean input;
 *   - a loss with target=label classifies: accuracy of its layer's argmax;
 *   - the layer of a loss type marked `clusters` (the entropy loss), or a
 *     layer named `cluster` (e.g. a softmax): its argmax is a cluster id,
 *     scored against the labels by clustering accuracy
 *     (Hungarian matching), NMI and ARI, with the cluster-size balance
 *     (entropy of the size distribution / log k, 1 = equal sizes);
 *   - losses add their own (sparsity, entropies) through cn_metric_add;
 *   - with cn_eval_opts (docs/eval.md): the sparsity statistics of a chosen
 *     layer and of every layer a `sparse` loss is attached to, the mean
 *     Jacobian norm of a dense encoder (both from codestat.c), and the
 *     reconstruction of inputs under masking noise, scored against the clean
 *     inputs (corrupt_recon_mse/_rmse/_psnr): each batch is evaluated clean,
 *     then once more masked;
 *   - the first loss with target=label: its confusion matrix gives
 *     per-class precision, recall and F1 and their macro means (confusion.c);
 *   - a net with a gauss_kl loss (a VAE) is run with its sample layers
 *     drawing z ~ q(z|x) from a stream seeded with the net's seed (the net's
 *     RNG is restored afterwards): neg_elbo and its terms, and with
 *     cn_eval_opts.iw the importance-weighted estimate of -ln p(x) (elbo.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codestat.h"
#include "confusion.h"
#include "elbo.h"
#include "cluster.h"

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

static int argmax(const float *x, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return (int)best;
}

/* Batch sums for the generic metrics of one loss. */
static void loss_metrics(const cn_loss *loss, const cn_ctx *ctx, cn_metric_acc *acc)
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
    cn_metrics_put(m, "clusters_used", used);
    cn_metrics_put(m, "cluster_balance", k > 1 ? h / log(k) : 1.0);
    if (labels && n_classes > 0) {
        cn_metrics_put(m, "cluster_acc", cn_cluster_acc(pred, k, labels, n_classes, n));
        cn_metrics_put(m, "nmi", cn_cluster_nmi(pred, k, labels, n_classes, n));
        cn_metrics_put(m, "ari", cn_cluster_ari(pred, k, labels, n_classes, n));
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

/* The optional measurements of cn_eval_with over one pass. */
typedef struct extras {
    const cn_eval_opts *o;
    cn_sparsity *sp;           /* (n_sp) one per measured layer */
    int n_sp;
    cn_jacobian jac;
    const cn_layer *jac_layer; /* NULL: no Jacobian */
    float *s;                  /* (N) squared row norms of the encoder's W */
    double jac_fro, jac_sq;    /* sums over samples of ||J||_F and ||J||_F^2 */
    long jac_n;
    float *xc;                 /* (batch, input size) the masked batch */
    cn_rng rng;                /* the masking noise */
    const cn_loss *cls;        /* the first loss with target=label: its confusion */
    cn_confusion conf;
} extras;

static cn_status add_sparsity(extras *x, const cn_layer *l, cn_error *err)
{
    for (int i = 0; i < x->n_sp; i++)
        if (x->sp[i].layer == l)
            return CN_OK;
    return cn_sparsity_init(&x->sp[x->n_sp++], l, err);
}

static cn_status extras_open(cn_net *net, const cn_eval_opts *o, extras *x, cn_error *err)
{
    cn_layer *l;
    cn_error why = {0};
    x->o = o;
    x->sp = calloc((size_t)net->n_losses + 1, sizeof *x->sp);
    if (!x->sp)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for evaluation");
    if (o->sparsity && (cn_layer_lookup(net, o->sparsity, "sparsity", &l, err) ||
                        add_sparsity(x, l, err)))
        return err->code;
    for (int i = 0; i < net->n_losses; i++)
        if (net->losses[i].ops->sparse && add_sparsity(x, net->losses[i].layer, err))
            return err->code;
    for (int i = 0; i < net->n_losses && !x->cls; i++)
        if (net->losses[i].target_kind == CN_TARGET_LABEL &&
            cn_tensor_sample(&net->losses[i].layer->out) > 1)
            x->cls = &net->losses[i];
    if (x->cls &&
        cn_confusion_init(&x->conf, (int)cn_tensor_sample(&x->cls->layer->out), err))
        return err->code;
    if (o->jacobian) {
        if (cn_layer_lookup(net, o->jacobian, "jacobian", &l, err))
            return err->code;
        if (cn_jacobian_init(l, &x->jac, &why))
            return cn_errorf(err, CN_ERR_USAGE, "jacobian: %s", why.msg);
        if (!(x->s = malloc((size_t)x->jac.N * sizeof *x->s)))
            return cn_errorf(err, CN_ERR_NOMEM, "out of memory for evaluation");
        cn_jacobian_rowsq(&x->jac, x->s); /* the weights stay fixed during evaluation */
        x->jac_layer = l;
    }
    if (!o->corrupt)
        return CN_OK;
    int recon = 0;
    for (int i = 0; i < net->n_losses; i++)
        recon |= net->losses[i].target_kind == CN_TARGET_INPUT;
    if (!recon)
        return cn_errorf(err, CN_ERR_USAGE, "corrupt: %s has no reconstruction loss "
                         "(target=input) to score", net->name);
    if (!(o->corrupt_q >= 0.0f && o->corrupt_q <= 1.0f))
        return cn_errorf(err, CN_ERR_USAGE, "corrupt: q = %g, expected a probability in [0, 1]",
                         o->corrupt_q);
    size_t d = cn_tensor_sample(&net->layers[0].out);
    if (!(x->xc = malloc((size_t)net->batch * d * sizeof *x->xc)))
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for evaluation");
    cn_rng_seed(&x->rng, o->corrupt_seed);
    return CN_OK;
}

/* Sparsity, Jacobian and confusion of the clean batch of n samples just run. */
static void extras_measure(extras *x, const int *labels, int n)
{
    for (int s = 0; x->cls && s < n; s++) {
        size_t k = (size_t)x->conf.k;
        if (labels[s] >= 0)
            cn_confusion_add(&x->conf, labels[s], argmax(x->cls->layer->out.data + s * k, k));
    }
    for (int i = 0; i < x->n_sp; i++)
        cn_sparsity_add(&x->sp[i], n);
    for (int s = 0; x->jac_layer && s < n; s++) {
        const float *h = x->jac_layer->out.data + (size_t)s * x->jac.N; /* (N) */
        double sq = cn_jacobian_sample(&x->jac, h, x->s, 0.0f, NULL, NULL);
        x->jac_fro += sqrt(sq);
        x->jac_sq += sq;
    }
    x->jac_n += n;
}

/* Run the batch masked with probability q; score each reconstruction loss's
 * layer against the clean inputs b->x. */
static cn_status corrupt_pass(cn_net *net, extras *x, const cn_batch *b, cn_metric_acc *acc,
                              cn_error *err)
{
    size_t d = cn_tensor_sample(&net->layers[0].out), count = (size_t)b->n * d;
    memcpy(x->xc, b->x, count * sizeof *x->xc);
    cn_corrupt_mask(x->xc, count, x->o->corrupt_q, &x->rng, NULL);
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
        cn_metric_add(acc, "corrupt_recon_mse", se, (double)count);
    }
    return CN_OK;
}

static void extras_put(const extras *x, cn_metrics *out)
{
    if (x->cls)
        cn_confusion_put(&x->conf, out);
    for (int i = 0; i < x->n_sp; i++)
        cn_sparsity_put(&x->sp[i], out);
    if (x->jac_layer && x->jac_n > 0) {
        char name[48];
        snprintf(name, sizeof name, "%s_jacobian", x->jac_layer->name);
        cn_metrics_put(out, name, x->jac_fro / x->jac_n);
        snprintf(name, sizeof name, "%s_jacobian_sq", x->jac_layer->name);
        cn_metrics_put(out, name, x->jac_sq / x->jac_n);
    }
}

static void extras_close(extras *x)
{
    cn_confusion_free(&x->conf);
    for (int i = 0; i < x->n_sp; i++)
        cn_sparsity_free(&x->sp[i]);
    free(x->sp);
    free(x->s);
    free(x->xc);
}

cn_status cn_eval(cn_net *net, const cn_dataset *ds, const int *idx, int n_idx,
                  cn_metrics *out, cn_error *err)
{
    return cn_eval_with(net, ds, idx, n_idx, NULL, out, err);
}

cn_status cn_eval_with(cn_net *net, const cn_dataset *ds, const int *idx, int n_idx,
                       const cn_eval_opts *opts, cn_metrics *out, cn_error *err)
{
    static const cn_eval_opts none;
    extras x = {0};
    cn_elbo elbo = {0};
    const cn_rng saved = net->rng;
    cn_error local;
    if (!err)
        err = &local;
    if (!opts)
        opts = &none;
    memset(out, 0, sizeof *out);
    int *all = NULL, *pred = NULL, *labels = NULL, k = 0;
    double *loss_sum = calloc((size_t)CN_MAX(net->n_losses, 1), sizeof *loss_sum), total = 0;
    cn_metric_acc *acc = calloc(1, sizeof *acc);
    cn_loader *ld = NULL;
    /* the clustering layer: a `clusters` loss's layer, else one named cluster */
    const cn_layer *cluster = cn_net_find_layer(net, "cluster");
    for (int i = net->n_losses - 1; i >= 0; i--)
        if (net->losses[i].ops->clusters)
            cluster = net->losses[i].layer;
    if (!idx) {
        n_idx = ds->n;
        all = malloc((size_t)n_idx * sizeof *all);
        for (int i = 0; all && i < n_idx; i++)
            all[i] = i;
        idx = all;
    }
    if (cluster) {
        k = (int)cn_tensor_sample(&cluster->out);
        pred = malloc((size_t)n_idx * sizeof *pred);
        labels = malloc((size_t)n_idx * sizeof *labels);
    }
    if (!loss_sum || !acc || !idx || (cluster && (!pred || !labels))) {
        cn_errorf(err, CN_ERR_NOMEM, "out of memory for evaluation");
        goto done;
    }
    if (extras_open(net, opts, &x, err) || cn_elbo_open(net, opts->iw, &elbo, err) ||
        cn_loader_create(ds, idx, n_idx, net->batch, 0, 0, &ld, err))
        goto done;
    cn_net_set_train(net, 0);
    if (elbo.n_kl) { /* the ELBO is an expectation over q(z|x): draw z, repeatably */
        cn_net_set_sample(net, 1);
        cn_rng_seed(&net->rng, net->seed ^ 0xE1B0);
    }
    cn_loader_epoch(ld, NULL);
    cn_batch b;
    int seen = 0;
    while (cn_loader_next(ld, &b)) {
        cn_net_set_batch(net, b.x, b.labels, b.n);
        if (cn_net_infer(net, err)) /* a [code] layer with infer=1 */
            goto done;
        cn_net_forward(net);
        total += cn_net_loss_forward(net) * b.n;
        cn_ctx ctx = {.train = 0, .n = b.n, .rng = &net->rng, .labels = net->labels,
                      .pool = net->pool};
        for (int i = 0; i < net->n_losses; i++) {
            cn_loss *loss = &net->losses[i];
            loss_sum[i] += loss->value * b.n;
            loss_metrics(loss, &ctx, acc);
            if (loss->ops->metrics)
                loss->ops->metrics(loss, &ctx, acc);
        }
        if (elbo.n_kl)
            cn_elbo_batch(&elbo, &ctx, acc);
        for (int i = 0; cluster && i < b.n; i++)
            pred[seen + i] = argmax(cluster->out.data + (size_t)i * k, (size_t)k);
        if (labels)
            memcpy(labels + seen, b.labels, (size_t)b.n * sizeof *labels);
        seen += b.n;
        extras_measure(&x, net->labels, b.n);
        if (elbo.iw)
            cn_elbo_iw(net, &elbo, acc);
        if (x.xc && corrupt_pass(net, &x, &b, acc, err))
            goto done;
    }
    finish(net, acc, loss_sum, total, seen, out);
    extras_put(&x, out);
    if (cluster)
        cluster_metrics(out, pred, ds->labels ? labels : NULL, seen, k, ds->n_classes);
    err->code = CN_OK;
done:
    extras_close(&x);
    cn_elbo_close(&elbo);
    net->rng = saved;
    cn_net_set_sample(net, 0);
    cn_loader_free(ld);
    free(all);
    free(pred);
    free(labels);
    free(loss_sum);
    free(acc);
    return err->code;
}
