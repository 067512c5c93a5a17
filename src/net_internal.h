/* net_internal.h - the network structure, shared by build.c, net.c, ckpt.c,
 * train.c and eval.c. Layers and losses never see it. */
#ifndef CNET_NET_INTERNAL_H
#define CNET_NET_INTERNAL_H

#include "internal.h"

struct cn_net {
    char name[64];          /* run name: [net] name or the cfg file stem */
    char file[256];         /* cfg file, for messages */
    int batch;              /* rows of every arena */
    int epochs;             /* [net] epochs */
    int threads;            /* [net] threads (0 = OpenBLAS's default) */
    cn_pool *pool;          /* the threads actually used (include/cnet/pool.h) */
    uint64_t seed;
    cn_rng rng;             /* the one RNG: init, noise, sampling, shuffling */
    int n;                  /* samples in the current batch */
    int train;              /* mode */
    int sample;             /* sampling layers draw in eval mode too */
    int input_grad;         /* compute the input layer's dout */

    cn_layer *layers;       /* (n_layers) in cfg order; [0] is the input */
    int n_layers;
    cn_loss *losses;        /* (n_losses) */
    int n_losses;
    cn_param **params;      /* (n_params) owned parameters, cfg order */
    int n_params;

    float *param_arena;     /* (n_param_floats) values of every parameter */
    float *grad_arena;      /* (n_param_floats) their gradients */
    int grads_zero;         /* the grad arena is zero: an update consumed it */
    size_t n_param_floats;
    float *act_arena;       /* (batch * sum of layer sizes) layer outputs */
    float *dact_arena;      /* same shape: layer output gradients */
    size_t n_act_floats;
    float *scratch;         /* (n_scratch) shared by all layers */
    size_t n_scratch;
    int *labels;            /* (batch) current labels, -1 = none */

    cn_optim *optim;
    uint64_t fingerprint;
};

/* Build helpers used by build.c only (defined in build_ref.c). */
cn_status cn_resolve_ref(const cn_net *net, int current, const cn_sec *s, const char *key,
                         const char *ref, cn_layer **out, cn_error *err);
/* Read a layer's `offers` key, a comma list of CN_OFFER_MARK_NAMES, into
 * CN_OFFER_* bits (defined in offers.c). */
cn_status cn_offers_read(cn_sec *s, const char *key, unsigned *out, cn_error *err);

#endif
