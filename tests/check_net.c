/* check_net.c - the network builder and runner: golden cfg errors at the
 * network level, references, a small problem learned to a stated loss, and
 * same seed => identical weights. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnet/cnet.h"
#include "net_internal.h"
#include "util.h"

#define NET_HEAD "[net]\nbatch=2\ninput=1,1,4\n"

static void expect_error(const char *cfg, cn_status code, const char *msg)
{
    cn_error err = {0};
    cn_status st = tu_net_err(cfg, &err);
    ck_assert_msg(st == code, "status %d, not %d: %s", st, code, err.msg);
    ck_assert_str_eq(err.msg, msg);
}

START_TEST(test_unknown_section)
{
    cn_error err = {0};
    ck_assert_int_eq(tu_net_err(NET_HEAD "[dens]\noutput=3\n", &err), CN_ERR_CFG);
    ck_assert_msg(strstr(err.msg, "test.cfg:4: unknown section type [dens] (known types: net, "
                                  "data, optim, dense,") == err.msg, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "mse"));
}
END_TEST

START_TEST(test_unknown_key)
{
    expect_error(NET_HEAD "[dense]\noutput=3\nactivaton=relu\n", CN_ERR_CFG,
                 "test.cfg:6: unknown key 'activaton' in [dense] (did you mean 'activation'?; "
                 "accepted: name, from, lr_mult, decay_mult, init, init_scale, offers, group, output, "
                 "activation, gain, slope, tie, share, bias)");
}
END_TEST

START_TEST(test_missing_net)
{
    expect_error("[dense]\noutput=3\n", CN_ERR_CFG,
                 "test.cfg: no [net] section (batch, input shape, seed)");
    expect_error(NET_HEAD "[net]\nbatch=3\n[dense]\noutput=3\n", CN_ERR_CFG,
                 "test.cfg:4: second [net] section (first on line 1)");
    expect_error(NET_HEAD, CN_ERR_CFG, "test.cfg: no layer sections");
}
END_TEST

START_TEST(test_bad_numbers)
{
    expect_error("[net]\nbatch=abc\n[dense]\noutput=3\n", CN_ERR_CFG,
                 "test.cfg:2: key 'batch' expects an integer in [1, 65536], got 'abc'");
    expect_error("[net]\nbatch=0\n[dense]\noutput=3\n", CN_ERR_CFG,
                 "test.cfg:2: key 'batch' expects an integer in [1, 65536], got '0'");
    expect_error("[net]\ninput=1,0,3\n[dense]\noutput=3\n", CN_ERR_CFG,
                 "test.cfg:2: key 'input' expects a comma list of at most 3 integers in "
                 "[1, 1048576], got '1,0,3'");
    /* clamps and casts are errors: a seed past an int, threads past the pool's 64 */
    expect_error("[net]\nseed=4294967297\n[dense]\noutput=3\n", CN_ERR_CFG,
                 "test.cfg:2: key 'seed' expects an integer in [0, 2147483647], got "
                 "'4294967297'");
    expect_error("[net]\nseed=-1\n[dense]\noutput=3\n", CN_ERR_CFG,
                 "test.cfg:2: key 'seed' expects an integer in [0, 2147483647], got '-1'");
    expect_error("[net]\nthreads=65\n[dense]\noutput=3\n", CN_ERR_CFG,
                 "test.cfg:2: key 'threads' expects an integer in [0, 64], got '65'");
    expect_error("[net]\nepochs=2147483648\n[dense]\noutput=3\n", CN_ERR_CFG,
                 "test.cfg:2: key 'epochs' expects an integer in [1, 1000000], got "
                 "'2147483648'");
}
END_TEST

START_TEST(test_references)
{
    expect_error(NET_HEAD "[dense]\noutput=3\nfrom=enc\n", CN_ERR_CFG,
                 "test.cfg:6: key 'from' = 'enc': no layer named 'enc' above this section "
                 "(layers so far: input)");
    expect_error(NET_HEAD "[dense]\noutput=3\nfrom=dec\n[dense]\nname=dec\noutput=2\n",
                 CN_ERR_CFG,
                 "test.cfg:6: key 'from' = 'dec': layer 'dec' is defined later (line 7); a "
                 "layer may only read layers above it");
    expect_error(NET_HEAD "[dense]\noutput=3\nfrom=-2\n", CN_ERR_CFG,
                 "test.cfg:6: key 'from' = '-2': index -2 reaches before the input (only 0 "
                 "layers are above)");
    expect_error(NET_HEAD "[dense]\nname=a\noutput=3\n[dense]\nname=a\noutput=3\n", CN_ERR_CFG,
                 "test.cfg:8: key 'name' = 'a': name already used by the layer on line 4");
    expect_error(NET_HEAD "[dense]\nname=12\noutput=3\n", CN_ERR_CFG,
                 "test.cfg:5: key 'name' = '12': expected a name of 1-31 characters, not a "
                 "number, without ',' or '.', other than input, label and none");
    /* a name, `input`, and relative indices all resolve to earlier layers */
    cn_net *net = tu_net(NET_HEAD "[dense]\nname=a\noutput=3\n[dense]\noutput=2\nfrom=input\n"
                                  "[dense]\noutput=5\nfrom=a\n[dense]\noutput=1\nfrom=-3\n");
    ck_assert_str_eq(cn_net_layer(net, 2)->in[0]->name, "input");
    ck_assert_str_eq(cn_net_layer(net, 3)->in[0]->name, "a");
    ck_assert_str_eq(cn_net_layer(net, 4)->in[0]->name, "a");
    cn_net_free(net);
}
END_TEST

START_TEST(test_loss_shape_mismatch)
{
    expect_error(NET_HEAD "[dense]\nname=enc\noutput=3\n[mse]\ntarget=input\n", CN_ERR_SHAPE,
                 "test.cfg:8: key 'target' = 'input': layer 'enc' ([dense], line 4, output 3) "
                 "does not match target 'input' ([net] input 1x1x4): 3 values against 4");
    /* a dense output spread into space by a deconv: the mismatch starts there */
    expect_error("[net]\nbatch=2\ninput=1,6,6\n[dense]\nname=fc\noutput=5\n[deconv]\n"
                 "name=up\nfilters=2\nsize=3\n[conv]\nfilters=1\nsize=1\n[mse]\n",
                 CN_ERR_SHAPE,
                 "test.cfg:14: key 'target': layer 'conv3' ([conv], line 11, output 1x3x3) "
                 "does not "
                 "match target 'input' ([net] input 1x6x6): 9 values against 36; the shapes "
                 "part at 'up' ([deconv], line 7, output 2x3x3), which reads the flat output of "
                 "'fc' ([dense], line 4, output 5) as 5 channels of 1x1: put [reshape] "
                 "output=C,H,W after 'fc' to give it height and width");
}
END_TEST

START_TEST(test_same_seed_same_weights)
{
    const char *cfg = NET_HEAD "seed=7\n[dense]\noutput=5\n[dense]\noutput=3\n";
    cn_net *a = tu_net(cfg), *b = tu_net(cfg);
    cn_net *c = tu_net(NET_HEAD "seed=8\n[dense]\noutput=5\n[dense]\noutput=3\n");
    size_t na, nb, nc;
    float *pa = cn_net_param_arena(a, &na), *pb = cn_net_param_arena(b, &nb);
    float *pc = cn_net_param_arena(c, &nc);
    ck_assert_uint_eq(na, nb);
    ck_assert_int_eq(memcmp(pa, pb, na * sizeof(float)), 0);
    ck_assert_int_ne(memcmp(pa, pc, na * sizeof(float)), 0);
    /* PyTorch's default init: |w| < 1/sqrt(fan_in) */
    for (size_t i = 0; i < 4 * 5; i++)
        ck_assert_float_le(fabsf(pa[i]), 0.5f);
    cn_net_free(a);
    cn_net_free(b);
    cn_net_free(c);
}
END_TEST

/* XOR with a 2-8-2 tanh MLP, softmax cross-entropy and Adam: the loss falls
 * below 0.02 within 500 steps and every point is classified right. */
START_TEST(test_learns_xor)
{
    cn_net *net = tu_net("[net]\nbatch=4\ninput=2\nseed=3\n[optim]\ntype=adam\nlr=0.05\n"
                         "[dense]\noutput=8\nactivation=tanh\n[dense]\noutput=2\n"
                         "[cce]\ntarget=label\n");
    const float x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    const int y[4] = {0, 1, 1, 0};
    cn_error err = {0};
    double loss = 1.0;
    cn_net_set_batch(net, x, y, 4);
    for (int step = 0; step < 500; step++)
        ck_assert_int_eq(cn_net_train_step(net, &loss, &err), CN_OK);
    ck_assert_msg(loss < 0.02, "XOR loss after 500 steps: %g", loss);
    const float *out = cn_net_output(net)->out.data;
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(out[2 * i + 1] > out[2 * i], y[i]);
    cn_net_free(net);
}
END_TEST

/* A learning rate far too high: the step reports the non-finite loss. */
START_TEST(test_nan_names_loss)
{
    cn_net *net = tu_net("[net]\nbatch=4\ninput=2\n[optim]\nlr=1e30\n[dense]\noutput=8\n"
                         "[dense]\nname=out\noutput=2\n[mse]\nlayer=out\ntarget=input\n");
    const float x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    cn_error err = {0};
    double loss = 0.0;
    cn_status st = CN_OK;
    cn_net_set_batch(net, x, NULL, 4);
    for (int step = 0; step < 50 && !st; step++)
        st = cn_net_train_step(net, &loss, &err);
    ck_assert_int_eq(st, CN_ERR_NUMERIC);
    ck_assert_msg(strstr(err.msg, "loss 'mse' (line 11") == err.msg, "%s", err.msg);
    cn_net_free(net);
}
END_TEST

/* A typo'd size is refused by the builder, naming the layer, before any arena exists. */
/* The same net with 1, 2 and 3 threads: the pool's splits of the dense
 * layers' element-wise passes, the losses and the lowered layers give the
 * same outputs, losses and gradients as one thread (to BLAS rounding). Sizes
 * are odd and above the pool's threshold (cn_pool_if). */
START_TEST(test_threads_agree)
{
    static const char *const bodies[] = {
        "input=301\n[dense]\noutput=203\nactivation=sigmoid\n[dense]\nname=out\noutput=301\n"
        "activation=sigmoid\n[bce]\ntarget=input\nreduce=sum\n[mse]\nlayer=out\n"
        "target=input\nweight=3\n",
        "input=3,17,19\n[conv]\nfilters=5\nstride=2\npad=1\nactivation=relu\n"
        "[maxpool]\n[deconv]\nfilters=3\nsize=4\nstride=2\nactivation=tanh\n"
        "[dense]\nname=out\noutput=969\nactivation=relu\n[rmse]\nlayer=out\ntarget=input\n"};
    for (int b = 0; b < 2; b++) {
        cn_net *nets[3];
        for (int k = 0; k < 3; k++) {
            char cfg[512];
            snprintf(cfg, sizeof cfg, "[net]\nbatch=67\nseed=3\nthreads=%d\n%s", k + 1,
                     bodies[b]);
            nets[k] = tu_net(cfg);
        }
        size_t in = cn_net_input_size(nets[0]);
        float *x = malloc(67 * in * sizeof *x);
        ck_assert_ptr_nonnull(x);
        cn_rng rng;
        cn_rng_seed(&rng, 9);
        for (size_t i = 0; i < 67 * in; i++)
            x[i] = cn_rng_uniform(&rng);
        double loss[3];
        for (int k = 0; k < 3; k++) {
            cn_net_set_batch(nets[k], x, NULL, 67);
            const cn_step_opts grad = {.kind = CN_STEP_GRAD};
            cn_error err = {0};
            ck_assert_int_eq(cn_net_step(nets[k], &grad, &loss[k], &err), CN_OK);
        }
        for (int k = 1; k < 3; k++) {
            ck_assert_msg(fabs(loss[k] - loss[0]) <= 1e-5 * fabs(loss[0]),
                          "net %d: loss %.9g with %d threads, %.9g with 1", b, loss[k], k + 1,
                          loss[0]);
            for (int i = 1; i < cn_net_n_layers(nets[0]); i++) {
                const cn_tensor *a = &cn_net_layer(nets[0], i)->out;
                const cn_tensor *c = &cn_net_layer(nets[k], i)->out;
                for (size_t j = 0; j < cn_tensor_count(a); j++)
                    ck_assert_msg(fabsf(a->data[j] - c->data[j]) <= 1e-5f,
                                  "net %d layer %d value %zu", b, i, j);
            }
            cn_param **pa = cn_net_params(nets[0]), **pc = cn_net_params(nets[k]);
            for (int i = 0; i < cn_net_n_params(nets[0]); i++)
                for (size_t j = 0; j < pa[i]->count; j++)
                    ck_assert_msg(fabsf(pa[i]->grad[j] - pc[i]->grad[j]) <=
                                      1e-4f * (1.0f + fabsf(pa[i]->grad[j])),
                                  "net %d: %s grad[%zu] = %g with %d threads, %g with 1", b,
                                  pa[i]->name, j, (double)pc[i]->grad[j], k + 1,
                                  (double)pa[i]->grad[j]);
        }
        free(x);
        for (int k = 0; k < 3; k++)
            cn_net_free(nets[k]);
    }
}
END_TEST

/* A training step in which the default gradient hook updates the dense
 * layers' params inside the backward pass (cn_net_train_step) gives the same
 * weights, bit for bit, as a gradient step followed by the optimizer's step,
 * and as a training step without the hook (every update at the step's end),
 * with a tied decoder, SGD with momentum and decay, Adam and AdamW; and it
 * leaves every gradient at zero, while a later plain backward's gradients
 * are cleared again by cn_net_zero_grad. */
START_TEST(test_update_in_backward)
{
    static const char *const optims[] = {"[optim]\nlr=0.05\nmomentum=0.9\nweight_decay=0.01\n",
                                         "[optim]\ntype=adam\nlr=0.01\n",
                                         "[optim]\ntype=adamw\nlr=0.01\nweight_decay=0.1\n"};
    for (int k = 0; k < 3; k++) {
        char cfg[768];
        snprintf(cfg, sizeof cfg,
                 "[net]\nbatch=67\nseed=3\nthreads=2\ninput=301\n[dense]\nname=enc\n"
                 "output=203\nactivation=tanh\n[dense]\nname=mid\noutput=203\nactivation=relu\n"
                 "bias=0\n[dense]\nname=dec\ntie=enc\nactivation=sigmoid\n[mse]\ntarget=input\n%s",
                 optims[k]);
        cn_net *fused = tu_net(cfg), *plain = tu_net(cfg), *late = tu_net(cfg);
        cn_net_set_grad_hook(late, NULL);
        size_t in = cn_net_input_size(fused);
        float *x = malloc(67 * in * sizeof *x);
        ck_assert_ptr_nonnull(x);
        cn_rng rng;
        cn_rng_seed(&rng, 11);
        cn_error err = {0};
        const cn_step_opts grad = {.kind = CN_STEP_GRAD};
        for (int step = 0; step < 3; step++) {
            for (size_t i = 0; i < 67 * in; i++)
                x[i] = cn_rng_uniform(&rng);
            double loss;
            cn_net_set_batch(fused, x, NULL, 67);
            ck_assert_int_eq(cn_net_train_step(fused, &loss, &err), CN_OK);
            cn_net_set_batch(plain, x, NULL, 67);
            ck_assert_int_eq(cn_net_step(plain, &grad, &loss, &err), CN_OK);
            cn_optim_step(cn_net_optim(plain));
            cn_net_set_batch(late, x, NULL, 67);
            ck_assert_int_eq(cn_net_train_step(late, &loss, &err), CN_OK);
        }
        cn_param **pf = cn_net_params(fused), **pp = cn_net_params(plain);
        cn_param **pl = cn_net_params(late);
        for (int i = 0; i < cn_net_n_params(fused); i++) {
            ck_assert_msg(!memcmp(pf[i]->value, pp[i]->value, pf[i]->count * sizeof(float)),
                          "%s: %s differs from the plain step's", optims[k], pf[i]->name);
            ck_assert_msg(!memcmp(pf[i]->value, pl[i]->value, pf[i]->count * sizeof(float)),
                          "%s: %s differs from the step without hook", optims[k], pf[i]->name);
            for (size_t j = 0; j < pf[i]->count; j++)
                ck_assert_msg(pf[i]->grad[j] == 0.0f, "%s: %s grad[%zu] = %g after the step",
                              optims[k], pf[i]->name, j, (double)pf[i]->grad[j]);
        }
        cn_net_forward(fused);
        cn_net_loss_forward(fused);
        cn_net_backward(fused);
        ck_assert(pf[0]->grad[0] != 0.0f);
        cn_net_zero_grad(fused);
        for (int i = 0; i < cn_net_n_params(fused); i++)
            for (size_t j = 0; j < pf[i]->count; j++)
                ck_assert_msg(pf[i]->grad[j] == 0.0f, "%s grad[%zu] left by zero_grad",
                              pf[i]->name, j);
        free(x);
        cn_net_free(fused);
        cn_net_free(plain);
        cn_net_free(late);
    }
}
END_TEST

/* A hook of the test's own (as data-parallel training would install): each
 * param a layer claims is reported ready in disjoint ranges covering it
 * exactly once; this hook updates nothing, so the step's end updates all. */
typedef struct hook_log {
    cn_net *net;
    const cn_param *claimed[8];
    int n;
    unsigned char *seen[8]; /* (count) times each element was reported */
} hook_log;

static int log_claim(void *user, const cn_param *p)
{
    hook_log *h = user;
    ck_assert_int_lt(h->n, 8);
    h->claimed[h->n] = p;
    h->seen[h->n] = calloc(p->count, 1);
    ck_assert_ptr_nonnull(h->seen[h->n]);
    return h->n++;
}

static void log_ready(void *user, int handle, size_t lo, size_t hi)
{
    hook_log *h = user;
    for (size_t j = lo; j < hi; j++) /* disjoint ranges: no two threads write one byte */
        h->seen[handle][j]++;
}

/* Every loss finite but their weighted sum overflows: the one step refuses
 * it, says so, and updates nothing. */
START_TEST(test_total_overflow)
{
    cn_net *net = tu_net("[net]\nbatch=1\ninput=2\n[dense]\nname=d\noutput=2\n[l2]\nname=a\n"
                         "[combine]\nweight=1e10\nexpr=a*a*a*a\n");
    cn_param *w = cn_net_params(net)[0];
    for (size_t i = 0; i < w->count; i++)
        w->value[i] = 1e38f; /* a = 2e76, a^4 = 1.6e305: finite; times 1e10 it is not */
    float before[4];
    memcpy(before, w->value, sizeof before);
    const float x[2] = {0.5f, 0.5f};
    cn_net_set_batch(net, x, NULL, 1);
    double loss;
    cn_error err = {0};
    ck_assert_int_eq(cn_net_train_step(net, &loss, &err), CN_ERR_NUMERIC);
    ck_assert_msg(strstr(err.msg, "weighted sum overflowed"), "%s", err.msg);
    ck_assert(isfinite(cn_net_loss(net, 0)->value) && isfinite(cn_net_loss(net, 1)->value));
    ck_assert(!memcmp(before, w->value, sizeof before));
    cn_net_free(net);
}
END_TEST

/* A run name is taken as it is or refused: never truncated, never a path
 * (so two names are two folders under runs/, and none leaves it); a cfg
 * file whose name cannot name the folder needs [net] name. */
START_TEST(test_run_names)
{
    static const struct {
        const char *name, *why;
    } bad[] = {{"../up", "contains '/'"},     {"/abs", "contains '/'"},
               {"a/b", "contains '/'"},        {"..", "would climb out of runs/"},
               {".", "would climb out of runs/"}, {"a\tb", "contains a control character"}};
    char cfg[512], name[80], want[200];
    cn_error err = {0};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(cfg, sizeof cfg, "[net]\ninput=2\nname=%s\n[linear]\n", bad[i].name);
        ck_assert_int_eq(tu_net_err(cfg, &err), CN_ERR_CFG);
        snprintf(want, sizeof want, "test.cfg:3: key 'name' = '%s': the run name %s;",
                 bad[i].name, bad[i].why);
        ck_assert_msg(!strncmp(err.msg, want, strlen(want)), "%s", err.msg);
    }
    memset(name, 'n', 64);
    name[64] = 0; /* one too many */
    snprintf(cfg, sizeof cfg, "[net]\ninput=2\nname=%s\n[linear]\n", name);
    ck_assert_int_eq(tu_net_err(cfg, &err), CN_ERR_CFG);
    ck_assert_msg(strstr(err.msg, "the run name is too long; it names the folder runs/<name>: "
                             "1 to 63 characters"), "%s", err.msg);
    name[63] = 0; /* the longest */
    snprintf(cfg, sizeof cfg, "[net]\ninput=2\nname=%s\n[linear]\n", name);
    cn_net *net = tu_net(cfg);
    ck_assert_str_eq(cn_net_name(net), name);
    cn_net_free(net);
    /* the cfg file's stem, when there is no [net] name */
    memset(name, 'f', 70);
    strcpy(name + 70, ".cfg");
    const char *path = tu_write(tu_tmpdir(), name, "[net]\ninput=2\n[linear]\n");
    cn_cfg *c = NULL;
    ck_assert_int_eq(cn_cfg_parse_file(path, &c, &err), CN_OK);
    ck_assert_int_eq(cn_net_create(c, &net, &err), CN_ERR_CFG);
    ck_assert_msg(strstr(err.msg, "' is too long, so it cannot name the run folder runs/<name> "
                             "(1 to 63 characters); set [net] name"), "%s", err.msg);
    cn_cfg_free(c);
}
END_TEST

START_TEST(test_grad_hook)
{
    cn_net *net = tu_net("[net]\nbatch=33\nseed=2\nthreads=2\ninput=70\n[dense]\nname=enc\n"
                         "output=40\nactivation=tanh\n[dense]\nname=dec\ntie=enc\n"
                         "activation=sigmoid\n[mse]\ntarget=input\n");
    hook_log h = {.net = net};
    const cn_grad_hook hook = {log_claim, log_ready, &h};
    cn_net_set_grad_hook(net, &hook);
    float x[33 * 70];
    for (int i = 0; i < 33 * 70; i++)
        x[i] = (float)(i % 7) / 7.0f;
    cn_net_set_batch(net, x, NULL, 33);
    double loss;
    cn_error err = {0};
    ck_assert_int_eq(cn_net_train_step(net, &loss, &err), CN_OK);
    /* in backward order: the decoder's bias (its W is the encoder's, not yet
     * complete), then the encoder's W and bias */
    ck_assert_int_eq(h.n, 3);
    ck_assert_str_eq(h.claimed[0]->name, "dec.b");
    ck_assert_str_eq(h.claimed[1]->name, "enc.W");
    ck_assert_str_eq(h.claimed[2]->name, "enc.b");
    for (int i = 0; i < h.n; i++) {
        for (size_t j = 0; j < h.claimed[i]->count; j++)
            ck_assert_msg(h.seen[i][j] == 1, "%s[%zu] reported %d times", h.claimed[i]->name,
                          j, h.seen[i][j]);
        free(h.seen[i]);
    }
    cn_net_free(net);
}
END_TEST

START_TEST(test_absurd_sizes)
{
    expect_error(NET_HEAD "[dense]\nname=wide\noutput=1000000000\n", CN_ERR_CFG,
                 "test.cfg:6: key 'output' expects an integer in [1, 16777216], got "
                 "'1000000000'");
    /* in range, but its W alone is over the cap: refused before anything is allocated */
    expect_error("[net]\nbatch=2\ninput=1024\n[dense]\nname=wide\noutput=16777216\n",
                 CN_ERR_CFG, "test.cfg:4: [dense]: layer 'wide': parameter 'W' (16777216 x "
                 "1024 x 1 x 1) has 1.718e+10 values, which with gradient and optimizer state "
                 "need 256.0 GiB, more than the 8 GiB a network may use");
    /* a layer's own buffer (maxpool's argmax) is counted before it is allocated */
    expect_error("[net]\nbatch=1024\ninput=1,1024,832\n[maxpool]\nsize=1\n", CN_ERR_CFG,
                 "test.cfg:4: [maxpool]: layer 'maxpool1': a buffer of 3.49e+09 bytes (batch "
                 "1024) brings the network to 9.8 GiB, more than the 8 GiB a network may use");
    expect_error("[net]\nbatch=65536\ninput=3,1024,1024\n[dense]\noutput=3\n", CN_ERR_CFG,
                 "test.cfg:3: key 'input' = '3,1024,1024': a batch of 65536 inputs of shape "
                 "3x1024x1024 needs 1536.0 GiB, more than the 8 GiB a network may use");
    expect_error(NET_HEAD "[conv]\nfilters=65536\nsize=1\n[conv]\nfilters=65536\nsize=1\n",
                 CN_ERR_CFG, "test.cfg:7: [conv]: layer 'conv2': parameter 'W' (65536 x 65536 x "
                 "1 x 1) has 4.295e+09 values, which with gradient and optimizer state need 64.0 "
                 "GiB, more than the 8 GiB a network may use");
}
END_TEST

/* The pool's shares: whole blocks, contiguous, covering the count, sizes
 * within one block of each other, the remainder on the lowest parts (the
 * caller is part 0 and starts first). */
START_TEST(test_pool_share)
{
    static const size_t counts[] = {0, 1, 15, 16, 17, 500, 784, 1000, 1001};
    static const size_t aligns[] = {1, 16};
    for (size_t c = 0; c < sizeof counts / sizeof *counts; c++)
        for (size_t a = 0; a < 2; a++)
            for (int parts = 1; parts <= 4; parts++) {
                size_t count = counts[c], align = aligns[a], end = 0, prev = (size_t)-1;
                for (int part = 0; part < parts; part++) {
                    size_t lo, hi;
                    cn_pool_share(count, align, part, parts, &lo, &hi);
                    ck_assert_msg(lo == end && hi >= lo && hi <= count,
                                  "count %zu align %zu part %d/%d: [%zu, %zu) after %zu", count,
                                  align, part, parts, lo, hi, end);
                    ck_assert(lo % align == 0 || lo == count); /* a block edge or the end */
                    size_t blocks = (hi - lo + align - 1) / align;
                    ck_assert_msg(prev == (size_t)-1 || blocks <= prev,
                                  "count %zu part %d/%d: %zu blocks after %zu", count, part,
                                  parts, blocks, prev);
                    ck_assert(prev == (size_t)-1 || blocks + 1 >= prev);
                    prev = blocks;
                    end = hi;
                }
                ck_assert_uint_eq(end, count);
            }
    size_t lo, hi; /* 784 floats in 49 lines over 2 parts: 25 to the caller */
    cn_pool_share(784, 16, 0, 2, &lo, &hi);
    ck_assert(lo == 0 && hi == 400);
}
END_TEST

/* Building is linear in the number of layers (names are hashed, the memory
 * tally is kept as it goes): 100,000 layers, every tenth read by name from
 * the one above it, build well inside the test's 20 s limit, where the old
 * quadratic build took half a minute. */
START_TEST(test_many_layers)
{
    enum { N = 100000 };
    size_t cap = 64 + (size_t)N * 32, len = 0;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    len += (size_t)snprintf(text, cap, "[net]\nbatch=1\ninput=4\n");
    for (int i = 1; i <= N; i++)
        len += (size_t)snprintf(text + len, cap - len, i % 10 ? "[relu]\n" :
                                "[relu]\nname=r%d\nfrom=r%d\n", i, i - 10 > 0 ? i - 10 : 0);
    ck_assert_uint_lt(len, cap);
    /* r0 does not exist: the first named layer reads the relu above instead */
    char *first = strstr(text, "from=r0\n");
    ck_assert_ptr_nonnull(first);
    memcpy(first, "from=-1\n", 8);
    cn_error err = {0};
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    ck_assert_int_eq(cn_cfg_parse_string("big.cfg", text, &cfg, &err), CN_OK);
    ck_assert_msg(cn_net_create(cfg, &net, &err) == CN_OK, "%s", err.msg);
    ck_assert_int_eq(cn_net_n_layers(net), N + 1);
    ck_assert_ptr_eq(cn_net_find_layer(net, "r99990"), cn_net_layer(net, 99990));
    ck_assert_ptr_eq(cn_net_layer(net, 100)->in[0], cn_net_layer(net, 90));
    cn_net_free(net);
    cn_cfg_free(cfg);
    free(text);
}
END_TEST

Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("build");
    tcase_add_test(tc, test_unknown_section);
    tcase_add_test(tc, test_unknown_key);
    tcase_add_test(tc, test_missing_net);
    tcase_add_test(tc, test_bad_numbers);
    tcase_add_test(tc, test_references);
    tcase_add_test(tc, test_loss_shape_mismatch);
    tcase_add_test(tc, test_same_seed_same_weights);
    tcase_add_test(tc, test_learns_xor);
    tcase_add_test(tc, test_nan_names_loss);
    tcase_add_test(tc, test_absurd_sizes);
    tcase_add_test(tc, test_threads_agree);
    tcase_add_test(tc, test_update_in_backward);
    tcase_add_test(tc, test_grad_hook);
    tcase_add_test(tc, test_run_names);
    tcase_add_test(tc, test_total_overflow);
    tcase_add_test(tc, test_pool_share);
    suite_add_tcase(s, tc);
    TCase *big = tcase_create("many_layers");
    tcase_set_timeout(big, 20);
    tcase_add_test(big, test_many_layers);
    suite_add_tcase(s, big);
    return s;
}
