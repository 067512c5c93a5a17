/* probe.c - the linear probe of `cnet eval --probe LAYER`: how linearly
 * separable the classes are in a layer's code.
 *
 * 1. Features: LAYER's outputs in eval mode (noise off), F (n, D) with
 *    D = c*h*w, for the training part of the train split (data->train_idx)
 *    and for the test split; LAYER "input" takes the raw inputs. Each unit
 *    is z-scored with the training features' mean and standard deviation,
 *    so that codes and pixels of any offset and scale are probed alike
 *    (and the classifier is well conditioned in few epochs).
 * 2. A softmax classifier built and trained by cnet itself, from the cfg
 *      [net] batch=256 input=D  [optim] type=adam lr=0.001
 *      [dense] output=n_classes  [cce] target=label
 *    i.e. p = softmax(F W^T + b), cross-entropy, `epochs` shuffled passes
 *    over the stored features (an in-memory f32 dataset and cn_loader),
 *    seeded from the network's seed.
 * 3. probe_accuracy: its accuracy on the test features (cn_eval), and
 *    probe_train_accuracy on the training features.
 * Memory: the features of both splits (4 (n_train + n_test) D bytes).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codestat.h"
#include "net_internal.h"

/* Samples ds[idx[0..n)] of a split. */
typedef struct split {
    const cn_dataset *ds;
    const int *idx;
    int n;
} split;

/* Eval-mode outputs of layer l over sp: an in-memory dataset of D floats
 * per sample with sp's labels. */
static cn_status features(cn_net *net, const cn_layer *l, const split *sp, cn_dataset **out,
                          cn_error *err)
{
    size_t D = cn_tensor_sample(&l->out);
    cn_loader *ld = NULL;
    cn_dataset *f = calloc(1, sizeof *f);
    if (f) {
        f->f32 = malloc((size_t)sp->n * D * sizeof *f->f32); /* (n, D) */
        f->labels = malloc((size_t)sp->n * sizeof *f->labels); /* (n) */
    }
    if (!f || !f->f32 || !f->labels) {
        cn_errorf(err, CN_ERR_NOMEM, "probe: out of memory for %d x %zu features of layer '%s'",
                  sp->n, D, l->name);
        goto fail;
    }
    snprintf(f->source, sizeof f->source, "layer '%s' on %.400s", l->name, sp->ds->source);
    f->n = sp->n, f->c = (int)D, f->h = f->w = 1, f->n_classes = sp->ds->n_classes;
    f->scale = 1.0f;
    if (cn_loader_create(sp->ds, sp->idx, sp->n, net->batch, 0, 0, &ld, err))
        goto fail;
    cn_net_set_train(net, 0);
    cn_loader_epoch(ld, NULL);
    cn_batch b;
    size_t seen = 0;
    while (cn_loader_next(ld, &b)) {
        cn_net_set_batch(net, b.x, b.labels, b.n);
        if (l->index > 0 && cn_net_infer(net, err))
            goto fail;
        if (l->index > 0)
            cn_net_forward(net);
        memcpy(f->f32 + seen * D, l->out.data, (size_t)b.n * D * sizeof *f->f32);
        memcpy(f->labels + seen, b.labels, (size_t)b.n * sizeof *f->labels);
        seen += (size_t)b.n;
    }
    cn_loader_free(ld);
    *out = f;
    return CN_OK;
fail:
    cn_loader_free(ld);
    cn_dataset_free(f);
    return err->code;
}

/* z-score both feature sets with the training features' per-unit mean and
 * standard deviation (1 for a constant unit). */
static cn_status standardize(cn_dataset *tr, cn_dataset *te, cn_error *err)
{
    size_t D = (size_t)tr->c;
    double *mean = calloc(2 * D, sizeof *mean), *sq = mean + D; /* (D) each */
    if (!mean)
        return cn_errorf(err, CN_ERR_NOMEM, "probe: out of memory");
    for (size_t i = 0; i < (size_t)tr->n; i++)
        for (size_t j = 0; j < D; j++) {
            double v = tr->f32[i * D + j];
            mean[j] += v;
            sq[j] += v * v;
        }
    for (size_t j = 0; j < D; j++) {
        mean[j] /= tr->n;
        double var = sq[j] / tr->n - mean[j] * mean[j];
        sq[j] = var > 1e-12 ? 1.0 / sqrt(var) : 1.0; /* now 1 / std */
    }
    cn_dataset *sets[2] = {tr, te};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < (size_t)sets[k]->n; i++)
            for (size_t j = 0; j < D; j++) {
                float *v = &sets[k]->f32[i * D + j];
                *v = (float)((*v - mean[j]) * sq[j]);
            }
    free(mean);
    return CN_OK;
}

/* Train the classifier `probe` for `epochs` passes over tr. */
static cn_status fit(cn_net *probe, const split *tr, int epochs, int prefetch, cn_error *err)
{
    cn_loader *ld = NULL;
    if (cn_loader_create(tr->ds, tr->idx, tr->n, cn_net_batch(probe), 0, prefetch, &ld, err))
        return err->code;
    cn_net_set_train(probe, 1);
    cn_batch b;
    double loss;
    err->code = CN_OK;
    for (int e = 0; e < epochs && !err->code; e++) {
        cn_loader_epoch(ld, cn_net_rng(probe));
        while (cn_loader_next(ld, &b)) {
            cn_net_set_batch(probe, b.x, b.labels, b.n);
            if (cn_net_train_step(probe, &loss, err))
                break;
        }
    }
    cn_loader_free(ld);
    return err->code;
}

/* Build the probe for D features and n_classes, train it, append its accuracies. */
static cn_status probe_run(uint64_t seed, const split *tr, const split *te, size_t D, int epochs,
                           int prefetch, cn_metrics *out, cn_error *err)
{
    char text[512];
    snprintf(text, sizeof text,
             "[net]\nbatch=256\ninput=%zu\nseed=%llu\n[optim]\ntype=adam\nlr=0.001\n"
             "[dense]\nname=probe\noutput=%d\n[cce]\ntarget=label\n",
             D, (unsigned long long)(seed & 0x7fffffff), tr->ds->n_classes);
    cn_cfg *cfg = NULL;
    cn_net *probe = NULL;
    cn_metrics m;
    if (cn_cfg_parse_string("probe.cfg", text, &cfg, err) || cn_net_create(cfg, &probe, err) ||
        fit(probe, tr, epochs, prefetch, err) ||
        cn_eval(probe, te->ds, te->idx, te->n, &m, err))
        goto done;
    cn_metrics_put(out, "probe_accuracy", cn_metrics_get(&m, "accuracy"));
    if (cn_eval(probe, tr->ds, tr->idx, tr->n, &m, err))
        goto done;
    cn_metrics_put(out, "probe_train_accuracy", cn_metrics_get(&m, "accuracy"));
done:
    cn_net_free(probe);
    cn_cfg_free(cfg);
    return err->code;
}

cn_status cn_eval_probe(cn_net *net, const cn_data *data, const char *layer, int epochs,
                        cn_metrics *out, cn_error *err)
{
    cn_error local;
    if (!err)
        err = &local;
    cn_layer *l;
    if (cn_layer_lookup(net, layer, "probe", &l, err))
        return err->code;
    const cn_dataset *train = data->train, *test = data->test;
    if (!train->labels || !test->labels || train->n_classes < 2)
        return cn_errorf(err, CN_ERR_USAGE, "probe: %s needs labelled train and test splits "
                         "with at least 2 classes", train->source);
    if (epochs < 1)
        return cn_errorf(err, CN_ERR_USAGE, "probe: epochs = %d, expected >= 1", epochs);
    /* all = 0, 1, ...: the test split and the stored feature sets, in order */
    int n_all = CN_MAX(test->n, data->n_train), *all = malloc((size_t)n_all * sizeof *all);
    if (!all)
        return cn_errorf(err, CN_ERR_NOMEM, "probe: out of memory");
    for (int i = 0; i < n_all; i++)
        all[i] = i;
    split tr = {train, data->train_idx, data->n_train}, te = {test, all, test->n};
    cn_dataset *ftr = NULL, *fte = NULL;
    if (features(net, l, &tr, &ftr, err) || features(net, l, &te, &fte, err) ||
        standardize(ftr, fte, err))
        goto done;
    tr = (split){ftr, all, ftr->n};
    te = (split){fte, all, fte->n};
    probe_run(net->seed, &tr, &te, cn_tensor_sample(&l->out), epochs, data->prefetch, out, err);
done:
    free(all);
    cn_dataset_free(ftr);
    cn_dataset_free(fte);
    return err->code;
}
