/* kl.c - Kullback-Leibler divergence of the attached distribution from a
 * target distribution.
 *
 *   L = 1/m sum_s KL(t_s || q_s),  KL(t || q) = sum_d t_d ln(t_d / q_d)
 * terms with t_d = 0 contribute 0. q is the attached output read as
 * probabilities (input=probs: a [softmax] or another output in (0, 1], clamped
 * to [1e-7, 1 - 1e-7] inside the log) or as logits (q = softmax(y)).
 * Gradients: dL/dy = -t / q (probs) or (sum t) q - t (logits), over m;
 * with target_grad dL/dt = ln t + 1 - ln q. t is a target layer (m = n) or
 * the one-hot of the label (m = labelled samples; KL equals cce there).
 * Kullback & Leibler, "On information and sufficiency", Ann. Math. Statist.
 * 1951; H. Bae's lecture "Loss function and cooperative learning".
 * Shared core: xent.c.
 */
#include "xent.h"

static const cn_key keys[] = {
    CN_XENT_INPUT_KEY,
    CN_KEY_END
};

static cn_status kl_setup(cn_loss *loss, cn_sec *s, cn_error *err)
{
    return cn_xent_setup(loss, s, 1, err);
}

const cn_loss_ops cn_loss_kl = {
    .type = "kl",
    .keys = keys,
    .doc = "KL divergence KL(t || y) from a target layer's distribution (or the label)",
    .targets = CN_TARGETS(CN_TARGET_LAYER) | CN_TARGETS(CN_TARGET_LABEL),
    .target_default = CN_TARGET_LABEL,
    .setup = kl_setup,
    .forward = cn_xent_forward,
    .backward = cn_xent_backward,
    .destroy = cn_xent_destroy,
};
