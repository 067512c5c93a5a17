/* cluster.h - scoring a clustering against labels, and k-means
 * (src/eval/cluster.c). */
#ifndef CNET_EVAL_CLUSTER_H
#define CNET_EVAL_CLUSTER_H

#include "cnet/cnet.h"
#include "internal.h"
#include "match.h" /* cn_hungarian, cn_cluster_acc */

/* Normalised mutual information (arithmetic-mean normalisation). */
double cn_cluster_nmi(const int *pred, int k_pred, const int *labels, int k, int n);
/* Adjusted Rand index. */
double cn_cluster_ari(const int *pred, int k_pred, const int *labels, int k, int n);
/* k-means (k-means++ seeding from rng, Lloyd iterations with BLAS distances)
 * on x (n, d); assign (n) and centers (k, d) are written. */
cn_status cn_kmeans(const float *x, int n, int d, int k, int iters, cn_rng *rng, int *assign,
                    float *centers, cn_error *err);

#endif
