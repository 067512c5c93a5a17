/* info.c - `cnet summary CFG` (layers, shapes, parameters, FLOPs; on a cfg
 * that fails to build, the layers built so far and then the error) and
 * `cnet doc` (the generated cfg reference). */
#include <string.h>

#include "cli.h"
#include "cnet/cnet.h"
#include "internal.h"

/* What the rows so far add up to. */
typedef struct summary_sum {
    int rows;
    size_t params;
    double flops, train_flops;
} summary_sum;

/* One layer's row, printed as soon as the build has made it (the header
 * before the first), so a cfg that fails shows how far it got. */
static void summary_row(const cn_layer *l, void *user)
{
    summary_sum *sum = user;
    char in[128] = "", shape[64];
    size_t params = 0;
    if (!sum->rows++)
        printf("%-4s %-14s %-12s %-22s %-12s %12s %14s\n", "#", "name", "type", "inputs",
               "output", "params", "FLOPs/sample");
    for (int j = 0; j < l->n_in; j++)
        snprintf(in + strlen(in), sizeof in - strlen(in), "%s%s", j ? "," : "", l->in[j]->name);
    for (int j = 0; j < l->n_params; j++)
        params += l->params[j]->count;
    sum->params += params;
    sum->flops += cn_layer_flops(l);
    sum->train_flops += cn_layer_train_flops(l);
    printf("%-4d %-14s %-12s %-22s %-12s %12zu %14.0f\n", l->index, l->name, l->ops->type,
           l->index ? in : "-", cn_layer_shape_str(l, shape, sizeof shape), params,
           cn_layer_flops(l));
}

int cli_summary(const cli_opts *o)
{
    cn_error err = {0};
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    summary_sum sum = {0};
    if (cli_load_cfg(o, &cfg, &err) || cn_net_create_each(cfg, summary_row, &sum, &net, &err)) {
        fflush(stdout); /* the rows built, then the error */
        int rc = cli_fail(&err);
        cn_cfg_free(cfg);
        return rc;
    }
    int groups = cn_net_n_groups(net);
    for (int i = 0; i < cn_net_n_losses(net); i++) {
        const cn_loss *loss = cn_net_loss(net, i);
        printf("loss %-14s on %-12s target %-10s weight %g", loss->name, loss->layer->name,
               loss->target_kind == CN_TARGET_NONE    ? "none"
               : loss->target_kind == CN_TARGET_INPUT ? "input"
               : loss->target_kind == CN_TARGET_LABEL ? "label"
                                                      : loss->target->name,
               loss->weight);
        for (int g = 0, n = 0; groups > 1 && g < groups; g++) /* who trains it, signed */
            if (loss->sign[g])
                printf("%s%s%s", n++ ? ", " : "  trains ", loss->sign[g] < 0 ? "-" : "",
                       cn_net_group_name(net, g));
        printf("\n");
    }
    for (int g = 0; groups > 1 && g < groups; g++) {
        const cn_optim *opt = cn_net_group_optim(net, g);
        printf("group %-13s %-6s lr %-9g %d step%s a round:", cn_net_group_name(net, g),
               opt->ops->type, (double)opt->sched.lr, cn_net_group_steps(net, g),
               cn_net_group_steps(net, g) == 1 ? "" : "s");
        for (int i = 1; i < cn_net_n_layers(net); i++)
            if (cn_net_layer(net, i)->group == g && cn_net_layer(net, i)->n_params)
                printf(" %s", cn_net_layer(net, i)->name);
        printf("\n");
    }
    printf("total: %zu parameters, %.0f forward FLOPs/sample, %.0f training FLOPs/sample "
           "(forward, weight and input gradients)\n", sum.params, sum.flops, sum.train_flops);
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

int cli_doc(const cli_opts *o)
{
    if (o->types)
        cn_doc_types(stdout);
    else
        cn_doc_write(stdout);
    return 0;
}
