/* confusion.c - per-class scores of a classifier from its confusion matrix
 * M (row = true class, column = predicted class):
 *
 *   precision_c = M_cc / sum_r M_rc   (of the samples predicted c, the right ones)
 *   recall_c    = M_cc / sum_j M_cj   (of the samples of class c, the found ones)
 *   f1_c        = 2 precision_c recall_c / (precision_c + recall_c)
 *
 * A ratio with a zero denominator counts as 0 (scikit-learn's
 * zero_division=0). The macro scores are the plain means over the classes
 * that occur, as a true or as a predicted class (scikit-learn's average=
 * "macro" over the labels present); accuracy is reported separately.
 */
#include <stdlib.h>

#include "confusion.h"

cn_status cn_confusion_init(cn_confusion *c, int k, cn_error *err)
{
    c->k = k;
    c->m = calloc((size_t)k * (size_t)k, sizeof *c->m);
    if (!c->m)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for a %d-class confusion matrix", k);
    return CN_OK;
}

void cn_confusion_add(cn_confusion *c, int truth, int pred)
{
    if (truth >= 0 && truth < c->k && pred >= 0 && pred < c->k)
        c->m[(size_t)truth * c->k + pred] += 1.0;
}

static double ratio(double a, double b)
{
    return b > 0.0 ? a / b : 0.0;
}

/* Precision, recall and F1 of class i; returns 1 when the class occurs. */
static int scores(const cn_confusion *c, int i, double *p, double *r, double *f)
{
    int k = c->k;
    double tp = c->m[(size_t)i * k + i], row = 0.0, col = 0.0;
    for (int j = 0; j < k; j++) {
        row += c->m[(size_t)i * k + j];
        col += c->m[(size_t)j * k + i];
    }
    *p = ratio(tp, col), *r = ratio(tp, row), *f = ratio(2.0 * *p * *r, *p + *r);
    return row > 0.0 || col > 0.0;
}

void cn_confusion_put(const cn_confusion *c, cn_metrics *out)
{
    int present = 0;
    double p, r, f, sum_p = 0.0, sum_r = 0.0, sum_f = 0.0;
    for (int i = 0; i < c->k; i++)
        if (scores(c, i, &p, &r, &f)) {
            present++;
            sum_p += p, sum_r += r, sum_f += f;
        }
    cn_metrics_put(out, "macro_precision", ratio(sum_p, present));
    cn_metrics_put(out, "macro_recall", ratio(sum_r, present));
    cn_metrics_put(out, "macro_f1", ratio(sum_f, present));
    for (int i = 0; c->k <= CN_CONFUSION_PER_CLASS_MAX && i < c->k; i++) {
        char name[48];
        scores(c, i, &p, &r, &f);
        snprintf(name, sizeof name, "precision_c%d", i);
        cn_metrics_put(out, name, p);
        snprintf(name, sizeof name, "recall_c%d", i);
        cn_metrics_put(out, name, r);
        snprintf(name, sizeof name, "f1_c%d", i);
        cn_metrics_put(out, name, f);
    }
}

void cn_confusion_free(cn_confusion *c)
{
    free(c->m);
    c->m = NULL;
}
