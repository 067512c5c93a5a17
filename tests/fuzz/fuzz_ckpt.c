/* fuzz_ckpt.c - libFuzzer harness: the checkpoint reader.
 *
 * Input: a mode byte, then the rest. Mode bits:
 *   bit 1 clear: the rest is a checkpoint file;
 *   bit 1 set:   the rest is a list of 3-byte patches (offset lo, offset hi,
 *                value) XORed into a valid checkpoint of the harness's net
 *                (written at start-up after three training steps), so the
 *                fuzzer reaches every field of a well-formed file;
 *   bit 0: rewrite the last four bytes as the CRC-32 of the others, so the
 *          field checks behind the checksum are exercised (clear: the
 *          checksum guards the file, and its failure path is covered);
 *   bit 2: load the weights only (cn_ckpt_load_weights, as cnet eval);
 *   bit 3: load into the same layers trained with SGD and momentum rather
 *          than Adam (another optimizer's checkpoint).
 * Every error must carry a message; a load that succeeds must leave only
 * finite parameters.
 */
#include "fuzz.h"
#include "net_internal.h" /* cn_net_param_arena */

#include <math.h>
#include <zlib.h>

#define LAYERS "[dense]\nname=enc\noutput=3\nactivation=sigmoid\n" \
               "[dense]\nname=dec\noutput=4\n[mse]\ntarget=input\n"

static const char adam_cfg[] = "[net]\nbatch=2\ninput=1,1,4\nseed=3\n"
                               "[optim]\ntype=adam\nlr=0.01\n" LAYERS;
static const char sgd_cfg[] = "[net]\nbatch=2\ninput=1,1,4\nseed=3\n"
                              "[optim]\ntype=sgd\nmomentum=0.9\nlr=0.01\n" LAYERS;

static cn_net *build(const char *text)
{
    cn_error err;
    cn_net *net;
    cn_cfg *cfg = fz_cfg(text);
    if (cn_net_create(cfg, &net, &err))
        abort();
    cn_cfg_free(cfg);
    return net;
}

/* A valid checkpoint of the Adam net (3 steps: 1 epoch of 2 batches and 1
 * batch more), read back into *file. */
static uint8_t *valid_file(cn_net *net, const char *path, size_t *size)
{
    const float x[8] = {0.1f, 0.9f, 0.4f, 0.6f, 0.3f, 0.2f, 0.8f, 0.5f};
    cn_ckpt_info info = {.epoch = 1, .batch = 1, .batches = 2, .epoch_loss = 0.25,
                         .best_valid = 0.5, .epoch_rng = {1, 2, 3, 4}};
    cn_error err;
    double loss;
    cn_net_set_batch(net, x, NULL, 2);
    for (int i = 0; i < 3; i++)
        if (cn_net_train_step(net, &loss, &err))
            abort();
    if (cn_ckpt_save(net, path, &info, &err))
        abort();
    FILE *f = fopen(path, "rb");
    uint8_t *buf = malloc(4096);
    if (!f || !buf)
        abort();
    *size = fread(buf, 1, 4096, f);
    fclose(f);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cn_net *adam, *sgd;
    static uint8_t *valid;
    static size_t valid_size;
    static char path[128], base[128];
    cn_error err;
    if (!adam) {
        adam = build(adam_cfg);
        sgd = build(sgd_cfg);
        snprintf(path, sizeof path, "%s/input.ckpt", fz_dir());
        snprintf(base, sizeof base, "%s/valid.ckpt", fz_dir());
        valid = valid_file(adam, base, &valid_size);
    }
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    size_t n = (mode & 2) ? valid_size : size - 1;
    uint8_t *file = malloc(n ? n : 1);
    if (!file)
        abort();
    if (mode & 2) {
        memcpy(file, valid, n);
        for (size_t i = 1; i + 3 <= size; i += 3)
            file[((size_t)data[i] | (size_t)data[i + 1] << 8) % n] ^= data[i + 2];
    } else {
        memcpy(file, data + 1, n);
    }
    if ((mode & 1) && n >= 4) {
        uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), file, (uInt)(n - 4));
        memcpy(file + n - 4, &crc, 4);
    }
    fz_write(path, file, n);
    cn_net *net = (mode & 8) ? sgd : adam;
    cn_ckpt_info info;
    cn_status st = (mode & 4) ? cn_ckpt_load_weights(net, path, &err)
                              : cn_ckpt_load(net, path, &info, &err);
    fz_check_error(st, &err);
    size_t count;
    const float *w = cn_net_param_arena(net, &count);
    for (size_t i = 0; !st && i < count; i++)
        if (!isfinite(w[i]))
            abort(); /* a load let a non-finite value in */
    free(file);
    return 0;
}
