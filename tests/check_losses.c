/* check_losses.c - the loss modules: finite-difference gradient checks of
 * every registered loss (through whole nets with tu_gradcheck, and directly
 * through loss forward/backward on hand-made layers, with every target kind,
 * target_grad on and off, unlabelled samples and weights), values against
 * hand-computed numbers, numerical stability at extreme inputs, the entropy
 * loss against the paper's closed-form gradient, evaluation metrics and
 * golden error messages.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnet/cnet.h"
#include "internal.h"
#include "util.h"

#define NET3 "[net]\nbatch=3\ninput=1,1,4\nseed=5\n"
#define NET4 "[net]\nbatch=4\ninput=1,1,4\nseed=5\n"
/* a dense layer y and a parameter-free target t = softmax(input): with
 * target_grad=0 the target is a constant of the parameters being checked */
#define CONST_T "[softmax]\nname=t\n[dense]\nfrom=input\noutput=4\n"
/* a target t with parameters beside y: with target_grad=1 t's parameters
 * and the input receive the gradient through the target */
#define PARAM_T "[dense]\nname=t\noutput=4\nactivation=sigmoid\n[dense]\nfrom=input\noutput=4\n"

/* ---- whole-net gradient checks ---- */

/* One row per fixture {type, tiny net, check the input, classes}: the input
 * is not checked when the target is the input or a constant target; classes
 * is the number of classes for label targets. Shared with the registry
 * sweep (tests/sweep.c). */
const tu_grad_row tu_loss_rows[] = {
    {"mse", NET3 "[dense]\noutput=4\nactivation=sigmoid\n[mse]\ntarget=input\n", 0, 0, 0},
    {"mse", NET3 "[dense]\noutput=4\n[mse]\nreduce=sum\nweight=0.5\n", 0, 0, 0},
    {"mse", NET3 CONST_T "[mse]\ntarget=t\n", 0, 0, 0},
    {"mse", NET3 PARAM_T "[mse]\ntarget=t\ntarget_grad=1\n", 1, 0, 0},
    {"mae", NET3 "[dense]\noutput=4\nactivation=tanh\n[mae]\n", 0, 0, 0},
    {"mae", NET3 PARAM_T "[mae]\nreduce=sum\ntarget=t\ntarget_grad=1\n", 1, 0, 0},
    {"rmse", NET3 "[dense]\noutput=4\nactivation=sigmoid\n[rmse]\nweight=2\n", 0, 0, 0},
    {"rmse", NET3 PARAM_T "[rmse]\ntarget=t\ntarget_grad=1\n", 1, 0, 0},
    {"huber", NET3 "[dense]\noutput=4\n[huber]\ndelta=0.2\n", 0, 0, 0},
    {"huber", NET3 PARAM_T "[huber]\nreduce=sum\ndelta=0.3\ntarget=t\ntarget_grad=1\n", 1, 0, 0},
    {"huber", NET3 CONST_T "[huber]\ntarget=t\n", 0, 0, 0},
    {"bce", NET3 "[dense]\noutput=4\nactivation=sigmoid\n[bce]\n", 0, 0, 0},
    {"bce", NET3 "[dense]\noutput=4\n[bce]\ninput=logits\nreduce=sum\n", 0, 0, 0},
    {"bce", NET3 PARAM_T "[sigmoid]\n[bce]\ntarget=t\ntarget_grad=1\n", 1, 0, 0},
    {"bce", NET3 CONST_T "[bce]\ninput=logits\ntarget=t\n", 0, 0, 0},
    {"cce", NET3 "[dense]\noutput=4\n[cce]\n", 1, 4, 0},
    {"cce", NET3 "[dense]\noutput=4\n[softmax]\n[cce]\nweight=0.5\n", 1, 3, 0},
    {"cce", NET3 "[dense]\noutput=4\n[tanh]\n[cce]\ninput=logits\n", 1, 4, 0},
    {"cce", NET3 "[dense]\noutput=4\n[softmax]\nname=t\n[dense]\noutput=4\n"
            "[cce]\ntarget=t\ntarget_grad=1\n", 1, 0, 0},
    {"cce", NET3 CONST_T "[softmax]\n[cce]\ntarget=t\n", 0, 0, 0},
    {"kl", NET3 "[dense]\noutput=4\n[softmax]\nname=t\n[dense]\noutput=4\n[softmax]\n"
           "[kl]\ntarget=t\ntarget_grad=1\n", 1, 0, 0},
    {"kl", NET3 "[dense]\noutput=4\n[softmax]\nname=t\n[dense]\noutput=4\n"
           "[kl]\ntarget=t\ntarget_grad=1\n", 1, 0, 0},
    {"kl", NET3 CONST_T "[kl]\ntarget=t\n", 0, 0, 0},
    {"kl", NET3 "[dense]\noutput=4\n[softmax]\n[kl]\ntarget=label\n", 1, 4, 0},
    {"l1", NET3 "[dense]\noutput=3\nactivation=tanh\n[l1]\nweight=0.1\n", 1, 0, 0},
    {"l1", NET3 "[dense]\nname=h\noutput=4\nactivation=sigmoid\n[dense]\noutput=3\n"
           "[l1]\nlayer=h\n[mse]\nlayer=h\ntarget=input\n", 0, 0, 0},
    {"l2", NET3 "[dense]\noutput=3\n[l2]\nweight=0.3\n", 1, 0, 0},
    {"entropy", NET4 "[dense]\noutput=5\nactivation=tanh\n[entropy]\n", 1, 0, 0},
    {"entropy", NET4 "[dense]\noutput=5\n[entropy]\nbeta=-2\nlambda=0\n", 1, 0, 0},
    {"entropy", NET4 "[dense]\noutput=5\n[entropy]\nlambda=0.5\n", 1, 0, 0},
    {"entropy", NET4 "[dense]\noutput=5\n[entropy]\nbeta=-2\nlambda=0.5\n", 1, 0, 0},
    {"entropy", NET4 "[dense]\noutput=3\n[softmax]\n[entropy]\nbeta=1.5\nweight=2\n", 1, 0, 0},
    {"log_sparse", NET3 "[dense]\noutput=4\n[sigmoid]\ngain=2\n[log_sparse]\nweight=0.3\n",
     1, 0, 0},
    {"log_sparse", NET3 "[dense]\noutput=4\nactivation=tanh\n[log_sparse]\n", 1, 0, 0},
    {"kl_sparse", NET3 "[dense]\noutput=4\nactivation=sigmoid\n[kl_sparse]\nrho=0.1\n", 1, 0, 0},
    {"kl_sparse", NET3 "[dense]\noutput=4\n[sigmoid]\ngain=2\n[kl_sparse]\nweight=0.5\n", 1, 0, 0},
    {"kl_sparse", NET3 "[dense]\noutput=4\n[softmax]\n[kl_sparse]\nrho=0.3\n", 1, 0, 0},
    {"kl_sparse", "[net]\nbatch=3\ninput=1,4,4\nseed=5\n[conv]\nfilters=2\nactivation=sigmoid\n"
                  "[kl_sparse]\n", 1, 0, 0},
    {"kl_sparse", NET3 "[dense]\nname=h\noutput=3\nactivation=sigmoid\n[dense]\noutput=4\n"
                  "[kl_sparse]\nlayer=h\nrho=0.2\n[mse]\ntarget=input\n", 0, 0, 0},
    {"contractive", NET3 "[dense]\noutput=3\nactivation=sigmoid\n[contractive]\n", 1, 0, 0},
    {"contractive", NET3 "[dense]\noutput=3\nactivation=sigmoid\ngain=2\n[contractive]\n"
                    "weight=0.5\n", 1, 0, 0},
    {"contractive", NET3 "[dense]\noutput=5\nactivation=tanh\n[contractive]\n", 1, 0, 0},
    {"contractive", NET3 "[dense]\noutput=5\nactivation=relu\n[contractive]\nweight=2\n", 1, 0, 0},
    {"contractive", NET3 "[dense]\noutput=5\nactivation=tanh\n[dense]\nname=enc\noutput=3\n"
                    "activation=sigmoid\n[dense]\noutput=4\n[contractive]\nlayer=enc\n", 1, 0, 0},
    {"contractive", NET3 "[dense]\nname=enc\noutput=3\nactivation=tanh\n[dense]\noutput=4\n"
                    "activation=sigmoid\n[mse]\ntarget=input\n[contractive]\nlayer=enc\n"
                    "weight=0.3\n", 0, 0, 0},
    /* the whole VAE: mu and logvar dense, the sample, KL and a Bernoulli decoder */
    {"kl_gauss", NET3 "[dense]\nname=mu\noutput=3\n[dense]\nname=lv\nfrom=input\noutput=3\n"
                 "activation=tanh\n[sample]\nfrom=mu,lv\n[kl_gauss]\n[dense]\noutput=4\n"
                 "activation=sigmoid\n[bce]\ntarget=input\nreduce=sum\n", 0, 0, 0},
    {"kl_gauss", NET3 "[dense]\nname=h\noutput=5\nactivation=relu\n[dense]\nname=mu\noutput=2\n"
                 "[dense]\nname=lv\nfrom=h\noutput=2\n[sample]\nfrom=mu,lv\n[kl_gauss]\n"
                 "weight=0.5\n", 1, 0, 0},
    /* one-hot label targets for the element-wise losses (the separator's L1) */
    {"mae", NET3 "[dense]\noutput=4\nactivation=sigmoid\n[mae]\ntarget=label\n", 1, 3, 0},
    {"mse", NET3 "[dense]\noutput=4\n[softmax]\n[mse]\ntarget=label\nreduce=sum\n", 1, 4, 0},
    /* the auto-classifier's strict objective, and every operator with weights */
    {"combine", NET3 "[dense]\nname=a\noutput=4\nactivation=sigmoid\n[dense]\noutput=3\n"
                "[softmax]\n[mse]\nname=g\nlayer=a\ntarget=input\n[cce]\nname=c\n"
                "[combine]\nexpr = c + g + abs(c - g)\n", 0, 3, 0},
    {"combine", NET3 "[dense]\nname=a\noutput=4\nactivation=tanh\n[mse]\nname=p\nlayer=a\n"
                "target=input\n[dense]\noutput=3\n[cce]\nname=q\nweight=0.5\n[combine]\n"
                "weight=0.7\nexpr=2*p*q - max(p, 0.3*q)/3 + min(p, q) - -q/(1 + p)\n", 0, 3, 0},
    /* a combine of a combine and a weight penalty */
    {"combine", NET3 "[dense]\nname=a\noutput=4\nactivation=sigmoid\n[dense]\noutput=3\n"
                "[mse]\nname=g\nlayer=a\ntarget=input\n[cce]\nname=c\n[combine]\n"
                "name=inner\nexpr=max(c, g)\n[l2]\nname=w\nlayer=a\n[combine]\n"
                "expr=3*inner + 0.1*w\n", 0, 3, 0},
    /* on probabilities (X = ln Y): Q is the softmax layer's output itself */
    {"entropy", NET4 "[dense]\noutput=4\n[softmax]\n[entropy]\n", 1, 0, 0},
    {"entropy", NET4 "[dense]\noutput=5\n[softmax]\ntemperature=2\n[entropy]\nlambda=0.5\n",
     1, 0, 0},
    {"entropy", NET4 "[dense]\noutput=4\nactivation=sigmoid\n[entropy]\ninput=probs\n"
     "beta=-2\n", 1, 0, 0},
};
const int tu_n_loss_rows = (int)(sizeof tu_loss_rows / sizeof tu_loss_rows[0]);

START_TEST(test_net_gradcheck)
{
    const tu_grad_row *row = &tu_loss_rows[_i];
    cn_net *net = tu_net(row->cfg);
    double worst = tu_gradcheck(net, row->with_input, row->classes, 17 + (uint64_t)_i);
    ck_assert_msg(worst < 1e-2, "row %d (%s): max relative error %g\n%s", _i, row->type, worst,
                  row->cfg);
    cn_net_free(net);
}
END_TEST

/* ---- direct checks on hand-made layers ---- */

#define MAXV 48

/* A loss set up on hand-made layers: y (n, D) attached, t (n, D) target,
 * y owning a weight "y.W" and a bias "y.b" (for l1/l2). A loss offering
 * CN_OFFER_GAUSS_POSTERIOR (kl_gauss) attaches to z instead, a layer
 * reading mu = y and logvar = t. */
typedef struct bare {
    cn_cfg *cfg;
    cn_layer y, t, z;
    cn_param w, b;
    float yv[MAXV], dy[MAXV], tv[MAXV], dt[MAXV], zv[MAXV], dz[MAXV];
    float wv[6], wg[6], bv[2], bg[2];
    int labels[8];
    cn_loss loss;
    cn_ctx ctx;
} bare;

static const cn_layer_ops fake_dense = {.type = "dense"};
static const cn_layer_ops fake_softmax = {.type = "softmax", .offers = CN_OFFER_PROBS};

/* What the activation slot of a [dense] layer with activation=sigmoid says. */
static int fake_sigmoid_act(const cn_layer *l, float *param)
{
    (void)l;
    *param = 1.0f;
    return CN_ACT_SIGMOID;
}
/* ... and its linear_weight slot: its own W (y.W, the layer's first param). */
static const cn_param *fake_linear_weight(const cn_layer *l)
{
    return l->params[0];
}
static const cn_layer_ops fake_sigmoid = {.type = "dense", .activation = fake_sigmoid_act,
                                          .linear_weight = fake_linear_weight};

static void bare_layer(cn_layer *l, const char *name, const cn_layer_ops *ops, float *v,
                       float *g, int n, int D)
{
    snprintf(l->name, sizeof l->name, "%s", name);
    l->ops = ops;
    l->c = D;
    l->h = l->w = 1;
    l->out = (cn_tensor){v, n, D, 1, 1};
    l->dout = (cn_tensor){g, n, D, 1, 1};
    l->needs_grad = 1;
}

static void bare_param(cn_param *p, const char *name, float *v, float *g, size_t count)
{
    snprintf(p->name, sizeof p->name, "%s", name);
    p->count = count;
    p->shape[0] = (int)count;
    p->shape[1] = p->shape[2] = p->shape[3] = 1;
    p->value = v;
    p->grad = g;
}

/* Set up `type` with cfg keys `keys` on y (a [softmax] when softmax is 1, a
 * [dense] with activation=sigmoid when 2; its weight y.W is then (6, 1)). */
static void bare_init(bare *b, const char *type, const char *keys, cn_target_kind kind,
                      int target_grad, int n, int D, int softmax)
{
    memset(b, 0, sizeof *b);
    ck_assert(n * D <= MAXV && n <= 8);
    const cn_loss_ops *ops = cn_loss_find(type);
    ck_assert_ptr_nonnull(ops);
    char text[256];
    snprintf(text, sizeof text, "[%s]\n%s", type, keys);
    cn_error err = {0};
    ck_assert_msg(cn_cfg_parse_string("bare.cfg", text, &b->cfg, &err) == CN_OK, "%s", err.msg);
    bare_layer(&b->y, "y", softmax == 2 ? &fake_sigmoid : softmax ? &fake_softmax : &fake_dense,
               b->yv, b->dy, n, D);
    bare_layer(&b->t, "t", &fake_dense, b->tv, b->dt, n, D);
    bare_param(&b->w, "y.W", b->wv, b->wg, 6);
    bare_param(&b->b, "y.b", b->bv, b->bg, 2);
    b->b.role = CN_PARAM_BIAS; /* the penalties skip it */
    b->y.params[0] = &b->w;
    b->y.params[1] = &b->b;
    b->y.n_params = 2;
    b->loss.ops = ops;
    snprintf(b->loss.name, sizeof b->loss.name, "%s", type);
    b->loss.layer = &b->y;
    if (ops->offers & CN_OFFER_GAUSS_POSTERIOR) {
        bare_layer(&b->z, "z", &fake_dense, b->zv, b->dz, n, D);
        b->z.in[0] = &b->y;
        b->z.in[1] = &b->t;
        b->z.n_in = 2;
        b->loss.layer = &b->z;
    }
    b->loss.target_kind = kind;
    b->loss.target = kind == CN_TARGET_INPUT || kind == CN_TARGET_LAYER ? &b->t : NULL;
    b->loss.target_grad = target_grad;
    b->loss.weight = 1.0f;
    b->ctx = (cn_ctx){.train = 1, .n = n, .labels = kind == CN_TARGET_LABEL ? b->labels : NULL};
    cn_sec s = cn_sec_make(b->cfg, &b->cfg->sections[0], ops->keys, NULL, NULL);
    if (ops->setup)
        ck_assert_msg(ops->setup(&b->loss, &s, &err) == CN_OK, "%s", err.msg);
}

static void bare_free(bare *b)
{
    if (b->loss.ops->destroy)
        b->loss.ops->destroy(&b->loss);
    cn_cfg_free(b->cfg);
}

static double bare_value(bare *b)
{
    return b->loss.ops->forward(&b->loss, &b->ctx);
}

/* Zero the gradients, run forward then backward. */
static void bare_backward(bare *b)
{
    memset(b->dy, 0, sizeof b->dy);
    memset(b->dt, 0, sizeof b->dt);
    memset(b->wg, 0, sizeof b->wg);
    memset(b->bg, 0, sizeof b->bg);
    bare_value(b);
    b->loss.ops->backward(&b->loss, &b->ctx);
}

/* Worst relative error of grad against central differences of
 * weight * forward over value[0..count), skipping kinks. */
static double bare_check(bare *b, float *value, const float *grad, size_t count)
{
    double worst = 0.0;
    for (size_t j = 0; j < count; j++) {
        float v = value[j];
        double fd[2];
        for (int h = 0; h < 2; h++) {
            float e = h ? 5e-4f : 1e-3f;
            value[j] = v + e;
            double fp = bare_value(b);
            value[j] = v - e;
            double fm = bare_value(b);
            value[j] = v;
            fd[h] = b->loss.weight * (fp - fm) / (2.0 * e);
        }
        if (fabs(fd[0] - fd[1]) > 0.05 * fmax(fmax(fabs(fd[0]), fabs(fd[1])), 1e-2))
            continue;
        double rel = fabs(grad[j] - fd[0]) / fmax(fabs(grad[j]) + fabs(fd[0]), 1e-3);
        worst = fmax(worst, rel);
    }
    return worst;
}

/* How the values of y or t are drawn. */
enum fill { REAL, PROB, DIST };

static void fill(float *x, int n, int D, enum fill how, cn_rng *rng)
{
    for (int s = 0; s < n; s++) {
        float *row = x + (size_t)s * D, sum = 0.0f;
        for (int d = 0; d < D; d++) {
            float u = cn_rng_uniform(rng);
            row[d] = how == REAL ? 4.0f * u - 2.0f : how == PROB ? 0.05f + 0.9f * u : 0.1f + u;
            sum += row[d];
        }
        for (int d = 0; how == DIST && d < D; d++)
            row[d] /= sum;
    }
}

/* One direct fixture: type, keys, target kind, target_grad, shape and the
 * value distributions of y and t; softmax marks y as a [softmax] output (1)
 * or a [dense] sigmoid output (2, D = 6 for contractive's W). */
typedef struct bare_row {
    const char *type, *keys;
    cn_target_kind kind;
    int target_grad, n, D;
    enum fill y, t;
    int softmax;
} bare_row;

#define IN CN_TARGET_INPUT
#define LAB CN_TARGET_LABEL
#define LAY CN_TARGET_LAYER
#define NONE CN_TARGET_NONE

static const bare_row bare_rows[] = {
    {"mse", "", IN, 0, 3, 4, REAL, REAL, 0},
    {"mse", "reduce=sum\n", LAY, 1, 3, 4, REAL, REAL, 0},
    {"mse", "", LAY, 0, 2, 5, REAL, REAL, 0},
    {"mae", "", LAY, 1, 3, 4, REAL, REAL, 0},
    {"mae", "reduce=sum\n", IN, 0, 3, 4, REAL, REAL, 0},
    {"rmse", "", LAY, 1, 3, 4, REAL, REAL, 0},
    {"rmse", "", IN, 0, 2, 3, REAL, REAL, 0},
    {"huber", "delta=0.7\n", LAY, 1, 4, 4, REAL, REAL, 0},
    {"huber", "delta=2\nreduce=sum\n", IN, 0, 3, 4, REAL, REAL, 0},
    {"bce", "", LAY, 1, 3, 4, PROB, PROB, 0},
    {"bce", "reduce=sum\n", IN, 0, 3, 4, PROB, PROB, 0},
    {"bce", "input=logits\n", LAY, 1, 3, 4, REAL, PROB, 0},
    {"bce", "input=logits\nreduce=sum\n", LAY, 0, 3, 4, REAL, PROB, 0},
    {"cce", "", LAB, 0, 4, 3, REAL, REAL, 0},
    {"cce", "", LAB, 0, 4, 3, DIST, REAL, 1},
    {"cce", "input=probs\n", LAB, 0, 4, 4, DIST, REAL, 0},
    {"cce", "input=logits\n", LAB, 0, 3, 4, DIST, REAL, 0},
    {"cce", "", LAY, 1, 3, 4, REAL, DIST, 0},
    {"cce", "input=logits\n", LAY, 1, 3, 4, REAL, PROB, 0}, /* t not normalised */
    {"cce", "", LAY, 1, 3, 4, DIST, DIST, 1},
    {"cce", "", LAY, 0, 3, 4, REAL, DIST, 0},
    {"kl", "", LAY, 1, 3, 4, DIST, DIST, 1},
    {"kl", "input=logits\n", LAY, 1, 3, 4, REAL, DIST, 0},
    {"kl", "", LAY, 0, 3, 4, REAL, DIST, 0},
    {"kl", "", LAB, 0, 4, 3, DIST, REAL, 1},
    {"kl", "input=logits\n", LAB, 0, 4, 3, REAL, REAL, 0},
    {"l1", "", NONE, 0, 2, 3, REAL, REAL, 0},
    {"l2", "", NONE, 0, 2, 3, REAL, REAL, 0},
    {"entropy", "", NONE, 0, 4, 5, REAL, REAL, 0},
    {"entropy", "beta=-2\nlambda=0\n", NONE, 0, 4, 5, REAL, REAL, 0},
    {"entropy", "lambda=0.5\n", NONE, 0, 3, 4, REAL, REAL, 0},
    {"entropy", "beta=-2\nlambda=0.5\n", NONE, 0, 4, 3, REAL, REAL, 0},
    {"entropy", "beta=0.5\nlambda=2\n", NONE, 0, 2, 6, REAL, REAL, 0},
    {"log_sparse", "", NONE, 0, 3, 4, REAL, REAL, 0},
    {"kl_sparse", "rho=0.2\n", NONE, 0, 4, 5, PROB, REAL, 1},
    {"kl_sparse", "", NONE, 0, 2, 6, PROB, REAL, 2},
    {"contractive", "", NONE, 0, 3, 6, PROB, REAL, 2},
    /* mu in y, logvar in t */
    {"kl_gauss", "", NONE, 0, 3, 4, REAL, REAL, 0},
    {"kl_gauss", "", NONE, 0, 2, 5, REAL, PROB, 0},
    /* one-hot label targets; sample 1 unlabelled */
    {"mse", "", LAB, 0, 4, 3, REAL, REAL, 0},
    {"mae", "reduce=sum\n", LAB, 0, 3, 4, REAL, REAL, 0},
    {"huber", "delta=0.5\n", LAB, 0, 3, 4, REAL, REAL, 0},
    {"bce", "", LAB, 0, 3, 4, PROB, REAL, 0},
    /* entropy on probabilities (X = ln Y): auto on a [softmax], and input=probs */
    {"entropy", "", NONE, 0, 3, 4, DIST, REAL, 1},
    {"entropy", "input=probs\nbeta=-2\nlambda=0.5\n", NONE, 0, 4, 3, PROB, REAL, 0},
};
#define N_BARE_ROWS ((int)(sizeof bare_rows / sizeof bare_rows[0]))

static int all_zero(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (x[i] != 0.0f)
            return 0;
    return 1;
}

START_TEST(test_bare_gradcheck)
{
    const bare_row *row = &bare_rows[_i];
    bare b;
    bare_init(&b, row->type, row->keys, row->kind, row->target_grad, row->n, row->D,
              row->softmax);
    cn_rng rng;
    cn_rng_seed(&rng, 99 + (uint64_t)_i);
    fill(b.yv, row->n, row->D, row->y, &rng);
    fill(b.tv, row->n, row->D, row->t, &rng);
    fill(b.wv, 1, 6, REAL, &rng);
    fill(b.bv, 1, 2, REAL, &rng);
    /* sample 1 unlabelled: skipped by the value and the gradient */
    for (int s = 0; s < row->n; s++)
        b.labels[s] = s == 1 ? -1 : (s + 2) % row->D;
    b.loss.weight = 0.7f;
    bare_backward(&b);
    size_t count = (size_t)row->n * row->D;
    double worst = bare_check(&b, b.yv, b.dy, count);
    int gauss = (b.loss.ops->offers & CN_OFFER_GAUSS_POSTERIOR) != 0; /* z reads y and t */
    if ((row->kind == LAY && row->target_grad) || gauss)
        worst = fmax(worst, bare_check(&b, b.tv, b.dt, count));
    else
        ck_assert_msg(all_zero(b.dt, count), "row %d: gradient leaked into the target", _i);
    if (row->kind == NONE && strcmp(row->type, "entropy") && !gauss) {
        worst = fmax(worst, bare_check(&b, b.wv, b.wg, 6));
        ck_assert_msg(all_zero(b.bg, 2), "row %d: the bias was penalised", _i);
    }
    if (row->kind == LAB)
        ck_assert_msg(all_zero(b.dy + row->D, (size_t)row->D), "row %d: unlabelled got a gradient",
                      _i);
    ck_assert_msg(worst < 1e-2, "row %d (%s %s): max relative error %g", _i, row->type, row->keys,
                  worst);
    bare_free(&b);
}
END_TEST

/* The sweep over the registry passes (tests/sweep.c), and every built-in
 * type has rows in both tables of its own; [combine] works on other losses
 * of a network, so it is checked through nets only. */
START_TEST(test_coverage)
{
    tu_swept swept[64];
    int n, count = 0;
    ck_assert_int_eq(tu_sweep_registered(TU_LOSSES, tu_loss_rows, tu_n_loss_rows, swept, 64, &n),
                     0);
    for (const cn_loss_ops *const *t = cn_loss_types(); *t; t++, count++) {
        int in_bare = !strcmp((*t)->type, "combine");
        for (int i = 0; i < N_BARE_ROWS; i++)
            in_bare |= !strcmp(bare_rows[i].type, (*t)->type);
        ck_assert_str_eq(swept[count].type, (*t)->type);
        ck_assert_msg(swept[count].rows > 0 && in_bare, "loss type '%s' has no gradient-check "
                      "row", (*t)->type);
        ck_assert_ptr_eq(cn_loss_find((*t)->type), *t);
        ck_assert_ptr_null(cn_layer_find((*t)->type));
    }
    ck_assert_int_eq(n, count);
    ck_assert_ptr_null(cn_loss_find("nope"));
}
END_TEST

/* ---- values against hand-computed numbers ---- */

static double value_of(const char *type, const char *keys, cn_target_kind kind, int n, int D,
                       int softmax, const float *y, const float *t, const int *labels)
{
    bare b;
    bare_init(&b, type, keys, kind, 0, n, D, softmax);
    memcpy(b.yv, y, (size_t)n * D * sizeof *y);
    if (t)
        memcpy(b.tv, t, (size_t)n * D * sizeof *t);
    if (labels)
        memcpy(b.labels, labels, (size_t)n * sizeof *labels);
    double v = bare_value(&b);
    bare_free(&b);
    return v;
}

START_TEST(test_values_elementwise)
{
    /* residuals 0.5, 0, -2, 1.5 over n = 2 samples of D = 2 */
    const float y[] = {0.5f, 1.0f, -1.0f, 2.0f}, t[] = {0.0f, 1.0f, 1.0f, 0.5f};
    ck_assert_double_eq_tol(value_of("mse", "", IN, 2, 2, 0, y, t, NULL), 6.5 / 4, 1e-6);
    ck_assert_double_eq_tol(value_of("mse", "reduce=sum\n", IN, 2, 2, 0, y, t, NULL), 3.25, 1e-6);
    ck_assert_double_eq_tol(value_of("mae", "", LAY, 2, 2, 0, y, t, NULL), 1.0, 1e-6);
    ck_assert_double_eq_tol(value_of("mae", "reduce=sum\n", IN, 2, 2, 0, y, t, NULL), 2.0, 1e-6);
    ck_assert_double_eq_tol(value_of("rmse", "", IN, 2, 2, 0, y, t, NULL), sqrt(1.625), 1e-6);
    /* huber, delta 1: 0.125 + 0 + 1.5 + 1.0 */
    ck_assert_double_eq_tol(value_of("huber", "", IN, 2, 2, 0, y, t, NULL), 2.625 / 4, 1e-6);
    ck_assert_double_eq_tol(value_of("huber", "delta=3\nreduce=sum\n", IN, 2, 2, 0, y, t, NULL),
                            (0.125 + 2.0 + 1.125) / 2, 1e-6);
    /* bce: -ln 0.5 and -ln(1 - 0.9); logits: softplus(0) and softplus(2) */
    const float p[] = {0.5f, 0.9f}, z[] = {0.0f, 2.0f}, tb[] = {1.0f, 0.0f};
    ck_assert_double_eq_tol(value_of("bce", "", IN, 1, 2, 0, p, tb, NULL), 1.4978661368, 1e-6);
    ck_assert_double_eq_tol(value_of("bce", "input=logits\n", IN, 1, 2, 0, z, tb, NULL),
                            1.4100375958, 1e-6);
}
END_TEST

START_TEST(test_values_distributions)
{
    /* cce on logits: -ln softmax(1,2,3)_2, sample 1 unlabelled, ln 3 for a flat sample */
    const float y[] = {1, 2, 3, 9, 9, 9, 0, 0, 0};
    const int labels[] = {2, -1, 0};
    ck_assert_double_eq_tol(value_of("cce", "", LAB, 3, 3, 0, y, NULL, labels), 0.7531091266,
                            1e-6);
    const int none[] = {-1, -1, -1};
    ck_assert_double_eq(value_of("cce", "", LAB, 3, 3, 0, y, NULL, none), 0.0);
    /* on a softmax output (input=auto reads probabilities): -ln 0.3 */
    const float q[] = {0.2f, 0.3f, 0.5f};
    const int one[] = {1};
    ck_assert_double_eq_tol(value_of("cce", "", LAB, 1, 3, 1, q, NULL, one), 1.2039728043, 1e-6);
    /* the four-sided die of H. Bae's lecture "Loss function and cooperative learning":
     * KL((1/4)^4 || (1/2, 1/4, 1/8, 1/8)) = 0.25 bits */
    const float d4[] = {0.5f, 0.25f, 0.125f, 0.125f}, u4[] = {0.25f, 0.25f, 0.25f, 0.25f};
    ck_assert_double_eq_tol(value_of("kl", "", LAY, 1, 4, 1, d4, u4, NULL), 0.25 * log(2.0), 1e-6);
    ck_assert_double_eq_tol(value_of("kl", "", LAY, 1, 4, 1, u4, u4, NULL), 0.0, 1e-7);
    /* zero target entries add nothing: KL(1,0,0,0 || d4) = ln 2 */
    const float onehot[] = {1, 0, 0, 0};
    ck_assert_double_eq_tol(value_of("kl", "", LAY, 1, 4, 1, d4, onehot, NULL), log(2.0), 1e-6);
    /* cross-entropy of the die: 2.25 bits */
    ck_assert_double_eq_tol(value_of("cce", "", LAY, 1, 4, 1, d4, u4, NULL), 2.25 * log(2.0),
                            1e-6);
}
END_TEST

START_TEST(test_values_penalties)
{
    bare b;
    bare_init(&b, "l1", "", NONE, 0, 1, 2, 0);
    const float w[6] = {1, -2, 0.5f, 0, 0, 0};
    memcpy(b.wv, w, sizeof w);
    b.bv[0] = 10.0f;
    b.loss.weight = 2.0f;
    ck_assert_double_eq_tol(bare_value(&b), 3.5, 1e-6);
    bare_backward(&b);
    ck_assert_float_eq(b.wg[0], 2.0f);
    ck_assert_float_eq(b.wg[1], -2.0f);
    ck_assert_float_eq(b.wg[3], 0.0f);
    ck_assert_float_eq(b.bg[0], 0.0f);
    bare_free(&b);
    bare_init(&b, "l2", "", NONE, 0, 1, 2, 0);
    memcpy(b.wv, w, sizeof w);
    b.bv[0] = 10.0f;
    ck_assert_double_eq_tol(bare_value(&b), 2.625, 1e-6);
    bare_backward(&b);
    ck_assert_float_eq(b.wg[1], -2.0f);
    ck_assert_float_eq(b.wg[2], 0.5f);
    ck_assert_float_eq(b.bg[0], 0.0f);
    bare_free(&b);
}
END_TEST

/* The 3 nodes x 2 samples example: X[:,0] = (0.5, -1, 2), X[:,1] = (1, 0, -0.5),
 * C / B computed in Python from eqs. 1-5. */
START_TEST(test_values_entropy)
{
    const float x[] = {0.5f, -1.0f, 2.0f, 1.0f, 0.0f, -0.5f};
    ck_assert_double_eq_tol(value_of("entropy", "", NONE, 2, 3, 0, x, NULL, NULL),
                            0.006979124672722603, 1e-6);
    ck_assert_double_eq_tol(value_of("entropy", "beta=-2\nlambda=0\n", NONE, 2, 3, 0, x, NULL,
                                     NULL), 0.36564432220046167, 1e-6);
    ck_assert_double_eq_tol(value_of("entropy", "lambda=0.5\n", NONE, 2, 3, 0, x, NULL, NULL),
                            0.38537552762598665, 1e-6);
    ck_assert_double_eq_tol(value_of("entropy", "beta=-2\nlambda=0.5\n", NONE, 2, 3, 0, x, NULL,
                                     NULL), 0.11871518042896967, 1e-6);
}
END_TEST

/* The gradient equals eq. 14 of the paper (divided by B), evaluated naively. */
START_TEST(test_entropy_closed_form)
{
    enum { N = 4, B = 3 };
    const float x[B * N] = {0.3f, -1.2f, 0.8f, 0.1f, 1.5f, 0.2f, -0.4f, 0.9f,
                            -0.7f, 0.6f, 1.1f, -0.2f};
    const double beta = -2.0, lambda = 0.5;
    bare b;
    bare_init(&b, "entropy", "beta=-2\nlambda=0.5\n", NONE, 0, B, N, 0);
    memcpy(b.yv, x, sizeof x);
    bare_backward(&b);
    double q[B][N], p[B][N];
    for (int l = 0; l < B; l++) {
        double z = 0.0;
        for (int i = 0; i < N; i++)
            z += exp(-beta * x[l * N + i]);
        for (int i = 0; i < N; i++)
            q[l][i] = exp(-beta * x[l * N + i]) / z;
    }
    for (int i = 0; i < N; i++) {
        double z = 0.0;
        for (int l = 0; l < B; l++)
            z += exp(-beta * x[l * N + i]);
        for (int l = 0; l < B; l++)
            p[l][i] = exp(-beta * x[l * N + i]) / z;
    }
    for (int n = 0; n < B; n++)
        for (int k = 0; k < N; k++) {
            double sq = 0.0, sp = 0.0, xk = x[n * N + k];
            for (int i = 0; i < N; i++)
                sq += x[n * N + i] * q[n][i];
            for (int l = 0; l < B; l++)
                sp += x[l * N + k] * p[l][k];
            double g = beta * beta * (q[n][k] * (sq - xk) - lambda * p[n][k] * (sp - xk));
            ck_assert_double_eq_tol(b.dy[n * N + k], g / B, 1e-6);
        }
    bare_free(&b);
}
END_TEST

/* ---- numerical stability ---- */

START_TEST(test_stability)
{
    const char *const entropy_keys[] = {"", "beta=-2\n", "beta=1\nlambda=0.5\n"};
    for (int k = 0; k < 3; k++) {
        bare b;
        bare_init(&b, "entropy", entropy_keys[k], NONE, 0, 3, 4, 0);
        const float x[12] = {1e4f, -1e4f, 0, 5e3f, -1e4f, 1e4f, 1e4f, 0,
                             3, -1e4f, 1e4f, -2};
        memcpy(b.yv, x, sizeof x);
        double v = bare_value(&b);
        bare_backward(&b);
        ck_assert_msg(isfinite(v) && cn_all_finite(b.dy, 12), "entropy '%s' at |X| = 1e4",
                      entropy_keys[k]);
        bare_free(&b);
    }
    /* probabilities exactly 0 and 1, against both extremes and a middle */
    const float p[6] = {0, 1, 0, 1, 0, 1}, t[6] = {1, 0, 0.5f, 0.5f, 0, 1};
    const char *const prob_losses[][2] = {{"bce", ""}, {"bce", "input=logits\n"},
                                          {"kl", "input=probs\n"}, {"cce", "input=probs\n"}};
    for (int k = 0; k < 4; k++) {
        bare b;
        bare_init(&b, prob_losses[k][0], prob_losses[k][1], LAY, 1, 3, 2, 0);
        memcpy(b.yv, p, sizeof p);
        memcpy(b.tv, t, sizeof t);
        double v = bare_value(&b);
        bare_backward(&b);
        ck_assert_msg(isfinite(v) && cn_all_finite(b.dy, 6) && cn_all_finite(b.dt, 6),
                      "%s %s at p = 0 and 1", prob_losses[k][0], prob_losses[k][1]);
        bare_free(&b);
    }
    /* logits far out: a stable log-softmax and softplus */
    const float z[6] = {1e4f, -1e4f, -1e4f, 1e4f, 80, -80};
    for (int k = 0; k < 2; k++) {
        bare b;
        bare_init(&b, k ? "bce" : "cce", "input=logits\n", LAY, 0, 3, 2, 0);
        memcpy(b.yv, z, sizeof z);
        memcpy(b.tv, t, sizeof t);
        double v = bare_value(&b);
        bare_backward(&b);
        ck_assert_msg(isfinite(v) && cn_all_finite(b.dy, 6), "%s logits at 1e4", k ? "bce" : "cce");
        bare_free(&b);
    }
}
END_TEST

/* ---- through the net: values, metrics, messages ---- */

/* The minimal cfg with zero weights: y = sigmoid(0) = 0.5 against the input. */
START_TEST(test_net_value)
{
    cn_net *net = tu_net("[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=4\nactivation=sigmoid\n"
                         "[mse]\ntarget=input\nweight=2\n");
    cn_layer *l = cn_net_layer(net, 1);
    for (int i = 0; i < l->n_params; i++)
        memset(l->params[i]->value, 0, l->params[i]->count * sizeof(float));
    const float x[12] = {0, 1, 0.5f, 0.25f, 1, 1, 1, 1, 0, 0, 0, 0};
    double want = 0.0;
    for (int i = 0; i < 12; i++)
        want += (0.5 - x[i]) * (0.5 - x[i]) / 12.0;
    cn_net_set_batch(net, x, NULL, 3);
    cn_net_forward(net);
    ck_assert_double_eq_tol(cn_net_loss_forward(net), 2.0 * want, 1e-6);
    ck_assert_double_eq_tol(cn_net_loss(net, 0)->value, want, 1e-6);
    /* a partial batch averages over its own samples */
    cn_net_set_batch(net, x, NULL, 1);
    cn_net_forward(net);
    ck_assert_double_eq_tol(cn_net_loss_forward(net), 2.0 * (0.25 + 0.25 + 0 + 0.0625) / 4,
                            1e-6);
    cn_net_free(net);
}
END_TEST

/* The clustering head written both ways: [entropy] on a dense layer takes
 * the softmax of its logits; on a [softmax] layer of those logits it reads
 * the probabilities as they are. Both give the same entropies of Q = the
 * softmax rows (lambda = 0); with lambda the probabilities' P is each node's
 * Y normalised over the batch. */
START_TEST(test_entropy_pairings)
{
    const float x[6] = {2.0f, -1.0f, 0.5f, 0.0f, 1.5f, -0.5f}; /* (2, 3) logits */
    cn_net *logits = tu_net("[net]\nbatch=2\ninput=1,1,3\n[linear]\n[entropy]\nlambda=0\n");
    cn_net *probs = tu_net("[net]\nbatch=2\ninput=1,1,3\n[softmax]\n[entropy]\nlambda=0\n");
    double y[6], hs = 0.0, hn = 0.0;
    for (int s = 0; s < 2; s++) {
        double z = exp(x[3 * s]) + exp(x[3 * s + 1]) + exp(x[3 * s + 2]);
        for (int d = 0; d < 3; d++) {
            y[3 * s + d] = exp(x[3 * s + d]) / z;
            hs -= y[3 * s + d] * log(y[3 * s + d]) / 2;
        }
    }
    cn_net *nets[2] = {logits, probs};
    for (int k = 0; k < 2; k++) {
        cn_net_set_batch(nets[k], x, NULL, 2);
        cn_net_forward(nets[k]);
        ck_assert_double_eq_tol(cn_net_loss_forward(nets[k]), hs, 1e-6);
        cn_net_free(nets[k]);
    }
    for (int d = 0; d < 3; d++) { /* node d's probabilities over the batch */
        double a = y[d] / (y[d] + y[3 + d]), c = 1.0 - a;
        hn -= a * log(a) + c * log(c);
    }
    probs = tu_net("[net]\nbatch=2\ninput=1,1,3\n[softmax]\n[entropy]\nlambda=0.5\n");
    cn_net_set_batch(probs, x, NULL, 2);
    cn_net_forward(probs);
    ck_assert_double_eq_tol(cn_net_loss_forward(probs), hs - 0.5 * hn / 2, 1e-6);
    cn_net_free(probs);
}
END_TEST

/* cce reports accuracy and the entropy loss its two entropies in cn_eval. */
START_TEST(test_metrics)
{
    cn_net *net = tu_net("[net]\nbatch=2\ninput=1,1,3\n[linear]\n[cce]\n[entropy]\n");
    float x[12] = {3, 1, 0, 0, 2, 1, 0, 0, 5, 9, 1, 1};
    int labels[4] = {0, 2, 2, 1};
    cn_dataset ds = {.n = 4, .c = 1, .h = 1, .w = 3, .n_classes = 3, .f32 = x, .scale = 1,
                     .labels = labels};
    cn_metrics m;
    cn_error err = {0};
    ck_assert_msg(cn_eval(net, &ds, NULL, 4, &m, &err) == CN_OK, "%s", err.msg);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "accuracy"), 0.5, 1e-9);
    /* entropies of softmax rows; the node entropy of the pairs over ln 2 */
    double hs = 0.0, hn = 0.0;
    for (int s = 0; s < 4; s++) {
        double z = 0.0, h = 0.0;
        for (int d = 0; d < 3; d++)
            z += exp(x[s * 3 + d]);
        for (int d = 0; d < 3; d++)
            h -= exp(x[s * 3 + d]) / z * log(exp(x[s * 3 + d]) / z);
        hs += h / 4;
    }
    for (int batch = 0; batch < 2; batch++)
        for (int d = 0; d < 3; d++) {
            double a = exp(x[batch * 6 + d]), c = exp(x[batch * 6 + 3 + d]);
            double pa = a / (a + c), pc = c / (a + c);
            hn -= (pa * log(pa) + pc * log(pc)) / log(2.0) / 6;
        }
    ck_assert_double_eq_tol(cn_metrics_get(&m, "entropy_sample"), hs, 1e-6);
    ck_assert_double_eq_tol(cn_metrics_get(&m, "entropy_node"), hn, 1e-6);
    cn_net_free(net);
}
END_TEST

static void golden(const char *cfg, cn_status code, const char *msg)
{
    cn_error err = {0};
    ck_assert_int_eq(tu_net_err(cfg, &err), code);
    ck_assert_str_eq(err.msg, msg);
}

START_TEST(test_errors)
{
    golden("[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=4\n[mse]\ntarget=none\n", CN_ERR_CFG,
           "test.cfg:7: key 'target' = 'none': [mse] accepts target input, label, a layer");
    golden("[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=1\n[mae]\ntarget=label\n", CN_ERR_SHAPE,
           "test.cfg:6: [mae]: target=label needs one value per class (at least 2), but layer "
           "'dense1' (dense, 1) has 1");
    golden("[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=4\n[kl_gauss]\n", CN_ERR_CFG,
           "test.cfg:6: [kl_gauss]: layer 'dense1' (dense, 4) does not read a mean and a "
           "log-variance of its own size; attach kl_gauss to a [sample] layer (from=mu,logvar)");
    golden("[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=4\n[softmax]\n[l1]\n", CN_ERR_CFG,
           "test.cfg:7: [l1]: layer 'softmax2' (softmax, 4) has no weight parameter (no "
           "parameters at all); attach the penalty with layer= to a layer with weights, such "
           "as a [dense] layer");
    /* a tied decoder owns only its bias */
    cn_error err = {0};
    ck_assert_int_eq(tu_net_err("[net]\nbatch=3\ninput=1,1,4\n[dense]\nname=enc\noutput=3\n"
                                "[dense]\ntie=enc\n[l2]\n", &err), CN_ERR_CFG);
    ck_assert_msg(strstr(err.msg, "test.cfg:9: [l2]: layer 'dense2' (dense, ") &&
                  strstr(err.msg, "has no weight parameter (only biases)"), "%s", err.msg);
    golden("[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=4\nbias=1\n[dense]\noutput=1\n[cce]\n",
           CN_ERR_SHAPE,
           "test.cfg:9: [cce]: target=label needs one value per class (at least 2), but layer "
           "'dense2' (dense, 1) has 1");
    golden("[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=4\n[huber]\ndelta=0\n", CN_ERR_CFG,
           "test.cfg:7: key 'delta' expects a finite number in (0, inf), got '0'");
    /* a loss with its own softmax on a layer of probabilities: both lines named */
    golden("[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=4\n[softmax]\nname=p\n[entropy]\n"
           "input=logits\n", CN_ERR_CFG,
           "test.cfg:9: key 'input' = 'logits': [entropy] would apply its own softmax to layer "
           "'p' ([softmax], line 6, output 4), which already outputs probabilities (a softmax "
           "of a softmax); leave input out (auto reads them as probabilities) or attach the "
           "loss to the layer before the softmax");
    golden("[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=4\n[softmax]\n[cce]\ninput=logits\n",
           CN_ERR_CFG,
           "test.cfg:8: key 'input' = 'logits': [cce] would apply its own softmax to layer "
           "'softmax2' ([softmax], line 6, output 4), which already outputs probabilities (a "
           "softmax of a softmax); leave input out (auto reads them as probabilities) or "
           "attach the loss to the layer before the softmax");
    golden("[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=4\n[entropy]\nbeta=0\n", CN_ERR_CFG,
           "test.cfg:7: key 'beta' = '0': expects a nonzero float (beta = 0 makes every "
           "distribution uniform)");
}
END_TEST

/* kl_sparse against hand-computed values, and finite for units silent or
 * saturated over the whole batch (rho_hat clamped). */
START_TEST(test_values_kl_sparse)
{
    /* rho_hat = (0.2, 0.5) over 2 samples: 0 + 0.2 ln(0.2/0.5) + 0.8 ln(0.8/0.5) */
    const float y[] = {0.1f, 0.5f, 0.3f, 0.5f};
    ck_assert_double_eq_tol(value_of("kl_sparse", "rho=0.2\n", NONE, 2, 2, 1, y, NULL, NULL),
                            0.19274475702175753, 1e-6);
    /* weight/B (-rho/rho_hat + (1-rho)/(1-rho_hat)), the same for every sample */
    bare b;
    bare_init(&b, "kl_sparse", "rho=0.2\n", NONE, 0, 2, 2, 1);
    memcpy(b.yv, y, sizeof y);
    b.loss.weight = 2.0f;
    bare_backward(&b);
    ck_assert_float_eq_tol(b.dy[0], 0.0f, 1e-6);
    ck_assert_float_eq_tol(b.dy[2], 0.0f, 1e-6);
    ck_assert_float_eq_tol(b.dy[1], 1.2f, 1e-6);
    ck_assert_float_eq_tol(b.dy[3], 1.2f, 1e-6);
    bare_free(&b);
    const float ext[] = {0, 1, 0, 1, 0, 1};
    bare_init(&b, "kl_sparse", "", NONE, 0, 3, 2, 2);
    memcpy(b.yv, ext, sizeof ext);
    double v = bare_value(&b);
    bare_backward(&b);
    ck_assert_msg(isfinite(v) && v > 10.0 && cn_all_finite(b.dy, 6), "value %g", v);
    /* descent raises the silent unit and lowers the saturated one */
    ck_assert(b.dy[0] < 0.0f && b.dy[1] > 0.0f);
    bare_free(&b);
}
END_TEST

/* contractive on a sigmoid layer with W (6, 1): ||J||^2 = sum_l (h_l (1-h_l))^2 W_l^2. */
START_TEST(test_values_contractive)
{
    const float h[12] = {0.5f, 0.2f, 0.9f, 0, 0.7f, 0.4f, 0.1f, 0.6f, 0.5f, 0.3f, 0.95f, 0.8f};
    const float w[6] = {1, -2, 0.5f, 3, 0, 1.5f};
    bare b;
    bare_init(&b, "contractive", "", NONE, 0, 2, 6, 2);
    memcpy(b.yv, h, sizeof h);
    memcpy(b.wv, w, sizeof w);
    ck_assert_double_eq_tol(bare_value(&b), 0.502575, 1e-6);
    bare_backward(&b);
    /* direct path: dW_0 = 2/B (0.25^2 + 0.09^2) W_0 */
    ck_assert_float_eq_tol(b.wg[0], 0.0706f, 1e-6);
    /* code path: 1/B 2 phi dphi s, zero at h = 0.5 where phi is flat */
    ck_assert_float_eq_tol(b.dy[0], 0.0f, 1e-7);
    ck_assert_float_eq_tol(b.dy[1], 0.5f * 2.0f * 0.16f * 0.6f * 4.0f, 1e-6);
    bare_free(&b);
}
END_TEST

START_TEST(test_errors_regularisers)
{
    golden("[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=4\nactivation=relu\n[kl_sparse]\n",
           CN_ERR_CFG, "test.cfg:7: [kl_sparse]: layer 'dense1' (dense, 4) has activation relu, "
           "so its output is not bounded in (0, 1); attach kl_sparse to a [sigmoid] or "
           "[softmax] layer or to one with activation=sigmoid");
    golden("[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=4\n[relu]\n[kl_sparse]\n", CN_ERR_CFG,
           "test.cfg:7: [kl_sparse]: layer 'relu2' (relu, 4) has activation relu, so its output "
           "is not bounded in (0, 1); attach kl_sparse to a [sigmoid] or [softmax] layer or to "
           "one with activation=sigmoid");
    golden("[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=4\nactivation=sigmoid\n[maxpool]\n"
           "size=1\n[kl_sparse]\n", CN_ERR_CFG,
           "test.cfg:9: [kl_sparse]: layer 'maxpool2' (maxpool, 4) has no element-wise "
           "activation, so its output is not bounded in (0, 1); attach kl_sparse to a [sigmoid] "
           "or [softmax] layer or to one with activation=sigmoid");
    golden("[net]\nbatch=3\ninput=1,1,4\n[sigmoid]\n[kl_sparse]\nrho=1\n", CN_ERR_CFG,
           "test.cfg:6: key 'rho' expects a finite number in (0, 1), got '1'");
    golden("[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=4\n[softmax]\n[contractive]\n",
           CN_ERR_CFG, "test.cfg:7: [contractive]: layer 'softmax2' (softmax, 4) is not a "
           "[dense] layer; the Jacobian norm needs a dense encoder h = f(W x + b); attach "
           "contractive to such an encoder");
    golden("[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=4\nactivation=leaky\n[contractive]\n",
           CN_ERR_CFG, "test.cfg:7: [contractive]: layer 'dense1' (dense, 4) has activation "
           "leaky; the Jacobian norm needs activation sigmoid, tanh or relu; attach contractive "
           "to such an encoder");
    golden("[net]\nbatch=3\ninput=1,1,4\n[dense]\nname=enc\noutput=3\nactivation=sigmoid\n"
           "[dense]\ntie=enc\nactivation=sigmoid\n[contractive]\n", CN_ERR_CFG,
           "test.cfg:11: [contractive]: layer 'dense2' (dense, 4) is tied and has no W of its "
           "own; use the encoder whose W it shares; attach contractive to such an encoder");
}
END_TEST

Suite *losses_suite(void)
{
    Suite *s = suite_create("losses");
    TCase *tc = tcase_create("gradcheck");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_net_gradcheck, 0, tu_n_loss_rows);
    tcase_add_loop_test(tc, test_bare_gradcheck, 0, N_BARE_ROWS);
    tcase_add_test(tc, test_coverage);
    suite_add_tcase(s, tc);
    tc = tcase_create("values");
    tcase_add_test(tc, test_values_elementwise);
    tcase_add_test(tc, test_values_distributions);
    tcase_add_test(tc, test_values_penalties);
    tcase_add_test(tc, test_values_entropy);
    tcase_add_test(tc, test_entropy_closed_form);
    tcase_add_test(tc, test_stability);
    tcase_add_test(tc, test_net_value);
    tcase_add_test(tc, test_metrics);
    tcase_add_test(tc, test_entropy_pairings);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_values_kl_sparse);
    tcase_add_test(tc, test_values_contractive);
    tcase_add_test(tc, test_errors_regularisers);
    suite_add_tcase(s, tc);
    return s;
}
