/* match.h - the Hungarian method and clustering accuracy (src/match.c). */
#ifndef CNET_MATCH_H
#define CNET_MATCH_H

#include "internal.h"

/* The index of the largest of x[0..n) (the first of equals). */
int cn_argmax(const float *x, size_t n);
/* Minimum-cost assignment of an n x n cost matrix (Hungarian method):
 * assign[row] = column. */
void cn_hungarian(const double *cost, int n, int *assign);
/* Clustering accuracy: best one-to-one map of predicted to true classes
 * (Hungarian), labels in [0, k). pred values in [0, k_pred). */
double cn_cluster_acc(const int *pred, int k_pred, const int *labels, int k, int n);
/* The (k_pred, k) table of counts followed by its row sums (k_pred) and
 * column sums (k), calloc'd; NULL on bad input or no memory. */
long *cn_contingency(const int *pred, int k_pred, const int *labels, int k, int n);

#endif
