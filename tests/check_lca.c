/* check_lca.c - LCA sparse coding ([lca], Rozell et al. 2008), its
 * dictionary of unit-norm atoms ([dict]) and the normalising layer
 * ([l2norm]): the codes after a few steps against a hand computation on a
 * 2-atom dictionary (soft and hard thresholds, the batch's samples
 * independent), the same through [dict] with rescaled atoms, against an
 * independent loop of Rozell's update with an explicit Gram matrix, exact
 * zeros at and below lambda, inference in evaluation mode, an extra loss on
 * the codes entering the dynamics (eq. 17 of Paiton & Lundquist), a
 * finite-difference check of everything after the codes once they are
 * inferred, l2norm's values, and a tiny LCA + entropy net training with a
 * falling reconstruction.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnet/cnet.h"
#include "util.h"

/* A 2-pixel input coded by 2 atoms; the decoder's W is the dictionary.
 * %s = threshold, %s = lambda, %d = steps, %s = the decoder's type. */
#define LCA_NET                                                                                \
    "[net]\nbatch=2\ninput=1,1,2\nseed=1\n"                                                    \
    "[lca]\nname=a\nsize=2\nthreshold=%s\nlambda=%s\ntau=2\nsteps=%d\n"                        \
    "[%s]\nname=dec\noutput=2\nbias=0\n"                                                       \
    "[mse]\nname=recon\ntarget=input\nreduce=sum\nweight=0.5\n"

/* Phi = [[1, 0.6], [0, 0.8]] (unit-norm columns), so b = Phi^T x and
 * G - I = [[0, 0.6], [0.6, 0]]; the second sample is the first negated. */
static const float PHI[4] = {1.0f, 0.6f, 0.0f, 0.8f};
static const float X[4] = {1.0f, 0.2f, -1.0f, -0.2f};

static cn_net *lca_net(const char *thr, const char *lambda, int steps)
{
    char text[1024];
    snprintf(text, sizeof text, LCA_NET, thr, lambda, steps, "dense");
    cn_net *net = tu_net(text);
    cn_param *W = cn_layer_param(cn_net_find_layer(net, "dec"), "W");
    ck_assert_uint_eq(W->count, 4);
    memcpy(W->value, PHI, sizeof PHI);
    cn_net_set_batch(net, X, NULL, 2);
    return net;
}

/* Infer, then check u and a = out against want_u, want_a (sample 0; sample 1
 * must be its negation). */
static void infer_and_check(cn_net *net, const double *want_u, const double *want_a)
{
    cn_error err = {0};
    ck_assert_msg(cn_net_infer(net, &err) == CN_OK, "%s", err.msg);
    cn_net_forward(net);
    cn_layer *l = cn_net_find_layer(net, "a");
    const float *u = cn_layer_param(l, "u")->value, *a = l->out.data;
    for (int m = 0; m < 2; m++) {
        ck_assert_msg(fabs(u[m] - want_u[m]) < 1e-5, "u[%d] = %.7g, want %.7g", m, u[m],
                      want_u[m]);
        ck_assert_msg(fabs(a[m] - want_a[m]) < 1e-5, "a[%d] = %.7g, want %.7g", m, a[m],
                      want_a[m]);
        ck_assert_float_eq(u[2 + m], -u[m]);
        ck_assert_float_eq(a[2 + m], -a[m]);
    }
}

/* Three steps by hand, tau = 2, u0 = 0, b = (1, 0.76):
 * soft, lambda 0.25:
 *   u1 = u0 + (b - u0 - (G-I) a0) / 2 = (0.5, 0.38),       a1 = (0.25, 0.13)
 *   (G-I) a1 = (0.078, 0.15):  u2 = (0.711, 0.495),          a2 = (0.461, 0.245)
 *   (G-I) a2 = (0.147, 0.2766): u3 = (0.782, 0.4892),        a3 = (0.532, 0.2392)
 * hard, lambda 0.45: u1 = (0.5, 0.38), a1 = (0.5, 0); u2 = (0.75, 0.42), a2 =
 *   (0.75, 0); u3 = (0.875, 0.365), a3 = (0.875, 0): unit 2 stays below
 *   threshold, inhibited by unit 1, and is exactly 0. */
START_TEST(test_hand_steps)
{
    cn_net *net = lca_net("soft", "0.25", 3);
    infer_and_check(net, (const double[]){0.782, 0.4892}, (const double[]){0.532, 0.2392});
    cn_net_free(net);
    net = lca_net("soft", "0.25", 1);
    infer_and_check(net, (const double[]){0.5, 0.38}, (const double[]){0.25, 0.13});
    cn_net_free(net);
    net = lca_net("hard", "0.45", 3);
    infer_and_check(net, (const double[]){0.875, 0.365}, (const double[]){0.875, 0.0});
    ck_assert_float_eq(cn_net_find_layer(net, "a")->out.data[1], 0.0f); /* exactly */
    cn_net_free(net);
}
END_TEST

/* [dict] normalises its columns: raw atoms 2 Phi and (3 Phi_1, 0.5 Phi_2)
 * give Phi's codes, and its forward is a Phi^T + c with unit-norm Phi. */
START_TEST(test_dict_unit_atoms)
{
    char text[1024];
    snprintf(text, sizeof text, LCA_NET, "soft", "0.25", 3, "dict");
    for (int k = 0; k < 2; k++) {
        cn_net *net = tu_net(text);
        cn_param *W = cn_layer_param(cn_net_find_layer(net, "dec"), "W");
        const float g[2] = {k ? 3.0f : 2.0f, k ? 0.5f : 2.0f}; /* column gains */
        for (int i = 0; i < 4; i++)
            W->value[i] = PHI[i] * g[i % 2];
        cn_net_set_batch(net, X, NULL, 2);
        infer_and_check(net, (const double[]){0.782, 0.4892}, (const double[]){0.532, 0.2392});
        const float *a = cn_net_find_layer(net, "a")->out.data;
        const float *y = cn_net_find_layer(net, "dec")->out.data;
        for (int d = 0; d < 2; d++)
            ck_assert_float_eq_tol(y[d], PHI[d * 2] * a[0] + PHI[d * 2 + 1] * a[1], 1e-6f);
        cn_net_free(net);
    }
}
END_TEST

/* Rozell's update with b and G formed explicitly, in double, for K steps
 * on a random 5-pixel, 4-atom dictionary and batch of 3 samples. */
static void rozell(const double *phi, const double *x, int D, int M, int K, double lam,
                   double tau, int soft, double *u)
{
    double b[8], a[8], g[8 * 8];
    for (int m = 0; m < M; m++) {
        b[m] = 0.0;
        for (int d = 0; d < D; d++)
            b[m] += phi[d * M + m] * x[d];
        for (int k = 0; k < M; k++) {
            g[m * M + k] = m == k ? -1.0 : 0.0; /* G - I */
            for (int d = 0; d < D; d++)
                g[m * M + k] += phi[d * M + m] * phi[d * M + k];
        }
        u[m] = 0.0;
    }
    for (int step = 0; step < K; step++) {
        for (int m = 0; m < M; m++)
            a[m] = fabs(u[m]) <= lam ? 0.0 : soft ? u[m] - copysign(lam, u[m]) : u[m];
        double du[8];
        for (int m = 0; m < M; m++) {
            du[m] = b[m] - u[m];
            for (int k = 0; k < M; k++)
                du[m] -= g[m * M + k] * a[k];
        }
        for (int m = 0; m < M; m++)
            u[m] += du[m] / tau;
    }
}

START_TEST(test_against_rozell)
{
    enum { D = 5, M = 4, N = 3, K = 12 };
    for (int soft = 0; soft < 2; soft++) {
        char text[1024];
        snprintf(text, sizeof text, "[net]\nbatch=%d\ninput=1,1,%d\nseed=2\n[lca]\nname=a\n"
                 "size=%d\nthreshold=%s\nlambda=0.2\ntau=4\nsteps=%d\n[dense]\nname=dec\n"
                 "output=%d\nbias=0\n[mse]\ntarget=input\nreduce=sum\nweight=0.5\n",
                 N, D, M, soft ? "soft" : "hard", K, D);
        cn_net *net = tu_net(text);
        cn_param *W = cn_layer_param(cn_net_find_layer(net, "dec"), "W"); /* (D, M) */
        cn_rng rng;
        cn_rng_seed(&rng, 5);
        double phi[D * M], x[N * D];
        float xf[N * D];
        for (int i = 0; i < D * M; i++)
            W->value[i] = (float)(phi[i] = cn_rng_uniform(&rng) - 0.5);
        for (int i = 0; i < N * D; i++)
            xf[i] = (float)(x[i] = 2.0 * cn_rng_uniform(&rng) - 1.0);
        cn_net_set_batch(net, xf, NULL, N);
        cn_error err = {0};
        ck_assert_msg(cn_net_infer(net, &err) == CN_OK, "%s", err.msg);
        const float *u = cn_layer_param(cn_net_find_layer(net, "a"), "u")->value;
        for (int s = 0; s < N; s++) {
            double want[M];
            rozell(phi, x + s * D, D, M, K, 0.2, 4.0, soft, want);
            for (int m = 0; m < M; m++)
                ck_assert_msg(fabs(u[s * M + m] - want[m]) < 1e-4,
                              "%s sample %d unit %d: u %.6g, want %.6g",
                              soft ? "soft" : "hard", s, m, u[s * M + m], want[m]);
        }
        cn_net_free(net);
    }
}
END_TEST

/* T(u) at, below and above lambda = 0.5: exactly 0 for |u| <= lambda. */
START_TEST(test_threshold_zeros)
{
    static const float u[4] = {0.5f, -0.4999f, 0.75f, -2.0f};
    static const float soft[4] = {0.0f, 0.0f, 0.25f, -1.5f}, hard[4] = {0.0f, 0.0f, 0.75f,
                                                                        -2.0f};
    for (int h = 0; h < 2; h++) {
        cn_net *net = lca_net(h ? "hard" : "soft", "0.5", 1);
        cn_layer *l = cn_net_find_layer(net, "a");
        memcpy(cn_layer_param(l, "u")->value, u, sizeof u);
        cn_net_forward(net);
        for (int i = 0; i < 4; i++)
            ck_assert_msg(l->out.data[i] == (h ? hard : soft)[i], "%s: T(%g) = %.9g",
                          h ? "hard" : "soft", (double)u[i], (double)l->out.data[i]);
        cn_net_free(net);
    }
}
END_TEST

/* Evaluation infers as training does; u is inner and a buffer (the
 * optimizer and the gradient checker leave it to the inner loop). */
START_TEST(test_eval_infers)
{
    cn_net *net = lca_net("soft", "0.25", 3);
    cn_param *u = cn_layer_param(cn_net_find_layer(net, "a"), "u");
    ck_assert(u->inner && u->buffer);
    cn_net_set_train(net, 0);
    infer_and_check(net, (const double[]){0.782, 0.4892}, (const double[]){0.532, 0.2392});
    cn_net_free(net);
}
END_TEST

/* Another loss on the codes adds its dE/da to the drive: an [mse] pulling
 * a toward 0 (weight w, reduce=sum: dE/da = 2 w a) leaves u1 as it was
 * (a0 = 0) and moves u2 by -2 w a1 / tau against the reconstruction alone. */
START_TEST(test_extra_loss_drives)
{
    char text[1024];
    snprintf(text, sizeof text, LCA_NET "[dense]\nname=zero\nfrom=input\noutput=2\n"
             "[mse]\nlayer=a\ntarget=zero\nreduce=sum\nweight=0.4\n", "soft", "0.25", 2, "dense");
    cn_net *net = tu_net(text);
    memcpy(cn_layer_param(cn_net_find_layer(net, "dec"), "W")->value, PHI, sizeof PHI);
    cn_layer *zero = cn_net_find_layer(net, "zero");
    memset(cn_layer_param(zero, "W")->value, 0, 4 * sizeof(float));
    memset(cn_layer_param(zero, "b")->value, 0, 2 * sizeof(float));
    cn_net_set_batch(net, X, NULL, 2);
    /* u2 = (0.711, 0.495) - 0.8 (0.25, 0.13) / 2 */
    infer_and_check(net, (const double[]){0.611, 0.443}, (const double[]){0.361, 0.193});
    cn_net_free(net);
}
END_TEST

/* After inference (u away from 0, some units above threshold), the layers
 * reading the codes and the dictionary pass the finite-difference check of
 * the whole energy: [dict]'s normalised atoms and bias, [l2norm], the head,
 * the entropy and the reconstruction (u itself is a buffer, not checked). */
START_TEST(test_gradcheck_inferred)
{
    cn_net *net = tu_net("[net]\nbatch=4\ninput=1,1,5\nseed=4\n[lca]\nname=code\nsize=6\n"
                         "lambda=0.05\nsteps=8\ntau=2\n[dict]\nname=dec\noutput=5\n[mse]\n"
                         "target=input\nreduce=sum\nweight=0.5\n[l2norm]\nfrom=code\neps=0.1\n"
                         "[dense]\nname=head\noutput=3\n[entropy]\nweight=0.5\n");
    float x[4 * 5];
    cn_rng rng;
    cn_rng_seed(&rng, 3);
    for (int i = 0; i < 4 * 5; i++)
        x[i] = cn_rng_uniform(&rng);
    cn_net_set_batch(net, x, NULL, 4);
    cn_error err = {0};
    ck_assert_msg(cn_net_infer(net, &err) == CN_OK, "%s", err.msg);
    cn_net_forward(net);
    const float *a = cn_net_find_layer(net, "code")->out.data;
    int active = 0;
    for (int i = 0; i < 4 * 6; i++)
        active += a[i] != 0.0f;
    ck_assert_int_gt(active, 4);
    double worst = tu_gradcheck(net, 0, 0, 42);
    ck_assert_msg(worst < 1e-2, "relative error %g", worst);
    cn_net_free(net);
}
END_TEST

START_TEST(test_l2norm_values)
{
    cn_net *net = tu_net("[net]\nbatch=2\ninput=1,1,2\n[l2norm]\neps=1e-12\n");
    const float x[4] = {3, -4, 0, 0};
    cn_net_set_batch(net, x, NULL, 2);
    cn_net_forward(net);
    const float *y = cn_net_output(net)->out.data;
    ck_assert_float_eq_tol(y[0], 0.6f, 1e-6f);
    ck_assert_float_eq_tol(y[1], -0.8f, 1e-6f);
    ck_assert_float_eq(y[2], 0.0f); /* the zero vector maps to 0 */
    ck_assert_float_eq(y[3], 0.0f);
    cn_net_free(net);
}
END_TEST

/* A tiny LCA with the entropy term of section 3.6 on 16 random 4x4
 * images: training steps run (inference in each), the reconstruction
 * falls, and the codes have exact zeros. */
START_TEST(test_lca_entropy_trains)
{
    cn_net *net = tu_net("[net]\nbatch=16\ninput=1,4,4\nseed=3\n[optim]\ntype=adam\nlr=0.01\n"
                         "[lca]\nname=code\nsize=12\nlambda=0.1\nsteps=10\ntau=4\n[dict]\n"
                         "name=dec\noutput=16\n[mse]\nname=recon\ntarget=input\nreduce=sum\n"
                         "weight=0.5\n[l2norm]\nfrom=code\neps=1\n[dense]\nname=head\n"
                         "output=3\n[entropy]\nweight=0.1\n");
    float x[16 * 16];
    cn_rng rng;
    cn_rng_seed(&rng, 9);
    for (int i = 0; i < 16 * 16; i++)
        x[i] = cn_rng_uniform(&rng);
    double first = 0.0, last = 0.0, total;
    cn_error err = {0};
    for (int step = 0; step < 60; step++) {
        cn_net_set_batch(net, x, NULL, 16);
        ck_assert_msg(cn_net_train_step(net, &total, &err) == CN_OK, "%s", err.msg);
        last = cn_net_loss(net, 0)->value;
        if (step == 0)
            first = last;
    }
    ck_assert_msg(last < 0.5 * first, "reconstruction %g -> %g", first, last);
    const float *a = cn_net_find_layer(net, "code")->out.data;
    int zeros = 0;
    for (int i = 0; i < 16 * 12; i++)
        zeros += a[i] == 0.0f;
    ck_assert_int_gt(zeros, 0);
    cn_net_free(net);
}
END_TEST

Suite *lca_suite(void)
{
    Suite *s = suite_create("lca");
    TCase *tc = tcase_create("lca");
    tcase_add_test(tc, test_hand_steps);
    tcase_add_test(tc, test_dict_unit_atoms);
    tcase_add_test(tc, test_against_rozell);
    tcase_add_test(tc, test_threshold_zeros);
    tcase_add_test(tc, test_eval_infers);
    tcase_add_test(tc, test_extra_loss_drives);
    tcase_add_test(tc, test_gradcheck_inferred);
    tcase_add_test(tc, test_l2norm_values);
    tcase_add_test(tc, test_lca_entropy_trains);
    suite_add_tcase(s, tc);
    return s;
}
