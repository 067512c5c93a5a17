/* elementwise.h - loops shared by the element-wise losses (mse, mae, rmse,
 * huber, bce) and the weight penalties (l1, l2). Internal to losses/.
 *
 * An element-wise loss compares the attached layer's output y (n, D) with a
 * target t of the same layout through a kernel f(y, t) and reduces:
 *   reduce=mean  L = 1/(n D) sum_{s,d} f(y_sd, t_sd)   (PyTorch's default)
 *   reduce=sum   L = 1/n     sum_{s,d} f(y_sd, t_sd)   (summed per sample)
 * dL/dy = scale * df/dy, and with target_grad dL/dt = scale * df/dt.
 * A weight penalty maps g(w) over every parameter of the attached layer
 * whose name does not end in ".b" (the weights, not the biases) and that is
 * not a buffer (running statistics are not trained).
 */
#ifndef CNET_LOSSES_ELEMENTWISE_H
#define CNET_LOSSES_ELEMENTWISE_H

#include "internal.h"

/* One element-wise loss f(y, t; p) with its partial derivatives. p is the
 * type's parameter (huber's delta; unused elsewhere). */
typedef struct cn_ew_kernel {
    double (*value)(float y, float t, float p);
    float (*dy)(float y, float t, float p); /* df/dy */
    float (*dt)(float y, float t, float p); /* df/dt, for target_grad */
} cn_ew_kernel;

/* Probabilities are clamped into [1e-7, 1 - 1e-7] wherever their log is taken. */
#define CN_PROB_EPS 1e-7f
static inline float cn_prob_clamp(float p)
{
    return p < CN_PROB_EPS ? CN_PROB_EPS : p > 1.0f - CN_PROB_EPS ? 1.0f - CN_PROB_EPS : p;
}

/* The squared error f = (y - t)^2, shared by mse and rmse. */
extern const cn_ew_kernel cn_ew_squared;

/* The `reduce` key row of mse, mae, huber and bce. */
#define CN_EW_REDUCE_KEY                                                                   \
    {"reduce", CN_KEY_ENUM, "mean", "mean|sum",                                            \
     "mean: over all batch x values (PyTorch's default); sum: summed over each sample's "  \
     "values, mean over the batch"}

/* Read `reduce` and attach kernel k with parameter p (allocates the state). */
cn_status cn_ew_setup(cn_loss *loss, cn_sec *s, const cn_ew_kernel *k, float p, cn_error *err);
/* The reduced value over ctx->n samples (needs cn_ew_setup). */
double cn_ew_forward(cn_loss *loss, const cn_ctx *ctx);
/* Add weight * dL/dy (and dL/dt with target_grad) for ctx->n samples. */
void cn_ew_backward(cn_loss *loss, const cn_ctx *ctx);
/* Free the state of cn_ew_setup. */
void cn_ew_destroy(cn_loss *loss);

/* Sum of k over the first n samples, unreduced. */
double cn_ew_sum(const cn_loss *loss, int n, const cn_ew_kernel *k, float p);
/* Add scale * df/dy into the attached layer's dout (first n samples) and,
 * when target_grad, scale * df/dt into the target layer's dout. */
void cn_ew_grad(const cn_loss *loss, int n, const cn_ew_kernel *k, float p, float scale);

/* 1 when p is a weight: not a buffer, name not ending in ".b". */
int cn_penalty_is_weight(const cn_param *p);
/* Error unless the attached layer owns at least one weight. */
cn_status cn_penalty_setup(cn_loss *loss, cn_sec *s, cn_error *err);
/* sum of f(w) over every weight of the attached layer. */
double cn_penalty_value(const cn_loss *loss, double (*f)(float w));
/* grad += weight * g(w) over every weight of the attached layer. */
void cn_penalty_grad(const cn_loss *loss, float (*g)(float w));

#endif
