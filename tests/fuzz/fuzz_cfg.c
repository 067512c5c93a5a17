/* fuzz_cfg.c - libFuzzer harness: the cfg parser and the network builder.
 *
 * The input is cfg text. It is parsed, built into a network, and when the
 * network is small (a million floats, 1e8 training FLOPs a batch) it takes
 * one training step and one eval-mode forward pass: whatever the builder
 * accepts, forward and backward must run within their buffers. The fuzzing
 * build caps a network at 256 MiB (CN_MAX_NET_BYTES) so a fuzzed size is an
 * error, not an allocation the fuzzer counts as out of memory.
 */
#include "fuzz.h"

/* Floats and training FLOPs of one batch, to decide whether to run it. */
static int small(const cn_net *net)
{
    double floats = 0.0, flops = 0.0;
    for (int i = 0; i < cn_net_n_layers(net); i++) {
        const cn_layer *l = cn_net_layer(net, i);
        floats += 2.0 * (double)cn_tensor_count(&l->out);
        flops += cn_layer_train_flops(l) * cn_net_batch(net);
    }
    for (int i = 0; i < cn_net_n_params(net); i++)
        floats += 2.0 * (double)cn_net_params(net)[i]->count;
    return floats < 1e6 && flops < 1e8;
}

static void run(cn_net *net)
{
    int n = cn_net_batch(net);
    size_t d = cn_net_input_size(net);
    float *x = malloc((size_t)n * d * sizeof *x);
    int *labels = malloc((size_t)n * sizeof *labels);
    if (!x || !labels)
        abort();
    for (size_t i = 0; i < (size_t)n * d; i++)
        x[i] = (float)(i % 7) / 7.0f;
    for (int i = 0; i < n; i++)
        labels[i] = 0; /* a valid class for any label loss */
    cn_error err;
    double loss;
    cn_net_set_batch(net, x, labels, n);
    fz_check_error(cn_net_train_step(net, &loss, &err), &err);
    cn_net_set_train(net, 0);
    cn_net_forward(net);
    cn_net_loss_forward(net);
    free(x);
    free(labels);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    cn_error err;
    cn_status st = cn_cfg_parse_string("fuzz.cfg", text, &cfg, &err);
    if (!st)
        st = cn_net_create(cfg, &net, &err);
    fz_check_error(st, &err);
    /* cfg errors name the file (and the line or layer) */
    if (st == CN_ERR_CFG && strncmp(err.msg, "fuzz.cfg", 8) != 0) {
        fprintf(stderr, "cfg error without the file name: %s\n", err.msg);
        abort();
    }
    if (!st && small(net))
        run(net);
    cn_net_free(net);
    cn_cfg_free(cfg);
    free(text);
    return 0;
}
