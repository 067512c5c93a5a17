/* ckpt_read.c - the checkpoint reader's first half: everything that can be
 * checked in the file alone, before the network is looked at. The file is
 * never trusted before it is checked: only a regular file is read, its
 * header before the rest, its size against what the header declares, its
 * checksum in small blocks; then its fields, each an error naming its byte
 * offset, since a file whose checksum is right but whose fields are
 * impossible was damaged by whatever wrote it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ckpt_format.h"

#define OFF(field) ((unsigned long long)offsetof(ckpt_header, field))
#define CRC_BLOCK 65536

cn_status ckpt_read_at(const ckpt_file *f, uint64_t off, void *buf, size_t n, cn_error *err)
{
    unsigned char *p = buf;
    while (n) {
        ssize_t got = pread(f->fd, p, n, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) /* 0: the file shrank while being read */
            return cn_errorf(err, CN_ERR_IO, "%s: cannot read checkpoint at offset %llu: %s",
                             f->path, (unsigned long long)off,
                             got < 0 ? strerror(errno) : "the file ends early");
        p += got, off += (uint64_t)got, n -= (size_t)got;
    }
    return CN_OK;
}

static const char *file_kind(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

/* O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then
 * refuses it (and every other non-regular file) before any read. */
static cn_status open_regular(ckpt_file *f, const char *path, cn_error *err)
{
    struct stat st;
    f->path = path;
    f->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f->fd < 0)
        return cn_errorf(err, CN_ERR_IO, "%s: cannot open checkpoint: %s", path,
                         strerror(errno));
    if (fstat(f->fd, &st) != 0)
        return cn_errorf(err, CN_ERR_IO, "%s: cannot open checkpoint: %s", path,
                         strerror(errno));
    if (!S_ISREG(st.st_mode))
        return cn_errorf(err, CN_ERR_IO, "%s: not a checkpoint: it is %s, not a regular file",
                         path, file_kind(st.st_mode));
    f->size = (uint64_t)st.st_size;
    return CN_OK;
}

/* Magic, version and header; the header's sizes against the file's. */
static cn_status read_header(ckpt_file *f, cn_error *err)
{
    ckpt_header *h = &f->h;
    if (f->size < 12 || ckpt_read_at(f, 0, h, 12, err) || memcmp(h->magic, CKPT_MAGIC, 8))
        return cn_errorf(err, CN_ERR_FORMAT, "%s: not a cnet checkpoint (bad magic)", f->path);
    if (h->version != 1 && h->version != CKPT_VERSION)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: checkpoint format version %u, this cnet "
                         "reads versions 1 and %u", f->path, h->version, CKPT_VERSION);
    f->header_size = h->version == 1 ? CKPT_HEADER_V1 : sizeof *h;
    f->entry_size = h->version == 1 ? CKPT_ENTRY_V1 : CKPT_ENTRY_V2;
    if (f->size < f->header_size + 4)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged: %llu bytes, shorter than a "
                         "checkpoint's %llu-byte header and checksum (truncated)", f->path,
                         (unsigned long long)f->size,
                         (unsigned long long)(f->header_size + 4));
    if (ckpt_read_at(f, 0, h, (size_t)f->header_size, err))
        return err->code;
    /* each term at most the file's size, so the sum cannot overflow */
    uint64_t room = f->size - f->header_size - 4;
    if (h->n_params > room / f->entry_size || h->n_param_floats > room / 4 ||
        h->n_optim_floats > room / 4)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged: its header (offsets 12-39) declares "
                         "%u tensors, %llu parameter and %llu optimizer values, more than its "
                         "%llu bytes hold (truncated, or a damaged header)", f->path,
                         h->n_params, (unsigned long long)h->n_param_floats,
                         (unsigned long long)h->n_optim_floats, (unsigned long long)f->size);
    f->params_at = f->header_size + h->n_params * f->entry_size;
    f->optim_at = f->params_at + h->n_param_floats * 4;
    uint64_t want = f->optim_at + h->n_optim_floats * 4 + 4;
    if (want != f->size)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: truncated or padded checkpoint: %llu bytes, "
                         "its header declares %llu", f->path, (unsigned long long)f->size,
                         (unsigned long long)want);
    return CN_OK;
}

/* The CRC-32 of every byte before the last four, CRC_BLOCK at a time. */
static cn_status check_crc(const ckpt_file *f, cn_error *err)
{
    unsigned char block[CRC_BLOCK];
    uLong crc = crc32(0L, Z_NULL, 0);
    uint32_t stored;
    for (uint64_t at = 0, end = f->size - 4; at < end;) {
        size_t n = end - at < sizeof block ? (size_t)(end - at) : sizeof block;
        if (ckpt_read_at(f, at, block, n, err))
            return err->code;
        crc = crc32(crc, block, (uInt)n);
        at += n;
    }
    if (ckpt_read_at(f, f->size - 4, &stored, 4, err))
        return err->code;
    if ((uint32_t)crc != stored)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: checksum mismatch: the checkpoint is "
                         "damaged", f->path);
    return CN_OK;
}

static int all_zero(const uint64_t s[4])
{
    return !(s[0] | s[1] | s[2] | s[3]);
}

/* 1 when name (NUL-padded in n bytes) is 1 to n-1 characters of [a-z0-9_],
 * or several such types joined by '+' (one per parameter group). */
static int good_type(const char *name, size_t n)
{
    size_t len = strnlen(name, n);
    for (size_t i = 0; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '_' || (name[i] == '+' && i > 0 && i + 1 < len && name[i - 1] != '+')))
            return 0;
    return len > 0 && len < n;
}

/* The counters and numbers of the header: in range, and consistent with
 * each other (every epoch has at least one batch, and one step a batch). */
static cn_status check_fields(const ckpt_file *f, cn_error *err)
{
    const ckpt_header *h = &f->h;
    const char *p = f->path;
    if (h->version >= 2 && !good_type(h->optim, sizeof h->optim))
        return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged at offset %llu: the optimizer's type "
                         "is not 1 to %d characters of [a-z0-9_+]", p, OFF(optim), CKPT_ONAME - 1);
    if (h->step < 0)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged at offset %llu: step %lld is "
                         "negative", p, OFF(step), (long long)h->step);
    if (h->epoch < 0 || h->epoch > INT_MAX)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged at offset %llu: epoch %lld is out of "
                         "range (0 to %d)", p, OFF(epoch), (long long)h->epoch, INT_MAX);
    if (h->batch < 0 || h->batch > INT_MAX)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged at offset %llu: batch %lld is out of "
                         "range (0 to %d)", p, OFF(batch), (long long)h->batch, INT_MAX);
    if (h->batches < 0 || h->batches > INT_MAX)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged at offset %llu: %lld batches an "
                         "epoch is out of range (0 to %d)", p, OFF(batches),
                         (long long)h->batches, INT_MAX);
    if (h->batches && h->batch >= h->batches)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged at offset %llu: batch %lld done of "
                         "an epoch of %lld batches", p, OFF(batch), (long long)h->batch,
                         (long long)h->batches);
    /* both factors at most INT_MAX: no overflow */
    if (h->batches && h->step != h->epoch * h->batches + h->batch)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged at offset %llu: step %lld, but %lld "
                         "epochs of %lld batches and %lld batches more make %lld", p, OFF(step),
                         (long long)h->step, (long long)h->epoch, (long long)h->batches,
                         (long long)h->batch, (long long)(h->epoch * h->batches + h->batch));
    if (!h->batches && h->step < h->epoch + h->batch)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged at offset %llu: step %lld is fewer "
                         "than %lld epochs and %lld batches need", p, OFF(step),
                         (long long)h->step, (long long)h->epoch, (long long)h->batch);
    if (!isfinite(h->epoch_loss) || (h->batch == 0 && h->epoch_loss != 0.0))
        return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged at offset %llu: the epoch's loss so "
                         "far is %g after %lld batches", p, OFF(epoch_loss), h->epoch_loss,
                         (long long)h->batch);
    if (isnan(h->best_valid) || h->best_valid == -INFINITY)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged at offset %llu: the best validation "
                         "loss is %g", p, OFF(best_valid), h->best_valid);
    if (all_zero(h->rng))
        return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged at offset %llu: the RNG state is all "
                         "zeros", p, OFF(rng));
    if (h->batch > 0 && all_zero(h->epoch_rng))
        return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged at offset %llu: the epoch's RNG "
                         "state is all zeros", p, OFF(epoch_rng));
    return CN_OK;
}

cn_status ckpt_entry_read(const ckpt_file *f, uint32_t i, ckpt_entry *e, cn_error *err)
{
    unsigned char raw[CKPT_ENTRY_V2];
    memset(e, 0, sizeof *e);
    e->offset = f->header_size + (uint64_t)i * f->entry_size;
    if (ckpt_read_at(f, e->offset, raw, (size_t)f->entry_size, err))
        return err->code;
    memcpy(e->name, raw, CKPT_PNAME);
    if (f->h.version >= 2)
        memcpy(e->dims, raw + CKPT_PNAME, sizeof e->dims);
    memcpy(&e->count, raw + f->entry_size - 8, 8);
    return CN_OK;
}

void ckpt_shape_str(const uint32_t d[4], char *buf, size_t size)
{
    int n = 4;
    while (n > 1 && d[n - 1] == 1)
        n--;
    size_t len = 0;
    for (int k = 0; k < n && len < size; k++)
        len += (size_t)snprintf(buf + len, size - len, "%s%u", k ? "x" : "", d[k]);
}

/* Every entry: a name of 1 to 63 printable characters, a shape (v2) whose
 * product is its count, and counts adding up to the header's total. */
static cn_status check_table(const ckpt_file *f, cn_error *err)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < f->h.n_params; i++) {
        ckpt_entry e;
        if (ckpt_entry_read(f, i, &e, err))
            return err->code;
        size_t len = strnlen(e.name, CKPT_PNAME);
        int printable = len > 0 && len < CKPT_PNAME;
        for (size_t k = 0; k < len; k++)
            printable = printable && e.name[k] > ' ' && e.name[k] < 127;
        if (!printable)
            return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged at offset %llu: tensor %u's name "
                             "is not 1 to %d printable characters", f->path,
                             (unsigned long long)e.offset, i + 1, CKPT_PNAME - 1);
        uint64_t product = 1;
        for (int k = 0; f->h.version >= 2 && k < 4; k++)
            product = (e.dims[k] && product <= f->h.n_param_floats / e.dims[k])
                    ? product * e.dims[k] : 0;
        if (f->h.version >= 2 && product != e.count) {
            char s[64];
            ckpt_shape_str(e.dims, s, sizeof s);
            return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged at offset %llu: tensor '%s' has "
                             "shape %s but %llu values", f->path,
                             (unsigned long long)e.offset, e.name, s,
                             (unsigned long long)e.count);
        }
        if (e.count == 0 || e.count > f->h.n_param_floats - total)
            return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged at offset %llu: tensor '%s' has "
                             "%llu values, but the header's %llu parameter values leave %llu "
                             "for it", f->path, (unsigned long long)e.offset, e.name,
                             (unsigned long long)e.count,
                             (unsigned long long)f->h.n_param_floats,
                             (unsigned long long)(f->h.n_param_floats - total));
        total += e.count;
    }
    if (total != f->h.n_param_floats)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: damaged at offset %llu: the header declares "
                         "%llu parameter values, its %u tensors hold %llu", f->path,
                         OFF(n_param_floats), (unsigned long long)f->h.n_param_floats,
                         f->h.n_params, (unsigned long long)total);
    return CN_OK;
}

cn_status ckpt_open(ckpt_file *f, const char *path, cn_error *err)
{
    memset(f, 0, sizeof *f);
    if (open_regular(f, path, err) || read_header(f, err) || check_crc(f, err) ||
        check_fields(f, err) || check_table(f, err)) {
        ckpt_close(f);
        return err->code;
    }
    return CN_OK;
}

void ckpt_close(ckpt_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}
