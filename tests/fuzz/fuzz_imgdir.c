/* fuzz_imgdir.c - libFuzzer harness: the image-folder decode path.
 *
 * Input: a mode byte, then an image file, placed as the one image of the one
 * class of a folder (class/x.png) and read with cn_imgdir_read at 1 or 3
 * channels (mode bit 0) and 8x8 or 4x6 pixels (bit 1). stb_image sniffs the
 * format from the content, so any format it knows is reachable whatever the
 * name. stb_image is linked in instrumented (tests/fuzz/stb_image.c).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static char root[128], path[160];
    if (!root[0]) {
        snprintf(root, sizeof root, "%s/train", fz_dir());
        snprintf(path, sizeof path, "%s/class", root);
        if (mkdir(root, 0700) || mkdir(path, 0700))
            abort();
        snprintf(path, sizeof path, "%s/class/x.png", root);
    }
    fz_write(path, data + 1, size - 1);
    int channels = data[0] & 1 ? 3 : 1, h = data[0] & 2 ? 4 : 8, w = data[0] & 2 ? 6 : 8;
    cn_dataset *ds = NULL;
    cn_error err;
    cn_status st = cn_imgdir_read(root, channels, h, w, "fuzz", &ds, &err);
    fz_check_error(st, &err);
    if (!st) {
        if (ds->n != 1 || ds->n_classes != 1 || ds->c != channels || !ds->u8)
            abort();
        fz_touch(ds);
    }
    cn_dataset_free(ds);
    return 0;
}
