/* main.c - `cnet COMMAND ...`: dispatch through the commands table
 * (commands.c), the helpers the commands share (cfg, run folder,
 * checkpoint), and the mapping of errors to exit statuses. */
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cli_fail(const cn_error *err)
{
    fprintf(stderr, "cnet: error: %s\n", err->msg);
    return err->code == CN_ERR_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
}

void cli_run_dir(const cli_opts *o, const cn_net *net, char *dir, size_t size)
{
    if (o->run_dir)
        snprintf(dir, size, "%s", o->run_dir);
    else
        snprintf(dir, size, "runs/%s", cn_net_name(net));
}

cn_status cli_load_weights(const cli_opts *o, cn_net *net, char *path, size_t size,
                           cn_error *err)
{
    char dir[1024];
    if (o->weights) {
        snprintf(path, size, "%s", o->weights);
    } else {
        cli_run_dir(o, net, dir, sizeof dir);
        snprintf(path, size, "%s/best.ckpt", dir);
        if (access(path, R_OK) != 0)
            snprintf(path, size, "%s/last.ckpt", dir);
    }
    return cn_ckpt_load_weights(net, path, err);
}

cn_status cli_load_cfg(const cli_opts *o, cn_cfg **cfg, cn_error *err)
{
    if (cn_cfg_parse_file(o->cfg, cfg, err))
        return err->code;
    for (int i = 0; i < o->sets.n; i++)
        if (cn_cfg_set(*cfg, o->sets.v[i], err))
            return err->code;
    if (o->seed >= 0) {
        char s[64];
        snprintf(s, sizeof s, "net.seed=%ld", o->seed);
        if (cn_cfg_set(*cfg, s, err))
            return err->code;
    }
    return CN_OK;
}

static void log_to_stderr(cn_log_level level, const char *msg, void *user)
{
    (void)user;
    if (level >= CN_LOG_INFO)
        fprintf(stderr, "%s%s\n", level == CN_LOG_WARN ? "cnet: warning: " : "", msg);
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
    cn_log_set(log_to_stderr, NULL);
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
