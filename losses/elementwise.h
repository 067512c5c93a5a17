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

/* One element-wise loss f(y, t; p) as loops over arrays (p is the type's
 * parameter: huber's delta; unused elsewhere). Made by CN_EW_KERNEL from
 * inline per-element functions, so each loop inlines and vectorizes. */
typedef struct cn_ew_kernel {
    /* sum_i f(y_i, t_i) */
    double (*sum)(const float *y, const float *t, size_t n, float p);
    /* d_i += scale * df/dy (or df/dt) at (y_i, t_i) */
    void (*dy)(const float *y, const float *t, float *d, size_t n, float p, float scale);
    void (*dt)(const float *y, const float *t, float *d, size_t n, float p, float scale);
} cn_ew_kernel;

/* Define `const cn_ew_kernel name` from static inline element functions
 * VALUE(y, t, p) -> double, DY and DT(y, t, p) -> float. The sum runs in
 * float blocks of 256 (vectorizable) added up in double. */
#define CN_EW_KERNEL(qual, name, VALUE, DY, DT)                                                  static double name##_sum(const float *y, const float *t, size_t n, float p)                {                                                                                              double total = 0.0;                                                                        for (size_t b = 0; b < n; b += 256) {                                                          size_t e = n - b < 256 ? n : b + 256;                                                      float part = 0.0f;                                                                         for (size_t i = b; i < e; i++)                                                                 part += (float)VALUE(y[i], t[i], p);                                                   total += part;                                                                         }                                                                                          return total;                                                                          }                                                                                          static void name##_dy(const float *y, const float *t, float *d, size_t n, float p,                               float scale)                                                         {                                                                                              for (size_t i = 0; i < n; i++)                                                                 d[i] += scale * DY(y[i], t[i], p);                                                 }                                                                                          static void name##_dt(const float *y, const float *t, float *d, size_t n, float p,                               float scale)                                                         {                                                                                              for (size_t i = 0; i < n; i++)                                                                 d[i] += scale * DT(y[i], t[i], p);                                                 }                                                                                          qual const cn_ew_kernel name = {name##_sum, name##_dy, name##_dt}

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

/* Read `reduce` and attach kernel k with parameter p (allocates the state).
 * With target=label the target is the one-hot row of the sample's class
 * (the layer needs D >= 2 values); unlabelled samples are skipped. */
cn_status cn_ew_setup(cn_loss *loss, cn_sec *s, const cn_ew_kernel *k, float p, cn_error *err);
/* The reduced value over ctx->n samples (needs cn_ew_setup). */
double cn_ew_forward(cn_loss *loss, const cn_ctx *ctx);
/* Add weight * dL/dy (and dL/dt with target_grad) for ctx->n samples. */
void cn_ew_backward(cn_loss *loss, const cn_ctx *ctx);
/* Free the state of cn_ew_setup. */
void cn_ew_destroy(cn_loss *loss);
/* The unreduced sum of f over sample s of the last forward (0 for an
 * unlabelled sample): bce's negative log-likelihood, cn_loss_ops.nll. */
double cn_ew_nll(const cn_loss *loss, const cn_ctx *ctx, int s);

/* Sum of k over the batch's ctx->n samples, unreduced (split over ctx->pool). */
double cn_ew_sum(const cn_loss *loss, const cn_ctx *ctx, const cn_ew_kernel *k, float p);
/* Add scale * df/dy into the attached layer's dout (the batch's samples) and,
 * when target_grad, scale * df/dt into the target layer's dout. */
void cn_ew_grad(const cn_loss *loss, const cn_ctx *ctx, const cn_ew_kernel *k, float p,
                float scale);

/* 1 when p is a weight: not a buffer, not an additive bias (its role). */
int cn_penalty_is_weight(const cn_param *p);
/* Error unless the attached layer owns at least one weight. */
cn_status cn_penalty_setup(cn_loss *loss, cn_sec *s, cn_error *err);
/* sum of f(w) over every weight of the attached layer. */
double cn_penalty_value(const cn_loss *loss, double (*f)(float w));
/* grad += weight * g(w) over every weight of the attached layer. */
void cn_penalty_grad(const cn_loss *loss, float (*g)(float w));

#endif
