/* idx.c - IDX files (the MNIST / Fashion-MNIST format) and the `idx` dataset type.
 *
 * Format (big-endian): magic 0x000008NN (0x08 = unsigned bytes, NN = number
 * of dimensions, 1..4), NN u32 sizes, then prod(sizes) bytes and nothing
 * more. Files are read through zlib's gzread, which reads gzip'd and plain
 * files alike; they are written gzip'd when the name ends in ".gz". Only
 * regular files are read (src/fs.c). A plain file's size must be the
 * header's plus the data's, checked before the data is read; a gzip'd one
 * must inflate to exactly that, and no more than 64 KiB past it is read.
 *
 * The dataset type reads an images file, (n, h, w) or (n, c, h, w), and an
 * optional labels file (n); samples stay bytes and read as x = u8 * scale.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "internal.h"

/* FIRST_READ: the buffer of a gzip'd body starts at up to 64 MiB
 * (Fashion-MNIST's 47 MB in one piece) and doubles while more data comes.
 * GZ_MAX_RATIO: deflate's largest expansion (a 258-byte match in 2 bits), so
 * a gzip file of S bytes inflates to at most 1032 (S + 1). TAIL_MAX: the
 * trailing bytes counted for the message before reading stops. */
enum {
    IDX_TYPE_U8 = 0x08, IDX_MAX_DIMS = 4, CHUNK = 1 << 30, FIRST_READ = 1 << 26,
    GZ_MAX_RATIO = 1032, TAIL_MAX = 1 << 16
};

/* Why the last gz call on f failed, without the "path: " zlib puts first. */
static const char *gz_why(gzFile f, const char *path, int *code)
{
    const char *msg = gzerror(f, code);
    size_t n = strlen(path);
    if (*code == Z_ERRNO)
        return strerror(errno);
    return strncmp(msg, path, n) == 0 && strncmp(msg + n, ": ", 2) == 0 ? msg + n + 2 : msg;
}

/* A failed gzread: corrupt compressed data, or the system's error. */
static cn_status read_error(gzFile f, const char *path, cn_error *err)
{
    int code;
    const char *why = gz_why(f, path, &code);
    if (code == Z_DATA_ERROR)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: corrupt gzip data: %s", path, why);
    return cn_errorf(err, CN_ERR_IO, "%s: cannot read: %s", path, why);
}

/* Read up to n bytes; *got gets the count. Returns 0 on a read error. */
static int read_all(gzFile f, unsigned char *buf, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        int r = gzread(f, buf + *got, (unsigned)CN_MIN(n - *got, (size_t)CHUNK));
        if (r < 0)
            return 0;
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return 1;
}

/* The header after the magic: ndim sizes, each in 1..INT_MAX; *bytes = their product. */
static cn_status read_dims(gzFile f, const char *path, int ndim, int dims[4], size_t *bytes,
                           cn_error *err)
{
    unsigned char h[4 * IDX_MAX_DIMS];
    size_t got;
    if (!read_all(f, h, 4 * (size_t)ndim, &got))
        return read_error(f, path, err);
    if (got < 4 * (size_t)ndim)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: truncated header: expected %d bytes, found %zu",
                         path, 4 + 4 * ndim, 4 + got);
    *bytes = 1;
    for (int i = 0; i < ndim; i++) {
        uint32_t d = (uint32_t)h[4 * i] << 24 | (uint32_t)h[4 * i + 1] << 16 |
                     (uint32_t)h[4 * i + 2] << 8 | h[4 * i + 3];
        if (d == 0 || d > INT_MAX)
            return cn_errorf(err, CN_ERR_FORMAT, "%s: dimension %d of %d is %u, expected 1 to %d",
                             path, i + 1, ndim, (unsigned)d, INT_MAX);
        if (*bytes > SIZE_MAX / d)
            return cn_errorf(err, CN_ERR_FORMAT, "%s: the %d dimensions overflow the size of "
                             "memory", path, ndim);
        dims[i] = (int)d;
        *bytes *= d;
    }
    return CN_OK;
}

/* The body into *data, in a buffer that grows with the data found: a header
 * announcing more than the file holds is a truncation, not an allocation of
 * the announced size. *got gets the bytes read, at most `bytes`. */
static cn_status read_data(gzFile f, const char *path, size_t bytes, unsigned char **data,
                           size_t *got, cn_error *err)
{
    size_t cap = 0, n;
    *got = 0;
    do {
        cap = cap ? CN_MIN(2 * cap, bytes) : CN_MIN(bytes, (size_t)FIRST_READ);
        unsigned char *more = realloc(*data, cap);
        if (!more)
            return cn_errorf(err, CN_ERR_NOMEM, "%s: out of memory for %zu bytes of data",
                             path, cap);
        *data = more;
        if (!read_all(f, *data + *got, cap - *got, &n))
            return read_error(f, path, err);
        *got += n;
    } while (*got == cap && cap < bytes);
    return CN_OK;
}

/* Trailing bytes after the data of a gzip stream, counted up to TAIL_MAX:
 * a stream far longer than its header says (a gzip bomb) fails at once. */
static cn_status gz_tail(gzFile f, const char *path, size_t bytes, cn_error *err)
{
    unsigned char tail[4096];
    size_t got, extra = 0;
    do {
        if (!read_all(f, tail, sizeof tail, &got))
            return read_error(f, path, err);
        extra += got;
    } while (got == sizeof tail && extra < TAIL_MAX);
    if (extra)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: %s%zu bytes of trailing data after the %zu "
                         "bytes the header announces", path, extra >= TAIL_MAX ? "at least " : "",
                         extra, bytes);
    /* zlib reads a gzip stream without its trailer as a short file: the
     * data came whole, but its checksum could not be verified */
    int code;
    gz_why(f, path, &code);
    if (code == Z_BUF_ERROR)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: truncated gzip stream (the checksum after "
                         "the data is missing)", path);
    return CN_OK;
}

/* A plain file's body: its size, known before any of it is read, must be
 * the header's and the data's, so the buffer holds exactly what both say. */
static cn_status plain_body(gzFile f, const char *path, uint64_t size, int head, size_t bytes,
                            unsigned char **data, cn_error *err)
{
    uint64_t have = size > (uint64_t)head ? size - (uint64_t)head : 0; /* (size: at the open) */
    size_t got = 0;
    if (have > bytes)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: %" PRIu64 " bytes of trailing data after the "
                         "%zu bytes the header announces", path, have - bytes, bytes);
    /* have == 0 < bytes (at least 1): said for the static analyzer */
    if (have < bytes || have == 0)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: truncated: expected %zu bytes of data after "
                         "the %d-byte header, found %" PRIu64, path, bytes, head, have);
    if (!(*data = malloc(bytes)))
        return cn_errorf(err, CN_ERR_NOMEM, "%s: out of memory for %zu bytes of data", path,
                         bytes);
    if (!read_all(f, *data, bytes, &got))
        return read_error(f, path, err);
    if (got < bytes) /* cut while being read */
        return cn_errorf(err, CN_ERR_FORMAT, "%s: truncated: expected %zu bytes of data after "
                         "the %d-byte header, found %zu", path, bytes, head, got);
    return CN_OK;
}

/* After the magic was checked: dims, the body, and nothing after it. A
 * gzip stream's length is known only once inflated: the header is first
 * held against what a file of this size can inflate to, the buffer grows
 * with the data found, and reading stops soon after the announced end. */
static cn_status read_body(gzFile f, const char *path, uint64_t size, int ndim, int dims[4],
                           unsigned char **data, cn_error *err)
{
    size_t bytes = 0, got;
    int head = 4 + 4 * ndim;
    cn_status st = read_dims(f, path, ndim, dims, &bytes, err);
    if (st)
        return st;
    if (gzdirect(f))
        return plain_body(f, path, size, head, bytes, data, err);
    uint64_t most = size < UINT64_MAX / GZ_MAX_RATIO ? (size + 1) * GZ_MAX_RATIO : UINT64_MAX;
    if ((uint64_t)bytes > most - (uint64_t)head)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: truncated: expected %zu bytes of data after "
                         "the %d-byte header, but a gzip file of %" PRIu64 " bytes inflates to "
                         "at most %" PRIu64, path, bytes, head, size, most);
    if ((st = read_data(f, path, bytes, data, &got, err)))
        return st;
    if (got < bytes)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: truncated: expected %zu bytes of data after "
                         "the %d-byte header, found %zu", path, bytes, head, got);
    return gz_tail(f, path, bytes, err);
}

cn_status cn_idx_read(const char *path, int *ndim, int dims[4], unsigned char **data,
                      cn_error *err)
{
    int fd;
    uint64_t size;
    *data = NULL;
    cn_status st = cn_file_open(path, "an IDX file", UINT64_MAX, &fd, &size, err);
    if (st)
        return st;
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        close(fd);
        return cn_errorf(err, CN_ERR_NOMEM, "%s: out of memory for a gzip stream", path);
    }
    unsigned char m[4];
    size_t got;
    if (!read_all(f, m, 4, &got)) {
        st = read_error(f, path, err);
    } else if (got < 4) {
        st = cn_errorf(err, CN_ERR_FORMAT, "%s: truncated header: expected 4 bytes of magic, "
                       "found %zu", path, got);
    } else if (m[0] || m[1] || m[2] != IDX_TYPE_U8) {
        unsigned long magic = (unsigned long)m[0] << 24 | (unsigned long)m[1] << 16 |
                              (unsigned long)m[2] << 8 | m[3];
        st = cn_errorf(err, CN_ERR_FORMAT, "%s: not an IDX file of unsigned bytes (magic "
                       "0x000008NN expected, NN = 01 to 04 dimensions; found 0x%08lx)", path,
                       magic);
    } else if (m[3] < 1 || m[3] > IDX_MAX_DIMS) {
        st = cn_errorf(err, CN_ERR_FORMAT, "%s: IDX header gives %d dimensions, expected 1 to %d",
                       path, m[3], IDX_MAX_DIMS);
    } else {
        *ndim = m[3];
        st = read_body(f, path, size, *ndim, dims, data, err);
    }
    gzclose(f);
    if (st) {
        free(*data);
        *data = NULL;
    }
    return st;
}

cn_status cn_idx_write(const char *path, int ndim, const int dims[4], const unsigned char *data,
                       cn_error *err)
{
    if (ndim < 1 || ndim > IDX_MAX_DIMS)
        return cn_errorf(err, CN_ERR_INTERNAL, "%s: cannot write %d dimensions, IDX holds 1 to %d",
                         path, ndim, IDX_MAX_DIMS);
    unsigned char h[4 + 4 * IDX_MAX_DIMS] = {0, 0, IDX_TYPE_U8, (unsigned char)ndim};
    size_t bytes = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 1)
            return cn_errorf(err, CN_ERR_INTERNAL, "%s: dimension %d is %d, expected >= 1", path,
                             i + 1, dims[i]);
        uint32_t d = (uint32_t)dims[i];
        h[4 + 4 * i] = (unsigned char)(d >> 24);
        h[5 + 4 * i] = (unsigned char)(d >> 16);
        h[6 + 4 * i] = (unsigned char)(d >> 8);
        h[7 + 4 * i] = (unsigned char)d;
        bytes *= (size_t)dims[i];
    }
    size_t len = strlen(path);
    int gz = len >= 3 && strcmp(path + len - 3, ".gz") == 0;
    errno = 0;
    gzFile f = gzopen(path, gz ? "wb" : "wbT"); /* T: plain, uncompressed output */
    if (!f)
        return cn_errorf(err, CN_ERR_IO, "%s: cannot create: %s", path,
                         strerror(errno ? errno : ENOMEM));
    int ok = gzwrite(f, h, 4 + 4 * (unsigned)ndim) > 0;
    for (size_t off = 0; ok && off < bytes; off += CHUNK)
        ok = gzwrite(f, data + off, (unsigned)CN_MIN(bytes - off, (size_t)CHUNK)) > 0;
    int code;
    cn_status st = ok ? CN_OK : cn_errorf(err, CN_ERR_IO, "%s: cannot write: %s", path,
                                          gz_why(f, path, &code));
    if (gzclose(f) != Z_OK && !st)
        st = cn_errorf(err, CN_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    return st;
}

/* ---- the `idx` dataset type ---- */

static const cn_key idx_keys[] = {
    {"dir", CN_KEY_STRING, "fashion-mnist", NULL,
     "dataset folder, searched in $CNET_DATA_PATH, ./datasets and /usr/share/datasets "
     "unless absolute or ./-relative"},
    {"train_images", CN_KEY_STRING, "train-images-idx3-ubyte.gz", NULL,
     "training images, IDX (n, h, w) or (n, c, h, w), in dir unless absolute"},
    {"train_labels", CN_KEY_STRING, "train-labels-idx1-ubyte.gz", NULL,
     "training labels, IDX (n); none = unlabelled"},
    {"test_images", CN_KEY_STRING, "t10k-images-idx3-ubyte.gz", NULL, "test images"},
    {"test_labels", CN_KEY_STRING, "t10k-labels-idx1-ubyte.gz", NULL,
     "test labels; none = unlabelled"},
    {"scale", CN_KEY_FLOAT, "0.00392156862745098", "(-inf, inf)",
     "a byte b reads as b * scale (default 1/255: values in [0, 1])"},
    CN_KEY_END,
};

/* path = name when absolute, else dir/name, with dir located once (into base). */
static cn_status resolve(const char *dir, const char *name, char *base, char *path, size_t size,
                         cn_error *err)
{
    if (name[0] == '/') {
        if ((size_t)snprintf(path, size, "%s", name) >= size)
            return cn_errorf(err, CN_ERR_IO, "path too long: '%s'", name);
        return CN_OK;
    }
    cn_status st;
    if (!base[0] && (st = cn_data_locate(dir, base, size, err)))
        return st;
    if ((size_t)snprintf(path, size, "%s/%s", base, name) >= size)
        return cn_errorf(err, CN_ERR_IO, "path too long: '%s/%s'", base, name);
    return CN_OK;
}

/* Labels of ds from `path` (1-D, ds->n of them); sets n_classes = max + 1. */
static cn_status read_labels(cn_dataset *ds, const char *path, cn_error *err)
{
    int ndim, dims[4];
    unsigned char *y;
    cn_status st = cn_idx_read(path, &ndim, dims, &y, err);
    if (st)
        return st;
    if (ndim != 1)
        st = cn_errorf(err, CN_ERR_SHAPE, "%s: labels must be 1-D (n), found %d dimensions",
                       path, ndim);
    else if (dims[0] != ds->n)
        st = cn_errorf(err, CN_ERR_SHAPE, "%s holds %d images but %s holds %d labels",
                       ds->source, ds->n, path, dims[0]);
    else if (!(ds->labels = malloc((size_t)ds->n * sizeof *ds->labels)))
        st = cn_errorf(err, CN_ERR_NOMEM, "%s: out of memory for %d labels", path, ds->n);
    for (int i = 0; !st && i < ds->n; i++) {
        ds->labels[i] = y[i];
        ds->n_classes = CN_MAX(ds->n_classes, y[i] + 1);
    }
    free(y);
    return st;
}

static cn_status idx_load(cn_sec *s, cn_split split, cn_dataset **out, cn_error *err)
{
    const char *dir, *names[4], *img, *lab;
    static const char *const keys[4] = {"train_images", "train_labels", "test_images",
                                        "test_labels"};
    float scale;
    cn_status st;
    *out = NULL;
    /* Every key is read before any file, so the caller can check for unknown ones. */
    if ((st = cn_sec_str(s, "dir", &dir, err)) || (st = cn_sec_float(s, "scale", &scale, err)) ||
        (st = cn_byte_scale_check(s, scale, err)))
        return st;
    for (int i = 0; i < 4; i++)
        if ((st = cn_sec_str(s, keys[i], &names[i], err)))
            return st;
    int k = split == CN_SPLIT_TRAIN ? 0 : 2;
    img = names[k];
    lab = names[k + 1];
    if (!img[0])
        return cn_sec_bad(s, keys[k], CN_ERR_CFG, err, "expects an IDX file name");
    cn_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for a dataset");
    char base[512] = "", path[512];
    int ndim, dims[4];
    if ((st = resolve(dir, img, base, ds->source, sizeof ds->source, err)) ||
        (st = cn_idx_read(ds->source, &ndim, dims, &ds->u8, err)))
        goto fail;
    if (ndim != 3 && ndim != 4) {
        st = cn_errorf(err, CN_ERR_SHAPE, "%s: images must be 3-D (n, h, w) or 4-D "
                       "(n, c, h, w), found %d dimensions", ds->source, ndim);
        goto fail;
    }
    ds->n = dims[0];
    ds->c = ndim == 4 ? dims[1] : 1;
    ds->h = dims[ndim - 2];
    ds->w = dims[ndim - 1];
    ds->scale = scale;
    int labelled = lab[0] && strcmp(lab, "none") != 0;
    if (labelled && ((st = resolve(dir, lab, base, path, sizeof path, err)) ||
                     (st = read_labels(ds, path, err))))
        goto fail;
    *out = ds;
    return CN_OK;
fail:
    cn_dataset_free(ds);
    return st;
}

const cn_dataset_ops cn_dataset_idx = {
    .type = "idx",
    .keys = idx_keys,
    .doc = "IDX files as distributed for MNIST and Fashion-MNIST, gzip'd or plain",
    .load = idx_load,
};
