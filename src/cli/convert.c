/* convert.c - `cnet convert`: an IDX images/labels pair to a folder of PNGs
 * per class, and back with --to-idx. The options table parses the
 * arguments; the checks that join options are here, the conversion itself
 * is data/convert.c. */
#include <stdlib.h>

#include "cli.h"

/* --height, --width and --channels belong to --to-idx, which needs the first two. */
static cn_status check(const cli_opts *o, cn_error *err)
{
    if (!o->to_idx && (o->height || o->width || o->channels))
        return cn_errorf(err, CN_ERR_USAGE, "--height, --width and --channels go with --to-idx");
    if (o->to_idx && (!o->height || !o->width))
        return cn_errorf(err, CN_ERR_USAGE, "--to-idx needs --height and --width");
    return CN_OK;
}

int cli_convert(const cli_opts *o)
{
    int n = 0, classes = 0;
    cn_error err = {0};
    if (check(o, &err))
        return cli_fail(&err);
    if (o->to_idx) {
        /* the table bounds height and width to 1..2^20 and channels to 1 or 3 */
        int h = (int)o->height, w = (int)o->width, c = o->channels ? atoi(o->channels) : 1;
        if (cn_convert_dir_to_idx(o->pos[0], h, w, c, o->pos[1], o->pos[2], &n, &classes,
                                  &err))
            return cli_fail(&err);
        printf("wrote %d images (%dx%dx%d) of %d classes to %s, their labels to %s\n", n, c, h,
               w, classes, o->pos[1], o->pos[2]);
        return 0;
    }
    if (cn_convert_idx_to_dir(o->pos[0], o->pos[1], o->pos[2], &n, &classes, &err))
        return cli_fail(&err);
    printf("wrote %d PNG images in %d class folders under %s\n", n, classes, o->pos[2]);
    return 0;
}
