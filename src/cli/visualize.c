/* visualize.c - `cnet visualize CFG --out DIR`: the pictures of
 * src/vis/visualize.c for a trained network (docs/visualize.md), with
 * --beside other runs' filters in the same filters.png; and `cnet plot
 * POINTS.csv --out FILE.png`, points drawn by gnuplot (src/vis/plot.c).
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

/* filters.png: the run's filters, with those of each --beside run to their
 * right. The beside runs load as the first does (a run folder or the cfg
 * naming one, --set applied), each from its own best or last checkpoint. */
static int filters(const cli_opts *o, const cn_net *net)
{
    char path[1100], dir[1024], weights[1024];
    cn_error err = {0};
    int n = 1 + o->beside.n;
    const cn_net *nets[1 + CLI_MAX_SETS] = {net};
    cn_net *own[CLI_MAX_SETS] = {NULL};
    cn_status rc = CN_OK;
    snprintf(path, sizeof path, "%s/filters.png", o->out);
    for (int i = 0; i < o->beside.n && !rc; i++) {
        cli_opts b = *o;
        cn_cfg *cfg = NULL;
        b.cfg = o->beside.v[i], b.run_dir = NULL, b.weights = NULL;
        rc = cli_load_run(&b, &cfg, dir, sizeof dir, &err);
        if (!rc)
            rc = cn_net_create(cfg, &own[i], &err);
        if (!rc)
            rc = cli_load_weights(&b, dir, own[i], weights, sizeof weights, &err);
        nets[1 + i] = own[i];
        cn_cfg_free(cfg);
    }
    if (!rc)
        rc = cn_vis_filters_side(nets, n, path, &err);
    for (int i = 0; i < o->beside.n; i++)
        cn_net_free(own[i]);
    return report(rc, &err, path);
}

int cli_visualize(const cli_opts *o)
{
    cn_error err = {0};
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    char weights[1024], dir[1024];
    int rc = 0;
    if (cli_load_run(o, &cfg, dir, sizeof dir, &err) || cn_net_create(cfg, &net, &err))
        goto fail;
    if (cli_load_weights(o, dir, net, weights, sizeof weights, &err) ||
        make_out_dir(o->out, &err))
        goto fail;
    int failed = filters(o, net);
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

/* `cnet plot POINTS.csv --out FILE.png`: the library writes FILE.gp beside
 * the picture (FILE.png without .png, then .gp), gnuplot draws it there. */
int cli_plot(const cli_opts *o)
{
    char dir[1100], gp[2200], png[1100];
    cn_error err = {0};
    const char *slash = strrchr(o->out, '/'), *base = slash ? slash + 1 : o->out;
    size_t len = strlen(base);
    if (len < 5 || strcmp(base + len - 4, ".png") || strlen(o->out) >= 1024) {
        cn_errorf(&err, CN_ERR_USAGE, "--out '%.80s': expected a file name ending in .png",
                  o->out);
        return cli_fail(&err);
    }
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == o->out)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - o->out), o->out);
    snprintf(png, sizeof png, "%s", base);
    snprintf(gp, sizeof gp, "%s/%.*s.gp", dir, (int)(len - 4), base);
    if (make_out_dir(dir, &err) || cn_vis_points_script(o->pos[0], gp, png, &err))
        return cli_fail(&err);
    snprintf(gp, sizeof gp, "%.*s.gp", (int)(len - 4), base);
    if (run_gnuplot(dir, gp, o->out, &err))
        return cli_fail(&err);
    printf("wrote %s\n", o->out);
    return 0;
}
