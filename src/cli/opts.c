/* opts.c - the options table: one row per option (name, kind of value,
 * range, field of cli_opts, one line of help, whether it is required), and
 * the parser it drives. A command accepts the rows its entry in commands.c
 * lists; the messages for an unknown option, one the command does not take,
 * a missing or bad value, a missing required option or positional argument
 * all come from here.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define AT(field) offsetof(cli_opts, field)
/* Ranges of options that stand in for cfg keys are the keys' ranges. */
#define SEED_MAX 2147483647L /* [net] seed */
#define EPOCHS_MAX 1000000L  /* [net] epochs */

const cli_opt cli_options[CLI_N_OPTS] = {
    [O_SET] = {"--set", CLI_LIST, "section.key=value", 0, 0, AT(sets),
               "override a cfg key, e.g. --set optim.lr=0.01 (repeatable)", 0},
    [O_WEIGHTS] = {"--weights", CLI_STRING, "FILE", 0, 0, AT(weights),
                   "the checkpoint (default: the run folder's best.ckpt, else last.ckpt)", 0},
    [O_SPLIT] = {"--split", CLI_CHOICE, "test|valid|train", 0, 0, AT(split),
                 "the data to measure (default test)", 0},
    [O_RUN_DIR] = {"--run-dir", CLI_STRING, "DIR", 0, 0, AT(run_dir),
                   "the run folder (default runs/<name>, name from [net] or the cfg file)", 0},
    [O_OUT_DIR] = {"--out", CLI_STRING, "DIR", 0, 0, AT(out), "the folder for the pictures",
                   1},
    [O_OUT_PNG] = {"--out", CLI_STRING, "FILE.png", 0, 0, AT(out), "the picture to write", 1},
    [O_SEED] = {"--seed", CLI_INT, "N", 0, SEED_MAX, AT(seed), "in place of [net] seed", 0},
    [O_KMEANS_SEED] = {"--seed", CLI_INT, "N", 0, SEED_MAX, AT(seed),
                       "seeds k-means++ (default 1) and stands in for [net] seed", 0},
    [O_EPOCHS] = {"--epochs", CLI_INT, "N", 1, EPOCHS_MAX, AT(epochs),
                  "epochs to train (default [net] epochs)", 0},
    [O_RESUME] = {"--resume", CLI_FLAG, NULL, 0, 0, AT(resume),
                  "continue the run folder's last.ckpt exactly (after Ctrl-C, or for more "
                  "epochs)", 0},
    [O_PROFILE] = {"--profile", CLI_FLAG, NULL, 0, 0, AT(profile),
                   "time data, forward, backward and update per epoch and name the OpenBLAS "
                   "kernels (OPENBLAS_CORETYPE chooses them)", 0},
    [O_JSON] = {"--json", CLI_FLAG, NULL, 0, 0, AT(json), "print one JSON object", 0},
    [O_K] = {"--k", CLI_INT, "K", 1, 65536, AT(k), "clusters (default 10)", 0},
    [O_PROBE] = {"--probe", CLI_STRING, "LAYER", 0, 0, AT(probe),
                 "linear-probe test accuracy of LAYER's code (input: raw pixels), the pass "
                 "kept by accuracy on a held-out tenth of the training split", 0},
    [O_PROBE_EPOCHS] = {"--probe-epochs", CLI_INT, "N", 1, EPOCHS_MAX, AT(probe_epochs),
                        "most passes of the probe (default 100)", 0},
    [O_SPARSITY] = {"--sparsity", CLI_STRING, "LAYER", 0, 0, AT(sparsity),
                    "mean activation, near-zero fraction, dead units, code bits (also for "
                    "every layer with a kl_sparse loss)", 0},
    [O_JACOBIAN] = {"--jacobian", CLI_STRING, "LAYER", 0, 0, AT(jacobian),
                    "mean ||J_x(h)||_F of a dense sigmoid/tanh/relu encoder", 0},
    [O_CORRUPT] = {"--corrupt", CLI_PROB, "Q", 0, 0, AT(corrupt),
                   "also reconstruct inputs masked with probability Q", 0},
    [O_N] = {"--n", CLI_INT, "N", 1, 100000, AT(n), "samples to draw (default 64)", 0},
    [O_IW] = {"--iw", CLI_INT, "K", 1, 100000, AT(iw),
              "VAE: importance-weighted -ln p(x) from K draws per sample (the negative "
              "ELBO and its terms are always reported)", 0},
    [O_TO_IDX] = {"--to-idx", CLI_FLAG, NULL, 0, 0, AT(to_idx),
                  "convert an image folder to IDX files (default: IDX files to a folder)", 0},
    [O_HEIGHT] = {"--height", CLI_INT, "H", 1, 1 << 20, AT(height),
                  "image height (with --to-idx)", 0},
    [O_WIDTH] = {"--width", CLI_INT, "W", 1, 1 << 20, AT(width),
                 "image width (with --to-idx)", 0},
    [O_CHANNELS] = {"--channels", CLI_CHOICE, "1|3", 0, 0, AT(channels),
                    "gray or RGB (with --to-idx; default 1)", 0},
    [O_PCA_K] = {"--k", CLI_INT, "K", 1, 65536, AT(components),
                 "principal components kept (default 200, SESM's code units)", 0},
    [O_QUANTIZE] = {"--quantize", CLI_INT, "Q", 2, 65536, AT(quantize),
                    "with --sparsity LAYER: also decode LAYER's code quantized to Q levels on "
                    "[0, 1] (LAYER_quant_bits, LAYER_quant_recon_rmse)", 0},
    [O_PCA_QUANTIZE] = {"--quantize", CLI_INT, "Q", 2, 65536, AT(quantize),
                        "also decode the codes quantized to Q levels per unit, over its range "
                        "on the training split (pca_quant_bits, pca_quant_recon_rmse)", 0},
    [O_GAUSSIAN] = {"--gaussian", CLI_REAL, "SIGMA", 0, 10, AT(gaussian),
                    "also reconstruct inputs with N(0, SIGMA^2) noise added to each value, as "
                    "[noise] type=gaussian", 0},
    [O_BESIDE] = {"--beside", CLI_LIST, "RUN", 0, 0, AT(beside),
                  "draw RUN's filters (a run folder, or the cfg naming it) beside the first "
                  "run's in filters.png, left to right in the order given (repeatable)", 0},
    [O_TYPES] = {"--types", CLI_FLAG, NULL, 0, 0, AT(types),
                 "print the README's paragraph of section types instead (from the registries)",
                 0},
};

void cli_opt_spec(const cli_opt *opt, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s", opt->name, opt->arg ? " " : "", opt->arg ? opt->arg : "");
}

void cli_accepted(const cli_command *c, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    for (const cli_opt_id *id = c->opts; *id != CLI_END && len < size; id++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? " " : "",
                                cli_options[*id].name);
}

/* The row of name among c's options; *known says whether any row has it. */
static const cli_opt *find(const cli_command *c, const char *name, int *known)
{
    for (const cli_opt_id *id = c->opts; *id != CLI_END; id++)
        if (!strcmp(cli_options[*id].name, name))
            return &cli_options[*id];
    *known = 0;
    for (int i = 0; i < CLI_N_OPTS; i++)
        *known |= !strcmp(cli_options[i].name, name);
    return NULL;
}

/* 1 when v is one of the '|'-separated words of choices. */
static int is_choice(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; p; p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL)
        if (!strncmp(p, v, n) && (p[n] == '|' || !p[n]))
            return 1;
    return 0;
}

/* "a|b|c" as "a, b or c". */
static void choice_list(const char *choices, char *buf, size_t size)
{
    const char *last = strrchr(choices, '|');
    size_t len = 0;
    for (const char *p = choices; *p && len + 4 < size; p++)
        if (*p != '|')
            buf[len++] = *p;
        else if (p == last)
            memcpy(buf + len, " or ", 4), len += 4;
        else
            memcpy(buf + len, ", ", 2), len += 2;
    buf[len] = 0;
}

static cn_status bad_int(const cli_opt *opt, const char *v, cn_error *err)
{
    return cn_errorf(err, CN_ERR_USAGE, "%s expects an integer from %ld to %ld, got '%s'",
                     opt->name, opt->min, opt->max, v);
}

/* Store option opt (value v, NULL for a flag) into o. */
static cn_status store(const cli_opt *opt, const char *v, cli_opts *o, cn_error *err)
{
    char *field = (char *)o + opt->offset, *end;
    switch (opt->kind) {
    case CLI_FLAG:
        *(int *)field = 1;
        return CN_OK;
    case CLI_STRING:
        *(const char **)field = v;
        return CN_OK;
    case CLI_LIST: {
        cli_list *l = (cli_list *)field;
        if (l->n == CLI_MAX_SETS)
            return cn_errorf(err, CN_ERR_USAGE, "at most %d %s options", CLI_MAX_SETS,
                             opt->name);
        l->v[l->n++] = v;
        return CN_OK;
    }
    case CLI_INT: {
        long x = strtol(v, &end, 10);
        if (end == v || *end || x < opt->min || x > opt->max)
            return bad_int(opt, v, err);
        memcpy(field, &x, sizeof x); /* field is the option's member, by offset */
        return CN_OK;
    }
    case CLI_PROB: {
        double x = strtod(v, &end);
        if (end == v || *end || !(x >= 0.0 && x <= 1.0))
            return cn_errorf(err, CN_ERR_USAGE, "%s expects a probability in [0, 1], got '%s'",
                             opt->name, v);
        memcpy(field, &x, sizeof x);
        return CN_OK;
    }
    case CLI_REAL: {
        double x = strtod(v, &end);
        if (end == v || *end || !(x >= (double)opt->min && x <= (double)opt->max))
            return cn_errorf(err, CN_ERR_USAGE, "%s expects a number from %ld to %ld, got '%s'",
                             opt->name, opt->min, opt->max, v);
        memcpy(field, &x, sizeof x);
        return CN_OK;
    }
    case CLI_CHOICE: {
        char list[256];
        if (is_choice(opt->arg, v)) {
            *(const char **)field = v;
            return CN_OK;
        }
        choice_list(opt->arg, list, sizeof list);
        return cn_errorf(err, CN_ERR_USAGE, "%s expects %s, got '%s'", opt->name, list, v);
    }
    }
    return cn_errorf(err, CN_ERR_INTERNAL, "option %s has no kind", opt->name);
}

/* 1 when o holds a value of opt (only string options may be required). */
static int given(const cli_opt *opt, const cli_opts *o)
{
    return opt->kind == CLI_STRING && *(const char *const *)((const char *)o + opt->offset);
}

/* The error for positional argument a beyond the n_pos c takes. */
static cn_status too_many(const cli_command *c, const char *a, cn_error *err)
{
    if (c->n_pos == 1)
        return cn_errorf(err, CN_ERR_USAGE, "unexpected argument '%s' (one %s only)", a,
                         c->args);
    if (c->n_pos == 0)
        return cn_errorf(err, CN_ERR_USAGE, "unexpected argument '%s' (%s takes none)", a,
                         c->name);
    return cn_errorf(err, CN_ERR_USAGE, "unexpected argument '%s' (%s takes %d)", a, c->name,
                     c->n_pos);
}

static cn_status unknown(const cli_command *c, const char *a, int known, cn_error *err)
{
    char list[512];
    cli_accepted(c, list, sizeof list);
    if (!*list)
        return cn_errorf(err, CN_ERR_USAGE, "unknown option '%s' (%s takes no options)", a,
                         c->name);
    if (known)
        return cn_errorf(err, CN_ERR_USAGE, "option '%s' does not apply to %s (accepted: %s)",
                         a, c->name, list);
    return cn_errorf(err, CN_ERR_USAGE, "unknown option '%s' (accepted: %s)", a, list);
}

cn_status cli_parse(const cli_command *c, int argc, char **argv, cli_opts *o, cn_error *err)
{
    memset(o, 0, sizeof *o);
    o->seed = -1;
    o->split = "test";
    o->k = 10;
    o->probe_epochs = 100;
    o->corrupt = -1.0;
    o->gaussian = -1.0;
    o->components = 200;
    o->n = 64;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1]) { /* a lone '-' is a name, as in most tools */
            if (o->n_pos == c->n_pos)
                return too_many(c, a, err);
            o->pos[o->n_pos++] = a;
            continue;
        }
        int known = 1;
        const cli_opt *opt = find(c, a, &known);
        if (!opt)
            return unknown(c, a, known, err);
        if (opt->kind != CLI_FLAG && i + 1 >= argc)
            return cn_errorf(err, CN_ERR_USAGE, "%s needs a value", a);
        if (store(opt, opt->kind == CLI_FLAG ? NULL : argv[++i], o, err))
            return err->code;
    }
    if (o->n_pos < c->n_pos) {
        if (c->n_pos == 1)
            return cn_errorf(err, CN_ERR_USAGE, "missing %s (see cnet help %s)", c->args,
                             c->name);
        return cn_errorf(err, CN_ERR_USAGE, "%s takes %d arguments, got %d (see cnet help %s)",
                         c->name, c->n_pos, o->n_pos, c->name);
    }
    for (const cli_opt_id *id = c->opts; *id != CLI_END; id++)
        if (cli_options[*id].required && !given(&cli_options[*id], o)) {
            char spec[128];
            cli_opt_spec(&cli_options[*id], spec, sizeof spec);
            return cn_errorf(err, CN_ERR_USAGE, "%s needs %s, %s", c->name, spec,
                             cli_options[*id].help);
        }
    o->cfg = o->pos[0];
    return CN_OK;
}
