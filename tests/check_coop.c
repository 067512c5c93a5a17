/* check_coop.c - what the cooperative autonets of Kamal & Bae need: the
 * [combine] loss (its value, the gradient it hands each loss it names, the
 * total that counts those losses only through it, and its golden errors),
 * semi-supervised labels (label_fraction keeps exactly round(f n) labels,
 * the same ones for the same seed; label_mask; unlabelled samples add
 * nothing to label losses), per-class precision/recall/F1 against a
 * hand-made confusion matrix and through cn_eval, a tiny semi-supervised
 * super-encoder reaching its separator accuracy, and the adjusted
 * auto-classifier as a --set of the strict one.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/confusion.h"
#include "util.h"

/* W (2 x 3) of a dense layer: l1 = sum |W| = 3.5, l2 = 1/2 sum W^2 = 2.625. */
static const float W[6] = {1.0f, -2.0f, 0.5f, 0.0f, 0.0f, 0.0f};
#define PENALTIES "[net]\nbatch=1\ninput=1,1,3\n[dense]\nname=d\noutput=2\nbias=0\n" \
                  "[l1]\nname=a\nweight=2\n[l2]\nname=b\n"

static cn_net *penalty_net(const char *combine)
{
    char text[512];
    snprintf(text, sizeof text, PENALTIES "%s", combine);
    cn_net *net = tu_net(text);
    cn_param *w = cn_net_params(net)[0];
    memcpy(w->value, W, sizeof W);
    const float x[3] = {0, 0, 0};
    cn_net_set_batch(net, x, NULL, 1);
    cn_net_zero_grad(net);
    cn_net_forward(net);
    return net;
}

START_TEST(test_combine_values)
{
    /* v_a = 2 * 3.5 = 7, v_b = 2.625: strict = 7 + 2.625 + |7 - 2.625| = 14 */
    cn_net *net = penalty_net("[combine]\nweight=0.5\nexpr = a + b + abs(a - b)\n");
    double total = cn_net_loss_forward(net);
    ck_assert_double_eq_tol(cn_net_loss(net, 2)->value, 14.0, 1e-6);
    ck_assert_double_eq_tol(total, 7.0, 1e-6); /* a and b count only through the combine */
    ck_assert(cn_net_loss(net, 0)->consumed && cn_net_loss(net, 1)->consumed);
    cn_net_backward(net);
    /* d total/dW = 0.5 * 2 * d v_a/dW = 0.5 * 2 * 2 sign(W) */
    const float *g = cn_net_params(net)[0]->grad;
    ck_assert_float_eq_tol(g[0], 2.0f, 1e-6f);
    ck_assert_float_eq_tol(g[1], -2.0f, 1e-6f);
    ck_assert_float_eq_tol(g[3], 0.0f, 1e-6f);
    cn_net_free(net);
    /* where b is the larger term only b's gradient flows: 2 b = 2 * 1/2 W^2 */
    net = penalty_net("[combine]\nexpr = 0.1*a + b + abs(0.1*a - b)\n");
    ck_assert_double_eq_tol(cn_net_loss_forward(net), 2 * 2.625, 1e-6);
    cn_net_backward(net);
    g = cn_net_params(net)[0]->grad;
    ck_assert_float_eq_tol(g[0], 2.0f, 1e-6f);
    ck_assert_float_eq_tol(g[1], -4.0f, 1e-6f);
    cn_net_free(net);
    /* the other operators: 3 - -7/2 * min(a, b) + max(a, b) / 7 */
    net = penalty_net("[combine]\nexpr=3 - -a/2*min(a, b) + max(a,b)/7 - (b)\n");
    ck_assert_double_eq_tol(cn_net_loss_forward(net), 3 + 3.5 * 2.625 + 1 - 2.625, 1e-5);
    cn_net_free(net);
}
END_TEST

static void golden(const char *combine, const char *msg)
{
    char text[512];
    cn_error err = {0};
    snprintf(text, sizeof text, PENALTIES "%s", combine);
    ck_assert_int_eq(tu_net_err(text, &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, msg);
}

START_TEST(test_combine_errors)
{
    golden("[combine]\nexpr = a + c\n", "test.cfg:14: key 'expr' = 'a + c': no loss named 'c' "
           "above this section at character 5");
    golden("[combine]\nexpr = a + \n", "test.cfg:14: key 'expr' = 'a +': expected a number, a "
           "loss name, a function or '(' at character 4");
    golden("[combine]\nexpr = max(a b)\n", "test.cfg:14: key 'expr' = 'max(a b)': expected ',' "
           "between the two arguments at character 7");
    golden("[combine]\nexpr = (a + b\n", "test.cfg:14: key 'expr' = '(a + b': expected ')' at "
           "character 7");
    golden("[combine]\nexpr = a + 1e39\n", "test.cfg:14: key 'expr' = 'a + 1e39': a number "
           "past the float range at character 9");
    golden("[combine]\nexpr = a b\n", "test.cfg:14: key 'expr' = 'a b': unexpected text at "
           "character 3");
    golden("[combine]\nexpr = a\n[combine]\nexpr = a + b\n", "test.cfg:16: key 'expr' = "
           "'a + b': loss 'a' is already used by another [combine] at character 1");
    golden("[combine]\n", "test.cfg:13: [combine]: needs key 'expr', an expression over the "
           "losses above (e.g. expr = a + b + abs(a - b))");
    char deep[400] = "[combine]\nexpr = ";
    for (int i = 0; i < 70; i++)
        strcat(deep, "(");
    strcat(deep, "a\n");
    golden(deep, "test.cfg:14: key 'expr' = '(((((((((((((((((((((((((((((((((((((((((((((((((((((("
           "((((((((((((((((a': parentheses nested too deeply at character 66");
    golden("[l2]\n[l2]\n[combine]\nexpr = l2\n", "test.cfg:16: key 'expr' = 'l2': two "
           "losses above are named 'l2'; give them name= at character 1");
}
END_TEST

/* ---- semi-supervised labels ---- */

static cn_data *open_data(const char *dir, const char *keys, uint64_t seed, cn_error *err)
{
    char text[1024];
    cn_cfg *cfg = NULL;
    cn_data *d = NULL;
    snprintf(text, sizeof text, "[net]\n[data]\ndir=%s\n%s", dir, keys);
    ck_assert_msg(cn_cfg_parse_string("d.cfg", text, &cfg, err) == CN_OK, "%s", err->msg);
    cn_data_open(cfg, seed, &d, err);
    cn_cfg_free(cfg);
    return d;
}

static int labelled(const cn_data *d)
{
    int m = 0;
    for (int i = 0; i < d->train->n; i++)
        m += d->train->labels[i] >= 0;
    return m;
}

START_TEST(test_label_fraction)
{
    const char *dir = tu_idx_dataset(103, 10, 4, 4, 4, 2);
    cn_error err = {0};
    cn_data *a = open_data(dir, "label_fraction=0.2\n", 7, &err);
    cn_data *b = open_data(dir, "label_fraction=0.2\nvalid_fraction=0.3\n", 7, &err);
    cn_data *c = open_data(dir, "label_fraction=0.2\n", 8, &err);
    cn_data *all = open_data(dir, "", 7, &err);
    ck_assert_msg(a && b && c && all, "%s", err.msg);
    ck_assert_int_eq(labelled(a), 21); /* round(0.2 * 103) */
    ck_assert_int_eq(labelled(c), 21);
    ck_assert_int_eq(labelled(all), 103);
    int same = 1, diff = 0;
    for (int i = 0; i < 103; i++) {
        same &= a->train->labels[i] == b->train->labels[i]; /* the split draws apart */
        diff |= a->train->labels[i] != c->train->labels[i];
        if (a->train->labels[i] >= 0)
            ck_assert_int_eq(a->train->labels[i], all->train->labels[i]);
    }
    ck_assert_msg(same && diff, "same seed: same labels kept; another seed: others");
    for (int i = 0; i < 10; i++) /* the test split keeps every label */
        ck_assert_int_ge(a->test->labels[i], 0);
    cn_data_close(a), cn_data_close(b), cn_data_close(c), cn_data_close(all);
    /* after limit: round(0.5 * 11) of the first 11 */
    a = open_data(dir, "limit=11\nlabel_fraction=0.5\n", 1, &err);
    ck_assert_msg(a != NULL, "%s", err.msg);
    ck_assert_int_eq(labelled(a), 6);
    cn_data_close(a);
}
END_TEST

START_TEST(test_label_mask)
{
    const char *dir = tu_idx_dataset(20, 4, 4, 4, 4, 3);
    char keys[600];
    cn_error err = {0};
    snprintf(keys, sizeof keys, "label_mask=%s\n",
             tu_write(dir, "mask.txt", "# kept\n0 5\n7,19  # end\n"));
    cn_data *d = open_data(dir, keys, 1, &err);
    ck_assert_msg(d != NULL, "%s", err.msg);
    ck_assert_int_eq(labelled(d), 4);
    ck_assert(d->train->labels[5] >= 0 && d->train->labels[19] >= 0 && d->train->labels[1] < 0);
    cn_data_close(d);
    const char *bad = tu_write(dir, "bad.txt", "1\n2 20\n");
    snprintf(keys, sizeof keys, "label_mask=%s\n", bad);
    ck_assert_ptr_null(open_data(dir, keys, 1, &err));
    ck_assert_int_eq(err.code, CN_ERR_FORMAT);
    char want[600];
    snprintf(want, sizeof want, "%s:2: '20' is not a sample index in [0, 20)", bad);
    ck_assert_str_eq(err.msg, want);
    snprintf(keys, sizeof keys, "label_mask=%s\nlabel_fraction=0.5\n", bad);
    ck_assert_ptr_null(open_data(dir, keys, 1, &err));
    ck_assert_msg(strstr(err.msg, "give label_fraction or label_mask, not both"), "%s", err.msg);
}
END_TEST

/* Unlabelled samples: a label loss is the mean over the labelled ones and
 * sends them no gradient; the reconstruction still sees every sample. */
START_TEST(test_unlabelled_samples)
{
    cn_net *net = tu_net("[net]\nbatch=3\ninput=1,1,4\n[dense]\nname=h\noutput=4\n"
                         "activation=sigmoid\n[mae]\nname=r\ntarget=input\n[softmax]\n"
                         "[mae]\nname=s\ntarget=label\nreduce=sum\n");
    const float x[12] = {0.1f, 0.9f, 0.3f, 0.2f, 0.5f, 0.5f, 0.7f, 0.1f, 0.0f, 1.0f, 0.4f, 0.6f};
    const int one[3] = {2, -1, -1}, none[3] = {-1, -1, -1};
    cn_net_set_batch(net, x, one, 3);
    cn_net_zero_grad(net);
    cn_net_forward(net);
    cn_net_loss_forward(net);
    const float *y = cn_net_output(net)->out.data;
    double want = fabs(y[0]) + fabs(y[1]) + fabs(y[2] - 1) + fabs(y[3]); /* sample 0 only */
    ck_assert_double_eq_tol(cn_net_loss(net, 1)->value, want, 1e-6);
    cn_net_backward(net);
    const cn_layer *sm = cn_net_output(net);
    for (int i = 4; i < 12; i++)
        ck_assert_float_eq(sm->dout.data[i], 0.0f);
    cn_net_set_batch(net, x, none, 3);
    cn_net_zero_grad(net);
    cn_net_forward(net);
    cn_net_loss_forward(net);
    ck_assert_double_eq(cn_net_loss(net, 1)->value, 0.0);
    ck_assert(cn_net_loss(net, 0)->value > 0.0);
    cn_net_free(net);
}
END_TEST

/* ---- per-class scores ---- */

START_TEST(test_f1_confusion)
{
    /* M = [[3,1,0],[0,2,2],[1,0,1]] (rows true, columns predicted); class 3 absent */
    const int m[3][3] = {{3, 1, 0}, {0, 2, 2}, {1, 0, 1}};
    cn_confusion c;
    cn_error err = {0};
    ck_assert_int_eq(cn_confusion_init(&c, 4, &err), CN_OK);
    for (int t = 0; t < 3; t++)
        for (int p = 0; p < 3; p++)
            for (int k = 0; k < m[t][p]; k++)
                cn_confusion_add(&c, t, p);
    cn_confusion_add(&c, -1, 0); /* ignored */
    cn_metrics out = {0};
    cn_confusion_put(&c, &out);
    cn_confusion_free(&c);
    ck_assert_double_eq_tol(cn_metrics_get(&out, "precision_c0"), 0.75, 1e-12);
    ck_assert_double_eq_tol(cn_metrics_get(&out, "recall_c1"), 0.5, 1e-12);
    ck_assert_double_eq_tol(cn_metrics_get(&out, "precision_c1"), 2.0 / 3, 1e-12);
    ck_assert_double_eq_tol(cn_metrics_get(&out, "f1_c1"), 4.0 / 7, 1e-12);
    ck_assert_double_eq_tol(cn_metrics_get(&out, "f1_c2"), 0.4, 1e-12);
    ck_assert_double_eq(cn_metrics_get(&out, "f1_c3"), 0.0);
    ck_assert_double_eq_tol(cn_metrics_get(&out, "macro_precision"), (0.75 + 2.0 / 3 + 1.0 / 3) / 3,
                            1e-12);
    ck_assert_double_eq_tol(cn_metrics_get(&out, "macro_recall"), 1.75 / 3, 1e-12);
    ck_assert_double_eq_tol(cn_metrics_get(&out, "macro_f1"), (0.75 + 4.0 / 7 + 0.4) / 3, 1e-12);
}
END_TEST

/* Through cn_eval: a [linear] "classifier" whose argmax is its input's. */
START_TEST(test_f1_eval)
{
    cn_net *net = tu_net("[net]\nbatch=2\ninput=1,1,2\n[linear]\n[cce]\n");
    float x[10] = {1, 0, 1, 0, 0, 1, 0, 1, 1, 0}; /* predictions 0 0 1 1 0 */
    int labels[5] = {0, 1, 1, 1, -1};
    cn_dataset ds = {.n = 5, .c = 1, .h = 1, .w = 2, .n_classes = 2, .f32 = x, .scale = 1,
                     .labels = labels};
    cn_metrics m;
    cn_error err = {0};
    ck_assert_msg(cn_eval(net, &ds, NULL, 5, &m, &err) == CN_OK, "%s", err.msg);
    /* class 0: p 1/2 r 1, f 2/3; class 1: p 1 r 2/3, f 4/5 */
    ck_assert_double_eq_tol(cn_metrics_get(&m, "accuracy"), 0.75, 1e-12);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "f1_c0"), 2.0 / 3, 1e-12);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "macro_f1"), (2.0 / 3 + 0.8) / 2, 1e-12);
    cn_net_free(net);
}
END_TEST

/* ---- a tiny semi-supervised super-encoder ---- */

START_TEST(test_super_encoder_semi)
{
    char text[1400];
    snprintf(text, sizeof text,
             "[net]\nbatch=16\ninput=1,8,8\nseed=2\nepochs=40\n[data]\ndir=%s\n"
             "label_fraction=0.25\n[optim]\ntype=adam\nlr=0.01\n[dense]\nname=z\noutput=8\n"
             "activation=relu\n[dense]\nfrom=z\noutput=4\n[softmax]\n[mae]\nname=sep\n"
             "target=label\nreduce=sum\n[dense]\nfrom=z\noutput=64\nactivation=sigmoid\n"
             "[mae]\nname=rec\ntarget=input\n", tu_idx_dataset(256, 128, 8, 8, 4, 6));
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    cn_data *data = NULL;
    cn_error err = {0};
    ck_assert_msg(cn_cfg_parse_string("se.cfg", text, &cfg, &err) == CN_OK &&
                      cn_net_create(cfg, &net, &err) == CN_OK &&
                      cn_data_open(cfg, cn_net_seed(net), &data, &err) == CN_OK, "%s", err.msg);
    ck_assert_int_eq(labelled(data), 64);
    cn_train_opts o = cn_train_defaults();
    o.run_dir = tu_tmpdir();
    ck_assert_msg(cn_train(net, data, &o, &err) == CN_OK, "%s", err.msg);
    cn_metrics m;
    ck_assert_msg(cn_eval(net, data->test, NULL, 0, &m, &err) == CN_OK, "%s", err.msg);
    ck_assert_msg(cn_metrics_get(&m, "accuracy") > 0.9 && cn_metrics_get(&m, "macro_f1") > 0.9,
                  "separator accuracy %g, macro F1 %g", cn_metrics_get(&m, "accuracy"),
                  cn_metrics_get(&m, "macro_f1"));
    ck_assert_msg(cn_metrics_get(&m, "recon_mse") < 0.03, "recon_mse %g",
                  cn_metrics_get(&m, "recon_mse"));
    cn_data_close(data);
    cn_net_free(net);
    cn_cfg_free(cfg);
}
END_TEST

/* The adjusted auto-classifier is the strict cfg with one --set. */
START_TEST(test_adjusted_cfg)
{
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    cn_error err = {0};
    ck_assert_msg(cn_cfg_parse_file("cfg/auto_classifier.cfg", &cfg, &err) == CN_OK &&
                      cn_cfg_set(cfg, "coop.expr=0.5*c + g", &err) == CN_OK &&
                      cn_net_create(cfg, &net, &err) == CN_OK, "%s", err.msg);
    const cn_loss *coop = cn_net_loss(net, cn_net_n_losses(net) - 1);
    ck_assert_str_eq(coop->name, "coop");
    ck_assert(cn_net_loss(net, 0)->consumed && cn_net_loss(net, 1)->consumed);
    cn_net_free(net);
    cn_cfg_free(cfg);
}
END_TEST

Suite *coop_suite(void)
{
    Suite *s = suite_create("coop");
    TCase *tc = tcase_create("units");
    tcase_add_test(tc, test_combine_values);
    tcase_add_test(tc, test_combine_errors);
    tcase_add_test(tc, test_label_fraction);
    tcase_add_test(tc, test_label_mask);
    tcase_add_test(tc, test_unlabelled_samples);
    tcase_add_test(tc, test_f1_confusion);
    tcase_add_test(tc, test_f1_eval);
    tcase_add_test(tc, test_adjusted_cfg);
    suite_add_tcase(s, tc);
    tc = tcase_create("train");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_super_encoder_semi);
    suite_add_tcase(s, tc);
    return s;
}
