/* registry.c - the dataset types a [data] section may name.
 *
 * A new type is one file in data/ exporting a `const cn_dataset_ops`, one
 * line below, and its name in the `type` choices of cn_data_common_keys
 * (data/dataset.c).
 */
#include <string.h>

#include "internal.h"

extern const cn_dataset_ops cn_dataset_idx;
extern const cn_dataset_ops cn_dataset_imgdir;
extern const cn_dataset_ops cn_dataset_csv;

static const cn_dataset_ops *const dataset_types[] = {
    &cn_dataset_idx,
    &cn_dataset_imgdir,
    &cn_dataset_csv,
    NULL,
};

const cn_dataset_ops *const *cn_dataset_types(void)
{
    return dataset_types;
}

const cn_dataset_ops *cn_dataset_find(const char *type)
{
    for (int i = 0; type && dataset_types[i]; i++)
        if (!strcmp(dataset_types[i]->type, type))
            return dataset_types[i];
    return NULL;
}
