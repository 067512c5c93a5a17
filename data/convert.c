/* convert.c - IDX files <-> image folders (what `cnet convert` runs).
 *
 * IDX -> folder: sample i with label y becomes OUT/<y>/<i>.png, y padded
 * with zeros to the width of the largest label and i to at least 5 digits,
 * so that strcmp order of the names is numeric order and the imgdir reader
 * gives every image its label back. A label no image has gets no folder.
 * PNGs are written by stb_image_write, grey for one channel and RGB for
 * three; cnet's (c, h, w) bytes are interleaved to (h, w, c) for it.
 *
 * Folder -> IDX: the imgdir reader (data/imgdir.c), then cn_idx_write for
 * the images, (n, h, w) or (n, 3, h, w), and the labels (n), which are bytes
 * and so allow at most 256 classes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb/stb_image_write.h>

#include "internal.h"

/* Decimal digits of x >= 0. */
static int digits(int x)
{
    int d = 1;
    while (x >= 10) {
        x /= 10;
        d++;
    }
    return d;
}

/* mkdir that accepts an existing folder. */
static cn_status make_dir(const char *path, cn_error *err)
{
    struct stat sb;
    if (mkdir(path, 0755) == 0 ||
        (errno == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)))
        return CN_OK;
    return cn_errorf(err, CN_ERR_IO, "%s: cannot create folder: %s", path, strerror(errno));
}

/* Images (n, c, h, w) and labels (n) from an IDX pair, checked against each other. */
static cn_status read_pair(const char *images, const char *labels, int dims[4],
                           unsigned char **x, unsigned char **y, cn_error *err)
{
    int ndim, ldim, ldims[4];
    cn_status st = cn_idx_read(images, &ndim, dims, x, err);
    if (st)
        return st;
    if (ndim != 3 && ndim != 4)
        return cn_errorf(err, CN_ERR_SHAPE, "%s: images must be 3-D (n, h, w) or 4-D "
                         "(n, c, h, w), found %d dimensions", images, ndim);
    if (ndim == 4 && dims[1] != 1 && dims[1] != 3)
        return cn_errorf(err, CN_ERR_SHAPE, "%s: images have %d channels; PNG conversion takes "
                         "1 (grey) or 3 (RGB)", images, dims[1]);
    if (ndim == 3) {
        memmove(dims + 2, dims + 1, 2 * sizeof *dims);
        dims[1] = 1;
    }
    if ((st = cn_idx_read(labels, &ldim, ldims, y, err)))
        return st;
    if (ldim != 1)
        return cn_errorf(err, CN_ERR_SHAPE, "%s: labels must be 1-D (n), found %d dimensions",
                         labels, ldim);
    if (ldims[0] != dims[0])
        return cn_errorf(err, CN_ERR_SHAPE, "%s holds %d images but %s holds %d labels", images,
                         dims[0], labels, ldims[0]);
    return CN_OK;
}

/* Write every image under out_dir; hwc (h, w, c) is scratch for RGB; *folders
 * gets the number of class folders. */
static cn_status write_pngs(const char *out_dir, const int dims[4], const unsigned char *x,
                            const unsigned char *y, unsigned char *hwc, int *folders,
                            cn_error *err)
{
    int n = dims[0], c = dims[1], h = dims[2], w = dims[3], classes = 0;
    size_t hw = (size_t)h * (size_t)w;
    unsigned char made[256] = {0};
    char path[4096];
    cn_status st;
    for (int i = 0; i < n; i++)
        classes = CN_MAX(classes, y[i] + 1);
    int cw = digits(classes - 1), iw = CN_MAX(5, digits(n - 1));
    for (int i = 0; i < n; i++) {
        if ((size_t)snprintf(path, sizeof path, "%s/%0*d/%0*d.png", out_dir, cw, y[i], iw, i) >=
            sizeof path)
            return cn_errorf(err, CN_ERR_IO, "%s: path too long", out_dir);
        if (!made[y[i]]) {
            *strrchr(path, '/') = '\0'; /* the class folder first */
            if ((st = make_dir(path, err)))
                return st;
            path[strlen(path)] = '/';
            made[y[i]] = 1;
            ++*folders;
        }
        const unsigned char *img = x + (size_t)i * (size_t)c * hw;
        for (size_t p = 0; c == 3 && p < hw; p++)
            for (int ch = 0; ch < 3; ch++)
                hwc[p * 3 + (size_t)ch] = img[(size_t)ch * hw + p];
        errno = 0;
        if (!stbi_write_png(path, w, h, c, c == 3 ? hwc : img, w * c))
            return cn_errorf(err, CN_ERR_IO, "%s: cannot write PNG: %s", path,
                             errno ? strerror(errno) : "encoder failed");
    }
    return CN_OK;
}

cn_status cn_convert_idx_to_dir(const char *images, const char *labels, const char *out_dir,
                                int *n, int *n_classes, cn_error *err)
{
    unsigned char *x = NULL, *y = NULL, *hwc = NULL;
    int dims[4], folders = 0;
    cn_status st = read_pair(images, labels, dims, &x, &y, err);
    if (!st && !(hwc = malloc((size_t)dims[2] * (size_t)dims[3] * 3)))
        st = cn_errorf(err, CN_ERR_NOMEM, "out of memory for one %dx%d image", dims[2], dims[3]);
    if (!st && !(st = make_dir(out_dir, err)))
        st = write_pngs(out_dir, dims, x, y, hwc, &folders, err);
    if (!st && n)
        *n = dims[0];
    if (!st && n_classes)
        *n_classes = folders;
    free(x);
    free(y);
    free(hwc);
    return st;
}

cn_status cn_convert_dir_to_idx(const char *dir, int height, int width, int channels,
                                const char *out_images, const char *out_labels, int *n,
                                int *n_classes, cn_error *err)
{
    cn_dataset *ds;
    cn_status st = cn_imgdir_read(dir, channels, height, width, "the conversion's height/width",
                                  &ds, err);
    if (st)
        return st;
    unsigned char *y = NULL;
    if (ds->n_classes > 256) {
        st = cn_errorf(err, CN_ERR_FORMAT, "%s: %d class folders, but IDX labels are bytes "
                       "(at most 256 classes)", dir, ds->n_classes);
    } else if (!(y = malloc((size_t)ds->n))) {
        st = cn_errorf(err, CN_ERR_NOMEM, "out of memory for %d labels", ds->n);
    } else {
        for (int i = 0; i < ds->n; i++)
            y[i] = (unsigned char)ds->labels[i];
        /* (n, h, w) for grey, (n, 3, h, w) for RGB */
        int rgb = channels == 3, dy[4] = {ds->n};
        int dx[4] = {ds->n, rgb ? 3 : height, rgb ? height : width, width};
        if (!(st = cn_idx_write(out_images, rgb ? 4 : 3, dx, ds->u8, err)) &&
            !(st = cn_idx_write(out_labels, 1, dy, y, err))) {
            if (n)
                *n = ds->n;
            if (n_classes)
                *n_classes = ds->n_classes;
        }
    }
    free(y);
    cn_dataset_free(ds);
    return st;
}
