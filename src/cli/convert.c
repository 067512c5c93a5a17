/* convert.c - `cnet convert`: an IDX images/labels pair to a folder of
 * PNGs per class, and back with --to-idx. The arguments are parsed here (the
 * command takes no CFG, so not through cli_parse); the conversion itself is
 * data/convert.c. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* One of the integer options, >= 1. */
static cn_status int_opt(const char *opt, const char *v, int *out, cn_error *err)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < 1 || x > 1 << 20)
        return cn_errorf(err, CN_ERR_USAGE, "%s expects an integer from 1 to %d, got '%s'", opt,
                         1 << 20, v);
    *out = (int)x;
    return CN_OK;
}

/* argv[2..] into the 3 positional arguments and the options. */
static cn_status parse(int argc, char **argv, const char *pos[3], int *to_idx, int size[3],
                       cn_error *err)
{
    static const char *const opts[3] = {"--height", "--width", "--channels"};
    int n_pos = 0, given = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int k = 0;
        while (k < 3 && strcmp(a, opts[k]))
            k++;
        if (k < 3) {
            if (i + 1 >= argc)
                return cn_errorf(err, CN_ERR_USAGE, "%s needs a value", a);
            if (int_opt(a, argv[++i], &size[k], err))
                return err->code;
            given |= 1 << k;
        } else if (!strcmp(a, "--to-idx")) {
            *to_idx = 1;
        } else if (a[0] == '-' && a[1]) {
            return cn_errorf(err, CN_ERR_USAGE, "unknown option '%s' (accepted: --to-idx "
                             "--height --width --channels)", a);
        } else if (n_pos == 3) {
            return cn_errorf(err, CN_ERR_USAGE, "unexpected argument '%s' (convert takes 3)", a);
        } else {
            pos[n_pos++] = a;
        }
    }
    if (n_pos != 3)
        return cn_errorf(err, CN_ERR_USAGE, "convert takes 3 arguments, got %d (see cnet help "
                         "convert)", n_pos);
    if (!*to_idx && given)
        return cn_errorf(err, CN_ERR_USAGE, "--height, --width and --channels go with --to-idx");
    if (*to_idx && (given & 3) != 3)
        return cn_errorf(err, CN_ERR_USAGE, "--to-idx needs --height and --width");
    if (size[2] != 1 && size[2] != 3)
        return cn_errorf(err, CN_ERR_USAGE, "--channels expects 1 or 3, got '%d'", size[2]);
    return CN_OK;
}

int cli_convert(int argc, char **argv)
{
    const char *pos[3] = {0};
    int to_idx = 0, size[3] = {0, 0, 1}, n = 0, classes = 0; /* height, width, channels */
    cn_error err = {0};
    if (parse(argc, argv, pos, &to_idx, size, &err))
        return cli_fail(&err);
    if (to_idx) {
        if (cn_convert_dir_to_idx(pos[0], size[0], size[1], size[2], pos[1], pos[2], &n,
                                  &classes, &err))
            return cli_fail(&err);
        printf("wrote %d images (%dx%dx%d) of %d classes to %s, their labels to %s\n", n,
               size[2], size[0], size[1], classes, pos[1], pos[2]);
        return 0;
    }
    if (cn_convert_idx_to_dir(pos[0], pos[1], pos[2], &n, &classes, &err))
        return cli_fail(&err);
    printf("wrote %d PNG images in %d class folders under %s\n", n, classes, pos[2]);
    return 0;
}
