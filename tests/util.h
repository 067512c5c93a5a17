/* util.h - helpers shared by the Check suites: building nets from cfg text,
 * the finite-difference gradient checker, temp dirs and tiny fixtures. */
#ifndef CNET_TESTS_UTIL_H
#define CNET_TESTS_UTIL_H

#include <check.h>

#include "cnet/cnet.h"

/* Parse and build a net from cfg text (name "test.cfg"); fails the test,
 * printing the error, when that does not work. */
cn_net *tu_net(const char *cfg_text);
/* Parse and build; returns the status and leaves the message in err. */
cn_status tu_net_err(const char *cfg_text, cn_error *err);

/* Finite-difference check of a built net in train mode. Objective:
 * sum of weighted losses + r . output (r a fixed random projection, so a
 * transposition bug cannot hide). Checks every trained parameter (a seeded subset of
 * at most 200 entries per tensor) and, when with_input, the input. The input
 * is filled with U(0,1) values from `seed` (labels: i % classes when the net
 * has a label loss, given by `classes`, 0 = none). The net's RNG is restored
 * before every evaluation so noise/sampling layers are repeatable.
 * Central differences with step 1e-2 (Caffe's); returns the largest relative
 * error |a-n| / max(|a|+|n|, 1e-3), skipping
 * coordinates where central differences at eps and eps/2 disagree (kinks). */
double tu_gradcheck(cn_net *net, int with_input, int classes, uint64_t seed);
/* The same in a chosen mode (train = 0: eval mode, e.g. batchnorm's
 * running statistics). */
double tu_gradcheck_mode(cn_net *net, int with_input, int classes, uint64_t seed, int train);
/* tu_gradcheck_mode where the analytic gradients above the net's first
 * [grad_reverse] layer (the input's, and the parameters of every layer
 * before it) are expected to be `factor` times the numeric ones (-scale of
 * the reversal) and the rest equal. Holds when everything above the
 * reversal reaches the objective only through it (a chain); a layer above
 * it feeding a loss past it would mix both factors. */
double tu_gradcheck_reversed(cn_net *net, int with_input, int classes, uint64_t seed, int train,
                             double factor);

/* ---- the gradient-check sweep over the registries (tests/sweep.c) ---- */

/* One gradient-check row: the layer or loss type it covers, a tiny net,
 * whether the input's gradient is checked, the classes of label targets
 * (0 = no labels), and the `scale` of the net's [grad_reverse] (0 = none):
 * the gradients above the reversal are then checked against -scale times
 * the numeric ones (tu_gradcheck_reversed), since the layer reverses them
 * on purpose. */
typedef struct tu_grad_row {
    const char *type;
    const char *cfg;
    int with_input;
    int classes;
    double reverse;
} tu_grad_row;

/* The suites' row tables: tests/check_layers.c and tests/check_losses.c. */
extern const tu_grad_row tu_layer_rows[], tu_loss_rows[];
extern const int tu_n_layer_rows, tu_n_loss_rows;

typedef enum tu_kind { TU_LAYERS, TU_LOSSES } tu_kind;

/* How the sweep covered one registered type. */
typedef struct tu_swept {
    const char *type;
    int rows;     /* rows of the table naming it (each run as its own test by its suite) */
    int example;  /* 1: its ops' `example` was gradient-checked by the sweep */
    double error; /* that check's largest relative error (0 when not run) */
} tu_swept;

/* Sweep every registered type of `kind`, built-in or cn_*_register'ed, in
 * registry order: a type with rows in rows[0..n_rows) is left to them; one
 * without has its ops' `example` built and checked with tu_gradcheck (the
 * input too unless a loss's target is the input or a layer without
 * target_grad; labels i % the attached layer's size for label targets).
 * out[0..max) gets one entry per type and *n the number of types.
 * @return how many types fail, each named on stderr: neither rows nor an
 *         example, an example that does not build or lacks the type, or a
 *         relative error >= 1e-2 */
int tu_sweep_registered(tu_kind kind, const tu_grad_row *rows, int n_rows, tu_swept *out,
                        int max, int *n);

/* A fresh temporary directory for this test (removed by the OS later). */
const char *tu_tmpdir(void);
/* Write text to dir/name; returns the full path (static buffer, rotates 8). */
const char *tu_write(const char *dir, const char *name, const char *text);
/* What write(f) writes, as a malloc'd string of *size bytes (docs generators). */
char *tu_generated(void (*write)(FILE *f), size_t *size);
/* dir/name in a rotating static buffer of 8 (dir may be an earlier result). */
const char *tu_path(const char *dir, const char *name);


/* Overwrite n bytes at offset of the checkpoint at path, then rewrite its
 * last four bytes as the CRC-32 of the others: a file damaged in a field
 * but whose checksum is right, as a buggy writer would leave it. */
void tu_ckpt_patch(const char *path, long offset, const void *bytes, size_t n);

/* Write a tiny labelled IDX dataset (gzip'd, the Fashion-MNIST file names)
 * into a fresh temp dir and return the dir. Class c of `classes` is a
 * bright horizontal bar at row c*h/classes plus uniform noise, so a small
 * network can learn it. */
const char *tu_idx_dataset(int n_train, int n_test, int h, int w, int classes, uint64_t seed);

/* Calls to malloc/calloc/realloc made by cnet's code since the start (the
 * suite links with --wrap for these three). */
extern volatile long tu_allocs;

/* Run a shell command (stderr joined to stdout); returns its exit status
 * and leaves at most size-1 bytes of its output in out. */
int tu_run(const char *cmd, char *out, size_t size);

/* A cfg, its network and its data, opened together by the training tests. */
typedef struct tu_fixture {
    cn_cfg *cfg;
    cn_net *net;
    cn_data *data;
} tu_fixture;
/* The generated dataset the training tests share (made once per process):
 * tu_idx_dataset(256, 64, 8, 8, 4, 5). */
const char *tu_train_dataset(void);
/* Parse cfg text as `name`, apply the override `set` (NULL: none), build the
 * net and open its data; fails the test on any error. */
tu_fixture tu_fixture_open(const char *name, const char *cfg_text, const char *set);
void tu_fixture_close(tu_fixture *f);

#endif
