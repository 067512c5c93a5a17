/* visualize.c - `cnet visualize CFG --out DIR`: the pictures of
 * src/vis/visualize.c for a trained network (docs/visualize.md).
 *
 * The checkpoint and the output folder are needed by every picture, so a
 * problem with either stops the command. After that each picture stands
 * alone: one that cannot be drawn is reported, the others are still
 * written, and the exit status is 1. A picture the run has nothing for (no
 * loss with target=input, no log.csv yet) is skipped with a note.
 *
 * The library writes the gnuplot script of the curves; gnuplot is started
 * here, since only the command line starts other programs.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cnet/cnet.h"
#include "internal.h"

/* mkdir -p path, then check that it is a folder we may write in. */
static cn_status make_out_dir(const char *path, cn_error *err)
{
    struct stat st;
    if (strlen(path) >= 1024)
        return cn_errorf(err, CN_ERR_USAGE, "--out '%.40s...': path too long", path);
    if (cn_make_dirs(path, "the output folder", err))
        return err->code;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return cn_errorf(err, CN_ERR_IO, "%s: expected a folder for the pictures", path);
    if (access(path, W_OK) != 0)
        return cn_errorf(err, CN_ERR_IO, "%s: cannot write pictures there: %s", path,
                         strerror(errno));
    return CN_OK;
}

/* Say what became of one picture; returns 1 when it failed. */
static int report(cn_status rc, const cn_error *err, const char *path)
{
    if (rc) {
        cli_fail(err);
        return 1;
    }
    printf("wrote %s\n", path);
    return 0;
}

/* reconstructions.png from the first held-out (test split) samples. */
static int reconstructions(const cli_opts *o, const cn_cfg *cfg, cn_net *net)
{
    char path[1100];
    cn_error err = {0};
    cn_data *data = NULL;
    snprintf(path, sizeof path, "%s/reconstructions.png", o->out);
    if (!cn_vis_recon_loss(net)) {
        fprintf(stderr, "cnet: skipped %s: %s has no loss with target=input\n", path, o->cfg);
        return 0;
    }
    cn_status rc = cn_data_open(cfg, cn_net_seed(net), &data, &err);
    if (!rc)
        rc = cn_vis_reconstructions(net, data->test, 2 * CN_VIS_RECON_COLS, path, &err);
    cn_data_close(data);
    return report(rc, &err, path);
}

/* s as a shell single-quoted word: ' becomes '\''. */
static void sh_quote(char *out, size_t size, const char *s)
{
    size_t n = 0;
    out[n++] = '\'';
    for (; *s && n + 6 < size; s++)
        if (*s == '\'')
            memcpy(out + n, "'\\''", 4), n += 4;
        else
            out[n++] = *s;
    out[n++] = '\'';
    out[n] = 0;
}

/* Run gnuplot on the script `gp` (a file name) inside dir, its messages
 * captured for the error: nothing reaches our stdout. png names the picture
 * in messages. */
static cn_status run_gnuplot(const char *dir, const char *gp, const char *png, cn_error *err)
{
    char qdir[2100], qgp[600], cmd[2800], msg[400];
    sh_quote(qdir, sizeof qdir, dir);
    sh_quote(qgp, sizeof qgp, gp);
    snprintf(cmd, sizeof cmd, "cd %s && exec gnuplot %s 2>&1 </dev/null", qdir, qgp);
    FILE *p = popen(cmd, "r");
    if (!p)
        return cn_errorf(err, CN_ERR_IO, "cannot start gnuplot: %s", strerror(errno));
    size_t n = fread(msg, 1, sizeof msg - 1, p);
    msg[n] = 0;
    while (fread(cmd, 1, sizeof cmd, p) > 0)
        continue;
    int st = pclose(p);
    for (char *c = msg; *c; c++)
        if (*c == '\n')
            *c = ' ';
    if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 127)
        return cn_errorf(err, CN_ERR_IO, "gnuplot is not installed (Debian: apt-get install "
                         "gnuplot-nox), so %s was not drawn", png);
    if (st != 0)
        return cn_errorf(err, CN_ERR_IO, "gnuplot failed to draw %s: %s", png, msg);
    return CN_OK;
}

/* curves.png from the run folder's log.csv: the library writes curves.gp
 * beside it, gnuplot draws it in --out. The script stays either way. */
static int curves(const cli_opts *o, const char *dir)
{
    char log[1100], path[1100], gp[1100];
    cn_error err = {0};
    snprintf(log, sizeof log, "%s/log.csv", dir);
    snprintf(path, sizeof path, "%s/curves.png", o->out);
    snprintf(gp, sizeof gp, "%s/curves.gp", o->out);
    if (access(log, R_OK) != 0) {
        fprintf(stderr, "cnet: skipped %s: no %s (train first, or name the run with "
                "--run-dir)\n", path, log);
        return 0;
    }
    cn_status rc = cn_vis_curves_script(log, gp, "curves.png", &err);
    if (!rc)
        rc = run_gnuplot(o->out, "curves.gp", path, &err);
    return report(rc, &err, path);
}

int cli_visualize(const cli_opts *o)
{
    cn_error err = {0};
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    char weights[1024], path[1100], dir[1024];
    int rc = 0;
    if (cli_load_run(o, &cfg, dir, sizeof dir, &err) || cn_net_create(cfg, &net, &err))
        goto fail;
    if (cli_load_weights(o, dir, net, weights, sizeof weights, &err) ||
        make_out_dir(o->out, &err))
        goto fail;
    snprintf(path, sizeof path, "%s/filters.png", o->out);
    int failed = report(cn_vis_filters(net, path, &err), &err, path);
    failed |= reconstructions(o, cfg, net);
    failed |= curves(o, dir);
    rc = failed ? CLI_EXIT_RUNTIME : 0;
    goto done;
fail:
    rc = cli_fail(&err);
done:
    cn_net_free(net);
    cn_cfg_free(cfg);
    return rc;
}
