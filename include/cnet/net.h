/* net.h - the network graph, training, evaluation and checkpoints.
 *
 * The network is a DAG in cfg order: layer 0 is the input (shape from
 * [net] input=C,H,W), every later layer reads earlier ones. Forward runs in
 * index order, the losses add their gradients, backward runs in reverse.
 */
#ifndef CNET_NET_H
#define CNET_NET_H

#include <signal.h>
#include <stdint.h>

#include "data.h"
#include "loss.h"
#include "optim.h"

typedef struct cn_net cn_net;

/* Keys of [net]. */
extern const cn_key cn_net_keys[];

/* Build the network described by cfg ([net], layer and loss sections,
 * [optim]); every buffer is allocated here. cfg may be freed afterwards. */
cn_status cn_net_create(const cn_cfg *cfg, cn_net **out, cn_error *err);
/* A layer just built, as cn_net_create_each reports it: its shape, inputs,
 * parameters (declared, not yet allocated) and flops are final; its
 * buffers are not there yet. */
typedef void (*cn_layer_built_fn)(const cn_layer *l, void *user);
/* cn_net_create, calling built(l, user) for each layer as soon as it is
 * built (the input first, then in cfg order): when the build fails, the
 * layers reported are how far it got, so a caller can show them before the
 * error (`cnet summary`). built may be NULL. */
cn_status cn_net_create_each(const cn_cfg *cfg, cn_layer_built_fn built, void *user,
                             cn_net **out, cn_error *err);
void cn_net_free(cn_net *net);

const char *cn_net_name(const cn_net *net);   /* cfg file stem, e.g. "ae" */
int cn_net_batch(const cn_net *net);
uint64_t cn_net_seed(const cn_net *net);
cn_rng *cn_net_rng(cn_net *net);
/* Hash of layer types, shapes and parameter shapes (checkpoint identity). */
uint64_t cn_net_fingerprint(const cn_net *net);

int cn_net_n_layers(const cn_net *net);              /* including the input */
cn_layer *cn_net_layer(const cn_net *net, int i);    /* 0 = input */
cn_layer *cn_net_find_layer(const cn_net *net, const char *name);
cn_layer *cn_net_output(const cn_net *net);          /* the last layer */
int cn_net_n_losses(const cn_net *net);
cn_loss *cn_net_loss(const cn_net *net, int i);
int cn_net_n_params(const cn_net *net);
cn_param **cn_net_params(const cn_net *net);
/* The default group's optimizer (the only one without [optim] name=). */
cn_optim *cn_net_optim(const cn_net *net);

/* ---- parameter groups (src/groups.c) ----
 * Every [optim] section trains one group of parameters with its own
 * optimizer and schedule: the section's `name` is the group's, and a layer's
 * `group` key puts its parameters there; layers naming no group, and the
 * [optim] without a name (or the defaults), make the group "default". A
 * loss's `groups` key says which groups it trains and with which sign
 * ("gen, -disc": gen descends it, disc ascends it); by default every group
 * descends every loss. With one group training is as it always was. With
 * several, training alternates in rounds: each group in [optim] section
 * order takes `steps` consecutive steps, each a full step in which only
 * that group's losses (signed) run backward and only its parameters move.
 * [net] alternate says where the batches come from: fresh (each step the
 * next batch) or shared (every step of a round on the same batch). */
int cn_net_n_groups(const cn_net *net);
const char *cn_net_group_name(const cn_net *net, int g);
cn_optim *cn_net_group_optim(const cn_net *net, int g);
/* Its consecutive steps in a round (0: the default group has nothing to train). */
int cn_net_group_steps(const cn_net *net, int g);
/* Batches trained so far (calls of cn_net_train_batch, restored from a
 * checkpoint): with one group, also its optimizer's steps. */
long cn_net_steps(const cn_net *net);
/* Bytes of [net] input per sample (c*h*w). */
size_t cn_net_input_size(const cn_net *net);

/* 1 = training mode (noise and sampling layers active). */
void cn_net_set_train(cn_net *net, int train);
/* 1 = sampling layers ([sample]) draw in eval mode too (ELBO estimates). */
void cn_net_set_sample(cn_net *net, int on);
/* Make the input layer's dout computed (gradient checks, saliency). */
void cn_net_set_input_grad(cn_net *net, int on);

/* Copy a batch of n <= batch samples (n, c*h*w) into the input layer;
 * labels may be NULL. */
void cn_net_set_batch(cn_net *net, const float *x, const int *labels, int n);

/* ---- the parts of a step: forward, losses, backward ----
 *
 * One gradient lifecycle. Every gradient is cleared by whoever consumes it:
 *   - layer output gradients (dout) are cleared by cn_net_zero_grad, which
 *     every step runs first;
 *   - a parameter's gradient is consumed by its update, which leaves it at
 *     zero: the gradient hook's handler when it updates a parameter during
 *     backward, the step's update phase for every other parameter (the
 *     optimizer for trainable ones; inner params and buffers are zeroed
 *     there, consumed all the same);
 *   - gradients nobody consumed (a CN_STEP_GRAD step, a bare
 *     cn_net_backward, an inner inference step) are cleared by the next
 *     cn_net_zero_grad.
 * Layers and losses only ever add (+=) into gradients. */

/* Forward through every layer. */
void cn_net_forward(cn_net *net);
/* Forward through layers first..last only, the earlier outputs as they are
 * (a decoder fed by writing layer first-1's output, e.g. `cnet sample`). */
void cn_net_forward_from(cn_net *net, int first);
/* Each loss's forward; returns sum of weight * value over the losses no
 * other loss consumes. */
double cn_net_loss_forward(cn_net *net);
/* Zero every layer dout, and every parameter gradient not consumed since
 * the last step (see the lifecycle above). */
void cn_net_zero_grad(cn_net *net);
/* Loss backward, then layer backward in reverse order (accumulating), with
 * no gradient hook: every gradient is left for the caller. */
void cn_net_backward(cn_net *net);
/* CN_ERR_NUMERIC naming the first non-finite loss, layer output or
 * parameter gradient, or saying that every loss is finite but their
 * weighted sum is not; CN_OK when the total loss `total` and all of those
 * are finite. */
cn_status cn_net_check_finite(cn_net *net, double total, cn_error *err);

/* ---- the gradient-ready hook ----
 * During a training step's backward a layer tells the net when a parameter's
 * gradient is final (cn_grad_claim / cn_grad_ready in layer.h); the net
 * passes it to this hook. The default, installed at build, updates the
 * parameter at once with the net's optimizer, while its gradient is in
 * cache; NULL leaves every update to the step's update phase. The hook is
 * called from the pool's threads on disjoint ranges. */
void cn_net_set_grad_hook(cn_net *net, const cn_grad_hook *hook);

/* ---- one training step (src/step.c) ---- */

/* What a step does after backward. */
typedef enum cn_step_kind {
    CN_STEP_GRAD,  /* nothing: the gradients are left for the caller (gradient checks) */
    CN_STEP_INNER, /* inner inference step `inner_k`: the inner params of every layer
                      still inferring move, p -= lr * grad (src/infer.c) */
    CN_STEP_TRAIN  /* inner inference first when some layer has inner params in use
                      (cn_net_infer), a backward with the gradient hook, then the
                      update of every parameter the hook did not update */
} cn_step_kind;

/* Phases timed by a step (cn_progress.phase_s; data is the train loop's). */
enum { CN_PHASE_DATA, CN_PHASE_FORWARD, CN_PHASE_BACKWARD, CN_PHASE_UPDATE, CN_PHASES };

typedef struct cn_step_opts {
    cn_step_kind kind;
    int group;       /* CN_STEP_TRAIN: the parameter group it trains (0 with one group;
                        cn_net_train_batch picks it) */
    int inner_k;     /* CN_STEP_INNER: the inner step, 0-based */
    double *phase_s; /* (CN_PHASES) seconds added per phase, or NULL (--profile) */
    /* Called after the losses' forward and the finiteness check, before
     * backward; may add into any layer's dout (a gradient checker's
     * projection of an output). NULL = none. */
    void (*before_backward)(cn_net *net, void *user);
    void *user;
} cn_step_opts;

/* THE step, on the batch set with cn_net_set_batch: zero_grad, forward,
 * losses, finiteness check (the total and each term), backward, then what
 * `kind` says. *loss gets the weighted total. On CN_ERR_NUMERIC nothing was
 * updated. The train loop, inner inference, the gradient checker and the
 * tests all run this one function. */
cn_status cn_net_step(cn_net *net, const cn_step_opts *opts, double *loss, cn_error *err);
/* What the trainer does with one batch: one CN_STEP_TRAIN step of the one
 * group; with several groups, the step of the group whose turn it is
 * (alternate=fresh) or a whole round of steps on this batch (shared), *loss
 * the last step's. Then cn_net_steps counts one more. opts->kind and
 * group are set here; phase_s and before_backward pass through. */
cn_status cn_net_train_batch(cn_net *net, const cn_step_opts *opts, double *loss,
                             cn_error *err);
/* cn_net_train_batch with no timing. */
cn_status cn_net_train_step(cn_net *net, double *loss, cn_error *err);
/* Inner inference (src/infer.c) on the batch set: when some layer's inner
 * params are used in this mode (the [code] layer: in training, or in eval
 * with infer=1), forward, let those layers initialise them, then K steps of
 * kind CN_STEP_INNER on them alone; every other parameter stays
 * bit-identical. Each pass sees the same RNG draws. No-op without inner
 * params. */
cn_status cn_net_infer(cn_net *net, cn_error *err);

/* ---- validation (src/valid.c) ---- */

/* The train loop's validation over ds[idx] (idx NULL = all), in eval mode:
 * the mean weighted total loss per sample, as cn_eval's "loss" (nets with a
 * Gaussian-posterior loss draw z ~ q(z|x) from a stream seeded with the
 * net's seed; the net's RNG and mode flags are restored), the accuracy of
 * the first label loss's layer over the labelled samples, and the
 * clustering accuracy (Hungarian) of the cluster layer (the first loss
 * offering clusters, else a layer marked offers=clusters); NAN where the
 * net or the data has none. */
typedef struct cn_valid_metrics {
    double loss, accuracy, cluster_acc;
} cn_valid_metrics;
cn_status cn_net_validate(cn_net *net, const cn_dataset *ds, const int *idx, int n_idx,
                          cn_valid_metrics *out, cn_error *err);
/* Which metrics a validation of this net reports (0 for those it has,
 * NAN for the others) on data with labels (labelled) or without. */
cn_valid_metrics cn_net_valid_kinds(const cn_net *net, int labelled);

/* Forward FLOPs of one sample, per layer (0 when the type does not say). */
double cn_layer_flops(const cn_layer *l);
/* FLOPs of one training sample through the layer: forward, weight gradient
 * (when it has parameters) and input gradient (when its input needs one). */
double cn_layer_train_flops(const cn_layer *l);

/* ---- checkpoints (docs/checkpoint.md) ---- */

typedef struct cn_ckpt_info {
    int epoch;          /* epochs completed */
    long step;          /* optimizer steps taken */
    double best_valid;  /* best validation loss so far */
    int batch;          /* batches already done in epoch `epoch`+1 (mid-epoch stop) */
    int batches;        /* batches of an epoch (0: not recorded; then a load checks only
                           that step >= epoch + batch) */
    uint64_t epoch_rng[4]; /* the RNG when that epoch began (redraws its shuffle) */
    double epoch_loss;  /* sum of that epoch's batch losses so far */
} cn_ckpt_info;

/* Write params, optimizer state, RNG and info to path (temp file + rename). */
cn_status cn_ckpt_save(cn_net *net, const char *path, const cn_ckpt_info *info, cn_error *err);
/* Read a checkpoint of this network and optimizer (parameters, optimizer
 * state, RNG, step) to resume it; info may be NULL. Anything but a regular
 * file, another format version, a damaged file (the error names the field
 * and its byte offset), another network (the first tensor whose name or
 * shape differs), another optimizer or a non-finite value is an error
 * naming the file, and leaves the network as it was (docs/checkpoint.md). */
cn_status cn_ckpt_load(cn_net *net, const char *path, cn_ckpt_info *info, cn_error *err);
/* The parameters only, as for evaluation: the same checks, but the
 * optimizer the checkpoint was made with does not matter. */
cn_status cn_ckpt_load_weights(cn_net *net, const char *path, cn_error *err);

/* ---- training (src/train.c) ---- */

typedef struct cn_progress {
    int epoch, epochs;      /* 1-based current epoch */
    int batch, batches;     /* 1-based batch within the epoch */
    double loss;            /* running mean of the total loss this epoch */
    const double *loss_parts; /* running mean of each loss (unweighted) */
    int n_losses;
    double samples_per_s;
    double eta_s;
    int epoch_done;         /* 1 at the end of an epoch (valid_* filled) */
    double valid_loss;      /* NAN when there is no validation split */
    double valid_accuracy, valid_cluster_acc; /* NAN where the net or split has none */
    int valid_elbo;         /* the validation loss is a negative ELBO (a VAE's) */
    double lr;              /* the learning rate of the epoch's last step */
    const char *early_stop; /* at an epoch end: why early stopping ends the run, or NULL */
    double phase_s[CN_PHASES];    /* with profile: seconds this epoch in data, forward (with
                               losses), backward, update */
    const char *stopped;    /* non-NULL when training stopped early: why */
} cn_progress;

typedef struct cn_train_opts {
    int epochs;             /* 0 = the cfg's [net] epochs */
    int resume;             /* continue from run_dir/last.ckpt */
    int profile;            /* time data/forward/backward/update */
    const char *run_dir;    /* default runs/<name> */
    /* The resolved cfg the net and data were made from (overrides applied),
     * or NULL: written to run_dir/run.cfg, and on resume compared with it
     * (a change that would make another run is refused, the others listed). */
    const cn_cfg *cfg;
    volatile sig_atomic_t *stop; /* set asynchronously to save and stop */
    void (*progress)(const cn_progress *p, void *user);
    void *user;
} cn_train_opts;

cn_train_opts cn_train_defaults(void);

/* The run name of a cfg ([net] name, else the cfg file's stem), checked as
 * cn_net_create checks it: a run's folder is runs/<name>. */
cn_status cn_cfg_run_name(const cn_cfg *cfg, char *name, size_t size, cn_error *err);
/* dir/run.cfg: where a run folder keeps the resolved settings of its run. */
void cn_run_cfg_path(const char *dir, char *path, size_t size);

/* Train for the configured epochs: per epoch a validation pass, a line in
 * run_dir/log.csv, last.ckpt and best.ckpt. On NaN/Inf or a stop request
 * the last good checkpoint stays and the status says why. */
cn_status cn_train(cn_net *net, cn_data *data, const cn_train_opts *opts, cn_error *err);

/* ---- evaluation (src/eval/eval.c) ---- */

#define CN_METRICS_MAX 128

typedef struct cn_metrics {
    int n;
    char name[CN_METRICS_MAX][48];
    double value[CN_METRICS_MAX];
} cn_metrics;

/* Evaluate on ds[idx] (idx NULL = all): every loss's mean and the metrics
 * that fit the cfg (reconstruction, accuracy, clustering). */
cn_status cn_eval(cn_net *net, const cn_dataset *ds, const int *idx, int n_idx,
                  cn_metrics *out, cn_error *err);
/* Value of a metric by name, or NAN. */
double cn_metrics_get(const cn_metrics *m, const char *name);
/* Append a metric (dropped when CN_METRICS_MAX are already there). */
void cn_metrics_put(cn_metrics *m, const char *name, double value);

/* What cn_eval_with measures beyond cn_eval (docs/eval.md); zeroed = nothing. */
typedef struct cn_eval_opts {
    int corrupt;           /* 1: also reconstruct inputs masked with probability corrupt_q */
    float corrupt_q;       /* corrupt_recon_mse/_rmse/_psnr, against the clean input */
    uint64_t corrupt_seed; /* seed of that masking noise */
    const char *sparsity;  /* a layer whose sparsity statistics to report, beside those of
                              every layer that offers a code (CN_OFFER_CODE); NULL = none */
    const char *jacobian;  /* a dense encoder layer: mean ||J_x(h)||_F and ||J_x(h)||_F^2 */
    int iw;                /* K > 0: importance-weighted estimate of -ln p(x) from K draws
                              per sample (a net with a kl_gauss loss; docs/eval.md) */
    int quantize;          /* Q > 0: reconstruct from the `sparsity` layer's code quantized
                              to Q levels on [0, 1]: <layer>_quant_recon_mse, _quant_bits */
    int gauss;             /* 1: also reconstruct inputs with N(0, gauss_sigma^2) noise added */
    float gauss_sigma;     /* gauss_recon_mse/_rmse/_psnr, against the clean input (noise
                              seeded corrupt_seed) */
} cn_eval_opts;

/* cn_eval with options (NULL = none); unknown layers are CN_ERR_USAGE. */
cn_status cn_eval_with(cn_net *net, const cn_dataset *ds, const int *idx, int n_idx,
                       const cn_eval_opts *opts, cn_metrics *out, cn_error *err);
/* Linear probe (src/eval/probe.c): a softmax classifier (a cnet [dense] layer,
 * cce, Adam lr 1e-3, batch 256) trained for `epochs` on `layer`'s eval-mode
 * outputs over the training part of data->train, scored on data->test.
 * layer "input" probes the raw inputs. Appends probe_accuracy (test) and
 * probe_train_accuracy to out. */
cn_status cn_eval_probe(cn_net *net, const cn_data *data, const char *layer, int epochs,
                        cn_metrics *out, cn_error *err);

#endif
