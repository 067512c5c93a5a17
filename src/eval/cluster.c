/* cluster.c - clustering metrics and k-means, for evaluating learned codes
 * (the Hungarian matching and the clustering accuracy are in the core,
 * src/match.c, as the train loop's validation reports that accuracy).
 *
 * Metrics, from the contingency table n_ij (predicted i, true j), row sums
 * a_i, column sums b_j, N samples:
 *   NMI = I(P;T) / ((H(P) + H(T)) / 2),  I = sum n_ij/N log(N n_ij / (a_i b_j))
 *   ARI = (sum C(n_ij,2) - E) / ((sum C(a_i,2) + sum C(b_j,2)) / 2 - E),
 *         E = sum C(a_i,2) sum C(b_j,2) / C(N,2)        (Hubert & Arabie, 1985)
 * as sklearn defines them: NMI is 1 when both entropies are 0, ARI is 1 when
 * the two partitions are the same up to renaming (which covers every case
 * where its denominator is 0). Invalid input (N < 1, k < 1, a label outside
 * its range) and allocation failure give NAN: these return a number, not a
 * status, and NAN cannot be mistaken for a score.
 *
 * k-means: k-means++ seeding (Arthur & Vassilvitskii, 2007), then Lloyd
 * iterations. Squared distances ||x||^2 - 2 x.c + ||c||^2 come from
 * cblas_sgemm over blocks of rows, so memory stays O(block * k) whatever n.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "cluster.h"

/* Entropy (nats) of the counts c[0..m) summing to n; empty classes add 0. */
static double entropy(const long *c, int m, int n)
{
    double h = 0.0;
    for (int i = 0; i < m; i++)
        if (c[i] > 0)
            h -= (double)c[i] / n * log((double)c[i] / n);
    return h;
}

double cn_cluster_nmi(const int *pred, int k_pred, const int *labels, int k, int n)
{
    long *t = cn_contingency(pred, k_pred, labels, k, n);
    if (!t)
        return NAN;
    const long *a = t + (size_t)k_pred * k, *b = a + k_pred;
    double hp = entropy(a, k_pred, n), ht = entropy(b, k, n), mi = 0.0;
    for (int i = 0; i < k_pred; i++)
        for (int j = 0; j < k; j++) {
            double nij = t[(size_t)i * k + j];
            if (nij > 0)
                mi += nij / n * log(nij * n / ((double)a[i] * b[j]));
        }
    free(t);
    if (hp == 0.0 && ht == 0.0)
        return 1.0; /* one class on each side: a perfect match */
    /* mi is a sum of rounded terms: clamp its tiny negative values to 0 */
    return fmax(mi, 0.0) / ((hp + ht) / 2.0);
}

static double comb2(long m)
{
    return (double)m * (double)(m - 1) / 2.0;
}

double cn_cluster_ari(const int *pred, int k_pred, const int *labels, int k, int n)
{
    long *t = cn_contingency(pred, k_pred, labels, k, n);
    if (!t)
        return NAN;
    const long *a = t + (size_t)k_pred * k, *b = a + k_pred;
    /* pair counts are integers below 2^53, so the sums are exact in double */
    double sum_ij = 0.0, sum_a = 0.0, sum_b = 0.0;
    for (int i = 0; i < k_pred; i++) {
        sum_a += comb2(a[i]);
        for (int j = 0; j < k; j++)
            sum_ij += comb2(t[(size_t)i * k + j]);
    }
    for (int j = 0; j < k; j++)
        sum_b += comb2(b[j]);
    free(t);
    /* no pair split by one partition and joined by the other: same partition */
    if (sum_ij == sum_a && sum_ij == sum_b)
        return 1.0;
    double expected = sum_a * sum_b / comb2(n), max_index = (sum_a + sum_b) / 2.0;
    return (sum_ij - expected) / (max_index - expected);
}

/* ---- k-means ---- */

/* Work space of one k-means run. */
typedef struct kmeans_ws {
    const float *x; /* (n, d) */
    int n, d, k;
    int rows;       /* rows per sgemm block */
    float *xnorm;   /* (n) ||x_i||^2 */
    float *dist;    /* (n) squared distance to the nearest centre */
    float *cnorm;   /* (k) ||c_j||^2 */
    float *dots;    /* (rows, k) a block of x.c, then of squared distances */
    double *sums;   /* (k, d) per-cluster sums, in double: n can be large */
    int *counts;    /* (k) */
} kmeans_ws;

/* dots (m, kc) = squared distances of rows row0 .. row0+m of x to the kc
 * centres c (kc, d) of squared norms cn (kc); clamped at 0 against rounding. */
static void sq_dists(const kmeans_ws *w, const float *c, const float *cn, int kc, int row0, int m)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, kc, w->d, 1.0f,
                w->x + (size_t)row0 * w->d, w->d, c, w->d, 0.0f, w->dots, kc);
    for (int i = 0; i < m; i++) {
        float *row = w->dots + (size_t)i * kc;
        for (int j = 0; j < kc; j++)
            row[j] = fmaxf(w->xnorm[row0 + i] - 2.0f * row[j] + cn[j], 0.0f);
    }
}

/* Uniform index in [0, n) from cn_rng_uniform. */
static int uniform_index(cn_rng *rng, int n)
{
    return CN_MIN((int)(cn_rng_uniform(rng) * (float)n), n - 1);
}

/* k-means++: the first centre uniform, each next one drawn with probability
 * proportional to the squared distance to the nearest centre so far. */
static void seed_plusplus(kmeans_ws *w, cn_rng *rng, float *centers)
{
    size_t d = (size_t)w->d;
    int pick = uniform_index(rng, w->n);
    for (int c = 0;; c++) {
        float *cen = centers + c * d;
        memcpy(cen, w->x + (size_t)pick * d, d * sizeof *cen);
        if (c == w->k - 1)
            return;
        float cn = cblas_sdot(w->d, cen, 1, cen, 1);
        double total = 0.0;
        for (int row0 = 0; row0 < w->n; row0 += w->rows) {
            int m = CN_MIN(w->rows, w->n - row0);
            sq_dists(w, cen, &cn, 1, row0, m);
            for (int i = 0; i < m; i++) {
                float *di = &w->dist[row0 + i];
                *di = c == 0 ? w->dots[i] : fminf(*di, w->dots[i]);
                total += *di;
            }
        }
        /* walk the cumulative sum up to r; only points with dist > 0 can be hit.
         * total == 0 (every point on a centre): any point will do. */
        double r = cn_rng_uniform(rng) * total, acc = 0.0;
        pick = total > 0.0 ? 0 : uniform_index(rng, w->n);
        for (int i = 0; i < w->n && total > 0.0; i++) {
            if (w->dist[i] > 0.0f) {
                acc += w->dist[i];
                pick = i;
                if (acc > r)
                    break;
            }
        }
    }
}

/* Assign every point to its nearest centre (ties: lowest index), record its
 * squared distance; returns how many assignments changed. */
static int assign_step(kmeans_ws *w, const float *centers, int *assign)
{
    for (int j = 0; j < w->k; j++)
        w->cnorm[j] = cblas_sdot(w->d, centers + (size_t)j * w->d, 1,
                                 centers + (size_t)j * w->d, 1);
    int changed = 0;
    for (int row0 = 0; row0 < w->n; row0 += w->rows) {
        int m = CN_MIN(w->rows, w->n - row0);
        sq_dists(w, centers, w->cnorm, w->k, row0, m);
        for (int i = 0; i < m; i++) {
            const float *row = w->dots + (size_t)i * w->k;
            int best = 0;
            for (int j = 1; j < w->k; j++)
                if (row[j] < row[best])
                    best = j;
            w->dist[row0 + i] = row[best];
            changed += assign[row0 + i] != best;
            assign[row0 + i] = best;
        }
    }
    return changed;
}

/* Move each centre to the mean of its points. An empty cluster first takes
 * the point farthest from its centre among clusters of two or more points
 * (one exists while k <= n), so no centre is left undefined. */
static void update_step(kmeans_ws *w, int *assign, float *centers)
{
    size_t d = (size_t)w->d;
    memset(w->counts, 0, (size_t)w->k * sizeof *w->counts);
    for (int i = 0; i < w->n; i++)
        w->counts[assign[i]]++;
    for (int j = 0; j < w->k; j++) {
        if (w->counts[j] > 0)
            continue;
        int far = -1;
        for (int i = 0; i < w->n; i++)
            if (w->counts[assign[i]] > 1 && (far < 0 || w->dist[i] > w->dist[far]))
                far = i;
        w->counts[assign[far]]--;
        assign[far] = j;
        w->counts[j] = 1;
    }
    memset(w->sums, 0, (size_t)w->k * d * sizeof *w->sums);
    for (int i = 0; i < w->n; i++) {
        double *s = w->sums + (size_t)assign[i] * d;
        const float *xi = w->x + (size_t)i * d;
        for (size_t t = 0; t < d; t++)
            s[t] += xi[t];
    }
    for (int j = 0; j < w->k; j++)
        for (size_t t = 0; t < d; t++)
            centers[j * d + t] = (float)(w->sums[j * d + t] / w->counts[j]);
}

cn_status cn_kmeans(const float *x, int n, int d, int k, int iters, cn_rng *rng, int *assign,
                    float *centers, cn_error *err)
{
    if (k < 1 || k > n)
        return cn_errorf(err, CN_ERR_USAGE,
                         "kmeans: k = %d clusters for n = %d points; expected 1 <= k <= n", k, n);
    if (d < 1 || iters < 0)
        return cn_errorf(err, CN_ERR_USAGE,
                         "kmeans: dimension d = %d, iters = %d; expected d >= 1 and iters >= 0",
                         d, iters);
    /* 4096 rows per block, fewer for large k: the block stays <= 4M floats */
    kmeans_ws w = {.x = x, .n = n, .d = d, .k = k, .rows = CN_MAX(1, CN_MIN(4096, (1 << 22) / k))};
    float *fw = malloc((2 * (size_t)n + k + (size_t)w.rows * k) * sizeof *fw);
    w.sums = malloc((size_t)k * d * sizeof *w.sums);
    w.counts = malloc((size_t)k * sizeof *w.counts);
    if (!fw || !w.sums || !w.counts) {
        free(fw);
        free(w.sums);
        free(w.counts);
        return cn_errorf(err, CN_ERR_NOMEM, "kmeans: out of memory for n = %d, d = %d, k = %d",
                         n, d, k);
    }
    w.xnorm = fw;
    w.dist = w.xnorm + n;
    w.cnorm = w.dist + n;
    w.dots = w.cnorm + k;
    for (int i = 0; i < n; i++)
        w.xnorm[i] = cblas_sdot(d, x + (size_t)i * d, 1, x + (size_t)i * d, 1);

    seed_plusplus(&w, rng, centers);
    for (int i = 0; i < n; i++)
        assign[i] = -1;
    /* assignment last, so assign always names each point's nearest centre */
    int it = 0;
    while (assign_step(&w, centers, assign) > 0 && it < iters) {
        update_step(&w, assign, centers);
        it++;
    }
    cn_logf(CN_LOG_DEBUG, "kmeans: n = %d, k = %d, %d Lloyd iterations", n, k, it);
    free(fw);
    free(w.sums);
    free(w.counts);
    return CN_OK;
}
