/* probe.c - the linear probe of `cnet eval --probe LAYER`: how linearly
 * separable the classes are in a layer's code.
 *
 * 1. Features: LAYER's outputs in eval mode (noise off), F (n, D) with
 *    D = c*h*w, for the training part of the train split (data->train_idx)
 *    and for the test split; LAYER "input" takes the raw inputs. Each unit
 *    is z-scored with the mean and standard deviation of the features the
 *    classifier trains on (step 3 holds a tenth out), so that codes and
 *    pixels of any offset and scale are probed alike (and the classifier
 *    is well conditioned in few epochs).
 * 2. A softmax classifier built and trained by cnet itself, from the cfg
 *      [net] batch=256 input=D  [optim] type=adam lr=0.001
 *      [dense] output=n_classes  [cce] target=label
 *    i.e. p = softmax(F W^T + b), cross-entropy, shuffled passes over the
 *    stored features (an in-memory f32 dataset and cn_loader), seeded from
 *    the network's seed.
 * 3. Model selection on held-out training data, the same for every layer:
 *    a seeded 10 % of the training features is kept out for validation;
 *    after every pass the validation accuracy is measured, and the weights
 *    of the best pass are kept (at most `epochs` passes, stopping after
 *    PATIENCE passes without a better one). Why: how long a linear probe
 *    trains changes the ranking - 784 raw pixels overfit after ~20 passes
 *    while a 200-unit code is still improving at 50 - so a fixed pass count
 *    would favour one representation; the test split is never looked at.
 * 4. probe_accuracy: the kept weights' accuracy on the test features
 *    (cn_eval), probe_valid_accuracy and probe_epochs (the pass kept), and
 *    probe_train_accuracy on the features it was trained on.
 * Memory: the features of both splits (4 (n_train + n_test) D bytes) and
 * a copy of the classifier's weights (the best pass's).
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

/* z-score both feature sets with the per-unit mean and standard deviation
 * (1 for a constant unit) of the training features fit[0..n_fit), the ones
 * the classifier trains on. */
static cn_status standardize(cn_dataset *tr, cn_dataset *te, const int *fit, int n_fit,
                             cn_error *err)
{
    /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): the caller's features() succeeded */
    size_t D = (size_t)tr->c;
    double *mean = calloc(2 * D, sizeof *mean); /* (D) means, then (D) squares */
    if (!mean)
        return cn_errorf(err, CN_ERR_NOMEM, "probe: out of memory");
    double *sq = mean + D;
    for (int i = 0; i < n_fit; i++)
        for (size_t j = 0; j < D; j++) {
            double v = tr->f32[(size_t)fit[i] * D + j];
            mean[j] += v;
            sq[j] += v * v;
        }
    for (size_t j = 0; j < D; j++) {
        mean[j] /= n_fit;
        double var = sq[j] / n_fit - mean[j] * mean[j];
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

/* Passes without a better validation accuracy before the probe stops. */
#define PATIENCE 10

/* Train the classifier `probe` on tr for at most `epochs` passes, keeping
 * the weights of the pass with the best accuracy on va (*best, *best_epoch). */
static cn_status fit(cn_net *probe, const split *tr, const split *va, int epochs, int prefetch,
                     double *best, int *best_epoch, cn_error *err)
{
    size_t count;
    float *w = cn_net_param_arena(probe, &count), *kept = malloc(count * sizeof *kept);
    cn_loader *ld = NULL;
    if (!kept)
        return cn_errorf(err, CN_ERR_NOMEM, "probe: out of memory");
    if (cn_loader_create(tr->ds, tr->idx, tr->n, cn_net_batch(probe), 0, prefetch, &ld, err)) {
        free(kept);
        return err->code;
    }
    cn_batch b;
    cn_metrics m;
    double loss;
    *best = -1.0;
    *best_epoch = 0;
    err->code = CN_OK;
    for (int e = 1; e <= epochs && e - *best_epoch <= PATIENCE; e++) {
        cn_net_set_train(probe, 1);
        cn_loader_epoch(ld, cn_net_rng(probe));
        while (cn_loader_next(ld, &b)) {
            cn_net_set_batch(probe, b.x, b.labels, b.n);
            if (cn_net_train_step(probe, &loss, err))
                goto done;
        }
        if (cn_eval(probe, va->ds, va->idx, va->n, &m, err))
            goto done;
        double acc = cn_metrics_get(&m, "accuracy");
        if (acc > *best) {
            *best = acc, *best_epoch = e;
            memcpy(kept, w, count * sizeof *kept);
        }
    }
    memcpy(w, kept, count * sizeof *w);
done:
    cn_loader_free(ld);
    free(kept);
    return err->code;
}

/* Build the probe for D features and n_classes, train it on tr with va for
 * selection, append its accuracies. */
static cn_status probe_run(uint64_t seed, const split *tr, const split *va, const split *te,
                           size_t D, int epochs, int prefetch, cn_metrics *out, cn_error *err)
{
    char text[512];
    snprintf(text, sizeof text,
             "[net]\nbatch=256\ninput=%zu\nseed=%llu\n[optim]\ntype=adam\nlr=0.001\n"
             "[dense]\nname=probe\noutput=%d\n[cce]\ntarget=label\n",
             D, (unsigned long long)(seed & 0x7fffffff), tr->ds->n_classes);
    cn_cfg *cfg = NULL;
    cn_net *probe = NULL;
    cn_metrics m;
    double valid = 0.0;
    int kept = 0;
    if (cn_cfg_parse_string("probe.cfg", text, &cfg, err) || cn_net_create(cfg, &probe, err) ||
        fit(probe, tr, va, epochs, prefetch, &valid, &kept, err) ||
        cn_eval(probe, te->ds, te->idx, te->n, &m, err))
        goto done;
    cn_metrics_put(out, "probe_accuracy", cn_metrics_get(&m, "accuracy"));
    cn_metrics_put(out, "probe_valid_accuracy", valid);
    cn_metrics_put(out, "probe_epochs", kept);
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
    if (data->n_train < 20)
        return cn_errorf(err, CN_ERR_USAGE, "probe: %d training samples, expected >= 20 (10 %% "
                         "are held out to choose the pass)", data->n_train);
    /* all = 0, 1, ...: the test split in order; mix: the stored training
     * features in a seeded order, the last tenth held out for validation */
    int n_all = CN_MAX(test->n, data->n_train);
    int *all = malloc(2 * (size_t)n_all * sizeof *all); /* (n_all) all, then (n_all) mix */
    if (!all)
        return cn_errorf(err, CN_ERR_NOMEM, "probe: out of memory");
    int *mix = all + n_all;
    for (int i = 0; i < n_all; i++)
        all[i] = mix[i] = i;
    cn_rng rng;
    cn_rng_seed(&rng, net->seed ^ 0x9e3779b97f4a7c15ULL);
    cn_rng_shuffle(&rng, mix, data->n_train);
    int n_fit = data->n_train - data->n_train / 10;
    split tr = {train, data->train_idx, data->n_train}, te = {test, all, test->n};
    cn_dataset *ftr = NULL, *fte = NULL;
    if (features(net, l, &tr, &ftr, err) || features(net, l, &te, &fte, err) ||
        standardize(ftr, fte, mix, n_fit, err))
        goto done;
    tr = (split){ftr, mix, n_fit};
    /* NOLINTBEGIN(clang-analyzer-core.NullDereference): features() succeeded, set both */
    split va = {ftr, mix + n_fit, ftr->n - n_fit};
    te = (split){fte, all, fte->n};
    /* NOLINTEND(clang-analyzer-core.NullDereference) */
    probe_run(net->seed, &tr, &va, &te, cn_tensor_sample(&l->out), epochs, data->prefetch, out,
              err);
done:
    free(all);
    cn_dataset_free(ftr);
    cn_dataset_free(fte);
    return err->code;
}
