/* check_data.c - the data module: IDX files, dataset search, the [data]
 * splits and the batch loader. Fixtures are tiny IDX files written to a
 * temp dir; sample i's byte k is (7 i + k) mod 256 and its label i mod 3, so
 * every batch can be checked against the sample it should hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <zlib.h>

#include "cnet/cnet.h"
#include "internal.h"
#include "util.h"

/* dir/name in a rotating static buffer. */
static const char *at(const char *dir, const char *name)
{
    static char buf[8][1024];
    static int next;
    char *p = buf[next++ % 8];
    ck_assert_msg((size_t)snprintf(p, sizeof buf[0], "%s/%s", dir, name) < sizeof buf[0],
                  "path too long");
    return p;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

static unsigned char pixel(int i, int k)
{
    return (unsigned char)((7 * i + k) % 256);
}

/* n images of h x w (3-D IDX) and, when labels, their labels (1-D IDX). */
static void write_set(const char *images, const char *labels, int n, int h, int w)
{
    cn_error err;
    unsigned char *x = malloc((size_t)n * (size_t)(h * w)), *y = malloc((size_t)n);
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < h * w; k++)
            x[i * h * w + k] = pixel(i, k);
        y[i] = (unsigned char)(i % 3);
    }
    int dx[4] = {n, h, w}, dy[4] = {n};
    ck_assert_int_eq(cn_idx_write(images, 3, dx, x, &err), CN_OK);
    if (labels)
        ck_assert_int_eq(cn_idx_write(labels, 1, dy, y, &err), CN_OK);
    free(x);
    free(y);
}

/* Read path expecting a failure with exactly `msg` (after "path: "). */
static void expect_read_error(const char *path, cn_status code, const char *msg)
{
    cn_error err;
    int ndim, dims[4];
    unsigned char *data = (unsigned char *)&err;
    char want[1024];
    snprintf(want, sizeof want, "%s: %s", path, msg);
    ck_assert_int_eq(cn_idx_read(path, &ndim, dims, &data, &err), code);
    ck_assert_str_eq(err.msg, want);
    ck_assert_ptr_null(data);
}

START_TEST(test_idx_roundtrip)
{
    static const int ndims[3] = {1, 3, 4}, shapes[3][4] = {{30}, {2, 3, 5}, {1, 2, 3, 5}};
    const char *path = at(tu_tmpdir(), _i ? "a.idx.gz" : "a.idx");
    unsigned char data[30], head[4], *back;
    int got[4], ndim;
    cn_error err;
    for (int i = 0; i < 30; i++)
        data[i] = (unsigned char)(i * 37 + 1);
    for (int t = 0; t < 3; t++) {
        ck_assert_int_eq(cn_idx_write(path, ndims[t], shapes[t], data, &err), CN_OK);
        ck_assert_int_eq(cn_idx_read(path, &ndim, got, &back, &err), CN_OK);
        ck_assert_int_eq(ndim, ndims[t]);
        ck_assert_mem_eq(got, shapes[t], (size_t)ndim * sizeof(int));
        ck_assert_mem_eq(back, data, 30);
        free(back);
    }
    /* the .gz one is gzip (1f 8b), the other the plain IDX header */
    FILE *f = fopen(path, "rb");
    ck_assert_uint_eq(fread(head, 1, 4, f), 4);
    fclose(f);
    ck_assert_mem_eq(head, _i ? "\x1f\x8b" : "\0\0\x08\x04", _i ? 2 : 4);
}
END_TEST

START_TEST(test_idx_bad_header)
{
    static const struct {
        unsigned char bytes[16];
        size_t len;
        const char *msg;
    } bad[] = {
        {{0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 9}, 9, "not an IDX file of unsigned bytes (magic "
         "0x000008NN expected, NN = 01 to 04 dimensions; found 0x12345678)"},
        {{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0}, 12, "not an IDX file of unsigned bytes (magic "
         "0x000008NN expected, NN = 01 to 04 dimensions; found 0x00000d01)"},
        {{0, 0, 8, 5, 0, 0, 0, 1}, 8, "IDX header gives 5 dimensions, expected 1 to 4"},
        {{0, 0, 8, 0}, 4, "IDX header gives 0 dimensions, expected 1 to 4"},
        {{0, 0, 8, 3, 0, 0, 0, 10, 0, 0}, 10, "truncated header: expected 16 bytes, found 10"},
        {{0, 0}, 2, "truncated header: expected 4 bytes of magic, found 2"},
        {{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2}, 16,
         "dimension 2 of 3 is 0, expected 1 to 2147483647"},
    };
    const char *dir = tu_tmpdir(), *p = at(dir, "f.idx");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_bytes(p, bad[i].bytes, bad[i].len);
        expect_read_error(p, CN_ERR_FORMAT, bad[i].msg);
    }
    expect_read_error(at(dir, "missing.idx"), CN_ERR_IO,
                      "cannot open: No such file or directory");
}
END_TEST

/* Header of (10, 4, 4) = 160 bytes of data, but only 100 of them; raw and gz. */
START_TEST(test_idx_truncated_body)
{
    const char *dir = tu_tmpdir();
    unsigned char buf[16 + 100] = {0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 4, 0, 0, 0, 4};
    const char *raw = at(dir, "t.idx"), *gz = at(dir, "t.idx.gz");
    write_bytes(raw, buf, sizeof buf);
    gzFile f = gzopen(gz, "wb");
    ck_assert_int_eq(gzwrite(f, buf, sizeof buf), (int)sizeof buf);
    gzclose(f);
    const char *msg = "truncated: expected 160 bytes of data after the 16-byte header, "
                      "found 100";
    expect_read_error(raw, CN_ERR_FORMAT, msg);
    expect_read_error(gz, CN_ERR_FORMAT, msg);
    /* a gzip stream cut short is an error too, not a shorter dataset */
    unsigned char full[16 + 160] = {0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 4, 0, 0, 0, 4};
    for (int i = 16; i < 176; i++)
        full[i] = (unsigned char)(i * 101);
    f = gzopen(gz, "wb");
    gzwrite(f, full, sizeof full);
    gzclose(f);
    FILE *fp = fopen(gz, "rb");
    unsigned char z[1024];
    size_t nz = fread(z, 1, sizeof z, fp);
    fclose(fp);
    write_bytes(gz, z, nz - 12);
    cn_error err;
    int ndim, dims[4];
    unsigned char *data;
    ck_assert_int_eq(cn_idx_read(gz, &ndim, dims, &data, &err), CN_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "truncated: expected 160 bytes"));
    ck_assert_ptr_null(data);
    write_bytes(gz, z, nz - 8); /* the data whole, the CRC and length gone */
    expect_read_error(gz, CN_ERR_FORMAT,
                      "truncated gzip stream (the checksum after the data is missing)");
    /* trailing bytes after the data */
    unsigned char extra[16 + 163] = {0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 4, 0, 0, 0, 4};
    write_bytes(raw, extra, sizeof extra);
    expect_read_error(raw, CN_ERR_FORMAT,
                      "3 bytes of trailing data after the 160 bytes the header announces");
}
END_TEST

/* Found by fuzz_idx: a header announcing 65535^4 bytes made the reader ask for
 * them all before reading, and report a short file as "out of memory". */
START_TEST(test_idx_huge_header)
{
    const unsigned char buf[20 + 3] = {0, 0, 8, 4, 0, 0, 0xff, 0xff, 0, 0, 0xff, 0xff,
                                       0, 0, 0xff, 0xff, 0, 0, 0xff, 0xff, 1, 2, 3};
    const char *p = at(tu_tmpdir(), "huge.idx");
    write_bytes(p, buf, sizeof buf);
    expect_read_error(p, CN_ERR_FORMAT, "truncated: expected 18445618199572250625 bytes of "
                      "data after the 20-byte header, found 3");
}
END_TEST

START_TEST(test_locate)
{
    const char *dir = tu_tmpdir();
    char a[1024], b[1024], env[2100], out[1024], want[2200];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    ck_assert_int_eq(mkdir(a, 0755), 0);
    ck_assert_int_eq(mkdir(b, 0755), 0);
    ck_assert_int_eq(mkdir(at(b, "ds"), 0755), 0);
    write_bytes(at(a, "other"), "", 0);
    snprintf(env, sizeof env, "%s::%s", a, b);
    setenv("CNET_DATA_PATH", env, 1);
    cn_error err;
    ck_assert_int_eq(cn_data_locate("ds", out, sizeof out, &err), CN_OK);
    ck_assert_str_eq(out, at(b, "ds"));
    ck_assert_int_eq(cn_data_locate(at(b, "ds"), out, sizeof out, &err), CN_OK);
    ck_assert_str_eq(out, at(b, "ds"));
    ck_assert_int_eq(cn_data_locate("cnet-no-such-set", out, sizeof out, &err), CN_ERR_IO);
    snprintf(want, sizeof want, "dataset 'cnet-no-such-set' not found (searched: %s, %s, ./datasets, "
             "/usr/share/datasets); install dataset-cnet-no-such-set or set CNET_DATA_PATH",
             a, b);
    ck_assert_str_eq(err.msg, want);
    /* an absolute or ./ path is not searched for */
    ck_assert_int_eq(cn_data_locate(at(a, "ds"), out, sizeof out, &err), CN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, at(a, "ds")));
    ck_assert_int_eq(cn_data_locate("./cnet-no-such-set", out, sizeof out, &err), CN_ERR_IO);
    unsetenv("CNET_DATA_PATH");
    ck_assert_int_eq(cn_data_locate("cnet-no-such-set", out, sizeof out, &err), CN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "(searched: ./datasets, /usr/share/datasets)"));
}
END_TEST

/* A fixture folder: 20 training samples of 2x3 (labels i % 3), 5 test ones. */
static const char *fixture(void)
{
    const char *dir = tu_tmpdir();
    write_set(at(dir, "tr-img.idx.gz"), at(dir, "tr-lab.idx"), 20, 2, 3);
    write_set(at(dir, "te-img.idx"), at(dir, "te-lab.idx.gz"), 5, 2, 3);
    return dir;
}

/* Whether the cfg lines in text set `key`. */
static int sets(const char *text, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : p)
        if (!strncmp(p, key, n) && (p[n] == ' ' || p[n] == '='))
            return 1;
    return 0;
}

/* cn_data_open on a [data] section: `extra` lines, then the fixture's
 * folder and file names for the keys extra does not set. */
static cn_status open_data(const char *dir, const char *extra, uint64_t seed, cn_data **d,
                           cn_error *err)
{
    static const char *const keys[] = {"dir", "train_images", "train_labels", "test_images",
                                       "test_labels"};
    const char *values[] = {dir, "tr-img.idx.gz", "tr-lab.idx", "te-img.idx", "te-lab.idx.gz"};
    char text[4096];
    cn_cfg *cfg;
    int len = snprintf(text, sizeof text, "[data]\n%s", extra);
    for (int i = 0; i < 5; i++)
        if (!sets(extra, keys[i]))
            len += snprintf(text + len, sizeof text - (size_t)len, "%s = %s\n", keys[i],
                            values[i]);
    ck_assert_msg(!cn_cfg_parse_string("test.cfg", text, &cfg, err), "%s", err->msg);
    cn_status st = cn_data_open(cfg, seed, d, err);
    cn_cfg_free(cfg);
    return st;
}

START_TEST(test_data_open)
{
    const char *dir = fixture();
    cn_data *d;
    cn_error err;
    float x[6];
    ck_assert_int_eq(open_data(dir, "", 1, &d, &err), CN_OK);
    ck_assert(d->train->n == 20 && d->test->n == 5 && d->n_train == 20 && d->n_valid == 0);
    ck_assert(d->train->c == 1 && d->train->h == 2 && d->train->w == 3);
    ck_assert_int_eq(d->train->n_classes, 3);
    ck_assert_int_eq(d->prefetch, 1);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(d->train_idx[i], i);
    ck_assert_int_eq(d->test->labels[4], 1);
    cn_dataset_sample(d->test, 4, x);
    ck_assert_float_eq(x[5], (float)pixel(4, 5) * (1.0f / 255.0f));
    cn_data_close(d);
    cn_data_close(NULL);
    /* an unlabelled training set */
    ck_assert_int_eq(open_data(dir, "train_labels = none\nscale = 2\n", 1, &d, &err), CN_OK);
    ck_assert_ptr_null(d->train->labels);
    ck_assert_int_eq(d->train->n_classes, 0);
    cn_dataset_sample(d->train, 3, x);
    ck_assert_float_eq(x[1], 2.0f * pixel(3, 1));
    cn_data_close(d);
}
END_TEST

START_TEST(test_data_split)
{
    const char *dir = fixture();
    const char *keys = "valid_fraction = 0.25\nlimit = 16\nprefetch = 0\n";
    cn_data *d[3];
    cn_error err;
    uint64_t seeds[3] = {42, 42, 43};
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(open_data(dir, keys, seeds[k], &d[k], &err), CN_OK);
    ck_assert(d[0]->train->n == 16 && d[0]->n_train == 12 && d[0]->n_valid == 4);
    ck_assert_int_eq(d[0]->prefetch, 0);
    int seen[16] = {0};
    for (int i = 0; i < 12; i++) {
        seen[d[0]->train_idx[i]]++;
        ck_assert(i == 0 || d[0]->train_idx[i] > d[0]->train_idx[i - 1]);
    }
    for (int i = 0; i < 4; i++) {
        seen[d[0]->valid_idx[i]]++;
        ck_assert(i == 0 || d[0]->valid_idx[i] > d[0]->valid_idx[i - 1]);
    }
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(seen[i], 1);
    /* the same seed draws the same split, another seed another one */
    ck_assert_mem_eq(d[0]->valid_idx, d[1]->valid_idx, 4 * sizeof(int));
    ck_assert_mem_eq(d[0]->train_idx, d[1]->train_idx, 12 * sizeof(int));
    ck_assert(memcmp(d[0]->valid_idx, d[2]->valid_idx, 4 * sizeof(int)) != 0);
    for (int k = 0; k < 3; k++)
        cn_data_close(d[k]);
}
END_TEST

/* cn_data_open must fail with `code` and a message containing want (and want2). */
static void expect_open_error(const char *dir, const char *extra, cn_status code,
                              const char *want, const char *want2)
{
    cn_data *d = (cn_data *)&d;
    cn_error err;
    ck_assert_int_eq(open_data(dir, extra, 1, &d, &err), code);
    ck_assert_ptr_null(d);
    ck_assert_msg(strstr(err.msg, want), "'%s' lacks '%s'", err.msg, want);
    ck_assert_msg(!want2 || strstr(err.msg, want2), "'%s' lacks '%s'", err.msg, want2);
}

START_TEST(test_data_errors)
{
    const char *dir = fixture();
    unsigned char zeros[120] = {0};
    int flat[4] = {20, 6}, odd[4] = {1, 19, 2};
    cn_error err;
    write_set(at(dir, "img19.idx"), at(dir, "lab19.idx"), 19, 2, 3);
    ck_assert_int_eq(cn_idx_write(at(dir, "flat.idx"), 2, flat, zeros, &err), CN_OK);
    ck_assert_int_eq(cn_idx_write(at(dir, "odd.idx"), 3, odd, zeros, &err), CN_OK);
    expect_open_error(dir, "train_labels = lab19.idx\n", CN_ERR_SHAPE,
                      "tr-img.idx.gz holds 20 images but", "lab19.idx holds 19 labels");
    expect_open_error(dir, "bogus = 1\n", CN_ERR_CFG, "test.cfg:2: unknown key 'bogus' in [data]",
                      NULL);
    /* a misspelt key explains the missing default file better than the file does */
    expect_open_error(dir, "test_image = te-img.idx\ntest_images = t10k-images-idx3-ubyte.gz\n",
                      CN_ERR_CFG, "unknown key 'test_image'", "did you mean 'test_images'");
    expect_open_error(dir, "valid_fraction = 0.95\n", CN_ERR_CFG,
                      "test.cfg:2: key 'valid_fraction'", NULL);
    expect_open_error(dir, "type = hdf5\n", CN_ERR_CFG,
                      "key 'type' expects one of idx, imgdir, csv, got 'hdf5'", NULL);
    expect_open_error(dir, "train_images = flat.idx\ntrain_labels = none\n", CN_ERR_SHAPE,
                      "flat.idx: images must be 3-D", NULL);
    expect_open_error(dir, "test_images = odd.idx\ntest_labels = none\n", CN_ERR_SHAPE,
                      "holds 1x2x3 samples but", "odd.idx holds 1x19x2");
    expect_open_error(dir, "dir = cnet-no-such-set\n", CN_ERR_IO,
                      "dataset 'cnet-no-such-set' not found", NULL);
    cn_cfg *cfg;
    cn_data *d;
    ck_assert_int_eq(cn_cfg_parse_string("test.cfg", "[net]\nbatch = 2\n", &cfg, &err), CN_OK);
    ck_assert_int_eq(cn_data_open(cfg, 1, &d, &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "test.cfg: no [data] section");
    cn_cfg_free(cfg);
}
END_TEST

/* ---- the loader ---- */

/* 23 samples of 1x2x3 in memory (labels i % 3 unless unlabelled). */
static cn_dataset *mem_set(int labelled)
{
    cn_dataset *ds = calloc(1, sizeof *ds);
    ds->n = 23;
    ds->c = 1, ds->h = 2, ds->w = 3;
    ds->scale = 1.0f / 255.0f;
    ds->u8 = malloc(23 * 6);
    ds->labels = labelled ? malloc(23 * sizeof(int)) : NULL;
    for (int i = 0; i < 23; i++) {
        for (int k = 0; k < 6; k++)
            ds->u8[i * 6 + k] = pixel(i, k);
        if (labelled)
            ds->labels[i] = i % 3;
    }
    ds->n_classes = labelled ? 3 : 0;
    return ds;
}

/* The 21 indices the loader tests use: all of 0..22 but 3 and 10. */
static int loader_idx(int *idx)
{
    int n = 0;
    for (int i = 0; i < 23; i++)
        if (i != 3 && i != 10)
            idx[n++] = i;
    return n;
}

/* One epoch: every batch equals the samples of `order`, each index once.
 * With `pause`, the worker has time to run ahead before a batch is checked,
 * which it must not do into the slot being read. */
static void check_epoch(cn_loader *ld, const cn_dataset *ds, const int *order, int n, int batch,
                        int drop_last, int pause)
{
    const struct timespec ms = {0, 1000000};
    cn_batch b;
    float want[6];
    int pos = 0, batches = 0;
    while (cn_loader_next(ld, &b)) {
        if (pause)
            nanosleep(&ms, NULL);
        ck_assert_int_eq(b.n, CN_MIN(batch, n - pos));
        for (int k = 0; k < b.n; k++, pos++) {
            cn_dataset_sample(ds, order[pos], want);
            ck_assert_mem_eq(b.x + k * 6, want, sizeof want);
            ck_assert_int_eq(b.labels[k], ds->labels ? ds->labels[order[pos]] : -1);
        }
        batches++;
    }
    ck_assert_int_eq(batches, cn_loader_batches(ld));
    ck_assert_int_eq(pos, drop_last ? n / batch * batch : n);
    ck_assert_int_eq(cn_loader_next(ld, &b), 0);
    ck_assert_int_eq(b.n, 0);
}

/* _i: bit 0 prefetch, bit 1 drop_last. */
START_TEST(test_loader_epochs)
{
    int prefetch = _i & 1, drop_last = _i >> 1 & 1, idx[23], order[23], first[23];
    cn_dataset *ds = mem_set(!prefetch);
    int n = loader_idx(idx);
    cn_loader *ld;
    cn_error err;
    cn_rng rng, ref;
    ck_assert_int_eq(cn_loader_create(ds, idx, n, 4, drop_last, prefetch, &ld, &err), CN_OK);
    ck_assert_int_eq(cn_loader_batches(ld), drop_last ? 5 : 6);
    cn_loader_epoch(ld, NULL);
    check_epoch(ld, ds, idx, n, 4, drop_last, prefetch);
    /* shuffled epochs: the order is the caller's RNG's permutation of idx */
    cn_rng_seed(&rng, 7);
    cn_rng_seed(&ref, 7);
    for (int e = 0; e < 3; e++) {
        memcpy(order, idx, sizeof order);
        cn_rng_shuffle(&ref, order, n);
        if (e == 0)
            memcpy(first, order, sizeof first);
        else
            ck_assert(memcmp(order, first, sizeof first) != 0);
        cn_loader_epoch(ld, &rng);
        check_epoch(ld, ds, order, n, 4, drop_last, prefetch);
    }
    /* a fresh RNG with the same seed repeats the first epoch; an epoch may
     * also begin before the previous one is over */
    cn_rng_seed(&rng, 7);
    cn_batch b;
    cn_loader_epoch(ld, NULL);
    ck_assert(cn_loader_next(ld, &b) && cn_loader_next(ld, &b));
    cn_loader_epoch(ld, &rng);
    check_epoch(ld, ds, first, n, 4, drop_last, 0);
    cn_loader_free(ld);
    cn_dataset_free(ds);
}
END_TEST

/* Prefetch on and off give the same batches, over many small epochs. */
START_TEST(test_loader_prefetch_same)
{
    cn_dataset *ds = mem_set(1);
    int idx[23], n = loader_idx(idx);
    cn_loader *ld[2];
    cn_error err;
    cn_rng rng[2];
    for (int p = 0; p < 2; p++) {
        ck_assert_int_eq(cn_loader_create(ds, idx, n, 2, 0, p, &ld[p], &err), CN_OK);
        cn_rng_seed(&rng[p], 99);
    }
    for (int e = 0; e < 200; e++) {
        cn_batch b[2];
        cn_loader_epoch(ld[0], &rng[0]);
        cn_loader_epoch(ld[1], &rng[1]);
        int more;
        do {
            more = cn_loader_next(ld[0], &b[0]);
            ck_assert_int_eq(cn_loader_next(ld[1], &b[1]), more);
            ck_assert_int_eq(b[0].n, b[1].n);
            if (more) {
                ck_assert_mem_eq(b[0].x, b[1].x, (size_t)b[0].n * 6 * sizeof(float));
                ck_assert_mem_eq(b[0].labels, b[1].labels, (size_t)b[0].n * sizeof(int));
            }
        } while (more);
    }
    /* freeing while the worker fills */
    cn_loader_epoch(ld[1], &rng[1]);
    cn_loader_free(ld[0]);
    cn_loader_free(ld[1]);
    cn_loader_free(NULL);
    cn_dataset_free(ds);
}
END_TEST

START_TEST(test_loader_misc)
{
    cn_dataset *ds = mem_set(1);
    int idx[2] = {0, 23};
    cn_loader *ld = (cn_loader *)&ld;
    cn_error err;
    ck_assert_int_eq(cn_loader_create(ds, idx, 2, 4, 0, 0, &ld, &err), CN_ERR_INTERNAL);
    ck_assert_ptr_null(ld);
    ck_assert_int_eq(cn_loader_create(ds, idx, 1, 0, 0, 0, &ld, &err), CN_ERR_INTERNAL);
    /* no epoch begun: no batch; f32 samples are copied as they are */
    ds->f32 = malloc(23 * 6 * sizeof(float));
    for (int i = 0; i < 23 * 6; i++)
        ds->f32[i] = (float)i * 0.5f;
    free(ds->u8);
    ds->u8 = NULL;
    cn_batch b;
    ck_assert_int_eq(cn_loader_create(ds, idx, 1, 4, 1, 1, &ld, &err), CN_OK);
    ck_assert_int_eq(cn_loader_batches(ld), 0);
    cn_loader_epoch(ld, NULL);
    ck_assert_int_eq(cn_loader_next(ld, &b), 0);
    cn_loader_free(ld);
    int two[2] = {5, 1};
    ck_assert_int_eq(cn_loader_create(ds, two, 2, 4, 0, 1, &ld, &err), CN_OK);
    ck_assert_int_eq(cn_loader_next(ld, &b), 0);
    cn_loader_epoch(ld, NULL);
    ck_assert_int_eq(cn_loader_next(ld, &b), 1);
    ck_assert_int_eq(b.n, 2);
    ck_assert_float_eq(b.x[7], 3.5f);
    ck_assert_int_eq(b.labels[0], 2);
    cn_loader_free(ld);
    cn_dataset_free(ds);
}
END_TEST

Suite *data_suite(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("idx");
    tcase_add_loop_test(tc, test_idx_roundtrip, 0, 2);
    tcase_add_test(tc, test_idx_bad_header);
    tcase_add_test(tc, test_idx_truncated_body);
    tcase_add_test(tc, test_idx_huge_header);
    suite_add_tcase(s, tc);
    tc = tcase_create("open");
    tcase_add_test(tc, test_locate);
    tcase_add_test(tc, test_data_open);
    tcase_add_test(tc, test_data_split);
    tcase_add_test(tc, test_data_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("loader");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_loader_epochs, 0, 4);
    tcase_add_test(tc, test_loader_prefetch_same);
    tcase_add_test(tc, test_loader_misc);
    suite_add_tcase(s, tc);
    return s;
}
