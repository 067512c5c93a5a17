/* check_optim.c - optimizers and learning-rate schedules.
 *
 * Trajectories are compared with literals recorded from torch.optim 1.13 (float32) on the same
 * parameters and gradients: W (4 values, lr_mult 1, decay_mult 1), b (2 values, a bias:
 * lr_mult 2, decay_mult 0; in torch a second param group with lr 2*lr and weight_decay 0) and
 * Z (2 values, inner: must never move). Schedules are checked at chosen steps against values
 * worked out by hand; cfg errors against their exact messages; and each optimizer minimises
 * f(w) = 0.5 * sum (w - c)^2 to below 1e-4.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "cnet/cnet.h"

#define STEPS 3

/* Gradients fed at steps 1..3. */
static const float grad_w[STEPS][4] = {
    {0.1f, -0.2f, 0.3f, -0.4f}, {-0.3f, 0.1f, 0.2f, 0.05f}, {0.2f, 0.2f, -0.1f, 0.3f}};
static const float grad_b[STEPS][2] = {{0.5f, -0.5f}, {0.25f, 0.1f}, {-0.4f, 0.3f}};

typedef struct snap {
    float w[4], b[2];
} snap;

typedef struct fix {
    float w[4], gw[4], b[2], gb[2], z[2], gz[2];
    cn_param pw, pb, pz;
    cn_param *list[3];
} fix;

static void param_init(cn_param *p, const char *name, float *value, float *grad, size_t count)
{
    memset(p, 0, sizeof *p);
    strcpy(p->name, name);
    p->shape[0] = (int)count;
    p->shape[1] = p->shape[2] = p->shape[3] = 1;
    p->count = count;
    p->value = value;
    p->grad = grad;
    p->lr_mult = p->decay_mult = 1.0f;
}

static void fix_init(fix *f)
{
    static const float w0[4] = {0.5f, -1.0f, 2.0f, 0.25f}, b0[2] = {0.1f, -0.2f};
    memset(f, 0, sizeof *f);
    memcpy(f->w, w0, sizeof w0);
    memcpy(f->b, b0, sizeof b0);
    f->z[0] = 1.0f, f->z[1] = 2.0f;
    param_init(&f->pw, "enc.W", f->w, f->gw, 4);
    param_init(&f->pb, "enc.b", f->b, f->gb, 2);
    param_init(&f->pz, "sesm.Z", f->z, f->gz, 2);
    f->pb.lr_mult = 2.0f;
    f->pb.decay_mult = 0.0f;
    f->pz.inner = 1;
    f->list[0] = &f->pw, f->list[1] = &f->pb, f->list[2] = &f->pz;
}

/* Parse cfg text and create an optimizer over params; fails the test on error. */
static cn_optim *make(const char *text, cn_param **params, int n)
{
    cn_cfg *cfg = NULL;
    cn_optim *o = NULL;
    cn_error err = {0};
    if (cn_cfg_parse_string("test.cfg", text, &cfg, &err) ||
        cn_optim_create(cfg, params, n, &o, &err))
        ck_abort_msg("%s", err.msg);
    cn_cfg_free(cfg);
    return o;
}

/* The message of a cfg text that must fail to make an optimizer. */
static const char *make_err(const char *text)
{
    static cn_error err;
    cn_cfg *cfg = NULL;
    cn_optim *o = NULL;
    fix f;
    fix_init(&f);
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(cn_cfg_parse_string("test.cfg", text, &cfg, &err), CN_OK);
    ck_assert_int_eq(cn_optim_create(cfg, f.list, 3, &o, &err), CN_ERR_CFG);
    ck_assert_ptr_null(o);
    cn_cfg_free(cfg);
    return err.msg;
}

/* Three steps on the fixture, each compared with torch's parameters after it. */
static void trajectory(const char *text, const snap want[STEPS], size_t state_floats)
{
    fix f;
    fix_init(&f);
    cn_optim *o = make(text, f.list, 3);
    ck_assert_uint_eq(o->ops->state_floats(o), state_floats);
    for (int k = 0; k < STEPS; k++) {
        memcpy(f.gw, grad_w[k], sizeof f.gw);
        memcpy(f.gb, grad_b[k], sizeof f.gb);
        f.gz[0] = f.gz[1] = 5.0f;
        cn_optim_step(o);
        for (int i = 0; i < 4; i++)
            ck_assert_msg(fabsf(f.w[i] - want[k].w[i]) < 2e-6f, "step %d W[%d] = %.9g, want %.9g",
                          k + 1, i, (double)f.w[i], (double)want[k].w[i]);
        for (int i = 0; i < 2; i++)
            ck_assert_msg(fabsf(f.b[i] - want[k].b[i]) < 2e-6f, "step %d b[%d] = %.9g, want %.9g",
                          k + 1, i, (double)f.b[i], (double)want[k].b[i]);
        ck_assert(f.z[0] == 1.0f && f.z[1] == 2.0f); /* inner: untouched */
    }
    ck_assert_int_eq(o->t, STEPS);
    cn_optim_free(o);
}

START_TEST(sgd_plain)
{
    /* By hand, step 1: W0 = 0.5 - 0.1 * 0.1 = 0.49; b0 = 0.1 - (2 * 0.1) * 0.5 = 0. */
    static const snap want[STEPS] = {
        {{0.49000001f, -0.980000019f, 1.97000003f, 0.289999992f}, {0.0f, -0.100000001f}},
        {{0.520000041f, -0.99000001f, 1.95000005f, 0.284999996f}, {-0.05f, -0.120000005f}},
        {{0.50000006f, -1.00999999f, 1.96000004f, 0.254999995f}, {0.03f, -0.180000007f}},
    };
    trajectory("[optim]\nlr = 0.1\n", want, 0);
}
END_TEST

START_TEST(sgd_momentum_decay)
{
    /* By hand, step 1: g = 0.1 + 0.01 * 0.5 = 0.105, v = g, W0 = 0.5 - 0.0105 = 0.4895;
     * the bias has decay_mult 0: b0 = 0.1 - 0.2 * 0.5 = 0. Step 2: v = 0.9 * 0.105 + (-0.3 +
     * 0.01 * 0.4895) = -0.200605, W0 = 0.4895 + 0.0200605 = 0.5095605. */
    static const snap want[STEPS] = {
        {{0.489499986f, -0.978999972f, 1.96800005f, 0.28975001f}, {0.0f, -0.100000001f}},
        {{0.509560466f, -0.969120979f, 1.91723204f, 0.320235252f}, {-0.14f, -0.0300000012f}},
        {{0.50710535f, -0.979260743f, 1.87962365f, 0.317351729f}, {-0.186000004f, -0.027f}},
    };
    trajectory("[optim]\nlr = 0.1\nmomentum = 0.9\nweight_decay = 0.01\n", want, 6);
}
END_TEST

START_TEST(sgd_nesterov)
{
    /* By hand, step 1: g = 0.105, v = g, g + 0.9 v = 0.1995, W0 = 0.5 - 0.01995 = 0.48005. */
    static const snap want[STEPS] = {
        {{0.480049998f, -0.960099995f, 1.93920004f, 0.325524986f}, {-0.09f, -0.0100000026f}},
        {{0.527632892f, -0.960265815f, 1.8715955f, 0.347603977f}, {-0.266f, 0.0329999961f}},
        {{0.504887044f, -0.98845464f, 1.84594071f, 0.31460759f}, {-0.227400005f, -0.0243000127f}},
    };
    trajectory("[optim]\nlr = 0.1\nmomentum = 0.9\nnesterov = 1\nweight_decay = 0.01\n", want,
               6);
}
END_TEST

START_TEST(adam_coupled)
{
    /* By hand, step 1: m^ = g, v^ = g^2, so every value moves by lr * sign(g):
     * W0 = 0.5 - 0.01, b0 = 0.1 - 0.02 (lr_mult 2). */
    static const snap want[STEPS] = {
        {{0.49000001f, -0.99000001f, 1.99000001f, 0.25999999f}, {0.08f, -0.180000007f}},
        {{0.494765997f, -0.986778021f, 1.98026264f, 0.265665948f}, {0.0613564067f, -0.16977948f}},
        {{0.494349301f, -0.988952279f, 1.97418475f, 0.265309393f}, {0.0570789091f, -0.169455305f}},
    };
    trajectory("[optim]\ntype = adam\nlr = 0.01\nweight_decay = 0.01\n", want, 12);
}
END_TEST

START_TEST(adam_betas_eps)
{
    static const snap want[STEPS] = {
        {{0.490099013f, -0.990049779f, 1.99003327f, 0.259975076f}, {0.0800399184f, -0.180039927f}},
        {{0.495529771f, -0.987951696f, 1.98047364f, 0.265231788f}, {0.0617876165f, -0.170799091f}},
        {{0.495077044f, -0.991527617f, 1.97570109f, 0.264047593f}, {0.0593130365f, -0.172238022f}},
    };
    trajectory("[optim]\ntype = adam\nlr = 0.01\nbeta1 = 0.8\nbeta2 = 0.99\neps = 1e-3\n", want,
               12);
}
END_TEST

START_TEST(adamw_decoupled)
{
    /* By hand, step 1: W0 = 0.5 * (1 - 0.01 * 0.1) - 0.01 = 0.4895; the bias (decay_mult 0)
     * moves exactly as with adam. */
    static const snap want[STEPS] = {
        {{0.489500016f, -0.989000022f, 1.98800004f, 0.259750009f}, {0.08f, -0.180000007f}},
        {{0.493952423f, -0.985347688f, 1.97630858f, 0.265215605f}, {0.0613564067f, -0.16977948f}},
        {{0.493270606f, -0.987089336f, 1.96881342f, 0.264683247f}, {0.0570789091f, -0.169455305f}},
    };
    trajectory("[optim]\ntype = adamw\nlr = 0.01\nweight_decay = 0.1\n", want, 12);
}
END_TEST

START_TEST(defaults)
{
    /* No [optim] section, and no cfg at all: plain SGD at 0.01, constant. */
    fix f;
    fix_init(&f);
    cn_optim *o = make("[net]\nbatch = 2\n", f.list, 3), *o2 = NULL;
    ck_assert_ptr_eq(o->ops, cn_optim_find("sgd"));
    ck_assert(o->sched.kind == CN_SCHED_CONSTANT && o->sched.lr == 0.01f);
    ck_assert(o->sched.warmup == 0 && o->sched.step_size == 1000 && o->sched.gamma == 0.1f);
    ck_assert(o->sched.min_lr == 0.0f && o->sched.total_steps == 0 && o->weight_decay == 0.0f);
    ck_assert_uint_eq(o->ops->state_floats(o), 0);
    ck_assert_int_eq(cn_optim_create(NULL, f.list, 3, &o2, NULL), CN_OK);
    ck_assert_ptr_eq(o2->ops, o->ops);
    f.gw[0] = 1.0f;
    cn_optim_step(o2);
    ck_assert_float_eq_tol(f.w[0], 0.49f, 1e-7f);
    cn_optim_free(o);
    cn_optim_free(o2);
    cn_optim_free(NULL);
}
END_TEST

START_TEST(schedules)
{
    cn_schedule s = {CN_SCHED_CONSTANT, 0.1f, 4, 1000, 0.1f, 0, 0.0f};
    /* warm-up: lr * (t+1) / 4, then constant */
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 0), 0.025f, 1e-8f);
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 1), 0.05f, 1e-8f);
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 3), 0.1f, 1e-8f);
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 100000), 0.1f, 1e-8f);
    /* step: halve every 10 steps after 5 warm-up steps */
    s = (cn_schedule){CN_SCHED_STEP, 0.1f, 5, 10, 0.5f, 0, 0.0f};
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 4), 0.1f, 1e-8f);
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 14), 0.1f, 1e-8f);
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 15), 0.05f, 1e-8f);
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 30), 0.025f, 1e-8f);
    /* exp: 0.9 per step after 2 warm-up steps */
    s = (cn_schedule){CN_SCHED_EXP, 1.0f, 2, 1000, 0.9f, 0, 0.0f};
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 0), 0.5f, 1e-7f);
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 2), 1.0f, 1e-7f);
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 3), 0.9f, 1e-7f);
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 12), 0.3486784401f, 1e-7f); /* 0.9^10 */
    /* cosine from 1 to 0.1 over T = 110 - 10 steps after warm-up */
    s = (cn_schedule){CN_SCHED_COSINE, 1.0f, 10, 1000, 0.1f, 110, 0.1f};
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 0), 0.1f, 1e-7f);
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 10), 1.0f, 1e-7f);
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 35), 0.868198052f, 1e-7f); /* .1+.45(1+cos pi/4) */
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 60), 0.55f, 1e-7f);
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 110), 0.1f, 1e-7f);
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 500), 0.1f, 1e-7f);
    /* cosine with no total set (or shorter than warm-up) holds lr */
    s.total_steps = 0;
    ck_assert_float_eq_tol(cn_schedule_lr(&s, 50), 1.0f, 1e-7f);
}
END_TEST

START_TEST(schedule_drives_step)
{
    /* lr per step: 0.05, 0.1 (warm-up), then 0.1, 0.05, 0.025; grad 1, so w falls by lr. */
    static const float want[5] = {-0.05f, -0.15f, -0.25f, -0.3f, -0.325f};
    float w = 0.0f, g = 1.0f;
    cn_param p, *list[1] = {&p};
    memset(&p, 0, sizeof p);
    p.count = 1, p.value = &w, p.grad = &g, p.lr_mult = p.decay_mult = 1.0f;
    cn_optim *o = make("[optim]\nlr = 0.1\nschedule = step\nstep_size = 1\ngamma = 0.5\n"
                       "warmup = 2\n", list, 1);
    ck_assert(o->sched.kind == CN_SCHED_STEP && o->sched.step_size == 1);
    for (int k = 0; k < 5; k++) {
        g = 1.0f;
        cn_optim_step(o);
        ck_assert_float_eq_tol(w, want[k], 1e-7f);
        ck_assert(g == 0.0f); /* the step consumes the gradient */
    }
    ck_assert_int_eq(o->t, 5);
    cn_optim_free(o);
}
END_TEST

START_TEST(cfg_errors)
{
    ck_assert_str_eq(make_err("[optim]\ntype = sgd\nlerning_rate = 0.1\n"),
                     "test.cfg:3: unknown key 'lerning_rate' in [optim] (accepted: type, lr, "
                     "schedule, warmup, step_size, gamma, min_lr, weight_decay, name, steps, momentum, "
                     "nesterov)");
    ck_assert_str_eq(make_err("[optim]\ntype = adagrad\n"),
                     "test.cfg:2: key 'type' expects one of sgd, adam, adamw, got 'adagrad'");
    ck_assert_str_eq(make_err("[optim]\nnesterov = 1\n"),
                     "test.cfg:2: key 'nesterov' = '1': Nesterov momentum needs momentum > 0 "
                     "(momentum is 0)");
    ck_assert_str_eq(make_err("[optim]\nmomentum = 1\n"),
                     "test.cfg:2: key 'momentum' expects a finite number in [0, 1), got '1'");
    ck_assert_str_eq(make_err("[optim]\nlr = 0\n"),
                     "test.cfg:2: key 'lr' expects a finite number in (0, inf), got '0'");
    ck_assert_str_eq(make_err("[optim]\nweight_decay = -1e-4\n"),
                     "test.cfg:2: key 'weight_decay' expects a finite number in [0, inf), got "
                     "'-1e-4'");
    ck_assert_str_eq(make_err("[optim]\nschedule = cosine\nlr = 0.1\nmin_lr = 0.2\n"),
                     "test.cfg:4: key 'min_lr' = '0.2': must not exceed lr = 0.1, the cosine "
                     "schedule decays to it");
    ck_assert_str_eq(make_err("[optim]\ntype = adam\nbeta2 = 1\n"),
                     "test.cfg:3: key 'beta2' expects a finite number in [0, 1), got '1'");
    ck_assert_str_eq(make_err("[optim]\ntype = adamw\neps = 0\n"),
                     "test.cfg:3: key 'eps' expects a finite number in (0, inf), got '0'");
    ck_assert_str_eq(make_err("[optim]\nwarmup = -1\n"),
                     "test.cfg:2: key 'warmup' expects an integer in [0, 1000000000], got '-1'");
    /* Type keys belong to their type. */
    ck_assert_str_eq(make_err("[optim]\nbeta1 = 0.9\n"),
                     "test.cfg:2: unknown key 'beta1' in [optim] (accepted: type, lr, schedule, "
                     "warmup, step_size, gamma, min_lr, weight_decay, name, steps, momentum, nesterov)");
    ck_assert_str_eq(make_err("[optim]\nlr = 0.1\n[optim]\nlr = 0.2\n"),
                     "test.cfg:3: [optim]: a second [optim] section (the first is at line 1)");
}
END_TEST

START_TEST(registry)
{
    const cn_optim_ops *const *types = cn_optim_types();
    char joined[256] = "";
    int n = 0;
    for (; types[n]; n++) {
        const cn_optim_ops *ops = types[n];
        ck_assert_ptr_eq(cn_optim_find(ops->type), ops);
        ck_assert(ops->doc && ops->keys && ops->setup && ops->update && ops->state_floats &&
                  ops->state_data && ops->destroy);
        for (const cn_key *k = ops->keys; k->name; k++)
            ck_assert_msg(k->doc && k->def, "%s key %s lacks a doc or default", ops->type,
                          k->name);
        for (int j = 0; j < n; j++)
            ck_assert_str_ne(types[j]->type, ops->type);
        strcat(joined, n ? "|" : "");
        strcat(joined, ops->type);
    }
    ck_assert_int_eq(n, 3);
    ck_assert_ptr_null(cn_optim_find("adagrad"));
    /* `type`'s choices are the registry, in order (the index picks the ops). */
    ck_assert_str_eq(cn_optim_common_keys[0].name, "type");
    ck_assert_str_eq(cn_optim_common_keys[0].choices, joined);
    for (const cn_key *k = cn_optim_common_keys; k->name; k++)
        ck_assert_msg(k->doc && k->def, "key %s lacks a doc or default", k->name);
}
END_TEST

/* Minimise f(w) = 0.5 * sum (w - c)^2, gradient w - c, from w = 0 in `steps`. */
static const struct quad_case {
    const char *cfg;
    int steps;
} quad_cases[] = {
    {"[optim]\nlr = 0.1\n", 100},
    {"[optim]\nlr = 0.05\nmomentum = 0.9\n", 200},
    {"[optim]\nlr = 0.05\nmomentum = 0.9\nnesterov = true\n", 100},
    {"[optim]\ntype = adam\nlr = 0.1\n", 200},
    {"[optim]\ntype = adamw\nlr = 0.1\nschedule = cosine\nweight_decay = 1e-4\n", 300},
};

START_TEST(quadratic)
{
    const struct quad_case *qc = &quad_cases[_i];
    static const float c[4] = {1.0f, -2.0f, 3.0f, 0.5f};
    float w[4] = {0}, g[4];
    cn_param p, *list[1] = {&p};
    memset(&p, 0, sizeof p);
    p.count = 4, p.value = w, p.grad = g, p.lr_mult = p.decay_mult = 1.0f;
    cn_optim *o = make(qc->cfg, list, 1);
    o->sched.total_steps = qc->steps; /* the trainer's job */
    for (int k = 0; k < qc->steps; k++) {
        for (int i = 0; i < 4; i++)
            g[i] = w[i] - c[i];
        cn_optim_step(o);
    }
    double f = 0.0;
    for (int i = 0; i < 4; i++)
        f += 0.5 * (double)(w[i] - c[i]) * (double)(w[i] - c[i]);
    ck_assert_msg(f < 1e-4, "%s: f = %g after %d steps", qc->cfg, f, qc->steps);
    cn_optim_free(o);
}
END_TEST

/* Found by fuzz_cfg: with no trainable parameter, adam walked its NULL moment
 * buffer (NULL + 0, undefined behaviour that clang's UBSan reports). */
START_TEST(no_trainable_params)
{
    static const char *const types[] = {"adam", "adamw", "sgd\nmomentum=0.9"};
    const float x[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f};
    for (int k = 0; k < 3; k++) {
        char text[256];
        snprintf(text, sizeof text, "[net]\nbatch=2\ninput=4\n[optim]\ntype=%s\n[noise]\n"
                 "type=mask\nq=0.5\n[mse]\ntarget=input\n", types[k]);
        cn_cfg *cfg = NULL;
        cn_net *net = NULL;
        cn_error err = {0};
        double loss = -1.0;
        ck_assert_msg(!cn_cfg_parse_string("test.cfg", text, &cfg, &err) &&
                      !cn_net_create(cfg, &net, &err), "%s", err.msg);
        ck_assert_int_eq(cn_net_n_params(net), 0);
        cn_net_set_batch(net, x, NULL, 2);
        ck_assert_int_eq(cn_net_train_step(net, &loss, &err), CN_OK);
        ck_assert(isfinite(loss) && loss >= 0.0);
        cn_net_free(net);
        cn_cfg_free(cfg);
    }
}
END_TEST

/* The update split over a pool's threads gives the same weights, bit for bit,
 * as one thread: params of odd sizes, some smaller than a part's share. */
START_TEST(split_over_threads)
{
    static const char *const cfgs[] = {"[optim]\nlr=0.01\nmomentum=0.9\nweight_decay=0.01\n",
                                       "[optim]\ntype=adam\nlr=0.01\n",
                                       "[optim]\ntype=adamw\nlr=0.01\nweight_decay=0.1\n"};
    enum { NP = 3, MAXC = 301 };
    static const size_t counts[NP] = {301, 5, 37};
    for (int k = 0; k < 3; k++) {
        float w[2][NP][MAXC], g[2][NP][MAXC]; /* a step consumes its gradients */
        cn_param p[2][NP], *list[2][NP];
        cn_optim *o[2];
        cn_pool *pool = NULL;
        cn_error err = {0};
        ck_assert_int_eq(cn_pool_create(3, &pool, &err), CN_OK);
        cn_rng rng;
        cn_rng_seed(&rng, 5);
        for (int r = 0; r < 2; r++) {
            for (int i = 0; i < NP; i++) {
                memset(&p[r][i], 0, sizeof p[r][i]);
                p[r][i].count = counts[i], p[r][i].value = w[r][i], p[r][i].grad = g[r][i];
                p[r][i].lr_mult = p[r][i].decay_mult = 1.0f;
                list[r][i] = &p[r][i];
                for (size_t j = 0; j < counts[i]; j++)
                    w[r][i][j] = (float)j / 17.0f - 3.0f;
            }
            o[r] = make(cfgs[k], list[r], NP);
        }
        o[1]->pool = pool;
        for (int step = 0; step < 4; step++) {
            for (int i = 0; i < NP; i++)
                for (size_t j = 0; j < counts[i]; j++)
                    g[0][i][j] = g[1][i][j] = cn_rng_uniform(&rng) - 0.5f;
            cn_optim_step(o[0]);
            cn_optim_step(o[1]);
        }
        for (int i = 0; i < NP; i++)
            ck_assert_msg(!memcmp(w[0][i], w[1][i], counts[i] * sizeof(float)),
                          "%s: param %d differs with 3 threads", cfgs[k], i);
        cn_optim_free(o[0]);
        cn_optim_free(o[1]);
        cn_pool_free(pool);
    }
}
END_TEST

Suite *optim_suite(void)
{
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("optim");
    tcase_add_test(tc, sgd_plain);
    tcase_add_test(tc, sgd_momentum_decay);
    tcase_add_test(tc, sgd_nesterov);
    tcase_add_test(tc, adam_coupled);
    tcase_add_test(tc, adam_betas_eps);
    tcase_add_test(tc, adamw_decoupled);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, schedules);
    tcase_add_test(tc, schedule_drives_step);
    tcase_add_test(tc, cfg_errors);
    tcase_add_test(tc, registry);
    tcase_add_test(tc, no_trainable_params);
    tcase_add_test(tc, split_over_threads);
    tcase_add_loop_test(tc, quadratic, 0, (int)(sizeof quad_cases / sizeof quad_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}
