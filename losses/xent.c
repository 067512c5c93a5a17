/* xent.c - cross-entropy and KL divergence over each sample's D values
 * (see xent.h). Legend: n samples, D values each; y, dy (n, D) the attached
 * layer's out/dout; t, dt (n, D) a target layer's out/dout, or a label c.
 *
 *   logits: ln q_d = y_d - lse(y),  lse(y) = m + ln sum_d e^(y_d - m), m = max y
 *           dL/dy_d = (sum_e t_e) q_d - t_d     (= q_d - t_d for a distribution)
 *   probs:  ln q_d = ln clamp(y_d, 1e-7, 1 - 1e-7),  dL/dy_d = -t_d / clamp(y_d)
 *   target: dH/dt_d = -ln q_d;  dKL/dt_d = ln t_d + 1 - ln q_d (t_d clamped
 *           to 1e-7 inside the log; terms with t_d = 0 add 0 to the value)
 * L is the mean over the samples that count: all for a layer target, the
 * labelled ones (label in [0, D); -1 = unlabelled) for labels; 0 if none.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "elementwise.h"
#include "xent.h"

typedef struct xent_state {
    int probs; /* y holds probabilities, else logits */
    int kl;    /* add sum t ln t */
} xent_state;

static size_t sample_size(const cn_loss *loss)
{
    return (size_t)loss->layer->c * loss->layer->h * loss->layer->w;
}

/* The sample's class, or -1 when it does not count (unlabelled); every
 * sample counts against a layer target. */
static int label_of(const cn_loss *loss, const cn_ctx *ctx, int s)
{
    return loss->target_kind == CN_TARGET_LABEL ? cn_loss_label(loss, ctx, s) : 0;
}

static int counted(const cn_loss *loss, const cn_ctx *ctx)
{
    return loss->target_kind == CN_TARGET_LABEL ? cn_loss_n_labelled(loss, ctx) : ctx->n;
}

/* lse(y) over D logits with max-subtraction. */
static double log_sum_exp(const float *y, size_t D)
{
    float m = y[0];
    for (size_t d = 1; d < D; d++)
        m = y[d] > m ? y[d] : m;
    double z = 0.0;
    for (size_t d = 0; d < D; d++)
        z += exp((double)y[d] - m);
    /* cppcheck-suppress invalidFunctionArg ; z >= 1: the maximum's term is e^0 (D >= 1) */
    return m + log(z);
}

/* ln q_d; lse is only used for logits. */
static double log_q(const xent_state *x, const float *y, size_t d, double lse)
{
    return x->probs ? log(cn_prob_clamp(y[d])) : y[d] - lse;
}

double cn_xent_forward(cn_loss *loss, const cn_ctx *ctx)
{
    const xent_state *x = loss->state;
    size_t D = sample_size(loss);
    const cn_tensor *tt = cn_loss_target(loss);
    double total = 0.0;
    int m = 0;
    for (int s = 0; s < ctx->n; s++) {
        int c = label_of(loss, ctx, s);
        if (c < 0)
            continue;
        const float *y = loss->layer->out.data + (size_t)s * D; /* (D) */
        double lse = x->probs ? 0.0 : log_sum_exp(y, D);
        m++;
        if (loss->target_kind == CN_TARGET_LABEL) {
            total -= log_q(x, y, (size_t)c, lse);
            continue;
        }
        const float *t = tt->data + (size_t)s * D; /* (D) */
        for (size_t d = 0; d < D; d++) {
            if (t[d] == 0.0f)
                continue;
            total -= t[d] * log_q(x, y, d, lse);
            if (x->kl && t[d] > 0.0f)
                total += t[d] * log(t[d]);
        }
    }
    return m ? total / m : 0.0;
}

/* dy += scale * dL/dy for one sample; t = NULL means the one-hot of c. */
static void grad_y(const xent_state *x, const float *y, const float *t, int c, size_t D,
                   double lse, float scale, float *dy)
{
    double tsum = 1.0;
    if (t) {
        tsum = 0.0;
        for (size_t d = 0; d < D; d++)
            tsum += t[d];
    }
    for (size_t d = 0; d < D; d++) {
        double td = t ? t[d] : (int)d == c;
        double g = x->probs ? -td / cn_prob_clamp(y[d]) : tsum * exp(y[d] - lse) - td;
        dy[d] += scale * (float)g;
    }
}

void cn_xent_backward(cn_loss *loss, const cn_ctx *ctx)
{
    const xent_state *x = loss->state;
    int m = counted(loss, ctx);
    if (!m)
        return;
    size_t D = sample_size(loss);
    float scale = loss->weight / (float)m;
    const cn_tensor *tt = cn_loss_target(loss);
    int to_target = loss->target_kind == CN_TARGET_LAYER && loss->target_grad &&
                    loss->target->needs_grad;
    for (int s = 0; s < ctx->n; s++) {
        int c = label_of(loss, ctx, s);
        if (c < 0)
            continue;
        size_t off = (size_t)s * D;
        const float *y = loss->layer->out.data + off;                     /* (D) */
        const float *t = loss->target_kind == CN_TARGET_LAYER ? tt->data + off : NULL;
        double lse = x->probs ? 0.0 : log_sum_exp(y, D);
        if (loss->layer->needs_grad)
            grad_y(x, y, t, c, D, lse, scale, loss->layer->dout.data + off);
        if (!to_target)
            continue;
        float *dt = loss->target->dout.data + off; /* (D) */
        for (size_t d = 0; d < D; d++) {
            double g = -log_q(x, y, d, lse);
            if (x->kl)
                g += log(t[d] > CN_PROB_EPS ? t[d] : CN_PROB_EPS) + 1.0;
            dt[d] += scale * (float)g;
        }
    }
}

cn_status cn_xent_input(cn_loss *loss, cn_sec *s, int *probs, cn_error *err)
{
    int input; /* 0 auto, 1 logits, 2 probs */
    cn_status st = cn_sec_enum(s, "input", &input, err);
    if (st)
        return st;
    int offered = (cn_layer_offers(loss->layer) & CN_OFFER_PROBS) != 0;
    if (input == 1 && offered) {
        char where[160];
        return cn_sec_bad(s, "input", CN_ERR_CFG, err,
                          "[%s] would apply its own softmax to layer %s, which already outputs "
                          "probabilities (a softmax of a softmax); leave input out (auto reads "
                          "them as probabilities) or attach the loss to the layer before the "
                          "softmax", loss->ops->type,
                          cn_layer_where(loss->layer, where, sizeof where));
    }
    *probs = input == 2 || (input == 0 && offered);
    return CN_OK;
}

cn_status cn_xent_setup(cn_loss *loss, cn_sec *s, int kl, cn_error *err)
{
    int probs = 0;
    cn_status st = cn_xent_input(loss, s, &probs, err);
    if (st)
        return st;
    if (loss->target_kind == CN_TARGET_LABEL && sample_size(loss) < 2) {
        char shape[64];
        const cn_layer *l = loss->layer;
        return cn_sec_errorf(s, CN_ERR_SHAPE, err,
                             "target=label needs one value per class (at least 2), but layer "
                             "'%s' (%s, %s) has %zu",
                             l->name, l->ops->type, cn_layer_shape_str(l, shape, sizeof shape),
                             sample_size(loss));
    }
    xent_state *x = malloc(sizeof *x);
    if (!x)
        return cn_errorf(err, CN_ERR_NOMEM, "loss '%s': out of memory", loss->name);
    x->probs = probs;
    x->kl = kl;
    loss->state = x;
    return CN_OK;
}

void cn_xent_destroy(cn_loss *loss)
{
    free(loss->state);
    loss->state = NULL;
}
