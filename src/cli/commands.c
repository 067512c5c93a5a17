/* commands.c - the commands table: each command's name, function,
 * positional arguments, accepted options (rows of cli_options, in the order
 * help and the "accepted:" list show them) and what it does. main.c
 * dispatches on it, help.c prints it. */
#include <string.h>

#include "cli.h"

static const cli_opt_id train_opts[] = {O_SET, O_EPOCHS, O_SEED, O_RESUME, O_PROFILE, O_RUN_DIR,
                                        CLI_END};
static const cli_opt_id eval_opts[] = {O_SET, O_WEIGHTS, O_SPLIT, O_JSON, O_SEED, O_RUN_DIR,
                                       O_PROBE, O_PROBE_EPOCHS, O_SPARSITY, O_JACOBIAN,
                                       O_CORRUPT, O_GAUSSIAN, O_QUANTIZE, O_IW, CLI_END};
static const cli_opt_id kmeans_opts[] = {O_SET, O_SPLIT, O_K, O_KMEANS_SEED, CLI_END};
static const cli_opt_id pca_opts[] = {O_SET, O_SPLIT, O_PCA_K, O_PCA_QUANTIZE, O_JSON, CLI_END};
static const cli_opt_id plot_opts[] = {O_OUT_PNG, CLI_END};
static const cli_opt_id summary_opts[] = {O_SET, CLI_END};
static const cli_opt_id visualize_opts[] = {O_SET, O_WEIGHTS, O_RUN_DIR, O_OUT_DIR, O_SEED,
                                            O_BESIDE, CLI_END};
static const cli_opt_id convert_opts[] = {O_TO_IDX, O_HEIGHT, O_WIDTH, O_CHANNELS, CLI_END};
static const cli_opt_id sample_opts[] = {O_SET, O_WEIGHTS, O_RUN_DIR, O_OUT_PNG, O_SEED, O_N,
                                         CLI_END};
static const cli_opt_id no_opts[] = {CLI_END};
static const cli_opt_id doc_opts[] = {O_TYPES, CLI_END};

/* In the order of `cnet help` and of the "unknown command" message. */
const cli_command cli_commands[] = {
    {"train", cli_train, 1, "CFG", train_opts, NULL,
     "  Train the network of CFG on its [data]. Per epoch: validation loss,\n"
     "  runs/<name>/log.csv, last.ckpt and best.ckpt (by [net] monitor: the\n"
     "  validation loss, or the training loss without a validation split), and\n"
     "  run.cfg, the run's resolved settings. Ctrl-C saves a checkpoint that\n"
     "  --resume continues exactly; --resume lists the settings it changes.\n"},
    {"eval", cli_eval, 1, "CFG|RUN_DIR", eval_opts, NULL,
     "  Evaluate a run (a run folder, or the cfg naming it; its run.cfg builds the\n"
     "  net) from its best.ckpt, else last.ckpt, or --weights, on\n"
     "  held-out data: each loss, reconstruction MSE/RMSE/PSNR, accuracy,\n"
     "  clustering accuracy (Hungarian), NMI, ARI and cluster balance; the\n"
     "  options add the measurements of docs/eval.md.\n"},
    {"kmeans", cli_kmeans, 1, "CFG", kmeans_opts, NULL,
     "  k-means (k-means++ seeding) on the raw inputs of CFG's dataset: the\n"
     "  baseline for clustering accuracy, NMI and ARI.\n"},
    {"pca", cli_pca, 1, "CFG", pca_opts, NULL,
     "  PCA of the raw inputs of CFG's dataset, fitted on its training part\n"
     "  (LAPACK): reconstruction MSE/RMSE/PSNR of the split from K components,\n"
     "  the variance they explain, and with --quantize the bits of the code: the\n"
     "  linear baseline of the rate curve (docs/eval.md).\n"},
    {"summary", cli_summary, 1, "CFG", summary_opts, NULL,
     "  Layers with output shapes, parameter counts and FLOPs per sample. A cfg\n"
     "  that does not build prints the layers built so far, then the error.\n"},
    {"doc", cli_doc, 0, "", doc_opts, NULL,
     "  Print the cfg reference (docs/cfg.md) generated from the code.\n"},
    {"visualize", cli_visualize, 1, "CFG|RUN_DIR", visualize_opts, NULL,
     "  Pictures of a trained run (a run folder, or the cfg naming it; weights\n"
     "  best.ckpt, else last.ckpt) in DIR: filters.png (first layer's weights),\n"
     "  reconstructions.png (test inputs above their reconstructions) and\n"
     "  curves.png (losses, metrics and learning rate from the run's log.csv,\n"
     "  drawn by gnuplot). DIR is\n"
     "  created like mkdir -p. --beside puts other runs' filters in filters.png.\n"},
    {"plot", cli_plot, 1, "POINTS.csv", plot_opts, NULL,
     "  Draw a CSV of points (a header, then lines of series,x,y) as one line\n"
     "  per series, the axes named by the header, into FILE.png (gnuplot;\n"
     "  scripts/rate_curve.sh draws the RMSE-versus-bits curve with it).\n"},
    {"convert", cli_convert, 3, "IDX_IMAGES IDX_LABELS OUT_DIR", convert_opts,
     "cnet convert IDX_IMAGES IDX_LABELS OUT_DIR\n"
     "cnet convert --to-idx IMG_DIR OUT_IMAGES OUT_LABELS --height H --width W\n"
     "             [--channels 1|3]",
     "  IDX files to PNGs in one folder per class (OUT_DIR/<label>/<index>.png),\n"
     "  or an image folder (see docs/data.md) to IDX files, gzip'd when a name\n"
     "  ends in .gz.\n"},
    {"sample", cli_sample, 1, "CFG|RUN_DIR", sample_opts, NULL,
     "  Decode N (default 64) latent codes z ~ N(0, I) through a trained VAE's\n"
     "  decoder into a picture grid; a 2-D latent gives a traversal of\n"
     "  [-3, 3]^2 instead. See docs/visualize.md.\n"},
    {"help", NULL, 1, "[COMMAND]", no_opts, NULL, "  This text, or a command's.\n"},
};

const size_t cli_n_commands = sizeof cli_commands / sizeof *cli_commands;

const cli_command *cli_command_find(const char *name)
{
    for (size_t i = 0; i < cli_n_commands; i++)
        if (!strcmp(name, cli_commands[i].name))
            return &cli_commands[i];
    return NULL;
}
