/* registry.c - the layer types a cfg section can name. Adding a layer type
 * is one file in layers/ exporting cn_layer_<type> and one line in
 * LAYER_TYPES below (the order of `cnet doc`). A program linking libcnet
 * adds its own with cn_layer_register (src/register.c, which checks them
 * and appends them here, after the built-ins).
 */
#include <string.h>

#include "internal.h"

#define LAYER_TYPES(X) \
    X(dense)           \
    X(sigmoid)         \
    X(tanh)            \
    X(relu)            \
    X(leaky)           \
    X(linear)          \
    X(softmax)         \
    X(route)           \
    X(noise)           \
    X(dropout)         \
    X(reshape)         \
    X(grad_reverse)    \
    X(batchnorm)       \
    X(conv)            \
    X(deconv)          \
    X(maxpool)         \
    X(avgpool)         \
    X(upsample)        \
    X(code)            \
    X(lca)             \
    X(dict)            \
    X(l2norm)          \
    X(sample)          \
    X(onehot)          \
    X(prior)           \
    X(constant)

#define DECLARE(t) extern const cn_layer_ops cn_layer_##t;
LAYER_TYPES(DECLARE)

#define ENTRY(t) &cn_layer_##t,
#define ONE(t) +1
enum { N_BUILTIN = 0 LAYER_TYPES(ONE) };

/* Built-ins, then the registered types, then NULL. */
static const cn_layer_ops *types[N_BUILTIN + CN_REGISTER_MAX + 1] = {LAYER_TYPES(ENTRY) NULL};
static int n_types = N_BUILTIN;

const cn_layer_ops *cn_layer_find(const char *type)
{
    for (int i = 0; type && types[i]; i++)
        if (strcmp(types[i]->type, type) == 0)
            return types[i];
    return NULL;
}

const cn_layer_ops *const *cn_layer_types(void)
{
    return types;
}

int cn_layer_types_add(const cn_layer_ops *ops)
{
    if (n_types - N_BUILTIN >= CN_REGISTER_MAX)
        return -1;
    types[n_types++] = ops;
    return 0;
}
