/* runcfg.c - a run folder remembers how its run was made: run.cfg holds
 * the resolved settings (the cfg file with every override applied, and the
 * cnet version that wrote it), so eval, visualize and sample can rebuild the
 * same network without the training's command line, and a resume can say
 * what it changes.
 *
 * A resume may change what keeps the run meaningful: more epochs, the
 * learning rate and its schedule, weight decay, threads and prefetching.
 * Anything else (layers, losses, batch, data, seed, the optimizer and its
 * moments) would make the checkpoint's numbers belong to another run, and
 * is refused with the list.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net_internal.h"

#define RUN_CFG "run.cfg"

/* The keys a resume may change: "section type.key". */
static const char *const resumable[] = {
    "net.epochs", "net.threads", "net.name", "optim.lr", "optim.min_lr", "optim.schedule",
    "optim.warmup", "optim.step_size", "optim.gamma", "optim.weight_decay", "data.prefetch",
};

static int may_change(const cn_cfg_change *c)
{
    char key[128];
    if (!c->key[0])
        return 0;
    snprintf(key, sizeof key, "%s.%s", c->type, c->key);
    for (size_t i = 0; i < sizeof resumable / sizeof *resumable; i++)
        if (!strcmp(key, resumable[i]))
            return 1;
    return 0;
}

void cn_run_cfg_path(const char *dir, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, RUN_CFG);
}

static int write_run_cfg(FILE *f, const void *ctx)
{
    const cn_cfg *cfg = ctx;
    fprintf(f, "# %s - the resolved settings of this run, written by cnet %s from %s.\n"
               "# cnet eval, visualize and sample given this folder (or that cfg) build\n"
               "# the network from here; cnet train --resume compares with it.\n\n",
            RUN_CFG, CN_VERSION, cfg->file);
    cn_cfg_write(cfg, f);
    return !ferror(f);
}

cn_status cn_run_cfg_save(const char *dir, const cn_cfg *cfg, cn_error *err)
{
    char path[1100];
    cn_run_cfg_path(dir, path, sizeof path);
    return cn_file_replace(path, RUN_CFG, write_run_cfg, cfg, err);
}

/* "net.epochs 10 -> 20" for each change, joined by "; ". */
static void list(const cn_cfg_change *c, int n, int want_resumable, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len < size; i++) {
        if (may_change(&c[i]) != want_resumable)
            continue;
        if (!c[i].key[0])
            len += (size_t)snprintf(buf + len, size - len, "%sthe sections (%s -> %s)",
                                    len ? "; " : "", c[i].was, c[i].now);
        else
            len += (size_t)snprintf(buf + len, size - len, "%s%s.%s %s -> %s", len ? "; " : "",
                                    c[i].section, c[i].key, c[i].was, c[i].now);
    }
}

cn_status cn_run_cfg_resume(const char *dir, const cn_cfg *now, int *changed, cn_error *err)
{
    *changed = 0;
    char path[1100];
    cn_run_cfg_path(dir, path, sizeof path);
    if (access(path, F_OK) != 0) /* a run of an older cnet: the checkpoint's checks remain */
        return CN_OK;
    cn_cfg *was = NULL;
    if (cn_cfg_parse_file(path, &was, err))
        return cn_error_prefix(err, "cannot resume: ");
    enum { MAX = 64 };
    cn_cfg_change c[MAX];
    int n = cn_cfg_diff(was, now, c, MAX);
    cn_cfg_free(was);
    if (n > MAX)
        n = MAX;
    char text[2048];
    int refused = 0;
    for (int i = 0; i < n; i++)
        refused += !may_change(&c[i]);
    if (refused) {
        list(c, n, 0, text, sizeof text);
        return cn_errorf(err, CN_ERR_CFG, "cannot resume %s: %s differs from the run's settings "
                         "(%s) where a resume would make another run: %s; train afresh into "
                         "another folder (--run-dir), or resume with the run's settings",
                         dir, now->file, path, text);
    }
    if (n) {
        list(c, n, 1, text, sizeof text);
        cn_logf(CN_LOG_INFO, "resuming %s with changed settings: %s", dir, text);
        *changed = n;
    }
    return CN_OK;
}
