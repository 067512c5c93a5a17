/* ckpt.c - the checkpoint writer: parameters, optimizer state, RNG and
 * progress in one little-endian binary file (docs/checkpoint.md, layout in
 * ckpt_format.h), written to a temporary file, flushed and renamed so a
 * crash never leaves a broken checkpoint. The reader is ckpt_read.c and
 * ckpt_load.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "ckpt_format.h"
#include "net_internal.h"

/* Group g's optimizer state: its floats, or 0 (and *data NULL). */
static size_t group_state(const cn_net *net, int g, float **data)
{
    cn_optim *o = net->groups[g].optim;
    size_t n = o->ops->state_floats ? o->ops->state_floats(o) : 0;
    *data = n ? o->ops->state_data(o) : NULL;
    return n;
}

static int put(FILE *f, const void *p, size_t n, uLong *crc)
{
    *crc = crc32(*crc, p, (uInt)n);
    return fwrite(p, 1, n, f) == n;
}

static int write_all(cn_net *net, FILE *f, const cn_ckpt_info *info)
{
    ckpt_header h = {0};
    memcpy(h.magic, CKPT_MAGIC, 8);
    h.version = CKPT_VERSION;
    h.n_params = (uint32_t)net->n_params;
    h.fingerprint = net->fingerprint;
    h.n_param_floats = net->n_param_floats;
    h.n_optim_floats = cn_groups_state_floats(net);
    cn_groups_types(net, h.optim, sizeof h.optim); /* "adam", or "adam+sgd" with groups */
    memcpy(h.rng, net->rng.s, sizeof h.rng);
    h.step = net->step;
    h.epoch = info ? info->epoch : 0;
    h.best_valid = info ? info->best_valid : 0.0;
    if (info) {
        h.batch = info->batch;
        h.batches = info->batches;
        memcpy(h.epoch_rng, info->epoch_rng, sizeof h.epoch_rng);
        h.epoch_loss = info->epoch_loss;
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    int ok = put(f, &h, sizeof h, &crc);
    for (int i = 0; ok && i < net->n_params; i++) {
        char name[CKPT_PNAME] = {0};
        uint32_t dims[4];
        uint64_t count = net->params[i]->count;
        snprintf(name, sizeof name, "%s", net->params[i]->name);
        for (int k = 0; k < 4; k++)
            dims[k] = (uint32_t)net->params[i]->shape[k];
        ok = put(f, name, sizeof name, &crc) && put(f, dims, sizeof dims, &crc) &&
             put(f, &count, 8, &crc);
    }
    ok = ok && put(f, net->param_arena, net->n_param_floats * 4, &crc);
    for (int g = 0; ok && g < net->n_groups; g++) { /* the groups' states, in group order */
        float *state;
        size_t n = group_state(net, g, &state);
        ok = !n || put(f, state, n * 4, &crc);
    }
    uint32_t c32 = (uint32_t)crc;
    return ok && fwrite(&c32, 4, 1, f) == 1;
}

/* Test hook, for the crash tests only (tests/check_crash.c): with
 * CNET_TEST_CKPT_DELAY_MS=N in the environment, sleep N ms after the
 * temporary file is written, before its rename, so a kill can land there. */
static void test_delay(void)
{
    const char *v = getenv("CNET_TEST_CKPT_DELAY_MS");
    long ms = v ? strtol(v, NULL, 10) : 0;
    if (ms > 0 && ms <= 10000) {
        struct timespec ts = {ms / 1000, ms % 1000 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* A good checkpoint is never replaced by a bad one: every parameter and
 * the optimizer's state must be finite (an activation's clamp can hide a
 * NaN weight from the loss: sigmoid(NaN) is 0 or 1, not NaN). */
static cn_status check_saveable(cn_net *net, const char *path, cn_error *err)
{
    for (int i = 0; i < net->n_params; i++)
        if (!cn_all_finite(net->params[i]->value, net->params[i]->count))
            return cn_errorf(err, CN_ERR_NUMERIC, "parameter '%s' has a non-finite value, so "
                             "%s was not written (the previous one is kept)",
                             net->params[i]->name, path);
    for (int g = 0; g < net->n_groups; g++) {
        float *state;
        size_t n = group_state(net, g, &state);
        if (n && !cn_all_finite(state, n))
            return cn_errorf(err, CN_ERR_NUMERIC, "the %s optimizer's state has a non-finite "
                             "value, so %s was not written (the previous one is kept)",
                             net->groups[g].optim->ops->type, path);
    }
    return CN_OK;
}

typedef struct save_job {
    cn_net *net;
    const cn_ckpt_info *info;
} save_job;

static int write_job(FILE *f, const void *ctx)
{
    const save_job *job = ctx;
    int ok = write_all(job->net, f, job->info);
    test_delay();
    return ok;
}

cn_status cn_ckpt_save(cn_net *net, const char *path, const cn_ckpt_info *info, cn_error *err)
{
    cn_error local;
    if (!err)
        err = &local;
    if (check_saveable(net, path, err))
        return err->code;
    save_job job = {net, info};
    return cn_file_replace(path, "checkpoint", write_job, &job, err);
}
