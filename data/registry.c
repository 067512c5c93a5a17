/* registry.c - the dataset types a [data] section may name.
 *
 * A new type is one file in data/ exporting cn_dataset_<type> and one line
 * in DATASET_TYPES below (the order of `cnet doc` and of the `type` key's
 * choices). A program linking libcnet adds its own with cn_dataset_register
 * (src/register.c).
 */
#include <string.h>

#include "internal.h"

#define DATASET_TYPES(X) \
    X(idx)               \
    X(imgdir)            \
    X(csv)

#define DECLARE(t) extern const cn_dataset_ops cn_dataset_##t;
DATASET_TYPES(DECLARE)

#define ENTRY(t) &cn_dataset_##t,
#define ONE(t) +1
enum { N_BUILTIN = 0 DATASET_TYPES(ONE) };

/* Built-ins, then the registered types, then NULL. */
static const cn_dataset_ops *dataset_types[N_BUILTIN + CN_REGISTER_MAX + 1] = {
    DATASET_TYPES(ENTRY) NULL};
static int n_types = N_BUILTIN;

/* "|idx|imgdir|csv" and every registered type after: the `type` key of
 * cn_data_common_keys reads it from its second character. */
#define CHOICE(t) "|" #t
char cn_dataset_choices_[sizeof(DATASET_TYPES(CHOICE)) + CN_REGISTER_MAX * CN_NAME_MAX] =
    DATASET_TYPES(CHOICE);

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

int cn_dataset_types_add(const cn_dataset_ops *ops)
{
    if (n_types - N_BUILTIN >= CN_REGISTER_MAX)
        return -1;
    /* room: CN_NAME_MAX per registered type, '|' included (names are shorter) */
    size_t len = strlen(cn_dataset_choices_);
    snprintf(cn_dataset_choices_ + len, sizeof cn_dataset_choices_ - len, "|%s", ops->type);
    dataset_types[n_types++] = ops;
    return 0;
}
