/* csv.c - the `csv` dataset type: one sample per line of delimited numbers.
 *
 * A line holds the same number of columns as the first data line; one of
 * them (label_col, counted from 0) may be the class label, a non-negative
 * integer, and the others are the features in order, read with strtof and
 * stored as floats x = value * scale. The features of a sample form a
 * (C, H, W) tensor in row-major order: `shape`, or 1 x 1 x N by default.
 * Blank lines are skipped, a final CR is dropped (CRLF files), and with
 * `header` the first line is skipped whatever it holds. There is no quoting:
 * every field is a number. Errors name file:line:column, the column being
 * the field's position counted from 1; a NaN or Inf (read, or made by
 * `scale`) also names the sample (its 0-based index among the data rows).
 * The file must be a regular file of at most 2 GiB with lines of at most
 * 1 MiB; it is read one line at a time.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A file holds at most 2 GiB, a line at most 1 MiB (some 100000 features).
 * Memory follows the file: a value takes at least 2 bytes of text and 4 as
 * a float, so the rows need about twice the file's bytes; and a file of
 * anything else (one endless line of garbage) fails within its first MiB. */
#define CSV_MAX_BYTES ((uint64_t)1 << 31)
#define CSV_MAX_LINE (1 << 20)

static const cn_key csv_keys[] = {
    {"train_file", CN_KEY_STRING, NULL, NULL,
     "training rows, searched in $CNET_DATA_PATH, ./datasets and /usr/share/datasets unless "
     "absolute or ./-relative"},
    {"test_file", CN_KEY_STRING, NULL, NULL, "test rows, with the columns of train_file"},
    {"label_col", CN_KEY_INT, "0", "[-1, 1048575]",
     "column of the class label, counted from 0 (-1 = no labels)"},
    {"header", CN_KEY_BOOL, "0", NULL, "skip the first line (column names)"},
    {"scale", CN_KEY_FLOAT, "1", "(-inf, inf)", "a value v reads as v * scale"},
    {"shape", CN_KEY_LIST, "", "[1, 1048576]",
     "C,H,W of the features of a row (empty = 1,1,N for N feature columns)"},
    {"delimiter", CN_KEY_STRING, ",", NULL,
     "column separator: one character, or `tab` or `semicolon`"},
    CN_KEY_END,
};

/* What a load reads from [data]. */
typedef struct csv_opts {
    const char *file;
    int label_col, header, shape[3], n_shape;
    float scale;
    char delim;
} csv_opts;

/* Rows parsed so far. */
typedef struct rows {
    float *x;    /* (n, features) */
    int *labels; /* (n), or NULL when unlabelled */
    int n, cap, cols, features, first_line;
} rows;

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Field [a, b) with surrounding blanks trimmed, for messages. */
static void trim(const char **a, const char **b)
{
    while (*a < *b && is_blank(**a))
        (*a)++;
    while (*b > *a && is_blank((*b)[-1]))
        (*b)--;
}

/* Parse field [a, b) (column col of line, the data row of sample `sample`)
 * into *x, or the label into *label. */
static cn_status parse_field(const char *path, int line, int col, int sample, const char *a,
                             const char *b, float *x, int *label, cn_error *err)
{
    char *end;
    trim(&a, &b);
    int len = (int)CN_MIN(b - a, 40);
    if (label) {
        errno = 0;
        long v = a < b && *a != '-' && *a != '+' ? strtol(a, &end, 10) : -1;
        if (v < 0 || end != b || errno == ERANGE || v >= INT_MAX)
            return cn_errorf(err, CN_ERR_FORMAT, "%s:%d:%d: expected a label (an integer >= 0), "
                             "got '%.*s'", path, line, col, len, a);
        *label = (int)v;
        return CN_OK;
    }
    float v = a < b ? strtof(a, &end) : 0.0f;
    if (a == b || end != b)
        return cn_errorf(err, CN_ERR_FORMAT, "%s:%d:%d: expected a number, got '%.*s'", path,
                         line, col, len, a);
    if (!isfinite(v))
        return cn_errorf(err, CN_ERR_FORMAT, "%s:%d:%d: expected a finite number, got '%.*s' "
                         "(sample %d)", path, line, col, len, a, sample);
    *x = v;
    return CN_OK;
}

/* The first data line fixes the column count. */
static cn_status first_row(cn_sec *s, const csv_opts *o, int cols, int line, rows *r,
                           cn_error *err)
{
    if (o->label_col >= cols)
        return cn_sec_bad(s, "label_col", CN_ERR_SHAPE, err, "%s:%d has %d columns", o->file,
                          line, cols);
    r->cols = cols;
    r->features = cols - (o->label_col >= 0);
    r->first_line = line;
    if (r->features == 0)
        return cn_errorf(err, CN_ERR_FORMAT, "%s:%d: the label is the only column; no features",
                         o->file, line);
    return CN_OK;
}

/* One line [p, e) holding data: append its row to r. */
static cn_status add_row(cn_sec *s, const csv_opts *o, int line, const char *p, const char *e,
                         rows *r, cn_error *err)
{
    int cols = 1;
    cn_status st;
    for (const char *q = p; q < e; q++)
        cols += *q == o->delim;
    if (!r->cols && (st = first_row(s, o, cols, line, r, err)))
        return st;
    if (cols != r->cols)
        return cn_errorf(err, CN_ERR_FORMAT, "%s:%d: row has %d columns, expected %d (from line "
                         "%d)", o->file, line, cols, r->cols, r->first_line);
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 256;
        float *x = realloc(r->x, (size_t)cap * (size_t)r->features * sizeof *x);
        int *y = x && o->label_col >= 0 ? realloc(r->labels, (size_t)cap * sizeof *y) : NULL;
        if (x)
            r->x = x;
        if (y)
            r->labels = y;
        if (!x || (o->label_col >= 0 && !y))
            return cn_errorf(err, CN_ERR_NOMEM, "%s: out of memory for %d rows", o->file, cap);
        r->cap = cap;
    }
    float *x = r->x + (size_t)r->n * (size_t)r->features;
    for (int col = 0, f = 0; col < cols; col++) {
        const char *end = memchr(p, o->delim, (size_t)(e - p));
        end = end ? end : e;
        int is_label = col == o->label_col;
        if ((st = parse_field(o->file, line, col + 1, r->n, p, end, is_label ? NULL : &x[f],
                              is_label ? &r->labels[r->n] : NULL, err)))
            return st;
        f += !is_label;
        p = end + 1;
    }
    for (int f = 0; o->scale != 1.0f && f < r->features; f++) {
        x[f] *= o->scale;
        if (!isfinite(x[f]))
            return cn_errorf(err, CN_ERR_FORMAT, "%s:%d: feature %d times scale %g is not a "
                             "finite float (sample %d)", o->file, line, f + 1, o->scale, r->n);
    }
    r->n++;
    return CN_OK;
}

/* The next line of f into *buf (without its '\n', NUL-terminated), which
 * grows with the line up to CSV_MAX_LINE + 1 bytes: 1, or 0 at the end of
 * the file; *len gets its length. A longer line is -1, a read error -2, no
 * memory -3. */
static int next_line(FILE *f, char **buf, size_t *cap, size_t *len)
{
    size_t n = 0;
    int ch;
    while ((ch = getc_unlocked(f)) != EOF && ch != '\n') {
        if (n == CSV_MAX_LINE)
            return -1;
        if (n + 1 == *cap) {
            size_t more = CN_MIN(2 * *cap, (size_t)CSV_MAX_LINE + 1);
            char *b = realloc(*buf, more);
            if (!b)
                return -3;
            *buf = b;
            *cap = more;
        }
        (*buf)[n++] = (char)ch;
    }
    (*buf)[n] = '\0';
    *len = n;
    if (ch == EOF && ferror(f))
        return -2;
    return ch != EOF || n > 0;
}

/* Every data line of the file into r, one line at a time: a file of
 * anything but lines of numbers fails at its first bad line, unread past it. */
static cn_status parse(cn_sec *s, const csv_opts *o, FILE *f, rows *r, cn_error *err)
{
    size_t cap = 4096, len;
    char *buf = calloc(cap, 1);
    if (!buf)
        return cn_errorf(err, CN_ERR_NOMEM, "%s: out of memory for a line", o->file);
    cn_status st = CN_OK;
    uint64_t total = 0;
    int line = 1, got;
    for (; !st && (got = next_line(f, &buf, &cap, &len)) > 0; line++) {
        const char *e = buf + len;
        if (e > buf && e[-1] == '\r')
            e--;
        const char *a = buf, *b = e;
        trim(&a, &b);
        if ((total += len + 1) > CSV_MAX_BYTES) /* it grew while being read */
            st = cn_file_too_big(o->file, CSV_MAX_BYTES, 1, "a CSV file", CSV_MAX_BYTES, err);
        else if (!(line == 1 && o->header) && a < b)
            st = add_row(s, o, line, buf, e, r, err);
    }
    free(buf);
    if (!st && got == -1)
        st = cn_errorf(err, CN_ERR_FORMAT, "%s:%d: line longer than %d bytes (the longest a "
                       "CSV line may be)", o->file, line, CSV_MAX_LINE);
    else if (!st && got == -2)
        st = cn_errorf(err, CN_ERR_IO, "%s: cannot read: %s", o->file, strerror(errno));
    else if (!st && got == -3)
        st = cn_errorf(err, CN_ERR_NOMEM, "%s:%d: out of memory for a line", o->file, line);
    else if (!st && r->n == 0)
        st = cn_errorf(err, CN_ERR_FORMAT, "%s: no data rows%s", o->file,
                       o->header ? " after the header line" : " (empty file)");
    return st;
}

/* The keys, all read before any file (so the caller can check for unknown ones). */
static cn_status read_opts(cn_sec *s, cn_split split, csv_opts *o, cn_error *err)
{
    const char *train, *test, *shape, *delim;
    cn_status st;
    if ((st = cn_sec_str(s, "train_file", &train, err)) ||
        (st = cn_sec_str(s, "test_file", &test, err)) ||
        (st = cn_sec_int(s, "label_col", &o->label_col, err)) ||
        (st = cn_sec_bool(s, "header", &o->header, err)) ||
        (st = cn_sec_float(s, "scale", &o->scale, err)) ||
        (st = cn_sec_str(s, "shape", &shape, err)) ||
        (st = cn_sec_str(s, "delimiter", &delim, err)))
        return st;
    o->n_shape = 0;
    if (shape[0] && ((st = cn_sec_ints(s, "shape", o->shape, 3, &o->n_shape, err)) ||
                     o->n_shape != 3 || o->shape[0] < 1 || o->shape[1] < 1 || o->shape[2] < 1))
        return st ? st : cn_sec_bad(s, "shape", CN_ERR_CFG, err, "expects C,H,W: three "
                                    "integers >= 1");
    o->delim = !strcmp(delim, "tab") ? '\t' : !strcmp(delim, "semicolon") ? ';' : delim[0];
    if (!o->delim || (strlen(delim) != 1 && o->delim == delim[0]) ||
        isalnum((unsigned char)o->delim) || strchr(".+-", o->delim))
        return cn_sec_bad(s, "delimiter", CN_ERR_CFG, err, "expects one character that is not "
                          "part of a number, or tab or semicolon");
    const char *key = split == CN_SPLIT_TRAIN ? "train_file" : "test_file";
    o->file = split == CN_SPLIT_TRAIN ? train : test;
    if (!o->file || !o->file[0])
        return cn_sec_errorf(s, CN_ERR_CFG, err, "needs key '%s' (a CSV file)", key);
    return CN_OK;
}

static cn_status csv_load(cn_sec *s, cn_split split, cn_dataset **out, cn_error *err)
{
    csv_opts o;
    rows r = {0};
    FILE *f = NULL;
    cn_status st;
    *out = NULL;
    cn_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for a dataset");
    if ((st = read_opts(s, split, &o, err)) ||
        (st = cn_data_locate(o.file, ds->source, sizeof ds->source, err)))
        goto done;
    o.file = ds->source;
    if ((st = cn_file_fopen(o.file, "a CSV file", CSV_MAX_BYTES, &f, err)) ||
        (st = parse(s, &o, f, &r, err)))
        goto done;
    ds->n = r.n;
    ds->c = o.n_shape ? o.shape[0] : 1;
    ds->h = o.n_shape ? o.shape[1] : 1;
    ds->w = o.n_shape ? o.shape[2] : r.features;
    if ((long long)ds->c * ds->h * ds->w != r.features) {
        st = cn_sec_bad(s, "shape", CN_ERR_SHAPE, err, "%dx%dx%d = %lld values per sample, but "
                        "%s has %d feature columns", ds->c, ds->h, ds->w,
                        (long long)ds->c * ds->h * ds->w, o.file, r.features);
        goto done;
    }
    ds->f32 = r.x;
    ds->labels = r.labels;
    ds->scale = 1.0f; /* the values were scaled when parsed */
    r.x = NULL;
    r.labels = NULL;
    for (int i = 0; ds->labels && i < ds->n; i++)
        ds->n_classes = CN_MAX(ds->n_classes, ds->labels[i] + 1);
    *out = ds;
done:
    if (f)
        fclose(f);
    free(r.x);
    free(r.labels);
    if (st)
        cn_dataset_free(ds);
    return st;
}

const cn_dataset_ops cn_dataset_csv = {
    .type = "csv",
    .keys = csv_keys,
    .doc = "delimited text, one sample per line: numbers, and optionally an integer class "
           "label column",
    .load = csv_load,
};
