/* fuzz_csv.c - libFuzzer harness: the `csv` dataset type.
 *
 * Input: a mode byte, then the file. The mode picks the options: the label
 * column (none, first, second), the header flag, the delimiter (comma,
 * semicolon, tab) and whether a shape C,H,W = 1,2,N/2 is given. A loaded
 * dataset has every sample read back and its labels checked against
 * n_classes.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const delims[4] = {",", "semicolon", "tab", ","};
    int mode = data[0], label_col = mode % 3 - 1;
    char path[128], text[512];
    snprintf(path, sizeof path, "%s/train.csv", fz_dir());
    fz_write(path, data + 1, size - 1);
    snprintf(text, sizeof text, "[data]\ntype=csv\ntrain_file=%s\nlabel_col=%d\nheader=%d\n"
             "delimiter=%s\n%s", path, label_col, mode >> 2 & 1, delims[mode >> 3 & 3],
             mode & 0x20 ? "shape=1,2,2\n" : "");
    cn_cfg *cfg = fz_cfg(text);
    const cn_dataset_ops *ops = cn_dataset_find("csv");
    cn_sec s = cn_sec_make(cfg, cn_cfg_find(cfg, "data"), cn_data_common_keys, ops->keys, NULL);
    cn_dataset *ds = NULL;
    cn_error err;
    cn_status st = ops->load(&s, CN_SPLIT_TRAIN, &ds, &err);
    fz_check_error(st, &err);
    if (!st) {
        if (!ds->f32 || (label_col >= 0) != (ds->labels != NULL))
            abort();
        fz_touch(ds);
    }
    cn_dataset_free(ds);
    cn_cfg_free(cfg);
    return 0;
}
