/* layer.h - the layer interface: parameters, layer instances, operations.
 *
 * A layer type is one file in layers/ exporting a `const cn_layer_ops` and
 * one line in layers/registry.c. Its setup() reads its keys, checks its
 * inputs' shapes, sets its output shape and declares parameters; the network
 * builder then allocates every buffer once. forward() computes `out` from
 * the inputs; backward() ACCUMULATES (+=) into the inputs' `dout` (only for
 * inputs with needs_grad) and into its parameters' `grad`. Layers never
 * update parameters and never see the optimizer: a layer that finishes a
 * parameter's gradient early tells the net (cn_grad_claim, cn_grad_ready),
 * and what happens then is the trainer's choice (net.h).
 */
#ifndef CNET_LAYER_H
#define CNET_LAYER_H

#include "cfg.h"
#include "tensor.h"
#include "pool.h"

#define CN_MAX_INPUTS 8
#define CN_MAX_PARAMS 4
#define CN_NAME_MAX 32

/* How a parameter is initialised (with the net's RNG, at build). */
typedef enum cn_init {
    CN_INIT_UNIFORM, /* U(-a, a), a = init_scale / sqrt(fan_in) (PyTorch's default) */
    CN_INIT_NORMAL,  /* N(0, (init_scale / sqrt(fan_in))^2) */
    CN_INIT_XAVIER,  /* U(-a, a), a = init_scale * sqrt(6 / (fan_in + fan_out)) */
    CN_INIT_ZERO,
    CN_INIT_ONE
} cn_init;

/* What a parameter is to weight decay and to weight penalties ([l1], [l2]). */
typedef enum cn_param_role {
    CN_PARAM_WEIGHT,  /* decayed and penalised */
    CN_PARAM_BIAS,    /* an additive bias: neither decayed nor penalised */
    CN_PARAM_NO_DECAY /* not decayed, but penalised (scales, shifts, per-batch codes) */
} cn_param_role;

/* A parameter {name, shape, value, grad}. value/grad point into the net's
 * arenas once the net is built (NULL during setup). */
typedef struct cn_param {
    char name[2 * CN_NAME_MAX]; /* "layer.W" */
    int shape[4];               /* unused trailing dims are 1 */
    size_t count;
    float *value, *grad;
    float lr_mult, decay_mult;  /* per-parameter multipliers for the optimizer */
    cn_init init;
    float init_scale;
    int fan_in, fan_out;
    int inner;  /* a per-batch free variable optimised by the trainer's inner loop */
    int buffer; /* state such as running statistics: saved, never trained */
    cn_param_role role;
} cn_param;

typedef struct cn_layer cn_layer;
typedef struct cn_layer_ops cn_layer_ops;
typedef struct cn_build cn_build;

/* The net's gradient-ready hook, as a layer sees it in a training step's
 * backward (installed by the trainer: cn_net_set_grad_hook in net.h).
 * claim(user, p): p's gradient will be final in parts; returns a handle
 * >= 0 when the hook wants to hear of them, -1 when not. ready(user, h, lo,
 * hi): elements [lo, hi) of the claimed param are final and nothing later in
 * the backward pass reads that param; called from any thread of the pool on
 * disjoint ranges. */
typedef struct cn_grad_hook {
    int (*claim)(void *user, const cn_param *p);
    void (*ready)(void *user, int handle, size_t lo, size_t hi);
    void *user;
} cn_grad_hook;

/* Capabilities a layer or a loss offers to losses and to evaluation, named
 * for what is offered, never for who offers it (bit set: cn_layer_ops.offers,
 * cn_loss_ops.offers, a layer section's key `offers`). Of a loss, the layer
 * ones describe the layer it is attached to. */
enum {
    CN_OFFER_CLUSTERS = 1u << 0, /* the layer's argmax is a cluster id: eval reports
                                    clustering accuracy, NMI and ARI */
    CN_OFFER_CODE = 1u << 1,     /* the layer is a sparse code: eval reports its sparsity
                                    statistics (docs/eval.md) */
    CN_OFFER_PROBS = 1u << 2,    /* each sample's output is a probability distribution */
    CN_OFFER_GAUSS_POSTERIOR = 1u << 3 /* (a loss) it is KL(q(z|x) || N(0, I)) of the
                                    diagonal Gaussian q = N(mu, exp(logvar)) whose mu and
                                    logvar are the attached (sampling) layer's inputs 0 and
                                    1: eval reports the ELBO and, with --iw, the
                                    importance-weighted bound */
};
/* The capabilities a layer section may mark with `offers=` (a comma list of
 * their names): what evaluation reads from a layer. */
#define CN_OFFER_MARKS (CN_OFFER_CLUSTERS | CN_OFFER_CODE)
#define CN_OFFER_MARK_NAMES "clusters|code" /* their names, in bit order */

/* Per-call context for forward/backward. */
typedef struct cn_ctx {
    int train;         /* 1 in training mode (noise, sampling active) */
    int sample;        /* 1: sampling layers draw in eval mode too (ELBO estimates) */
    int n;             /* samples in this batch (<= the net's batch) */
    cn_rng *rng;       /* the net's RNG */
    const int *labels; /* (n) class indices, -1 = unlabelled; NULL when none */
    cn_pool *pool;     /* the net's threads, for splitting the batch */
    const cn_grad_hook *grad; /* in a training step's backward: the net's gradient-ready
                                 hook; NULL otherwise */
} cn_ctx;

/* In backward, once, in the calling thread, before p's gradient is final:
 * a handle for cn_grad_ready, or -1 when nobody listens (then the layer
 * just leaves the gradient in p->grad). */
int cn_grad_claim(const cn_ctx *ctx, const cn_param *p);
/* Elements [lo, hi) of the param claimed as `handle` are final; a no-op for
 * handle -1. Any thread, disjoint ranges. */
void cn_grad_ready(const cn_ctx *ctx, int handle, size_t lo, size_t hi);

struct cn_layer {
    const cn_layer_ops *ops;
    char name[CN_NAME_MAX]; /* name= or "<type><index>" */
    int index;              /* 0 is the network input */
    int cfg_line;
    cn_layer *in[CN_MAX_INPUTS]; /* the layers read, all earlier */
    int n_in;
    int c, h, w;            /* output shape of one sample */
    cn_tensor out, dout;    /* (B, c, h, w) views into the net's arenas */
    cn_param *params[CN_MAX_PARAMS]; /* owned parameters, in the net's list */
    int n_params;
    int needs_grad;         /* dout is consumed by some backward */
    int group;              /* the parameter group training its params (key group; net.h) */
    const cn_layer *uses;   /* the layer owning parameters this one uses beside its own
                               (share=, tie=), set by its setup, or NULL: a group's step
                               runs a layer's backward only when it or a layer it reads
                               uses that group's parameters (src/groups.c) */
    unsigned offers;        /* capabilities its cfg section marks (key offers), beside
                               ops->offers: read both through cn_layer_offers */
    size_t scratch;         /* floats of shared scratch wanted in forward/backward */
    size_t own_bytes;       /* bytes of its own buffers (cn_build_alloc), for the memory cap */
    float *scratch_buf;     /* the shared scratch (valid after build) */
    void *state;            /* type-private */
};

struct cn_layer_ops {
    const char *type;     /* section name */
    const cn_key *keys;   /* type-specific keys (common ones are added by the builder) */
    const char *doc;      /* one line for docs/cfg.md */
    int n_inputs_min, n_inputs_max;
    /* Read keys, check inputs, set c/h/w, declare params and scratch. */
    cn_status (*setup)(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err);
    void (*forward)(cn_layer *l, const cn_ctx *ctx);
    void (*backward)(cn_layer *l, const cn_ctx *ctx);
    void (*destroy)(cn_layer *l); /* frees state only; may be NULL */
    double (*flops)(const cn_layer *l); /* forward FLOPs per sample; may be NULL */
    /* Optional (NULL = none): when out = f(.) element-wise for a cn_act f
     * (src/internal.h), return f and set *param to its gain/slope; else -1.
     * Losses ask it for the output's range and derivative (kl_sparse,
     * contractive). */
    int (*activation)(const cn_layer *l, float *param);
    /* Optional, for layers owning `inner` params (per-batch free variables,
     * see cn_net_infer): the inner gradient steps to run on them in this
     * mode and their step size *lr; < 0 when they are unused in this mode. */
    int (*inner_steps)(const cn_layer *l, const cn_ctx *ctx, float *lr);
    /* Optional: the algorithm the layer chose when it has a choice (NULL =
     * its usual one), for `cnet summary`. */
    const char *(*algo)(const cn_layer *l);
    /* Optional: start a batch's inner params (called after a forward pass). */
    void (*inner_init)(cn_layer *l, const cn_ctx *ctx);
    unsigned offers; /* CN_OFFER_* bits every layer of the type offers */
    /* Optional (NULL = not linear): when out = f(W x + b) on the flattened
     * input, its own W (N, K); NULL when it has none of its own (tied). The
     * Jacobian norm (contractive, eval --jacobian) asks it. */
    const cn_param *(*linear_weight)(const cn_layer *l);
    /* Optional (NULL = it reads no labels): a layer that reads the batch's
     * labels (ctx->labels) gives the classes it takes, labels 0 to K-1;
     * training and evaluation check the data's labels against it, and
     * training refuses data in which no training sample has a label. */
    int (*label_classes)(const cn_layer *l);
    /* Optional: a whole tiny net using the type ([net] batch=2 and input,
     * then its section), which the test suite's gradient-check sweep runs
     * when its fixture tables have no row for the type. */
    const char *example;
};

/* ---- for setup(): the build context ---- */

/* Declare a parameter of `l` (shape d0..d3, trailing 1s). The fans are
 * doubles so a caller's product of sizes cannot overflow before the check.
 * Returns NULL when the tensor alone is more than a network may hold, when
 * CN_MAX_PARAMS is exceeded or memory is out; cn_build_error() then
 * gives the error to return. lr/decay multipliers start at the layer's
 * lr_mult/decay_mult keys (decay 0 unless role is CN_PARAM_WEIGHT). */
cn_param *cn_build_param(cn_build *b, cn_layer *l, const char *name, int d0, int d1, int d2,
                         int d3, cn_init init, double fan_in, double fan_out, cn_param_role role);
/* A zeroed buffer of the layer's own (freed by its destroy), counted in the
 * network's memory (the cap of docs/reliability.md) before it is allocated;
 * NULL when it would pass the cap or memory is out. */
void *cn_build_alloc(cn_build *b, cn_layer *l, size_t bytes);
/* The error for the last NULL from cn_build_param or cn_build_alloc, naming
 * the layer and what was refused. */
cn_status cn_build_error(const cn_build *b, const cn_layer *l, cn_error *err);
/* Resolve a layer reference (a name or a relative index such as "-2") made
 * from layer `l`; must be an earlier layer. Errors cite s's key line. */
cn_status cn_build_ref(cn_build *b, const cn_layer *l, cn_sec *s, const char *key,
                       const char *ref, cn_layer **out, cn_error *err);
/* The init rule from the layer's `init` / `init_scale` keys. */
cn_init cn_build_init(const cn_build *b);
float cn_build_init_scale(const cn_build *b);
/* The net's batch size. */
int cn_build_batch(const cn_build *b);
/* Threads of the net's pool: a layer that splits its batch over them keeps
 * one slice of scratch per thread. */
int cn_build_threads(const cn_build *b);

/* The capabilities a layer offers: its type's and its section's marks. */
unsigned cn_layer_offers(const cn_layer *l);
/* The name of one CN_OFFER_* bit ("clusters", ...), NULL for another value. */
const char *cn_offer_name(unsigned bit);

/* A parameter of a layer by short name ("W"), or NULL. */
cn_param *cn_layer_param(const cn_layer *l, const char *name);

/* "enc (dense, 512)" style description of a layer's shape for messages. */
const char *cn_layer_shape_str(const cn_layer *l, char *buf, size_t size);
/* "'fc' ([dense], line 10, output 3136)": a layer as messages name it, so a
 * shape error points at the section whose output starts the mismatch. */
const char *cn_layer_where(const cn_layer *l, char *buf, size_t size);

/* ---- registry (layers/registry.c; registration checks: src/register.c) ----
 * The built-in types plus those a program registers at run time, Caffe's
 * layer registration in C. Register before building any net: the registry
 * is global and unlocked, so registering while another thread builds a net
 * is a race. A registered type cannot be removed. */

/* The most layer types (and, apart, loss types) a program may register. */
#define CN_REGISTER_MAX 16

/* A layer type by section name (built-in or registered), or NULL. */
const cn_layer_ops *cn_layer_find(const char *type);
/* NULL-terminated list of every layer type: built-ins, then registered ones. */
const cn_layer_ops *const *cn_layer_types(void);
/* Add a layer type; `ops` must outlive every use (a static const table).
 * CN_ERR_CFG when ops is NULL, has no forward, its type is not 1 to
 * CN_NAME_MAX-1 characters of [a-z0-9_], names a special section ([net],
 * [data], [optim]) or an existing layer or loss type, or CN_REGISTER_MAX
 * types were already registered. */
cn_status cn_layer_register(const cn_layer_ops *ops, cn_error *err);

#endif
