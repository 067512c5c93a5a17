/* onehot.c - the batch's labels as one-hot vectors: a layer whose output is
 * data, not a function of its input. It is the "real" input of an
 * adversary that tells true class vectors from an encoder's (the D(y) of
 * Kamal and Bae's non-cooperative autonets, the label input of a
 * supervised adversarial autoencoder).
 *
 * Legend: n samples, K the key `classes`, y (n, K) the output, c_s the
 * label of sample s (-1 when unlabelled).
 *   forward   y[s][k] = 1 if k = c_s, else 0   (all zeros when c_s = -1)
 *   backward  none: a label has no gradient, and the input (read only for
 *             the batch size: from=input is the usual choice) gets none
 *
 * Training and evaluation check the data's labels against K (a label >= K
 * is an error naming this layer), and training refuses data in which no
 * training sample has a label (label_classes in include/cnet/layer.h).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const cn_key keys[] = {
    {"classes", CN_KEY_INT, NULL, "[2, 65536]",
     "K: values per sample; a sample labelled c gets 1 at c and 0 elsewhere"},
    CN_KEY_END};

static cn_status onehot_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    (void)b;
    int classes;
    cn_status rc = cn_sec_int(s, "classes", &classes, err);
    if (rc)
        return rc;
    l->c = classes, l->h = 1, l->w = 1;
    return CN_OK;
}

static void onehot_forward(cn_layer *l, const cn_ctx *ctx)
{
    const int K = l->c;
    float *y = l->out.data; /* (n, K) */
    memset(y, 0, (size_t)ctx->n * K * sizeof *y);
    for (int s = 0; ctx->labels && s < ctx->n; s++)
        if (ctx->labels[s] >= 0 && ctx->labels[s] < K) /* labels >= K: refused by the checks */
            y[(size_t)s * K + ctx->labels[s]] = 1.0f;
}

static int onehot_label_classes(const cn_layer *l)
{
    return l->c;
}

const cn_layer_ops cn_layer_onehot = {
    .type = "onehot",
    .keys = keys,
    .doc = "the batch's labels as one-hot vectors of `classes` values (all zeros for an "
           "unlabelled sample); reads its input only for the batch size (from=input) and "
           "passes no gradient. An adversary's \"real\" class input, e.g. the D(y) of "
           "non-cooperative autonets",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = onehot_setup,
    .forward = onehot_forward,
    .label_classes = onehot_label_classes,
};
