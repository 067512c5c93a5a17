/* imgdir.c - image folders (one subfolder per class) and the `imgdir` dataset type.
 *
 * Layout: DIR/<class>/<image>, where the label of an image is the index of
 * its class folder among all class folders in strcmp order, and the images
 * of a class are every entry but a folder named *.png, *.jpg, *.jpeg or *.bmp
 * (any case), taken in strcmp order of their names. Names starting with '.'
 * are skipped. stb_image decodes each file to the configured number of
 * channels (it converts grey <-> RGB); a file of any other size is an error
 * naming the path, since cnet does not resize silently. The size is read
 * from the header before decoding, and only files that pass the checks of
 * data/imgcheck.c (PNG, JPEG or BMP, lengths stb_image trusts) reach it.
 * An image file must be a regular file (a FIFO or a device named .png is an
 * error) of at most IMG_MAX_BYTES for the configured size.
 *
 * stb_image gives interleaved pixels (h, w, c); samples are stored as bytes
 * in cnet's layout (c, h, w): x[ch][y][x] = img[(y * w + x) * c + ch].
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <stb/stb_image.h>

#include "imgcheck.h"
#include "internal.h"

/* The largest image file read for an image of h x w pixels: 16 bytes a
 * pixel (a 16-bit RGBA PNG stored without compression takes 8) and 16 MiB
 * for what else a file may carry (ICC profiles, EXIF, thumbnails). */
#define IMG_MAX_BYTES(h, w) (((uint64_t)16 << 20) + 16 * (uint64_t)(h) * (uint64_t)(w))

/* A sorted list of names (owned strings). */
typedef struct names {
    char **v;
    int n, cap;
} names;

static void names_free(names *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_image(const char *name)
{
    static const char *const ext[] = {".png", ".jpg", ".jpeg", ".bmp"};
    size_t n = strlen(name);
    for (int i = 0; i < 4; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && strcasecmp(name + n - e, ext[i]) == 0)
            return 1;
    }
    return 0;
}

/* Entries of `dir` that are folders (want_dirs) or image files, sorted. */
static cn_status list(const char *dir, int want_dirs, names *out, cn_error *err)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return cn_errorf(err, CN_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    cn_status st = CN_OK;
    for (struct dirent *e; !st && (e = readdir(d));) {
        char path[4096];
        struct stat sb;
        if (e->d_name[0] == '.' || (!want_dirs && !is_image(e->d_name)))
            continue;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path) {
            st = cn_errorf(err, CN_ERR_IO, "%s/%s: path too long", dir, e->d_name);
            break;
        }
        /* an image that is a FIFO or a device stays in the list: reading it
         * refuses it by name, which a silent skip would not */
        if (stat(path, &sb) != 0 || want_dirs != !!S_ISDIR(sb.st_mode))
            continue;
        if (out->n == out->cap) {
            int cap = out->cap ? 2 * out->cap : 16;
            char **v = realloc(out->v, (size_t)cap * sizeof *v);
            if (!v) {
                st = cn_errorf(err, CN_ERR_NOMEM, "%s: out of memory for %d names", dir, cap);
                break;
            }
            out->v = v;
            out->cap = cap;
        }
        if (!(out->v[out->n] = strdup(e->d_name)))
            st = cn_errorf(err, CN_ERR_NOMEM, "%s: out of memory for a name", dir);
        else
            out->n++;
    }
    closedir(d);
    if (st)
        names_free(out);
    else if (out->n)
        qsort(out->v, (size_t)out->n, sizeof *out->v, cmp_str);
    return st;
}

/* The class folders of dir; none is an error. */
static cn_status list_classes(const char *dir, names *out, cn_error *err)
{
    cn_status st = list(dir, 1, out, err);
    if (!st && out->n == 0)
        st = cn_errorf(err, CN_ERR_FORMAT, "%s: no class folders (expected one subfolder per "
                       "class, holding its images)", dir);
    return st;
}

/* The whole file into *buf (*n bytes, which stb_image counts in an int): a
 * regular file no larger than an image of h x w justifies (IMG_MAX_BYTES). */
static cn_status read_file(const char *path, int h, int w, unsigned char **buf, int *n,
                           cn_error *err)
{
    char what[64], *text = NULL;
    size_t len = 0;
    snprintf(what, sizeof what, "an image of %dx%d pixels", h, w);
    cn_status st = cn_file_slurp(path, what, CN_MIN(IMG_MAX_BYTES(h, w), (uint64_t)INT_MAX),
                                 &text, &len, err);
    *buf = (unsigned char *)text;
    *n = (int)len; /* fits: at most INT_MAX */
    return st;
}

/* stb_image's failure reason, kept to printable ASCII (an unknown PNG chunk
 * puts the file's bytes in it). */
static void clean_reason(const char *why, char *out, size_t size)
{
    size_t k = 0;
    for (; why && why[k] && k + 1 < size; k++)
        out[k] = why[k] >= 0x20 && why[k] < 0x7f ? why[k] : '?';
    out[k] = '\0';
}

/* The message for a PNG, JPEG or BMP (fmt, from its signature) that
 * stb_image does not decode: its reason, from the decoder of that format.
 * When the header is bad, stb's info call has tried every format and says
 * only "unknown image type"; its decoder, picked by the same signature,
 * fails on the same header (before any pixel is allocated) and says why. */
static cn_status undecodable(const char *path, const char *fmt, const unsigned char *buf, int n,
                             int c, cn_error *err)
{
    int iw, ih, ic;
    char why[80];
    const char *reason = stbi_failure_reason();
    if (reason && !strcmp(reason, "unknown image type")) {
        unsigned char *img = stbi_load_from_memory(buf, n, &iw, &ih, &ic, c);
        reason = img ? "no header it can read" : stbi_failure_reason();
        stbi_image_free(img);
    }
    clean_reason(reason, why, sizeof why);
    return cn_errorf(err, CN_ERR_FORMAT, "%s: cannot decode image: corrupt or unsupported %s "
                     "(stb_image: %s)", path, fmt, why);
}

/* Decode path into x (c, h, w) bytes. The header's size is checked before
 * decoding, so an image of another size costs no decoding. A BMP stored top
 * down gives a negative height, which stb_image decodes as any other. */
static cn_status decode(const char *path, int c, int h, int w, const char *origin,
                        unsigned char *x, cn_error *err)
{
    unsigned char *buf = NULL, *img = NULL;
    int n = 0, iw = 0, ih = 0, ic;
    cn_status st = read_file(path, h, w, &buf, &n, err);
    if (st)
        return st;
    const char *why = cn_img_check(buf, (size_t)n), *fmt = cn_img_format(buf, (size_t)n);
    if (why)
        st = cn_errorf(err, CN_ERR_FORMAT, "%s: cannot decode image: %s", path, why);
    else if (!stbi_info_from_memory(buf, n, &iw, &ih, &ic))
        st = undecodable(path, fmt, buf, n, c, err);
    else if (!strcmp(fmt, "BMP") && ih < 0 && ih > INT_MIN)
        ih = -ih;
    if (!st && (ih != h || iw != w))
        st = cn_errorf(err, CN_ERR_SHAPE, "%s: image is %dx%d, expected %dx%d (height x width "
                       "from %s)", path, ih, iw, h, w, origin);
    else if (!st && !(img = stbi_load_from_memory(buf, n, &iw, &ih, &ic, c)))
        st = undecodable(path, fmt, buf, n, c, err);
    else if (!st && (ih != h || iw != w))
        st = cn_errorf(err, CN_ERR_FORMAT, "%s: cannot decode image: its size changed while "
                       "decoding", path);
    size_t hw = (size_t)h * (size_t)w;
    for (int ch = 0; !st && ch < c; ch++)
        for (size_t p = 0; p < hw; p++)
            x[(size_t)ch * hw + p] = img[p * (size_t)c + (size_t)ch];
    stbi_image_free(img);
    free(buf);
    return st;
}

/* Every image of every class, decoded into ds (whose shape is set). */
static cn_status read_classes(const char *dir, const names *classes, const char *origin,
                              cn_dataset *ds, cn_error *err)
{
    names *files = calloc((size_t)classes->n, sizeof *files);
    if (!files)
        return cn_errorf(err, CN_ERR_NOMEM, "%s: out of memory for %d classes", dir,
                         classes->n);
    cn_status st = CN_OK;
    char path[4096];
    size_t total = 0, d = (size_t)ds->c * (size_t)ds->h * (size_t)ds->w;
    for (int k = 0; !st && k < classes->n; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, classes->v[k]);
        if (!(st = list(path, 0, &files[k], err)) && files[k].n == 0)
            st = cn_errorf(err, CN_ERR_FORMAT, "%s: class folder holds no images (.png, .jpg, "
                           ".jpeg or .bmp)", path);
        total += (size_t)files[k].n;
    }
    if (!st && (total > (size_t)INT_MAX || total > SIZE_MAX / d))
        st = cn_errorf(err, CN_ERR_FORMAT, "%s: %zu images of %zu bytes, more than fit in memory",
                       dir, total, d);
    if (!st && (!(ds->u8 = malloc(total * d)) || !(ds->labels = malloc(total * sizeof(int)))))
        st = cn_errorf(err, CN_ERR_NOMEM, "%s: out of memory for %zu images", dir, total);
    for (int k = 0; !st && k < classes->n; k++) {
        for (int i = 0; !st && i < files[k].n; i++) {
            snprintf(path, sizeof path, "%s/%s/%s", dir, classes->v[k], files[k].v[i]);
            if (!(st = decode(path, ds->c, ds->h, ds->w, origin, ds->u8 + (size_t)ds->n * d,
                              err)))
                ds->labels[ds->n++] = k;
        }
    }
    for (int k = 0; k < classes->n; k++)
        names_free(&files[k]);
    free(files);
    ds->n_classes = classes->n;
    return st;
}

cn_status cn_imgdir_read(const char *dir, int channels, int height, int width, const char *origin,
                         cn_dataset **out, cn_error *err)
{
    *out = NULL;
    if ((channels != 1 && channels != 3) || height < 1 || width < 1)
        return cn_errorf(err, CN_ERR_INTERNAL, "%s: cannot read images of %dx%dx%d (channels "
                         "1 or 3, sizes >= 1)", dir, channels, height, width);
    names classes;
    cn_status st = list_classes(dir, &classes, err);
    if (st)
        return st;
    cn_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) {
        names_free(&classes);
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for a dataset");
    }
    snprintf(ds->source, sizeof ds->source, "%s", dir);
    ds->c = channels;
    ds->h = height;
    ds->w = width;
    ds->scale = 1.0f / 255.0f;
    st = read_classes(dir, &classes, origin, ds, err);
    names_free(&classes);
    if (st) {
        cn_dataset_free(ds);
        return st;
    }
    *out = ds;
    return CN_OK;
}

/* ---- the `imgdir` dataset type ---- */

static const cn_key imgdir_keys[] = {
    {"dir", CN_KEY_STRING, NULL, NULL,
     "dataset folder, searched in $CNET_DATA_PATH, ./datasets and /usr/share/datasets "
     "unless absolute or ./-relative (not needed when train_dir and test_dir are absolute)"},
    {"train_dir", CN_KEY_STRING, "train", NULL,
     "training images, one subfolder per class, in dir unless absolute"},
    {"test_dir", CN_KEY_STRING, "test", NULL,
     "test images; the same class folder names as train_dir"},
    {"channels", CN_KEY_ENUM, "1", "1|3", "1 = greyscale, 3 = RGB (images are converted)"},
    {"height", CN_KEY_INT, NULL, "[1, 65536]", "image height; every image must have it"},
    {"width", CN_KEY_INT, NULL, "[1, 65536]", "image width; every image must have it"},
    {"scale", CN_KEY_FLOAT, "0.00392156862745098", "(-inf, inf)",
     "a byte b reads as b * scale (default 1/255: values in [0, 1])"},
    CN_KEY_END,
};

/* path = name when absolute, else dir/name, with dir located once (into base). */
static cn_status resolve(cn_sec *s, const char *dir, const char *name, char *base, char *path,
                         size_t size, cn_error *err)
{
    if (name[0] == '/') {
        if ((size_t)snprintf(path, size, "%s", name) >= size)
            return cn_errorf(err, CN_ERR_IO, "path too long: '%s'", name);
        return CN_OK;
    }
    if (!dir)
        return cn_sec_errorf(s, CN_ERR_CFG, err, "needs key 'dir' (the dataset folder) for "
                             "the relative folder '%s'", name);
    cn_status st;
    if (!base[0] && (st = cn_data_locate(dir, base, size, err)))
        return st;
    if ((size_t)snprintf(path, size, "%s/%s", base, name) >= size)
        return cn_errorf(err, CN_ERR_IO, "path too long: '%s/%s'", base, name);
    return CN_OK;
}

/* Both splits must name the same classes: compare the class folders. */
static cn_status same_classes(const char *train, const char *test, cn_error *err)
{
    names a, b;
    cn_status st = list_classes(train, &a, err);
    if (st)
        return st;
    if ((st = list_classes(test, &b, err))) {
        names_free(&a);
        return st;
    }
    /* the first difference of the two sorted lists is a name only one holds */
    int i = 0;
    while (i < a.n && i < b.n && !strcmp(a.v[i], b.v[i]))
        i++;
    if (i < a.n || i < b.n) {
        int in_train = i >= b.n || (i < a.n && strcmp(a.v[i], b.v[i]) < 0);
        st = cn_errorf(err, CN_ERR_FORMAT, "%s and %s hold different class folders: '%s' is "
                       "only in %s", train, test, in_train ? a.v[i] : b.v[i],
                       in_train ? train : test);
    }
    names_free(&a);
    names_free(&b);
    return st;
}

static cn_status imgdir_load(cn_sec *s, cn_split split, cn_dataset **out, cn_error *err)
{
    const char *dir, *train, *test;
    int ch, h, w;
    float scale;
    cn_status st;
    *out = NULL;
    /* Every key is read before any file, so the caller can check for unknown ones. */
    if ((st = cn_sec_str(s, "dir", &dir, err)) ||
        (st = cn_sec_str(s, "train_dir", &train, err)) ||
        (st = cn_sec_str(s, "test_dir", &test, err)) ||
        (st = cn_sec_enum(s, "channels", &ch, err)) ||
        (st = cn_sec_int(s, "height", &h, err)) ||
        (st = cn_sec_int(s, "width", &w, err)) ||
        (st = cn_sec_float(s, "scale", &scale, err)) ||
        (st = cn_byte_scale_check(s, scale, err)))
        return st;
    const char *name = split == CN_SPLIT_TRAIN ? train : test;
    if (!name[0])
        return cn_sec_bad(s, split == CN_SPLIT_TRAIN ? "train_dir" : "test_dir", CN_ERR_CFG, err,
                          "expects a folder name");
    char base[512] = "", path[512], other[512];
    if ((st = resolve(s, dir, name, base, path, sizeof path, err)))
        return st;
    /* the test split is loaded second: its classes must be the training ones */
    if (split == CN_SPLIT_TEST &&
        ((st = resolve(s, dir, train, base, other, sizeof other, err)) ||
         (st = same_classes(other, path, err))))
        return st;
    if ((st = cn_imgdir_read(path, ch ? 3 : 1, h, w, "[data] height/width", out, err)))
        return st;
    (*out)->scale = scale;
    return CN_OK;
}

const cn_dataset_ops cn_dataset_imgdir = {
    .type = "imgdir",
    .keys = imgdir_keys,
    .doc = "image folders: one subfolder per class (labels in sorted folder order), PNG, JPEG "
           "or BMP images of one size, decoded by stb_image",
    .load = imgdir_load,
};
