/* fuzz_ckpt.c - libFuzzer harness: the checkpoint reader.
 *
 * Input: a mode byte, then a checkpoint file loaded into a fixed small net
 * (dense 4-3-4, Adam). With mode bit 0 the harness first rewrites the last
 * four bytes as the CRC-32 of the others, so the fuzzer also reaches
 * everything past the checksum; otherwise the checksum guards the file.
 */
#include "fuzz.h"

#include <zlib.h>

static const char net_cfg[] = "[net]\nbatch=2\ninput=1,1,4\nseed=3\n"
                              "[optim]\ntype=adam\nlr=0.01\n"
                              "[dense]\nname=enc\noutput=3\nactivation=sigmoid\n"
                              "[dense]\nname=dec\noutput=4\n"
                              "[mse]\ntarget=input\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cn_net *net;
    static char path[128];
    cn_error err;
    if (!net) {
        cn_cfg *cfg = fz_cfg(net_cfg);
        if (cn_net_create(cfg, &net, &err))
            abort();
        cn_cfg_free(cfg);
        snprintf(path, sizeof path, "%s/input.ckpt", fz_dir());
    }
    if (size < 1)
        return 0;
    uint8_t *file = malloc(size);
    if (!file)
        abort();
    size_t n = size - 1;
    memcpy(file, data + 1, n);
    if ((data[0] & 1) && n >= 4) {
        uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), file, (uInt)(n - 4));
        memcpy(file + n - 4, &crc, 4);
    }
    fz_write(path, file, n);
    cn_ckpt_info info;
    fz_check_error(cn_ckpt_load(net, path, &info, &err), &err);
    free(file);
    return 0;
}
