/* check_readers.c - every reader of an input file is bounded before it
 * trusts its input (docs/reliability.md, "Reader bounds"): the cfg, IDX,
 * CSV, image, label-mask and log.csv readers refuse a directory, a FIFO
 * (without a writer, or with one that never stops), /dev/zero and
 * /dev/urandom by name, and a huge file (sparse, so it costs no disk) or a
 * gzip stream far longer than its header says, each within a few seconds.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "cnet/cnet.h"
#include "internal.h"
#include "util.h"

/* Each refusal below must come within this many seconds (sanitizers included). */
#define QUICK 5.0

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A sparse file of `size` bytes (zeros) starting with the n bytes head. */
static void sparse(const char *path, const void *head, size_t n, off_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert(write(fd, head, n) == (ssize_t)n);
    ck_assert_int_eq(ftruncate(fd, size), 0);
    close(fd);
}

/* ---- one reader at a time, through the library ---- */

typedef cn_status (*reader_fn)(const char *path, cn_error *err);

static cn_status read_cfg(const char *path, cn_error *err)
{
    cn_cfg *cfg;
    cn_status st = cn_cfg_parse_file(path, &cfg, err);
    cn_cfg_free(cfg);
    return st;
}

static cn_status read_idx(const char *path, cn_error *err)
{
    int ndim, dims[4];
    unsigned char *x;
    cn_status st = cn_idx_read(path, &ndim, dims, &x, err);
    free(x);
    return st;
}

/* cn_data_open of "[data]\n" + the keys, with %P standing for path. */
static cn_status open_data(const char *keys, const char *path, cn_error *err)
{
    char text[4096], *p = strstr(keys, "%P");
    ck_assert_ptr_nonnull(p);
    snprintf(text, sizeof text, "[data]\n%.*s%s%s", (int)(p - keys), keys, path, p + 2);
    cn_cfg *cfg;
    cn_data *d = NULL;
    ck_assert_msg(!cn_cfg_parse_string("t.cfg", text, &cfg, err), "%s", err->msg);
    cn_status st = cn_data_open(cfg, 1, &d, err);
    cn_data_close(d);
    cn_cfg_free(cfg);
    return st;
}

static cn_status read_csv(const char *path, cn_error *err)
{
    return open_data("type=csv\ntrain_file=%P\ntest_file=/dev/null\n", path, err);
}

static cn_status read_mask(const char *path, cn_error *err)
{
    char keys[1200];
    snprintf(keys, sizeof keys, "dir=%s\nlabel_mask=%%P\n", tu_idx_dataset(64, 16, 4, 4, 3, 7));
    return open_data(keys, path, err);
}

static cn_status read_log(const char *path, cn_error *err)
{
    return cn_vis_curves_script(path, tu_path(tu_tmpdir(), "curves.gp"), "curves.png", err);
}

/* The image reader on a class folder whose one image is `path` (a link to it,
 * or the thing itself when it lies in such a folder already). */
static cn_status read_image(const char *path, cn_error *err)
{
    cn_dataset *ds = NULL;
    char root[1024];
    snprintf(root, sizeof root, "%s", path);
    *strrchr(root, '/') = '\0';
    *strrchr(root, '/') = '\0';
    cn_status st = cn_imgdir_read(root, 1, 4, 4, "x", &ds, err);
    cn_dataset_free(ds);
    return st;
}

static const struct reader {
    const char *name, *file; /* the file's name in its folder */
    reader_fn read;
    const char *prefix; /* before the path in messages */
} readers[] = {
    {"cfg", "x.cfg", read_cfg, ""},
    {"idx", "x.idx.gz", read_idx, ""},
    {"csv", "x.csv", read_csv, ""},
    {"image", "x.png", read_image, ""},
    {"label mask", "mask.txt", read_mask, "label_mask "},
    {"log.csv", "log.csv", read_log, ""},
};
enum { N_READERS = sizeof readers / sizeof readers[0] };

/* The special files: _i / N_READERS picks one, _i % N_READERS the reader. */
enum { DIRECTORY, FIFO, FIFO_WRITER, DEV_ZERO, DEV_URANDOM, N_KINDS };

/* A child that writes zeros into the FIFO for ever (O_RDWR opens without
 * waiting for a reader; the writes block once the pipe is full). */
static pid_t endless_writer(const char *fifo)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        static const char zeros[4096];
        int fd = open(fifo, O_RDWR);
        while (fd >= 0 && write(fd, zeros, sizeof zeros) > 0)
            continue;
        _exit(0);
    }
    return pid;
}

START_TEST(test_not_regular)
{
    const struct reader *r = &readers[_i % N_READERS];
    int kind = _i / N_READERS;
    const char *dir = tu_tmpdir(), *cls = tu_path(dir, "c"), *path;
    char want[2048], target[1024] = "";
    pid_t writer = -1;
    ck_assert_int_eq(mkdir(cls, 0755), 0);
    /* the image reader lists a class folder; the others read the path itself */
    path = !strcmp(r->name, "image") ? tu_path(cls, r->file) : tu_path(dir, r->file);
    if (kind == DIRECTORY) {
        ck_assert_int_eq(mkdir(path, 0755), 0);
    } else if (kind == FIFO || kind == FIFO_WRITER) {
        ck_assert_int_eq(mkfifo(path, 0644), 0);
        if (kind == FIFO_WRITER)
            writer = endless_writer(path);
    } else {
        snprintf(target, sizeof target, "%s", kind == DEV_ZERO ? "/dev/zero" : "/dev/urandom");
        if (!strcmp(r->name, "image"))
            ck_assert_int_eq(symlink(target, path), 0);
        else
            path = target;
    }
    static const char *const what[N_KINDS] = {"a directory", "a FIFO (named pipe)",
                                              "a FIFO (named pipe)", "a character device",
                                              "a character device"};
    snprintf(want, sizeof want, "%s%s: cannot read: it is %s, not a regular file", r->prefix,
             path, what[kind]);
    if (kind == DIRECTORY && !strcmp(r->name, "image")) /* a folder in a class is no image */
        snprintf(want, sizeof want, "%s: class folder holds no images (.png, .jpg, .jpeg or "
                 ".bmp)", cls);
    cn_error err = {0};
    double t0 = now();
    cn_status st = r->read(path, &err);
    double dt = now() - t0;
    if (writer > 0) {
        kill(writer, SIGKILL);
        waitpid(writer, NULL, 0);
    }
    ck_assert_msg(st != CN_OK, "%s read %s", r->name, path);
    ck_assert_msg(!strcmp(err.msg, want), "%s:\n got: %s\nwant: %s", r->name, err.msg, want);
    ck_assert_msg(dt < QUICK, "%s took %.1f s to refuse %s", r->name, dt, path);
}
END_TEST

/* Read path with r, expecting exactly msg (%P = the path) within QUICK seconds. */
static void expect_quick(reader_fn read, const char *path, const char *msg)
{
    char want[2048];
    const char *p = strstr(msg, "%P");
    ck_assert_ptr_nonnull(p);
    snprintf(want, sizeof want, "%.*s%s%s", (int)(p - msg), msg, path, p + 2);
    cn_error err = {0};
    double t0 = now();
    cn_status st = read(path, &err);
    double dt = now() - t0;
    ck_assert_msg(st != CN_OK, "%s was read", path);
    ck_assert_msg(!strcmp(err.msg, want), "\n got: %s\nwant: %s", err.msg, want);
    ck_assert_msg(dt < QUICK, "%.1f s to refuse %s", dt, path);
}

#define GIB ((off_t)1 << 30)

/* Multi-GB files of zeros, and files just over each reader's size bound. */
START_TEST(test_huge_files)
{
    const char *dir = tu_tmpdir();
    static const unsigned char idx_head[16] = {0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 4, 0, 0, 0, 4};
    const char *p = tu_path(dir, "big.cfg");
    sparse(p, "[net]\n", 6, 3 * GIB);
    expect_quick(read_cfg, p, "%P: cannot read: it holds 3221225472 bytes; a cfg file may hold "
                 "at most 1 MiB");
    sparse(p, "[net]\n", 6, ((off_t)1 << 20) + 1);
    expect_quick(read_cfg, p, "%P: cannot read: it holds 1048577 bytes; a cfg file may hold at "
                 "most 1 MiB");
    p = tu_path(dir, "zeros.idx");
    sparse(p, "", 0, 3 * GIB);
    expect_quick(read_idx, p, "%P: not an IDX file of unsigned bytes (magic 0x000008NN expected, "
                 "NN = 01 to 04 dimensions; found 0x00000000)");
    sparse(p, idx_head, sizeof idx_head, 3 * GIB); /* a good header, then 3 GiB */
    expect_quick(read_idx, p, "%P: 3221225296 bytes of trailing data after the 160 bytes the "
                 "header announces");
    p = tu_path(dir, "big.csv");
    sparse(p, "", 0, 3 * GIB);
    expect_quick(read_csv, p, "%P: cannot read: it holds 3221225472 bytes; a CSV file may hold "
                 "at most 2 GiB");
    sparse(p, "", 0, GIB + GIB / 2); /* under the bound: one endless line of zeros */
    expect_quick(read_csv, p, "%P:1: line longer than 1048576 bytes (the longest a CSV line may "
                 "be)");
    p = tu_path(dir, "c/x.png");
    ck_assert_int_eq(mkdir(tu_path(dir, "c"), 0755), 0);
    sparse(p, "\x89PNG\r\n\x1a\n", 8, 20 << 20);
    expect_quick(read_image, p, "%P: cannot read: it holds 20971520 bytes; an image of 4x4 "
                 "pixels may hold at most 16777472 bytes");
    p = tu_path(dir, "mask.txt");
    sparse(p, "0 1 2\n", 6, 2 << 20); /* 64 samples: 1 MiB + 16 * 64 bytes */
    expect_quick(read_mask, p, "label_mask %P: cannot read: it holds 2097152 bytes; a label "
                 "mask may hold at most 1025 KiB");
    p = tu_path(dir, "log.csv");
    sparse(p, "epoch,train_loss\n", 17, 300 << 20);
    expect_quick(read_log, p, "%P: cannot read: it holds 314572800 bytes; a log.csv may hold at "
                 "most 256 MiB");
}
END_TEST

/* A gzip'd IDX file of one 2x2 image whose stream goes on: the zeros of a
 * 64 MiB gzip member, `copies` more times (about 64 KiB each). */
static void gzip_bomb(const char *path, int copies)
{
    static const unsigned char head[20] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2,
                                           1, 2, 3, 4};
    size_t zeros = (size_t)64 << 20;
    unsigned char *z = calloc(zeros, 1);
    ck_assert_ptr_nonnull(z);
    const char *tmp = tu_path(tu_tmpdir(), "zeros.gz");
    gzFile g = gzopen(tmp, "wb1");
    ck_assert_int_eq(gzwrite(g, z, (unsigned)zeros), (int)zeros);
    gzclose(g);
    FILE *f = fopen(tmp, "rb");
    size_t n = fread(z, 1, zeros, f); /* the member, compressed */
    fclose(f);
    g = gzopen(path, "wb");
    ck_assert_int_eq(gzwrite(g, head, sizeof head), (int)sizeof head);
    gzclose(g);
    f = fopen(path, "ab");
    for (int i = 0; i < copies; i++)
        ck_assert_uint_eq(fwrite(z, 1, n, f), n);
    fclose(f);
    free(z);
}

/* Gzip'd IDX: a stream far longer than its header (a bomb of 10 GiB of
 * zeros in 10 MB) stops 64 KiB past the announced end; a header announcing
 * more than its file can inflate to is refused before any data is read. */
START_TEST(test_gzip_bounds)
{
    const char *dir = tu_tmpdir(), *p = tu_path(dir, "bomb.idx.gz");
    gzip_bomb(p, 160);
    expect_quick(read_idx, p, "%P: at least 65536 bytes of trailing data after the 4 bytes the "
                 "header announces");
    /* 1000 x 1000 x 1000 bytes announced in a file of a few dozen bytes */
    static const unsigned char head[16] = {0, 0, 8, 3, 0, 0, 3, 0xe8, 0, 0, 3, 0xe8, 0, 0, 3,
                                           0xe8};
    p = tu_path(dir, "short.idx.gz");
    gzFile g = gzopen(p, "wb");
    ck_assert_int_eq(gzwrite(g, head, sizeof head), (int)sizeof head);
    gzclose(g);
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    char msg[512];
    snprintf(msg, sizeof msg, "%%P: truncated: expected 1000000000 bytes of data after the "
             "16-byte header, but a gzip file of %lld bytes inflates to at most %lld",
             (long long)sb.st_size, (long long)(sb.st_size + 1) * 1032);
    expect_quick(read_idx, p, msg);
}
END_TEST

Suite *readers_suite(void)
{
    Suite *s = suite_create("readers");
    TCase *tc = tcase_create("bounds");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_not_regular, 0, N_READERS * N_KINDS);
    tcase_add_test(tc, test_huge_files);
    tcase_add_test(tc, test_gzip_bounds);
    suite_add_tcase(s, tc);
    return s;
}
