/* main.c - `cnet COMMAND ...`: dispatch through the commands table
 * (commands.c), the helpers the commands share (cfg, run folder,
 * checkpoint), and the mapping of errors to exit statuses. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_fail(const cn_error *err)
{
    fprintf(stderr, "cnet: error: %s\n", err->msg);
    return err->code == CN_ERR_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
}

cn_status cli_load_weights(const cli_opts *o, const char *dir, cn_net *net, char *path,
                           size_t size, cn_error *err)
{
    if (o->weights) {
        snprintf(path, size, "%s", o->weights);
    } else {
        snprintf(path, size, "%s/best.ckpt", dir);
        if (access(path, R_OK) != 0)
            snprintf(path, size, "%s/last.ckpt", dir);
    }
    return cn_ckpt_load_weights(net, path, err);
}

/* The command line's overrides, in order: --set, then the options that
 * stand in for keys (--seed, --epochs). */
static cn_status apply_sets(const cli_opts *o, cn_cfg *cfg, cn_error *err)
{
    char s[64];
    for (int i = 0; i < o->sets.n; i++)
        if (cn_cfg_set(cfg, o->sets.v[i], err))
            return err->code;
    if (o->seed >= 0) {
        snprintf(s, sizeof s, "net.seed=%ld", o->seed);
        if (cn_cfg_set(cfg, s, err))
            return err->code;
    }
    if (o->epochs > 0) {
        snprintf(s, sizeof s, "net.epochs=%ld", o->epochs);
        if (cn_cfg_set(cfg, s, err))
            return err->code;
    }
    return CN_OK;
}

cn_status cli_load_cfg(const cli_opts *o, cn_cfg **cfg, cn_error *err)
{
    if (cn_cfg_parse_file(o->cfg, cfg, err))
        return err->code;
    return apply_sets(o, *cfg, err);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Say where the run's settings differ from the cfg given for them. */
static void note_differences(const cn_cfg *given, const cn_cfg *run, const char *path)
{
    enum { MAX = 16 };
    cn_cfg_change c[MAX];
    int n = cn_cfg_diff(run, given, c, MAX);
    if (!n)
        return;
    fprintf(stderr, "cnet: note: using the run's settings %s, which differ from %s in:", path,
            given->file);
    for (int i = 0; i < n && i < MAX; i++)
        if (c[i].key[0])
            fprintf(stderr, "%s %s.%s (%s, not %s)", i ? ";" : "", c[i].section, c[i].key,
                    c[i].was, c[i].now);
        else
            fprintf(stderr, "%s the sections", i ? ";" : "");
    fprintf(stderr, "%s\n", n > MAX ? "; ..." : "");
}

cn_status cli_load_run(const cli_opts *o, cn_cfg **cfg, char *dir, size_t size, cn_error *err)
{
    char path[1100], name[64];
    *cfg = NULL;
    if (is_dir(o->cfg)) {
        if (o->run_dir)
            return cn_errorf(err, CN_ERR_USAGE, "%s is a run folder: give it or --run-dir, not "
                             "both", o->cfg);
        snprintf(dir, size, "%s", o->cfg);
        cn_run_cfg_path(dir, path, sizeof path);
        if (access(path, F_OK) != 0)
            return cn_errorf(err, CN_ERR_USAGE, "%s is a folder without %s, not a run folder "
                             "(cnet train writes run.cfg into the run folder it trains)",
                             dir, path);
        if (cn_cfg_parse_file(path, cfg, err))
            return err->code;
        return apply_sets(o, *cfg, err);
    }
    if (cli_load_cfg(o, cfg, err) || cn_cfg_run_name(*cfg, name, sizeof name, err))
        return err->code;
    if (o->run_dir)
        snprintf(dir, size, "%s", o->run_dir);
    else
        snprintf(dir, size, "runs/%s", name);
    if (!is_dir(dir)) {
        if (o->weights) /* the weights come from elsewhere: the cfg is all there is */
            return CN_OK;
        return cn_errorf(err, CN_ERR_IO, "no run folder %s: train it first (cnet train %s), "
                         "or name the run with --run-dir, or give --weights", dir, o->cfg);
    }
    cn_run_cfg_path(dir, path, sizeof path);
    if (access(path, F_OK) != 0) /* a run of an older cnet: the cfg stands for it */
        return CN_OK;
    cn_cfg *run = NULL;
    if (cn_cfg_parse_file(path, &run, err) || apply_sets(o, run, err)) {
        cn_cfg_free(run);
        return err->code;
    }
    note_differences(*cfg, run, path);
    cn_cfg_free(*cfg);
    *cfg = run;
    return CN_OK;
}

/* Notes go with the command's output on stdout, warnings to stderr. */
static void log_to_terminal(cn_log_level level, const char *msg, void *user)
{
    (void)user;
    if (level == CN_LOG_WARN)
        fprintf(stderr, "cnet: warning: %s\n", msg);
    else if (level == CN_LOG_INFO)
        printf("%s\n", msg);
}

/* "unknown command 'x' (commands: train, eval, ...)", the list from the table. */
static int unknown_command(const char *cmd)
{
    fprintf(stderr, "cnet: error: unknown command '%s' (commands: ", cmd);
    for (size_t i = 0; i < cli_n_commands; i++)
        fprintf(stderr, "%s%s", i ? ", " : "", cli_commands[i].name);
    fputs(")\n", stderr);
    return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    cn_log_set(log_to_terminal, NULL);
    if (argc < 2) {
        cli_help(stderr, NULL);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h"))
        name = "help";
    const cli_command *c = cli_command_find(name);
    if (!c)
        return unknown_command(name);
    if (!c->run)
        return cli_help(stdout, argc > 2 ? argv[2] : NULL);
    for (int j = 2; j < argc; j++)
        if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h"))
            return cli_help(stdout, c->name);
    cli_opts o;
    cn_error err = {0};
    if (cli_parse(c, argc, argv, &o, &err))
        return cli_fail(&err);
    return c->run(&o);
}
