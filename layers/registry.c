/* registry.c - the layer types a cfg section can name. Adding a layer type
 * is one file in layers/ and one line in the table below. */
#include <string.h>

#include "internal.h"

extern const cn_layer_ops cn_layer_batchnorm;
extern const cn_layer_ops cn_layer_dense, cn_layer_sigmoid, cn_layer_tanh, cn_layer_relu,
    cn_layer_leaky, cn_layer_linear, cn_layer_softmax, cn_layer_route, cn_layer_noise;
extern const cn_layer_ops cn_layer_conv, cn_layer_deconv, cn_layer_maxpool, cn_layer_avgpool,
    cn_layer_upsample;
extern const cn_layer_ops cn_layer_code, cn_layer_sample;

static const cn_layer_ops *const types[] = {
    &cn_layer_dense,
    &cn_layer_sigmoid,
    &cn_layer_tanh,
    &cn_layer_relu,
    &cn_layer_leaky,
    &cn_layer_linear,
    &cn_layer_softmax,
    &cn_layer_route,
    &cn_layer_noise,
    &cn_layer_batchnorm,
    &cn_layer_conv,
    &cn_layer_deconv,
    &cn_layer_maxpool,
    &cn_layer_avgpool,
    &cn_layer_upsample,
    &cn_layer_code,
    &cn_layer_sample,
    NULL,
};

const cn_layer_ops *cn_layer_find(const char *type)
{
    for (int i = 0; types[i]; i++)
        if (strcmp(types[i]->type, type) == 0)
            return types[i];
    return NULL;
}

const cn_layer_ops *const *cn_layer_types(void)
{
    return types;
}
