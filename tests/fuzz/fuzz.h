/* fuzz.h - helpers of the libFuzzer harnesses (make fuzz, docs/reliability.md):
 * a scratch folder per process, in /dev/shm when there is one so the inputs
 * written for path-taking readers never touch a disk, removed at exit.
 *
 * Harnesses take the first input byte as a mode (reader options), so one
 * corpus explores every option; the rest of the input is the file.
 */
#ifndef CNET_FUZZ_H
#define CNET_FUZZ_H

#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cnet/cnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_dir_path[64];

static int fz_remove(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void fz_cleanup(void)
{
    nftw(fz_dir_path, fz_remove, 8, FTW_DEPTH | FTW_PHYS);
}

/* The scratch folder of this process. */
static inline const char *fz_dir(void)
{
    if (!fz_dir_path[0]) {
        snprintf(fz_dir_path, sizeof fz_dir_path, "/dev/shm/cnet-fuzz-XXXXXX");
        if (!mkdtemp(fz_dir_path)) {
            snprintf(fz_dir_path, sizeof fz_dir_path, "/tmp/cnet-fuzz-XXXXXX");
            if (!mkdtemp(fz_dir_path))
                abort();
        }
        atexit(fz_cleanup);
    }
    return fz_dir_path;
}

/* Write size bytes to path (the harness cannot go on without it). */
static inline void fz_write(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f))
        abort();
}

/* A cfg from text that the harness wrote itself: it must parse. */
static inline cn_cfg *fz_cfg(const char *text)
{
    cn_cfg *cfg = NULL;
    cn_error err;
    if (cn_cfg_parse_string("fuzz.cfg", text, &cfg, &err)) {
        fprintf(stderr, "harness cfg: %s\n", err.msg);
        abort();
    }
    return cfg;
}

/* Every error names its source: a non-empty, terminated message. */
static inline void fz_check_error(cn_status st, const cn_error *err)
{
    if (st && (err->code != st || !err->msg[0] || !memchr(err->msg, 0, sizeof err->msg)))
        abort();
}

/* Read every sample of a loaded dataset (ASan checks the bounds) and its labels. */
static inline void fz_touch(const cn_dataset *ds)
{
    size_t d = (size_t)ds->c * (size_t)ds->h * (size_t)ds->w;
    float *x = malloc(d * sizeof *x);
    if (!x || ds->n < 1)
        abort();
    for (int i = 0; i < ds->n; i++) {
        cn_dataset_sample(ds, i, x);
        if (ds->labels && (ds->labels[i] < 0 || ds->labels[i] >= ds->n_classes))
            abort();
    }
    free(x);
}

#endif
