/* match.c - matching predicted classes to true ones: the Hungarian method
 * and the clustering accuracy it gives, shared by the train loop's
 * validation (src/valid.c) and evaluation (src/eval/).
 *
 * Hungarian method (Kuhn-Munkres, the O(n^3) potentials + augmenting-path
 * form): keep row potentials u and column potentials v with
 * cost[i][j] - u[i] - v[j] >= 0; add rows one at a time, growing a
 * Dijkstra-like tree of tight edges until a free column is reached, then
 * flip the path. The result minimises sum_i cost[i][assign[i]].
 *
 * ACC = max over one-to-one maps m of sum_i n_{i,m(i)} / N (Hungarian on
 * -n_ij, the contingency table of predicted i and true j). Invalid input
 * and allocation failure give NAN.
 */
#include <math.h>
#include <stdlib.h>

#include "match.h"

int cn_argmax(const float *x, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return (int)best;
}

/* Hungarian with caller-provided work space: u, v, minv (n+1 doubles each),
 * p, way, used (n+1 ints each). Index 0 is the virtual row/column. */
static void hungarian_ws(const double *cost, int n, int *assign, double *u, double *v,
                         double *minv, int *p, int *way, int *used)
{
    for (int j = 0; j <= n; j++) {
        u[j] = v[j] = 0.0;
        p[j] = way[j] = 0;
    }
    for (int i = 1; i <= n; i++) {
        p[0] = i;
        int j0 = 0;
        for (int j = 0; j <= n; j++) {
            minv[j] = HUGE_VAL;
            used[j] = 0;
        }
        do {
            used[j0] = 1;
            int i0 = p[j0], j1 = 0;
            double delta = HUGE_VAL;
            for (int j = 1; j <= n; j++) {
                if (used[j])
                    continue;
                double cur = cost[(size_t)(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                /* j1 == 0: always pick some column, so non-finite costs still end */
                if (j1 == 0 || minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for (int j = 0; j <= n; j++) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (p[j0] != 0);
        do { /* flip the augmenting path back to the root */
            int j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
    for (int j = 1; j <= n; j++)
        assign[p[j] - 1] = j - 1;
}

/* On allocation failure every assign[row] is -1 (the function has no status). */
void cn_hungarian(const double *cost, int n, int *assign)
{
    if (n < 1)
        return;
    double *dw = malloc(3 * ((size_t)n + 1) * sizeof *dw);
    int *iw = malloc(3 * ((size_t)n + 1) * sizeof *iw);
    if (!dw || !iw) {
        for (int i = 0; i < n; i++)
            assign[i] = -1;
    } else {
        size_t s = (size_t)n + 1;
        hungarian_ws(cost, n, assign, dw, dw + s, dw + 2 * s, iw, iw + s, iw + 2 * s);
    }
    free(dw);
    free(iw);
}

/* The (k_pred, k) table of counts followed by its row sums a (k_pred) and
 * column sums b (k), calloc'd; NULL on bad input or no memory. */
long *cn_contingency(const int *pred, int k_pred, const int *labels, int k, int n)
{
    if (n < 1 || k_pred < 1 || k < 1)
        return NULL;
    size_t cells = (size_t)k_pred * k;
    long *t = calloc(cells + k_pred + k, sizeof *t);
    if (!t)
        return NULL;
    long *a = t + cells, *b = a + k_pred;
    for (int s = 0; s < n; s++) {
        if (pred[s] < 0 || pred[s] >= k_pred || labels[s] < 0 || labels[s] >= k) {
            free(t);
            return NULL;
        }
        t[(size_t)pred[s] * k + labels[s]]++;
        a[pred[s]]++;
        b[labels[s]]++;
    }
    return t;
}

double cn_cluster_acc(const int *pred, int k_pred, const int *labels, int k, int n)
{
    long *t = cn_contingency(pred, k_pred, labels, k, n);
    if (!t)
        return NAN;
    /* square m x m cost -counts, zero rows/columns padding the smaller side */
    size_t m = (size_t)CN_MAX(k_pred, k), s = m + 1;
    double *cost = calloc(m * m + 3 * s, sizeof *cost); /* (m, m) then u, v, minv */
    int *iw = malloc((4 * s) * sizeof *iw);             /* assign (m), p, way, used */
    double acc = NAN;
    if (cost && iw) {
        for (int i = 0; i < k_pred; i++)
            for (int j = 0; j < k; j++)
                cost[i * m + j] = -(double)t[(size_t)i * k + j];
        double *w = cost + m * m;
        hungarian_ws(cost, (int)m, iw, w, w + s, w + 2 * s, iw + s, iw + 2 * s, iw + 3 * s);
        long matched = 0;
        for (int i = 0; i < k_pred; i++)
            if (iw[i] < k)
                matched += t[(size_t)i * k + iw[i]];
        acc = (double)matched / n;
    }
    free(cost);
    free(iw);
    free(t);
    return acc;
}

