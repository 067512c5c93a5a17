/* train.c - the training loop: per epoch a fresh permutation drawn from the
 * net's RNG, batches from the loader (its worker thread prepares the next
 * one), the one training step of src/step.c on each, then validation (the
 * mean loss of src/valid.c), log.csv, last.ckpt and best.ckpt. A stop
 * request saves a mid-epoch checkpoint that resumes exactly: it records the
 * RNG at the epoch's start (to redraw the same permutation) and the batches
 * done.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "net_internal.h"

cn_train_opts cn_train_defaults(void)
{
    return (cn_train_opts){0};
}


typedef struct run {
    cn_net *net;
    cn_data *data;
    const cn_train_opts *opts;
    cn_loader *train;
    int epochs;
    char dir[512], last[600], best[600], log[600];
    FILE *log_f;
    double *parts;       /* (n_losses) running sums of each loss this epoch */
    int lock;            /* the run folder's lock (src/runlock.c), or -1 */
    double ref_loss;     /* the run's first batch's total loss (NAN before it) */
    float *ref_out;      /* (n_layers) largest |output| of each layer at that batch */
    cn_ckpt_info info;
    int cfg_saved;       /* run.cfg holds this process's settings */
    cn_valid_metrics kinds; /* which validation metrics this run has (0) or not (NAN) */
    int valid_elbo;      /* the validation loss is a negative ELBO (a VAE's) */
    double stop_best;    /* best monitored score (lower is better) for early stopping */
    int stop_epoch;      /* the epoch it was reached */
    int since;           /* epochs since it improved by min_delta */
    char stop_why[256];  /* set when early stopping ends the run */
} run;

/* Save last.ckpt, then (once per process) the settings it was made under as
 * run.cfg: after the checkpoint, so a full disk names the checkpoint and a
 * run.cfg never describes a checkpoint not yet written. */
static cn_status save_last(run *r, cn_error *err)
{
    if (cn_ckpt_save(r->net, r->last, &r->info, err))
        return err->code;
    if (r->cfg_saved || !r->opts->cfg)
        return CN_OK;
    r->cfg_saved = 1;
    return cn_run_cfg_save(r->dir, r->opts->cfg, err);
}

static cn_status open_log(run *r, cn_error *err)
{
    r->log_f = fopen(r->log, r->opts->resume ? "a" : "w");
    if (!r->log_f)
        return cn_errorf(err, CN_ERR_IO, "%s: cannot write: %s", r->log, strerror(errno));
    if (!r->opts->resume || ftell(r->log_f) == 0) {
        fprintf(r->log_f, "epoch,step,train_loss");
        for (int i = 0; i < r->net->n_losses; i++)
            fprintf(r->log_f, ",%s", r->net->losses[i].name);
        fprintf(r->log_f, ",valid_loss%s%s,lr,seconds,samples_per_s\n",
                isnan(r->kinds.accuracy) ? "" : ",valid_accuracy",
                isnan(r->kinds.cluster_acc) ? "" : ",valid_cluster_acc");
    }
    return CN_OK;
}

/* [net] monitor's values, in cn_monitor order (CN_MONITOR_CHOICES). */
static const char *const monitor_names[] = {"loss", "accuracy", "cluster_acc"};

/* What validation reports (a VAE's loss is its negative ELBO, which the
 * console names so), and so what [net] monitor may watch. */
static cn_status check_monitor(run *r, cn_error *err)
{
    const cn_net *net = r->net;
    const char *why = NULL;
    r->kinds = cn_net_valid_kinds(net, r->data->n_valid > 0 && r->data->train->labels);
    r->valid_elbo = cn_net_has_posterior(net);
    if (net->monitor == CN_MONITOR_ACCURACY && isnan(r->kinds.accuracy))
        why = "an accuracy: a label loss and a validation split with labels (valid_fraction)";
    if (net->monitor == CN_MONITOR_CLUSTER_ACC && isnan(r->kinds.cluster_acc))
        why = "a clustering accuracy: a layer offering clusters and a validation split with "
              "labels (valid_fraction)";
    if (why)
        return cn_errorf(err, CN_ERR_CFG, "%s: [net] monitor = %s needs %s", net->file,
                         monitor_names[net->monitor], why);
    return CN_OK;
}

/* A resumed position must be one of this run's: the same batches an
 * epoch (a version 1 checkpoint does not record them, so its step must
 * equal the batches its epochs and batch make with this run's). */
static cn_status check_position(run *r, cn_error *err)
{
    const cn_ckpt_info *in = &r->info;
    int n = cn_loader_batches(r->train);
    if (in->batches && in->batches != n)
        return cn_errorf(err, CN_ERR_FORMAT, "cannot resume: %s was saved with %d batches an "
                         "epoch, this run has %d (%d samples in batches of %d): the batch "
                         "size or the training split changed", r->last, in->batches, n,
                         r->data->n_train, r->net->batch);
    if (in->batch >= n || in->step != (long)in->epoch * n + in->batch)
        return cn_errorf(err, CN_ERR_FORMAT, "cannot resume: %s is at step %ld, epoch %d, "
                         "batch %d, which %d batches an epoch (%d samples in batches of %d) "
                         "do not make: the batch size or the training split changed",
                         r->last, in->step, in->epoch, in->batch, n, r->data->n_train,
                         r->net->batch);
    r->info.batches = n;
    return CN_OK;
}

/* Resuming needs run_dir/last.ckpt; a run stopped before its first epoch
 * ended has none, which is said plainly rather than as a failed open. */
static cn_status resume(run *r, cn_error *err)
{
    struct stat st;
    if (stat(r->last, &st) != 0 && errno == ENOENT)
        return cn_errorf(err, CN_ERR_IO, "cannot resume: %s has no checkpoint (no %s: the run "
                         "saved none, e.g. it stopped before its first epoch ended); start it "
                         "afresh", r->dir, r->last);
    if (cn_ckpt_load(r->net, r->last, &r->info, err))
        return cn_error_prefix(err, "cannot resume: ");
    return check_position(r, err);
}

static cn_status setup(run *r, cn_error *err)
{
    cn_net *net = r->net;
    cn_data *d = r->data;
    if (d->n_train < net->batch)
        return cn_errorf(err, CN_ERR_CFG, "%s: batch %d is larger than the training split "
                         "(%d samples)", net->file, net->batch, d->n_train);
    size_t in = cn_net_input_size(net);
    if ((size_t)d->train->c * d->train->h * d->train->w != in)
        return cn_errorf(err, CN_ERR_SHAPE, "%s: [net] input has %zu values per sample but "
                         "the dataset %s has %dx%dx%d", net->file, in, d->train->source,
                         d->train->c, d->train->h, d->train->w);
    if (cn_net_check_labels(net, d->train, err) || cn_net_check_labels(net, d->test, err) ||
        cn_net_check_labelled(net, d, err) || check_monitor(r, err))
        return err->code;
    if (r->opts->run_dir && strlen(r->opts->run_dir) >= sizeof r->dir)
        return cn_errorf(err, CN_ERR_USAGE, "run folder '%.40s...' is %zu characters long; at "
                         "most %zu (--run-dir)", r->opts->run_dir, strlen(r->opts->run_dir),
                         sizeof r->dir - 1);
    if (r->opts->run_dir)
        snprintf(r->dir, sizeof r->dir, "%s", r->opts->run_dir);
    else
        snprintf(r->dir, sizeof r->dir, "runs/%s", net->name);
    snprintf(r->last, sizeof r->last, "%s/last.ckpt", r->dir);
    snprintf(r->best, sizeof r->best, "%s/best.ckpt", r->dir);
    snprintf(r->log, sizeof r->log, "%s/log.csv", r->dir);
    r->parts = calloc((size_t)CN_MAX(net->n_losses, 1), sizeof *r->parts);
    r->ref_out = calloc((size_t)net->n_layers, sizeof *r->ref_out);
    if (!r->parts || !r->ref_out)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory");
    /* the lock before anything in the folder is read or written */
    if (cn_make_dirs(r->dir, "run folder", err) || cn_run_lock(r->dir, &r->lock, err) ||
        cn_loader_create(d->train, d->train_idx, d->n_train, net->batch, 1, d->prefetch,
                         &r->train, err))
        return err->code;
    r->info.best_valid = INFINITY;
    r->info.batches = cn_loader_batches(r->train);
    int changed = 0;
    const cn_cfg *cfg = r->opts->cfg;
    if (r->opts->resume && ((cfg && cn_run_cfg_resume(r->dir, cfg, &changed, err)) ||
                            resume(r, err)))
        return err->code;
    r->stop_best = r->info.best_valid; /* patience counts afresh from the run's best */
    r->stop_epoch = r->info.epoch;
    long batches = cn_loader_batches(r->train);
    for (int g = 0; g < net->n_groups; g++) /* each group's steps over the run */
        net->groups[g].optim->sched.total_steps = cn_groups_t(net, g, (long)r->epochs * batches);
    if (changed && net->n_groups == 1)
        cn_logf(CN_LOG_INFO, "the learning-rate schedule now spans %ld steps (%d epochs of %ld "
                "batches) and goes on from step %ld with the settings above",
                net->optim->sched.total_steps, r->epochs, batches, r->info.step);
    else if (changed) /* each group's steps follow from the batches (src/groups.c) */
        cn_logf(CN_LOG_INFO, "the learning-rate schedules of the %d parameter groups now span "
                "%ld batches (%d epochs of %ld) and go on from batch %ld with the settings "
                "above", net->n_groups, (long)r->epochs * batches, r->epochs, batches,
                r->info.step);
    return open_log(r, err);
}

/* Begin epoch: draw its permutation; on a mid-epoch resume redraw the saved
 * one and skip the batches already done. Returns the batches skipped. */
static int begin_epoch(run *r)
{
    cn_net *net = r->net;
    if (r->info.batch > 0) {
        cn_rng current = net->rng;
        memcpy(net->rng.s, r->info.epoch_rng, sizeof net->rng.s);
        cn_loader_epoch(r->train, &net->rng);
        net->rng = current;
        cn_batch b;
        for (int i = 0; i < r->info.batch; i++)
            cn_loader_next(r->train, &b);
        return r->info.batch;
    }
    memcpy(r->info.epoch_rng, net->rng.s, sizeof net->rng.s);
    r->info.epoch_loss = 0.0;
    cn_loader_epoch(r->train, &net->rng);
    return 0;
}

/* A run diverges when a batch's total loss, though finite, exceeds EXPLODE
 * times the run's first batch's (at least 1): the step already checked
 * finiteness, this catches the growth before it overflows, while the last
 * checkpoints are still good. */
#define EXPLODE 1e6
/* A layer's output is out of range past the square root of that factor
 * times its size at the first batch (at least 1): a squared error grows as
 * the square of the output it measures. */
#define OUT_EXPLODE 1e3f

static float max_abs(const cn_tensor *t)
{
    float m = 0.0f;
    for (size_t i = 0; i < cn_tensor_count(t); i++)
        m = fmaxf(m, fabsf(t->data[i]));
    return m;
}

/* CN_OK, or CN_ERR_NUMERIC naming the largest loss term and the first layer
 * whose output grew past OUT_EXPLODE times its size at the first batch. */
static cn_status check_growth(run *r, double loss, cn_error *err)
{
    cn_net *net = r->net;
    if (isnan(r->ref_loss)) {
        r->ref_loss = loss;
        for (int i = 0; i < net->n_layers; i++)
            r->ref_out[i] = max_abs(&net->layers[i].out);
        return CN_OK;
    }
    if (!(fabs(loss) > EXPLODE * fmax(fabs(r->ref_loss), 1.0)))
        return CN_OK;
    const cn_loss *big = NULL;
    for (int i = 0; i < net->n_losses; i++) {
        const cn_loss *l = &net->losses[i];
        if (!l->consumed && (!big || fabs(l->weight * l->value) > fabs(big->weight * big->value)))
            big = l;
    }
    char layer[200] = "no layer's output grew over 1000 times its first batch's";
    for (int i = 1; i < net->n_layers; i++) {
        const cn_layer *l = &net->layers[i];
        float m = max_abs(&l->out);
        if (m > OUT_EXPLODE * fmaxf(r->ref_out[i], 1.0f)) {
            snprintf(layer, sizeof layer, "the first layer whose output left its range is "
                     "'%s' ([%s], line %d): largest |output| %g, %g at the first batch",
                     l->name, l->ops->type, l->cfg_line, (double)m, (double)r->ref_out[i]);
            break;
        }
    }
    return cn_errorf(err, CN_ERR_NUMERIC, "the total loss %g is over %g times the run's first "
                     "batch's (%g): training diverges; loss '%s' (line %d) is %g; %s", loss,
                     EXPLODE, r->ref_loss, big ? big->name : "?", big ? big->cfg_line : 0,
                     big ? big->value : NAN, layer);
}

static cn_status validate(run *r, cn_valid_metrics *m, cn_error *err)
{
    *m = (cn_valid_metrics){NAN, NAN, NAN};
    if (!r->data->n_valid)
        return CN_OK;
    return cn_net_validate(r->net, r->data->train, r->data->valid_idx, r->data->n_valid, m,
                           err);
}

/* Early stopping: count the epochs since the score last improved by
 * min_delta; past patience, say why in r->stop_why. */
static void watch(run *r, int epoch, double score)
{
    const cn_net *net = r->net;
    if (score < r->stop_best - net->min_delta) {
        r->stop_best = score, r->stop_epoch = epoch + 1, r->since = 0;
        return;
    }
    if (++r->since < net->patience || !net->patience)
        return;
    double best = net->monitor == CN_MONITOR_LOSS ? r->stop_best : -r->stop_best;
    snprintf(r->stop_why, sizeof r->stop_why, "early stopping after epoch %d: the %s %s has "
             "not improved by min_delta = %g for %d epochs (best %.6g, epoch %d, in best.ckpt)",
             epoch + 1, r->data->n_valid ? "validation" : "training", monitor_names[net->monitor],
             (double)net->min_delta, net->patience, best, r->stop_epoch);
}

static cn_status end_epoch(run *r, int epoch, int batches, double secs, cn_progress *p,
                           cn_error *err)
{
    cn_net *net = r->net;
    double train_loss = r->info.epoch_loss / batches;
    cn_valid_metrics m;
    if (validate(r, &m, err))
        return err->code;
    double valid = m.loss;
    /* lower is better: a loss, or minus an accuracy */
    double score = net->monitor == CN_MONITOR_ACCURACY      ? -m.accuracy
                   : net->monitor == CN_MONITOR_CLUSTER_ACC ? -m.cluster_acc
                   : isnan(valid)                           ? train_loss
                                                            : valid;
    r->info.epoch = epoch + 1;
    r->info.batch = 0;
    r->info.epoch_loss = 0.0;
    int better = score < r->info.best_valid;
    if (better)
        r->info.best_valid = score;
    /* best before last: a crash between the two resumes from the previous
     * last.ckpt, redoes this epoch and writes the same best.ckpt again */
    if ((better && cn_ckpt_save(net, r->best, &r->info, err)) || save_last(r, err))
        return err->code;
    fprintf(r->log_f, "%d,%ld,%.6g", epoch + 1, net->step, train_loss);
    for (int i = 0; i < net->n_losses; i++)
        fprintf(r->log_f, ",%.6g", r->parts[i] / batches);
    double lr = cn_schedule_lr(&net->optim->sched, net->optim->t);
    fprintf(r->log_f, ",%.6g", valid);
    if (!isnan(r->kinds.accuracy))
        fprintf(r->log_f, ",%.6g", m.accuracy);
    if (!isnan(r->kinds.cluster_acc))
        fprintf(r->log_f, ",%.6g", m.cluster_acc);
    fprintf(r->log_f, ",%.6g,%.3f,%.1f\n", lr, secs, (double)batches * net->batch / secs);
    fflush(r->log_f);
    watch(r, epoch, score);
    p->epoch_done = 1;
    p->valid_loss = valid;
    p->valid_accuracy = m.accuracy;
    p->valid_cluster_acc = m.cluster_acc;
    p->lr = lr;
    p->early_stop = r->stop_why[0] ? r->stop_why : NULL;
    return CN_OK;
}

static cn_status run_epoch(run *r, int epoch, cn_error *err)
{
    cn_net *net = r->net;
    const cn_train_opts *o = r->opts;
    cn_progress p = {.epoch = epoch + 1, .epochs = r->epochs, .n_losses = net->n_losses,
                     .loss_parts = r->parts, .batches = cn_loader_batches(r->train),
                     .valid_loss = NAN, .valid_accuracy = NAN, .valid_cluster_acc = NAN,
                     .lr = cn_schedule_lr(&net->optim->sched, net->optim->t),
                     .valid_elbo = r->valid_elbo};
    int done = begin_epoch(r), trained = 0;
    memset(r->parts, 0, (size_t)net->n_losses * sizeof *r->parts);
    double start = cn_now(), t = start;
    const cn_step_opts train = {.phase_s = p.phase_s};
    cn_batch b;
    while (cn_loader_next(r->train, &b)) {
        double loss = 0.0, t_data = cn_now();
        p.phase_s[CN_PHASE_DATA] += t_data - t;
        cn_net_set_batch(net, b.x, b.labels, b.n); /* the copy counts as forward */
        p.phase_s[CN_PHASE_FORWARD] += cn_now() - t_data;
        /* a failed step updated nothing; a diverging one was step t */
        int failed = cn_net_train_batch(net, &train, &loss, err) != CN_OK;
        if (failed || check_growth(r, loss, err))
            return cn_error_prefix(err, "epoch %d, batch %d (step %ld): ", epoch + 1,
                                   done + 1, net->step + failed);
        t = cn_now();
        done++, trained++;
        r->info.epoch_loss += loss;
        for (int i = 0; i < net->n_losses; i++)
            r->parts[i] += net->losses[i].value;
        p.batch = done;
        p.loss = r->info.epoch_loss / done;
        for (int i = 0; i < net->n_losses; i++)
            p.loss_parts = r->parts; /* sums; the CLI divides by trained batches */
        p.samples_per_s = trained * (double)net->batch / (t - start);
        p.eta_s = (p.batches - done) * (t - start) / trained;
        if (o->stop && *o->stop) {
            r->info.batch = done;
            p.stopped = "interrupted";
            if (o->progress)
                o->progress(&p, o->user);
            return save_last(r, err);
        }
        if (o->progress)
            o->progress(&p, o->user);
    }
    if (end_epoch(r, epoch, done, cn_now() - start, &p, err))
        return err->code;
    if (o->progress)
        o->progress(&p, o->user);
    return CN_OK;
}

cn_status cn_train(cn_net *net, cn_data *data, const cn_train_opts *opts, cn_error *err)
{
    cn_error local;
    if (!err)
        err = &local;
    run r = {.net = net, .data = data, .opts = opts, .lock = -1, .ref_loss = NAN};
    r.epochs = opts->epochs > 0 ? opts->epochs : net->epochs;
    cn_status st = setup(&r, err);
    int trained = !st; /* a refused checkpoint (CN_ERR_NUMERIC too) stopped no training */
    if (!st && opts->resume && r.info.epoch >= r.epochs && r.info.batch == 0)
        cn_logf(CN_LOG_INFO, "%s is finished: %d of %d epochs done, nothing to train (more "
                "epochs: --epochs N with --resume)", r.dir, r.info.epoch, r.epochs);
    cn_net_set_train(net, 1);
    for (int e = r.info.epoch; !st && e < r.epochs && !(opts->stop && *opts->stop) &&
                               !r.stop_why[0]; e++)
        st = run_epoch(&r, e, err);
    if (!st && r.stop_why[0])
        cn_logf(CN_LOG_INFO, "%s", r.stop_why);
    struct stat last;
    if (trained && st == CN_ERR_NUMERIC && stat(r.last, &last) == 0)
        cn_error_prefix(err, "training stopped, %s kept: ", r.last);
    else if (trained && st == CN_ERR_NUMERIC)
        cn_error_prefix(err, "training stopped before its first checkpoint: ");
    if (r.log_f)
        fclose(r.log_f);
    cn_loader_free(r.train);
    free(r.parts);
    free(r.ref_out);
    cn_run_unlock(r.lock);
    return st;
}
