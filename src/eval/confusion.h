/* confusion.h - the confusion matrix of a classifier and its per-class
 * precision, recall and F1 (src/eval/confusion.c). Internal to src/eval/ (eval.c).
 */
#ifndef CNET_CONFUSION_H
#define CNET_CONFUSION_H

#include "cnet/cnet.h"
#include "internal.h"

/* Per-class metrics are reported up to this many classes (macro ones always). */
#define CN_CONFUSION_PER_CLASS_MAX 20

typedef struct cn_confusion {
    int k;     /* classes */
    double *m; /* (k, k) counts: row = true class, column = predicted class */
} cn_confusion;

cn_status cn_confusion_init(cn_confusion *c, int k, cn_error *err);
/* Count one sample (classes outside [0, k) are ignored). */
void cn_confusion_add(cn_confusion *c, int truth, int pred);
/* Put macro_precision, macro_recall, macro_f1, then precision_c<i>,
 * recall_c<i>, f1_c<i> of each class (when k <= 20) into out. */
void cn_confusion_put(const cn_confusion *c, cn_metrics *out);
void cn_confusion_free(cn_confusion *c);

#endif
