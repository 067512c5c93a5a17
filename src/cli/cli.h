/* cli.h - the `cnet` command line: shared option handling for the commands
 * in src/cli/. Only the command line prints to stdout or exits. */
#ifndef CNET_CLI_H
#define CNET_CLI_H

#include <stdio.h>

#include "cnet/cnet.h"

#define CLI_MAX_SETS 64

/* Options common to the commands that read a cfg. */
typedef struct cli_opts {
    const char *cfg;                 /* positional CFG */
    const char *sets[CLI_MAX_SETS];  /* --set section.key=value */
    int n_sets;
    const char *weights;             /* --weights FILE */
    const char *split;               /* --split test|valid|train */
    const char *run_dir;             /* --run-dir DIR */
    const char *out;                 /* --out FILE/DIR */
    long seed;                       /* --seed N (-1 = the cfg's) */
    const char *probe;               /* --probe LAYER: linear-probe accuracy */
    int probe_epochs;                /* --probe-epochs N (default 10) */
    const char *sparsity;            /* --sparsity LAYER */
    const char *jacobian;            /* --jacobian LAYER */
    double corrupt;                  /* --corrupt q (-1 = off) */
    int n;                           /* --n N: samples to draw (cnet sample, default 64) */
    int iw;                          /* --iw K: importance-weighted -ln p(x) (0 = off) */
    int epochs, resume, profile, json, k;
} cli_opts;

/* Exit statuses: 1 for runtime errors, 2 for usage errors. */
#define CLI_EXIT_RUNTIME 1
#define CLI_EXIT_USAGE 2

/* Parse argv[first..] into o; `allowed` is a space-separated list of the
 * options this command takes. Returns CN_OK, or CN_ERR_USAGE with a message. */
cn_status cli_parse(int argc, char **argv, int first, const char *allowed, cli_opts *o,
                    cn_error *err);
/* Parse o->cfg and apply --set and --seed. */
cn_status cli_load_cfg(const cli_opts *o, cn_cfg **cfg, cn_error *err);
/* Print "cnet: error: msg" and return the exit status for the code. */
int cli_fail(const cn_error *err);
/* The run folder: --run-dir, else runs/<name>. */
void cli_run_dir(const cli_opts *o, const cn_net *net, char *dir, size_t size);
/* Load --weights FILE, else the run folder's best.ckpt, else its last.ckpt;
 * path gets the file used. */
cn_status cli_load_weights(const cli_opts *o, cn_net *net, char *path, size_t size,
                           cn_error *err);

int cli_train(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_kmeans(int argc, char **argv);
int cli_summary(int argc, char **argv);
int cli_doc(int argc, char **argv);
int cli_convert(int argc, char **argv);
int cli_visualize(int argc, char **argv);
int cli_sample(int argc, char **argv);
/* Print help for a command (NULL: the overview) to f. Returns 0, or 2 when
 * the command is unknown. */
int cli_help(FILE *f, const char *command);

#endif
