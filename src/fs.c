/* fs.c - file-system helpers shared by the trainer and the command line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

cn_status cn_make_dirs(const char *path, const char *what, cn_error *err)
{
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return cn_errorf(err, CN_ERR_IO, "%.40s...: cannot create %s: path too long", path,
                         what);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p)
            continue;
        char c = *p;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return cn_errorf(err, CN_ERR_IO, "%s: cannot create %s: %s", buf, what,
                             strerror(errno));
        *p = c;
        if (!c)
            break;
    }
    return CN_OK;
}
