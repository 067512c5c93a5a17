/* labelcheck.c - labels checked against what reads them, before a pass:
 * a label loss skips labels outside its layer's outputs and averages over
 * the labelled samples, and a layer reading labels ([onehot]) gives zeros
 * for the unlabelled, so out-of-range labels or a training part without
 * any would be ignored without a word. Training and evaluation alike.
 */
#include "net_internal.h"

/* The first layer reading labels itself ([onehot]), or NULL. */
static const cn_layer *label_reader(const cn_net *net)
{
    for (int i = 1; i < net->n_layers; i++)
        if (net->layers[i].ops->label_classes)
            return &net->layers[i];
    return NULL;
}

/* A label loss skips labels outside its layer's outputs, and a layer that
 * reads labels ([onehot]) those past its classes, so such labels would be
 * ignored without a word: refuse them, naming the file, the sample and the
 * label (training and evaluation alike). */
cn_status cn_net_check_labels(const cn_net *net, const cn_dataset *ds, cn_error *err)
{
    for (int k = 0; ds && ds->labels && k < net->n_losses; k++) {
        const cn_loss *loss = &net->losses[k];
        const cn_layer *l = loss->layer;
        long classes = (long)l->c * l->h * l->w;
        if (loss->target_kind != CN_TARGET_LABEL || ds->n_classes <= classes)
            continue;
        for (int i = 0; i < ds->n; i++)
            if (ds->labels[i] >= classes)
                return cn_errorf(err, CN_ERR_SHAPE, "the labels of %s: sample %d has label %d, "
                                 "but loss '%s' (line %d) reads layer '%s' with %ld outputs, "
                                 "so labels must be 0 to %ld", ds->source, i, ds->labels[i],
                                 loss->name, loss->cfg_line, l->name, classes, classes - 1);
    }
    for (int k = 1; ds && ds->labels && k < net->n_layers; k++) {
        const cn_layer *l = &net->layers[k];
        int classes = l->ops->label_classes ? l->ops->label_classes(l) : 0;
        for (int i = 0; classes > 0 && ds->n_classes > classes && i < ds->n; i++)
            if (ds->labels[i] >= classes)
                return cn_errorf(err, CN_ERR_SHAPE, "the labels of %s: sample %d has label %d, "
                                 "but layer '%s' ([%s], line %d) reads labels of %d classes, "
                                 "so labels must be 0 to %d", ds->source, i, ds->labels[i],
                                 l->name, l->ops->type, l->cfg_line, classes, classes - 1);
    }
    return CN_OK;
}

/* A label loss averages over the labelled samples of a batch, and a layer
 * reading labels ([onehot]) gives zeros for the unlabelled, so a training
 * part with none (a file without labels, or label_fraction / label_mask
 * keeping none) would train them on nothing: refuse that. */
cn_status cn_net_check_labelled(const cn_net *net, const cn_data *d, cn_error *err)
{
    const cn_dataset *ds = d->train;
    for (int i = 0; ds->labels && i < d->n_train; i++)
        if (ds->labels[d->train_idx ? d->train_idx[i] : i] >= 0)
            return CN_OK;
    const char *why = ds->labels ? "label_fraction or label_mask keeps none"
                                 : "the data has no labels";
    for (int k = 0; k < net->n_losses; k++)
        if (net->losses[k].target_kind == CN_TARGET_LABEL)
            return cn_errorf(err, CN_ERR_CFG, "loss '%s' (line %d) needs labels, but none of "
                             "the %d training samples of %s has one (%s); label some (the "
                             "[data] keys label_fraction and label_mask choose which keep "
                             "theirs) or remove the loss", net->losses[k].name,
                             net->losses[k].cfg_line, d->n_train, ds->source, why);
    const cn_layer *l = label_reader(net);
    if (l)
        return cn_errorf(err, CN_ERR_CFG, "layer '%s' ([%s], line %d) reads labels, but none "
                         "of the %d training samples of %s has one (%s); label some (the "
                         "[data] keys label_fraction and label_mask choose which keep theirs) "
                         "or remove the layer", l->name, l->ops->type, l->cfg_line, d->n_train,
                         ds->source, why);
    return CN_OK;
}
