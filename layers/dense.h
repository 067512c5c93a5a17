/* dense.h - the [dense] layer's state, shared by dense.c (the products,
 * forward and backward) and dense_refs.c (reading its output size, or
 * taking it with the weights from another layer: tie and share). Not part
 * of the public API.
 */
#ifndef CNET_LAYERS_DENSE_H
#define CNET_LAYERS_DENSE_H

#include "internal.h"

extern const cn_layer_ops cn_layer_dense;

typedef struct dense_state {
    cn_act act;
    float param;   /* sigmoid gain or leaky slope */
    int in, out;   /* K and N */
    int tied;      /* W is another layer's (K, N) weight, used transposed */
    int shared;    /* W and b are another layer's, used as they are (share=) */
    cn_param *W;   /* (N, K) own, or (K, N) tied; a param pointer because the
                      shared value/grad are only placed after build */
    cn_param *b;   /* (N) or NULL */
} dense_state;

/* The output size and where W and b come from: share=L (L's state as it
 * is), tie=L (L's W transposed) or the key output; st->act, st->param and
 * st->in are read already, `bias` is the key bias. Errors cite the key. */
cn_status cn_dense_resolve(cn_layer *l, cn_sec *s, cn_build *b, dense_state *st, int bias,
                           cn_error *err);

#endif
