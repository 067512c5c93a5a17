/* conv.h - the [conv] layer's state, shared by conv.c (setup, im2col +
 * GEMM) and conv_wino.c (its Winograd F(4x4, 5x5) path). Not part of the
 * public API.
 */
#ifndef CNET_LAYERS_CONV_H
#define CNET_LAYERS_CONV_H

#include "im2col.h"
#include "winograd.h"

typedef struct conv_state {
    cn_act act;
    float param;    /* sigmoid gain or leaky slope */
    cn_conv_geom g; /* over the input: C x H x W -> Ho x Wo positions */
    int F;          /* filters */
    int group;      /* samples per lowered product */
    size_t slice;   /* scratch floats of one thread: (K + F) rows of cn_col_ld + work */
    size_t work;    /* floats of cn_im2col's work area, at the slice's end */
    cn_param *W;    /* (F, C, k, k): own, or the one of the [conv] it shares */
    cn_param *b;    /* (F) or NULL */
    int shared;     /* W and b are an earlier [conv]'s (share=) */
    int wino;       /* Winograd instead of im2col */
    cn_wino_plan fwd, bwd; /* X -> Y, and dY -> dX with the turned filters */
    size_t regA, regB;     /* Winograd slice: (V | V') (M | D | M') dU work */
} conv_state;

extern const cn_layer_ops cn_layer_conv;

/* A thread's work area, at the end of its slice. */
float *cn_conv_slice_work(const cn_layer *l, int part);
/* The start of every backward part: this thread's samples [*lo, *hi), where
 * its dW, db go, and dZ = dY * f'(Y) with its bias gradient over them. */
void cn_conv_backward_begin(const cn_layer_task *t, int part, int parts, float **dW, float **db,
                            int *lo, int *hi);

/* Winograd's plans and the scratch for groups of samples (conv_wino.c). */
cn_status cn_conv_wino_setup(cn_layer *l, conv_state *st, int batch, int parts, cn_error *err);
void cn_conv_wino_forward(cn_layer *l, const cn_ctx *ctx);
void cn_conv_wino_backward(cn_layer *l, const cn_ctx *ctx);

#endif
