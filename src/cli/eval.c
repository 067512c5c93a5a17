/* eval.c - `cnet eval CFG` (metrics of a trained network on held-out
 * data; with --probe, --sparsity, --jacobian, --corrupt, --gaussian,
 * --quantize and --iw the measurements of docs/eval.md), and the baselines
 * on raw pixels: `cnet kmeans CFG` (what clustering results are compared
 * with) and `cnet pca CFG` (what reconstructions are compared with). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cnet/cnet.h"
#include "internal.h"
#include "eval/cluster.h"
#include "eval/pca.h"

/* The dataset and index list of the chosen split. */
static cn_status pick_split(const cn_data *d, const char *split, const cn_dataset **ds,
                            const int **idx, int *n, cn_error *err)
{
    *ds = d->train;
    if (!strcmp(split, "test")) {
        *ds = d->test, *idx = NULL, *n = d->test->n;
    } else if (!strcmp(split, "train")) {
        *idx = d->train_idx, *n = d->n_train;
    } else {
        if (!d->n_valid)
            return cn_errorf(err, CN_ERR_USAGE, "--split valid: the cfg has no validation "
                             "split (set [data] valid_fraction)");
        *idx = d->valid_idx, *n = d->n_valid;
    }
    return CN_OK;
}

/* The metrics m of n samples of the split: a JSON object whose "key" is
 * value (the checkpoint, or what a baseline was fitted on), or lines under
 * the heading `title`. */
static void print_metrics(const cli_opts *o, const char *key, const char *value,
                          const char *title, int n, const cn_metrics *m)
{
    if (o->json) {
        printf("{\"cfg\": \"%s\", \"split\": \"%s\", \"%s\": \"%s\", \"samples\": %d, "
               "\"metrics\": {", o->cfg, o->split, key, value, n);
        for (int i = 0; i < m->n; i++)
            printf("%s\"%s\": %.6g", i ? ", " : "", m->name[i],
                   isfinite(m->value[i]) ? m->value[i] : -1.0);
        printf("}}\n");
        return;
    }
    printf("%s\n", title);
    for (int i = 0; i < m->n; i++)
        printf("  %-22s %.6g\n", m->name[i], m->value[i]);
}

int cli_eval(const cli_opts *o)
{
    cn_error err = {0};
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    cn_data *data = NULL;
    int rc = 0;
    char weights[1024], dir[1024];
    const cn_dataset *ds = NULL;
    const int *idx = NULL;
    int n = 0;
    cn_metrics m;
    if (o->quantize && !o->sparsity) {
        cn_errorf(&err, CN_ERR_USAGE, "--quantize needs --sparsity LAYER, the code layer to "
                  "quantize");
        goto fail;
    }
    if (cli_load_run(o, &cfg, dir, sizeof dir, &err) || cn_net_create(cfg, &net, &err) ||
        cn_data_open(cfg, cn_net_seed(net), &data, &err) ||
        pick_split(data, o->split, &ds, &idx, &n, &err))
        goto fail;
    cn_eval_opts eo = {.corrupt = o->corrupt >= 0.0, .corrupt_q = (float)o->corrupt,
                       .corrupt_seed = cn_net_seed(net), .sparsity = o->sparsity,
                       .jacobian = o->jacobian, .iw = (int)o->iw,
                       .quantize = (int)o->quantize, .gauss = o->gaussian >= 0.0,
                       .gauss_sigma = (float)o->gaussian};
    if (cli_load_weights(o, dir, net, weights, sizeof weights, &err) ||
        cn_eval_with(net, ds, idx, n, &eo, &m, &err))
        goto fail;
    /* the probe trains on the training part and scores the test split, whatever --split */
    if (o->probe && cn_eval_probe(net, data, o->probe, (int)o->probe_epochs, &m, &err))
        goto fail;
    char title[2400];
    snprintf(title, sizeof title, "%s on %s split (%d samples), weights %s", o->cfg, o->split, n,
             weights);
    print_metrics(o, "weights", weights, title, n, &m);
    goto done;
fail:
    rc = cli_fail(&err);
done:
    cn_data_close(data);
    cn_net_free(net);
    cn_cfg_free(cfg);
    return rc;
}

int cli_kmeans(const cli_opts *o)
{
    cn_error err = {0};
    cn_cfg *cfg = NULL;
    cn_data *data = NULL;
    float *x = NULL, *centers = NULL;
    int *assign = NULL, *labels = NULL, rc = 0, k = (int)o->k; /* at most INT_MAX */
    const cn_dataset *ds = NULL;
    const int *idx = NULL;
    int n = 0;
    if (cli_load_cfg(o, &cfg, &err) || cn_data_open(cfg, 1, &data, &err) ||
        pick_split(data, o->split, &ds, &idx, &n, &err))
        goto fail;
    size_t d = (size_t)ds->c * ds->h * ds->w;
    x = malloc((size_t)n * d * sizeof *x);
    centers = malloc((size_t)k * d * sizeof *centers);
    assign = malloc((size_t)n * sizeof *assign);
    labels = malloc((size_t)n * sizeof *labels);
    if (!x || !centers || !assign || !labels) {
        cn_errorf(&err, CN_ERR_NOMEM, "out of memory for k-means on %d samples", n);
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        int j = idx ? idx[i] : i;
        cn_dataset_sample(ds, j, x + (size_t)i * d);
        labels[i] = ds->labels ? ds->labels[j] : -1;
    }
    cn_rng rng;
    cn_rng_seed(&rng, o->seed >= 0 ? (uint64_t)o->seed : 1);
    if (cn_kmeans(x, n, (int)d, k, 300, &rng, assign, centers, &err))
        goto fail;
    printf("k-means on raw pixels, k = %d, %s split (%d samples)\n", k, o->split, n);
    if (ds->labels) {
        printf("  cluster_acc %.4f\n", cn_cluster_acc(assign, k, labels, ds->n_classes, n));
        printf("  nmi         %.4f\n", cn_cluster_nmi(assign, k, labels, ds->n_classes, n));
        printf("  ari         %.4f\n", cn_cluster_ari(assign, k, labels, ds->n_classes, n));
    }
    goto done;
fail:
    rc = cli_fail(&err);
done:
    free(x);
    free(centers);
    free(assign);
    free(labels);
    cn_data_close(data);
    cn_cfg_free(cfg);
    return rc;
}

/* The samples of ds[idx[0..n)] (idx NULL: the first n) as floats (n, d). */
static float *load_samples(const cn_dataset *ds, const int *idx, int n, cn_error *err)
{
    size_t d = (size_t)ds->c * ds->h * ds->w;
    float *x = malloc((size_t)(n > 0 ? n : 1) * d * sizeof *x);
    if (!x) {
        cn_errorf(err, CN_ERR_NOMEM, "out of memory for %d samples of %zu values", n, d);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        cn_dataset_sample(ds, idx ? idx[i] : i, x + (size_t)i * d);
    return x;
}

/* [net] seed (default 1): the seed that draws the validation split, so the
 * training part is the one cnet train took. */
static uint64_t cfg_seed(const cn_cfg *cfg)
{
    const cn_cfg_section *net = cn_cfg_find(cfg, "net");
    const cn_cfg_entry *e = net ? cn_cfg_entry_find(net, "seed") : NULL;
    long v = e ? strtol(e->value, NULL, 10) : 1;
    return v >= 0 ? (uint64_t)v : 1;
}

int cli_pca(const cli_opts *o)
{
    cn_error err = {0};
    cn_cfg *cfg = NULL;
    cn_data *data = NULL;
    float *train = NULL, *x = NULL;
    int rc = 0, n = 0;
    const cn_dataset *ds = NULL;
    const int *idx = NULL;
    cn_metrics m;
    char fit[128], title[1200];
    if (cli_load_cfg(o, &cfg, &err) || cn_data_open(cfg, cfg_seed(cfg), &data, &err) ||
        pick_split(data, o->split, &ds, &idx, &n, &err))
        goto fail;
    int d = ds->c * ds->h * ds->w;
    if (!(train = load_samples(data->train, data->train_idx, data->n_train, &err)) ||
        !(x = load_samples(ds, idx, n, &err)) ||
        cn_pca_eval(train, data->n_train, x, n, d, (int)o->components, (int)o->quantize, &m,
                    &err))
        goto fail;
    snprintf(fit, sizeof fit, "train (%d samples)", data->n_train);
    snprintf(title, sizeof title, "PCA of %s, %ld components fitted on its %d training samples; "
             "%s split (%d samples)", o->cfg, o->components, data->n_train, o->split, n);
    print_metrics(o, "fit", fit, title, n, &m);
    goto done;
fail:
    rc = cli_fail(&err);
done:
    free(train);
    free(x);
    cn_data_close(data);
    cn_cfg_free(cfg);
    return rc;
}
