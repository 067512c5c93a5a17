/* check_vae.c - the variational autoencoder: the [sample] layer's modes
 * (z = mu in eval mode, the replayed noise in training, sample_eval and the
 * net's sampling switch) and noise statistics; kl_gauss against the closed
 * form and a Monte-Carlo estimate; on a tiny trained VAE the evaluation's
 * ELBO terms, the importance-weighted bound (K = 1 equals its own ELBO
 * estimate, iw_nll <= iw_neg_elbo, iw_nll below the ELBO, and for a 1-D
 * latent iw_nll close to -ln p(x) integrated by quadrature), repeatable
 * evaluation that leaves the net's RNG alone, and `cnet sample`'s picture
 * (grid size, a traversal tile equal to its decoded z, and the errors).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image.h>

#include "eval/elbo.h"
#include "util.h"

/* mu = the input, logvar = the input too (through [linear]). */
#define SAMPLE_NET(keys) "[net]\nbatch=2\ninput=1,1,3\nseed=4\n[linear]\nname=lv\n" \
                         "[sample]\nfrom=input,lv\n" keys

START_TEST(test_sample_modes)
{
    cn_net *net = tu_net(SAMPLE_NET(""));
    const float x[6] = {0.5f, -1.0f, 2.0f, 0.0f, 1.5f, -0.3f};
    const cn_layer *z = cn_net_output(net);
    cn_net_set_batch(net, x, NULL, 2);
    cn_net_set_train(net, 0);
    cn_net_forward(net);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(z->out.data[i], x[i]); /* eval: the posterior mean */
    cn_net_set_train(net, 1);
    cn_rng copy = *cn_net_rng(net);
    cn_net_forward(net);
    for (int i = 0; i < 6; i++) {
        float eps = cn_rng_normal(&copy);
        ck_assert_float_eq_tol(z->out.data[i], x[i] + expf(0.5f * x[i]) * eps, 1e-6f);
    }
    /* the net's switch draws in eval mode too */
    cn_net_set_train(net, 0);
    cn_net_set_sample(net, 1);
    copy = *cn_net_rng(net);
    cn_net_forward(net);
    float eps0 = cn_rng_normal(&copy);
    ck_assert_float_eq_tol(z->out.data[0], x[0] + expf(0.5f * x[0]) * eps0, 1e-6f);
    cn_net_free(net);
    /* and so does sample_eval=1 */
    net = tu_net(SAMPLE_NET("sample_eval=1\n"));
    cn_net_set_batch(net, x, NULL, 2);
    cn_net_set_train(net, 0);
    copy = *cn_net_rng(net);
    cn_net_forward(net);
    eps0 = cn_rng_normal(&copy);
    ck_assert_float_eq_tol(cn_net_output(net)->out.data[0], x[0] + expf(0.5f * x[0]) * eps0,
                           1e-6f);
    cn_net_free(net);
}
END_TEST

/* z = ln 4 + 2 eps over 4000 draws: mean ln 4 and standard deviation 2. */
START_TEST(test_sample_statistics)
{
    enum { N = 4000 };
    cn_net *net = tu_net("[net]\nbatch=1\ninput=1,1,4000\n[linear]\nname=lv\n"
                         "[sample]\nfrom=input,lv\n");
    float *x = malloc(N * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (int i = 0; i < N; i++) /* mu = lv = ln 4: sigma = 2 */
        x[i] = (float)log(4.0);
    cn_net_set_batch(net, x, NULL, 1);
    cn_net_set_train(net, 1);
    cn_net_forward(net);
    const float *z = cn_net_output(net)->out.data;
    double mean = 0.0, sq = 0.0;
    for (int i = 0; i < N; i++)
        mean += z[i] / N;
    for (int i = 0; i < N; i++)
        sq += (z[i] - mean) * (z[i] - mean) / (N - 1);
    ck_assert_msg(fabs(mean - log(4.0)) < 0.1 && fabs(sqrt(sq) - 2.0) < 0.1,
                  "mean %g (want %g), sd %g (want 2)", mean, log(4.0), sqrt(sq));
    free(x);
    cn_net_free(net);
}
END_TEST

/* KL against 1/2 sum (sigma^2 + mu^2 - 1 - ln sigma^2), and against a
 * Monte-Carlo mean of ln q(z|x) - ln p(z) (cn_elbo_log_ratio). */
START_TEST(test_kl_gauss_values)
{
    cn_net *net = tu_net("[net]\nbatch=2\ninput=1,1,2\n[linear]\nname=mu\n[linear]\nname=lv\n"
                         "from=input\n[sample]\nfrom=mu,lv\n[kl_gauss]\n");
    cn_loss *kl = cn_net_loss(net, 0);
    const float x[4] = {0.5f, -1.0f, 0.0f, 0.0f};
    cn_net_set_batch(net, x, NULL, 2);
    cn_net_forward(net);
    cn_net_loss_forward(net);
    /* sample 0: mu = lv = (0.5, -1); sample 1: the prior itself, KL 0 */
    double want = 0.5 * (exp(0.5) + 0.25 - 1 - 0.5) + 0.5 * (exp(-1.0) + 1 - 1 + 1);
    ck_assert_double_eq_tol(kl->value, want / 2, 1e-6);
    cn_net_free(net);

    net = tu_net("[net]\nbatch=1\ninput=1,1,2\n[dense]\nname=mu\noutput=2\n[dense]\nname=lv\n"
                 "from=input\noutput=2\n[sample]\nfrom=mu,lv\n[kl_gauss]\n");
    cn_elbo e;
    cn_error err = {0};
    ck_assert_int_eq(cn_elbo_open(net, 0, &e, &err), CN_OK);
    ck_assert_int_eq(e.n_kl, 1);
    const float x1[2] = {0.3f, 0.9f};
    cn_net_set_batch(net, x1, NULL, 1);
    cn_net_set_train(net, 1);
    double mc = 0.0;
    enum { DRAWS = 20000 };
    for (int k = 0; k < DRAWS; k++) {
        cn_net_forward(net);
        mc -= cn_elbo_log_ratio(&e, 0) / DRAWS;
    }
    cn_net_loss_forward(net);
    ck_assert_msg(fabs(mc - cn_net_loss(net, 0)->value) < 0.03 + 0.03 * fabs(mc),
                  "Monte-Carlo KL %g, closed form %g", mc, cn_net_loss(net, 0)->value);
    cn_elbo_close(&e);
    cn_net_free(net);
}
END_TEST

/* ---- a tiny trained VAE on 4x4 bars ---- */

typedef struct vae {
    cn_cfg *cfg;
    cn_net *net;
    cn_data *data;
} vae;

static const char *bars(void)
{
    static char dir[256];
    if (!*dir)
        snprintf(dir, sizeof dir, "%s", tu_idx_dataset(512, 64, 4, 4, 4, 9));
    return dir;
}

static void vae_open(vae *v, int latent, int epochs, const char *extra)
{
    char text[1400];
    snprintf(text, sizeof text,
             "[net]\nbatch=32\ninput=1,4,4\nseed=3\nepochs=%d\n[data]\ndir=%s\n"
             "[optim]\ntype=adam\nlr=0.01\n[dense]\nname=h\noutput=16\nactivation=relu\n"
             "[dense]\nname=mu\noutput=%d\n[dense]\nname=lv\nfrom=h\noutput=%d\n"
             "[sample]\nname=z\nfrom=mu,lv\n[kl_gauss]\n%s[dense]\noutput=16\nactivation=relu\n"
             "[dense]\nname=xhat\noutput=16\nactivation=sigmoid\n[bce]\ntarget=input\n"
             "reduce=sum\n", epochs, bars(), latent, latent, extra);
    cn_error err = {0};
    *v = (vae){0};
    ck_assert_msg(cn_cfg_parse_string("vae.cfg", text, &v->cfg, &err) == CN_OK &&
                      cn_net_create(v->cfg, &v->net, &err) == CN_OK &&
                      cn_data_open(v->cfg, cn_net_seed(v->net), &v->data, &err) == CN_OK,
                  "%s", err.msg);
    cn_train_opts o = cn_train_defaults();
    o.run_dir = tu_tmpdir();
    ck_assert_msg(cn_train(v->net, v->data, &o, &err) == CN_OK, "%s", err.msg);
}

static void vae_close(vae *v)
{
    cn_data_close(v->data);
    cn_net_free(v->net);
    cn_cfg_free(v->cfg);
}

static cn_metrics eval_iw(vae *v, int n, int k)
{
    cn_metrics m;
    cn_error err = {0};
    cn_eval_opts o = {.iw = k};
    int *idx = malloc((size_t)n * sizeof *idx);
    ck_assert_ptr_nonnull(idx);
    for (int i = 0; i < n; i++)
        idx[i] = i;
    ck_assert_msg(cn_eval_with(v->net, v->data->test, idx, n, &o, &m, &err) == CN_OK, "%s",
                  err.msg);
    free(idx);
    return m;
}

START_TEST(test_iw_bounds)
{
    vae v;
    vae_open(&v, 2, 30, "");
    cn_rng before = *cn_net_rng(v.net);
    cn_metrics m1 = eval_iw(&v, 64, 1), m = eval_iw(&v, 64, 50), again = eval_iw(&v, 64, 50);
    ck_assert(!memcmp(&before, cn_net_rng(v.net), sizeof before)); /* the RNG is restored */
    ck_assert_double_eq(cn_metrics_get(&m, "iw_nll"), cn_metrics_get(&again, "iw_nll"));
    double elbo = cn_metrics_get(&m, "neg_elbo"), nll = cn_metrics_get(&m, "iw_nll");
    /* the terms add up, and the loss is the negative ELBO (weights 1) */
    ck_assert_double_eq_tol(elbo, cn_metrics_get(&m, "neg_elbo_recon") +
                                      cn_metrics_get(&m, "neg_elbo_kl"), 1e-9);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "loss"), elbo, 1e-6 * elbo);
    /* one draw: the IW estimate is its own ELBO estimate */
    ck_assert_double_eq_tol(cn_metrics_get(&m1, "iw_nll"), cn_metrics_get(&m1, "iw_neg_elbo"),
                            1e-9);
    ck_assert_double_eq(cn_metrics_get(&m, "iw_k"), 50.0);
    ck_assert_msg(nll < cn_metrics_get(&m, "iw_neg_elbo"), "iw_nll %g, iw_neg_elbo %g", nll,
                  cn_metrics_get(&m, "iw_neg_elbo"));
    ck_assert_msg(nll < elbo, "iw_nll %g not below neg_elbo %g", nll, elbo);
    /* 50 draws of -ln w average to the same ELBO as the closed-form KL */
    ck_assert_msg(fabs(cn_metrics_get(&m, "iw_neg_elbo") - elbo) < 0.02 * elbo,
                  "iw_neg_elbo %g, neg_elbo %g", cn_metrics_get(&m, "iw_neg_elbo"), elbo);
    vae_close(&v);
}
END_TEST

/* With one latent dimension -ln p(x) = -ln integral p(x|z) N(z; 0, 1) dz is a
 * quadrature over z in [-10, 10]; the IW estimate with K = 2000 matches it. */
START_TEST(test_iw_quadrature)
{
    enum { S = 16, G = 2001 };
    vae v;
    vae_open(&v, 1, 30, "");
    cn_net *net = v.net;
    cn_layer *z = cn_net_find_layer(net, "z");
    const cn_loss *rec = cn_net_loss(net, 1);
    float x[S * 16];
    for (int s = 0; s < S; s++)
        cn_dataset_sample(v.data->test, s, x + s * 16);
    double top[S], sum[S] = {0};
    cn_net_set_train(net, 0);
    cn_net_set_batch(net, x, NULL, S);
    cn_ctx ctx = {.n = S};
    for (int g = 0; g < G; g++) {
        double zg = -10.0 + 20.0 * g / (G - 1), h = 20.0 / (G - 1);
        for (int s = 0; s < S; s++)
            z->out.data[s] = (float)zg;
        cn_net_forward_from(net, z->index + 1);
        for (int s = 0; s < S; s++) {
            double lp = -rec->ops->nll(rec, &ctx, s) - 0.5 * zg * zg - 0.5 * log(2 * M_PI) +
                        log(h);
            if (g == 0 || lp > top[s]) {
                sum[s] = g ? sum[s] * exp(top[s] - lp) + 1.0 : 1.0;
                top[s] = lp;
            } else {
                sum[s] += exp(lp - top[s]);
            }
        }
    }
    double want = 0.0;
    for (int s = 0; s < S; s++)
        want -= (top[s] + log(sum[s])) / S;
    cn_metrics m = eval_iw(&v, S, 2000);
    double got = cn_metrics_get(&m, "iw_nll");
    ck_assert_msg(fabs(got - want) < 0.02 + 0.002 * fabs(want),
                  "iw_nll %g, quadrature -ln p(x) %g (neg_elbo %g)", got, want,
                  cn_metrics_get(&m, "neg_elbo"));
    vae_close(&v);
}
END_TEST

START_TEST(test_iw_usage)
{
    cn_net *net = tu_net("[net]\nbatch=2\ninput=1,1,4\n[dense]\noutput=4\nactivation=sigmoid\n"
                         "[bce]\n");
    cn_elbo e;
    cn_error err = {0};
    ck_assert_int_eq(cn_elbo_open(net, 5, &e, &err), CN_ERR_USAGE);
    ck_assert_msg(strstr(err.msg, "--iw: test has no kl_gauss loss"), "%s", err.msg);
    cn_elbo_close(&e);
    cn_net_free(net);
}
END_TEST

/* ---- cnet sample ---- */

static unsigned char *load_png(const char *path, int w, int h)
{
    int gw = 0, gh = 0, comp = 0;
    unsigned char *px = stbi_load(path, &gw, &gh, &comp, 3);
    ck_assert_msg(px != NULL, "%s: %s", path, stbi_failure_reason());
    ck_assert_msg(gw == w && gh == h, "%s is %dx%d, expected %dx%d", path, gw, gh, w, h);
    return px;
}

/* A 2-D latent: a 4 x 4 traversal (n = 10 rounds up to a square); the tile
 * in row 1, column 2 is the decoder's output at z = (-3 + 2 * 2, 3 - 2 * 1). */
START_TEST(test_sample_traversal)
{
    vae v;
    vae_open(&v, 2, 10, "");
    const char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/traversal.png", dir);
    cn_error err = {0};
    ck_assert_msg(cn_vis_samples(v.net, 10, 1, path, &err) == CN_OK, "%s", err.msg);
    /* 4x4 tiles scaled 4 times to 16 px, 1-px separators */
    unsigned char *px = load_png(path, 4 * 16 + 3, 4 * 16 + 3);
    cn_layer *z = cn_net_find_layer(v.net, "z");
    float x0[16] = {0};
    cn_net_set_batch(v.net, x0, NULL, 1);
    z->out.data[0] = 1.0f, z->out.data[1] = 1.0f;
    cn_net_forward_from(v.net, z->index + 1);
    const float *img = cn_net_output(v.net)->out.data;
    for (int p = 0; p < 16; p++) {
        int x = 2 * 17 + (p % 4) * 4 + 1, y = 1 * 17 + (p / 4) * 4 + 2;
        int want = (int)lrintf(img[p] * 255.0f);
        ck_assert_msg(abs(px[3 * (y * 67 + x)] - want) <= 1, "pixel %d: %d, want %d", p,
                      px[3 * (y * 67 + x)], want);
    }
    stbi_image_free(px);
    vae_close(&v);
}
END_TEST

/* Random draws for a 3-D latent: n = 10 tiles, 4 to a row; the same seed
 * gives the same picture. */
START_TEST(test_sample_grid)
{
    vae v;
    vae_open(&v, 3, 5, "");
    const char *dir = tu_tmpdir();
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/a.png", dir);
    snprintf(b, sizeof b, "%s/b.png", dir);
    cn_error err = {0};
    ck_assert_msg(cn_vis_samples(v.net, 10, 7, a, &err) == CN_OK &&
                      cn_vis_samples(v.net, 10, 7, b, &err) == CN_OK, "%s", err.msg);
    unsigned char *pa = load_png(a, 67, 3 * 16 + 2), *pb = load_png(b, 67, 50);
    ck_assert(!memcmp(pa, pb, (size_t)67 * 50 * 3));
    /* two tiles differ: the codes were drawn, not fixed */
    int differ = 0;
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++)
            differ |= pa[3 * (y * 67 + x)] != pa[3 * (y * 67 + 17 + x)];
    ck_assert(differ);
    stbi_image_free(pa);
    stbi_image_free(pb);
    vae_close(&v);
}
END_TEST

START_TEST(test_sample_errors)
{
    cn_error err = {0};
    cn_net *net = tu_net("[net]\nbatch=2\ninput=1,1,4\n[dense]\noutput=4\nactivation=sigmoid\n"
                         "[bce]\n");
    ck_assert_int_eq(cn_vis_samples(net, 4, 1, "/tmp/x.png", &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "test: no kl_gauss loss, so there is no latent prior to sample");
    cn_net_free(net);
    /* a decoder that also reads the encoder cannot be fed z alone */
    net = tu_net("[net]\nbatch=2\ninput=1,1,4\n[dense]\nname=h\noutput=3\n[dense]\nname=mu\n"
                 "output=2\n[dense]\nname=lv\nfrom=h\noutput=2\n[sample]\nname=z\n"
                 "from=mu,lv\n[kl_gauss]\n[route]\nfrom=z,h\n[dense]\nname=xhat\noutput=4\n"
                 "activation=sigmoid\n[bce]\ntarget=input\n");
    ck_assert_int_eq(cn_vis_samples(net, 4, 1, "/tmp/x.png", &err), CN_ERR_SHAPE);
    ck_assert_str_eq(err.msg, "test: the output 'xhat' depends on layer 'h', which comes before "
                              "the latent layer 'z', so it cannot be decoded from z alone");
    cn_net_free(net);
}
END_TEST

Suite *vae_suite(void)
{
    Suite *s = suite_create("vae");
    TCase *tc = tcase_create("sample");
    tcase_add_test(tc, test_sample_modes);
    tcase_add_test(tc, test_sample_statistics);
    tcase_add_test(tc, test_kl_gauss_values);
    tcase_add_test(tc, test_iw_usage);
    tcase_add_test(tc, test_sample_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("trained");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_iw_bounds);
    tcase_add_test(tc, test_iw_quadrature);
    tcase_add_test(tc, test_sample_traversal);
    tcase_add_test(tc, test_sample_grid);
    suite_add_tcase(s, tc);
    return s;
}
