/* info.c - `cnet summary CFG` (layers, shapes, parameters, FLOPs),
 * `cnet doc` (the generated cfg reference) and `cnet help [command]`. */
#include <string.h>

#include "cli.h"
#include "internal.h"

int cli_summary(int argc, char **argv)
{
    cli_opts o;
    cn_error err = {0};
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    if (cli_parse(argc, argv, 2, "--set", &o, &err))
        return cli_fail(&err);
    if (cli_load_cfg(&o, &cfg, &err) || cn_net_create(cfg, &net, &err)) {
        int rc = cli_fail(&err);
        cn_cfg_free(cfg);
        return rc;
    }
    printf("%-4s %-14s %-10s %-22s %-12s %12s %14s\n", "#", "name", "type", "inputs", "output",
           "params", "FLOPs/sample");
    size_t total_params = 0;
    double total_flops = 0, train_flops = 0;
    for (int i = 0; i < cn_net_n_layers(net); i++) {
        const cn_layer *l = cn_net_layer(net, i);
        char in[128] = "", shape[64];
        size_t params = 0;
        for (int j = 0; j < l->n_in; j++)
            snprintf(in + strlen(in), sizeof in - strlen(in), "%s%s", j ? "," : "",
                     l->in[j]->name);
        for (int j = 0; j < l->n_params; j++)
            params += l->params[j]->count;
        total_params += params;
        total_flops += cn_layer_flops(l);
        train_flops += cn_layer_train_flops(l);
        printf("%-4d %-14s %-10s %-22s %-12s %12zu %14.0f\n", i, l->name, l->ops->type,
               i ? in : "-", cn_layer_shape_str(l, shape, sizeof shape), params,
               cn_layer_flops(l));
    }
    for (int i = 0; i < cn_net_n_losses(net); i++) {
        const cn_loss *loss = cn_net_loss(net, i);
        printf("loss %-14s on %-12s target %-10s weight %g\n", loss->name, loss->layer->name,
               loss->target_kind == CN_TARGET_NONE    ? "none"
               : loss->target_kind == CN_TARGET_INPUT ? "input"
               : loss->target_kind == CN_TARGET_LABEL ? "label"
                                                      : loss->target->name,
               loss->weight);
    }
    printf("total: %zu parameters, %.0f forward FLOPs/sample, %.0f training FLOPs/sample "
           "(forward, weight and input gradients)\n", total_params, total_flops, train_flops);
    for (int i = 0; i < cn_net_n_layers(net); i++) {
        const cn_layer *l = cn_net_layer(net, i);
        const char *algo = l->ops->algo ? l->ops->algo(l) : NULL;
        if (algo)
            printf("%s runs as %s (its FLOPs above are the direct convolution's)\n", l->name,
                   algo);
    }
    cn_net_free(net);
    cn_cfg_free(cfg);
    return 0;
}

int cli_doc(int argc, char **argv)
{
    (void)argc, (void)argv;
    cn_doc_write(stdout);
    return 0;
}

static const struct {
    const char *name, *text;
} help[] = {
    {"train", "cnet train CFG [--set section.key=value]... [--epochs N] [--seed N] [--resume]\n"
              "           [--profile] [--run-dir DIR]\n"
              "  Train the network of CFG on its [data]. Per epoch: validation loss,\n"
              "  runs/<name>/log.csv, last.ckpt and best.ckpt (by validation loss, or the\n"
              "  training loss without a validation split). Ctrl-C saves a checkpoint that\n"
              "  --resume continues exactly. --profile times data/forward/backward/update\n"
              "  and names the OpenBLAS kernels (OPENBLAS_CORETYPE chooses them).\n"},
    {"eval", "cnet eval CFG [--weights FILE] [--split test|valid|train] [--json]\n"
             "          [--set section.key=value]... [--run-dir DIR] [--probe LAYER]\n"
             "          [--probe-epochs N] [--sparsity LAYER] [--jacobian LAYER] [--corrupt Q]\n"
             "          [--iw K]\n"
             "  Evaluate a checkpoint (default runs/<name>/best.ckpt, else last.ckpt) on\n"
             "  held-out data: each loss, reconstruction MSE/RMSE/PSNR, accuracy,\n"
             "  clustering accuracy (Hungarian), NMI, ARI and cluster balance.\n"
             "  --probe LAYER      linear-probe test accuracy of LAYER's code (input: raw\n"
             "                     pixels), the pass kept by accuracy on a held-out tenth\n"
             "                     of the training split (at most N, --probe-epochs, 100)\n"
             "  --sparsity LAYER   mean activation, near-zero fraction, dead units, code\n"
             "                     bits (also for every layer with a kl_sparse loss)\n"
             "  --jacobian LAYER   mean ||J_x(h)||_F of a dense sigmoid/tanh/relu encoder\n"
             "  --corrupt Q        also reconstruct inputs masked with probability Q\n"
             "  --iw K             VAE: importance-weighted -ln p(x) from K draws per sample\n"
             "                     (the negative ELBO and its terms are always reported)\n"
             "  See docs/eval.md.\n"},
    {"kmeans", "cnet kmeans CFG [--k K] [--split test|valid|train] [--seed N]\n"
               "  k-means (k-means++ seeding) on the raw inputs of CFG's dataset: the\n"
               "  baseline for clustering accuracy, NMI and ARI.\n"},
    {"summary", "cnet summary CFG [--set section.key=value]...\n"
                "  Layers with output shapes, parameter counts and FLOPs per sample.\n"},
    {"doc", "cnet doc\n  Print the cfg reference (docs/cfg.md) generated from the code.\n"},
    {"convert", "cnet convert IDX_IMAGES IDX_LABELS OUT_DIR\n"
                "cnet convert --to-idx IMG_DIR OUT_IMAGES OUT_LABELS --height H --width W\n"
                "             [--channels 1|3]\n"
                "  IDX files to PNGs in one folder per class (OUT_DIR/<label>/<index>.png),\n"
                "  or an image folder (see docs/data.md) to IDX files, gzip'd when a name\n"
                "  ends in .gz.\n"},
    {"visualize", "cnet visualize CFG --out DIR [--weights FILE] [--run-dir DIR]\n"
                  "               [--set section.key=value]...\n"
                  "  Pictures of a trained network (default weights runs/<name>/best.ckpt,\n"
                  "  else last.ckpt) in DIR: filters.png (first layer's weights),\n"
                  "  reconstructions.png (test inputs above their reconstructions) and\n"
                  "  curves.png (losses from the run's log.csv, drawn by gnuplot).\n"},
    {"sample", "cnet sample CFG --out FILE.png [--n N] [--weights FILE] [--run-dir DIR]\n"
               "            [--seed N] [--set section.key=value]...\n"
               "  Decode N (default 64) latent codes z ~ N(0, I) through a trained VAE's\n"
               "  decoder into a picture grid; a 2-D latent gives a traversal of\n"
               "  [-3, 3]^2 instead. See docs/visualize.md.\n"},
    {"help", "cnet help [COMMAND]\n  This text, or a command's.\n"},
};

int cli_help(FILE *f, const char *command)
{
    if (command) {
        for (size_t i = 0; i < sizeof help / sizeof *help; i++)
            if (!strcmp(command, help[i].name)) {
                fputs(help[i].text, f);
                return 0;
            }
        fprintf(stderr, "cnet: error: no help for unknown command '%s'\n", command);
        return CLI_EXIT_USAGE;
    }
    fputs("cnet - networks as cfg files, trained and evaluated from the command line\n\n"
          "usage: cnet COMMAND [options]   (cnet help COMMAND, or COMMAND --help)\n\n", f);
    for (size_t i = 0; i < sizeof help / sizeof *help; i++)
        fputs(help[i].text, f);
    return 0;
}
