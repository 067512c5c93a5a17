/* registry.c - every loss type, by section name. A new loss is one file in
 * losses/ and one line in LOSS_TYPES below (the order of `cnet doc`). A
 * program linking libcnet adds its own with cn_loss_register (src/register.c,
 * which checks them and appends them here, after the built-ins).
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
#define ONE(t) +1
enum { N_BUILTIN = 0 LOSS_TYPES(ONE) };

/* Built-ins, then the registered types, then NULL. */
static const cn_loss_ops *types[N_BUILTIN + CN_REGISTER_MAX + 1] = {LOSS_TYPES(ENTRY) NULL};
static int n_types = N_BUILTIN;

const cn_loss_ops *cn_loss_find(const char *type)
{
    for (int i = 0; type && types[i]; i++)
        if (strcmp(types[i]->type, type) == 0)
            return types[i];
    return NULL;
}

const cn_loss_ops *const *cn_loss_types(void)
{
    return types;
}

int cn_loss_types_add(const cn_loss_ops *ops)
{
    if (n_types - N_BUILTIN >= CN_REGISTER_MAX)
        return -1;
    types[n_types++] = ops;
    return 0;
}
