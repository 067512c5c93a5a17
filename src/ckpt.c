/* ckpt.c - checkpoints: parameters, optimizer state, RNG and progress in one
 * little-endian binary file (docs/checkpoint.md), written to a temporary
 * file, flushed and renamed so a crash never leaves a broken checkpoint, and
 * checked on load (magic, version, size, CRC-32, network fingerprint) before
 * anything in the network is overwritten.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "net_internal.h"

#define CKPT_MAGIC "CNETCKPT"
#define CKPT_VERSION 1u
#define PNAME 64 /* bytes of a parameter name in the file */

/* Fixed-size header; every field little-endian as on the machines cnet targets. */
typedef struct ckpt_header {
    char magic[8];
    uint32_t version;
    uint32_t n_params;
    uint64_t fingerprint;
    uint64_t n_param_floats;
    uint64_t n_optim_floats;
    uint64_t rng[4];
    int64_t step;        /* optimizer steps */
    int64_t epoch;       /* epochs completed */
    int64_t batch;       /* batches done in the next epoch (a mid-epoch stop) */
    uint64_t epoch_rng[4]; /* RNG when that epoch began: redraws its permutation */
    double epoch_loss;   /* sum of batch losses so far in that epoch */
    double best_valid;
} ckpt_header;

static size_t optim_floats(const cn_net *net)
{
    return net->optim->ops->state_floats ? net->optim->ops->state_floats(net->optim) : 0;
}

/* Body size after the header: names+counts, params, optimizer state, CRC. */
static size_t body_size(const cn_net *net)
{
    return (size_t)net->n_params * (PNAME + 8) + (net->n_param_floats + optim_floats(net)) * 4 +
           4;
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
    h.n_optim_floats = optim_floats(net);
    memcpy(h.rng, net->rng.s, sizeof h.rng);
    h.step = net->optim->t;
    h.epoch = info ? info->epoch : 0;
    h.best_valid = info ? info->best_valid : 0.0;
    if (info) {
        h.batch = info->batch;
        memcpy(h.epoch_rng, info->epoch_rng, sizeof h.epoch_rng);
        h.epoch_loss = info->epoch_loss;
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    int ok = put(f, &h, sizeof h, &crc);
    for (int i = 0; ok && i < net->n_params; i++) {
        char name[PNAME] = {0};
        uint64_t count = net->params[i]->count;
        snprintf(name, sizeof name, "%s", net->params[i]->name);
        ok = put(f, name, sizeof name, &crc) && put(f, &count, 8, &crc);
    }
    ok = ok && put(f, net->param_arena, net->n_param_floats * 4, &crc);
    if (ok && h.n_optim_floats)
        ok = put(f, net->optim->ops->state_data(net->optim), h.n_optim_floats * 4, &crc);
    uint32_t c32 = (uint32_t)crc;
    return ok && fwrite(&c32, 4, 1, f) == 1;
}

/* Test hook, for the crash tests only (tests/check_crash.c): with
 * CNET_TEST_CKPT_DELAY_MS=N in the environment, sleep N ms between the
 * finished temporary file and the rename, so a kill can land there. */
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
    size_t n = optim_floats(net);
    if (n && !cn_all_finite(net->optim->ops->state_data(net->optim), n))
        return cn_errorf(err, CN_ERR_NUMERIC, "the %s optimizer's state has a non-finite "
                         "value, so %s was not written (the previous one is kept)",
                         net->optim->ops->type, path);
    return CN_OK;
}

cn_status cn_ckpt_save(cn_net *net, const char *path, const cn_ckpt_info *info, cn_error *err)
{
    cn_error local;
    if (!err)
        err = &local;
    if (check_saveable(net, path, err))
        return err->code;
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return cn_errorf(err, CN_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
    int ok = write_all(net, f, info) && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int saved_errno = errno;
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        unlink(tmp);
        return cn_errorf(err, CN_ERR_IO, "%s: write failed (%s); the previous checkpoint is "
                         "kept", path, strerror(saved_errno ? saved_errno : errno));
    }
    test_delay();
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return cn_errorf(err, CN_ERR_IO, "%s: cannot rename from %s: %s", path, tmp,
                         strerror(e));
    }
    return CN_OK;
}

static cn_status read_file(const char *path, unsigned char **buf, size_t *size, cn_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cn_errorf(err, CN_ERR_IO, "%s: cannot open checkpoint: %s", path,
                         strerror(errno));
    long n = (fseek(f, 0, SEEK_END) == 0) ? ftell(f) : -1;
    rewind(f);
    *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!*buf || fread(*buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(*buf);
        *buf = NULL;
        return cn_errorf(err, CN_ERR_IO, "%s: cannot read checkpoint", path);
    }
    fclose(f);
    *size = (size_t)n;
    return CN_OK;
}

/* Every check before anything is copied, so a bad file changes nothing. */
static cn_status validate(cn_net *net, const char *path, const unsigned char *buf, size_t size,
                          const ckpt_header *h, cn_error *err)
{
    if (size < sizeof *h || memcmp(h->magic, CKPT_MAGIC, 8))
        return cn_errorf(err, CN_ERR_FORMAT, "%s: not a cnet checkpoint (bad magic)", path);
    if (h->version != CKPT_VERSION)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: checkpoint format version %u, this cnet "
                         "reads version %u", path, h->version, CKPT_VERSION);
    if (h->n_optim_floats != optim_floats(net) || h->n_params != (uint32_t)net->n_params ||
        h->n_param_floats != net->n_param_floats || h->fingerprint != net->fingerprint) {
        const unsigned char *p = buf + sizeof *h;
        for (int i = 0; i < net->n_params && i < (int)h->n_params; i++, p += PNAME + 8) {
            uint64_t count;
            if (size < (size_t)(p - buf) + PNAME + 8)
                break; /* the file ends inside this entry */
            memcpy(&count, p + PNAME, 8);
            if (strncmp((const char *)p, net->params[i]->name, PNAME) ||
                count != net->params[i]->count)
                return cn_errorf(err, CN_ERR_FORMAT, "%s: checkpoint of another network: "
                                 "parameter %d is '%.*s' (%llu values), %s expects '%s' (%zu)",
                                 path, i + 1, PNAME, (const char *)p,
                                 (unsigned long long)count, net->file, net->params[i]->name,
                                 net->params[i]->count);
        }
        return cn_errorf(err, CN_ERR_FORMAT, "%s: checkpoint of another network (%u parameter "
                         "tensors, fingerprint %016llx; %s has %d, %016llx)", path,
                         h->n_params, (unsigned long long)h->fingerprint, net->file,
                         net->n_params, (unsigned long long)net->fingerprint);
    }
    if (size != sizeof *h + body_size(net))
        return cn_errorf(err, CN_ERR_FORMAT, "%s: truncated or padded checkpoint: %zu bytes, "
                         "expected %zu", path, size, sizeof *h + body_size(net));
    uint32_t stored;
    memcpy(&stored, buf + size - 4, 4);
    if ((uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)(size - 4)) != stored)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: checksum mismatch: the checkpoint is "
                         "damaged", path);
    return CN_OK;
}

cn_status cn_ckpt_load(cn_net *net, const char *path, cn_ckpt_info *info, cn_error *err)
{
    unsigned char *buf = NULL;
    size_t size = 0;
    ckpt_header h = {0};
    cn_error local;
    if (!err)
        err = &local;
    if (read_file(path, &buf, &size, err))
        return err->code;
    memcpy(&h, buf, size < sizeof h ? size : sizeof h);
    if (validate(net, path, buf, size, &h, err)) {
        free(buf);
        return err->code;
    }
    const unsigned char *p = buf + sizeof h + (size_t)net->n_params * (PNAME + 8);
    memcpy(net->param_arena, p, net->n_param_floats * 4);
    p += net->n_param_floats * 4;
    if (h.n_optim_floats)
        memcpy(net->optim->ops->state_data(net->optim), p, h.n_optim_floats * 4);
    memcpy(net->rng.s, h.rng, sizeof h.rng);
    net->optim->t = (long)h.step;
    if (info) {
        info->epoch = (int)h.epoch;
        info->step = (long)h.step;
        info->best_valid = h.best_valid;
        info->batch = (int)h.batch;
        memcpy(info->epoch_rng, h.epoch_rng, sizeof h.epoch_rng);
        info->epoch_loss = h.epoch_loss;
    }
    free(buf);
    return CN_OK;
}
