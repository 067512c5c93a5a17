/* check_cluster.c - the Hungarian method, ACC/NMI/ARI and k-means.
 *
 * Hungarian: known optima and brute force over all 720 permutations of 6x6
 * matrices. NMI/ARI: literals computed with sklearn's formulas re-implemented
 * in numpy (normalized_mutual_info_score with arithmetic averaging, and
 * adjusted_rand_score through pair_confusion_matrix, an independent route to
 * the same number). k-means: Gaussian blobs drawn from cn_rng are recovered.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "eval/cluster.h"

/* Total cost of an assignment; -1 marks a row with an invalid column. */
static double assign_cost(const double *cost, int n, const int *assign)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) {
        ck_assert_int_ge(assign[i], 0);
        ck_assert_int_lt(assign[i], n);
        s += cost[i * n + assign[i]];
    }
    return s;
}

static void assert_permutation(const int *assign, int n)
{
    int seen[64] = {0};
    for (int i = 0; i < n; i++) {
        ck_assert(assign[i] >= 0 && assign[i] < n);
        ck_assert_msg(!seen[assign[i]], "column %d assigned twice", assign[i]);
        seen[assign[i]] = 1;
    }
}

/* Minimum over every permutation of 0..n-1 (Heap's algorithm, iterative). */
static double brute_min(const double *cost, int n)
{
    int perm[8], c[8] = {0};
    for (int i = 0; i < n; i++)
        perm[i] = i;
    double best = assign_cost(cost, n, perm);
    for (int i = 1; i < n;) {
        if (c[i] < i) {
            int j = i % 2 ? c[i] : 0, t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
            best = fmin(best, assign_cost(cost, n, perm));
            c[i]++;
            i = 1;
        } else {
            c[i++] = 0;
        }
    }
    return best;
}

START_TEST(test_hungarian_small)
{
    int a1[1] = {-7};
    double c1[1] = {3.5};
    cn_hungarian(c1, 1, a1);
    ck_assert_int_eq(a1[0], 0);

    /* unique optimum 1 + 2 + 2 = 5: rows 0, 1, 2 -> columns 1, 0, 2 */
    double c3[9] = {4, 1, 3, 2, 0, 5, 3, 2, 2};
    int a3[3];
    cn_hungarian(c3, 3, a3);
    ck_assert_int_eq(a3[0], 1);
    ck_assert_int_eq(a3[1], 0);
    ck_assert_int_eq(a3[2], 2);

    /* 40x40 with a single zero per row along a random permutation, 1 elsewhere */
    enum { N = 40 };
    static double c40[N * N];
    int perm[N], a40[N];
    cn_rng rng;
    cn_rng_seed(&rng, 40);
    for (int i = 0; i < N; i++)
        perm[i] = i;
    cn_rng_shuffle(&rng, perm, N);
    for (int i = 0; i < N * N; i++)
        c40[i] = 1.0;
    for (int i = 0; i < N; i++)
        c40[i * N + perm[i]] = 0.0;
    cn_hungarian(c40, N, a40);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(a40[i], perm[i]);
}
END_TEST

/* 6x6: continuous costs (unique optimum) and small integers (many ties). */
START_TEST(test_hungarian_brute_force)
{
    cn_rng rng;
    cn_rng_seed(&rng, 1000 + (uint64_t)_i);
    double cost[36];
    for (int i = 0; i < 36; i++)
        cost[i] = _i % 2 ? (double)cn_rng_below(&rng, 4) : 10.0 * cn_rng_uniform(&rng) - 5.0;
    int assign[6];
    cn_hungarian(cost, 6, assign);
    assert_permutation(assign, 6);
    ck_assert_double_eq_tol(assign_cost(cost, 6, assign), brute_min(cost, 6), 1e-9);
}
END_TEST

/* Expand a (kp, k) count table into pred/labels arrays; returns n. */
static int expand(const int *table, int kp, int k, int *pred, int *labels)
{
    int n = 0;
    for (int i = 0; i < kp; i++)
        for (int j = 0; j < k; j++)
            for (int c = 0; c < table[i * k + j]; c++, n++) {
                pred[n] = i;
                labels[n] = j;
            }
    return n;
}

START_TEST(test_acc)
{
    enum { N = 300, K = 7, KP = 9 };
    int labels[N], pred[N], map[KP];
    cn_rng rng;
    cn_rng_seed(&rng, 7);
    for (int i = 0; i < KP; i++)
        map[i] = i;
    cn_rng_shuffle(&rng, map, KP);
    for (int i = 0; i < N; i++) {
        labels[i] = (int)cn_rng_below(&rng, K);
        pred[i] = map[labels[i]];
    }
    /* a renaming, into the same or a larger set of cluster ids, is perfect */
    ck_assert_double_eq_tol(cn_cluster_acc(pred, KP, labels, K, N), 1.0, 1e-12);
    for (int i = 0; i < N; i++)
        pred[i] = K - 1 - labels[i];
    ck_assert_double_eq_tol(cn_cluster_acc(pred, K, labels, K, N), 1.0, 1e-12);

    /* 3 clusters, 2 classes (padded to 3x3): best 5 + 4 of 15 */
    int l[32], p[32];
    const int t1[] = {5, 1, 2, 4, 3, 0};
    int n = expand(t1, 3, 2, p, l);
    ck_assert_double_eq_tol(cn_cluster_acc(p, 3, l, 2, n), 9.0 / 15.0, 1e-12);
    /* greedy would take 6 + 0; the optimum crosses over: 5 + 5 of 16 */
    const int t2[] = {6, 5, 5, 0};
    n = expand(t2, 2, 2, p, l);
    ck_assert_double_eq_tol(cn_cluster_acc(p, 2, l, 2, n), 10.0 / 16.0, 1e-12);
    /* 1 cluster, 3 classes (padded to 3x3): the largest class, 4 of 7 */
    const int t3[] = {2, 4, 1};
    n = expand(t3, 1, 3, p, l);
    ck_assert_double_eq_tol(cn_cluster_acc(p, 1, l, 3, n), 4.0 / 7.0, 1e-12);

    /* invalid input is NAN, not a score */
    p[0] = 1;
    ck_assert(isnan(cn_cluster_acc(p, 1, l, 3, n)));
    ck_assert(isnan(cn_cluster_acc(p, 2, l, 3, 0)));
}
END_TEST

/* Fixed examples: truth, prediction, sklearn's NMI and ARI. */
static const struct {
    int n, k, kp;
    int truth[16], pred[16];
    double nmi, ari;
} examples[] = {
    {4, 3, 2, {0, 0, 1, 2}, {0, 0, 1, 1}, 0.8000000000000002, 0.5714285714285714},
    {10, 3, 4, {0, 0, 0, 1, 1, 1, 2, 2, 2, 2}, {1, 1, 0, 0, 0, 2, 2, 2, 3, 3},
     0.5759466679735674, 0.23728813559322035},
    {12, 3, 2, {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}, {0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1},
     0.03524240158166023, -0.07608695652173914},
    /* k larger than the labels used: empty classes change nothing */
    {15, 6, 3, {0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3},
     {2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 2, 0}, 0.44288991335845834, 0.22291993720565148},
    {4, 1, 4, {0, 0, 0, 0}, {0, 1, 2, 3}, 0.0, 0.0},
    {4, 4, 4, {0, 1, 2, 3}, {3, 2, 1, 0}, 1.0, 1.0},
    /* both partitions trivial: one cluster each (sklearn's special case) */
    {5, 2, 3, {1, 1, 1, 1, 1}, {2, 2, 2, 2, 2}, 1.0, 1.0},
};

START_TEST(test_nmi_ari_examples)
{
    const int e = _i;
    const int *t = examples[e].truth, *p = examples[e].pred;
    int n = examples[e].n, k = examples[e].k, kp = examples[e].kp;
    ck_assert_double_eq_tol(cn_cluster_nmi(p, kp, t, k, n), examples[e].nmi, 1e-12);
    ck_assert_double_eq_tol(cn_cluster_ari(p, kp, t, k, n), examples[e].ari, 1e-12);
    /* both are symmetric in their two arguments */
    ck_assert_double_eq_tol(cn_cluster_nmi(t, k, p, kp, n), examples[e].nmi, 1e-12);
    ck_assert_double_eq_tol(cn_cluster_ari(t, k, p, kp, n), examples[e].ari, 1e-12);
}
END_TEST

START_TEST(test_nmi_ari_random_and_invalid)
{
    enum { N = 20000, K = 10 };
    static int a[N], b[N];
    cn_rng rng;
    cn_rng_seed(&rng, 3);
    for (int i = 0; i < N; i++) {
        a[i] = (int)cn_rng_below(&rng, K);
        b[i] = (int)cn_rng_below(&rng, K);
    }
    /* independent labellings: ARI is ~0 by construction, NMI has a small bias */
    double ari = cn_cluster_ari(a, K, b, K, N), nmi = cn_cluster_nmi(a, K, b, K, N);
    ck_assert_msg(fabs(ari) < 0.005, "ARI of random labels = %g", ari);
    ck_assert_msg(nmi >= 0.0 && nmi < 0.01, "NMI of random labels = %g", nmi);
    ck_assert_double_eq_tol(cn_cluster_ari(a, K, a, K, N), 1.0, 1e-12);
    ck_assert_double_eq_tol(cn_cluster_nmi(a, K, a, K, N), 1.0, 1e-12);

    b[17] = K;
    ck_assert(isnan(cn_cluster_ari(a, K, b, K, N)));
    ck_assert(isnan(cn_cluster_nmi(a, K, b, K, N)));
    ck_assert(isnan(cn_cluster_nmi(a, K, a, K, 0)));
}
END_TEST

/* n points of 3 blobs in d dims: centre c is 10 * e_c, noise N(0, 0.5^2). */
static float *blobs(int n, int d, uint64_t seed, int *labels)
{
    float *x = malloc((size_t)n * d * sizeof *x);
    ck_assert_ptr_nonnull(x);
    cn_rng rng;
    cn_rng_seed(&rng, seed);
    for (int i = 0; i < n; i++) {
        labels[i] = (int)cn_rng_below(&rng, 3);
        for (int j = 0; j < d; j++)
            x[i * d + j] = 0.5f * cn_rng_normal(&rng) + (j == labels[i] ? 10.0f : 0.0f);
    }
    return x;
}

START_TEST(test_kmeans_blobs)
{
    enum { N = 300, D = 5, K = 3 };
    int labels[N], assign[N], assign2[N];
    float centers[K * D], centers2[K * D];
    float *x = blobs(N, D, 11, labels);
    cn_rng rng;
    cn_error err;
    cn_rng_seed(&rng, 5);
    ck_assert_int_eq(cn_kmeans(x, N, D, K, 100, &rng, assign, centers, &err), CN_OK);
    ck_assert_double_eq_tol(cn_cluster_acc(assign, K, labels, K, N), 1.0, 1e-12);
    /* each centre sits near its blob's mean 10 * e_c */
    for (int c = 0; c < K; c++) {
        int blob = labels[0];
        for (int i = 0; i < N; i++)
            if (assign[i] == c)
                blob = labels[i];
        for (int j = 0; j < D; j++)
            ck_assert_float_eq_tol(centers[c * D + j], j == blob ? 10.0f : 0.0f, 0.2f);
    }
    /* the same seed gives the same result, bit for bit */
    cn_rng_seed(&rng, 5);
    ck_assert_int_eq(cn_kmeans(x, N, D, K, 100, &rng, assign2, centers2, &err), CN_OK);
    ck_assert_mem_eq(assign, assign2, sizeof assign);
    ck_assert_mem_eq(centers, centers2, sizeof centers);
    free(x);
}
END_TEST

/* More rows than one 4096-row sgemm block: every point is assigned to its
 * nearest centre (checked in double) and each centre is its points' mean. */
START_TEST(test_kmeans_blocks)
{
    enum { N = 2 * 4096 + 7, D = 8, K = 3 };
    static int labels[N], assign[N];
    float centers[K * D];
    float *x = blobs(N, D, 12, labels);
    cn_rng rng;
    cn_rng_seed(&rng, 6);
    ck_assert_int_eq(cn_kmeans(x, N, D, K, 50, &rng, assign, centers, NULL), CN_OK);
    double mean[K * D] = {0};
    int count[K] = {0};
    for (int i = 0; i < N; i++) {
        double best = HUGE_VAL, mine = 0.0;
        for (int c = 0; c < K; c++) {
            double s = 0.0;
            for (int j = 0; j < D; j++) {
                double diff = (double)x[i * D + j] - centers[c * D + j];
                s += diff * diff;
            }
            best = fmin(best, s);
            if (c == assign[i])
                mine = s;
        }
        ck_assert_msg(mine <= best + 1e-3, "point %d: %g to its centre, %g to the nearest", i,
                      mine, best);
        count[assign[i]]++;
        for (int j = 0; j < D; j++)
            mean[assign[i] * D + j] += x[i * D + j];
    }
    for (int c = 0; c < K; c++) {
        ck_assert_int_gt(count[c], 0);
        for (int j = 0; j < D; j++)
            ck_assert_double_eq_tol(centers[c * D + j], mean[c * D + j] / count[c], 1e-4);
    }
    ck_assert_double_eq_tol(cn_cluster_acc(assign, K, labels, K, N), 1.0, 1e-12);
    free(x);
}
END_TEST

/* Duplicated points: seeding runs out of distinct points and a cluster
 * empties; it is re-seeded and the result stays well defined. */
START_TEST(test_kmeans_degenerate)
{
    float x[6] = {1, 1, 1, 1, 1, 9};
    int assign[6];
    float centers[3];
    cn_rng rng;
    cn_rng_seed(&rng, 2);
    ck_assert_int_eq(cn_kmeans(x, 6, 1, 3, 10, &rng, assign, centers, NULL), CN_OK);
    for (int i = 0; i < 6; i++) {
        ck_assert(assign[i] >= 0 && assign[i] < 3);
        ck_assert_float_eq(centers[assign[i]], x[i]);
    }
    ck_assert_int_ne(assign[5], assign[0]);

    /* k = n: every point its own cluster */
    float y[5] = {0, 3, 7, 12, 20};
    int a5[5], seen[5] = {0};
    float c5[5];
    ck_assert_int_eq(cn_kmeans(y, 5, 1, 5, 10, &rng, a5, c5, NULL), CN_OK);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(seen[a5[i]]++, 0);
        ck_assert_float_eq(c5[a5[i]], y[i]);
    }
}
END_TEST

START_TEST(test_kmeans_errors)
{
    float x[6] = {0};
    int assign[3];
    float centers[10];
    cn_rng rng;
    cn_error err;
    cn_rng_seed(&rng, 1);
    ck_assert_int_eq(cn_kmeans(x, 3, 2, 5, 10, &rng, assign, centers, &err), CN_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "k = 5"));
    ck_assert_ptr_nonnull(strstr(err.msg, "n = 3"));
    ck_assert_ptr_nonnull(strstr(err.msg, "expected 1 <= k <= n"));
    ck_assert_int_eq(cn_kmeans(x, 3, 2, 0, 10, &rng, assign, centers, &err), CN_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "k = 0"));
    ck_assert_int_eq(cn_kmeans(x, 3, 0, 2, 10, &rng, assign, centers, &err), CN_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "d = 0"));
}
END_TEST

Suite *cluster_suite(void)
{
    Suite *s = suite_create("cluster");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, test_hungarian_small);
    tcase_add_loop_test(tc, test_hungarian_brute_force, 0, 20);
    tcase_add_test(tc, test_acc);
    tcase_add_loop_test(tc, test_nmi_ari_examples, 0,
                        (int)(sizeof examples / sizeof examples[0]));
    tcase_add_test(tc, test_nmi_ari_random_and_invalid);
    suite_add_tcase(s, tc);
    tc = tcase_create("kmeans");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_kmeans_blobs);
    tcase_add_test(tc, test_kmeans_blocks);
    tcase_add_test(tc, test_kmeans_degenerate);
    tcase_add_test(tc, test_kmeans_errors);
    suite_add_tcase(s, tc);
    return s;
}
