/* internal.h - helpers shared by src/, layers/, losses/, optim/ and data/.
 * Not part of the public API.
 */
#ifndef CNET_INTERNAL_H
#define CNET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Not cnet.h: layers, losses and data see neither the network nor the
 * optimizer (src/net_internal.h brings those to the core). */
#include "cnet/data.h"
#include "cnet/loss.h"
#include "cnet/pool.h"

#define CN_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CN_MAX(a, b) ((a) > (b) ? (a) : (b))

/* ---- element-wise activations (src/act.c) ----
 * Derivatives are taken from the OUTPUT y, so no pre-activation is kept:
 * sigmoid y = 1/(1+e^(-g x)), y' = g y (1-y); tanh y' = 1-y^2;
 * relu y' = [y>0]; leaky y' = y>0 ? 1 : slope; linear y' = 1. */
typedef enum cn_act {
    CN_ACT_LINEAR, CN_ACT_SIGMOID, CN_ACT_TANH, CN_ACT_RELU, CN_ACT_LEAKY, CN_ACT_COUNT
} cn_act;
/* The choices string for an `activation` key, in cn_act order. */
#define CN_ACT_CHOICES "linear|sigmoid|tanh|relu|leaky"
/* y = f(x) in place over n values; param = gain (sigmoid) or slope (leaky). */
void cn_act_forward(cn_act a, float param, float *x, size_t n);
/* dy *= f'(x) expressed through y, in place. */
void cn_act_backward(cn_act a, float param, const float *y, float *dy, size_t n);
/* Read a layer's `activation` key and its parameter (`gain` for sigmoid,
 * `slope` >= 0 for leaky, else 1); a gain/slope the activation does not use
 * is an error, so a typo cannot be silently ignored. */
cn_status cn_act_read(cn_sec *s, cn_act *act, float *param, cn_error *err);
/* Row-wise softmax of x*scale (stable, max-subtracted): rows x cols. */
void cn_softmax_rows(const float *x, float *y, int rows, int cols, float scale);
/* sum_i -[t_i ln p_i + (1 - t_i) ln(1 - p_i)], p_i = y_i clamped into
 * [1e-7, 1 - 1e-7]: binary cross-entropy of probabilities through vector
 * logf (float blocks of 256 added up in double). */
double cn_bce_prob_sum(const float *y, const float *t, size_t n);

/* ---- a layer's work split over the net's threads (src/net.c) ---- */
/* What a layer's part function receives: the layer and the batch's samples. */
typedef struct cn_layer_task {
    cn_layer *l;
    int n;
} cn_layer_task;
/* fn(&(cn_layer_task){l, ctx->n}, part, parts) on every part of `pool`
 * (NULL: part 0 of 1 in the caller). */
void cn_layer_run(cn_layer *l, const cn_ctx *ctx, cn_pool *pool, cn_pool_fn fn);
/* For a spatial layer's shape error: when its input `in` is a flat vector
 * (a [dense] output, N x 1 x 1), "; its input 'fc' ([dense], line 9,
 * output 32) is a flat vector ...: put [reshape] output=C,H,W after 'fc'
 * ...", naming where the mismatch starts; else "". Returns buf. */
const char *cn_flat_hint(const cn_layer *in, char *buf, size_t size);

/* ---- small vector helpers (src/vec.c) ---- */
/* y[i] += a * x[i] */
void cn_axpy(size_t n, float a, const float *x, float *y);
/* 1 if every value is finite. */
int cn_all_finite(const float *x, size_t n);

/* ---- corruption kernels for denoising (data/corrupt.c) ----
 * keep (n), when not NULL, receives 1 where x was left as it was, else 0. */
/* Masking noise: each value set to 0 with probability q. */
void cn_corrupt_mask(float *x, size_t n, float q, cn_rng *rng, float *keep);
/* Additive Gaussian noise N(0, sigma^2). */
void cn_corrupt_gaussian(float *x, size_t n, float sigma, cn_rng *rng);
/* Salt-and-pepper: with probability q a value becomes 0 or 1 (even odds). */
void cn_corrupt_saltpepper(float *x, size_t n, float q, cn_rng *rng, float *keep);

/* ---- byte datasets (data/dataset.c) ---- */
/* CN_ERR_CFG naming the key `scale` of s when a byte of 255 times scale is
 * not a finite float (the readers of byte datasets check it). */
cn_status cn_byte_scale_check(cn_sec *s, float scale, cn_error *err);

/* ---- file system (src/fs.c) ---- */
/* mkdir -p path; errors read "<dir>: cannot create <what>: <reason>". */
cn_status cn_make_dirs(const char *path, const char *what, cn_error *err);
/* Open an input file for reading (*fd, *size) when it is a regular file of
 * at most max bytes. A directory, FIFO, device or socket is refused before
 * it is opened and again after (CN_ERR_IO: "<path>: cannot read: it is a
 * FIFO (named pipe), not a regular file"); a larger file is CN_ERR_FORMAT
 * naming its size, `what` (with its article: "a cfg file") and max. */
cn_status cn_file_open(const char *path, const char *what, uint64_t max, int *fd,
                       uint64_t *size, cn_error *err);
/* cn_file_open as a stdio stream (*out, NULL on error). */
cn_status cn_file_fopen(const char *path, const char *what, uint64_t max, FILE **out,
                        cn_error *err);
/* The whole of such a file as a NUL-terminated string (*len bytes, NUL bytes
 * inside included); reads stop past max bytes, so a file that grows while
 * read is refused as well. */
cn_status cn_file_slurp(const char *path, const char *what, size_t max, char **text,
                        size_t *len, cn_error *err);
/* Replace path whole or not at all: write(f, ctx) (nonzero on success)
 * into path.tmp, fflush and fsync it, then rename it over path. On any
 * failure path is untouched, the temporary file removed, and the error
 * reads "<path>.tmp: cannot write: <reason>" (opening) or "<path>: write
 * failed (<reason>); the previous <what> is kept". */
cn_status cn_file_replace(const char *path, const char *what,
                          int (*write)(FILE *f, const void *ctx), const void *ctx,
                          cn_error *err);
/* The size error of cn_file_open: "<path>: cannot read: it holds [more than]
 * N bytes; <what> may hold at most <max>" (CN_ERR_FORMAT). */
cn_status cn_file_too_big(const char *path, uint64_t bytes, int more, const char *what,
                          uint64_t max, cn_error *err);
/* bytes as "2 GiB", "1 MiB", "64 KiB" when a whole number of them, else "N bytes". */
void cn_size_str(uint64_t bytes, char *out, size_t size);

/* ---- the run folder's lock (src/runlock.c) ---- */
/* Take <dir>/lock for this process (*fd, to pass to cn_run_unlock), or
 * CN_ERR_IO naming the folder and the pid of the training that holds it. */
cn_status cn_run_lock(const char *dir, int *fd, cn_error *err);
void cn_run_unlock(int fd);

/* ---- section types (src/sections.c) ---- */
/* The special sections, one line each: X(KIND, name) is [name], CN_SECTION_KIND. */
#define CN_SPECIAL_SECTIONS(X) \
    X(NET, net)                \
    X(DATA, data)              \
    X(OPTIM, optim)
#define CN_SECTION_ENUM_(kind, name) CN_SECTION_##kind,
typedef enum cn_section { CN_SPECIAL_SECTIONS(CN_SECTION_ENUM_) CN_SECTION_COUNT } cn_section;
/* "net" for CN_SECTION_NET, ... */
const char *cn_section_name(cn_section k);
/* The special section a section type names, or -1 (a layer or loss type). */
int cn_section_find(const char *type);

/* ---- the registries' run-time additions (src/register.c checks them first) ---- */
/* Append to a registry (layers/, losses/, optim/, data/registry.c); -1 when
 * CN_REGISTER_MAX types were already added. */
int cn_layer_types_add(const cn_layer_ops *ops);
int cn_loss_types_add(const cn_loss_ops *ops);
struct cn_optim_ops; /* optim.h: the core and optim/ only */
int cn_optim_types_add(const struct cn_optim_ops *ops);
int cn_dataset_types_add(const cn_dataset_ops *ops);

/* "|idx|imgdir|csv|<registered>...": the [data] `type` choices after the
 * first character (data/registry.c). */
extern char cn_dataset_choices_[];

/* ---- docs (src/doc.c) ---- */
/* Write the cfg reference (docs/cfg.md) generated from the key tables. */
void cn_doc_write(FILE *f);
/* Write the README's paragraph of section types, from the registries. */
void cn_doc_types(FILE *f);
/* Key tables the builder reads for every layer / loss section. */
const cn_key *cn_layer_common_keys(void);
const cn_key *cn_loss_common_keys(void);

#endif
