/* labels.h - semi-supervised label masks of the [data] section
 * (data/labels.c). Internal to data/.
 */
#ifndef CNET_DATA_LABELS_H
#define CNET_DATA_LABELS_H

#include "internal.h"

/* The label keys as read from [data] (read before cn_sec_finish). */
typedef struct cn_label_keys {
    float fraction;   /* label_fraction */
    const char *mask; /* label_mask file, or NULL */
    int line;         /* cfg line of the key in use, for messages */
} cn_label_keys;

/* Read label_fraction and label_mask (not both). */
cn_status cn_label_keys_read(cn_sec *s, cn_label_keys *k, cn_error *err);
/* Keep the labels of the chosen training samples, set the others to -1:
 * round(fraction * n) of the n samples by a shuffle seeded with
 * seed ^ 0x1ABE1, or the indices listed in the mask file. */
cn_status cn_label_keep(cn_dataset *train, const cn_label_keys *k, const char *cfg_file,
                        uint64_t seed, cn_error *err);

#endif
