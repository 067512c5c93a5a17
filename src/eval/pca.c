/* pca.c - principal component analysis, the linear baseline of Ranzato,
 * Boureau & LeCun ("Sparse Feature Learning for Deep Belief Networks",
 * NIPS 2007), who compare the reconstruction error of SESM's, an RBM's and
 * PCA's codes at each code entropy.
 *
 * For samples x_s (s = 1..n, d values each):
 *   mean  m = 1/n sum_s x_s
 *   C     = 1/n sum_s (x_s - m)(x_s - m)^T        (d, d), by cblas_ssyrk
 *   C v_j = lambda_j v_j, lambda_1 >= ... >= lambda_k the k largest (ssyevr)
 *   code  c = V (x - m),  V = (v_1 ... v_k)^T       (k, d)
 *   recon x^ = m + V^T c
 * The mean squared error per value of the reconstruction of the fitted
 * samples is (sum_{j > k} lambda_j) / d, and 0 when k reaches the rank of C.
 *
 * LAPACK: ssyevr (relatively robust representations; range 'I' computes
 * only the k eigenpairs asked for) as OpenBLAS exports it. Debian's OpenBLAS
 * has no lapack.h or LAPACKE, so it is declared below in the Fortran
 * convention: every argument by reference, then the hidden lengths of the
 * three CHARACTER arguments. ssyrk fills the upper triangle of the row-major
 * C, which is the lower triangle of the column-major matrix LAPACK reads.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codestat.h"
#include "pca.h"

void ssyevr_(const char *jobz, const char *range, const char *uplo, const int *n, float *a,
             const int *lda, const float *vl, const float *vu, const int *il, const int *iu,
             const float *abstol, int *m, float *w, float *z, const int *ldz, int *isuppz,
             float *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t range_len, size_t uplo_len);

enum { CHUNK = 512 }; /* samples per product while fitting and measuring */

/* The mean of x (n, d) into mean, summed in sum (d) in double. */
static void fit_mean(const float *x, int n, int d, double *sum, float *mean)
{
    memset(sum, 0, (size_t)d * sizeof *sum);
    for (int s = 0; s < n; s++)
        for (int j = 0; j < d; j++)
            sum[j] += x[(size_t)s * d + j];
    for (int j = 0; j < d; j++)
        mean[j] = (float)(sum[j] / n);
}

/* cov (d, d, upper triangle) = 1/n sum_s (x_s - mean)(x_s - mean)^T, the
 * centred samples CHUNK at a time in buf (CHUNK, d). */
static void fit_cov(const float *x, int n, int d, const float *mean, float *buf, float *cov)
{
    memset(cov, 0, (size_t)d * d * sizeof *cov);
    for (int s0 = 0; s0 < n; s0 += CHUNK) {
        int m = n - s0 < CHUNK ? n - s0 : CHUNK;
        for (int s = 0; s < m; s++)
            for (int j = 0; j < d; j++)
                buf[(size_t)s * d + j] = x[(size_t)(s0 + s) * d + j] - mean[j];
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, d, m, 1.0f / (float)n, buf, d, 1.0f,
                    cov, d);
    }
}

/* The k largest eigenpairs of cov (destroyed) into p->eig and p->v. */
static cn_status eigen(float *cov, cn_pca *p, cn_error *err)
{
    int d = p->d, k = p->k, il = d - k + 1, m = 0, info = 0, lwork = -1, liwork = -1, iw_q = 0;
    float vl = 0.0f, vu = 0.0f, abstol = 0.0f, w_q = 0.0f;
    float *w = malloc((size_t)d * sizeof *w), *z = malloc((size_t)d * k * sizeof *z);
    int *isuppz = malloc(2 * (size_t)k * sizeof *isuppz);
    float *work = NULL;
    int *iwork = NULL;
    cn_status rc = CN_OK;
    if (!w || !z || !isuppz)
        goto nomem;
    /* the workspace query, then the decomposition */
    ssyevr_("V", "I", "L", &d, cov, &d, &vl, &vu, &il, &d, &abstol, &m, w, z, &d, isuppz, &w_q,
            &lwork, &iw_q, &liwork, &info, 1, 1, 1);
    lwork = (int)w_q, liwork = iw_q;
    work = malloc((size_t)(lwork > 1 ? lwork : 1) * sizeof *work);
    iwork = malloc((size_t)(liwork > 1 ? liwork : 1) * sizeof *iwork);
    if (!work || !iwork)
        goto nomem;
    if (!info)
        ssyevr_("V", "I", "L", &d, cov, &d, &vl, &vu, &il, &d, &abstol, &m, w, z, &d, isuppz,
                work, &lwork, iwork, &liwork, &info, 1, 1, 1);
    if (info || m != k) {
        rc = cn_errorf(err, CN_ERR_NUMERIC, "pca: LAPACK ssyevr failed (info %d, %d of %d "
                       "eigenpairs)", info, m, k);
        goto done;
    }
    /* ascending from LAPACK: component r is column k-1-r of z (column-major, (d, k)) */
    for (int r = 0; r < k; r++) {
        const float *col = z + (size_t)(k - 1 - r) * d;
        float *row = p->v + (size_t)r * d, big = 0.0f;
        for (int j = 0; j < d; j++)
            big = fabsf(col[j]) > fabsf(big) ? col[j] : big;
        for (int j = 0; j < d; j++)
            row[j] = big < 0.0f ? -col[j] : col[j];
        p->eig[r] = w[k - 1 - r];
    }
    goto done;
nomem:
    rc = cn_errorf(err, CN_ERR_NOMEM, "pca: out of memory for %d components of %d values", k,
                   d);
done:
    free(w);
    free(z);
    free(isuppz);
    free(work);
    free(iwork);
    return rc;
}

cn_status cn_pca_fit(const float *x, int n, int d, int k, cn_pca *p, cn_error *err)
{
    memset(p, 0, sizeof *p);
    if (k < 1 || k > d)
        return cn_errorf(err, CN_ERR_USAGE, "pca: K = %d components, but a sample has %d "
                         "values: K must be from 1 to %d", k, d, d);
    if (n < 1)
        return cn_errorf(err, CN_ERR_USAGE, "pca: no samples to fit");
    p->d = d, p->k = k;
    p->mean = malloc((size_t)d * sizeof *p->mean);
    p->v = malloc((size_t)k * d * sizeof *p->v);
    p->vmean = malloc((size_t)k * sizeof *p->vmean);
    p->eig = malloc((size_t)k * sizeof *p->eig);
    float *cov = malloc((size_t)d * d * sizeof *cov);
    float *buf = malloc((size_t)CHUNK * d * sizeof *buf);
    double *sum = malloc((size_t)d * sizeof *sum);
    cn_status rc = CN_OK;
    if (!p->mean || !p->v || !p->vmean || !p->eig || !cov || !buf || !sum) {
        rc = cn_errorf(err, CN_ERR_NOMEM, "pca: out of memory for the covariance of %d values",
                       d);
    } else {
        fit_mean(x, n, d, sum, p->mean);
        fit_cov(x, n, d, p->mean, buf, cov);
        for (int j = 0; j < d; j++)
            p->total_var += cov[(size_t)j * d + j];
        rc = eigen(cov, p, err);
    }
    if (!rc)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, k, d, 1.0f, p->v, d, p->mean, 1, 0.0f,
                    p->vmean, 1);
    free(cov);
    free(buf);
    free(sum);
    if (rc)
        cn_pca_free(p);
    return rc;
}

void cn_pca_encode(const cn_pca *p, const float *x, int n, float *code)
{
    /* V (x - m) = V x - V m: the product on x as it is, V m subtracted after */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, p->k, p->d, 1.0f, x, p->d, p->v,
                p->d, 0.0f, code, p->k);
    for (int s = 0; s < n; s++)
        for (int r = 0; r < p->k; r++)
            code[(size_t)s * p->k + r] -= p->vmean[r];
}

void cn_pca_decode(const cn_pca *p, const float *code, int n, float *out)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, p->d, p->k, 1.0f, code, p->k,
                p->v, p->d, 0.0f, out, p->d);
    for (int s = 0; s < n; s++)
        for (int j = 0; j < p->d; j++)
            out[(size_t)s * p->d + j] += p->mean[j];
}

void cn_pca_free(cn_pca *p)
{
    free(p->mean);
    free(p->v);
    free(p->vmean);
    free(p->eig);
    memset(p, 0, sizeof *p);
}

/* Each unit's smallest and largest code over x (n, d), CHUNK samples at a
 * time through code (CHUNK, k): the range its quantization levels span. */
static void code_range(const cn_pca *p, const float *x, int n, float *code, float *lo,
                       float *hi)
{
    for (int r = 0; r < p->k; r++)
        lo[r] = INFINITY, hi[r] = -INFINITY;
    for (int s0 = 0; s0 < n; s0 += CHUNK) {
        int m = n - s0 < CHUNK ? n - s0 : CHUNK;
        cn_pca_encode(p, x + (size_t)s0 * p->d, m, code);
        for (size_t i = 0; i < (size_t)m * p->k; i++) {
            lo[i % p->k] = fminf(lo[i % p->k], code[i]);
            hi[i % p->k] = fmaxf(hi[i % p->k], code[i]);
        }
    }
}

/* Squared error of the reconstruction of x (m, d) from code (m, k) through out (m, d). */
static double sq_error(const cn_pca *p, const float *x, const float *code, int m, float *out)
{
    double se = 0.0;
    cn_pca_decode(p, code, m, out);
    for (size_t i = 0; i < (size_t)m * p->d; i++)
        se += ((double)out[i] - x[i]) * ((double)out[i] - x[i]);
    return se;
}

/* recon_mse, recon_rmse, recon_psnr as cn_eval reports them, `prefix` first. */
static void put_recon(cn_metrics *out, const char *prefix, double mse)
{
    char name[48];
    snprintf(name, sizeof name, "%srecon_mse", prefix);
    cn_metrics_put(out, name, mse);
    snprintf(name, sizeof name, "%srecon_rmse", prefix);
    cn_metrics_put(out, name, sqrt(mse));
    snprintf(name, sizeof name, "%srecon_psnr", prefix);
    cn_metrics_put(out, name, 10.0 * log10(1.0 / mse));
}

cn_status cn_pca_eval(const float *train, int n_train, const float *test, int n_test, int d,
                      int k, int q, cn_metrics *out, cn_error *err)
{
    cn_pca p;
    cn_quant qz = {0};
    double se = 0.0, se_q = 0.0, kept = 0.0, values = (double)n_test * d;
    memset(out, 0, sizeof *out);
    if (n_test < 1)
        return cn_errorf(err, CN_ERR_USAGE, "pca: no samples to measure");
    if (cn_pca_fit(train, n_train, d, k, &p, err))
        return err->code;
    float *code = malloc((size_t)CHUNK * k * sizeof *code);
    float *rec = malloc((size_t)CHUNK * d * sizeof *rec);
    float *lo = malloc((size_t)k * sizeof *lo), *hi = malloc((size_t)k * sizeof *hi);
    cn_status rc = CN_OK;
    if (!code || !rec || !lo || !hi) {
        rc = cn_errorf(err, CN_ERR_NOMEM, "pca: out of memory");
        goto done;
    }
    if (q > 0) {
        if (cn_quant_init(&qz, k, q, lo, hi, err))
            goto fail;
        code_range(&p, train, n_train, code, lo, hi);
    }
    for (int s0 = 0; s0 < n_test; s0 += CHUNK) {
        int m = n_test - s0 < CHUNK ? n_test - s0 : CHUNK;
        const float *x = test + (size_t)s0 * d;
        cn_pca_encode(&p, x, m, code);
        se += sq_error(&p, x, code, m, rec);
        if (q > 0) {
            cn_quant_add(&qz, code, m);
            se_q += sq_error(&p, x, code, m, rec);
        }
    }
    for (int r = 0; r < k; r++)
        kept += p.eig[r];
    cn_metrics_put(out, "pca_k", k);
    cn_metrics_put(out, "explained_variance", p.total_var > 0.0 ? kept / p.total_var : 1.0);
    put_recon(out, "", se / values);
    if (q > 0) {
        put_recon(out, "pca_quant_", se_q / values);
        cn_metrics_put(out, "pca_quant_bits", cn_quant_bits(&qz));
    }
    goto done;
fail:
    rc = err->code;
done:
    cn_quant_free(&qz);
    cn_pca_free(&p);
    free(code);
    free(rec);
    free(lo);
    free(hi);
    return rc;
}
