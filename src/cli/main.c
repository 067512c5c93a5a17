/* main.c - `cnet COMMAND ...`: dispatch, option parsing shared by the
 * commands, and the mapping of errors to exit statuses. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"train", cli_train}, {"eval", cli_eval},  {"kmeans", cli_kmeans},
    {"summary", cli_summary}, {"doc", cli_doc}, {"visualize", cli_visualize},
    {"convert", cli_convert}, {"sample", cli_sample},
};

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
    return cn_ckpt_load(net, path, NULL, err);
}

/* Option names that take a value (cli_parse reads a value, never NULL, for these). */
static int takes_value(const char *opt)
{
    static const char *const with[] = {"--set", "--weights", "--split", "--run-dir", "--out",
                                       "--seed", "--epochs", "--k", "--probe", "--probe-epochs",
                                       "--sparsity", "--jacobian", "--corrupt", "--n", "--iw"};
    for (size_t i = 0; i < sizeof with / sizeof *with; i++)
        if (!strcmp(opt, with[i]))
            return 1;
    return 0;
}

static int allowed_opt(const char *allowed, const char *opt)
{
    size_t n = strlen(opt);
    for (const char *p = strstr(allowed, opt); p; p = strstr(p + 1, opt))
        if ((p == allowed || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
            return 1;
    return 0;
}

static cn_status parse_long(const char *opt, const char *v, long lo, long *out, cn_error *err)
{
    char *end;
    /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): see takes_value() */
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < lo)
        return cn_errorf(err, CN_ERR_USAGE, "%s expects an integer >= %ld, got '%s'", opt, lo,
                         v);
    *out = x;
    return CN_OK;
}

cn_status cli_parse(int argc, char **argv, int first, const char *allowed, cli_opts *o,
                    cn_error *err)
{
    memset(o, 0, sizeof *o);
    o->seed = -1;
    o->split = "test";
    o->k = 10;
    o->probe_epochs = 100;
    o->corrupt = -1.0;
    o->n = 64;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (a[0] != '-') {
            if (o->cfg)
                return cn_errorf(err, CN_ERR_USAGE, "unexpected argument '%s' (one CFG only)",
                                 a);
            o->cfg = a;
            continue;
        }
        if (!allowed_opt(allowed, a))
            return cn_errorf(err, CN_ERR_USAGE, "unknown option '%s' (accepted: %s)", a,
                             allowed);
        if (takes_value(a)) {
            if (i + 1 >= argc)
                return cn_errorf(err, CN_ERR_USAGE, "%s needs a value", a);
            v = argv[++i];
        }
        long x = 0;
        if (!strcmp(a, "--set")) {
            if (o->n_sets == CLI_MAX_SETS)
                return cn_errorf(err, CN_ERR_USAGE, "at most %d --set options", CLI_MAX_SETS);
            o->sets[o->n_sets++] = v;
        } else if (!strcmp(a, "--weights")) {
            o->weights = v;
        } else if (!strcmp(a, "--split")) {
            /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): see takes_value() */
            if (strcmp(v, "test") && strcmp(v, "valid") && strcmp(v, "train"))
                return cn_errorf(err, CN_ERR_USAGE, "--split expects test, valid or train, "
                                 "got '%s'", v);
            o->split = v;
        } else if (!strcmp(a, "--run-dir")) {
            o->run_dir = v;
        } else if (!strcmp(a, "--out")) {
            o->out = v;
        } else if (!strcmp(a, "--seed")) {
            if (parse_long(a, v, 0, &o->seed, err))
                return err->code;
        } else if (!strcmp(a, "--epochs") || !strcmp(a, "--k") ||
                   !strcmp(a, "--probe-epochs")) {
            if (parse_long(a, v, 1, &x, err))
                return err->code;
            *(!strcmp(a, "--k") ? &o->k : !strcmp(a, "--epochs") ? &o->epochs
                                                                 : &o->probe_epochs) = (int)x;
        } else if (!strcmp(a, "--n") || !strcmp(a, "--iw")) {
            if (parse_long(a, v, 1, &x, err))
                return err->code;
            if (x > 100000)
                return cn_errorf(err, CN_ERR_USAGE, "%s expects at most 100000, got '%s'", a, v);
            *(!strcmp(a, "--n") ? &o->n : &o->iw) = (int)x;
        } else if (!strcmp(a, "--probe") || !strcmp(a, "--sparsity") ||
                   !strcmp(a, "--jacobian")) {
            *(!strcmp(a, "--probe") ? &o->probe : !strcmp(a, "--sparsity") ? &o->sparsity
                                                                            : &o->jacobian) = v;
        } else if (!strcmp(a, "--corrupt")) {
            char *end;
            /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): see takes_value() */
            o->corrupt = strtod(v, &end);
            if (end == v || *end || !(o->corrupt >= 0.0 && o->corrupt <= 1.0))
                return cn_errorf(err, CN_ERR_USAGE, "--corrupt expects a probability in [0, 1], "
                                 "got '%s'", v);
        } else {
            *(!strcmp(a, "--resume")    ? &o->resume
              : !strcmp(a, "--profile") ? &o->profile
                                        : &o->json) = 1;
        }
    }
    if (!o->cfg)
        return cn_errorf(err, CN_ERR_USAGE, "missing CFG (see cnet help %s)", argv[first - 1]);
    return CN_OK;
}

cn_status cli_load_cfg(const cli_opts *o, cn_cfg **cfg, cn_error *err)
{
    if (cn_cfg_parse_file(o->cfg, cfg, err))
        return err->code;
    for (int i = 0; i < o->n_sets; i++)
        if (cn_cfg_set(*cfg, o->sets[i], err))
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

int main(int argc, char **argv)
{
    cn_log_set(log_to_stderr, NULL);
    if (argc < 2) {
        cli_help(stderr, NULL);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h"))
        return cli_help(stdout, argc > 2 ? argv[2] : NULL);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(cmd, commands[i].name)) {
            for (int j = 2; j < argc; j++)
                if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h"))
                    return cli_help(stdout, cmd);
            return commands[i].run(argc, argv);
        }
    fprintf(stderr, "cnet: error: unknown command '%s' (commands: train, eval, kmeans, summary, "
            "doc, visualize, convert, sample, help)\n", cmd);
    return CLI_EXIT_USAGE;
}
