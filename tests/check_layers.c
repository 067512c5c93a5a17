/* check_layers.c - the layers: a finite-difference gradient check for every
 * registry entry (one or more fixture rows per type, input and parameter
 * gradients), forward values against hand-computed numbers, tied weights,
 * the noise layer's statistics and reproducibility, and golden errors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util.h"

#define NET2(input) "[net]\nbatch=2\ninput=" input "\nseed=7\n"

/* One gradient-check fixture: the layer type it covers and a tiny net. */
typedef struct fixture {
    const char *type;
    const char *cfg;
    int with_input;
} fixture;

static const fixture fixtures[] = {
    {"dense", NET2("1,1,4") "[dense]\noutput=3\n", 1},
    {"dense", NET2("1,1,4") "[dense]\noutput=3\nactivation=sigmoid\n", 1},
    {"dense", NET2("1,1,4") "[dense]\noutput=3\nactivation=sigmoid\ngain=2\n", 1},
    {"dense", NET2("1,1,4") "[dense]\noutput=5\nactivation=tanh\n", 1},
    {"dense", NET2("1,1,4") "[dense]\noutput=5\n[dense]\noutput=3\nactivation=relu\n", 1},
    {"dense", NET2("1,1,4") "[dense]\noutput=5\n[dense]\noutput=3\nactivation=leaky\n"
              "slope=0.1\n", 1},
    {"dense", NET2("2,3,3") "[dense]\noutput=4\nactivation=tanh\n", 1},
    {"dense", NET2("1,1,5") "[dense]\noutput=3\nbias=0\n", 1},
    {"dense", NET2("1,1,5") "[dense]\nname=enc\noutput=3\nactivation=sigmoid\n"
              "[dense]\nname=dec\ntie=enc\nactivation=sigmoid\n", 1},
    {"dense", NET2("1,1,5") "[dense]\nname=enc\noutput=4\nactivation=tanh\n"
              "[dense]\noutput=3\n[dense]\nfrom=enc\ntie=enc\noutput=5\n", 1},
    {"sigmoid", NET2("1,1,4") "[dense]\noutput=5\n[sigmoid]\n", 1},
    {"sigmoid", NET2("1,1,4") "[dense]\noutput=5\n[sigmoid]\ngain=2\n", 1},
    {"tanh", NET2("1,1,4") "[dense]\noutput=5\n[tanh]\n", 1},
    {"relu", NET2("1,1,4") "[dense]\noutput=5\n[relu]\n", 1},
    {"leaky", NET2("1,1,4") "[dense]\noutput=5\n[leaky]\n", 1},
    {"leaky", NET2("1,1,4") "[dense]\noutput=5\n[leaky]\nslope=0.3\n", 1},
    {"linear", NET2("1,1,4") "[dense]\noutput=5\n[linear]\n", 1},
    {"softmax", NET2("1,1,4") "[dense]\noutput=5\n[softmax]\n", 1},
    {"softmax", NET2("1,1,4") "[dense]\noutput=5\n[softmax]\ntemperature=0.5\n", 1},
    {"softmax", NET2("2,3,3") "[softmax]\ntemperature=2\n", 1},
    {"route", NET2("1,1,4") "[dense]\nname=a\noutput=3\n[dense]\nname=b\nfrom=input\n"
              "output=2\nactivation=tanh\n[route]\nfrom=a,b\n", 1},
    {"route", NET2("1,1,4") "[dense]\noutput=3\n[route]\n[dense]\noutput=4\n", 1},
    {"route", NET2("2,3,3") "[sigmoid]\nname=s\n[route]\nfrom=s,input,s\n", 1},
    {"noise", NET2("1,1,4") "[dense]\noutput=6\n[noise]\nq=0.3\n[dense]\noutput=3\n", 1},
    {"noise", NET2("1,1,4") "[dense]\noutput=6\n[noise]\ntype=gaussian\nsigma=0.2\n"
              "[dense]\noutput=3\n", 1},
    /* no bias before batchnorm: its gradient is exactly 0, which float FD cannot show */
    {"batchnorm", "[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=5\nbias=0\n[batchnorm]\n"
                  "[dense]\noutput=3\nactivation=tanh\n", 1},
    {"batchnorm", NET2("2,3,3") "[batchnorm]\naffine=0\n[sigmoid]\n", 1},
    {"noise", NET2("1,1,4") "[dense]\noutput=6\n[noise]\ntype=saltpepper\nq=0.4\n"
              "[dense]\noutput=3\nactivation=sigmoid\n", 1},
};
#define N_FIXTURES ((int)(sizeof fixtures / sizeof fixtures[0]))

START_TEST(test_gradcheck)
{
    const fixture *f = &fixtures[_i];
    cn_net *net = tu_net(f->cfg);
    double worst = tu_gradcheck(net, f->with_input, 0, 42); /* one seed: rows independent */
    ck_assert_msg(worst < 1e-2, "[%s] fixture %d: relative error %g\n%s", f->type, _i, worst,
                  f->cfg);
    cn_net_free(net);
}
END_TEST

START_TEST(test_coverage)
{
    const cn_layer_ops *const *types = cn_layer_types();
    for (int t = 0; types[t]; t++) {
        int rows = 0;
        for (int i = 0; i < N_FIXTURES; i++)
            rows += !strcmp(fixtures[i].type, types[t]->type);
        ck_assert_msg(rows > 0, "layer type '%s' has no gradient-check fixture",
                      types[t]->type);
        ck_assert_ptr_eq(cn_layer_find(types[t]->type), types[t]);
        for (int u = 0; u < t; u++)
            ck_assert_msg(strcmp(types[u]->type, types[t]->type), "type '%s' listed twice",
                          types[t]->type);
    }
    ck_assert_ptr_null(cn_layer_find("no_such_layer"));
}
END_TEST

static cn_param *param(cn_net *net, const char *name)
{
    for (int i = 0; i < cn_net_n_params(net); i++)
        if (!strcmp(cn_net_params(net)[i]->name, name))
            return cn_net_params(net)[i];
    ck_abort_msg("no parameter '%s'", name);
    return NULL;
}

static void set_param(cn_net *net, const char *name, const float *v, size_t count)
{
    cn_param *p = param(net, name);
    ck_assert_uint_eq(p->count, count);
    memcpy(p->value, v, count * sizeof *v);
}

static void assert_close(const float *got, const float *want, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= tol, "value %zu: got %.7g, want %.7g", i,
                      (double)got[i], (double)want[i]);
}

START_TEST(test_dense_forward)
{
    cn_net *net = tu_net(NET2("1,1,3") "[dense]\noutput=2\n");
    const float W[] = {1, 2, 3, 4, 5, 6}, b[] = {0.5f, -1}, x[] = {1, 0, -1, 2, 1, 0};
    set_param(net, "dense1.W", W, 6);
    set_param(net, "dense1.b", b, 2);
    cn_net_set_batch(net, x, NULL, 2);
    cn_net_forward(net);
    const float want[] = {-1.5f, -3.0f, 4.5f, 12.0f};
    cn_layer *out = cn_net_output(net);
    ck_assert_int_eq(out->c * out->h * out->w, 2);
    assert_close(out->out.data, want, 4, 1e-6);
    ck_assert_double_eq(cn_layer_flops(out), 2.0 * 3 * 2);
    /* a short batch touches only its own rows */
    const float x1[] = {0, 0, 1};
    cn_net_set_batch(net, x1, NULL, 1);
    cn_net_forward(net);
    const float want1[] = {3.5f, 5.0f, 4.5f, 12.0f};
    assert_close(out->out.data, want1, 4, 1e-6);
    cn_net_free(net);
}
END_TEST

/* sigmoid with gain 2, and softmax with temperature 0.5 */
START_TEST(test_gain_temperature)
{
    cn_net *net = tu_net(NET2("1,1,3") "[sigmoid]\ngain=2\n");
    const float x[] = {0, 1, -1, 0.5f, -2, 3};
    cn_net_set_batch(net, x, NULL, 2);
    cn_net_forward(net);
    const float *y = cn_net_output(net)->out.data;
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(y[i], 1.0 / (1.0 + exp(-2.0 * x[i])), 1e-6);
    ck_assert_float_eq_tol(y[1], 0.8807971f, 1e-6f);
    cn_net_free(net);

    net = tu_net(NET2("1,1,3") "[softmax]\ntemperature=0.5\n");
    /* x / T = (0, ln 2, ln 3) -> (1, 2, 3) / 6; second sample all equal */
    const float xs[] = {0, 0.5f * logf(2), 0.5f * logf(3), 4, 4, 4};
    cn_net_set_batch(net, xs, NULL, 2);
    cn_net_forward(net);
    const float want[] = {1 / 6.0f, 2 / 6.0f, 3 / 6.0f, 1 / 3.0f, 1 / 3.0f, 1 / 3.0f};
    assert_close(cn_net_output(net)->out.data, want, 6, 1e-6);
    cn_net_free(net);
}
END_TEST

START_TEST(test_route_order)
{
    /* (1, 2, 2) input; route s, input -> (2, 2, 2): per sample s then x */
    cn_net *net = tu_net(NET2("1,2,2") "[linear]\nname=s\n[leaky]\nslope=0.5\nname=k\n"
                         "[route]\nfrom=k,input\n");
    const float x[] = {1, -2, 3, -4, -5, 6, -7, 8};
    cn_net_set_batch(net, x, NULL, 2);
    cn_net_forward(net);
    cn_layer *out = cn_net_output(net);
    ck_assert(out->c == 2 && out->h == 2 && out->w == 2);
    const float want[] = {1, -1, 3, -2, 1, -2, 3, -4, -2.5f, 6, -3.5f, 8, -5, 6, -7, 8};
    assert_close(out->out.data, want, 16, 0);
    cn_net_free(net);
}
END_TEST

/* Forward x, put r into the output's dout, backward; returns the net's output layer. */
static cn_layer *run_backward(cn_net *net, const float *x, const float *r)
{
    cn_net_set_batch(net, x, NULL, 2);
    cn_net_zero_grad(net);
    cn_net_forward(net);
    cn_layer *out = cn_net_output(net);
    memcpy(out->dout.data, r, cn_tensor_count(&out->out) * sizeof *r);
    cn_net_backward(net);
    return out;
}

START_TEST(test_tied_weights)
{
    cn_net *tied = tu_net(NET2("1,1,5") "[dense]\nname=enc\noutput=3\nactivation=sigmoid\n"
                          "[dense]\nname=dec\ntie=enc\nactivation=sigmoid\n");
    cn_net *free_net = tu_net(NET2("1,1,5") "[dense]\nname=enc\noutput=3\nactivation=sigmoid\n"
                              "[dense]\nname=dec\noutput=5\nactivation=sigmoid\n");
    /* W once in the parameter list, no dec.W */
    int n_w = 0;
    for (int i = 0; i < cn_net_n_params(tied); i++)
        n_w += strstr(cn_net_params(tied)[i]->name, ".W") != NULL;
    ck_assert_int_eq(n_w, 1);
    ck_assert_int_eq(cn_net_n_params(tied), 3);
    ck_assert_ptr_null(cn_layer_param(cn_net_find_layer(tied, "dec"), "W"));
    ck_assert_int_eq(cn_net_output(tied)->c, 5);

    /* the untied net with dec.W = enc.W^T computes the same function */
    cn_param *W = param(tied, "enc.W"); /* (3, 5) */
    float Wt[15]; /* (5, 3) */
    for (int k = 0; k < 15; k++)
        Wt[k % 5 * 3 + k / 5] = W->value[k];
    set_param(free_net, "enc.W", W->value, 15);
    set_param(free_net, "enc.b", param(tied, "enc.b")->value, 3);
    set_param(free_net, "dec.W", Wt, 15);
    set_param(free_net, "dec.b", param(tied, "dec.b")->value, 5);

    const float x[] = {0.1f, 0.9f, 0.4f, 0.3f, 0.7f, 0.6f, 0.2f, 0.8f, 0.5f, 0.0f};
    const float r[] = {1, -2, 0.5f, 3, -1, -0.5f, 2, 1, -3, 0.25f};
    cn_layer *yt = run_backward(tied, x, r), *yf = run_backward(free_net, x, r);
    assert_close(yt->out.data, yf->out.data, 10, 1e-6);

    /* d/dW of the tied use = enc's dW + (dec's dW)^T */
    const float *ge = param(free_net, "enc.W")->grad, *gd = param(free_net, "dec.W")->grad;
    float want[15];
    for (int k = 0; k < 15; k++)
        want[k] = ge[k] + gd[k % 5 * 3 + k / 5];
    assert_close(W->grad, want, 15, 1e-5);
    assert_close(param(tied, "dec.b")->grad, param(free_net, "dec.b")->grad, 5, 1e-6);
    cn_net_free(tied);
    cn_net_free(free_net);
}
END_TEST

#define NOISE_N 5000              /* per sample; batch 2 -> 10k values */
static float noise_x[2 * NOISE_N]; /* (2, NOISE_N) */
#define NOISE_CFG(keys) NET2("1,1,5000") "[noise]\n" keys

/* One forward of a noise net over (1, 1, NOISE_N) in `train` mode on x in
 * [0.25, 0.75) (never 0 or 1); returns the output layer. */
static cn_layer *noise_run(cn_net *net, int train)
{
    for (int i = 0; i < 2 * NOISE_N; i++)
        noise_x[i] = 0.25f + 0.5f * (float)i / (2 * NOISE_N);
    cn_net_set_train(net, train);
    cn_net_set_batch(net, noise_x, NULL, 2);
    cn_net_forward(net);
    return cn_net_output(net);
}

START_TEST(test_noise_eval_identity)
{
    static const char *const cfgs[] = {NOISE_CFG("q=0.5\n"), NOISE_CFG("type=gaussian\n"),
                                       NOISE_CFG("type=saltpepper\nq=0.9\n")};
    for (int k = 0; k < 3; k++) {
        cn_net *net = tu_net(cfgs[k]);
        cn_layer *out = noise_run(net, 0);
        ck_assert_int_eq(memcmp(out->out.data, noise_x, sizeof noise_x), 0);
        cn_net_free(net);
    }
}
END_TEST

START_TEST(test_noise_statistics)
{
    /* mask, q = 0.25: zeros ~ Binomial(10000, 0.25), sd 43.3; allow 5 sd */
    cn_net *net = tu_net(NOISE_CFG("q=0.25\n"));
    cn_layer *out = noise_run(net, 1);
    int zeros = 0;
    for (int i = 0; i < 2 * NOISE_N; i++) {
        zeros += out->out.data[i] == 0.0f;
        ck_assert(out->out.data[i] == 0.0f || out->out.data[i] == noise_x[i]);
    }
    ck_assert_int_le(abs(zeros - 2500), 217);
    cn_net_free(net);

    /* salt and pepper, q = 0.4: ~4000 hits, half 0 and half 1 */
    net = tu_net(NOISE_CFG("type=saltpepper\nq=0.4\n"));
    out = noise_run(net, 1);
    int salt = 0, pepper = 0;
    for (int i = 0; i < 2 * NOISE_N; i++) {
        float y = out->out.data[i];
        salt += y == 1.0f;
        pepper += y == 0.0f;
        ck_assert(y == 0.0f || y == 1.0f || y == noise_x[i]);
    }
    ck_assert_int_le(abs(salt + pepper - 4000), 245);
    ck_assert_int_le(abs(salt - pepper), 320);
    cn_net_free(net);

    /* gaussian, sigma = 0.2: the added noise has mean ~0 and sd ~0.2 */
    net = tu_net(NOISE_CFG("type=gaussian\nsigma=0.2\n"));
    out = noise_run(net, 1);
    double sum = 0, sq = 0;
    for (int i = 0; i < 2 * NOISE_N; i++) {
        double e = out->out.data[i] - noise_x[i];
        sum += e;
        sq += e * e;
    }
    double mean = sum / (2 * NOISE_N), sd = sqrt(sq / (2 * NOISE_N) - mean * mean);
    ck_assert_double_le(fabs(mean), 5 * 0.2 / 100);
    ck_assert_double_le(fabs(sd - 0.2), 0.01);
    cn_net_free(net);
}
END_TEST

START_TEST(test_noise_reproducible)
{
    static float first[2 * NOISE_N];
    cn_net *a = tu_net(NOISE_CFG("q=0.3\n")), *b = tu_net(NOISE_CFG("q=0.3\n"));
    memcpy(first, noise_run(a, 1)->out.data, sizeof first);
    ck_assert_int_eq(memcmp(noise_run(b, 1)->out.data, first, sizeof first), 0);
    /* the RNG moves on: the next batch gets a different mask */
    ck_assert_int_ne(memcmp(noise_run(a, 1)->out.data, first, sizeof first), 0);
    cn_net_free(a);
    cn_net_free(b);
}
END_TEST

/* The kernels alone: q = 0 keeps all, q = 1 hits all, one draw per value. */
START_TEST(test_corrupt_kernels)
{
    float x[64], y[64], kx[64], ky[64];
    cn_rng r1, r2;
    cn_rng_seed(&r1, 3);
    cn_rng_seed(&r2, 3);
    for (int i = 0; i < 64; i++)
        x[i] = y[i] = 0.5f;
    cn_corrupt_mask(x, 64, 0.0f, &r1, kx);
    cn_corrupt_saltpepper(y, 64, 1.0f, &r2, ky);
    for (int i = 0; i < 64; i++)
        ck_assert(x[i] == 0.5f && kx[i] == 1.0f && (y[i] == 0 || y[i] == 1) && ky[i] == 0);
    ck_assert_uint_eq(cn_rng_u64(&r1), cn_rng_u64(&r2));
}
END_TEST

/* Build cfg text, expect failure with this status and exact message. */
static void expect_error(const char *cfg, cn_status code, const char *msg)
{
    cn_error err = {0};
    ck_assert_int_eq(tu_net_err(cfg, &err), code);
    ck_assert_str_eq(err.msg, msg);
}

START_TEST(test_errors)
{
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[sigmoid]\nname=s\n[dense]\ntie=s\n", CN_ERR_CFG,
                 "test.cfg:7: key 'tie' = 's': layer 's' is a [sigmoid]; only a [dense] "
                 "layer's W can be tied");
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[dense]\nname=enc\noutput=4\n[dense]\noutput=3\n"
                 "[dense]\nname=dec\ntie=enc\n",
                 CN_ERR_SHAPE,
                 "test.cfg:11: key 'tie' = 'enc': layer 'dec' (input 3) cannot use the "
                 "transpose of 'enc' W (4 x 5): needs input 4");
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[dense]\nname=enc\noutput=4\n[dense]\n"
                 "tie=enc\noutput=4\n",
                 CN_ERR_CFG,
                 "test.cfg:9: key 'output' = '4': layer 'dense2' is tied to 'enc' and outputs "
                 "5 (the input size of 'enc'); leave output out or set it to 5");
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[dense]\ntie=dec\n[dense]\nname=dec\noutput=2\n",
                 CN_ERR_CFG,
                 "test.cfg:5: key 'tie' = 'dec': layer 'dec' is defined later (line 6); a "
                 "layer may only read layers above it");
    expect_error("[net]\nbatch=2\ninput=1,2,2\n[dense]\nname=d\noutput=3\n[route]\n"
                 "from=input,d\n",
                 CN_ERR_SHAPE,
                 "test.cfg:8: key 'from' = 'input,d': layer 'route2' cannot concatenate "
                 "'input' (1x2x2) and 'd' (3): channels join only when height and width are "
                 "equal");
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[dense]\noutput=0\n", CN_ERR_CFG,
                 "test.cfg:5: key 'output' expects an integer >= 1, got '0'");
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[dense]\noutput=3\nactivation=swish\n",
                 CN_ERR_CFG,
                 "test.cfg:6: key 'activation' expects one of linear, sigmoid, tanh, relu, "
                 "leaky, got 'swish'");
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[dense]\noutput=3\ngain=2\n", CN_ERR_CFG,
                 "test.cfg:6: key 'gain' = '2': applies only to activation=sigmoid");
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[softmax]\ntemperature=0\n", CN_ERR_CFG,
                 "test.cfg:5: key 'temperature' = '0': expects a number > 0");
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[noise]\nq=1.5\n", CN_ERR_CFG,
                 "test.cfg:5: key 'q' expects a number in [0, 1], got '1.5'");
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[noise]\ntype=gaussian\nq=0.5\n", CN_ERR_CFG,
                 "test.cfg:6: key 'q' = '0.5': applies only to type=mask and type=saltpepper");
}
END_TEST

Suite *layers_suite(void)
{
    Suite *s = suite_create("layers");
    TCase *tc = tcase_create("gradcheck");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_gradcheck, 0, N_FIXTURES);
    tcase_add_test(tc, test_coverage);
    suite_add_tcase(s, tc);
    tc = tcase_create("values");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_dense_forward);
    tcase_add_test(tc, test_gain_temperature);
    tcase_add_test(tc, test_route_order);
    tcase_add_test(tc, test_tied_weights);
    tcase_add_test(tc, test_noise_eval_identity);
    tcase_add_test(tc, test_noise_statistics);
    tcase_add_test(tc, test_noise_reproducible);
    tcase_add_test(tc, test_corrupt_kernels);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}
