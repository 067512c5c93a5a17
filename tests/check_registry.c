/* check_registry.c - types added at run time through the public API, the
 * way a program linking libcnet adds its own: a layer [scale2] (out = a x,
 * a a learned scalar), a loss [sumsq] (0.5 sum y^2 / n), an optimizer
 * (sign descent) and a dataset (a ramp). Each parses from a cfg, builds and
 * trains; `cnet doc` lists it; the gradient-check sweep checks the layer
 * and the loss through their examples; bad registrations are refused with
 * their messages. Check forks every test, so each test registers what it
 * uses (register_all tolerates a run without forking).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "internal.h"
#include "util.h"

/* ---- [scale2]: out = a * x, dL/dx = a * dout, dL/da = sum dout * x ---- */

static cn_status scale2_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    const cn_layer *in = l->in[0];
    l->c = in->c, l->h = in->h, l->w = in->w;
    if (!cn_build_param(b, l, "a", 1, 1, 1, 1, CN_INIT_UNIFORM, 1, 1, CN_PARAM_WEIGHT))
        return cn_sec_errorf(s, CN_ERR_NOMEM, err, "no room for the parameter a");
    return CN_OK;
}

static void scale2_forward(cn_layer *l, const cn_ctx *ctx)
{
    size_t n = (size_t)ctx->n * cn_tensor_sample(&l->out);
    const float a = l->params[0]->value[0], *x = l->in[0]->out.data;
    for (size_t i = 0; i < n; i++)
        l->out.data[i] = a * x[i];
}

static void scale2_backward(cn_layer *l, const cn_ctx *ctx)
{
    size_t n = (size_t)ctx->n * cn_tensor_sample(&l->out);
    cn_layer *in = l->in[0];
    const float a = l->params[0]->value[0], *dy = l->dout.data;
    double da = 0.0;
    for (size_t i = 0; i < n; i++) {
        da += (double)dy[i] * in->out.data[i];
        if (in->needs_grad)
            in->dout.data[i] += a * dy[i];
    }
    l->params[0]->grad[0] += (float)da;
}

static const cn_layer_ops scale2_ops = {
    .type = "scale2",
    .doc = "out = a x, a one learned scalar (a test plug-in)",
    .setup = scale2_setup,
    .forward = scale2_forward,
    .backward = scale2_backward,
    .example = "[net]\nbatch=2\ninput=1,1,4\nseed=3\n[dense]\noutput=3\nactivation=tanh\n"
               "[scale2]\n",
};

/* ---- [sumsq]: L = 0.5 * sum y^2 / n, dL/dy = y / n ---- */

static double sumsq_forward(cn_loss *loss, const cn_ctx *ctx)
{
    const cn_tensor *y = &loss->layer->out;
    size_t n = (size_t)ctx->n * cn_tensor_sample(y);
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)y->data[i] * y->data[i];
    return 0.5 * s / ctx->n;
}

static void sumsq_backward(cn_loss *loss, const cn_ctx *ctx)
{
    cn_layer *l = loss->layer;
    size_t n = (size_t)ctx->n * cn_tensor_sample(&l->out);
    const float k = loss->weight / (float)ctx->n;
    for (size_t i = 0; i < n; i++)
        l->dout.data[i] += k * l->out.data[i];
}

static const cn_loss_ops sumsq_ops = {
    .type = "sumsq",
    .doc = "0.5 sum y^2 / n (a test plug-in)",
    .targets = CN_TARGETS(CN_TARGET_NONE),
    .target_default = CN_TARGET_NONE,
    .forward = sumsq_forward,
    .backward = sumsq_backward,
    .example = "[net]\nbatch=2\ninput=1,1,4\nseed=3\n[dense]\noutput=3\nactivation=tanh\n"
               "[sumsq]\n",
};

/* ---- signsgd: w -= lr * lr_mult * sign(grad), no state ---- */

static cn_status signsgd_setup(cn_optim *o, cn_sec *s, cn_error *err)
{
    (void)o, (void)s, (void)err;
    return CN_OK;
}

static void signsgd_update(cn_optim *o, int i, float lr, size_t lo, size_t hi)
{
    const cn_param *p = o->params[i];
    for (size_t j = lo; j < hi; j++) {
        float g = p->grad[j];
        p->value[j] -= lr * p->lr_mult * (float)((g > 0.0f) - (g < 0.0f));
        p->grad[j] = 0.0f;
    }
}

static size_t signsgd_floats(const cn_optim *o)
{
    (void)o;
    return 0;
}

static float *signsgd_data(cn_optim *o)
{
    (void)o;
    return NULL;
}

static const cn_optim_ops signsgd_ops = {
    .type = "signsgd",
    .doc = "sign descent (a test plug-in)",
    .setup = signsgd_setup,
    .update = signsgd_update,
    .state_floats = signsgd_floats,
    .state_data = signsgd_data,
};

/* ---- ramp: 6 training and 3 test samples of 4 floats, sample i = i/10 ---- */

static cn_status ramp_load(cn_sec *s, cn_split split, cn_dataset **out, cn_error *err)
{
    (void)s;
    cn_dataset *ds = calloc(1, sizeof *ds);
    int n = split == CN_SPLIT_TRAIN ? 6 : 3;
    if (!ds || !(ds->f32 = malloc((size_t)n * 4 * sizeof *ds->f32))) {
        free(ds);
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for the ramp");
    }
    snprintf(ds->source, sizeof ds->source, "ramp");
    ds->n = n, ds->c = 1, ds->h = 1, ds->w = 4;
    for (int i = 0; i < n * 4; i++)
        ds->f32[i] = (float)(i / 4) / 10.0f;
    *out = ds;
    return CN_OK;
}

static const cn_dataset_ops ramp_ops = {
    .type = "ramp", .doc = "a ramp of samples (a test plug-in)", .load = ramp_load,
};

/* Register the four, unless an earlier test of this process did. */
static void register_all(void)
{
    cn_error err = {0};
    ck_assert_msg((cn_layer_find("scale2") || !cn_layer_register(&scale2_ops, &err)) &&
                      (cn_loss_find("sumsq") || !cn_loss_register(&sumsq_ops, &err)) &&
                      (cn_optim_find("signsgd") || !cn_optim_register(&signsgd_ops, &err)) &&
                      (cn_dataset_find("ramp") || !cn_dataset_register(&ramp_ops, &err)),
                  "%s", err.msg);
}

#define NET "[net]\nbatch=4\ninput=1,1,3\nseed=2\n"

/* The registered types follow the built-ins, parse, build and train. */
START_TEST(test_builds_and_trains)
{
    register_all();
    const cn_layer_ops *const *lt = cn_layer_types();
    int i = 0;
    while (lt[i + 1])
        i++;
    ck_assert_ptr_eq(lt[i], &scale2_ops);
    ck_assert_str_eq(lt[i - 1]->type, "constant"); /* the last built-in */
    ck_assert_ptr_eq(cn_layer_find("scale2"), &scale2_ops);
    const cn_loss_ops *const *st = cn_loss_types();
    for (i = 0; st[i + 1];)
        i++;
    ck_assert_ptr_eq(st[i], &sumsq_ops);
    ck_assert_str_eq(st[i - 1]->type, "combine");
    ck_assert_ptr_eq(cn_loss_find("sumsq"), &sumsq_ops);

    cn_net *net = tu_net(NET "[dense]\noutput=3\n[scale2]\nname=s\n[sumsq]\n"
                             "[optim]\nlr=0.05\n");
    const float x[12] = {0.1f, 0.5f, 0.9f, 0.2f, 0.4f, 0.6f, 0.3f, 0.7f, 0.1f, 1, 0, 0.5f};
    cn_error err = {0};
    double first = 0.0, loss = 0.0;
    const cn_param *a = cn_layer_param(cn_net_find_layer(net, "s"), "a");
    ck_assert_ptr_nonnull(a);
    float a0 = a->value[0];
    cn_net_set_batch(net, x, NULL, 4);
    for (int step = 0; step < 20; step++) {
        ck_assert_int_eq(cn_net_train_step(net, &loss, &err), CN_OK);
        if (step == 0)
            first = loss;
    }
    ck_assert_msg(loss < first && a->value[0] != a0, "sumsq %g -> %g, a %g -> %g", first, loss,
                  (double)a0, (double)a->value[0]);
    cn_net_free(net);

    /* the builder's checks apply to them as to any type */
    ck_assert_int_eq(tu_net_err(NET "[scale2]\nxyzzy=1\n", &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "test.cfg:6: unknown key 'xyzzy' in [scale2] (accepted: name, from, "
                              "lr_mult, decay_mult, init, init_scale, offers, group)");
    ck_assert_int_eq(tu_net_err(NET "[dense]\noutput=2\n[sumsq]\ntarget=input\n", &err),
                     CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "test.cfg:8: key 'target' = 'input': [sumsq] accepts target none");
    ck_assert_int_eq(tu_net_err(NET "[dense]\noutput=2\n[nope]\n", &err), CN_ERR_CFG);
    ck_assert_msg(strstr(err.msg, ", constant, scale2, mse, ") && strstr(err.msg, ", combine, "
                  "sumsq)"), "%s", err.msg);
}
END_TEST

/* An optimizer and a dataset registered at run time are `type` choices. */
START_TEST(test_optim_and_data)
{
    register_all();
    ck_assert_str_eq(cn_optim_common_keys[0].choices, "sgd|adam|adamw|signsgd");
    ck_assert_str_eq(cn_data_common_keys[0].choices, "idx|imgdir|csv|ramp");
    cn_net *net = tu_net(NET "[dense]\noutput=2\n[sumsq]\n[optim]\ntype=signsgd\nlr=0.25\n");
    ck_assert_ptr_eq(cn_net_optim(net)->ops, &signsgd_ops);
    const float x[12] = {0};
    double loss;
    cn_error err = {0};
    cn_param *b = cn_layer_param(cn_net_layer(net, 1), "b");
    float before[2] = {b->value[0], b->value[1]};
    cn_net_set_batch(net, x, NULL, 4);
    ck_assert_int_eq(cn_net_train_step(net, &loss, &err), CN_OK);
    for (int k = 0; k < 2; k++) /* grad = b / 1 after a zero input: one step of -0.25 sign(b) */
        ck_assert_float_eq(b->value[k], before[k] - 0.25f * (float)((before[k] > 0) -
                                                                    (before[k] < 0)));
    cn_net_free(net);

    cn_cfg *cfg = NULL;
    cn_data *d = NULL;
    ck_assert_int_eq(cn_cfg_parse_string("t.cfg", "[data]\ntype=ramp\nvalid_fraction=0.5\n", &cfg,
                                         &err), CN_OK);
    ck_assert_msg(cn_data_open(cfg, 1, &d, &err) == CN_OK, "%s", err.msg);
    ck_assert_int_eq(d->n_train + d->n_valid, 6);
    ck_assert_int_eq(d->n_valid, 3);
    ck_assert_int_eq(d->test->n, 3);
    cn_data_close(d);
    cn_cfg_free(cfg);
    ck_assert_int_eq(cn_cfg_parse_string("t.cfg", "[data]\ntype=ramps\n", &cfg, &err), CN_OK);
    ck_assert_int_eq(cn_data_open(cfg, 1, &d, &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "t.cfg:2: key 'type' expects one of idx, imgdir, csv, ramp, got "
                              "'ramps'");
    cn_cfg_free(cfg);
}
END_TEST

/* `cnet doc` lists every registered type after the built-ins of its kind. */
START_TEST(test_doc)
{
    register_all();
    size_t size;
    char *doc = tu_generated(cn_doc_write, &size);
    const char *scale2 = strstr(doc, "### [scale2]\n\nout = a x, a one learned scalar");
    const char *sumsq = strstr(doc, "### [sumsq]\n\n0.5 sum y^2 / n");
    ck_assert_ptr_nonnull(scale2);
    ck_assert_ptr_nonnull(sumsq);
    ck_assert(strstr(doc, "### [sample]") < scale2 && scale2 < strstr(doc, "## Losses"));
    ck_assert(strstr(doc, "### [combine]") < sumsq);
    ck_assert_ptr_nonnull(strstr(doc, "### type = signsgd\n"));
    ck_assert_ptr_nonnull(strstr(doc, "### type = ramp\n"));
    ck_assert_ptr_nonnull(strstr(doc, "| `type` | enum: sgd, adam, adamw, signsgd | sgd |"));
    free(doc);
}
END_TEST

/* The entry of `type` in a sweep's result, or a failed test. */
static const tu_swept *swept_type(const tu_swept *s, int n, const char *type)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s[i].type, type))
            return &s[i];
    ck_abort_msg("the sweep has no entry for '%s'", type);
    return NULL;
}

/* The sweep checks the registered types through their examples. */
START_TEST(test_sweep)
{
    register_all();
    tu_swept s[64];
    int n;
    ck_assert_int_eq(tu_sweep_registered(TU_LAYERS, tu_layer_rows, tu_n_layer_rows, s, 64, &n),
                     0);
    const tu_swept *e = swept_type(s, n, "scale2");
    ck_assert(e == &s[n - 1] && e->rows == 0 && e->example == 1);
    ck_assert_msg(e->error < 1e-2, "scale2: relative error %g", e->error);
    ck_assert(swept_type(s, n, "dense")->rows > 0 && !swept_type(s, n, "dense")->example);
    ck_assert_int_eq(tu_sweep_registered(TU_LOSSES, tu_loss_rows, tu_n_loss_rows, s, 64, &n), 0);
    e = swept_type(s, n, "sumsq");
    ck_assert(e == &s[n - 1] && e->rows == 0 && e->example == 1);
    ck_assert_msg(e->error < 1e-2, "sumsq: relative error %g", e->error);
}
END_TEST

/* A registered type the sweep cannot check is a failure: no example, an
 * example without the type, a wrong gradient. */
static void scale2_backward_wrong(cn_layer *l, const cn_ctx *ctx)
{
    scale2_backward(l, ctx);
    l->params[0]->grad[0] *= 2.0f;
}

START_TEST(test_sweep_failures)
{
    cn_layer_ops none = scale2_ops, off = scale2_ops, wrong = scale2_ops;
    none.type = "scale2_none", none.example = NULL;
    off.type = "scale2_off", off.example = "[net]\nbatch=2\ninput=3\n[dense]\noutput=2\n";
    wrong.type = "scale2_wrong", wrong.backward = scale2_backward_wrong;
    wrong.example = "[net]\nbatch=2\ninput=3\n[scale2_wrong]\n";
    cn_error err = {0};
    ck_assert_msg(!cn_layer_register(&none, &err) && !cn_layer_register(&off, &err) &&
                      !cn_layer_register(&wrong, &err), "%s", err.msg);
    tu_swept s[64];
    int n, saved = dup(2), null = open("/dev/null", O_WRONLY);
    ck_assert(saved >= 0 && null >= 0 && dup2(null, 2) == 2); /* the expected reports: hidden */
    int fails = tu_sweep_registered(TU_LAYERS, tu_layer_rows, tu_n_layer_rows, s, 64, &n);
    dup2(saved, 2);
    close(saved);
    close(null);
    ck_assert_int_eq(fails, 3);
    ck_assert(!swept_type(s, n, "scale2_none")->example);
    ck_assert(!swept_type(s, n, "scale2_off")->example);
    ck_assert(swept_type(s, n, "scale2_wrong")->error > 0.1);
}
END_TEST

static void expect(cn_status st, const cn_error *err, const char *msg)
{
    ck_assert_int_eq(st, CN_ERR_CFG);
    ck_assert_str_eq(err->msg, msg);
}

START_TEST(test_errors)
{
    cn_error err = {0};
    cn_layer_ops l = scale2_ops;
    cn_loss_ops s = sumsq_ops;
    expect(cn_layer_register(NULL, &err), &err, "cn_layer_register: NULL ops");
    ck_assert_int_eq(cn_layer_register(NULL, NULL), CN_ERR_CFG);
    l.type = NULL;
    expect(cn_layer_register(&l, &err), &err, "cn_layer_register: the ops have no type name");
    l.type = "Scale-2";
    expect(cn_layer_register(&l, &err), &err,
           "cn_layer_register: type name 'Scale-2' has characters outside [a-z0-9_]");
    l.type = "a_name_of_thirty_two_characters_";
    expect(cn_layer_register(&l, &err), &err, "cn_layer_register: type name "
           "'a_name_of_thirty_two_characters_' is longer than 31 characters");
    l.type = "dense";
    expect(cn_layer_register(&l, &err), &err,
           "cn_layer_register: type 'dense' is already a layer type");
    l.type = "mse";
    expect(cn_layer_register(&l, &err), &err,
           "cn_layer_register: type 'mse' is already a loss type");
    l.type = "optim";
    expect(cn_layer_register(&l, &err), &err,
           "cn_layer_register: type 'optim' is taken by the special section [optim]");
    s.type = "net";
    expect(cn_loss_register(&s, &err), &err,
           "cn_loss_register: type 'net' is taken by the special section [net]");
    l.type = "scale2", l.forward = NULL;
    expect(cn_layer_register(&l, &err), &err, "cn_layer_register: layer type 'scale2' has no "
           "forward");
    s.type = "sumsq", s.backward = NULL;
    expect(cn_loss_register(&s, &err), &err, "cn_loss_register: loss type 'sumsq' has no "
           "backward");
    s.backward = sumsq_backward, s.target_default = CN_TARGET_INPUT;
    expect(cn_loss_register(&s, &err), &err, "cn_loss_register: loss type 'sumsq' does not "
           "accept its default target (targets = 0x1)");
    /* a failed registration adds nothing; the same name twice is refused */
    ck_assert_ptr_null(cn_layer_find("scale2"));
    register_all();
    expect(cn_layer_register(&scale2_ops, &err), &err,
           "cn_layer_register: type 'scale2' is already a layer type");
    expect(cn_loss_register(&sumsq_ops, &err), &err,
           "cn_loss_register: type 'sumsq' is already a loss type");
    s = sumsq_ops, s.type = "scale2";
    expect(cn_loss_register(&s, &err), &err,
           "cn_loss_register: type 'scale2' is already a layer type");
    expect(cn_optim_register(&signsgd_ops, &err), &err,
           "cn_optim_register: type 'signsgd' is already an optimizer type");
    cn_optim_ops o = signsgd_ops;
    o.type = "adam";
    expect(cn_optim_register(&o, &err), &err,
           "cn_optim_register: type 'adam' is already an optimizer type");
    o.type = "sign2", o.update = NULL;
    expect(cn_optim_register(&o, &err), &err, "cn_optim_register: optimizer type 'sign2' "
           "lacks setup, update, state_floats or state_data");
    cn_dataset_ops d = ramp_ops;
    d.type = "idx";
    expect(cn_dataset_register(&d, &err), &err,
           "cn_dataset_register: type 'idx' is already a dataset type");
    d.type = "Ramp";
    expect(cn_dataset_register(&d, &err), &err,
           "cn_dataset_register: type name 'Ramp' has characters outside [a-z0-9_]");
}
END_TEST

/* Every built-in key table passes the check registration runs on a plug-in's:
 * each number has a documented range and each default lies in it. */
START_TEST(test_key_tables)
{
    cn_error err = {0};
#define CHECK(keys, owner) \
    ck_assert_msg(cn_key_table_check(keys, owner, &err) == CN_OK, "%s", err.msg)
    CHECK(cn_net_keys, "net");
    CHECK(cn_data_common_keys, "data");
    CHECK(cn_optim_common_keys, "optim");
    CHECK(cn_layer_common_keys(), "layers");
    CHECK(cn_loss_common_keys(), "losses");
    for (const cn_dataset_ops *const *t = cn_dataset_types(); *t; t++)
        CHECK((*t)->keys, (*t)->type);
    for (const cn_optim_ops *const *t = cn_optim_types(); *t; t++)
        CHECK((*t)->keys, (*t)->type);
    for (const cn_layer_ops *const *t = cn_layer_types(); *t; t++)
        CHECK((*t)->keys, (*t)->type);
    for (const cn_loss_ops *const *t = cn_loss_types(); *t; t++)
        CHECK((*t)->keys, (*t)->type);
#undef CHECK
    /* and a plug-in whose table lacks a range is refused at registration */
    static const cn_key bare[] = {{"a", CN_KEY_FLOAT, "1", NULL, "a factor"}, CN_KEY_END};
    cn_layer_ops l = scale2_ops;
    l.type = "scale3", l.keys = bare;
    expect(cn_layer_register(&l, &err), &err, "cn_layer_register: scale3: numeric key 'a' has "
           "no range \"[lo, hi]\"");
}
END_TEST

/* At most CN_REGISTER_MAX types of a kind may be registered. */
START_TEST(test_bound)
{
    static char names[CN_REGISTER_MAX + 1][16];
    static cn_layer_ops ops[CN_REGISTER_MAX + 1];
    cn_error err = {0};
    int n_before = 0;
    for (const cn_layer_ops *const *t = cn_layer_types(); *t; t++)
        n_before++;
    for (int i = 0; i <= CN_REGISTER_MAX; i++) {
        snprintf(names[i], sizeof names[i], "extra%d", i);
        ops[i] = scale2_ops;
        ops[i].type = names[i];
        cn_status st = cn_layer_register(&ops[i], &err);
        if (i < CN_REGISTER_MAX) {
            ck_assert_msg(st == CN_OK, "%s", err.msg);
            continue;
        }
        char want[128];
        snprintf(want, sizeof want, "cn_layer_register: cannot add 'extra%d': at most %d layer "
                 "types can be registered", CN_REGISTER_MAX, CN_REGISTER_MAX);
        ck_assert_int_eq(st, CN_ERR_CFG);
        ck_assert_str_eq(err.msg, want);
    }
    int n_after = 0;
    for (const cn_layer_ops *const *t = cn_layer_types(); *t; t++)
        n_after++;
    ck_assert_int_eq(n_after, n_before + CN_REGISTER_MAX);
    ck_assert_ptr_null(cn_layer_find(names[CN_REGISTER_MAX]));
}
END_TEST

Suite *registry_suite(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("registry");
    tcase_add_test(tc, test_builds_and_trains);
    tcase_add_test(tc, test_optim_and_data);
    tcase_add_test(tc, test_doc);
    tcase_add_test(tc, test_sweep);
    tcase_add_test(tc, test_sweep_failures);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_bound);
    tcase_add_test(tc, test_key_tables);
    suite_add_tcase(s, tc);
    return s;
}
