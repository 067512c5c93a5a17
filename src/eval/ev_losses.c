/* ev_losses.c - the evaluator every pass runs: for each loss, in cfg order,
 *   - target=input (it reconstructs): recon_mse, the per-element squared
 *     error of its layer against the clean input (eval.c adds recon_rmse and
 *     recon_psnr = 10 log10(1 / MSE), inputs in [0, 1]);
 *   - target=label (it classifies, more than one value per sample):
 *     accuracy of its layer's argmax over the labelled samples;
 *   - the metrics the loss adds itself (its ops' metrics slot).
 * One loss's metrics before the next's, as they have always been ordered.
 */
#include "evaluator.h"

static void loss_metrics(const cn_loss *loss, const cn_ctx *ctx, cn_metric_acc *acc)
{
    const cn_tensor *y = &loss->layer->out;
    size_t d = cn_tensor_sample(y);
    if (loss->target_kind == CN_TARGET_INPUT) {
        const float *t = loss->target->out.data; /* (n, d) */
        double se = 0.0;
        for (size_t i = 0; i < (size_t)ctx->n * d; i++)
            se += (double)(y->data[i] - t[i]) * (y->data[i] - t[i]);
        cn_metric_add(acc, "recon_mse", se, (double)ctx->n * d);
    }
    if (loss->target_kind == CN_TARGET_LABEL && d > 1) {
        double correct = 0.0, labelled = 0.0;
        for (int s = 0; s < ctx->n; s++)
            if (ctx->labels[s] >= 0) {
                labelled++;
                correct += cn_argmax(y->data + (size_t)s * d, d) == ctx->labels[s];
            }
        if (labelled > 0)
            cn_metric_add(acc, "accuracy", correct, labelled);
    }
}

static cn_status losses_batch(void *st, const cn_eval_pass *p, cn_error *err)
{
    (void)st, (void)err;
    for (int i = 0; i < p->net->n_losses; i++) {
        cn_loss *loss = &p->net->losses[i];
        loss_metrics(loss, &p->ctx, p->acc);
        if (loss->ops->metrics)
            loss->ops->metrics(loss, &p->ctx, p->acc);
    }
    return CN_OK;
}

const cn_evaluator cn_evaluator_losses = {
    .name = "losses",
    .batch = losses_batch,
};
