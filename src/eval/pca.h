/* pca.h - principal component analysis (src/eval/pca.c): the linear
 * baseline that `cnet pca` measures autoencoders against (docs/eval.md).
 */
#ifndef CNET_PCA_H
#define CNET_PCA_H

#include "cnet/cnet.h"

/* A fitted PCA of d-value samples, keeping k components. */
typedef struct cn_pca {
    int d, k;
    float *mean;      /* (d) the samples' mean */
    float *v;         /* (k, d) principal directions (unit rows), by decreasing eigenvalue */
    float *vmean;     /* (k) v mean: what encode subtracts */
    float *eig;       /* (k) their eigenvalues: the variance of each code unit */
    double total_var; /* trace of the covariance: the variance summed over the d values */
} cn_pca;

/* Fit on x (n, d): mean, covariance 1/n sum (x - mean)(x - mean)^T
 * (cblas_ssyrk), its k largest eigenpairs (LAPACK ssyevr). Each direction's
 * sign makes its largest-magnitude value positive.
 * @return CN_ERR_USAGE when k is not in [1, d] or n < 1, CN_ERR_NUMERIC
 *         when LAPACK fails; *p is then empty (cn_pca_free is still safe). */
cn_status cn_pca_fit(const float *x, int n, int d, int k, cn_pca *p, cn_error *err);
/* code (n, k) = (x - mean) v^T for x (n, d). */
void cn_pca_encode(const cn_pca *p, const float *x, int n, float *code);
/* out (n, d) = mean + code v: the reconstruction from code (n, k). */
void cn_pca_decode(const cn_pca *p, const float *code, int n, float *out);
void cn_pca_free(cn_pca *p);

/* `cnet pca`: fit k components on train (n_train, d), then on test
 * (n_test, d) report pca_k, explained_variance (the k eigenvalues over the
 * total variance), recon_mse, recon_rmse and recon_psnr (as cn_eval names
 * them); with q > 0 also pca_quant_recon_mse (and _rmse, _psnr) and
 * pca_quant_bits: the test codes quantized to q levels per unit, spanning
 * that unit's range over the training codes (codestat.h, cn_quant). */
cn_status cn_pca_eval(const float *train, int n_train, const float *test, int n_test, int d,
                      int k, int q, cn_metrics *out, cn_error *err);

#endif
