/* ev_quantize.c - the evaluator of --quantize Q: how well a code
 * reconstructs when each unit carries only Q levels, against how many bits
 * those levels take (the rate-distortion pair of Ranzato, Boureau & LeCun,
 * "Sparse Feature Learning for Deep Belief Networks", NIPS 2007, which
 * draws RMSE against the code's entropy for SESM, an RBM and PCA).
 *
 * After the clean pass of a batch (and every evaluator reading it), the
 * code layer named by the options (the --sparsity layer) has its output
 * replaced by the nearest of Q levels evenly spaced on [0, 1] (a sigmoid
 * code, quantized after the logistic as in the paper; codestat.c), the
 * layers after it run again on that, and each reconstruction loss's layer
 * (target=input) is scored against the clean input:
 *   <layer>_quant_recon_mse  (eval.c adds _rmse and _psnr)
 *   <layer>_quant_bits       sum over units of the entropy of their levels
 * The outputs of the code layer and the layers after it are left as the
 * quantized pass made them, so this runs after every evaluator that reads
 * the clean pass and before those that run the net afresh (registry.c).
 */
#include <stdio.h>

#include "codestat.h"
#include "evaluator.h"

typedef struct quant_ev {
    cn_layer *code;
    int next;    /* index of the first layer after the code */
    cn_quant qz;
} quant_ev;

static int quant_wanted(const cn_net *net, const cn_eval_opts *o)
{
    (void)net;
    return o->quantize > 0;
}

static cn_status quant_open(void *st, const cn_eval_pass *p, cn_error *err)
{
    quant_ev *x = st;
    const cn_net *net = p->net;
    if (!p->opts->sparsity)
        return cn_errorf(err, CN_ERR_USAGE, "quantize: no code layer named to quantize (the "
                         "layer of --sparsity)");
    if (cn_layer_lookup(net, p->opts->sparsity, "quantize", &x->code, err))
        return err->code;
    x->next = (int)(x->code - net->layers) + 1;
    int recon = 0;
    for (int i = 0; i < net->n_losses; i++)
        recon |= net->losses[i].target_kind == CN_TARGET_INPUT &&
                 net->losses[i].layer - net->layers >= x->next;
    if (!recon)
        return cn_errorf(err, CN_ERR_USAGE, "quantize: %s has no reconstruction loss "
                         "(target=input) after layer '%s' to decode its code", net->name,
                         x->code->name);
    return cn_quant_init(&x->qz, (int)cn_tensor_sample(&x->code->out), p->opts->quantize,
                         NULL, NULL, err);
}

static cn_status quant_batch(void *st, const cn_eval_pass *p, cn_error *err)
{
    (void)err;
    quant_ev *x = st;
    cn_net *net = p->net;
    const cn_batch *b = &p->b;
    char name[48];
    cn_quant_add(&x->qz, x->code->out.data, b->n);
    cn_net_forward_from(net, x->next);
    size_t count = (size_t)b->n * cn_tensor_sample(&net->layers[0].out);
    snprintf(name, sizeof name, "%s_quant_recon_mse", x->code->name);
    for (int i = 0; i < net->n_losses; i++) {
        const cn_loss *loss = &net->losses[i];
        if (loss->target_kind != CN_TARGET_INPUT || loss->layer - net->layers < x->next)
            continue;
        const float *y = loss->layer->out.data; /* (n, d) */
        double se = 0.0;
        for (size_t j = 0; j < count; j++)
            se += (double)(y[j] - b->x[j]) * (y[j] - b->x[j]);
        cn_metric_add(p->acc, name, se, (double)count);
    }
    return CN_OK;
}

static void quant_put(const void *st, const cn_eval_pass *p, cn_metrics *out)
{
    (void)p;
    const quant_ev *x = st;
    char name[48];
    snprintf(name, sizeof name, "%s_quant_bits", x->code->name);
    cn_metrics_put(out, name, cn_quant_bits(&x->qz));
}

static void quant_close(void *st)
{
    cn_quant_free(&((quant_ev *)st)->qz);
}

const cn_evaluator cn_evaluator_quantize = {
    .name = "quantize",
    .wants = quant_wanted,
    .size = sizeof(quant_ev),
    .open = quant_open,
    .batch = quant_batch,
    .put = quant_put,
    .close = quant_close,
};
