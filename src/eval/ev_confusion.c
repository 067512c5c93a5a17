/* ev_confusion.c - the evaluator of a classifier: the confusion matrix of
 * the first loss with target=label (whose layer has a value per class)
 * gives per-class precision, recall and F1 and their macro means
 * (confusion.c has the formulas).
 */
#include "confusion.h"
#include "evaluator.h"

typedef struct confusion_ev {
    const cn_loss *cls; /* the classifying loss */
    cn_confusion conf;
} confusion_ev;

static const cn_loss *classifier(const cn_net *net)
{
    for (int i = 0; i < net->n_losses; i++)
        if (net->losses[i].target_kind == CN_TARGET_LABEL &&
            cn_tensor_sample(&net->losses[i].layer->out) > 1)
            return &net->losses[i];
    return NULL;
}

static int confusion_wanted(const cn_net *net, const cn_eval_opts *o)
{
    (void)o;
    return classifier(net) != NULL;
}

static cn_status confusion_open(void *st, const cn_eval_pass *p, cn_error *err)
{
    confusion_ev *c = st;
    c->cls = classifier(p->net);
    return cn_confusion_init(&c->conf, (int)cn_tensor_sample(&c->cls->layer->out), err);
}

static cn_status confusion_batch(void *st, const cn_eval_pass *p, cn_error *err)
{
    (void)err;
    confusion_ev *c = st;
    size_t k = (size_t)c->conf.k;
    for (int s = 0; s < p->ctx.n; s++)
        if (p->ctx.labels[s] >= 0)
            cn_confusion_add(&c->conf, p->ctx.labels[s],
                             cn_argmax(c->cls->layer->out.data + s * k, k));
    return CN_OK;
}

static void confusion_put(const void *st, const cn_eval_pass *p, cn_metrics *out)
{
    (void)p;
    cn_confusion_put(&((const confusion_ev *)st)->conf, out);
}

static void confusion_close(void *st)
{
    cn_confusion_free(&((confusion_ev *)st)->conf);
}

const cn_evaluator cn_evaluator_confusion = {
    .name = "confusion",
    .wants = confusion_wanted,
    .size = sizeof(confusion_ev),
    .open = confusion_open,
    .batch = confusion_batch,
    .put = confusion_put,
    .close = confusion_close,
};
