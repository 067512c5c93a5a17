/* elbo.h - evaluation of variational autoencoders (src/eval/elbo.c): the
 * negative ELBO with its two terms, and the importance-weighted estimate of
 * -ln p(x). Internal to src/eval/ (eval.c).
 */
#ifndef CNET_ELBO_H
#define CNET_ELBO_H

#include "net_internal.h"

#define CN_ELBO_MAX 8 /* KL and likelihood losses taken into account */

typedef struct cn_elbo {
    const cn_loss *kl[CN_ELBO_MAX];  /* the gauss_kl losses (their [sample] layers) */
    int n_kl;
    const cn_loss *rec[CN_ELBO_MAX]; /* losses with an nll and target=input: -ln p(x|z) */
    int n_rec;
    int iw;                          /* K draws for the IW estimate, 0 = none */
    double *top, *sum, *mean;        /* (batch) per-sample running log-sum-exp (max and
                                        scaled sum) and mean of -ln w over the draws */
} cn_elbo;

/* Find the net's gauss_kl and likelihood losses; e->n_kl = 0 when it has no
 * gauss_kl loss. iw = K > 0 needs both kinds (else CN_ERR_USAGE). */
cn_status cn_elbo_open(const cn_net *net, int iw, cn_elbo *e, cn_error *err);
/* Add neg_elbo, neg_elbo_recon and neg_elbo_kl for the batch just run. */
void cn_elbo_batch(const cn_elbo *e, const cn_ctx *ctx, cn_metric_acc *acc);
/* K more forward passes of the batch set (sampling on): add iw_nll,
 * iw_neg_elbo and iw_k. */
void cn_elbo_iw(cn_net *net, cn_elbo *e, cn_metric_acc *acc);
/* ln p(z) - ln q(z|x) of sample s, summed over the gauss_kl losses' layers. */
double cn_elbo_log_ratio(const cn_elbo *e, int s);
void cn_elbo_close(cn_elbo *e);

#endif
