/* registry.c - every loss type, by section name. A new loss is one file in
 * losses/ and one line in LOSS_TYPES below (the order of `cnet doc`).
 */
#include <string.h>

#include "internal.h"

#define LOSS_TYPES(X) \
    X(mse)            \
    X(mae)            \
    X(rmse)           \
    X(huber)          \
    X(bce)            \
    X(cce)            \
    X(kl)             \
    X(l1)             \
    X(l2)             \
    X(entropy)        \
    X(kl_sparse)      \
    X(contractive)    \
    X(log_sparse)     \
    X(kl_gauss)       \
    X(combine)

#define DECLARE(t) extern const cn_loss_ops cn_loss_##t;
LOSS_TYPES(DECLARE)

#define ENTRY(t) &cn_loss_##t,
static const cn_loss_ops *const types[] = {LOSS_TYPES(ENTRY) NULL};

const cn_loss_ops *cn_loss_find(const char *type)
{
    for (int i = 0; types[i]; i++)
        if (strcmp(types[i]->type, type) == 0)
            return types[i];
    return NULL;
}

const cn_loss_ops *const *cn_loss_types(void)
{
    return types;
}
