/* fuzz_idx.c - libFuzzer harness: the IDX reader and the `idx` dataset type.
 *
 * Input: a mode byte, then the file (plain, or gzip'd: zlib reads both).
 * Every input goes through cn_idx_read; then, by the mode's low bit, through
 * the dataset type as the images file (labels none) or as the labels file
 * of a fixed, valid images file of 4 samples of 2x2.
 */
#include "fuzz.h"

static const char *fixed_images(void)
{
    static char path[128];
    if (!path[0]) {
        static const int dims[4] = {4, 2, 2, 0};
        static const unsigned char x[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
        cn_error err;
        snprintf(path, sizeof path, "%s/images.idx", fz_dir());
        if (cn_idx_write(path, 3, dims, x, &err))
            abort();
    }
    return path;
}

static void load_dataset(const char *file, int as_labels)
{
    char text[512];
    snprintf(text, sizeof text, "[data]\ntype=idx\ndir=%s\ntrain_images=%s\ntrain_labels=%s\n",
             fz_dir(), as_labels ? fixed_images() : file, as_labels ? file : "none");
    cn_cfg *cfg = fz_cfg(text);
    const cn_dataset_ops *ops = cn_dataset_find("idx");
    cn_sec s = cn_sec_make(cfg, cn_cfg_find(cfg, "data"), cn_data_common_keys, ops->keys, NULL);
    cn_dataset *ds = NULL;
    cn_error err;
    cn_status st = ops->load(&s, CN_SPLIT_TRAIN, &ds, &err);
    fz_check_error(st, &err);
    if (!st)
        fz_touch(ds);
    cn_dataset_free(ds);
    cn_cfg_free(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char path[128];
    snprintf(path, sizeof path, "%s/input.idx", fz_dir());
    fz_write(path, data + 1, size - 1);
    int ndim = 0, dims[4];
    unsigned char *x = NULL;
    cn_error err;
    cn_status st = cn_idx_read(path, &ndim, dims, &x, &err);
    fz_check_error(st, &err);
    if (!st) {
        size_t bytes = 1;
        for (int i = 0; i < ndim; i++)
            bytes *= (size_t)dims[i];
        if (ndim < 1 || ndim > 4 || bytes > size)
            abort(); /* more data than the file held */
        unsigned char *copy = malloc(bytes); /* ASan checks the whole buffer */
        if (!copy)
            abort();
        memcpy(copy, x, bytes);
        free(copy);
    } else if (x) {
        abort(); /* a failed read leaves no buffer */
    }
    free(x);
    load_dataset("input.idx", data[0] & 1);
    return 0;
}
