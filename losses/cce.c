/* cce.c - categorical cross-entropy over each sample's D values.
 *
 *   L = 1/m sum_s H(t_s, q_s),  H(t, q) = -sum_d t_d ln q_d
 * q = softmax(y) (input=logits, the fused log-softmax: dL/dy = q - t per
 * sample, divided by m) or q = y (input=probs, after a [softmax] layer:
 * dL/dy = -t / y, y clamped to [1e-7, 1 - 1e-7]); input=auto picks probs
 * when the attached layer is a [softmax]. t is the one-hot of the label
 * (m = labelled samples; unlabelled ones, label -1, are skipped) or a
 * target layer's distribution (m = n). Shared core: xent.c. The multi-class
 * cross-entropy of H. Bae's lecture "Loss function and cooperative
 * learning". Evaluation reports "accuracy" (argmax == label) for it, as for
 * every label target (src/eval/eval.c).
 */
#include "xent.h"

static const cn_key keys[] = {
    CN_XENT_INPUT_KEY,
    CN_KEY_END
};

static cn_status cce_setup(cn_loss *loss, cn_sec *s, cn_error *err)
{
    return cn_xent_setup(loss, s, 0, err);
}

const cn_loss_ops cn_loss_cce = {
    .type = "cce",
    .keys = keys,
    .doc = "categorical cross-entropy against the label (or a layer's distribution)",
    .targets = CN_TARGETS(CN_TARGET_LABEL) | CN_TARGETS(CN_TARGET_LAYER),
    .target_default = CN_TARGET_LABEL,
    .setup = cce_setup,
    .forward = cn_xent_forward,
    .backward = cn_xent_backward,
    .destroy = cn_xent_destroy,
};
