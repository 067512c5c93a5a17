/* check_pca.c - the rate measurements of src/eval: PCA (pca.c) on data
 * whose components are known by hand (points on a rotated plane in 3-D and
 * on a line in 5-D: the eigenvalues, exact reconstruction at K = rank, the
 * error of one component less, the bits and error of a quantized code),
 * the quantizer (codestat.c: levels, rounding, bits), --quantize through
 * cn_eval_with (Q = 2 gives the bits of --sparsity, many levels the clean
 * error, and its errors), the points script of `cnet plot`, and
 * scripts/rate_curve.sh end to end on generated images.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnet/cnet.h"
#include "eval/codestat.h"
#include "eval/pca.h"
#include "util.h"

/* A rotation of 3-D space: about z by 30 degrees, then about x by 45. */
static void rotate(const float in[3], float out[3])
{
    double c1 = cos(M_PI / 6), s1 = sin(M_PI / 6), c2 = cos(M_PI / 4), s2 = sin(M_PI / 4);
    double a = c1 * in[0] - s1 * in[1], b = s1 * in[0] + c1 * in[1], z = in[2];
    out[0] = (float)a;
    out[1] = (float)(c2 * b - s2 * z);
    out[2] = (float)(s2 * b + c2 * z);
}

/* Four points (+-2, 0, 0), (0, +-1, 0), rotated and moved to mean (1, 2, 3):
 * covariance eigenvalues 2 (8 / 4), 0.5 (2 / 4) and 0. */
static void plane(float x[12])
{
    static const float p[4][3] = {{2, 0, 0}, {-2, 0, 0}, {0, 1, 0}, {0, -1, 0}};
    for (int s = 0; s < 4; s++) {
        rotate(p[s], x + 3 * s);
        for (int j = 0; j < 3; j++)
            x[3 * s + j] += (float)(j + 1);
    }
}

/* Four points (3, 0, 0), (-1, 1, 0), (-1, -0.25, 0), (-1, -0.75, 0), placed
 * as plane()'s: uncorrelated coordinates of variance 3 and 0.40625, and no
 * code halfway between two levels at Q = 2. */
static void skew(float x[12])
{
    static const float p[4][3] = {{3, 0, 0}, {-1, 1, 0}, {-1, -0.25f, 0}, {-1, -0.75f, 0}};
    for (int s = 0; s < 4; s++) {
        rotate(p[s], x + 3 * s);
        for (int j = 0; j < 3; j++)
            x[3 * s + j] += (float)(j + 1);
    }
}

static cn_pca fit_ok(const float *x, int n, int d, int k)
{
    cn_pca p;
    cn_error err = {0};
    ck_assert_msg(cn_pca_fit(x, n, d, k, &p, &err) == CN_OK, "%s", err.msg);
    return p;
}

/* Mean squared error per value of x (n, d) through k components of p. */
static double recon_mse(const cn_pca *p, const float *x, int n)
{
    float code[64], out[64];
    cn_pca_encode(p, x, n, code);
    cn_pca_decode(p, code, n, out);
    double se = 0;
    for (int i = 0; i < n * p->d; i++)
        se += ((double)out[i] - x[i]) * ((double)out[i] - x[i]);
    return se / (n * p->d);
}

START_TEST(test_pca_plane)
{
    float x[12], u[3];
    plane(x);
    cn_pca p = fit_ok(x, 4, 3, 2);
    ck_assert_double_eq_tol(p.eig[0], 2.0, 1e-5);
    ck_assert_double_eq_tol(p.eig[1], 0.5, 1e-5);
    ck_assert_double_eq_tol(p.total_var, 2.5, 1e-5);
    for (int j = 0; j < 3; j++)
        ck_assert_double_eq_tol(p.mean[j], j + 1, 1e-6);
    /* the first direction is the rotated x axis, its largest value positive */
    rotate((const float[3]){1, 0, 0}, u);
    double dot = 0;
    for (int j = 0; j < 3; j++)
        dot += (double)u[j] * p.v[j];
    ck_assert_double_eq_tol(fabs(dot), 1.0, 1e-5);
    int big = 0;
    for (int j = 1; j < 3; j++)
        big = fabsf(p.v[j]) > fabsf(p.v[big]) ? j : big;
    ck_assert(p.v[big] > 0);
    /* K = 2 is the rank: exact; K = 1 loses the 0.5 of the second, over 3 values */
    ck_assert_double_lt(recon_mse(&p, x, 4), 1e-10);
    cn_pca_free(&p);
    p = fit_ok(x, 4, 3, 1);
    ck_assert_double_eq_tol(recon_mse(&p, x, 4), 0.5 / 3, 1e-6);
    cn_pca_free(&p);
    cn_pca_free(&p); /* emptied: a second free is safe */
}
END_TEST

/* x_s = m + t_s u in 5-D, t = -2..2: one eigenvalue var(t) = 2, the rest 0. */
START_TEST(test_pca_line)
{
    const float u[5] = {0.1f, -0.3f, 0.5f, 0.7f, -0.1f}, m[5] = {1, 0, -1, 0.5f, 2};
    float x[25];
    double norm = 0;
    for (int j = 0; j < 5; j++)
        norm += (double)u[j] * u[j];
    for (int s = 0; s < 5; s++)
        for (int j = 0; j < 5; j++)
            x[5 * s + j] = m[j] + (float)((s - 2) * u[j] / sqrt(norm));
    cn_pca p = fit_ok(x, 5, 5, 3);
    ck_assert_double_eq_tol(p.eig[0], 2.0, 1e-5);
    ck_assert_double_eq_tol(p.eig[1], 0.0, 1e-5);
    ck_assert_double_lt(recon_mse(&p, x, 5), 1e-10);
    cn_pca_free(&p);
    p = fit_ok(x, 5, 5, 1);
    ck_assert_double_lt(recon_mse(&p, x, 5), 1e-10);
    cn_pca_free(&p);
    cn_error err = {0};
    ck_assert_int_eq(cn_pca_fit(x, 5, 5, 6, &p, &err), CN_ERR_USAGE);
    ck_assert_str_eq(err.msg, "pca: K = 6 components, but a sample has 5 values: K must be "
                     "from 1 to 5");
    ck_assert_int_eq(cn_pca_fit(x, 5, 5, 0, &p, &err), CN_ERR_USAGE);
    ck_assert_int_eq(cn_pca_fit(x, 0, 5, 1, &p, &err), CN_ERR_USAGE);
    ck_assert_str_eq(err.msg, "pca: no samples to fit");
}
END_TEST

/* cn_pca_eval on the plane: codes (+-2, 0) and (0, +-1) up to sign. Q = 3
 * levels on [-2, 2] and [-1, 1] hold them exactly, 1.5 bits each unit
 * (probabilities 1/4, 1/2, 1/4). On the skewed points Q = 2 holds unit 1's
 * codes {3, -1, -1, -1} exactly and puts unit 2's {0, 1, -0.25, -0.75} at
 * {-0.75, 1, -0.75, -0.75} (H(1/4) bits each unit): squared errors 0.5625
 * and 0.25 over 12 values. */
START_TEST(test_pca_eval)
{
    float x[12];
    plane(x);
    cn_metrics m;
    cn_error err = {0};
    ck_assert_msg(cn_pca_eval(x, 4, x, 4, 3, 2, 3, &m, &err) == CN_OK, "%s", err.msg);
    ck_assert_double_eq(cn_metrics_get(&m, "pca_k"), 2);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "explained_variance"), 1.0, 1e-6);
    ck_assert_double_lt(cn_metrics_get(&m, "recon_mse"), 1e-10);
    ck_assert_double_lt(cn_metrics_get(&m, "pca_quant_recon_mse"), 1e-10);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "pca_quant_bits"), 3.0, 1e-9);
    ck_assert_msg(cn_pca_eval(x, 4, x, 4, 3, 1, 0, &m, &err) == CN_OK, "%s", err.msg);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "explained_variance"), 0.8, 1e-6);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "recon_mse"), 0.5 / 3, 1e-6);
    ck_assert(isnan(cn_metrics_get(&m, "pca_quant_bits")));
    skew(x);
    ck_assert_msg(cn_pca_eval(x, 4, x, 4, 3, 2, 2, &m, &err) == CN_OK, "%s", err.msg);
    double h = -(0.25 * log2(0.25) + 0.75 * log2(0.75));
    ck_assert_double_eq_tol(cn_metrics_get(&m, "pca_quant_bits"), 2 * h, 1e-9);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "pca_quant_recon_mse"), 0.8125 / 12, 1e-6);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "pca_quant_recon_rmse"), sqrt(0.8125 / 12),
                            1e-6);
    ck_assert_int_eq(cn_pca_eval(x, 4, x, 0, 3, 2, 2, &m, &err), CN_ERR_USAGE);
    ck_assert_str_eq(err.msg, "pca: no samples to measure");
}
END_TEST

/* Levels, rounding (halfway down, beyond the range to the ends) and bits. */
START_TEST(test_quantizer)
{
    cn_quant qz;
    cn_error err = {0};
    ck_assert_int_eq(cn_quant_init(&qz, 2, 5, NULL, NULL, &err), CN_OK);
    float h[6] = {0.3f, 0.125f, -1.0f, 0.9f, 0.5f, 2.0f}; /* 3 codes of 2 units */
    cn_quant_add(&qz, h, 3);
    const float want[6] = {0.25f, 0.0f, 0.0f, 1.0f, 0.5f, 1.0f};
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(h[i], want[i]);
    /* unit 0 at levels 1, 0, 2; unit 1 at 0, 4, 4 */
    double b0 = log2(3.0), b1 = -(log2(1.0 / 3) / 3 + 2 * log2(2.0 / 3) / 3);
    ck_assert_double_eq_tol(cn_quant_bits(&qz), b0 + b1, 1e-12);
    cn_quant_free(&qz);
    const float lo[1] = {-3}, hi[1] = {3};
    ck_assert_int_eq(cn_quant_init(&qz, 1, 2, lo, hi, &err), CN_OK);
    float g[3] = {0.0f, 0.1f, -2.0f};
    cn_quant_add(&qz, g, 3);
    ck_assert_float_eq(g[0], -3.0f);
    ck_assert_float_eq(g[1], 3.0f);
    ck_assert_float_eq(g[2], -3.0f);
    cn_quant_free(&qz);
    ck_assert_int_eq(cn_quant_init(&qz, 1, 1, NULL, NULL, &err), CN_ERR_USAGE);
    ck_assert_str_eq(err.msg, "quantize: 1 levels, expected 2 to 65536");
}
END_TEST

#define AE "[net]\nbatch=4\ninput=1,1,6\nseed=3\n[dense]\nname=code\noutput=5\n" \
           "activation=sigmoid\n[dense]\noutput=6\nactivation=sigmoid\n[mse]\ntarget=input\n"

/* --quantize through cn_eval_with on an untrained AE over 10 samples. */
START_TEST(test_quantize_eval)
{
    cn_net *net = tu_net(AE);
    float x[60];
    cn_rng rng;
    cn_rng_seed(&rng, 4);
    for (int i = 0; i < 60; i++)
        x[i] = cn_rng_uniform(&rng);
    cn_dataset ds = {.n = 10, .c = 6, .h = 1, .w = 1, .f32 = x, .scale = 1};
    cn_eval_opts o = {.sparsity = "code", .quantize = 2};
    cn_metrics m;
    cn_error err = {0};
    ck_assert_msg(cn_eval_with(net, &ds, NULL, 0, &o, &m, &err) == CN_OK, "%s", err.msg);
    /* two levels on [0, 1]: the binarised code's bits of --sparsity */
    ck_assert_double_eq_tol(cn_metrics_get(&m, "code_quant_bits"),
                            cn_metrics_get(&m, "code_bits"), 1e-12);
    /* the same by hand: each sample's code set to 0 or 1, then the decoder */
    double se = 0;
    cn_net_set_train(net, 0);
    for (int s = 0; s < 10; s++) {
        cn_net_set_batch(net, x + 6 * s, NULL, 1);
        cn_net_forward(net);
        float *h = cn_net_find_layer(net, "code")->out.data;
        for (int l = 0; l < 5; l++)
            h[l] = h[l] > 0.5f ? 1.0f : 0.0f;
        cn_net_forward_from(net, 2);
        const float *y = cn_net_output(net)->out.data;
        for (int j = 0; j < 6; j++)
            se += ((double)y[j] - x[6 * s + j]) * ((double)y[j] - x[6 * s + j]);
    }
    double q2 = cn_metrics_get(&m, "code_quant_recon_mse");
    ck_assert_double_eq_tol(q2, se / 60, 1e-7);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "code_quant_recon_rmse"), sqrt(q2), 1e-12);
    /* 65536 levels: the clean reconstruction, to the levels' precision */
    o.quantize = 65536;
    ck_assert_msg(cn_eval_with(net, &ds, NULL, 0, &o, &m, &err) == CN_OK, "%s", err.msg);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "code_quant_recon_mse"),
                            cn_metrics_get(&m, "recon_mse"), 1e-7);
    ck_assert_double_gt(cn_metrics_get(&m, "code_quant_bits"), 5.0);
    o.sparsity = NULL;
    ck_assert_int_eq(cn_eval_with(net, &ds, NULL, 0, &o, &m, &err), CN_ERR_USAGE);
    ck_assert_str_eq(err.msg, "quantize: no code layer named to quantize (the layer of "
                     "--sparsity)");
    o.sparsity = "dense2";
    ck_assert_int_eq(cn_eval_with(net, &ds, NULL, 0, &o, &m, &err), CN_ERR_USAGE);
    ck_assert_str_eq(err.msg, "quantize: test has no reconstruction loss (target=input) after "
                     "layer 'dense2' to decode its code");
    cn_net_free(net);
}
END_TEST

/* The script of `cnet plot`: series in first-seen order, points by x, a
 * log2 x axis over a decade; and `cnet plot` draws the PNG. */
START_TEST(test_points_script)
{
    const char *dir = tu_tmpdir();
    const char *csv = tu_write(dir, "p.csv", "model,bits per code,rmse\nB it's,40,0.2\n"
                               "A,10,0.3\n\nB it's,4,0.5\nA,1,0.4\n");
    char gp[600], text[4096] = "", cmd[1400], out[2048];
    cn_error err = {0};
    snprintf(gp, sizeof gp, "%s/p.gp", dir);
    ck_assert_msg(cn_vis_points_script(csv, gp, "p.png", &err) == CN_OK, "%s", err.msg);
    FILE *f = fopen(gp, "r");
    ck_assert_ptr_nonnull(f);
    text[fread(text, 1, sizeof text - 1, f)] = 0;
    fclose(f);
    ck_assert_msg(strstr(text, "$s0 << EOD\n4 0.5\n40 0.2\nEOD\n$s1 << EOD\n1 0.4\n10 0.3\nEOD"),
                  "%s", text);
    ck_assert_msg(strstr(text, "plot $s0 using 1:2 with linespoints title 'B it''s', $s1 using "
                         "1:2 with linespoints title 'A'\n"), "%s", text);
    ck_assert_msg(strstr(text, "set xlabel 'bits per code'\nset ylabel 'rmse'\nset logscale x 2"
                         "\n$s0"), "%s", text); /* y spans less than a decade */
    snprintf(cmd, sizeof cmd, "./cnet plot %s --out %s/pics/p.png", csv, dir);
    int rc = tu_run(cmd, out, sizeof out);
    if (strstr(out, "gnuplot is not installed"))
        return;
    ck_assert_msg(rc == 0, "%s: %s", cmd, out);
    snprintf(gp, sizeof gp, "%s/pics/p.png", dir);
    f = fopen(gp, "rb");
    ck_assert_msg(f != NULL, "%s missing after: %s", gp, out);
    unsigned char sig[8] = {0};
    ck_assert_uint_eq(fread(sig, 1, 8, f), 8);
    fclose(f);
    ck_assert(!memcmp(sig, "\x89PNG\r\n\x1a\n", 8));
}
END_TEST

/* scripts/rate_curve.sh end to end, one epoch each on 256 generated 28x28
 * images: 45 points (3 models x 3 sizes x 5 levels) of finite, positive
 * bits and RMSE, whose bits grow with the levels within each series. */
START_TEST(test_rate_script)
{
    const char *data = tu_idx_dataset(256, 64, 28, 28, 10, 17), *dir = tu_tmpdir();
    char cmd[1400], out[8192], line[256], last[256] = "";
    snprintf(cmd, sizeof cmd, "DATA=%s EPOCHS=1 scripts/rate_curve.sh %s/rc < /dev/null", data,
             dir);
    int rc = tu_run(cmd, out, sizeof out);
    ck_assert_msg(rc == 0 || strstr(out, "gnuplot is not installed"), "%s: %s", cmd, out);
    FILE *f = fopen(tu_path(dir, "rc/points.csv"), "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "model,bits per code,test RMSE\n");
    int n = 0;
    double prev = 0;
    while (fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        ck_assert_msg(c2 != NULL, "line %d: %s", n + 2, line);
        double bits = strtod(c1 + 1, NULL), rmse = strtod(c2 + 1, NULL);
        ck_assert_msg(isfinite(bits) && bits >= 0 && isfinite(rmse) && rmse > 0, "%s", line);
        *c1 = 0;
        if (!strcmp(line, last))
            ck_assert_msg(bits >= prev, "%s: bits %g after %g", line, bits, prev);
        snprintf(last, sizeof last, "%s", line);
        prev = bits;
        n++;
    }
    fclose(f);
    ck_assert_int_eq(n, 45);
    ck_assert_str_eq(last, "PCA K=200");
}
END_TEST

Suite *pca_suite(void)
{
    Suite *s = suite_create("pca");
    TCase *tc = tcase_create("pca");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_pca_plane);
    tcase_add_test(tc, test_pca_line);
    tcase_add_test(tc, test_pca_eval);
    tcase_add_test(tc, test_quantizer);
    tcase_add_test(tc, test_quantize_eval);
    tcase_add_test(tc, test_points_script);
    tcase_add_test(tc, test_rate_script);
    suite_add_tcase(s, tc);
    return s;
}
