/* runlock.c - a run folder belongs to one run: an advisory lock (flock) on
 * <dir>/lock, taken before anything in the folder is opened and held for
 * the whole run. The kernel releases it on any exit, a crash or SIGKILL
 * included, so a lock file left by a killed run is stale by construction:
 * the file may remain, but nobody holds it, and the next run takes it. The
 * holder writes its pid into the file, for the message a second run gets.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "internal.h"

cn_status cn_run_lock(const char *dir, int *fd, cn_error *err)
{
    char path[1100];
    *fd = -1;
    if (snprintf(path, sizeof path, "%s/lock", dir) >= (int)sizeof path)
        return cn_errorf(err, CN_ERR_IO, "%.40s...: run folder path too long", dir);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (f < 0)
        return cn_errorf(err, CN_ERR_IO, "%s: cannot open the run folder's lock: %s", path,
                         strerror(errno));
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int why = errno;
        char pid[32] = "";
        ssize_t n = pread(f, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        close(f);
        if (why == EWOULDBLOCK)
            return cn_errorf(err, CN_ERR_IO, "%s: the run folder is in use by another "
                             "training (pid %s, holding %s); wait for it to end, or train "
                             "into another folder with --run-dir", dir, *pid ? pid : "?",
                             path);
        return cn_errorf(err, CN_ERR_IO, "%s: cannot lock: %s", path, strerror(why));
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, pid, (size_t)len, 0) != len) {
        int why = errno;
        close(f);
        return cn_errorf(err, CN_ERR_IO, "%s: cannot write: %s", path, strerror(why));
    }
    *fd = f;
    return CN_OK;
}

void cn_run_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* the lock goes with the last descriptor */
}
