/* check_crash.c - a killed `cnet train` never loses work, and a resumed run
 * ends bit for bit where an uninterrupted one does (docs/errors.md,
 * docs/reproducibility.md).
 *
 * The real ./cnet trains a small cfg (noise layer, momentum, a validation
 * split: 24 epochs in about a second, one BLAS thread) while the test
 * kills it with SIGKILL 28 times: at 18 times spread over the run (a kill
 * that comes too late for a faster run is retried earlier), while it reads
 * its data, during checkpoint writes (CNET_TEST_CKPT_DELAY_MS holds each
 * finished temporary file 10 ms before its rename; the kill lands when one
 * appears) and just after epoch boundaries (when log.csv gains a line).
 * After each kill the run folder must hold a last.ckpt that cn_ckpt_load
 * accepts, and `cnet train --resume` must finish with last.ckpt and
 * best.ckpt equal, byte for byte, to the uninterrupted run's. A kill before
 * the first checkpoint leaves nothing to resume: --resume says so (exit 1)
 * and a fresh start gives the same files.
 * SIGINT and SIGTERM save a checkpoint and exit with status 130.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cnet/cnet.h"
#include "internal.h"
#include "util.h"

#define EPOCHS 24
#define KILLS_AT_TIME 18

typedef struct fixture {
    char cfg[512], ref[512]; /* the cfg; the uninterrupted run's folder */
    double secs;             /* that run's duration, checkpoint delay included */
    cn_cfg *parsed;
    cn_net *net;             /* to load the checkpoints a kill leaves */
} fixture;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int exists(const char *dir, const char *name)
{
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

/* Start ./cnet train on cfg into dir; stderr goes to dir.err. The
 * environment is set before fork, so the child only redirects and execs. */
static pid_t spawn(const char *cfg, const char *dir, int resume, int delay)
{
    char err_path[1024];
    snprintf(err_path, sizeof err_path, "%s.err", dir);
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    if (delay)
        setenv("CNET_TEST_CKPT_DELAY_MS", "10", 1);
    else
        unsetenv("CNET_TEST_CKPT_DELAY_MS");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int out = open("/dev/null", O_WRONLY), err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC,
                                                          0644);
        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(126);
        execl("./cnet", "cnet", "train", cfg, "--run-dir", dir, resume ? "--resume" : NULL,
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Run to the end; returns the exit status (-1 when killed by a signal). */
static int run(const char *cfg, const char *dir, int resume, int delay)
{
    int st;
    pid_t pid = spawn(cfg, dir, resume, delay);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path, long *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)*size + 1);
    ck_assert(buf && fread(buf, 1, (size_t)*size, f) == (size_t)*size);
    buf[*size] = '\0';
    fclose(f);
    return buf;
}

/* a/name and b/name exist and hold the same bytes. */
static int same_file(const char *a, const char *b, const char *name)
{
    char pa[1024], pb[1024];
    long na = -1, nb = -2;
    snprintf(pa, sizeof pa, "%s/%s", a, name);
    snprintf(pb, sizeof pb, "%s/%s", b, name);
    char *x = slurp(pa, &na), *y = slurp(pb, &nb);
    int same = x && y && na == nb && !memcmp(x, y, (size_t)na);
    free(x);
    free(y);
    return same;
}

/* Lines in dir/log.csv (the header and one per finished epoch). */
static int log_lines(const char *dir)
{
    char path[1024];
    long n = 0;
    snprintf(path, sizeof path, "%s/log.csv", dir);
    char *text = slurp(path, &n);
    int lines = 0;
    for (long i = 0; text && i < n; i++)
        lines += text[i] == '\n';
    free(text);
    return lines;
}

static void remove_run(const char *dir)
{
    static const char *const names[] = {"last.ckpt", "best.ckpt", "log.csv", "last.ckpt.tmp",
                                        "best.ckpt.tmp"};
    char path[1024];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    snprintf(path, sizeof path, "%s.err", dir);
    unlink(path);
}

/* The dataset, the cfg, and the uninterrupted run, made twice (with and
 * without the checkpoint delay) with identical files as the result. */
static void open_fixture(fixture *f)
{
    const char *data = tu_idx_dataset(1024, 64, 16, 16, 4, 21), *dir = tu_tmpdir();
    char text[1024], other[512];
    snprintf(text, sizeof text, "[net]\nbatch=8\ninput=1,16,16\nseed=3\nepochs=%d\n[data]\n"
             "dir=%s\nvalid_fraction=0.25\n[optim]\nlr=0.02\nmomentum=0.9\n[noise]\nq=0.1\n"
             "[dense]\noutput=128\nactivation=tanh\n[dense]\noutput=4\n[cce]\ntarget=label\n",
             EPOCHS, data);
    snprintf(f->cfg, sizeof f->cfg, "%s", tu_write(dir, "crash.cfg", text));
    snprintf(f->ref, sizeof f->ref, "%s/ref", dir);
    snprintf(other, sizeof other, "%s/ref2", dir);
    double t0 = now();
    ck_assert_int_eq(run(f->cfg, f->ref, 0, 1), 0);
    f->secs = now() - t0;
    ck_assert_int_eq(run(f->cfg, other, 0, 0), 0);
    ck_assert_msg(same_file(f->ref, other, "last.ckpt") && same_file(f->ref, other, "best.ckpt"),
                  "two runs of one cfg and seed differ");
    remove_run(other);
    ck_assert_int_eq(log_lines(f->ref), EPOCHS + 1);
    cn_error err = {0};
    ck_assert_msg(!cn_cfg_parse_file(f->cfg, &f->parsed, &err) &&
                  !cn_net_create(f->parsed, &f->net, &err), "%s", err.msg);
}

static void close_fixture(fixture *f)
{
    remove_run(f->ref);
    cn_net_free(f->net);
    cn_cfg_free(f->parsed);
}

/* When to kill: `at` seconds into the run, when the at-th temporary
 * checkpoint file appears, or when the at-th epoch's log line does. */
typedef enum { AT_TIME, AT_CKPT_WRITE, AFTER_EPOCH } when;

typedef struct plan {
    when kind;
    double at;
} plan;

/* Run with the delay and SIGKILL it as planned; 0 if it ended first. */
static int kill_run(const fixture *f, const char *dir, const plan *p)
{
    double start = now();
    int st, writes = 0, writing = 0;
    const struct timespec tick = {0, 100000};
    pid_t pid = spawn(f->cfg, dir, 0, 1);
    for (;;) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return 0;
        int due = 0;
        if (p->kind == AT_TIME) {
            due = now() - start >= p->at;
        } else if (p->kind == AT_CKPT_WRITE) {
            int tmp = exists(dir, "last.ckpt.tmp") || exists(dir, "best.ckpt.tmp");
            writes += tmp && !writing;
            writing = tmp;
            due = tmp && writes == (int)p->at;
        } else {
            due = log_lines(dir) > (int)p->at;
        }
        if (due)
            break;
        nanosleep(&tick, NULL);
    }
    kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    return 1;
}

/* After a kill or a stop: resume (or, with no checkpoint, see --resume
 * refused and start afresh) and compare with the uninterrupted run. */
static void finish_and_compare(const fixture *f, const char *dir, const char *what)
{
    char path[1024];
    if (exists(dir, "last.ckpt")) {
        cn_error err = {0};
        snprintf(path, sizeof path, "%s/last.ckpt", dir);
        ck_assert_msg(cn_ckpt_load(f->net, path, NULL, &err) == CN_OK, "%s: %s", what, err.msg);
        ck_assert_msg(run(f->cfg, dir, 1, 0) == 0, "%s: the resume failed", what);
    } else {
        char want[2048];
        long n = 0;
        snprintf(want, sizeof want, "cnet: error: cannot resume: %s has no checkpoint (no "
                 "%s/last.ckpt: the run saved none, e.g. it stopped before its first epoch "
                 "ended); start it afresh\n", dir, dir);
        ck_assert_int_eq(run(f->cfg, dir, 1, 0), 1);
        snprintf(path, sizeof path, "%s.err", dir);
        char *got = slurp(path, &n);
        ck_assert_ptr_nonnull(got);
        ck_assert_str_eq(got, want);
        free(got);
        ck_assert_msg(run(f->cfg, dir, 0, 0) == 0, "%s: the fresh start failed", what);
    }
    ck_assert_msg(same_file(f->ref, dir, "last.ckpt"), "%s: last.ckpt differs", what);
    ck_assert_msg(same_file(f->ref, dir, "best.ckpt"), "%s: best.ckpt differs", what);
}

START_TEST(test_sigkill)
{
    fixture f;
    open_fixture(&f);
    plan plans[KILLS_AT_TIME + 10];
    int n = 0;
    for (int i = 0; i < KILLS_AT_TIME; i++)
        plans[n++] = (plan){AT_TIME, 0.9 * f.secs * (i + 0.5) / KILLS_AT_TIME};
    plans[n++] = (plan){AT_TIME, 0.002}; /* while reading the data */
    for (int k = 1; k <= 17; k += 4)
        plans[n++] = (plan){AT_CKPT_WRITE, k};
    for (int e = 2; e <= EPOCHS; e += 7)
        plans[n++] = (plan){AFTER_EPOCH, e};
    int kills = 0, after = 0, writing = 0;
    char dir[512], what[64];
    const char *base = tu_tmpdir();
    for (int i = 0; i < n; i++) {
        snprintf(dir, sizeof dir, "%s/run%d", base, i);
        int landed = kill_run(&f, dir, &plans[i]);
        /* a run faster than the reference may end before a late kill: kill earlier */
        for (int retry = 0; !landed && plans[i].kind == AT_TIME && retry < 4; retry++) {
            remove_run(dir);
            plans[i].at *= 0.8;
            landed = kill_run(&f, dir, &plans[i]);
        }
        snprintf(what, sizeof what, "kill %d (plan %d at %g)", i, plans[i].kind, plans[i].at);
        if (landed) {
            kills++;
            after += exists(dir, "last.ckpt");
            writing += exists(dir, "last.ckpt.tmp") || exists(dir, "best.ckpt.tmp");
        }
        finish_and_compare(&f, dir, what);
        remove_run(dir);
    }
    fprintf(stderr, "crash: %d SIGKILLs over a %.2f s run: %d after the first checkpoint (%d "
            "during a checkpoint write), %d before it; every resume identical\n", kills, f.secs,
            after, writing, kills - after);
    ck_assert_int_ge(after, 20);
    ck_assert_int_ge(writing, 3);
    ck_assert_int_ge(kills - after, 1);
    close_fixture(&f);
}
END_TEST

/* SIGINT and SIGTERM at a few moments after the first checkpoint: exit
 * status 130, a checkpoint that loads, no temporary file, an exact resume. */
START_TEST(test_sigint_sigterm)
{
    fixture f;
    open_fixture(&f);
    static const int sigs[4] = {SIGINT, SIGTERM, SIGINT, SIGTERM};
    static const int epochs[4] = {1, 3, 9, 16}, pause_us[4] = {0, 3000, 7000, 12000};
    const char *base = tu_tmpdir();
    char dir[512], what[64];
    for (int i = 0; i < 4; i++) {
        snprintf(dir, sizeof dir, "%s/run%d", base, i);
        snprintf(what, sizeof what, "%s after epoch %d", sigs[i] == SIGINT ? "SIGINT" : "SIGTERM",
                 epochs[i]);
        pid_t pid = spawn(f.cfg, dir, 0, 0);
        const struct timespec tick = {0, 100000}, pause = {0, pause_us[i] * 1000L};
        int st;
        while (log_lines(dir) <= epochs[i]) {
            ck_assert_msg(waitpid(pid, &st, WNOHANG) == 0, "%s: the run ended first", what);
            nanosleep(&tick, NULL);
        }
        nanosleep(&pause, NULL);
        kill(pid, sigs[i]);
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 130, "%s: status %d", what, st);
        ck_assert(!exists(dir, "last.ckpt.tmp") && !exists(dir, "best.ckpt.tmp"));
        finish_and_compare(&f, dir, what);
        remove_run(dir);
    }
    close_fixture(&f);
}
END_TEST

Suite *crash_suite(void)
{
    Suite *s = suite_create("crash");
    TCase *tc = tcase_create("crash");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_sigkill);
    tcase_add_test(tc, test_sigint_sigterm);
    suite_add_tcase(s, tc);
    return s;
}
