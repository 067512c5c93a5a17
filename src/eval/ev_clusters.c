/* ev_clusters.c - the evaluator of clusterings: a layer whose argmax is a
 * cluster id (the attached layer of the first loss offering
 * CN_OFFER_CLUSTERS, such as entropy, else the first layer offering it, as
 * the cfg key offers=clusters marks one) reports over the split
 *   clusters_used    clusters holding at least one sample;
 *   cluster_balance  entropy of the cluster sizes / ln k (1 = equal sizes);
 * and, on labelled data, against the labels (cluster.c): cluster_acc
 * (best one-to-one matching, Hungarian), nmi and ari.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "evaluator.h"

typedef struct clusters_ev {
    const cn_layer *layer;
    int k;           /* clusters: the layer's values per sample */
    int *pred;       /* (n_idx) each sample's cluster */
    int *labels;     /* (n_idx) its label */
    int n;           /* samples seen */
} clusters_ev;

static cn_status clusters_open(void *st, const cn_eval_pass *p, cn_error *err)
{
    clusters_ev *c = st;
    c->layer = cn_net_cluster_layer(p->net);
    c->k = (int)cn_tensor_sample(&c->layer->out);
    c->pred = malloc((size_t)p->n_idx * sizeof *c->pred);
    c->labels = malloc((size_t)p->n_idx * sizeof *c->labels);
    if (!c->pred || !c->labels)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for evaluation");
    return CN_OK;
}

static cn_status clusters_batch(void *st, const cn_eval_pass *p, cn_error *err)
{
    (void)err;
    clusters_ev *c = st;
    for (int i = 0; i < p->b.n; i++)
        c->pred[p->seen + i] = cn_argmax(c->layer->out.data + (size_t)i * c->k, (size_t)c->k);
    memcpy(c->labels + p->seen, p->b.labels, (size_t)p->b.n * sizeof *c->labels);
    c->n = p->seen + p->b.n;
    return CN_OK;
}

static void clusters_put(const void *st, const cn_eval_pass *p, cn_metrics *out)
{
    const clusters_ev *c = st;
    int n = c->n, k = c->k, n_classes = p->ds->n_classes;
    double *size = calloc((size_t)k, sizeof *size);
    if (!size)
        return;
    for (int i = 0; i < n; i++)
        size[c->pred[i]]++;
    double h = 0.0;
    int used = 0;
    for (int j = 0; j < k; j++)
        if (size[j] > 0) {
            used++;
            h -= size[j] / n * log(size[j] / n);
        }
    free(size);
    cn_metrics_put(out, "clusters_used", used);
    cn_metrics_put(out, "cluster_balance", k > 1 ? h / log(k) : 1.0);
    if (p->ds->labels && n_classes > 0) {
        cn_metrics_put(out, "cluster_acc", cn_cluster_acc(c->pred, k, c->labels, n_classes, n));
        cn_metrics_put(out, "nmi", cn_cluster_nmi(c->pred, k, c->labels, n_classes, n));
        cn_metrics_put(out, "ari", cn_cluster_ari(c->pred, k, c->labels, n_classes, n));
    }
}

static void clusters_close(void *st)
{
    clusters_ev *c = st;
    free(c->pred);
    free(c->labels);
}

const cn_evaluator cn_evaluator_clusters = {
    .name = "clusters",
    .needs = CN_OFFER_CLUSTERS,
    .size = sizeof(clusters_ev),
    .open = clusters_open,
    .batch = clusters_batch,
    .put = clusters_put,
    .close = clusters_close,
};
