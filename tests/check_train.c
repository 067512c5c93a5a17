/* check_train.c - the training loop on a generated dataset: a metric
 * reached, log.csv, resume after an epoch and after a mid-epoch stop equal
 * to an uninterrupted run bit for bit, same seed => identical checkpoint
 * files, and a diverging run stopped with the last good checkpoint kept. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cnet/cnet.h"
#include "internal.h"
#include "net_internal.h"
#include "util.h"

typedef tu_fixture fixture;

static fixture open_fixture(const char *lr)
{
    char text[1024];
    snprintf(text, sizeof text,
             "[net]\nbatch=16\ninput=1,8,8\nseed=11\nepochs=2\n"
             "[data]\ndir=%s\nvalid_fraction=0.25\n"
             "[optim]\ntype=sgd\nlr=%s\nmomentum=0.9\n"
             "[noise]\nq=0.1\n[dense]\noutput=16\nactivation=tanh\n[dense]\noutput=4\n"
             "[cce]\ntarget=label\n", tu_train_dataset(), lr);
    return tu_fixture_open("train.cfg", text, NULL);
}

static cn_status train(fixture *f, const char *dir, int epochs, int resume,
                       volatile sig_atomic_t *stop, void (*cb)(const cn_progress *, void *),
                       cn_error *err)
{
    cn_train_opts o = cn_train_defaults();
    o.run_dir = dir;
    o.epochs = epochs;
    o.resume = resume;
    o.stop = stop;
    o.progress = cb;
    o.user = (void *)stop;
    return cn_train(f->net, f->data, &o, err);
}

static int same_params(cn_net *a, cn_net *b)
{
    size_t na, nb;
    float *pa = cn_net_param_arena(a, &na), *pb = cn_net_param_arena(b, &nb);
    return na == nb && !memcmp(pa, pb, na * sizeof *pa);
}

static char *slurp(const char *path, long *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)*size + 1);
    ck_assert(buf && fread(buf, 1, (size_t)*size, f) == (size_t)*size);
    buf[*size] = 0;
    fclose(f);
    return buf;
}

START_TEST(test_learns_and_logs)
{
    fixture f = open_fixture("0.1");
    const char *dir = tu_tmpdir();
    cn_error err = {0};
    ck_assert_msg(train(&f, dir, 0, 0, NULL, NULL, &err) == CN_OK, "%s", err.msg);
    cn_metrics m;
    ck_assert_int_eq(cn_eval(f.net, f.data->test, NULL, 0, &m, &err), CN_OK);
    ck_assert_msg(cn_metrics_get(&m, "accuracy") >= 0.95, "test accuracy %g",
                  cn_metrics_get(&m, "accuracy"));
    char path[600];
    long size;
    snprintf(path, sizeof path, "%s/log.csv", dir);
    char *log = slurp(path, &size);
    const char *head = "epoch,step,train_loss,cce,valid_loss,valid_accuracy,lr,seconds,"
                       "samples_per_s\n1,12,";
    ck_assert_msg(strncmp(log, head, strlen(head)) == 0, "%s", log);
    ck_assert_ptr_nonnull(strstr(log, "\n2,24,"));
    free(log);
    tu_fixture_close(&f);
}
END_TEST

static void stop_mid_epoch(const cn_progress *p, void *user)
{
    if (p->epoch == 2 && p->batch == 5)
        *(volatile sig_atomic_t *)user = 1;
}

START_TEST(test_resume_exact)
{
    cn_error err = {0};
    fixture whole = open_fixture("0.1"), split = open_fixture("0.1");
    ck_assert_int_eq(train(&whole, tu_tmpdir(), 2, 0, NULL, NULL, &err), CN_OK);

    /* stopped after epoch 1, resumed in a fresh process-like state */
    const char *dir = tu_tmpdir();
    ck_assert_int_eq(train(&split, dir, 1, 0, NULL, NULL, &err), CN_OK);
    ck_assert(!same_params(whole.net, split.net));
    tu_fixture_close(&split);
    split = open_fixture("0.1");
    ck_assert_msg(train(&split, dir, 2, 1, NULL, NULL, &err) == CN_OK, "%s", err.msg);
    ck_assert_msg(same_params(whole.net, split.net), "resume after epoch 1 differs");
    tu_fixture_close(&split);

    /* stopped in the middle of epoch 2 (as by Ctrl-C), then resumed */
    volatile sig_atomic_t stop = 0;
    dir = tu_tmpdir();
    split = open_fixture("0.1");
    ck_assert_int_eq(train(&split, dir, 2, 0, &stop, stop_mid_epoch, &err), CN_OK);
    ck_assert_int_eq(stop, 1);
    tu_fixture_close(&split);
    split = open_fixture("0.1");
    ck_assert_msg(train(&split, dir, 2, 1, NULL, NULL, &err) == CN_OK, "%s", err.msg);
    ck_assert_msg(same_params(whole.net, split.net), "resume from mid-epoch differs");
    tu_fixture_close(&split);
    tu_fixture_close(&whole);
}
END_TEST

/* Allocations counted from the 2nd to the last batch of epoch 1: only
 * training steps (and the loader's worker) run in between. */
static long allocs_at[2];

static void count_allocs(const cn_progress *p, void *user)
{
    (void)user;
    if (p->epoch == 1 && p->batch == 2)
        allocs_at[0] = tu_allocs;
    if (p->epoch == 1 && p->batch == p->batches && !p->epoch_done)
        allocs_at[1] = tu_allocs;
}

START_TEST(test_no_allocation_in_steps)
{
    fixture f = open_fixture("0.1");
    cn_error err = {0};
    ck_assert_int_eq(train(&f, tu_tmpdir(), 1, 0, NULL, count_allocs, &err), CN_OK);
    ck_assert_int_gt(allocs_at[0], 0);
    ck_assert_int_eq(allocs_at[1] - allocs_at[0], 0);
    tu_fixture_close(&f);
}
END_TEST

/* Train two fresh fixtures from `open` for 2 epochs each; their last.ckpt
 * files must be the same bytes. */
static void assert_runs_identical(fixture (*open)(void))
{
    char *files[2];
    long sizes[2];
    for (int i = 0; i < 2; i++) {
        const char *dir = tu_tmpdir();
        cn_error err = {0};
        fixture f = open();
        ck_assert_int_eq(train(&f, dir, 2, 0, NULL, NULL, &err), CN_OK);
        char path[600];
        snprintf(path, sizeof path, "%s/last.ckpt", dir);
        files[i] = slurp(path, &sizes[i]);
        tu_fixture_close(&f);
    }
    ck_assert_int_eq(sizes[0], sizes[1]);
    ck_assert_int_eq(memcmp(files[0], files[1], (size_t)sizes[0]), 0);
    free(files[0]);
    free(files[1]);
}

static fixture open_default(void)
{
    return open_fixture("0.1");
}

START_TEST(test_same_seed_same_checkpoint)
{
    assert_runs_identical(open_default);
}
END_TEST

/* The same with 2 threads: the pool splits the conv, pooling and dense
 * layers (sized above cn_pool_if's threshold) and the Adam update by a fixed
 * rule, so two runs still give the same bytes. */
static fixture open_threaded(void)
{
    char text[1024];
    snprintf(text, sizeof text,
             "[net]\nbatch=16\ninput=1,8,8\nseed=11\nepochs=2\nthreads=2\n"
             "[data]\ndir=%s\nvalid_fraction=0.25\n[optim]\ntype=adam\nlr=0.01\n"
             "[conv]\nfilters=8\npad=1\nactivation=relu\n[maxpool]\n"
             "[dense]\noutput=300\nactivation=relu\n[dense]\noutput=4\n[cce]\ntarget=label\n",
             tu_train_dataset());
    fixture f = tu_fixture_open("threads.cfg", text, NULL);
    ck_assert_int_eq(cn_pool_size(f.net->pool), 2);
    return f;
}

START_TEST(test_same_seed_same_checkpoint_threads)
{
    assert_runs_identical(open_threaded);
}
END_TEST

START_TEST(test_divergence_keeps_checkpoint)
{
    const char *dir = tu_tmpdir();
    cn_error err = {0};
    fixture f = open_fixture("0.1");
    ck_assert_int_eq(train(&f, dir, 1, 0, NULL, NULL, &err), CN_OK);
    tu_fixture_close(&f);
    char path[600];
    long before_size, after_size;
    snprintf(path, sizeof path, "%s/last.ckpt", dir);
    char *before = slurp(path, &before_size);
    f = open_fixture("1e38"); /* same network, a learning rate far too high */
    ck_assert_int_eq(train(&f, dir, 3, 1, NULL, NULL, &err), CN_ERR_NUMERIC);
    char want[800];
    snprintf(want, sizeof want, "training stopped, %s kept: epoch 2, batch ", path);
    ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "loss 'cce' (line 20) is "), "%s", err.msg);
    char *after = slurp(path, &after_size);
    ck_assert_int_eq(before_size, after_size);
    ck_assert_int_eq(memcmp(before, after, (size_t)before_size), 0);
    free(before);
    free(after);
    tu_fixture_close(&f);
}
END_TEST

/* An autoencoder with a linear output, whose loss SGD makes grow step by
 * step at EXPLODING_LR (to 1e6 times its first batch's long before it
 * overflows). */
#define EXPLODING_LR "10"

/* The regression net reading its bytes times `scale` (the IDX default is 1/255). */
static fixture open_regression_scaled(const char *lr, const char *scale)
{
    char text[1024];
    snprintf(text, sizeof text,
             "[net]\nbatch=16\ninput=1,8,8\nseed=11\nepochs=2\n"
             "[data]\ndir=%s\nvalid_fraction=0.25\nscale=%s\n"
             "[optim]\ntype=sgd\nlr=%s\n"
             "[dense]\noutput=16\n[dense]\noutput=64\n"
             "[mse]\ntarget=input\n", tu_train_dataset(), scale, lr);
    return tu_fixture_open("regress.cfg", text, NULL);
}

static fixture open_regression(const char *lr)
{
    return open_regression_scaled(lr, "0.00392156862745098");
}

/* Train the regression net one good epoch into dir, then resume it with
 * learning rate `lr` and input scale `scale` (the IDX default 1/255 when
 * NULL), which must diverge: the resumed run stops with CN_ERR_NUMERIC,
 * its message in err, and both checkpoints of the good epoch stay byte for
 * byte. */
static void diverge_keeps_checkpoints(const char *lr, const char *scale, cn_error *err)
{
    const char *dir = tu_tmpdir();
    fixture f = open_regression("0.01");
    ck_assert_int_eq(train(&f, dir, 1, 0, NULL, NULL, err), CN_OK);
    tu_fixture_close(&f);
    char last[600], best[600];
    snprintf(last, sizeof last, "%s/last.ckpt", dir);
    snprintf(best, sizeof best, "%s/best.ckpt", dir);
    long l0, b0, l1, b1;
    char *last0 = slurp(last, &l0), *best0 = slurp(best, &b0);
    f = scale ? open_regression_scaled(lr, scale) : open_regression(lr);
    ck_assert_int_eq(train(&f, dir, 3, 1, NULL, NULL, err), CN_ERR_NUMERIC);
    char *last1 = slurp(last, &l1), *best1 = slurp(best, &b1);
    ck_assert(l0 == l1 && !memcmp(last0, last1, (size_t)l0));
    ck_assert(b0 == b1 && !memcmp(best0, best1, (size_t)b0));
    free(last0), free(last1), free(best0), free(best1);
    tu_fixture_close(&f);
}

/* A loss that explodes but stays finite stops the run (over 1e6 times its
 * first batch's), naming the loss and the first layer out of range. */
START_TEST(test_explosion_keeps_checkpoints)
{
    cn_error err = {0};
    diverge_keeps_checkpoints(EXPLODING_LR, NULL, &err);
    ck_assert_msg(strstr(err.msg, "times the run's first batch's") &&
                      strstr(err.msg, "training diverges; loss 'mse' (line 17) is ") &&
                      strstr(err.msg, "the first layer whose output left its range is "
                                      "'dense1' ([dense], line 13)"),
                  "%s", err.msg);
}
END_TEST

/* The same by the input's scale: finite inputs of 1e6 (a misplaced scale)
 * drive the resumed run to a non-finite loss. */
START_TEST(test_input_scale_divergence_keeps_checkpoints)
{
    cn_error err = {0};
    diverge_keeps_checkpoints("0.01", "1e6", &err);
    ck_assert_msg(strstr(err.msg, "training stopped, ") && strstr(err.msg, "loss 'mse'"), "%s",
                  err.msg);
}
END_TEST

/* A NaN weight that an activation's clamp hides from the loss (sigmoid of
 * NaN is finite here) is refused when the checkpoint would be written. */
START_TEST(test_nan_weight_not_saved)
{
    const char *dir = tu_tmpdir();
    cn_error err = {0};
    fixture f = open_fixture("0.1");
    ck_assert_int_eq(train(&f, dir, 1, 0, NULL, NULL, &err), CN_OK);
    char last[600];
    snprintf(last, sizeof last, "%s/last.ckpt", dir);
    long l0, l1;
    char *last0 = slurp(last, &l0);
    cn_net_params(f.net)[0]->value[0] = NAN;
    cn_ckpt_info info = {0};
    ck_assert_int_eq(cn_ckpt_save(f.net, last, &info, &err), CN_ERR_NUMERIC);
    ck_assert_msg(strstr(err.msg, "has a non-finite value, so ") &&
                      strstr(err.msg, "was not written (the previous one is kept)"), "%s",
                  err.msg);
    char *last1 = slurp(last, &l1);
    ck_assert(l0 == l1 && !memcmp(last0, last1, (size_t)l0));
    free(last0), free(last1);
    tu_fixture_close(&f);
}
END_TEST

/* Early stopping on a crafted curve: with min_delta far above any change
 * the loss can make, epoch 1 sets the best and epochs 2 and 3 fail to
 * improve it, so patience = 2 stops the run after epoch 3 of 10, and the
 * log holds 3 lines. Watching an accuracy the net has not is an error. */
static void note(cn_log_level level, const char *msg, void *user)
{
    if (level == CN_LOG_INFO)
        snprintf(user, 512, "%s", msg);
}

START_TEST(test_early_stopping)
{
    const char *dir = tu_tmpdir();
    cn_error err = {0};
    char text[1024], said[512] = "";
    snprintf(text, sizeof text,
             "[net]\nbatch=16\ninput=1,8,8\nseed=11\nepochs=10\npatience=2\nmin_delta=1e9\n"
             "[data]\ndir=%s\nvalid_fraction=0.25\n[optim]\ntype=sgd\nlr=0.01\n"
             "[dense]\noutput=16\n[dense]\noutput=64\n[mse]\ntarget=input\n",
             tu_train_dataset());
    fixture f = tu_fixture_open("stop.cfg", text, NULL);
    cn_log_set(note, said);
    ck_assert_msg(train(&f, dir, 0, 0, NULL, NULL, &err) == CN_OK, "%s", err.msg);
    cn_log_set(NULL, NULL);
    ck_assert_msg(strstr(said, "early stopping after epoch 3: the validation loss has not "
                               "improved by min_delta = 1e+09 for 2 epochs (best ") &&
                      strstr(said, ", epoch 1, in best.ckpt)"), "%s", said);
    char path[600];
    long size;
    snprintf(path, sizeof path, "%s/log.csv", dir);
    char *log = slurp(path, &size);
    ck_assert_ptr_nonnull(strstr(log, "\n3,"));
    ck_assert_ptr_null(strstr(log, "\n4,"));
    free(log);
    tu_fixture_close(&f);
    /* the regression net has no label loss: it cannot watch an accuracy */
    snprintf(text, sizeof text,
             "[net]\nbatch=16\ninput=1,8,8\nmonitor=accuracy\npatience=1\n"
             "[data]\ndir=%s\nvalid_fraction=0.25\n[dense]\noutput=64\n[mse]\ntarget=input\n",
             tu_train_dataset());
    f = tu_fixture_open("acc.cfg", text, NULL);
    ck_assert_int_eq(train(&f, dir, 1, 0, NULL, NULL, &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "acc.cfg: [net] monitor = accuracy needs an accuracy: a label "
                              "loss and a validation split with labels (valid_fraction)");
    tu_fixture_close(&f);
}
END_TEST

/* The first training of test_run_folder_lock: after its first epoch it
 * says so through a pipe and waits there until the test lets it go on. */
typedef struct pause_at_epoch {
    int ready, go; /* pipe ends */
} pause_at_epoch;

static void pause_after_first_epoch(const cn_progress *p, void *user)
{
    const pause_at_epoch *q = user;
    char c = 1;
    if (p->epoch_done && p->epoch == 1) {
        ck_assert_int_eq(write(q->ready, &c, 1), 1);
        ck_assert_int_eq(read(q->go, &c, 1), 1);
    }
}

/* Two trainings on one run folder: while the first holds it, the second
 * refuses at once, naming the folder and the first's pid, and touches
 * nothing; the first then ends as a training alone does (the same
 * last.ckpt, byte for byte, and its log). A lock file whose process is gone
 * (nobody holds it) stops nobody. */
START_TEST(test_run_folder_lock)
{
    const char *dir = tu_tmpdir(), *alone = tu_tmpdir();
    int ready[2], go[2];
    ck_assert(pipe(ready) == 0 && pipe(go) == 0);
    pid_t first = fork();
    ck_assert_int_ge(first, 0);
    if (first == 0) {
        pause_at_epoch q = {ready[1], go[0]};
        cn_error err = {0};
        fixture f = open_fixture("0.1");
        cn_train_opts o = cn_train_defaults();
        o.run_dir = dir;
        o.epochs = 3;
        o.progress = pause_after_first_epoch;
        o.user = &q;
        _exit(cn_train(f.net, f.data, &o, &err) == CN_OK ? 0 : 1);
    }
    char c;
    ck_assert_int_eq(read(ready[0], &c, 1), 1); /* the first is inside its run */
    char path[600], log[600];
    snprintf(path, sizeof path, "%s/last.ckpt", dir);
    snprintf(log, sizeof log, "%s/log.csv", dir);
    long size0, log0;
    char *ckpt0 = slurp(path, &size0), *log_0 = slurp(log, &log0);
    cn_error err = {0};
    fixture f = open_fixture("0.1");
    ck_assert_int_eq(train(&f, dir, 3, 0, NULL, NULL, &err), CN_ERR_IO);
    char want[700];
    snprintf(want, sizeof want, "%s: the run folder is in use by another training (pid %ld,",
             dir, (long)first);
    ck_assert_msg(!strncmp(err.msg, want, strlen(want)), "%s", err.msg);
    long size1, log1; /* nothing of the first was touched */
    char *ckpt1 = slurp(path, &size1), *log_1 = slurp(log, &log1);
    ck_assert(size0 == size1 && !memcmp(ckpt0, ckpt1, (size_t)size0));
    ck_assert(log0 == log1 && !memcmp(log_0, log_1, (size_t)log0));
    free(ckpt0), free(ckpt1), free(log_0), free(log_1);
    ck_assert_int_eq(write(go[1], &c, 1), 1);
    int status;
    ck_assert_int_eq(waitpid(first, &status, 0), first);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* the same training alone, in a folder with a stale lock file */
    snprintf(want, sizeof want, "%s/lock", alone);
    FILE *stale = fopen(want, "w");
    ck_assert_ptr_nonnull(stale);
    fputs("999999\n", stale);
    fclose(stale);
    tu_fixture_close(&f);
    f = open_fixture("0.1");
    ck_assert_msg(train(&f, alone, 3, 0, NULL, NULL, &err) == CN_OK, "%s", err.msg);
    tu_fixture_close(&f);
    char other[600];
    snprintf(other, sizeof other, "%s/last.ckpt", alone);
    ckpt0 = slurp(path, &size0);
    ckpt1 = slurp(other, &size1);
    ck_assert(size0 == size1 && !memcmp(ckpt0, ckpt1, (size_t)size0));
    free(ckpt0), free(ckpt1);
    /* a run folder path is taken whole or refused, never truncated */
    char long_dir[700];
    memset(long_dir, 'd', sizeof long_dir - 1);
    long_dir[sizeof long_dir - 1] = 0;
    f = open_fixture("0.1");
    ck_assert_int_eq(train(&f, long_dir, 1, 0, NULL, NULL, &err), CN_ERR_USAGE);
    ck_assert_msg(strstr(err.msg, "is 699 characters long; at most 511 (--run-dir)"), "%s",
                  err.msg);
    tu_fixture_close(&f);
    /* after a run the lock is free: another process can take it */
    int fd = open(want, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
    close(fd);
}
END_TEST

/* A softmax marked offers=clusters is scored as a clustering layer by eval;
 * after supervised training its clusters match the classes. */
START_TEST(test_marked_cluster_layer)
{
    char text[1024];
    snprintf(text, sizeof text,
             "[net]\nbatch=16\ninput=1,8,8\nseed=11\n[data]\ndir=%s\n[optim]\nlr=0.1\n"
             "momentum=0.9\n[dense]\noutput=4\n[softmax]\noffers=clusters\n[cce]\n"
             "target=label\n", tu_train_dataset());
    fixture f = tu_fixture_open("c.cfg", text, NULL); /* no validation split: seed unused */
    cn_error err = {0};
    ck_assert_int_eq(train(&f, tu_tmpdir(), 3, 0, NULL, NULL, &err), CN_OK);
    cn_metrics m;
    ck_assert_int_eq(cn_eval(f.net, f.data->test, NULL, 0, &m, &err), CN_OK);
    ck_assert_msg(cn_metrics_get(&m, "cluster_acc") >= 0.95, "cluster_acc %g",
                  cn_metrics_get(&m, "cluster_acc"));
    ck_assert_double_ge(cn_metrics_get(&m, "nmi"), 0.8);
    ck_assert_double_eq(cn_metrics_get(&m, "clusters_used"), 4);
    tu_fixture_close(&f);
}
END_TEST

START_TEST(test_batch_larger_than_data)
{
    fixture f = open_fixture("0.1");
    cn_error err = {0};
    f.data->n_train = 10;
    ck_assert_int_eq(train(&f, tu_tmpdir(), 1, 0, NULL, NULL, &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "train.cfg: batch 16 is larger than the training split (10 "
                              "samples)");
    tu_fixture_close(&f);
}
END_TEST

Suite *train_suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("train");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_learns_and_logs);
    tcase_add_test(tc, test_resume_exact);
    tcase_add_test(tc, test_same_seed_same_checkpoint);
    tcase_add_test(tc, test_same_seed_same_checkpoint_threads);
    tcase_add_test(tc, test_no_allocation_in_steps);
    tcase_add_test(tc, test_divergence_keeps_checkpoint);
    tcase_add_test(tc, test_batch_larger_than_data);
    tcase_add_test(tc, test_marked_cluster_layer);
    tcase_add_test(tc, test_run_folder_lock);
    tcase_add_test(tc, test_explosion_keeps_checkpoints);
    tcase_add_test(tc, test_input_scale_divergence_keeps_checkpoints);
    tcase_add_test(tc, test_nan_weight_not_saved);
    tcase_add_test(tc, test_early_stopping);
    suite_add_tcase(s, tc);
    return s;
}
