/* cli.h - the `cnet` command line (src/cli/): the options table (opts.c),
 * the commands table (commands.c), help derived from both (help.c), and
 * the commands. Only the command line prints to stdout, exits or starts
 * other programs. */
#ifndef CNET_CLI_H
#define CNET_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "cnet/cnet.h"

#define CLI_MAX_SETS 64
#define CLI_MAX_POS 3 /* positional arguments of the command that takes most (convert) */

/* A repeatable option's values in command-line order. */
typedef struct cli_list {
    const char *v[CLI_MAX_SETS];
    int n;
} cli_list;

/* Everything a command line can say; each option's row in cli_options
 * names its field. Integers are long whatever their range. */
typedef struct cli_opts {
    const char *pos[CLI_MAX_POS];    /* positional arguments */
    int n_pos;
    const char *cfg;                 /* pos[0] of the commands that read a CFG */
    cli_list sets;                   /* --set section.key=value */
    const char *weights;             /* --weights FILE */
    const char *split;               /* --split test|valid|train */
    const char *run_dir;             /* --run-dir DIR */
    const char *out;                 /* --out DIR or FILE.png */
    long seed;                       /* --seed N (-1 = the cfg's) */
    const char *probe;               /* --probe LAYER: linear-probe accuracy */
    long probe_epochs;               /* --probe-epochs N (default 100) */
    const char *sparsity;            /* --sparsity LAYER */
    const char *jacobian;            /* --jacobian LAYER */
    double corrupt;                  /* --corrupt q (-1 = off) */
    long n;                          /* --n N: samples to draw (cnet sample, default 64) */
    long iw;                         /* --iw K: importance-weighted -ln p(x) (0 = off) */
    long epochs;                     /* --epochs N (0 = the cfg's) */
    long k;                          /* --k K (default 10) */
    long components;                 /* pca --k K (default 200) */
    long quantize;                   /* --quantize Q (0 = off) */
    double gaussian;                 /* --gaussian SIGMA (-1 = off) */
    cli_list beside;                 /* visualize --beside RUN */
    int resume, profile, json;       /* flags */
    int to_idx;                      /* convert --to-idx */
    int types;                       /* doc --types */
    long height, width;              /* convert --height H --width W (0 = not given) */
    const char *channels;            /* convert --channels 1|3 (NULL = not given) */
} cli_opts;

/* How an option's value is read and stored. */
typedef enum cli_kind {
    CLI_FLAG,   /* no value; int field set to 1 */
    CLI_STRING, /* const char * field */
    CLI_INT,    /* long field, within [min, max] */
    CLI_PROB,   /* double field, within [0, 1] */
    CLI_REAL,   /* double field, within [min, max] */
    CLI_CHOICE, /* const char * field, one of the '|'-separated words of arg */
    CLI_LIST,   /* cli_list field, repeatable */
} cli_kind;

/* One row of the options table (fields in reading order; 8 bytes of padding
 * in a table of a few dozen rows cost nothing). */
/* NOLINTNEXTLINE(clang-analyzer-optin.performance.Padding) */
typedef struct cli_opt {
    const char *name;  /* "--epochs" */
    cli_kind kind;
    const char *arg;   /* the value's name in help ("N"); CLI_CHOICE: "test|valid|train" */
    long min, max;     /* CLI_INT, CLI_REAL; max >= INT_MAX is shown as no upper bound */
    size_t offset;     /* offsetof(cli_opts, field) */
    const char *help;  /* one line for `cnet help COMMAND` */
    int required;      /* the command fails without it: "<command> needs <spec>, <help>" */
} cli_opt;

/* Rows of cli_options. Two rows may share a name (--out is a folder for
 * visualize, a file for sample) as long as no command accepts both. */
typedef enum cli_opt_id {
    O_SET, O_WEIGHTS, O_SPLIT, O_RUN_DIR, O_OUT_DIR, O_OUT_PNG, O_SEED, O_KMEANS_SEED,
    O_EPOCHS, O_RESUME, O_PROFILE, O_JSON, O_K, O_PROBE, O_PROBE_EPOCHS, O_SPARSITY,
    O_JACOBIAN, O_CORRUPT, O_N, O_IW, O_TO_IDX, O_HEIGHT, O_WIDTH, O_CHANNELS, O_TYPES,
    O_PCA_K, O_QUANTIZE, O_PCA_QUANTIZE, O_GAUSSIAN, O_BESIDE,
    CLI_N_OPTS,
    CLI_END = -1 /* ends a command's list of options */
} cli_opt_id;

extern const cli_opt cli_options[CLI_N_OPTS];

/* One row of the commands table: dispatch, parsing and help. */
typedef struct cli_command {
    const char *name;
    int (*run)(const cli_opts *o); /* NULL: help, which main answers itself */
    int n_pos;                     /* positional arguments it takes */
    const char *args;              /* their names in help ("CFG") */
    const cli_opt_id *opts;        /* accepted options, ending with CLI_END */
    const char *usage;             /* NULL: derived from name, args and opts */
    const char *text;              /* what it does, lines indented by two spaces */
} cli_command;

extern const cli_command cli_commands[];
extern const size_t cli_n_commands;

/* The command called name, or NULL. */
const cli_command *cli_command_find(const char *name);

/* Exit statuses: 1 for runtime errors, 2 for usage errors. */
#define CLI_EXIT_RUNTIME 1
#define CLI_EXIT_USAGE 2

/* Parse argv[2..] for command c into o (defaults first). Returns CN_OK, or
 * CN_ERR_USAGE naming the option and what it expects. */
cn_status cli_parse(const cli_command *c, int argc, char **argv, cli_opts *o, cn_error *err);
/* c's accepted option names, space-separated, into buf. */
void cli_accepted(const cli_command *c, char *buf, size_t size);
/* "--epochs N", "--set section.key=value", "--resume": an option as help shows it. */
void cli_opt_spec(const cli_opt *opt, char *buf, size_t size);
/* Parse o->cfg and apply --set, --seed and --epochs (as net.seed, net.epochs). */
cn_status cli_load_cfg(const cli_opts *o, cn_cfg **cfg, cn_error *err);
/* The cfg and folder of a trained run (eval, visualize, sample): CFG is a
 * run folder, or a cfg naming one (--run-dir, else runs/<name>). The
 * folder's run.cfg, the resolved settings of its training, builds the net
 * with this command's overrides on top (a note on stderr lists where it
 * differs from a given cfg); without one (an older run) the cfg stands for
 * it. A run folder that does not exist is an error, unless --weights
 * names the checkpoint. */
cn_status cli_load_run(const cli_opts *o, cn_cfg **cfg, char *dir, size_t size, cn_error *err);
/* Print "cnet: error: msg" and return the exit status for the code. */
int cli_fail(const cn_error *err);
/* Load --weights FILE, else the run folder dir's best.ckpt, else its
 * last.ckpt; path gets the file used. */
cn_status cli_load_weights(const cli_opts *o, const char *dir, cn_net *net, char *path,
                           size_t size, cn_error *err);

int cli_train(const cli_opts *o);
int cli_eval(const cli_opts *o);
int cli_kmeans(const cli_opts *o);
int cli_pca(const cli_opts *o);
int cli_plot(const cli_opts *o);
int cli_summary(const cli_opts *o);
int cli_doc(const cli_opts *o);
int cli_convert(const cli_opts *o);
int cli_visualize(const cli_opts *o);
int cli_sample(const cli_opts *o);
/* Print help for a command (NULL: the overview) to f. Returns 0, or 2 when
 * the command is unknown. */
int cli_help(FILE *f, const char *command);

#endif
