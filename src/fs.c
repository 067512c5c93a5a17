/* fs.c - file-system helpers shared by the readers, the trainer and the
 * command line.
 *
 * Every reader of an input file (cfg, IDX, CSV, image, label mask, log.csv)
 * opens it through cn_file_open: only a regular file of at most the size
 * its reader allows is read. A directory, FIFO, device or socket is refused
 * by stat before it is opened, so a FIFO without a writer cannot block the
 * open and a device such as /dev/zero is never read, and again by fstat
 * after the open, in case the path changed in between (O_NONBLOCK keeps
 * that open from blocking too; it changes nothing for a regular file).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* What a file of mode m is, for "it is ..., not a regular file". */
static const char *file_kind(mode_t m)
{
    return S_ISDIR(m)    ? "a directory"
           : S_ISFIFO(m) ? "a FIFO (named pipe)"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "not a regular file";
}

static cn_status not_regular(const char *path, mode_t m, cn_error *err)
{
    return cn_errorf(err, CN_ERR_IO, "%s: cannot read: it is %s, not a regular file", path,
                     file_kind(m));
}

void cn_size_str(uint64_t bytes, char *out, size_t size)
{
    static const char *const unit[] = {"GiB", "MiB", "KiB"};
    for (int i = 0; i < 3; i++) {
        uint64_t u = (uint64_t)1 << (30 - 10 * i);
        if (bytes >= u && bytes % u == 0) {
            snprintf(out, size, "%" PRIu64 " %s", bytes / u, unit[i]);
            return;
        }
    }
    snprintf(out, size, "%" PRIu64 " bytes", bytes);
}

cn_status cn_file_too_big(const char *path, uint64_t bytes, int more, const char *what,
                          uint64_t max, cn_error *err)
{
    char lim[48];
    cn_size_str(max, lim, sizeof lim);
    return cn_errorf(err, CN_ERR_FORMAT, "%s: cannot read: it holds %s%" PRIu64 " bytes; %s "
                     "may hold at most %s", path, more ? "more than " : "", bytes, what, lim);
}

cn_status cn_file_open(const char *path, const char *what, uint64_t max, int *fd,
                       uint64_t *size, cn_error *err)
{
    struct stat sb;
    *fd = -1;
    if (stat(path, &sb) != 0)
        return cn_errorf(err, CN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return not_regular(path, sb.st_mode, err);
    int f = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (f < 0)
        return cn_errorf(err, CN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    cn_status st = CN_OK;
    if (fstat(f, &sb) != 0)
        st = cn_errorf(err, CN_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = not_regular(path, sb.st_mode, err);
    else if ((uint64_t)sb.st_size > max)
        st = cn_file_too_big(path, (uint64_t)sb.st_size, 0, what, max, err);
    if (st) {
        close(f);
        return st;
    }
    *fd = f;
    *size = (uint64_t)sb.st_size;
    return CN_OK;
}

cn_status cn_file_fopen(const char *path, const char *what, uint64_t max, FILE **out,
                        cn_error *err)
{
    int fd;
    uint64_t size;
    *out = NULL;
    cn_status st = cn_file_open(path, what, max, &fd, &size, err);
    if (st)
        return st;
    if (!(*out = fdopen(fd, "rb"))) {
        st = cn_errorf(err, CN_ERR_NOMEM, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
    }
    return st;
}

cn_status cn_file_slurp(const char *path, const char *what, size_t max, char **text,
                        size_t *len, cn_error *err)
{
    int fd;
    uint64_t size;
    *text = NULL;
    cn_status st = cn_file_open(path, what, max, &fd, &size, err);
    if (st)
        return st;
    /* the size found, plus a byte that tells a file which grew meanwhile */
    size_t cap = (size_t)size + 1, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return cn_errorf(err, CN_ERR_NOMEM, "%s: out of memory for %zu bytes", path, cap);
    }
    for (;;) {
        if (n == cap && cap > max) {
            st = cn_file_too_big(path, max, 1, what, max, err);
            break;
        }
        if (n == cap) {
            cap = CN_MIN(2 * cap, max + 1);
            char *more = realloc(buf, cap + 1);
            if (!more) {
                st = cn_errorf(err, CN_ERR_NOMEM, "%s: out of memory for %zu bytes", path, cap);
                break;
            }
            buf = more;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            st = cn_errorf(err, CN_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    if (st) {
        free(buf);
        return st;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return CN_OK;
}

cn_status cn_file_replace(const char *path, const char *what,
                          int (*write)(FILE *f, const void *ctx), const void *ctx,
                          cn_error *err)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return cn_errorf(err, CN_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
    errno = 0;
    int ok = write(f, ctx) && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int saved_errno = errno;
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        unlink(tmp);
        return cn_errorf(err, CN_ERR_IO, "%s: write failed (%s); the previous %s is kept", path,
                         strerror(saved_errno ? saved_errno : errno), what);
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return cn_errorf(err, CN_ERR_IO, "%s: cannot rename from %s: %s", path, tmp,
                         strerror(e));
    }
    return CN_OK;
}
