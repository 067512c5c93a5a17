/* ckpt_format.h - the checkpoint file's layout (docs/checkpoint.md), shared
 * by the writer (ckpt.c) and the reader (ckpt_read.c, ckpt_load.c).
 * Version 2 adds, after version 1's 144-byte header, the batches of an
 * epoch and the optimizer's type, and gives every tensor its shape; the
 * reader still reads version 1, whose header is the first 144 bytes of
 * this one. */
#ifndef CNET_CKPT_FORMAT_H
#define CNET_CKPT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "cnet/error.h"

#define CKPT_MAGIC "CNETCKPT"
#define CKPT_VERSION 2u
#define CKPT_PNAME 64     /* bytes of a tensor's name */
#define CKPT_ONAME 32     /* bytes of the optimizer's type (version 2) */
#define CKPT_HEADER_V1 144
#define CKPT_ENTRY_V1 (CKPT_PNAME + 8)          /* name, count */
#define CKPT_ENTRY_V2 (CKPT_PNAME + 4 * 4 + 8)  /* name, 4 dims, count */

/* Fixed-size header; every field little-endian as on the machines cnet
 * targets, no padding. Offsets of the fields are in docs/checkpoint.md. */
typedef struct ckpt_header {
    char magic[8];
    uint32_t version;
    uint32_t n_params;
    uint64_t fingerprint;
    uint64_t n_param_floats;
    uint64_t n_optim_floats;
    uint64_t rng[4];
    int64_t step;          /* optimizer steps */
    int64_t epoch;         /* epochs completed */
    int64_t batch;         /* batches done in the next epoch (a mid-epoch stop) */
    uint64_t epoch_rng[4]; /* RNG when that epoch began: redraws its permutation */
    double epoch_loss;     /* sum of batch losses so far in that epoch */
    double best_valid;
    int64_t batches;       /* v2: batches of an epoch (0: not recorded) */
    char optim[CKPT_ONAME]; /* v2: the optimizer's type, NUL-padded */
} ckpt_header;

/* One tensor of the table, as read. */
typedef struct ckpt_entry {
    char name[CKPT_PNAME + 1];
    uint32_t dims[4];      /* v2; all 0 in version 1 */
    uint64_t count;
    uint64_t offset;       /* where the entry starts in the file */
} ckpt_entry;

/* An open checkpoint whose size, checksum and fields were checked. */
typedef struct ckpt_file {
    const char *path;
    int fd;
    uint64_t size;
    ckpt_header h;
    uint64_t header_size, entry_size;
    uint64_t params_at, optim_at; /* where the float sections start */
} ckpt_file;

/* Open path and check it before anything is trusted: a regular file (a
 * folder, a FIFO or a device is refused without reading it), the magic and
 * version, a size equal to what the header declares, the CRC-32 (read in
 * small blocks), then every header field and every table entry (names,
 * shapes, counts adding up). Memory used: a few KiB, whatever the file. */
cn_status ckpt_open(ckpt_file *f, const char *path, cn_error *err);
/* Table entry i (< h.n_params), checked by ckpt_open. */
cn_status ckpt_entry_read(const ckpt_file *f, uint32_t i, ckpt_entry *e, cn_error *err);
/* n bytes at offset off of the file. */
cn_status ckpt_read_at(const ckpt_file *f, uint64_t off, void *buf, size_t n, cn_error *err);
void ckpt_close(ckpt_file *f);
/* "3x16": a shape without its trailing 1s, for messages. */
void ckpt_shape_str(const uint32_t d[4], char *buf, size_t size);

#endif
