/* check_data_img.c - the image-folder and CSV dataset types and the IDX <->
 * folder conversion. Fixtures are written to temp dirs: PNG, BMP and JPEG
 * files by stb_image_write, whose pixel (ch, y, x) of image `id` is
 * value(id, ch, y, x), so every decoded byte can be checked where it lands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <stb/stb_image_write.h>

#include "cnet/cnet.h"
#include "internal.h"
#include "util.h"

static void make_dir(const char *path)
{
    ck_assert_msg(mkdir(path, 0755) == 0, "mkdir %s", path);
}

static unsigned char value(int id, int ch, int y, int x)
{
    return (unsigned char)((id * 31 + ch * 80 + y * 7 + x * 3) % 256);
}

/* Image `id` of h x w with c channels, interleaved as stb wants it; written as
 * PNG, or BMP / JPEG by the name's extension. */
static void write_image(const char *path, int id, int c, int h, int w)
{
    unsigned char px[3 * 32 * 32];
    ck_assert(h * w <= 32 * 32);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++)
                px[(y * w + x) * c + ch] = value(id, ch, y, x);
    const char *ext = strrchr(path, '.');
    int ok = !strcmp(ext, ".bmp")   ? stbi_write_bmp(path, w, h, c, px)
             : !strcmp(ext, ".JPG") ? stbi_write_jpg(path, w, h, c, px, 100)
                                    : stbi_write_png(path, w, h, c, px, w * c);
    ck_assert_msg(ok, "cannot write %s", path);
}

/* A split in root/split: classes "10", "9", "a" (strcmp order, so labels 0, 1,
 * 2) holding images 3x4 of ids 0-2, 3 and 4-5, in name order; plus entries
 * the reader must skip. */
static void write_split(const char *root, const char *split, int c)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", tu_path(root, split));
    make_dir(dir);
    make_dir(tu_path(dir, "a"));
    make_dir(tu_path(dir, "9"));
    make_dir(tu_path(dir, "10"));
    write_image(tu_path(dir, "10/b.png"), 1, c, 3, 4);
    write_image(tu_path(dir, "10/a.png"), 0, c, 3, 4);
    write_image(tu_path(dir, "10/c.bmp"), 2, c, 3, 4);
    write_image(tu_path(dir, "9/x.PNG"), 3, c, 3, 4);
    write_image(tu_path(dir, "a/p.png"), 4, c, 3, 4);
    write_image(tu_path(dir, "a/q.png"), 5, c, 3, 4);
    write_image(tu_path(dir, "a/.hidden.png"), 9, c, 5, 5);
    tu_write(dir, "a/notes.txt", "not an image\n");
    tu_write(dir, "readme.png", "a file, not a class folder\n");
    make_dir(tu_path(dir, "a/sub.png"));
}

/* _i = 0: grey; 1: RGB; 2: grey files read as RGB (stb replicates the grey). */
START_TEST(test_imgdir_read)
{
    static const int labels[6] = {0, 0, 0, 1, 2, 2};
    int file_c = _i == 1 ? 3 : 1, c = _i ? 3 : 1;
    const char *root = tu_tmpdir();
    write_split(root, "train", file_c);
    cn_dataset *ds;
    cn_error err;
    ck_assert_msg(!cn_imgdir_read(tu_path(root, "train"), c, 3, 4, "x", &ds, &err), "%s", err.msg);
    ck_assert(ds->n == 6 && ds->c == c && ds->h == 3 && ds->w == 4 && ds->n_classes == 3);
    ck_assert_ptr_null(ds->f32);
    ck_assert_float_eq(ds->scale, 1.0f / 255.0f);
    /* (n, c, h, w): byte (i, ch, y, x) is image i's pixel, exactly */
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(ds->labels[i], labels[i]);
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 4; x++)
                    ck_assert_int_eq(ds->u8[((i * c + ch) * 3 + y) * 4 + x],
                                     value(i, _i == 1 ? ch : 0, y, x));
    }
    cn_dataset_free(ds);
}
END_TEST

/* A JPEG (upper-case extension) decodes, lossily, to about its values. */
START_TEST(test_imgdir_jpeg)
{
    const char *root = tu_tmpdir();
    make_dir(tu_path(root, "k"));
    write_image(tu_path(root, "k/one.JPG"), 0, 1, 8, 8);
    cn_dataset *ds;
    cn_error err;
    ck_assert_msg(!cn_imgdir_read(root, 1, 8, 8, "x", &ds, &err), "%s", err.msg);
    ck_assert_int_eq(ds->n, 1);
    for (int k = 0; k < 64; k++)
        ck_assert_int_le(abs(ds->u8[k] - value(0, 0, k / 8, k % 8)), 3);
    cn_dataset_free(ds);
}
END_TEST

/* cn_imgdir_read on dir must fail with code and exactly msg. */
static void expect_read_error(const char *dir, cn_status code, const char *msg)
{
    cn_dataset *ds = (cn_dataset *)&ds;
    cn_error err;
    ck_assert_int_eq(cn_imgdir_read(dir, 1, 3, 4, "[data] height/width", &ds, &err), code);
    ck_assert_ptr_null(ds);
    ck_assert_str_eq(err.msg, msg);
}

START_TEST(test_imgdir_errors)
{
    const char *root = tu_tmpdir();
    char want[2048];
    write_split(root, "train", 1);
    const char *dir = tu_path(root, "train"), *bad = tu_path(dir, "9/y.png");
    write_image(bad, 7, 1, 30, 28);
    snprintf(want, sizeof want, "%s: image is 30x28, expected 3x4 (height x width from [data] "
             "height/width)", bad);
    expect_read_error(dir, CN_ERR_SHAPE, want);
    /* random bytes named .png */
    unsigned char junk[64];
    for (int i = 0; i < 64; i++)
        junk[i] = (unsigned char)(i * 97 + 13);
    FILE *f = fopen(bad, "wb");
    ck_assert_uint_eq(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
    cn_dataset *ds;
    cn_error err;
    ck_assert_int_eq(cn_imgdir_read(dir, 1, 3, 4, "x", &ds, &err), CN_ERR_FORMAT);
    snprintf(want, sizeof want, "%s: cannot decode image: ", bad);
    ck_assert_msg(!strncmp(err.msg, want, strlen(want)) && strlen(err.msg) > strlen(want),
                  "%s", err.msg);
    remove(bad);
    make_dir(tu_path(dir, "8"));
    tu_write(dir, "8/x.txt", "");
    snprintf(want, sizeof want, "%s/8: class folder holds no images (.png, .jpg, .jpeg or .bmp)",
             dir);
    expect_read_error(dir, CN_ERR_FORMAT, want);
    const char *empty = tu_tmpdir();
    snprintf(want, sizeof want, "%s: no class folders (expected one subfolder per class, holding "
             "its images)", empty);
    expect_read_error(empty, CN_ERR_FORMAT, want);
    snprintf(want, sizeof want, "%s/none: cannot open folder: No such file or directory", empty);
    expect_read_error(tu_path(empty, "none"), CN_ERR_IO, want);
}
END_TEST

/* cn_data_open on "[data]\n" + text. */
static cn_status open_cfg(const char *text, cn_data **d, cn_error *err)
{
    char full[4096];
    cn_cfg *cfg;
    snprintf(full, sizeof full, "[data]\n%s", text);
    ck_assert_msg(!cn_cfg_parse_string("test.cfg", full, &cfg, err), "%s", err->msg);
    cn_status st = cn_data_open(cfg, 1, d, err);
    cn_cfg_free(cfg);
    return st;
}

/* A cfg with type = imgdir trains nothing but opens both splits. */
START_TEST(test_imgdir_open)
{
    const char *root = tu_tmpdir();
    char text[2048], want[2048];
    write_split(root, "train", 1);
    write_split(root, "test", 1);
    cn_data *d;
    cn_error err;
    float x[12];
    snprintf(text, sizeof text, "type = imgdir\ndir = %s\nheight = 3\nwidth = 4\nscale = 2\n",
             root);
    ck_assert_msg(!open_cfg(text, &d, &err), "%s", err.msg);
    ck_assert(d->train->n == 6 && d->test->n == 6 && d->n_train == 6);
    ck_assert(d->train->c == 1 && d->train->n_classes == 3 && d->test->labels[3] == 1);
    cn_dataset_sample(d->test, 5, x);
    ck_assert_float_eq(x[6], 2.0f * value(5, 0, 1, 2));
    cn_data_close(d);
    /* a class only the test split has */
    make_dir(tu_path(root, "test/11"));
    write_image(tu_path(root, "test/11/z.png"), 0, 1, 3, 4);
    ck_assert_int_eq(open_cfg(text, &d, &err), CN_ERR_FORMAT);
    snprintf(want, sizeof want, "%s/train and %s/test hold different class folders: '11' is "
             "only in %s/test", root, root, root);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(open_cfg("type = imgdir\ndir = x\nwidth = 4\n", &d, &err), CN_ERR_CFG);
    ck_assert_ptr_nonnull(strstr(err.msg, "test.cfg:1: [data] needs key 'height'"));
    ck_assert_int_eq(open_cfg("type = imgdir\nheight = 3\nwidth = 4\n", &d, &err), CN_ERR_CFG);
    ck_assert_ptr_nonnull(strstr(err.msg, "needs key 'dir'"));
    /* a scale that makes a byte infinite, before any file is read */
    snprintf(text, sizeof text, "type = imgdir\ndir = %s\nheight = 3\nwidth = 4\n"
             "scale = 1e37\n", root);
    ck_assert_int_eq(open_cfg(text, &d, &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "test.cfg:6: key 'scale' = '1e37': a byte of 255 would read as "
                              "1e+37 * 255, which is not a finite float: |scale| must be at "
                              "most 1.33444e+36");
}
END_TEST

/* ---- csv ---- */

/* Open a csv [data] section whose train and test files are both `path`. */
static cn_status open_csv(const char *path, const char *extra, cn_data **d, cn_error *err)
{
    char text[2048];
    snprintf(text, sizeof text, "type = csv\ntrain_file = %s\ntest_file = %s\n%s", path, path,
             extra);
    return open_cfg(text, d, err);
}

START_TEST(test_csv_read)
{
    const char *dir = tu_tmpdir();
    const char *path = tu_write(dir, "f.csv", "a,b,label,c\r\n1, 2.5 ,3,-4\r\n\n"
                                              "0.5,1e1,0,7\r\n  \n6,5,1,4");
    cn_data *d;
    cn_error err;
    float x[3];
    ck_assert_msg(!open_csv(path, "header = 1\nlabel_col = 2\nscale = 0.5\n", &d, &err), "%s",
                  err.msg);
    const cn_dataset *ds = d->train;
    ck_assert(ds->n == 3 && ds->c == 1 && ds->h == 1 && ds->w == 3 && ds->n_classes == 4);
    ck_assert_ptr_null(ds->u8);
    ck_assert(ds->labels[0] == 3 && ds->labels[1] == 0 && ds->labels[2] == 1);
    cn_dataset_sample(ds, 0, x);
    ck_assert(x[0] == 0.5f && x[1] == 1.25f && x[2] == -2.0f);
    cn_dataset_sample(ds, 1, x);
    ck_assert(x[0] == 0.25f && x[1] == 5.0f && x[2] == 3.5f);
    cn_data_close(d);
    /* no labels, a shape, another delimiter */
    path = tu_write(dir, "g.csv", "1;2;3;4\n5;6;7;8\n");
    ck_assert_msg(!open_csv(path, "label_col = -1\nshape = 1,2,2\ndelimiter = semicolon\n", &d,
                            &err), "%s", err.msg);
    ds = d->test;
    ck_assert(ds->n == 2 && ds->c == 1 && ds->h == 2 && ds->w == 2 && ds->n_classes == 0);
    ck_assert_ptr_null(ds->labels);
    ck_assert_float_eq(ds->f32[7], 8.0f);
    cn_data_close(d);
    ck_assert_int_eq(open_csv(path, "label_col = -1\nshape = 1,2,3\ndelimiter = semicolon\n", &d,
                              &err), CN_ERR_SHAPE);
    char want[2048];
    snprintf(want, sizeof want, "test.cfg:6: key 'shape' = '1,2,3': 1x2x3 = 6 values per "
             "sample, but %s has 4 feature columns", path);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

/* The csv text must fail to open with code and exactly "<path>msg". */
static void expect_csv_error(const char *text, const char *extra, cn_status code,
                             const char *msg)
{
    const char *path = tu_write(tu_tmpdir(), "f.csv", text);
    cn_data *d = (cn_data *)&d;
    cn_error err;
    char want[2048];
    ck_assert_int_eq(open_csv(path, extra, &d, &err), code);
    ck_assert_ptr_null(d);
    snprintf(want, sizeof want, "%s%s", path, msg);
    ck_assert_str_eq(err.msg, want);
}

START_TEST(test_csv_errors)
{
    const char *rows = "0,1,2,3,4,5\n1,1,2,3,4,5\n";
    char text[512];
    snprintf(text, sizeof text, "h\n%s1,2\n\n%s1,2,3,4,5\n", rows, rows);
    expect_csv_error(text, "header = 1\n", CN_ERR_FORMAT,
                     ":4: row has 2 columns, expected 6 (from line 2)");
    snprintf(text, sizeof text, "%s%s%s0,1,abc,3,4,5\n", rows, rows, rows);
    expect_csv_error(text, "", CN_ERR_FORMAT, ":7:3: expected a number, got 'abc'");
    expect_csv_error("1,2,,4\n", "", CN_ERR_FORMAT, ":1:3: expected a number, got ''");
    expect_csv_error("1,2,inf\n", "", CN_ERR_FORMAT,
                     ":1:3: expected a finite number, got 'inf' (sample 0)");
    expect_csv_error("1,2\n1.5,2\n", "", CN_ERR_FORMAT,
                     ":2:1: expected a label (an integer >= 0), got '1.5'");
    expect_csv_error("1,-2\n", "label_col = 1\n", CN_ERR_FORMAT,
                     ":1:2: expected a label (an integer >= 0), got '-2'");
    expect_csv_error("", "", CN_ERR_FORMAT, ": no data rows (empty file)");
    expect_csv_error("a,b\n", "header = 1\n", CN_ERR_FORMAT,
                     ": no data rows after the header line");
    expect_csv_error("3\n", "", CN_ERR_FORMAT, ":1: the label is the only column; no features");
    cn_data *d;
    cn_error err;
    const char *path = tu_write(tu_tmpdir(), "f.csv", "1,2\n");
    ck_assert_int_eq(open_csv(path, "label_col = 2\n", &d, &err), CN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.msg, "test.cfg:5: key 'label_col' = '2': "));
    ck_assert_ptr_nonnull(strstr(err.msg, "f.csv:1 has 2 columns"));
    ck_assert_int_eq(open_csv(path, "delimiter = ab\n", &d, &err), CN_ERR_CFG);
    ck_assert_ptr_nonnull(strstr(err.msg, "key 'delimiter' = 'ab': expects one character"));
    ck_assert_int_eq(open_cfg("type = csv\ntest_file = x.csv\n", &d, &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "test.cfg:1: [data]: needs key 'train_file' (a CSV file)");
}
END_TEST

/* ---- conversion ---- */

/* The n samples of x (n, d) and y, stably sorted by label (the order a
 * folder gives back). */
static void sort_by_label(unsigned char *x, unsigned char *y, int n, size_t d)
{
    unsigned char *x2 = malloc((size_t)n * d), *y2 = malloc((size_t)n);
    int k = 0;
    for (int c = 0; c < 256; c++)
        for (int i = 0; i < n; i++)
            if (y[i] == c) {
                memcpy(x2 + (size_t)k * d, x + (size_t)i * d, d);
                y2[k++] = y[i];
            }
    memcpy(x, x2, (size_t)n * d);
    memcpy(y, y2, (size_t)n);
    free(x2);
    free(y2);
}

static unsigned char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char *buf = malloc(1 << 16);
    *n = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

/* IDX -> folder -> IDX; _i = 0: 3 classes, grey; 1: 11 classes (two-digit
 * folders), grey; 2: 3 classes, RGB (n, 3, h, w). */
START_TEST(test_convert_roundtrip)
{
    int classes = _i == 1 ? 11 : 3, c = _i == 2 ? 3 : 1, n = 120, ndim, dims[4], ldims[4];
    const char *src = tu_idx_dataset(n, 2, 4, 5, classes, 7), *out = tu_tmpdir();
    unsigned char *x, *y;
    cn_error err;
    const char *images = tu_path(src, "train-images-idx3-ubyte.gz");
    const char *labels = tu_path(src, "train-labels-idx1-ubyte.gz");
    ck_assert_int_eq(cn_idx_read(images, &ndim, dims, &x, &err), CN_OK);
    ck_assert_int_eq(cn_idx_read(labels, &ndim, ldims, &y, &err), CN_OK);
    if (c == 3) { /* three channels: the grey image, its negative, its half */
        int rgb[4] = {n, 3, 4, 5};
        unsigned char *x3 = malloc((size_t)n * 60);
        for (int i = 0; i < n * 20; i++) {
            x3[(i / 20) * 60 + i % 20] = x[i];
            x3[(i / 20) * 60 + 20 + i % 20] = (unsigned char)(255 - x[i]);
            x3[(i / 20) * 60 + 40 + i % 20] = (unsigned char)(x[i] / 2);
        }
        images = tu_path(src, "rgb.idx");
        ck_assert_int_eq(cn_idx_write(images, 4, rgb, x3, &err), CN_OK);
        free(x);
        x = x3;
    }
    int got_n, got_classes;
    const char *dir = tu_path(out, "png");
    ck_assert_msg(!cn_convert_idx_to_dir(images, labels, dir, &got_n, &got_classes, &err), "%s",
                  err.msg);
    ck_assert(got_n == n && got_classes == classes);
    /* sample 3 sits in its class folder, names padded */
    char name[64];
    struct stat sb;
    snprintf(name, sizeof name, classes > 10 ? "%02d/00003.png" : "%d/00003.png", y[3]);
    ck_assert_msg(stat(tu_path(dir, name), &sb) == 0, "%s missing", name);
    const char *oi = tu_path(out, "back-images.idx"), *ol = tu_path(out, "back-labels.idx.gz");
    ck_assert_msg(!cn_convert_dir_to_idx(dir, 4, 5, c, oi, ol, &got_n, &got_classes, &err), "%s",
                  err.msg);
    ck_assert(got_n == n && got_classes == classes);
    /* the files equal the originals grouped by class, byte for byte */
    sort_by_label(x, y, n, (size_t)c * 20);
    int want_dims[4] = {n, c == 3 ? 3 : 4, c == 3 ? 4 : 5, 5}, ydims[4] = {n};
    const char *ri = tu_path(out, "ref-images.idx"), *rl = tu_path(out, "ref-labels.idx");
    ck_assert_int_eq(cn_idx_write(ri, c == 3 ? 4 : 3, want_dims, x, &err), CN_OK);
    ck_assert_int_eq(cn_idx_write(rl, 1, ydims, y, &err), CN_OK);
    size_t na, nb;
    unsigned char *a = read_file(oi, &na), *b = read_file(ri, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(a, b, na);
    free(a);
    free(b);
    unsigned char *back;
    ck_assert_int_eq(cn_idx_read(ol, &ndim, ldims, &back, &err), CN_OK);
    ck_assert_mem_eq(back, y, (size_t)n);
    free(back);
    free(x);
    free(y);
}
END_TEST

START_TEST(test_convert_errors)
{
    const char *src = tu_idx_dataset(10, 2, 4, 5, 3, 7), *out = tu_tmpdir();
    char want[2048];
    cn_error err;
    const char *images = tu_path(src, "train-images-idx3-ubyte.gz");
    ck_assert_int_eq(cn_convert_idx_to_dir(images, tu_path(src, "t10k-labels-idx1-ubyte.gz"), out,
                                           NULL, NULL, &err), CN_ERR_SHAPE);
    snprintf(want, sizeof want, "%s holds 10 images but %s/t10k-labels-idx1-ubyte.gz holds 2 "
             "labels", images, src);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(cn_convert_idx_to_dir(images, tu_path(src, "train-labels-idx1-ubyte.gz"),
                                           tu_path(out, "no/such"), NULL, NULL, &err), CN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "no/such: cannot create folder: No such file"));
    /* 5x4 images asked for as 4x5 */
    ck_assert_int_eq(cn_convert_idx_to_dir(images, tu_path(src, "train-labels-idx1-ubyte.gz"),
                                           tu_path(out, "png"), NULL, NULL, &err), CN_OK);
    ck_assert_int_eq(cn_convert_dir_to_idx(tu_path(out, "png"), 5, 4, 1, tu_path(out, "i"), tu_path(out, "l"),
                                           NULL, NULL, &err), CN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.msg, ".png: image is 4x5, expected 5x4 (height x width "
                                          "from the conversion's height/width)"));
}
END_TEST

/* `cnet convert` exit statuses and summary lines. */
START_TEST(test_convert_cli)
{
    const char *src = tu_idx_dataset(6, 2, 4, 5, 2, 3), *out = tu_tmpdir();
    static const struct {
        const char *args;
        int rc;
        const char *out;
    } runs[] = {
        {"a b", 2, "cnet: error: convert takes 3 arguments, got 2 (see cnet help convert)\n"},
        {"a b c --height 3", 2, "cnet: error: --height, --width and --channels go with "
                                "--to-idx\n"},
        {"--to-idx a b c --height 3", 2, "cnet: error: --to-idx needs --height and --width\n"},
        {"--to-idx a b c --height 3 --width x", 2, "cnet: error: --width expects an integer "
                                                    "from 1 to 1048576, got 'x'\n"},
        {"--to-idx a b c --height 3 --width 4 --channels 2", 2, "cnet: error: --channels "
                                                                "expects 1 or 3, got '2'\n"},
        {"a b c --bogus", 2, "cnet: error: unknown option '--bogus' (accepted: --to-idx "
                             "--height --width --channels)\n"},
        {"no-such.idx b c", 1, "cnet: error: no-such.idx: cannot open: No such file or "
                               "directory\n"},
    };
    char cmd[2048], buf[4096], want[2048];
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        snprintf(cmd, sizeof cmd, "./cnet convert %s", runs[i].args);
        ck_assert_int_eq(tu_run(cmd, buf, sizeof buf), runs[i].rc);
        ck_assert_str_eq(buf, runs[i].out);
    }
    snprintf(cmd, sizeof cmd, "./cnet convert %s/train-images-idx3-ubyte.gz "
             "%s/train-labels-idx1-ubyte.gz %s/png && ./cnet convert --to-idx %s/png %s/i.gz "
             "%s/l.gz --height 4 --width 5", src, src, out, out, out, out);
    ck_assert_int_eq(tu_run(cmd, buf, sizeof buf), 0);
    snprintf(want, sizeof want, "wrote 6 PNG images in 2 class folders under %s/png\nwrote 6 "
             "images (1x4x5) of 2 classes to %s/i.gz, their labels to %s/l.gz\n", out, out, out);
    ck_assert_str_eq(buf, want);
}
END_TEST

/* The bytes of path (at most size), for patching fixtures. */
static size_t slurp(const char *path, unsigned char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, size, f);
    fclose(f);
    ck_assert(n > 0 && n < size);
    return n;
}

static void spill(const char *path, const unsigned char *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
    fclose(f);
}

/* Found by fuzz_imgdir: stb_image 2.27 writes past a JPEG Huffman table of
 * more than 256 codes, reads a Huffman table no DHT defined from leftover
 * heap memory (its assertions can then abort), and reserves a PNG chunk's
 * declared length before reading it; content of other formats named .png
 * reached stb's other decoders; a header's size was only checked after
 * decoding it all. */
START_TEST(test_imgdir_hostile)
{
    const char *root = tu_tmpdir();
    char dir[1100], img[1100], want[2400];
    unsigned char buf[4096], px[12] = {0};
    snprintf(dir, sizeof dir, "%s", tu_path(root, "x"));
    make_dir(dir);
    make_dir(tu_path(dir, "c"));
    snprintf(img, sizeof img, "%s", tu_path(dir, "c/i.png"));
    write_image(tu_path(root, "t.JPG"), 0, 1, 3, 4);
    size_t n = slurp(tu_path(root, "t.JPG"), buf, sizeof buf), k = 2;
    while (k + 21 < n && !(buf[k] == 0xff && buf[k + 1] == 0xc4))
        k++;
    ck_assert(k + 21 < n);
    memset(buf + k + 5, 0xff, 16); /* the 16 code counts of the first table */
    spill(img, buf, n);
    snprintf(want, sizeof want, "%s: cannot decode image: corrupt JPEG: a Huffman table of more "
             "than 256 codes", img);
    expect_read_error(dir, CN_ERR_FORMAT, want);
    n = slurp(tu_path(root, "t.JPG"), buf, sizeof buf); /* the first scan uses tables 2 */
    for (k = 2; k + 6 < n && !(buf[k] == 0xff && buf[k + 1] == 0xda); k++)
        ;
    ck_assert(k + 6 < n);
    buf[k + 6] = 0x22; /* its first component's DC/AC selectors (no DHT defines table 2) */
    spill(img, buf, n);
    snprintf(want, sizeof want, "%s: cannot decode image: corrupt JPEG: a scan uses a Huffman "
             "table no DHT segment defines", img);
    expect_read_error(dir, CN_ERR_FORMAT, want);
    ck_assert(stbi_write_tga(img, 4, 3, 1, px));
    snprintf(want, sizeof want, "%s: cannot decode image: not a PNG, JPEG or BMP file", img);
    expect_read_error(dir, CN_ERR_FORMAT, want);
    write_image(img, 0, 1, 3, 4);
    n = slurp(img, buf, sizeof buf);
    for (k = 8; k + 4 < n && memcmp(buf + k + 4, "IDAT", 4); k++)
        ;
    ck_assert(k + 4 < n);
    const unsigned char huge[4] = {0x80, 0, 0, 0}; /* 2 GiB of IDAT, which stb would reserve */
    memcpy(buf + k, huge, 4);
    spill(img, buf, n);
    snprintf(want, sizeof want, "%s: cannot decode image: corrupt PNG: a chunk longer than the "
             "rest of the file", img);
    expect_read_error(dir, CN_ERR_FORMAT, want);
    write_image(img, 0, 1, 3, 4);
    n = slurp(img, buf, sizeof buf);
    const unsigned char big[8] = {0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20}; /* 20000 x 20000 */
    memcpy(buf + 16, big, 8); /* IHDR's width and height */
    spill(img, buf, n);
    snprintf(want, sizeof want, "%s: image is 20000x20000, expected 3x4 (height x width from "
             "[data] height/width)", img);
    expect_read_error(dir, CN_ERR_SHAPE, want);
}
END_TEST

/* A BMP stored top down (a negative height, rows first to last) reads to
 * the pixels of the bottom-up BMP stb_image_write makes of the same image. */
START_TEST(test_imgdir_bmp_top_down)
{
    const char *up = tu_tmpdir(), *down = tu_tmpdir();
    unsigned char buf[4096], flip[4096];
    make_dir(tu_path(up, "k"));
    make_dir(tu_path(down, "k"));
    write_image(tu_path(up, "k/i.bmp"), 3, 3, 3, 4);
    size_t n = slurp(tu_path(up, "k/i.bmp"), buf, sizeof buf);
    unsigned off = buf[10] | buf[11] << 8, stride = (4 * 3 + 3) & ~3u;
    int h = (int)(buf[22] | buf[23] << 8 | buf[24] << 16 | (unsigned)buf[25] << 24);
    ck_assert_int_eq(h, 3);
    ck_assert_uint_ge(n, off + 3 * stride);
    memcpy(flip, buf, n);
    for (int y = 0; y < 3; y++)
        memcpy(flip + off + (size_t)y * stride, buf + off + (size_t)(2 - y) * stride, stride);
    const unsigned char minus3[4] = {0xfd, 0xff, 0xff, 0xff};
    memcpy(flip + 22, minus3, 4);
    spill(tu_path(down, "k/i.bmp"), flip, n);
    cn_dataset *a, *b;
    cn_error err;
    ck_assert_msg(!cn_imgdir_read(up, 3, 3, 4, "x", &a, &err), "%s", err.msg);
    ck_assert_msg(!cn_imgdir_read(down, 3, 3, 4, "x", &b, &err), "%s", err.msg);
    ck_assert_mem_eq(a->u8, b->u8, 3 * 3 * 4);
    for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++)
                ck_assert_int_eq(b->u8[(ch * 3 + y) * 4 + x], value(3, ch, y, x));
    cn_dataset_free(a);
    cn_dataset_free(b);
}
END_TEST

/* A PNG stb_image cannot decode is named as a PNG, with the reason of
 * stb's PNG decoder (its format probe alone says "unknown image type"). */
START_TEST(test_imgdir_png_message)
{
    static const struct {
        int at;
        unsigned char byte;
        const char *why;
    } bad[] = {
        {12, 'X', "first not IHDR"},       /* its type */
        {24, 3, "1/2/4/8/16-bit only"},    /* its bit depth */
        {25, 7, "bad ctype"},              /* its colour type */
        {16 + 3, 0, "0-pixel image"},      /* a width of 0 */
    };
    const char *root = tu_tmpdir(), *img = tu_path(root, "k/i.png");
    unsigned char buf[4096];
    char want[1200];
    make_dir(tu_path(root, "k"));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_image(img, 0, 1, 3, 4);
        size_t n = slurp(img, buf, sizeof buf);
        if (bad[i].at == 19)
            memset(buf + 16, 0, 4);
        buf[bad[i].at] = bad[i].byte;
        spill(img, buf, n);
        snprintf(want, sizeof want, "%s: cannot decode image: corrupt or unsupported PNG "
                 "(stb_image: %s)", img, bad[i].why);
        expect_read_error(root, CN_ERR_FORMAT, want);
    }
    /* the header whole, the compressed data garbled: stb's PNG decoder says why */
    write_image(img, 0, 1, 3, 4);
    size_t n = slurp(img, buf, sizeof buf), k = 8;
    while (k + 8 < n && memcmp(buf + k + 4, "IDAT", 4))
        k++;
    ck_assert(k + 8 < n);
    buf[k + 8] ^= 0x55; /* the zlib header */
    spill(img, buf, n);
    snprintf(want, sizeof want, "%s: cannot decode image: corrupt or unsupported PNG "
             "(stb_image: bad zlib header)", img);
    expect_read_error(root, CN_ERR_FORMAT, want);
}
END_TEST

Suite *data_img_suite(void)
{
    Suite *s = suite_create("data_img");
    TCase *tc = tcase_create("imgdir");
    tcase_add_loop_test(tc, test_imgdir_read, 0, 3);
    tcase_add_test(tc, test_imgdir_jpeg);
    tcase_add_test(tc, test_imgdir_errors);
    tcase_add_test(tc, test_imgdir_open);
    tcase_add_test(tc, test_imgdir_hostile);
    tcase_add_test(tc, test_imgdir_bmp_top_down);
    tcase_add_test(tc, test_imgdir_png_message);
    suite_add_tcase(s, tc);
    tc = tcase_create("csv");
    tcase_add_test(tc, test_csv_read);
    tcase_add_test(tc, test_csv_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("convert");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_convert_roundtrip, 0, 3);
    tcase_add_test(tc, test_convert_errors);
    tcase_add_test(tc, test_convert_cli);
    suite_add_tcase(s, tc);
    return s;
}
