/* registry.c - every loss type, by section name. A new loss is one file in
 * losses/ and one line in LOSS_TYPES below (the order of `cnet doc`). A
 * program linking libcnet adds its own with cn_loss_register; they follow
 * the built-ins.
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

cn_status cn_loss_register(const cn_loss_ops *ops, cn_error *err)
{
    static const char fn[] = "cn_loss_register";
    if (!ops)
        return cn_errorf(err, CN_ERR_CFG, "%s: NULL ops", fn);
    cn_status st = cn_section_type_free(fn, ops->type, err);
    if (st)
        return st;
    /* the net calls both for every loss (a layer's backward may be NULL) */
    if (!ops->forward || !ops->backward)
        return cn_errorf(err, CN_ERR_CFG, "%s: loss type '%s' has no %s", fn, ops->type,
                         ops->forward ? "backward" : "forward");
    if (!ops->targets || !(ops->targets & CN_TARGETS(ops->target_default)))
        return cn_errorf(err, CN_ERR_CFG, "%s: loss type '%s' does not accept its default "
                         "target (targets = 0x%x)", fn, ops->type, ops->targets);
    if (n_types - N_BUILTIN >= CN_REGISTER_MAX)
        return cn_errorf(err, CN_ERR_CFG, "%s: cannot add '%s': at most %d loss types can be "
                         "registered", fn, ops->type, CN_REGISTER_MAX);
    types[n_types++] = ops;
    return CN_OK;
}
