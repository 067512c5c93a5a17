/* train.c - `cnet train CFG`: progress bar on a terminal, one line per
 * epoch otherwise, Ctrl-C / SIGTERM save a resumable checkpoint and exit. */
#include <cblas.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct view {
    const cn_net *net;
    int tty, profile;
    double last_draw;
} view;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void print_parts(const cn_progress *p, const cn_net *net, FILE *f)
{
    for (int i = 0; i < p->n_losses; i++)
        fprintf(f, " %s %.4g", cn_net_loss(net, i)->name,
                p->loss_parts[i] / (p->batch > 0 ? p->batch : 1));
}

static void progress(const cn_progress *p, void *user)
{
    view *v = user;
    if (v->tty && !p->epoch_done && !p->stopped) {
        double t = now();
        if (t - v->last_draw < 0.1 && p->batch < p->batches)
            return;
        v->last_draw = t;
        int width = 24, fill = p->batches ? width * p->batch / p->batches : 0;
        fprintf(stderr, "\r\033[Kepoch %d/%d [%.*s%*s] %d/%d loss %.4g", p->epoch, p->epochs,
                fill, "########################", width - fill, "", p->batch, p->batches,
                p->loss);
        print_parts(p, v->net, stderr);
        fprintf(stderr, " | %.0f samples/s ETA %.0fs", p->samples_per_s, p->eta_s);
        fflush(stderr);
        return;
    }
    if (!p->epoch_done && !p->stopped)
        return;
    if (v->tty)
        fprintf(stderr, "\r\033[K");
    printf("epoch %d/%d loss %.5g", p->epoch, p->epochs, p->loss);
    print_parts(p, v->net, stdout);
    if (!isnan(p->valid_loss))
        printf(" | valid %.5g%s", p->valid_loss, p->valid_elbo ? " (-ELBO)" : "");
    if (!isnan(p->valid_accuracy))
        printf(" accuracy %.4f", p->valid_accuracy);
    if (!isnan(p->valid_cluster_acc))
        printf(" cluster_acc %.4f", p->valid_cluster_acc);
    printf(" | lr %.3g | %.0f samples/s", p->lr, p->samples_per_s);
    if (p->stopped)
        printf(" | %s at batch %d/%d: checkpoint saved, resume with --resume", p->stopped,
               p->batch, p->batches);
    printf("\n");
    if (v->profile) {
        double total = p->phase_s[0] + p->phase_s[1] + p->phase_s[2] + p->phase_s[3];
        printf("  profile: data %.2fs (%.0f%%) forward %.2fs (%.0f%%) backward %.2fs (%.0f%%) "
               "update %.2fs (%.0f%%; dense layers update in backward) | OpenBLAS %s kernels\n",
               p->phase_s[0],
               100 * p->phase_s[0] / total, p->phase_s[1], 100 * p->phase_s[1] / total,
               p->phase_s[2], 100 * p->phase_s[2] / total, p->phase_s[3],
               100 * p->phase_s[3] / total, openblas_get_corename());
    }
    fflush(stdout);
}

int cli_train(const cli_opts *o)
{
    cn_error err = {0};
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    cn_data *data = NULL;
    int rc = 0;
    if (cli_load_cfg(o, &cfg, &err) || cn_net_create(cfg, &net, &err) ||
        cn_data_open(cfg, cn_net_seed(net), &data, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    view v = {.net = net, .tty = isatty(STDERR_FILENO), .profile = o->profile};
    cn_train_opts t = cn_train_defaults();
    t.cfg = cfg; /* --epochs is in it, as net.epochs */
    t.resume = o->resume;
    t.profile = o->profile;
    t.run_dir = o->run_dir;
    t.stop = &stop_requested;
    t.progress = progress;
    t.user = &v;
    printf("training %s: %d train, %d valid samples, batch %d\n", o->cfg, data->n_train,
           data->n_valid, cn_net_batch(net));
    if (cn_train(net, data, &t, &err))
        rc = cli_fail(&err);
    else if (stop_requested)
        rc = 130;
done:
    cn_data_close(data);
    cn_net_free(net);
    cn_cfg_free(cfg);
    return rc;
}
