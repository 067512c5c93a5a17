/* check_sesm.c - SESM (Ranzato, Boureau & LeCun 2007) and the general
 * per-batch free-variable mechanism behind it: the [code] layer's modes,
 * the log_sparse loss's values, a finite-difference check of the whole SESM
 * energy (code, encoder, tied W, both biases), the inner loop lowering the
 * energy with every other parameter bit-identical, the parameter step with
 * the code fixed, training on a tiny dataset with a falling loss, exact
 * resume, no allocation inside steps, eval with and without inference,
 * another sparse coder written as a cfg, and errors (bad keys, a diverging
 * inner loop).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnet/cnet.h"
#include "net_internal.h"
#include "util.h"

/* A tiny SESM: 16 pixels, 6 code units; %d = inner steps, %s = inner lr. */
#define SESM_NET "[net]\nbatch=8\ninput=1,4,4\nseed=3\n[optim]\ntype=sgd\nlr=0.05\n"
#define SESM_BODY                                                                              \
    "[dense]\nname=enc\noutput=6\n[code]\nname=z\nsteps=%d\nlr=%s\n[sigmoid]\nname=lz\n"       \
    "gain=1.5\n[dense]\nname=dec\ntie=enc\n"                                                   \
    "[mse]\nname=e_code\nlayer=z\ntarget=enc\ntarget_grad=1\nreduce=sum\nweight=0.5\n"         \
    "[mse]\nname=e_recon\nlayer=dec\ntarget=input\nreduce=sum\n"                               \
    "[log_sparse]\nlayer=lz\nweight=0.2\n[l1]\nlayer=enc\nweight=0.01\n"

static cn_net *sesm(int steps, const char *lr)
{
    char text[1024];
    snprintf(text, sizeof text, SESM_NET SESM_BODY, steps, lr);
    return tu_net(text);
}

/* A fixed batch of 8 samples of U(0,1) pixels. */
static void set_batch(cn_net *net)
{
    float x[8 * 16];
    cn_rng rng;
    cn_rng_seed(&rng, 77);
    for (int i = 0; i < 8 * 16; i++)
        x[i] = cn_rng_uniform(&rng);
    cn_net_set_batch(net, x, NULL, 8);
}

static cn_param *z_of(cn_net *net)
{
    cn_param *z = cn_layer_param(cn_net_find_layer(net, "z"), "Z");
    ck_assert_ptr_nonnull(z);
    return z;
}

/* The energy of the batch at the current Z. */
static double energy(cn_net *net)
{
    cn_net_forward(net);
    return cn_net_loss_forward(net);
}

/* A copy of every parameter value (the arena), freed by the caller. */
static float *snapshot(cn_net *net, size_t *n)
{
    float *arena = cn_net_param_arena(net, n), *copy = malloc(*n * sizeof *copy);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, arena, *n * sizeof *copy);
    return copy;
}

/* 1 when every non-inner parameter equals the snapshot bit for bit. */
static int outer_same(cn_net *net, const float *copy)
{
    size_t n, off = 0;
    float *arena = cn_net_param_arena(net, &n);
    for (int i = 0; i < cn_net_n_params(net); i++) {
        const cn_param *p = cn_net_params(net)[i];
        if (!p->inner && memcmp(arena + off, copy + off, p->count * sizeof(float)))
            return 0;
        off += p->count;
    }
    return 1;
}

START_TEST(test_code_modes)
{
    cn_net *net = sesm(3, "0.1");
    cn_layer *z = cn_net_find_layer(net, "z"), *enc = cn_net_find_layer(net, "enc");
    cn_param *Z = z_of(net);
    ck_assert(Z->inner);
    ck_assert_int_eq(Z->shape[0], 8);
    ck_assert_uint_eq(Z->count, 8 * 6);
    for (size_t i = 0; i < Z->count; i++)
        Z->value[i] = 0.25f * (float)i;
    set_batch(net);
    /* training: out = Z */
    cn_net_forward(net);
    ck_assert_int_eq(memcmp(z->out.data, Z->value, Z->count * sizeof(float)), 0);
    /* eval: out = f_enc(Y), and without infer=1 the inner loop does nothing */
    cn_net_set_train(net, 0);
    cn_error err = {0};
    ck_assert_int_eq(cn_net_infer(net, &err), CN_OK);
    ck_assert_float_eq(Z->value[5], 1.25f);
    cn_net_forward(net);
    ck_assert_int_eq(memcmp(z->out.data, enc->out.data, Z->count * sizeof(float)), 0);
    cn_net_free(net);

    /* steps=0: Z is started at f_enc(Y) and left there */
    net = sesm(0, "0.1");
    set_batch(net);
    ck_assert_int_eq(cn_net_infer(net, &err), CN_OK);
    cn_net_forward(net);
    enc = cn_net_find_layer(net, "enc");
    ck_assert_int_eq(memcmp(z_of(net)->value, enc->out.data, 8 * 6 * sizeof(float)), 0);
    ck_assert_double_eq_tol(cn_net_loss(net, 0)->value, 0.0, 1e-12); /* ||Z - f_enc||^2 */
    cn_net_free(net);

    /* stacked codes: the second starts from its input computed with the first's start */
    net = tu_net(SESM_NET "[dense]\nname=e1\noutput=6\n[code]\nname=z1\nsteps=0\n"
                 "[dense]\nname=e2\noutput=3\nactivation=tanh\n[code]\nname=z2\nsteps=0\n"
                 "[mse]\nlayer=z2\ntarget=e2\ntarget_grad=1\n");
    set_batch(net);
    ck_assert_int_eq(cn_net_infer(net, &err), CN_OK);
    cn_net_forward(net);
    cn_layer *e1 = cn_net_find_layer(net, "e1"), *e2 = cn_net_find_layer(net, "e2");
    ck_assert_int_eq(memcmp(cn_layer_param(cn_net_find_layer(net, "z1"), "Z")->value,
                            e1->out.data, 8 * 6 * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(cn_layer_param(cn_net_find_layer(net, "z2"), "Z")->value,
                            e2->out.data, 8 * 3 * sizeof(float)), 0);
    cn_net_free(net);
}
END_TEST

/* log(1 + y^2) summed per sample, mean over the batch, and its gradient. */
START_TEST(test_log_sparse_values)
{
    cn_net *net = tu_net("[net]\nbatch=2\ninput=2\n[linear]\n[log_sparse]\nweight=3\n");
    const float x[4] = {0.0f, 1.0f, -2.0f, 0.5f};
    cn_net_set_input_grad(net, 1);
    cn_net_set_batch(net, x, NULL, 2);
    cn_net_zero_grad(net);
    cn_net_forward(net);
    ck_assert_double_eq_tol(cn_net_loss_forward(net), 3.0 * log(12.5) / 2.0, 1e-6);
    ck_assert_double_eq_tol(cn_net_loss(net, 0)->value, log(12.5) / 2.0, 1e-6);
    cn_net_backward(net);
    /* 3 * (1/2) * 2y / (1 + y^2) */
    const float want[4] = {0.0f, 1.5f, -1.2f, 1.2f};
    const float *dx = cn_net_layer(net, 0)->dout.data;
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq_tol(dx[i], want[i], 1e-6f);
    cn_net_free(net);
}
END_TEST

/* The whole energy by finite differences: Z, enc.W (shared by encoder and
 * decoder), enc.b and dec.b, at a random code. */
START_TEST(test_sesm_gradcheck)
{
    cn_net *net = sesm(3, "0.1");
    cn_param *Z = z_of(net);
    cn_rng rng;
    cn_rng_seed(&rng, 5);
    for (size_t i = 0; i < Z->count; i++)
        Z->value[i] = 2.0f * cn_rng_uniform(&rng) - 1.0f;
    ck_assert_int_eq(cn_net_n_params(net), 3 + 1); /* enc.W, enc.b, z.Z, dec.b */
    double worst = tu_gradcheck(net, 0, 0, 9);
    ck_assert_msg(worst < 1e-2, "max relative error %g", worst);
    cn_net_free(net);
}
END_TEST

/* The inner loop lowers E on a fixed batch, more with more steps, and moves
 * nothing but Z: the parameters and the optimizer's step count stay. */
START_TEST(test_inner_lowers_energy)
{
    const int steps[] = {0, 1, 2, 5, 20, 60};
    double e[6];
    for (int k = 0; k < 6; k++) {
        cn_net *net = sesm(steps[k], "0.1");
        size_t n;
        float *before = snapshot(net, &n);
        set_batch(net);
        cn_error err = {0};
        ck_assert_msg(cn_net_infer(net, &err) == CN_OK, "%s", err.msg);
        e[k] = energy(net);
        ck_assert(outer_same(net, before));
        ck_assert_int_eq(cn_net_optim(net)->t, 0);
        if (k == 0) { /* E at Z = f_enc(Y), computed by hand */
            cn_layer *enc = cn_net_find_layer(net, "enc");
            memcpy(z_of(net)->value, enc->out.data, 8 * 6 * sizeof(float));
            ck_assert_double_eq(energy(net), e[0]);
        } else {
            ck_assert_msg(e[k] < e[k - 1], "%d steps: E %.9g, %d steps: E %.9g", steps[k],
                          e[k], steps[k - 1], e[k - 1]);
        }
        free(before);
        cn_net_free(net);
    }
    /* gradient descent converges: the last 40 steps gain < 5% of the total */
    ck_assert_msg(e[4] - e[5] < 0.05 * (e[0] - e[5]), "E: %g %g %g %g %g %g", e[0], e[1], e[2],
                  e[3], e[4], e[5]);
}
END_TEST

/* One training step: inference, then a parameter step with Z fixed. The
 * parameters move; Z is exactly what inference alone gives (the optimizer
 * never touches it). */
START_TEST(test_step_keeps_code)
{
    cn_net *a = sesm(5, "0.1"), *b = sesm(5, "0.1");
    size_t n;
    float *before = snapshot(a, &n);
    cn_error err = {0};
    double loss;
    set_batch(a);
    set_batch(b);
    ck_assert_msg(cn_net_train_step(a, &loss, &err) == CN_OK, "%s", err.msg);
    ck_assert_int_eq(cn_net_infer(b, &err), CN_OK);
    ck_assert(!outer_same(a, before));
    ck_assert_int_eq(memcmp(z_of(a)->value, z_of(b)->value, 8 * 6 * sizeof(float)), 0);
    ck_assert_int_eq(cn_net_optim(a)->t, 1);
    size_t off = 0;
    for (int i = 0; i < cn_net_n_params(a); i++) { /* each of enc.W, enc.b, dec.b moved */
        const cn_param *p = cn_net_params(a)[i];
        if (!p->inner)
            ck_assert_msg(memcmp(p->value, before + off, p->count * sizeof(float)),
                          "%s unchanged", p->name);
        off += p->count;
    }
    free(before);
    cn_net_free(a);
    cn_net_free(b);
}
END_TEST

/* Another sparse coder as a cfg, no new code: an encoder predicting the code
 * (tanh), an untied linear decoder and the log (Cauchy) prior on Z itself,
 * as in predictive sparse decomposition with Olshausen & Field's penalty. */
START_TEST(test_other_coder)
{
    cn_net *net = tu_net(SESM_NET "[dense]\nname=enc\noutput=6\nactivation=tanh\n[code]\n"
                         "name=z\nsteps=30\nlr=0.05\n[dense]\nname=dec\noutput=16\n"
                         "[mse]\nlayer=z\ntarget=enc\ntarget_grad=1\nreduce=sum\n"
                         "[mse]\nlayer=dec\ntarget=input\nreduce=sum\n"
                         "[log_sparse]\nlayer=z\nweight=0.5\n");
    set_batch(net);
    cn_net_forward(net);
    memcpy(z_of(net)->value, cn_net_find_layer(net, "enc")->out.data, 8 * 6 * sizeof(float));
    double e0 = energy(net);
    size_t n;
    float *before = snapshot(net, &n);
    cn_error err = {0};
    ck_assert_int_eq(cn_net_infer(net, &err), CN_OK);
    double e1 = energy(net);
    ck_assert_msg(e1 < e0, "E %g -> %g", e0, e1);
    ck_assert(outer_same(net, before));
    double loss;
    ck_assert_int_eq(cn_net_train_step(net, &loss, &err), CN_OK);
    ck_assert_double_eq(loss, e1); /* the parameter step's energy is the inferred one */
    ck_assert(!outer_same(net, before));
    free(before);
    cn_net_free(net);
}
END_TEST

START_TEST(test_inner_divergence)
{
    cn_net *net = sesm(5, "1e30");
    set_batch(net);
    cn_error err = {0};
    double loss;
    ck_assert_int_eq(cn_net_train_step(net, &loss, &err), CN_ERR_NUMERIC);
    ck_assert_msg(strstr(err.msg, "inner inference step ") == err.msg &&
                      strstr(err.msg, " of 5: loss '"), "%s", err.msg);
    ck_assert_int_eq(cn_net_optim(net)->t, 0);
    cn_net_free(net);
}
END_TEST

START_TEST(test_bad_keys)
{
    cn_error err = {0};
    ck_assert_int_eq(tu_net_err("[net]\nbatch=2\ninput=3\n[code]\nlr=0\n", &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "test.cfg:5: key 'lr' expects a finite number in (0, inf), got '0'");
    ck_assert_int_eq(tu_net_err("[net]\nbatch=2\ninput=3\n[code]\nsteps=-1\n", &err),
                     CN_ERR_CFG);
    ck_assert_msg(strstr(err.msg, "test.cfg:5: key 'steps'"), "%s", err.msg);
    ck_assert_int_eq(tu_net_err("[net]\nbatch=2\ninput=3\n[dense]\noutput=2\n"
                                "[log_sparse]\ntarget=input\n", &err), CN_ERR_CFG);
    ck_assert_msg(strstr(err.msg, "accepts target none"), "%s", err.msg);
}
END_TEST

/* ---- training on a generated dataset ---- */

typedef tu_fixture fixture;

static fixture open_fixture(const char *set)
{
    char text[2048];
    snprintf(text, sizeof text,
             "[net]\nbatch=16\ninput=1,8,8\nseed=11\nepochs=6\n"
             "[data]\ndir=%s\n[optim]\ntype=sgd\nlr=0.02\n"
             "[dense]\nname=enc\noutput=16\n[code]\nname=z\nsteps=10\nlr=0.1\n"
             "[sigmoid]\nname=lz\n[dense]\nname=dec\ntie=enc\n"
             "[mse]\nlayer=z\ntarget=enc\ntarget_grad=1\nreduce=sum\n"
             "[mse]\nname=recon\nlayer=dec\ntarget=input\nreduce=sum\n"
             "[log_sparse]\nlayer=lz\nweight=0.1\n[l1]\nlayer=enc\nweight=1e-4\n", tu_train_dataset());
    return tu_fixture_open("sesm.cfg", text, set);
}

static double epoch_loss[8];
static long allocs_at[2];

static void record(const cn_progress *p, void *user)
{
    (void)user;
    if (p->epoch_done && p->epoch <= 8)
        epoch_loss[p->epoch - 1] = p->loss;
    if (p->epoch == 1 && p->batch == 2)
        allocs_at[0] = tu_allocs;
    if (p->epoch == 1 && p->batch == p->batches && !p->epoch_done)
        allocs_at[1] = tu_allocs;
}

static cn_status train(fixture *f, const char *dir, int epochs, int resume, cn_error *err)
{
    cn_train_opts o = cn_train_defaults();
    o.run_dir = dir;
    o.epochs = epochs;
    o.resume = resume;
    o.progress = record;
    return cn_train(f->net, f->data, &o, err);
}

/* Falling energy, no allocation inside steps, and eval with inference
 * reaching a lower energy than the feed-forward code. */
START_TEST(test_sesm_trains)
{
    fixture f = open_fixture(NULL);
    const char *dir = tu_tmpdir();
    cn_error err = {0};
    memset(epoch_loss, 0, sizeof epoch_loss);
    ck_assert_msg(train(&f, dir, 0, 0, &err) == CN_OK, "%s", err.msg);
    ck_assert_msg(epoch_loss[5] < 0.6 * epoch_loss[0], "loss %g -> %g", epoch_loss[0],
                  epoch_loss[5]);
    for (int e = 1; e < 6; e++)
        ck_assert_msg(epoch_loss[e] < epoch_loss[e - 1], "epoch %d: %g after %g", e + 1,
                      epoch_loss[e], epoch_loss[e - 1]);
    ck_assert_int_gt(allocs_at[0], 0);
    ck_assert_int_eq(allocs_at[1] - allocs_at[0], 0);
    cn_metrics fast, inferred;
    ck_assert_int_eq(cn_eval(f.net, f.data->test, NULL, 0, &fast, &err), CN_OK);
    tu_fixture_close(&f);

    f = open_fixture("z.infer=1");
    char path[600];
    snprintf(path, sizeof path, "%s/last.ckpt", dir);
    ck_assert_msg(cn_ckpt_load(f.net, path, NULL, &err) == CN_OK, "%s", err.msg);
    ck_assert_int_eq(cn_eval(f.net, f.data->test, NULL, 0, &inferred, &err), CN_OK);
    double rf = cn_metrics_get(&fast, "recon_rmse"), ri = cn_metrics_get(&inferred, "recon_rmse");
    ck_assert_msg(isfinite(rf) && isfinite(ri) && rf < 0.3 && ri < 0.3, "rmse %g %g", rf, ri);
    ck_assert_msg(cn_metrics_get(&inferred, "loss") < cn_metrics_get(&fast, "loss"),
                  "eval energy with inference %g, without %g", cn_metrics_get(&inferred, "loss"),
                  cn_metrics_get(&fast, "loss"));
    tu_fixture_close(&f);
}
END_TEST

/* Stopped after an epoch and resumed: bit-identical to one run. */
START_TEST(test_sesm_resume_exact)
{
    cn_error err = {0};
    fixture whole = open_fixture(NULL), split = open_fixture(NULL);
    ck_assert_int_eq(train(&whole, tu_tmpdir(), 2, 0, &err), CN_OK);
    const char *dir = tu_tmpdir();
    ck_assert_int_eq(train(&split, dir, 1, 0, &err), CN_OK);
    tu_fixture_close(&split);
    split = open_fixture(NULL);
    ck_assert_msg(train(&split, dir, 2, 1, &err) == CN_OK, "%s", err.msg);
    size_t na, nb;
    float *pa = cn_net_param_arena(whole.net, &na), *pb = cn_net_param_arena(split.net, &nb);
    ck_assert(na == nb && !memcmp(pa, pb, na * sizeof *pa));
    tu_fixture_close(&split);
    tu_fixture_close(&whole);
}
END_TEST

Suite *sesm_suite(void)
{
    Suite *s = suite_create("sesm");
    TCase *tc = tcase_create("sesm");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_code_modes);
    tcase_add_test(tc, test_log_sparse_values);
    tcase_add_test(tc, test_sesm_gradcheck);
    tcase_add_test(tc, test_inner_lowers_energy);
    tcase_add_test(tc, test_step_keeps_code);
    tcase_add_test(tc, test_other_coder);
    tcase_add_test(tc, test_inner_divergence);
    tcase_add_test(tc, test_bad_keys);
    tcase_add_test(tc, test_sesm_trains);
    tcase_add_test(tc, test_sesm_resume_exact);
    suite_add_tcase(s, tc);
    return s;
}
