/* info.c - `cnet summary CFG` (layers, shapes, parameters, FLOPs) and
 * `cnet doc` (the generated cfg reference). */
#include <string.h>

#include "cli.h"
#include "cnet/cnet.h"
#include "internal.h"

int cli_summary(const cli_opts *o)
{
    cn_error err = {0};
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    if (cli_load_cfg(o, &cfg, &err) || cn_net_create(cfg, &net, &err)) {
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

int cli_doc(const cli_opts *o)
{
    if (o->types)
        cn_doc_types(stdout);
    else
        cn_doc_write(stdout);
    return 0;
}
