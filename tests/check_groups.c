/* check_groups.c - parameter groups and alternating training (src/groups.c):
 * each group's step moves only its parameters, by its own optimizer, along
 * the signed gradient of the losses naming it, in the documented round
 * order; shared batches equal fresh ones fed the same batch; a checkpoint
 * resumes every group's optimizer; and an adversarial autoencoder's codes
 * move to the prior, which the same net without its adversary does not do.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "cnet/cnet.h"
#include "util.h"

#define NET "[net]\nbatch=4\ninput=1,1,3\nseed=3\n"
/* g (default group) feeds d (group disc); a is descended by default and
 * ascended by disc, b descended by disc alone; disc takes 2 steps a round */
#define LAYERS(dgroup)                                                                       \
    "[dense]\nname=g\noutput=3\nactivation=tanh\n"                                           \
    "[dense]\nname=d\noutput=2\nactivation=sigmoid\n" dgroup                                 \
    "[constant]\nname=zero\nfrom=input\noutput=2\nvalue=0\n"                                 \
    "[constant]\nname=one\nfrom=input\noutput=2\nvalue=1\n"
#define OPTIMS(disc_type)                                                                    \
    "[optim]\ntype=sgd\nlr=0.1\n"                                                            \
    "[optim]\nname=disc\ntype=" disc_type "\nlr=0.05\nsteps=2\n"

static const char grouped[] = NET OPTIMS("sgd") LAYERS("group=disc\n")
    "[mse]\nname=a\nlayer=d\ntarget=zero\ngroups=default, -disc\n"
    "[mse]\nname=b\nlayer=d\ntarget=one\ngroups=disc\n";
/* the same net with one loss and no groups: the reference gradients */
static const char only_a[] = NET LAYERS("") "[mse]\nname=a\nlayer=d\ntarget=zero\n";
static const char only_b[] = NET LAYERS("") "[mse]\nname=b\nlayer=d\ntarget=one\n";

static const float X[12] = {0.1f, -0.4f, 0.7f, 0.3f, 0.9f, -0.2f,
                            -0.6f, 0.5f, 0.2f, 0.8f, -0.1f, -0.9f};

enum { NP = 3 * 3 + 3 + 2 * 3 + 2 }; /* g.W, g.b, d.W, d.b */

static void values(cn_net *net, float *out)
{
    cn_param **p = cn_net_params(net);
    for (int i = 0, at = 0; i < cn_net_n_params(net); at += (int)p[i]->count, i++)
        memcpy(out + at, p[i]->value, p[i]->count * sizeof *out);
}

/* The gradient of the one loss of cfg at the parameters of `at`. */
static void ref_grad(const char *cfg, cn_net *at, float *out)
{
    cn_net *ref = tu_net(cfg);
    cn_param **p = cn_net_params(ref), **q = cn_net_params(at);
    ck_assert_int_eq(cn_net_n_params(ref), cn_net_n_params(at));
    for (int i = 0; i < cn_net_n_params(ref); i++)
        memcpy(p[i]->value, q[i]->value, p[i]->count * sizeof(float));
    cn_net_set_batch(ref, X, NULL, 4);
    cn_step_opts o = {.kind = CN_STEP_GRAD};
    double loss;
    cn_error err;
    ck_assert_msg(cn_net_step(ref, &o, &loss, &err) == CN_OK, "%s", err.msg);
    for (int i = 0, k = 0; i < cn_net_n_params(ref); k += (int)p[i]->count, i++)
        memcpy(out + k, p[i]->grad, p[i]->count * sizeof *out);
    cn_net_free(ref);
}

/* One training batch of `net` against the expected SGD step of the group
 * whose turn it is: default moves g by -0.1 dA; disc moves d by
 * -0.05 (-dA + dB); nothing else moves. */
static void expect_step(cn_net *net, int disc_turn)
{
    float before[NP], after[NP], ga[NP], gb[NP];
    values(net, before);
    ref_grad(only_a, net, ga);
    ref_grad(only_b, net, gb);
    cn_net_set_batch(net, X, NULL, 4);
    double loss;
    cn_error err;
    ck_assert_msg(cn_net_train_step(net, &loss, &err) == CN_OK, "%s", err.msg);
    values(net, after);
    /* disc's step does not run g's backward, which no disc parameter needs:
     * g's gradients stay as its last update left them, zero */
    cn_param **p = cn_net_params(net);
    for (int i = 0; disc_turn && i < 2; i++)
        for (size_t k = 0; k < p[i]->count; k++)
            ck_assert_msg(p[i]->grad[k] == 0.0f, "%s's backward ran in disc's step", p[i]->name);
    for (int k = 0; k < NP; k++) {
        int in_d = k >= 12;
        float want = before[k];
        if (!disc_turn && !in_d)
            want = before[k] - 0.1f * ga[k];
        if (disc_turn && in_d)
            want = before[k] - 0.05f * (-ga[k] + gb[k]);
        ck_assert_msg(fabsf(after[k] - want) <= 1e-6f * (1 + fabsf(want)),
                      "step %ld (%s's turn), value %d: %g, expected %g (was %g)",
                      cn_net_steps(net), disc_turn ? "disc" : "default", k, (double)after[k],
                      (double)want, (double)before[k]);
    }
}

/* Rounds of default x1 then disc x2, each step only its group, signed. */
START_TEST(test_alternating_steps)
{
    cn_net *net = tu_net(grouped);
    ck_assert_int_eq(cn_net_n_groups(net), 2);
    ck_assert_str_eq(cn_net_group_name(net, 0), "default");
    ck_assert_str_eq(cn_net_group_name(net, 1), "disc");
    const int turn[7] = {0, 1, 1, 0, 1, 1, 0};
    for (int s = 0; s < 7; s++)
        expect_step(net, turn[s]);
    ck_assert_int_eq(cn_net_steps(net), 7);
    ck_assert_int_eq(cn_net_group_optim(net, 0)->t, 3);
    ck_assert_int_eq(cn_net_group_optim(net, 1)->t, 4);
    ck_assert_ptr_eq(cn_net_optim(net), cn_net_group_optim(net, 0));
    cn_net_free(net);
}
END_TEST

/* The discriminator's section first takes its k steps first. */
START_TEST(test_round_order)
{
    cn_net *net = tu_net(NET "[optim]\nname=disc\ntype=sgd\nlr=0.05\nsteps=2\n"
                             "[optim]\ntype=sgd\nlr=0.1\n" LAYERS("group=disc\n")
                             "[mse]\nname=a\nlayer=d\ntarget=zero\ngroups=default, -disc\n"
                             "[mse]\nname=b\nlayer=d\ntarget=one\ngroups=disc\n");
    ck_assert_str_eq(cn_net_group_name(net, 0), "disc");
    ck_assert_str_eq(cn_net_group_name(net, 1), "default");
    const int turn[4] = {1, 1, 0, 1};
    for (int s = 0; s < 4; s++)
        expect_step(net, turn[s]);
    cn_net_free(net);
}
END_TEST

/* alternate=shared: one batch is a whole round, and equals fresh batches
 * that happen to be that same batch. */
START_TEST(test_shared_batch)
{
    char shared[2048];
    snprintf(shared, sizeof shared, "%s", grouped);
    char *at = strstr(shared, "seed=3\n") + strlen("seed=3\n");
    memmove(at + strlen("alternate=shared\n"), at, strlen(at) + 1);
    memcpy(at, "alternate=shared\n", strlen("alternate=shared\n"));
    cn_net *a = tu_net(shared), *b = tu_net(grouped);
    double loss;
    cn_error err;
    cn_net_set_batch(a, X, NULL, 4);
    ck_assert_msg(cn_net_train_step(a, &loss, &err) == CN_OK, "%s", err.msg);
    for (int s = 0; s < 3; s++) {
        cn_net_set_batch(b, X, NULL, 4);
        ck_assert_msg(cn_net_train_step(b, &loss, &err) == CN_OK, "%s", err.msg);
    }
    ck_assert_int_eq(cn_net_steps(a), 1);
    ck_assert_int_eq(cn_net_steps(b), 3);
    ck_assert_int_eq(cn_net_group_optim(a, 0)->t, 1);
    ck_assert_int_eq(cn_net_group_optim(a, 1)->t, 2);
    float va[NP], vb[NP];
    values(a, va);
    values(b, vb);
    for (int k = 0; k < NP; k++)
        ck_assert_msg(va[k] == vb[k], "value %d: shared %g, fresh %g", k, (double)va[k],
                      (double)vb[k]);
    cn_net_free(a);
    cn_net_free(b);
}
END_TEST

/* A checkpoint keeps every group's optimizer: a resumed net goes on
 * exactly, and a checkpoint with other groups' optimizers is refused. */
START_TEST(test_checkpoint_groups)
{
    static const char adam[] = NET OPTIMS("adam") LAYERS("group=disc\n")
        "[mse]\nname=a\nlayer=d\ntarget=zero\ngroups=default, -disc\n"
        "[mse]\nname=b\nlayer=d\ntarget=one\ngroups=disc\n";
    cn_net *a = tu_net(adam), *b = tu_net(adam), *c = tu_net(grouped);
    double loss;
    cn_error err;
    for (int s = 0; s < 5; s++) {
        cn_net_set_batch(a, X, NULL, 4);
        ck_assert_msg(cn_net_train_step(a, &loss, &err) == CN_OK, "%s", err.msg);
    }
    char path[600];
    snprintf(path, sizeof path, "%s/groups.ckpt", tu_tmpdir());
    ck_assert_msg(cn_ckpt_save(a, path, NULL, &err) == CN_OK, "%s", err.msg);
    cn_ckpt_info info;
    ck_assert_msg(cn_ckpt_load(b, path, &info, &err) == CN_OK, "%s", err.msg);
    ck_assert_int_eq(cn_net_steps(b), 5);
    ck_assert_int_eq(cn_net_group_optim(b, 0)->t, 2);
    ck_assert_int_eq(cn_net_group_optim(b, 1)->t, 3);
    for (int s = 0; s < 3; s++) {
        cn_net_set_batch(a, X, NULL, 4);
        cn_net_set_batch(b, X, NULL, 4);
        ck_assert_int_eq(cn_net_train_step(a, &loss, &err), CN_OK);
        ck_assert_int_eq(cn_net_train_step(b, &loss, &err), CN_OK);
    }
    float va[NP], vb[NP];
    values(a, va);
    values(b, vb);
    ck_assert_msg(!memcmp(va, vb, sizeof va), "a resumed run differs");
    ck_assert_int_eq(cn_ckpt_load(c, path, &info, &err), CN_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "made with optimizer 'sgd+adam'") != NULL, "%s", err.msg);
    cn_net_free(a);
    cn_net_free(b);
    cn_net_free(c);
}
END_TEST

/* cnet summary says who trains each loss and what each group is. */
START_TEST(test_summary_groups)
{
    char cmd[800], out[8192];
    snprintf(cmd, sizeof cmd, "./cnet summary %s", tu_write(tu_tmpdir(), "g.cfg", grouped));
    ck_assert_int_eq(tu_run(cmd, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "loss a              on d            target zero       weight 1  "
                              "trains default, -disc\n") &&
                      strstr(out, "trains disc\n") &&
                      strstr(out, "group default       sgd    lr 0.1       1 step a round: g\n") &&
                      strstr(out, "group disc          sgd    lr 0.05      2 steps a round: d\n"),
                  "%s", out);
}
END_TEST

/* ---- the adversarial autoencoder on generated data ---- */

#define AAE_N 64   /* batch */
#define AAE_D 6    /* input values: a 2-D latent through a fixed map */
#define AAE_STEPS 8000

/* An autoencoder with a 2-D code z; with adversary, D tells prior samples
 * (real) from codes (fake) in 2 steps a round and the encoder learns to
 * fool it in 1 (Adam with beta1 = 0.5, as GANs usually train). Over seeds
 * 5-8 the adversary brought MMD^2 to 0.011-0.015 and its absence left
 * 0.078-0.167. */
static void aae_cfg(char *buf, size_t size, int adversary)
{
    snprintf(buf, size,
             "[net]\nbatch=%d\ninput=1,1,%d\nseed=5\n"
             "[optim]\nname=disc\ntype=adam\nlr=0.0005\nbeta1=0.5\nsteps=2\n"
             "[optim]\ntype=adam\nlr=0.0005\nbeta1=0.5\n"
             "[dense]\noutput=32\nactivation=tanh\n"
             "[dense]\nname=z\noutput=2\n"
             "[dense]\noutput=32\nactivation=tanh\n"
             "[dense]\nname=xhat\noutput=%d\n"
             "[mse]\nname=rec\ntarget=input\ngroups=default\n"
             "[prior]\nname=p\nfrom=input\noutput=2\n"
             "[dense]\nname=d1\noutput=32\nactivation=relu\ngroup=disc\n"
             "[dense]\nname=dr\noutput=1\nactivation=sigmoid\ngroup=disc\n"
             "[dense]\nname=f1\nfrom=z\nshare=d1\n"
             "[dense]\nname=df\nshare=dr\n"
             "[constant]\nname=one\nfrom=input\noutput=1\nvalue=1\n"
             "[constant]\nname=zero\nfrom=input\noutput=1\nvalue=0\n"
             "[bce]\nname=real\nlayer=dr\ntarget=one\ngroups=disc\n"
             "[bce]\nname=fake\nlayer=df\ntarget=zero\ngroups=disc\n"
             "[bce]\nname=fool\nlayer=df\ntarget=one\ngroups=default\nweight=%s\n",
             AAE_N, AAE_D, AAE_D, adversary ? "0.3" : "0");
}

/* x = A u + small noise, u uniform on [-3, 3]^2 shifted by 2: far from the
 * N(0, I) prior in shape, scale and place. */
static void aae_batch(cn_rng *rng, float *x)
{
    static const float A[AAE_D][2] = {{0.5f, 0.1f}, {-0.2f, 0.4f}, {0.3f, 0.3f},
                                      {0.1f, -0.5f}, {-0.4f, 0.2f}, {0.2f, 0.2f}};
    for (int s = 0; s < AAE_N; s++) {
        float u0 = 6.0f * cn_rng_uniform(rng) - 1.0f, u1 = 6.0f * cn_rng_uniform(rng) - 1.0f;
        for (int k = 0; k < AAE_D; k++)
            x[s * AAE_D + k] = A[k][0] * u0 + A[k][1] * u1 + 0.01f * cn_rng_normal(rng);
    }
}

/* Squared MMD with a Gaussian kernel (bandwidth 1) between n codes and n
 * prior draws: 0 when the distributions are equal. */
static double mmd2(const float *a, const float *b, int n)
{
    double aa = 0, bb = 0, ab = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double daa = 0, dbb = 0, dab = 0;
            for (int k = 0; k < 2; k++) {
                daa += pow(a[2 * i + k] - a[2 * j + k], 2);
                dbb += pow(b[2 * i + k] - b[2 * j + k], 2);
                dab += pow(a[2 * i + k] - b[2 * j + k], 2);
            }
            aa += exp(-daa / 2), bb += exp(-dbb / 2), ab += exp(-dab / 2);
        }
    return (aa + bb - 2 * ab) / ((double)n * n);
}

/* Train, then the MMD between held-out codes and prior draws. */
static double aae_mmd(int adversary, double *rec)
{
    char cfg[4096];
    aae_cfg(cfg, sizeof cfg, adversary);
    cn_net *net = tu_net(cfg);
    cn_rng data;
    cn_rng_seed(&data, 11);
    float x[AAE_N * AAE_D];
    double loss;
    cn_error err;
    for (int s = 0; s < AAE_STEPS; s++) {
        aae_batch(&data, x);
        cn_net_set_batch(net, x, NULL, AAE_N);
        ck_assert_msg(cn_net_train_step(net, &loss, &err) == CN_OK, "%s", err.msg);
    }
    enum { M = 4 * AAE_N };
    static float codes[2 * M], prior[2 * M];
    cn_rng draw;
    cn_rng_seed(&draw, 99);
    cn_net_set_train(net, 0);
    *rec = 0;
    for (int b = 0; b < M / AAE_N; b++) {
        aae_batch(&data, x);
        cn_net_set_batch(net, x, NULL, AAE_N);
        cn_net_forward(net);
        cn_net_loss_forward(net);
        *rec += cn_net_loss(net, 0)->value / (M / AAE_N);
        memcpy(codes + 2 * AAE_N * b, cn_net_find_layer(net, "z")->out.data,
               2 * AAE_N * sizeof(float));
    }
    for (int i = 0; i < 2 * M; i++)
        prior[i] = cn_rng_normal(&draw);
    cn_net_free(net);
    return mmd2(codes, prior, M);
}

START_TEST(test_adversarial_codes_move_to_prior)
{
    double rec_adv, rec_plain;
    double adv = aae_mmd(1, &rec_adv), plain = aae_mmd(0, &rec_plain);
    ck_assert_msg(adv < 0.03, "with the adversary MMD^2 %g, over the bound 0.03", adv);
    ck_assert_msg(plain > 0.06, "without it MMD^2 %g: the bound does not tell them apart", plain);
    ck_assert_msg(rec_adv < 0.01, "the adversarial AE reconstructs at MSE %g", rec_adv);
}
END_TEST

Suite *groups_suite(void)
{
    Suite *s = suite_create("groups");
    TCase *tc = tcase_create("groups");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_alternating_steps);
    tcase_add_test(tc, test_round_order);
    tcase_add_test(tc, test_shared_batch);
    tcase_add_test(tc, test_checkpoint_groups);
    tcase_add_test(tc, test_summary_groups);
    tcase_add_test(tc, test_adversarial_codes_move_to_prior);
    suite_add_tcase(s, tc);
    return s;
}
