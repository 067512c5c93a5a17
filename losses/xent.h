/* xent.h - the cross-entropy core shared by cce and kl. Internal to losses/.
 *
 * Per sample, q is the model's distribution over the D values of the
 * attached output y: q = softmax(y) for logits, q = y for probabilities.
 * The target t is a distribution (a layer's output) or the one-hot of the
 * sample's label. cce is H(t, q) = -sum_d t_d ln q_d; kl adds
 * sum_d t_d ln t_d, giving KL(t || q). Both have the same gradient in y.
 */
#ifndef CNET_LOSSES_XENT_H
#define CNET_LOSSES_XENT_H

#include "internal.h"

/* The `input` key row of cce and kl. */
#define CN_XENT_INPUT_KEY                                                                  \
    {"input", CN_KEY_ENUM, "auto", "auto|logits|probs",                                    \
     "auto: probs when attached to a [softmax] layer, else logits (fused log-softmax); "       \
     "logits on a [softmax] layer is an error (softmax twice)"}

/* The `input` key of a loss that applies its own softmax (cce, kl,
 * entropy): *probs = 1 when the attached layer's output is to be read as
 * probabilities (input=probs, or auto on a layer offering CN_OFFER_PROBS).
 * input=logits on a layer offering probabilities is CN_ERR_CFG naming the
 * loss's line and the layer's: it would apply softmax twice. */
cn_status cn_xent_input(cn_loss *loss, cn_sec *s, int *probs, cn_error *err);
/* Read `input`, check the target (labels need D >= 2), allocate the state.
 * kl = 1 adds the target's negative entropy (KL divergence). */
cn_status cn_xent_setup(cn_loss *loss, cn_sec *s, int kl, cn_error *err);
/* Mean over the labelled (or all, for a layer target) samples. */
double cn_xent_forward(cn_loss *loss, const cn_ctx *ctx);
/* Add weight * dL/dy (and dL/dt with target_grad). */
void cn_xent_backward(cn_loss *loss, const cn_ctx *ctx);
/* Free the state of cn_xent_setup. */
void cn_xent_destroy(cn_loss *loss);

#endif
