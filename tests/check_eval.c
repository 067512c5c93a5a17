/* check_eval.c - the measurements of cn_eval_with and cn_eval_probe: the
 * linear probe reaching a set accuracy on generated data, sparsity
 * statistics of a hand-set layer against hand-computed values, layers
 * measured because their section marks what they offer, the Jacobian
 * norm against finite differences of the layer's output (and the contractive
 * loss equal to it), reconstruction under masking noise (q = 0 equals the
 * clean score, q = 1 scores the reconstruction of a zero input, any q equals
 * the same masking done by hand), the same for Gaussian noise, and the
 * option errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnet/cnet.h"
#include "internal.h"
#include "util.h"

/* An in-memory float dataset of n samples of d values (unlabelled). */
static cn_dataset mem_dataset(float *x, int n, int d)
{
    return (cn_dataset){.n = n, .c = d, .h = 1, .w = 1, .f32 = x, .scale = 1};
}

static void fill_uniform(float *x, size_t n, uint64_t seed)
{
    cn_rng rng;
    cn_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        x[i] = cn_rng_uniform(&rng);
}

static cn_metrics eval_ok(cn_net *net, const cn_dataset *ds, const cn_eval_opts *o)
{
    cn_metrics m;
    cn_error err = {0};
    ck_assert_msg(cn_eval_with(net, ds, NULL, 0, o, &m, &err) == CN_OK, "%s", err.msg);
    return m;
}

/* ---- linear probe ---- */

START_TEST(test_probe)
{
    const char *dir = tu_idx_dataset(512, 256, 8, 8, 4, 21);
    char text[1024];
    snprintf(text, sizeof text,
             "[net]\nbatch=64\ninput=1,8,8\nseed=4\n[data]\ndir=%s\n"
             "[dense]\nname=code\noutput=16\nactivation=sigmoid\ninit_scale=6\n"
             "[dense]\noutput=64\nactivation=sigmoid\n[mse]\ntarget=input\n", dir);
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    cn_data *data = NULL;
    cn_error err = {0};
    ck_assert_msg(cn_cfg_parse_string("probe.cfg", text, &cfg, &err) == CN_OK &&
                      cn_net_create(cfg, &net, &err) == CN_OK &&
                      cn_data_open(cfg, cn_net_seed(net), &data, &err) == CN_OK,
                  "%s", err.msg);
    cn_metrics m = {0};
    /* raw pixels: the bars are linearly separable */
    ck_assert_msg(cn_eval_probe(net, data, "input", 60, &m, &err) == CN_OK, "%s", err.msg);
    double acc_input = cn_metrics_get(&m, "probe_accuracy");
    ck_assert_msg(acc_input >= 0.95, "probe on the input: test accuracy %g", acc_input);
    ck_assert(cn_metrics_get(&m, "probe_train_accuracy") >= 0.95);
    /* the pass kept is the best on the held-out tenth, and training stops
     * PATIENCE (10) passes after it */
    double kept = cn_metrics_get(&m, "probe_epochs");
    ck_assert_msg(kept >= 1 && kept <= 60, "probe_epochs %g", kept);
    ck_assert(cn_metrics_get(&m, "probe_valid_accuracy") >= 0.95);
    m.n = 0;
    ck_assert_int_eq(cn_eval_probe(net, data, "input", 1, &m, &err), CN_OK);
    ck_assert_double_eq(cn_metrics_get(&m, "probe_epochs"), 1);
    /* a random 16-unit sigmoid code keeps most of it */
    m.n = 0;
    ck_assert_msg(cn_eval_probe(net, data, "code", 200, &m, &err) == CN_OK, "%s", err.msg);
    double acc_code = cn_metrics_get(&m, "probe_accuracy");
    ck_assert_msg(acc_code >= 0.8, "probe on the code: test accuracy %g", acc_code);
    /* the same seed trains the same probe */
    cn_metrics again = {0};
    ck_assert_int_eq(cn_eval_probe(net, data, "code", 200, &again, &err), CN_OK);
    ck_assert_double_eq(cn_metrics_get(&again, "probe_accuracy"), acc_code);
    ck_assert_int_eq(cn_eval_probe(net, data, "nope", 1, &m, &err), CN_ERR_USAGE);
    ck_assert_str_eq(err.msg, "probe: no layer named 'nope' in probe (layers: input, code, "
                     "dense2)");
    cn_data_close(data);
    cn_net_free(net);
    cn_cfg_free(cfg);
}
END_TEST

/* ---- sparsity ---- */

START_TEST(test_sparsity)
{
    /* 5 samples of 3 units over two batches (4 + 1), the code is the input */
    float x[15] = {0.0f,  0.9f,  0.01f, 0.6f, 0.02f, 0.0f, 0.7f, 0.8f, 0.03f,
                   0.04f, 0.3f,  0.0f,  0.9f, 0.6f,  -0.01f};
    cn_dataset ds = mem_dataset(x, 5, 3);
    cn_net *net = tu_net("[net]\nbatch=4\ninput=1,1,3\n[linear]\nname=h\n");
    cn_eval_opts o = {.sparsity = "h"};
    cn_metrics m = eval_ok(net, &ds, &o);
    double sum = 0.0;
    for (int i = 0; i < 15; i++)
        sum += x[i];
    ck_assert_double_eq_tol(cn_metrics_get(&m, "h_mean_act"), sum / 15, 1e-7);
    /* |h| < 0.05: 2, 2, 1, 2, 1 of 3 units */
    ck_assert_double_eq_tol(cn_metrics_get(&m, "h_near_zero"), 8.0 / 15, 1e-12);
    /* unit 2 never reaches 0.05 */
    ck_assert_double_eq(cn_metrics_get(&m, "h_dead_units"), 1.0);
    /* units 0 and 1 are above 0.5 on 3 of 5 samples, unit 2 never */
    double h06 = -(0.6 * log2(0.6) + 0.4 * log2(0.4));
    ck_assert_double_eq_tol(cn_metrics_get(&m, "h_bits"), 2 * h06, 1e-12);
    cn_error err = {0};
    o.sparsity = "code";
    ck_assert_int_eq(cn_eval_with(net, &ds, NULL, 0, &o, &m, &err), CN_ERR_USAGE);
    ck_assert_str_eq(err.msg, "sparsity: no layer named 'code' in test (layers: input, h)");
    cn_net_free(net);
    /* reported without asking for a layer a kl_sparse loss is attached to */
    net = tu_net("[net]\nbatch=4\ninput=1,1,3\n[sigmoid]\nname=code\n[kl_sparse]\n");
    m = eval_ok(net, &ds, NULL);
    double want = 0.0;
    for (int i = 0; i < 15; i++)
        want += 1.0 / (1.0 + exp(-x[i])) / 15;
    ck_assert_double_eq_tol(cn_metrics_get(&m, "code_mean_act"), want, 1e-6);
    ck_assert_double_eq(cn_metrics_get(&m, "code_dead_units"), 0.0);
    ck_assert(isnan(cn_metrics_get(&m, "h_mean_act")));
    cn_net_free(net);
}
END_TEST

/* ---- capabilities: what a layer offers ---- */

/* A layer section marked offers=code or offers=clusters is measured as a
 * code or a clustering without any loss asking; a layer merely named
 * `cluster` is not; the mark names capabilities a layer may offer. */
START_TEST(test_offers)
{
    float x[15] = {0.0f,  0.9f,  0.01f, 0.6f, 0.02f, 0.0f, 0.7f, 0.8f, 0.03f,
                   0.04f, 0.3f,  0.0f,  0.9f, 0.6f,  -0.01f};
    cn_dataset ds = mem_dataset(x, 5, 3);
    cn_net *net = tu_net("[net]\nbatch=4\ninput=1,1,3\n[linear]\nname=cluster\n");
    cn_metrics m = eval_ok(net, &ds, NULL);
    ck_assert(isnan(cn_metrics_get(&m, "clusters_used")));
    ck_assert(isnan(cn_metrics_get(&m, "cluster_mean_act")));
    ck_assert_uint_eq(cn_layer_offers(cn_net_layer(net, 1)), 0);
    cn_net_free(net);
    net = tu_net("[net]\nbatch=4\ninput=1,1,3\n[linear]\nname=g\noffers = clusters, code\n");
    ck_assert_uint_eq(cn_layer_offers(cn_net_layer(net, 1)), CN_OFFER_CLUSTERS | CN_OFFER_CODE);
    m = eval_ok(net, &ds, NULL);
    double sum = 0.0;
    for (int i = 0; i < 15; i++)
        sum += x[i];
    ck_assert_double_eq_tol(cn_metrics_get(&m, "g_mean_act"), sum / 15, 1e-7);
    /* argmax per sample: 1, 0, 1, 1, 0 */
    ck_assert_double_eq(cn_metrics_get(&m, "clusters_used"), 2);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "cluster_balance"),
                            -(0.4 * log(0.4) + 0.6 * log(0.6)) / log(3.0), 1e-12);
    ck_assert(isnan(cn_metrics_get(&m, "cluster_acc"))); /* unlabelled */
    cn_net_free(net);
    /* a [softmax] offers probabilities by its type */
    net = tu_net("[net]\nbatch=4\ninput=1,1,3\n[softmax]\n");
    ck_assert_uint_eq(cn_layer_offers(cn_net_layer(net, 1)), CN_OFFER_PROBS);
    cn_net_free(net);
    cn_error err = {0};
    ck_assert_int_eq(tu_net_err("[net]\nbatch=4\ninput=1,1,3\n[linear]\noffers=code,probs\n",
                                &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "test.cfg:5: key 'offers' = 'code,probs': expects a comma list of "
                              "clusters, code, got 'probs'");
    /* the key's choices are the names of the capabilities a layer may mark */
    char joined[128] = "";
    for (unsigned bit = 1; bit; bit <<= 1)
        if (CN_OFFER_MARKS & bit)
            snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s",
                     *joined ? "|" : "", cn_offer_name(bit));
    ck_assert_str_eq(joined, CN_OFFER_MARK_NAMES);
    ck_assert_str_eq(cn_offer_name(CN_OFFER_GAUSS_POSTERIOR), "gauss_posterior");
    ck_assert_ptr_null(cn_offer_name(CN_OFFER_CLUSTERS | CN_OFFER_CODE));
}
END_TEST

/* ---- Jacobian ---- */

static const char *const jac_acts[] = {"sigmoid\ngain=1.5", "tanh", "relu"};

/* ||J_x(h)||_F^2 of sample x (5 values) by central differences of enc's output. */
static double fd_jacobian_sq(cn_net *net, const cn_layer *enc, const float *x)
{
    enum { K = 5, N = 3 };
    float xp[K];
    double hp[N], sq = 0.0;
    const double eps = 1e-3;
    for (int j = 0; j < K; j++) {
        for (int sign = 1; sign >= -1; sign -= 2) {
            memcpy(xp, x, sizeof xp);
            xp[j] += (float)(sign * eps);
            cn_net_set_batch(net, xp, NULL, 1);
            cn_net_forward(net);
            for (int l = 0; l < N; l++)
                hp[l] = sign > 0 ? enc->out.data[l] : (hp[l] - enc->out.data[l]) / (2 * eps);
        }
        for (int l = 0; l < N; l++)
            sq += hp[l] * hp[l];
    }
    return sq;
}

START_TEST(test_jacobian)
{
    char text[512];
    snprintf(text, sizeof text,
             "[net]\nbatch=4\ninput=1,1,5\nseed=3\n[dense]\nname=enc\noutput=3\nactivation=%s\n"
             "init_scale=3\n[dense]\noutput=5\n[mse]\ntarget=input\n[contractive]\nlayer=enc\n",
             jac_acts[_i]);
    cn_net *net = tu_net(text);
    float x[20];
    fill_uniform(x, 20, 8);
    cn_dataset ds = mem_dataset(x, 4, 5);
    cn_eval_opts o = {.jacobian = "enc"};
    cn_metrics m = eval_ok(net, &ds, &o);
    double fro = 0.0, sq = 0.0;
    cn_net_set_train(net, 0);
    for (int s = 0; s < 4; s++) {
        double v = fd_jacobian_sq(net, cn_net_find_layer(net, "enc"), x + 5 * s);
        fro += sqrt(v) / 4;
        sq += v / 4;
    }
    ck_assert_msg(sq > 0.05, "%s: a degenerate Jacobian (%g)", jac_acts[_i], sq);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "enc_jacobian"), fro, 2e-3 * fro);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "enc_jacobian_sq"), sq, 2e-3 * sq);
    /* the contractive loss is the same quantity (one batch: the same mean) */
    ck_assert_double_eq_tol(cn_metrics_get(&m, "loss_contractive"),
                            cn_metrics_get(&m, "enc_jacobian_sq"), 1e-6 * sq);
    cn_error err = {0};
    o.jacobian = "dense2";
    ck_assert_int_eq(cn_eval_with(net, &ds, NULL, 0, &o, &m, &err), CN_ERR_USAGE);
    ck_assert_str_eq(err.msg, "jacobian: layer 'dense2' (dense, 5) has activation linear; the "
                     "Jacobian norm needs activation sigmoid, tanh or relu");
    cn_net_free(net);
}
END_TEST

/* ---- reconstruction of corrupted inputs ---- */

#define AE "[net]\nbatch=4\ninput=1,1,6\nseed=2\n[noise]\nq=0.5\n[dense]\noutput=4\n" \
           "activation=sigmoid\n[dense]\noutput=6\nactivation=sigmoid\n[mse]\ntarget=input\n"

/* Mean squared error of the net's reconstruction of xin against x (n, 6). */
static double recon_of(cn_net *net, const float *xin, const float *x, int n)
{
    double se = 0.0;
    for (int s = 0; s < n; s++) {
        cn_net_set_batch(net, xin + 6 * s, NULL, 1);
        cn_net_forward(net);
        const float *y = cn_net_output(net)->out.data;
        for (int j = 0; j < 6; j++)
            se += ((double)y[j] - x[6 * s + j]) * ((double)y[j] - x[6 * s + j]);
    }
    return se / (6.0 * n);
}

START_TEST(test_corrupt)
{
    cn_net *net = tu_net(AE);
    float x[36], masked[36], zeros[36] = {0};
    fill_uniform(x, 36, 5);
    cn_dataset ds = mem_dataset(x, 6, 6);
    cn_metrics plain = eval_ok(net, &ds, NULL);
    ck_assert(isnan(cn_metrics_get(&plain, "corrupt_recon_mse")));
    /* q = 0: the clean score; the noise layer is off in eval mode */
    cn_eval_opts o = {.corrupt = 1, .corrupt_q = 0.0f, .corrupt_seed = 9};
    cn_metrics m = eval_ok(net, &ds, &o);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "corrupt_recon_mse"),
                            cn_metrics_get(&plain, "recon_mse"), 1e-12);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "recon_mse"), cn_metrics_get(&plain, "recon_mse"),
                            1e-12);
    /* q = 1: every input is zero, scored against the clean one */
    o.corrupt_q = 1.0f;
    m = eval_ok(net, &ds, &o);
    cn_net_set_train(net, 0);
    double want = recon_of(net, zeros, x, 6);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "corrupt_recon_mse"), want, 1e-6);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "corrupt_recon_rmse"), sqrt(want), 1e-6);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "corrupt_recon_psnr"), 10 * log10(1 / want),
                            1e-4);
    /* q = 0.3: the masking of one stream seeded corrupt_seed, in sample order */
    o.corrupt_q = 0.3f;
    m = eval_ok(net, &ds, &o);
    memcpy(masked, x, sizeof x);
    cn_rng rng;
    cn_rng_seed(&rng, 9);
    cn_corrupt_mask(masked, 36, 0.3f, &rng, NULL);
    cn_net_set_train(net, 0);
    want = recon_of(net, masked, x, 6);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "corrupt_recon_mse"), want, 1e-6);
    ck_assert_double_ne(want, cn_metrics_get(&plain, "recon_mse"));
    cn_error err = {0};
    o.corrupt_q = 1.5f;
    ck_assert_int_eq(cn_eval_with(net, &ds, NULL, 0, &o, &m, &err), CN_ERR_USAGE);
    ck_assert_str_eq(err.msg, "corrupt: q = 1.5, expected a probability in [0, 1]");
    cn_net_free(net);
    net = tu_net("[net]\nbatch=4\ninput=1,1,6\n[sigmoid]\n[kl_sparse]\n");
    o.corrupt_q = 0.5f;
    ck_assert_int_eq(cn_eval_with(net, &ds, NULL, 0, &o, &m, &err), CN_ERR_USAGE);
    ck_assert_str_eq(err.msg, "corrupt: test has no reconstruction loss (target=input) to "
                     "score");
    cn_net_free(net);
}
END_TEST

/* --gaussian: sigma 0 is the clean score; sigma 0.3 the reconstruction of
 * the input plus the noise of one stream seeded corrupt_seed, drawn in
 * sample order after the masking stream's own (both options at once). */
START_TEST(test_gaussian)
{
    cn_net *net = tu_net(AE);
    float x[36], noisy[36];
    fill_uniform(x, 36, 6);
    cn_dataset ds = mem_dataset(x, 6, 6);
    cn_eval_opts o = {.gauss = 1, .gauss_sigma = 0.0f, .corrupt_seed = 11};
    cn_metrics m = eval_ok(net, &ds, &o);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "gauss_recon_mse"),
                            cn_metrics_get(&m, "recon_mse"), 1e-12);
    ck_assert(isnan(cn_metrics_get(&m, "corrupt_recon_mse")));
    o.gauss_sigma = 0.3f;
    o.corrupt = 1, o.corrupt_q = 0.5f;
    m = eval_ok(net, &ds, &o);
    memcpy(noisy, x, sizeof x);
    cn_rng rng;
    cn_rng_seed(&rng, 11);
    cn_corrupt_gaussian(noisy, 36, 0.3f, &rng);
    cn_net_set_train(net, 0);
    double want = recon_of(net, noisy, x, 6);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "gauss_recon_mse"), want, 1e-6);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "gauss_recon_rmse"), sqrt(want), 1e-6);
    ck_assert(!isnan(cn_metrics_get(&m, "corrupt_recon_mse")));
    cn_error err = {0};
    o.corrupt = 0, o.gauss_sigma = -1.0f;
    ck_assert_int_eq(cn_eval_with(net, &ds, NULL, 0, &o, &m, &err), CN_ERR_USAGE);
    ck_assert_str_eq(err.msg, "gaussian: sigma = -1, expected a finite number >= 0");
    cn_net_free(net);
    net = tu_net("[net]\nbatch=4\ninput=1,1,6\n[sigmoid]\n[kl_sparse]\n");
    o.gauss_sigma = 0.5f;
    ck_assert_int_eq(cn_eval_with(net, &ds, NULL, 0, &o, &m, &err), CN_ERR_USAGE);
    ck_assert_str_eq(err.msg, "gaussian: test has no reconstruction loss (target=input) to "
                     "score");
    cn_net_free(net);
}
END_TEST

Suite *eval_suite(void)
{
    Suite *s = suite_create("eval");
    TCase *tc = tcase_create("eval");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_probe);
    tcase_add_test(tc, test_sparsity);
    tcase_add_test(tc, test_offers);
    tcase_add_loop_test(tc, test_jacobian, 0, (int)(sizeof jac_acts / sizeof *jac_acts));
    tcase_add_test(tc, test_corrupt);
    tcase_add_test(tc, test_gaussian);
    suite_add_tcase(s, tc);
    return s;
}
