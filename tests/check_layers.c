/* check_layers.c - the layers: a finite-difference gradient check for every
 * registry entry (one or more fixture rows per type, input and parameter
 * gradients), forward values against hand-computed numbers, tied weights
 * (dense and convolutional), conv and deconv against naive loops, the noise
 * layer's statistics and reproducibility, and golden errors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnet/cnet.h"
#include "internal.h"
#include "util.h"

#define NET2(input) "[net]\nbatch=2\ninput=" input "\nseed=7\n"

/* The gradient-check rows {type, tiny net, check the input, classes, the
 * scale of a [grad_reverse] (0: none; util.h says how it is checked)}, one
 * or more per built-in type; shared with the registry sweep (tests/sweep.c). */
const tu_grad_row tu_layer_rows[] = {
    {"dense", NET2("1,1,4") "[dense]\noutput=3\n", 1, 0, 0},
    {"dense", NET2("1,1,4") "[dense]\noutput=3\nactivation=sigmoid\n", 1, 0, 0},
    {"dense", NET2("1,1,4") "[dense]\noutput=3\nactivation=sigmoid\ngain=2\n", 1, 0, 0},
    {"dense", NET2("1,1,4") "[dense]\noutput=5\nactivation=tanh\n", 1, 0, 0},
    {"dense", NET2("1,1,4") "[dense]\noutput=5\n[dense]\noutput=3\nactivation=relu\n", 1, 0, 0},
    {"dense", NET2("1,1,4") "[dense]\noutput=5\n[dense]\noutput=3\nactivation=leaky\n"
              "slope=0.1\n", 1, 0, 0},
    {"dense", NET2("2,3,3") "[dense]\noutput=4\nactivation=tanh\n", 1, 0, 0},
    {"dense", NET2("1,1,5") "[dense]\noutput=3\nbias=0\n", 1, 0, 0},
    {"dense", NET2("1,1,5") "[dense]\nname=enc\noutput=3\nactivation=sigmoid\n"
              "[dense]\nname=dec\ntie=enc\nactivation=sigmoid\n", 1, 0, 0},
    {"dense", NET2("1,1,5") "[dense]\nname=enc\noutput=4\nactivation=tanh\n"
              "[dense]\noutput=3\n[dense]\nfrom=enc\ntie=enc\noutput=5\n", 1, 0, 0},
    /* one discriminator D on two inputs (share=D): its W and b get both uses' gradient */
    {"dense", NET2("1,1,4") "[dense]\nname=a\noutput=3\nactivation=tanh\n[dense]\nname=b\n"
              "from=input\noutput=3\n[dense]\nname=D\nfrom=a\noutput=2\nactivation=sigmoid\n"
              "[dense]\nfrom=b\nshare=D\n[route]\nfrom=D,-1\n", 1, 0, 0},
    {"dense", NET2("1,1,4") "[dense]\nname=D\noutput=4\nactivation=tanh\n[dense]\nshare=D\n"
              "[dense]\noutput=3\n", 1, 0, 0},
    /* tied to a layer that shares another's W: that W, transposed */
    {"dense", NET2("1,1,4") "[dense]\nname=e\noutput=3\nactivation=tanh\n[dense]\nname=s\n"
              "from=input\nshare=e\n[dense]\ntie=s\n", 1, 0, 0},
    /* sharing a tied layer: the encoder's W transposed, the decoder's b */
    {"dense", NET2("1,1,4") "[dense]\nname=e\noutput=3\nactivation=tanh\n[dense]\nname=d\n"
              "tie=e\nactivation=sigmoid\n[dense]\nname=x\nfrom=input\noutput=3\n[dense]\n"
              "from=x\nshare=d\n[route]\nfrom=d,-1\n", 1, 0, 0},
    {"sigmoid", NET2("1,1,4") "[dense]\noutput=5\n[sigmoid]\n", 1, 0, 0},
    {"sigmoid", NET2("1,1,4") "[dense]\noutput=5\n[sigmoid]\ngain=2\n", 1, 0, 0},
    {"tanh", NET2("1,1,4") "[dense]\noutput=5\n[tanh]\n", 1, 0, 0},
    {"relu", NET2("1,1,4") "[dense]\noutput=5\n[relu]\n", 1, 0, 0},
    {"leaky", NET2("1,1,4") "[dense]\noutput=5\n[leaky]\n", 1, 0, 0},
    {"leaky", NET2("1,1,4") "[dense]\noutput=5\n[leaky]\nslope=0.3\n", 1, 0, 0},
    {"linear", NET2("1,1,4") "[dense]\noutput=5\n[linear]\n", 1, 0, 0},
    {"softmax", NET2("1,1,4") "[dense]\noutput=5\n[softmax]\n", 1, 0, 0},
    {"softmax", NET2("1,1,4") "[dense]\noutput=5\n[softmax]\ntemperature=0.5\n", 1, 0, 0},
    {"softmax", NET2("2,3,3") "[softmax]\ntemperature=2\n", 1, 0, 0},
    {"route", NET2("1,1,4") "[dense]\nname=a\noutput=3\n[dense]\nname=b\nfrom=input\n"
              "output=2\nactivation=tanh\n[route]\nfrom=a,b\n", 1, 0, 0},
    {"route", NET2("1,1,4") "[dense]\noutput=3\n[route]\n[dense]\noutput=4\n", 1, 0, 0},
    {"route", NET2("2,3,3") "[sigmoid]\nname=s\n[route]\nfrom=s,input,s\n", 1, 0, 0},
    {"noise", NET2("1,1,4") "[dense]\noutput=6\n[noise]\nq=0.3\n[dense]\noutput=3\n", 1, 0, 0},
    {"noise", NET2("1,1,4") "[dense]\noutput=6\n[noise]\ntype=gaussian\nsigma=0.2\n"
              "[dense]\noutput=3\n", 1, 0, 0},
    /* no bias before batchnorm: its gradient is exactly 0, which float FD cannot show */
    {"batchnorm", "[net]\nbatch=3\ninput=1,1,4\n[dense]\noutput=5\nbias=0\n[batchnorm]\n"
                  "[dense]\noutput=3\nactivation=tanh\n", 1, 0, 0},
    {"batchnorm", NET2("2,3,3") "[batchnorm]\naffine=0\n[sigmoid]\n", 1, 0, 0},
    {"noise", NET2("1,1,4") "[dense]\noutput=6\n[noise]\ntype=saltpepper\nq=0.4\n"
              "[dense]\noutput=3\nactivation=sigmoid\n", 1, 0, 0},
    /* convolutional layers: odd sizes, stride > 1, padding, non-square inputs */
    {"conv", NET2("2,5,5") "[conv]\nfilters=3\n", 1, 0, 0},
    /* one set of filters on two inputs (share=c), and twice in a row; Winograd too */
    {"conv", NET2("2,5,5") "[conv]\nname=a\nfilters=2\nsize=1\n[conv]\nname=c\nfrom=input\n"
             "filters=3\nactivation=tanh\n[conv]\nfrom=a\nshare=c\n[route]\nfrom=c,-1\n", 1, 0, 0},
    {"conv", NET2("2,5,5") "[conv]\nname=c\nfilters=2\npad=1\nactivation=tanh\n[conv]\n"
             "share=c\n", 1, 0, 0},
    {"conv", NET2("2,6,7") "[conv]\nname=c\nfilters=2\nsize=5\npad=2\nalgo=winograd\n"
             "activation=tanh\n[conv]\nshare=c\nalgo=winograd\n", 1, 0, 0},
    {"conv", NET2("2,7,7") "[conv]\nfilters=3\nstride=2\npad=1\nactivation=tanh\n", 1, 0, 0},
    {"conv", NET2("3,6,5") "[conv]\nfilters=2\nsize=2\nstride=3\npad=2\n"
             "activation=sigmoid\ngain=2\n", 1, 0, 0},
    {"conv", NET2("2,5,6") "[conv]\nfilters=3\nsize=1\nbias=0\n[conv]\nfilters=2\nsize=5\n"
             "pad=1\nactivation=leaky\nslope=0.2\n", 1, 0, 0},
    {"conv", NET2("2,6,7") "[conv]\nfilters=3\nsize=5\npad=2\nalgo=winograd\n"
             "activation=tanh\n", 1, 0, 0},
    {"conv", NET2("3,5,6") "[conv]\nfilters=2\nsize=5\npad=3\nalgo=winograd\n[conv]\n"
             "filters=2\nsize=5\nalgo=winograd\n", 1, 0, 0},
    {"deconv", NET2("2,3,3") "[deconv]\nfilters=2\nstride=2\npad=1\noutput_padding=1\n", 1, 0, 0},
    {"deconv", NET2("3,4,3") "[deconv]\nfilters=2\nsize=4\nactivation=tanh\n", 1, 0, 0},
    {"deconv", NET2("2,3,2") "[deconv]\nfilters=3\nsize=3\nstride=3\npad=1\n"
               "output_padding=2\nbias=0\nactivation=sigmoid\n", 1, 0, 0},
    {"deconv", NET2("2,5,5") "[conv]\nfilters=3\nstride=2\nactivation=tanh\n"
               "[deconv]\nfilters=2\nsize=2\nstride=2\n", 1, 0, 0},
    /* the tied convolutional decoder: the shared W gets both uses' gradient */
    {"deconv", NET2("2,7,7") "[conv]\nname=enc\nfilters=3\nstride=2\npad=1\n"
               "activation=tanh\n[deconv]\ntie=enc\nstride=2\npad=1\nactivation=sigmoid\n",
     1, 0, 0},
    {"deconv", NET2("1,6,6") "[conv]\nname=enc\nfilters=2\nstride=2\npad=1\n"
               "[conv]\nfilters=2\nsize=1\nactivation=tanh\n[deconv]\ntie=enc\nstride=2\n"
               "pad=1\noutput_padding=1\nfilters=1\nsize=3\n", 1, 0, 0},
    /* tied to a conv that shares another's filters: those filters, transposed */
    {"deconv", NET2("2,5,5") "[conv]\nname=c\nfilters=2\npad=1\nactivation=tanh\n[conv]\n"
               "name=s\nshare=c\n[deconv]\ntie=s\npad=1\n", 1, 0, 0},
    {"maxpool", NET2("2,5,5") "[maxpool]\n", 1, 0, 0},
    {"maxpool", NET2("3,7,6") "[maxpool]\nsize=3\nstride=2\npad=1\n", 1, 0, 0},
    {"maxpool", NET2("2,6,6") "[conv]\nfilters=2\npad=1\nactivation=tanh\n[maxpool]\nsize=3\n"
                "stride=2\n[conv]\nfilters=2\nsize=2\n", 1, 0, 0},
    {"avgpool", NET2("2,5,5") "[avgpool]\n", 1, 0, 0},
    {"avgpool", NET2("3,7,6") "[avgpool]\nsize=3\nstride=2\npad=1\n", 1, 0, 0},
    {"avgpool", NET2("2,5,5") "[conv]\nfilters=2\nactivation=tanh\n[avgpool]\nsize=2\n"
                "stride=1\n", 1, 0, 0},
    {"upsample", NET2("2,3,3") "[upsample]\n", 1, 0, 0},
    {"upsample", NET2("2,2,3") "[upsample]\nfactor=3\n[conv]\nfilters=2\nstride=2\n", 1, 0, 0},
    /* image-shaped inputs for the layers that flatten, join or keep shapes */
    {"dense", NET2("2,5,5") "[conv]\nfilters=3\npad=1\nactivation=tanh\n[dense]\noutput=3\n",
     1, 0, 0},
    {"route", NET2("2,5,5") "[conv]\nname=a\nfilters=2\npad=1\n[conv]\nname=b\nfrom=input\n"
              "filters=3\nsize=1\nactivation=tanh\n[route]\nfrom=a,b\n[conv]\nfilters=2\n"
              "stride=2\n", 1, 0, 0},
    {"batchnorm", NET2("2,5,5") "[conv]\nfilters=3\npad=1\nbias=0\n[batchnorm]\n[conv]\nfilters=2\n"
                  "size=1\nactivation=tanh\n", 1, 0, 0},
    {"relu", NET2("2,5,5") "[conv]\nfilters=2\n[relu]\n[conv]\nfilters=2\nsize=1\n", 1, 0, 0},
    {"softmax", NET2("2,5,5") "[conv]\nfilters=2\nstride=2\n[softmax]\n", 1, 0, 0},
    {"noise", NET2("2,5,5") "[conv]\nfilters=2\n[noise]\nq=0.3\n[conv]\nfilters=2\n"
              "size=2\n", 1, 0, 0},
    /* reshape: dense -> spatial (conv, deconv) and spatial -> flat */
    {"reshape", NET2("1,1,4") "[dense]\noutput=12\nactivation=tanh\n[reshape]\noutput=3,2,2\n"
                "[conv]\nfilters=2\nsize=2\n", 1, 0, 0},
    {"reshape", NET2("1,1,4") "[dense]\noutput=8\n[reshape]\noutput=2,2,2\n[deconv]\n"
                "filters=2\nstride=2\nactivation=tanh\n", 1, 0, 0},
    {"reshape", NET2("2,3,3") "[conv]\nfilters=2\npad=1\nactivation=tanh\n[reshape]\n"
                "output=18\n[dense]\noutput=3\n", 1, 0, 0},
    /* gradient reversal: above it, the analytic gradient is -scale times the numeric one
     * (the layer reverses it on purpose); below it, the true gradient */
    {"grad_reverse", NET2("1,1,4") "[grad_reverse]\nscale=0.5\n[dense]\noutput=3\n", 1, 0, 0.5},
    {"grad_reverse", NET2("1,1,4") "[dense]\noutput=5\nactivation=tanh\n[grad_reverse]\nscale=2\n"
                     "[dense]\noutput=3\nactivation=sigmoid\n", 1, 0, 2},
    {"grad_reverse", NET2("2,5,5") "[conv]\nfilters=2\n[grad_reverse]\n[conv]\nfilters=2\n"
                     "size=2\n", 1, 0, 1},
    /* dropout: the checker replays the RNG, so both sides of a difference share a mask */
    {"dropout", NET2("1,1,4") "[dense]\noutput=6\n[dropout]\np=0.3\n[dense]\noutput=3\n", 1, 0, 0},
    {"dropout", NET2("2,5,5") "[conv]\nfilters=2\n[dropout]\np=0.5\n[conv]\nfilters=2\n"
                "size=2\n", 1, 0, 0},
    /* the free code Z (checked as a parameter); the input learns only through
     * the target_grad loss tying Z to the encoder (tests/check_sesm.c: more) */
    {"code", NET2("1,1,4") "[dense]\nname=enc\noutput=3\n[code]\nname=z\n[sigmoid]\n"
             "gain=2\n[mse]\nlayer=z\ntarget=enc\ntarget_grad=1\nreduce=sum\n", 1, 0, 0},
    {"code", NET2("2,2,2") "[code]\n[tanh]\n[mse]\nlayer=-2\ntarget=input\n", 0, 0, 0},
    /* LCA codes: u is a buffer moved by the inner loop's LCA steps, not by a gradient
     * (tests/check_lca.c checks the steps); the codes pass no gradient to the input,
     * which the differences confirm, and the layers reading them are checked */
    {"lca", NET2("1,1,4") "[lca]\nsize=3\n[dense]\noutput=4\nactivation=tanh\n", 1, 0, 0},
    {"lca", NET2("1,1,4") "[lca]\nsize=3\nthreshold=hard\n[dense]\noutput=4\nbias=0\n"
            "[mse]\ntarget=input\nreduce=sum\nweight=0.5\n", 0, 0, 0},
    /* unit-norm atoms: the normalisation's gradient into W, with and without bias */
    {"dict", NET2("1,1,4") "[dense]\noutput=3\nactivation=tanh\n[dict]\noutput=4\n", 1, 0, 0},
    {"dict", NET2("1,1,3") "[dict]\noutput=4\nbias=0\n[dense]\noutput=2\nactivation=tanh\n",
     1, 0, 0},
    {"dict", NET2("2,2,2") "[dict]\noutput=1\n", 1, 0, 0},
    /* a / ||a||: through a dense layer, on an image, and with a large eps */
    {"l2norm", NET2("1,1,4") "[dense]\noutput=5\n[l2norm]\n[dense]\noutput=3\n"
               "activation=tanh\n", 1, 0, 0},
    {"l2norm", NET2("2,3,3") "[conv]\nfilters=2\npad=1\n[l2norm]\neps=0.5\n", 1, 0, 0},
    {"l2norm", NET2("1,1,4") "[l2norm]\neps=1e-3\n[dense]\noutput=3\nactivation=sigmoid\n",
     1, 0, 0},
    /* one-hot labels: data, no gradient; the layers after it see a constant input */
    {"onehot", NET2("1,1,4") "[onehot]\nfrom=input\nclasses=3\n[dense]\noutput=2\n"
               "activation=tanh\n", 1, 3, 0},
    {"onehot", NET2("1,1,4") "[dense]\nname=e\noutput=3\nactivation=sigmoid\n[onehot]\n"
               "from=input\nclasses=3\n[route]\nfrom=e,-1\n[dense]\noutput=2\n", 1, 2, 0},
    /* prior samples: data drawn from the RNG (the checker replays it), no gradient */
    {"prior", NET2("1,1,4") "[prior]\nfrom=input\noutput=3\nsigma=0.5\n[dense]\noutput=2\n"
              "activation=tanh\n", 1, 0, 0},
    {"prior", NET2("1,1,4") "[dense]\nname=e\noutput=3\nactivation=sigmoid\n[prior]\n"
              "from=input\ntype=categorical\noutput=3\n[route]\nfrom=e,-1\n[dense]\noutput=2\n",
     1, 0, 0},
    {"prior", NET2("1,1,4") "[prior]\nfrom=input\ntype=mixture\noutput=3\ncomponents=4\n"
              "radius=2\nsigma=0.3\n[dense]\noutput=2\nactivation=sigmoid\n", 1, 0, 0},
    /* a constant: data, no gradient; as a loss target and as a layer's input */
    {"constant", NET2("1,1,4") "[dense]\nname=e\noutput=3\nactivation=sigmoid\n[constant]\n"
                 "name=c\nfrom=input\noutput=3\nvalue=0.5\n[mse]\nlayer=e\ntarget=c\n", 1, 0, 0},
    {"constant", NET2("1,1,4") "[dense]\nname=e\noutput=3\nactivation=tanh\n[constant]\n"
                 "from=input\noutput=2\nvalue=-1\n[route]\nfrom=e,-1\n[dense]\noutput=2\n", 1, 0, 0},
    /* the reparameterised sample: the checker replays the same noise eps */
    {"sample", NET2("1,1,4") "[dense]\nname=mu\noutput=3\n[dense]\nname=lv\nfrom=input\n"
               "output=3\n[sample]\nfrom=mu,lv\n[dense]\noutput=2\nactivation=tanh\n", 1, 0, 0},
    {"sample", NET2("2,2,2") "[conv]\nname=a\nfilters=2\nsize=1\n[sample]\nfrom=a,a\n", 1, 0, 0},
};
const int tu_n_layer_rows = (int)(sizeof tu_layer_rows / sizeof tu_layer_rows[0]);

START_TEST(test_gradcheck)
{
    const tu_grad_row *f = &tu_layer_rows[_i];
    cn_net *net = tu_net(f->cfg);
    /* one seed: rows independent; above a [grad_reverse], -scale times the numeric gradient */
    double worst = tu_gradcheck_reversed(net, f->with_input, f->classes, 42, 1,
                                         f->reverse > 0 ? -f->reverse : 1.0);
    /* Winograd's float32 rounding (about 1e-5 of the output's scale) over
     * central differences of step 1e-2 leaves up to ~0.1 on the smallest
     * entries; its gradients are exact against double loops in
     * test_conv_winograd, and a wrong one is off by O(1) here. */
    double tol = strstr(f->cfg, "winograd") ? 0.15 : 1e-2;
    ck_assert_msg(worst < tol, "[%s] fixture %d: relative error %g\n%s", f->type, _i, worst,
                  f->cfg);
    cn_net_free(net);
}
END_TEST

/* The sweep over the registry passes (tests/sweep.c), and every built-in
 * has rows of its own: an `example` is for types registered at run time. */
START_TEST(test_coverage)
{
    const cn_layer_ops *const *types = cn_layer_types();
    tu_swept swept[64];
    int n, count = 0;
    ck_assert_int_eq(tu_sweep_registered(TU_LAYERS, tu_layer_rows, tu_n_layer_rows, swept, 64,
                                         &n), 0);
    while (types[count])
        count++;
    ck_assert_int_eq(n, count);
    for (int t = 0; types[t]; t++) {
        ck_assert_str_eq(swept[t].type, types[t]->type);
        ck_assert_msg(swept[t].rows > 0, "layer type '%s' has no gradient-check fixture",
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

static void put_r(cn_net *net, void *r)
{
    cn_layer *out = cn_net_output(net);
    memcpy(out->dout.data, r, cn_tensor_count(&out->out) * sizeof(float));
}

/* A gradient step on x with r as the output's dout; returns the net's output layer. */
static cn_layer *run_backward(cn_net *net, const float *x, const float *r)
{
    cn_net_set_batch(net, x, NULL, 2);
    cn_step_opts grad = {.kind = CN_STEP_GRAD, .before_backward = put_r, .user = (void *)r};
    double loss;
    cn_error err = {0};
    ck_assert_msg(cn_net_step(net, &grad, &loss, &err) == CN_OK, "%s", err.msg);
    return cn_net_output(net);
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

/* Two branches a and b through one discriminator D (D2: share=D), against
 * the same net with D2 a layer of its own holding a copy of D's W and b. */
#define SHARE_NET(d2) NET2("1,1,4") "[optim]\nlr=0.5\n[dense]\nname=a\noutput=3\n" \
    "activation=tanh\n[dense]\nname=b\nfrom=input\noutput=3\n[dense]\nname=D\nfrom=a\n" \
    "output=2\nactivation=sigmoid\n[dense]\nname=D2\nfrom=b\n" d2 "[route]\nfrom=D,D2\n"

START_TEST(test_shared_dense)
{
    cn_net *shared = tu_net(SHARE_NET("share=D\n"));
    cn_net *free_net = tu_net(SHARE_NET("output=2\nactivation=sigmoid\n"));
    /* one W and b for both uses: a, b and D's own, none for D2 */
    ck_assert_int_eq(cn_net_n_params(shared), 6);
    ck_assert_int_eq(cn_net_n_params(free_net), 8);
    ck_assert_int_eq(cn_net_find_layer(shared, "D2")->n_params, 0);
    ck_assert_int_eq(cn_net_output(shared)->c, 4);
    /* the same init draws (D2's come last), then D2 = D in the free net */
    for (int i = 0; i < 6; i++)
        assert_close(cn_net_params(shared)[i]->value, cn_net_params(free_net)[i]->value,
                     cn_net_params(shared)[i]->count, 0);
    cn_param *W = param(shared, "D.W"), *b = param(shared, "D.b");
    set_param(free_net, "D2.W", W->value, 6);
    set_param(free_net, "D2.b", b->value, 2);

    const float x[] = {0.1f, 0.9f, 0.4f, 0.3f, 0.7f, 0.6f, 0.2f, 0.8f};
    const float r[] = {1, -2, 0.5f, 3, -1, -0.5f, 2, 1};
    cn_layer *ys = run_backward(shared, x, r), *yf = run_backward(free_net, x, r);
    assert_close(ys->out.data, yf->out.data, 8, 1e-6);
    /* the shared gradient is the sum of both uses' */
    float gW[6], gb[2], wantW[6], wantb[2], wantA[9];
    const float *g1 = param(free_net, "D.W")->grad, *g2 = param(free_net, "D2.W")->grad;
    for (int k = 0; k < 6; k++) {
        gW[k] = g1[k] + g2[k];
        ck_assert(g1[k] != 0.0f && g2[k] != 0.0f);
    }
    for (int k = 0; k < 2; k++)
        gb[k] = param(free_net, "D.b")->grad[k] + param(free_net, "D2.b")->grad[k];
    assert_close(W->grad, gW, 6, 1e-6);
    assert_close(b->grad, gb, 2, 1e-6);
    assert_close(param(shared, "b.W")->grad, param(free_net, "b.W")->grad, 12, 1e-6);

    /* one SGD step (lr 0.5), updated as the gradients become ready: D's W
     * and b move once, by the summed gradient, after both uses added theirs */
    for (int k = 0; k < 6; k++)
        wantW[k] = W->value[k] - 0.5f * gW[k];
    for (int k = 0; k < 2; k++)
        wantb[k] = b->value[k] - 0.5f * gb[k];
    const cn_param *A = param(shared, "a.W");
    for (int k = 0; k < 9; k++)
        wantA[k] = A->value[k] - 0.5f * param(free_net, "a.W")->grad[k];
    cn_net_set_batch(shared, x, NULL, 2);
    cn_step_opts train = {.kind = CN_STEP_TRAIN, .before_backward = put_r, .user = (void *)r};
    double loss;
    cn_error err = {0};
    ck_assert_msg(cn_net_step(shared, &train, &loss, &err) == CN_OK, "%s", err.msg);
    assert_close(W->value, wantW, 6, 1e-6);
    assert_close(b->value, wantb, 2, 1e-6);
    assert_close(A->value, wantA, 9, 1e-6);
    cn_net_free(shared);
    cn_net_free(free_net);
}
END_TEST

/* [onehot]: 1 at each sample's label, zeros for an unlabelled sample and
 * for a net given no labels; nothing flows back into the input. */
START_TEST(test_onehot_values)
{
    cn_net *net = tu_net("[net]\nbatch=3\ninput=1,1,2\n[onehot]\nfrom=input\nclasses=4\n"
                         "[dense]\noutput=2\n");
    cn_net_set_input_grad(net, 1);
    const cn_layer *y = cn_net_layer(net, 1);
    ck_assert(y->c == 4 && y->h == 1 && y->w == 1);
    ck_assert(y->ops->backward == NULL);
    const float x[] = {5, -3, 0.5f, 2, 7, 1};
    const int labels[] = {2, -1, 0};
    cn_net_set_batch(net, x, labels, 3);
    cn_step_opts grad = {.kind = CN_STEP_GRAD};
    double loss;
    cn_error err = {0};
    memset(cn_net_output(net)->dout.data, 0, 6 * sizeof(float));
    ck_assert_msg(cn_net_step(net, &grad, &loss, &err) == CN_OK, "%s", err.msg);
    const float want[] = {0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0};
    assert_close(y->out.data, want, 12, 0);
    const float zeros[12] = {0};
    assert_close(cn_net_layer(net, 0)->dout.data, zeros, 6, 0);
    cn_net_set_batch(net, x, NULL, 2); /* no labels at all; a short batch */
    cn_net_forward(net);
    assert_close(y->out.data, zeros, 8, 0);
    cn_net_free(net);
    ck_assert_int_eq(tu_net_err("[net]\nbatch=2\ninput=1,1,5\n[onehot]\nclasses=1\n", &err),
                     CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "test.cfg:5: key 'classes' expects an integer in [2, 65536], got "
                     "'1'");
}
END_TEST

#define PRIOR_N 1000 /* samples of a prior test's batch */

/* One forward of a prior net (batch PRIOR_N, input of 1) in `train` mode. */
static const float *prior_draw(cn_net *net, int train)
{
    static float x[PRIOR_N];
    cn_net_set_train(net, train);
    cn_net_set_batch(net, x, NULL, PRIOR_N);
    cn_net_forward(net);
    return cn_net_output(net)->out.data;
}

#define PRIOR_NET(keys) "[net]\nbatch=1000\ninput=1\n[prior]\n" keys

START_TEST(test_prior_gaussian)
{
    /* 4 x 1000 values of N(0, 4): the mean within 5 sd of it (5 * 2 / sqrt(4000)),
     * the sd within 5 % */
    cn_net *net = tu_net(PRIOR_NET("output=4\nsigma=2\n"));
    const float *z = prior_draw(net, 1);
    double sum = 0, sq = 0;
    for (int i = 0; i < 4 * PRIOR_N; i++)
        sum += z[i], sq += (double)z[i] * z[i];
    double mean = sum / (4 * PRIOR_N), sd = sqrt(sq / (4 * PRIOR_N) - mean * mean);
    ck_assert_double_le(fabs(mean), 5 * 2 / sqrt(4.0 * PRIOR_N));
    ck_assert_double_le(fabs(sd - 2), 0.1);
    cn_net_free(net);
}
END_TEST

START_TEST(test_prior_categorical)
{
    /* one 1 per sample; each of 5 classes ~200 times (Binomial sd 12.6, allow 5 sd) */
    cn_net *net = tu_net(PRIOR_NET("type=categorical\noutput=5\n"));
    const float *z = prior_draw(net, 1);
    int count[5] = {0};
    for (int s = 0; s < PRIOR_N; s++) {
        int ones = 0;
        for (int k = 0; k < 5; k++) {
            float v = z[s * 5 + k];
            ck_assert(v == 0.0f || v == 1.0f);
            ones += v == 1.0f;
            count[k] += v == 1.0f;
        }
        ck_assert_int_eq(ones, 1);
    }
    for (int k = 0; k < 5; k++)
        ck_assert_int_le(abs(count[k] - 200), 63);
    cn_net_free(net);
}
END_TEST

START_TEST(test_prior_mixture)
{
    /* 10 components of std 0.1 on a circle of radius 4 (centres 2.47 apart):
     * every point within 6 sd of a centre in dimensions 0 and 1, the third
     * dimension N(0, 0.01), every component hit (~100 each) */
    cn_net *net = tu_net(PRIOR_NET("type=mixture\noutput=3\nsigma=0.1\n"));
    const float *z = prior_draw(net, 1);
    int hits[10] = {0};
    for (int s = 0; s < PRIOR_N; s++) {
        const float *p = z + s * 3;
        int best = 0;
        double d_best = INFINITY;
        for (int j = 0; j < 10; j++) {
            double a = 2 * 3.14159265358979 * j / 10;
            double d = hypot(p[0] - 4 * cos(a), p[1] - 4 * sin(a));
            if (d < d_best)
                d_best = d, best = j;
        }
        ck_assert_msg(d_best < 0.6, "sample %d (%g, %g) is %g from every centre", s, p[0], p[1],
                      d_best);
        ck_assert_float_le(fabsf(p[2]), 0.6f);
        hits[best]++;
    }
    for (int j = 0; j < 10; j++)
        ck_assert_int_le(abs(hits[j] - 100), 48);
    cn_net_free(net);
}
END_TEST

/* [constant]: every value of every sample of a partial batch, in either mode. */
START_TEST(test_constant)
{
    cn_net *net = tu_net("[net]\nbatch=8\ninput=1,1,3\n[constant]\nfrom=input\noutput=5\n"
                         "value=-0.25\n");
    const float x[5 * 3] = {0};
    for (int train = 0; train < 2; train++) {
        cn_net_set_train(net, train);
        cn_net_set_batch(net, x, NULL, 5);
        cn_net_forward(net);
        const cn_tensor *y = &cn_net_output(net)->out;
        ck_assert_int_eq((int)cn_tensor_count(y), 25);
        for (int i = 0; i < 25; i++)
            ck_assert_float_eq(y->data[i], -0.25f);
    }
    cn_net_free(net);
}
END_TEST

/* Same seed, same draws, in training and in evaluation alike; the RNG moves
 * on between batches; another seed draws otherwise. */
START_TEST(test_prior_reproducible)
{
    static const char *const keys[] = {"output=3\n", "type=categorical\noutput=4\n",
                                       "type=mixture\noutput=2\ncomponents=3\n"};
    static float first[4 * PRIOR_N];
    char cfg[256];
    for (int t = 0; t < 3; t++) {
        snprintf(cfg, sizeof cfg, "[net]\nbatch=1000\ninput=1\nseed=%d\n[prior]\n%s", 3,
                 keys[t]);
        cn_net *a = tu_net(cfg), *b = tu_net(cfg);
        size_t bytes = cn_tensor_count(&cn_net_output(a)->out) * sizeof(float);
        memcpy(first, prior_draw(a, 1), bytes);
        ck_assert_int_eq(memcmp(prior_draw(b, 0), first, bytes), 0); /* eval draws the same */
        ck_assert_int_ne(memcmp(prior_draw(a, 0), first, bytes), 0); /* a new draw */
        snprintf(cfg, sizeof cfg, "[net]\nbatch=1000\ninput=1\nseed=%d\n[prior]\n%s", 4,
                 keys[t]);
        cn_net *c = tu_net(cfg);
        ck_assert_int_ne(memcmp(prior_draw(c, 1), first, bytes), 0);
        cn_net_free(a);
        cn_net_free(b);
        cn_net_free(c);
    }
}
END_TEST

/* The reversal's backward is exactly -scale times its upstream gradient. */
START_TEST(test_grad_reverse_exact)
{
    cn_net *net = tu_net(NET2("1,1,4") "[grad_reverse]\nname=g\nscale=0.7\n[dense]\noutput=3\n"
                         "activation=tanh\n");
    cn_net_set_input_grad(net, 1);
    const float x[] = {0.1f, 0.9f, -0.4f, 0.3f, 0.7f, -0.6f, 0.2f, 0.8f};
    const float r[] = {1, -2, 0.5f, 3, -1, -0.25f};
    cn_layer *out = run_backward(net, x, r);
    const cn_layer *g = cn_net_find_layer(net, "g"), *in = cn_net_layer(net, 0);
    ck_assert_int_eq(memcmp(g->out.data, x, sizeof x), 0); /* forward: the identity */
    for (int i = 0; i < 8; i++) {
        ck_assert_float_ne(g->dout.data[i], 0.0f);
        ck_assert_float_eq(in->dout.data[i], -0.7f * g->dout.data[i]);
    }
    ck_assert_int_eq(out->c, 3);
    cn_net_free(net);
}
END_TEST

/* With a parameter layer above the reversal, against the same net without
 * it (the same parameters: the reversal has none, so both draw the same
 * init): the same output; below the reversal the same gradients, above it
 * -scale times theirs. The plain net's gradients are the true ones (its
 * rows of the sweep), so this anchors the reversed ones to finite
 * differences too. */
START_TEST(test_grad_reverse_against_plain)
{
#define ABOVE NET2("1,1,5") "[dense]\nname=f\noutput=4\nactivation=tanh\n"
#define BELOW "[dense]\nname=d\noutput=3\nactivation=sigmoid\n"
    cn_net *rev = tu_net(ABOVE "[grad_reverse]\nscale=0.3\n" BELOW), *plain = tu_net(ABOVE BELOW);
#undef ABOVE
#undef BELOW
    cn_net_set_input_grad(rev, 1);
    cn_net_set_input_grad(plain, 1);
    ck_assert_int_eq(cn_net_n_params(rev), 4);
    for (int i = 0; i < 4; i++)
        assert_close(cn_net_params(rev)[i]->value, cn_net_params(plain)[i]->value,
                     cn_net_params(rev)[i]->count, 0);
    const float x[] = {0.1f, 0.9f, 0.4f, 0.3f, 0.7f, 0.6f, 0.2f, 0.8f, 0.5f, 0.0f};
    const float r[] = {1, -2, 0.5f, 3, -1, -0.25f};
    cn_layer *yr = run_backward(rev, x, r), *yp = run_backward(plain, x, r);
    assert_close(yr->out.data, yp->out.data, 6, 0);
    for (int i = 0; i < 4; i++) {
        const cn_param *a = cn_net_params(rev)[i], *b = cn_net_params(plain)[i];
        float want[64];
        ck_assert_uint_le(a->count, 64);
        for (size_t k = 0; k < a->count; k++) /* f.W, f.b reversed; d.W, d.b not */
            want[k] = (strncmp(a->name, "f.", 2) ? 1.0f : -0.3f) * b->grad[k];
        assert_close(a->grad, want, a->count, 1e-6);
        ck_assert_float_ne(a->grad[0], 0.0f);
    }
    float want[10];
    for (int k = 0; k < 10; k++)
        want[k] = -0.3f * cn_net_layer(plain, 0)->dout.data[k];
    assert_close(cn_net_layer(rev, 0)->dout.data, want, 10, 1e-6);
    cn_net_free(rev);
    cn_net_free(plain);
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

#define DROP_CFG(p) NET2("1,1,5000") "[dropout]\np=" p "\n"

START_TEST(test_dropout_eval_identity)
{
    cn_net *net = tu_net(DROP_CFG("0.7"));
    cn_layer *out = noise_run(net, 0);
    ck_assert_int_eq(memcmp(out->out.data, noise_x, sizeof noise_x), 0);
    cn_net_free(net);
}
END_TEST

/* p = 0.3: ~7000 of 10000 values kept (Binomial sd 45.8, allow 5 sd), each
 * exactly x / 0.7; the rest 0. */
START_TEST(test_dropout_statistics)
{
    cn_net *net = tu_net(DROP_CFG("0.3"));
    cn_layer *out = noise_run(net, 1);
    int kept = 0;
    for (int i = 0; i < 2 * NOISE_N; i++) {
        float y = out->out.data[i];
        if (y == 0.0f)
            continue;
        kept++;
        ck_assert_float_eq_tol(y, noise_x[i] / 0.7f, 1e-6f);
    }
    ck_assert_int_le(abs(kept - 7000), 229);
    cn_net_free(net);
}
END_TEST

START_TEST(test_dropout_reproducible)
{
    static float first[2 * NOISE_N];
    cn_net *a = tu_net(DROP_CFG("0.5")), *b = tu_net(DROP_CFG("0.5"));
    memcpy(first, noise_run(a, 1)->out.data, sizeof first);
    ck_assert_int_eq(memcmp(noise_run(b, 1)->out.data, first, sizeof first), 0);
    ck_assert_int_ne(memcmp(noise_run(a, 1)->out.data, first, sizeof first), 0);
    cn_net_free(a);
    cn_net_free(b);
    /* another seed, another mask */
    cn_net *c = tu_net("[net]\nbatch=2\ninput=1,1,5000\nseed=8\n[dropout]\n");
    ck_assert_int_ne(memcmp(noise_run(c, 1)->out.data, first, sizeof first), 0);
    cn_net_free(c);
}
END_TEST

/* reshape there and back is the identity, values in NCHW order throughout */
START_TEST(test_reshape_round_trip)
{
    float x[2 * 24], *y;
    for (int i = 0; i < 48; i++)
        x[i] = (float)i - 7.5f;
    cn_net *net = tu_net("[net]\nbatch=2\ninput=2,3,4\n[reshape]\noutput=24\n[reshape]\n"
                         "output=4,3,2\n[reshape]\noutput=2,3,4\n");
    cn_net_set_batch(net, x, NULL, 2);
    cn_net_forward(net);
    for (int i = 1; i <= 3; i++) {
        const cn_layer *l = cn_net_layer(net, i);
        ck_assert_int_eq(l->c * l->h * l->w, 24);
        ck_assert_int_eq(memcmp(l->out.data, x, sizeof x), 0);
    }
    const cn_layer *flat = cn_net_layer(net, 1), *last = cn_net_output(net);
    ck_assert(flat->c == 24 && flat->h == 1 && flat->w == 1);
    ck_assert(last->c == 2 && last->h == 3 && last->w == 4);
    y = last->out.data;
    ck_assert_float_eq(y[47], 39.5f);
    cn_net_free(net);
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
                 "test.cfg:5: key 'output' expects an integer in [1, 16777216], got '0'");
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[dense]\noutput=3\nactivation=swish\n",
                 CN_ERR_CFG,
                 "test.cfg:6: key 'activation' expects one of linear, sigmoid, tanh, relu, "
                 "leaky, got 'swish'");
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[dense]\noutput=3\ngain=2\n", CN_ERR_CFG,
                 "test.cfg:6: key 'gain' = '2': applies only to activation=sigmoid");
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[softmax]\ntemperature=0\n", CN_ERR_CFG,
                 "test.cfg:5: key 'temperature' expects a finite number in (0, inf), got '0'");
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[noise]\nq=1.5\n", CN_ERR_CFG,
                 "test.cfg:5: key 'q' expects a finite number in [0, 1], got '1.5'");
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[noise]\ntype=gaussian\nq=0.5\n", CN_ERR_CFG,
                 "test.cfg:6: key 'q' = '0.5': applies only to type=mask and type=saltpepper");
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[dropout]\np=1\n", CN_ERR_CFG,
                 "test.cfg:5: key 'p' expects a finite number in [0, 1), got '1'");
    expect_error("[net]\nbatch=2\ninput=1,1,5\n[dense]\nname=fc\noutput=12\n[reshape]\n"
                 "output=2,2,2\n", CN_ERR_SHAPE,
                 "test.cfg:8: key 'output' = '2,2,2': layer 'reshape2' cannot give its input "
                 "'fc' ([dense], line 4, output 12) the shape 2x2x2: 8 values where the input "
                 "has 12 (a reshape keeps every value)");
    expect_error("[net]\nbatch=2\ninput=1,2,2\n[reshape]\noutput=2,2\n", CN_ERR_CFG,
                 "test.cfg:5: key 'output' = '2,2': expected C,H,W or a flat N");
}
END_TEST

/* ---- convolutional layers ---- */

/* One lowered-layer case: batch n, input C x H x W, F output channels,
 * k x k kernels, stride s, pad p, output_padding op (deconv only). */
typedef struct conv_case {
    int n, C, H, W, F, k, s, p, op;
} conv_case;

static const conv_case conv_cases[] = {
    {3, 2, 7, 6, 3, 3, 2, 1, 0},
    {2, 3, 5, 5, 2, 4, 3, 2, 0},
    {13, 1, 61, 61, 5, 5, 1, 2, 0}, /* (25 + 5) * 3721 floats a sample: groups of 2, and 1 */
    /* rows of 8, 16 and 14 output pixels: whole vectors, and conv_ae's shape */
    {3, 2, 10, 9, 2, 2, 1, 0, 0},
    {5, 2, 17, 16, 3, 3, 1, 1, 0},
    {4, 3, 28, 28, 4, 3, 2, 1, 0},
};
static const conv_case deconv_cases[] = {
    {3, 2, 3, 4, 3, 3, 2, 1, 1},
    {2, 3, 4, 4, 2, 4, 3, 2, 2},
    {7, 8, 20, 20, 4, 5, 2, 1, 1}, /* (8 + 100) * 400 floats a sample: groups of 6, and 1 */
    {3, 2, 9, 17, 3, 3, 2, 1, 1}, /* input rows of 17: two vectors and one lane */
    {4, 4, 7, 7, 3, 3, 2, 1, 1},  /* conv_ae's dec2 */
};

/* Winograd F(4x4, 5x5): partial tiles, pad 0 to 4, several groups. */
static const conv_case wino_cases[] = {
    {3, 2, 7, 6, 3, 5, 1, 2, 0},
    {5, 3, 9, 11, 4, 5, 1, 0, 0},
    {2, 4, 5, 5, 3, 5, 1, 4, 0},
    {13, 16, 40, 40, 16, 5, 1, 2, 0}, /* 64 * 3200 / 4 floats a sample: groups of 5 */
};

static void fill(float *v, size_t n, float lo, float hi, cn_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        v[i] = lo + (hi - lo) * cn_rng_uniform(rng);
}

/* |got - want| <= 1e-4 * max(1, max |want|) everywhere. */
static void assert_near(const float *got, const double *want, size_t n, const char *what)
{
    double scale = 1.0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= 1e-4 * scale, "%s[%zu]: got %.7g, want %.7g",
                      what, i, (double)got[i], want[i]);
}

/* The direct convolution, forward and backward: y = W * x + b with
 * W (F, C, k, k); dx, dw, db for the output gradient dy. */
static void naive_conv(const conv_case *cc, int Ho, int Wo, const float *x, const float *w,
                       const float *b, const float *dy, double *y, double *dx, double *dw,
                       double *db)
{
    const int C = cc->C, H = cc->H, W = cc->W, F = cc->F, k = cc->k;
    for (int n = 0; n < cc->n; n++)
        for (int f = 0; f < F; f++)
            for (int oy = 0; oy < Ho; oy++)
                for (int ox = 0; ox < Wo; ox++) {
                    size_t o = (((size_t)n * F + f) * Ho + oy) * Wo + ox;
                    double acc = b[f];
                    for (int c = 0; c < C; c++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                int iy = oy * cc->s - cc->p + i, ix = ox * cc->s - cc->p + j;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                    continue;
                                size_t xi = (((size_t)n * C + c) * H + iy) * W + ix;
                                size_t wi = (((size_t)f * C + c) * k + i) * k + j;
                                acc += (double)w[wi] * x[xi];
                                dx[xi] += (double)w[wi] * dy[o];
                                dw[wi] += (double)x[xi] * dy[o];
                            }
                    y[o] = acc;
                    db[f] += dy[o];
                }
}

/* The transposed convolution as a scatter: every input pixel adds
 * x * W[c][f] into the k x k output block at (iy*s - p, ix*s - p). */
static void naive_deconv(const conv_case *cc, int Ho, int Wo, const float *x, const float *w,
                         const float *b, const float *dy, double *y, double *dx, double *dw,
                         double *db)
{
    const int C = cc->C, H = cc->H, W = cc->W, F = cc->F, k = cc->k;
    for (int n = 0; n < cc->n; n++)
        for (int f = 0; f < F; f++)
            for (int q = 0; q < Ho * Wo; q++) {
                size_t o = ((size_t)n * F + f) * Ho * Wo + q;
                y[o] = b[f];
                db[f] += dy[o];
            }
    for (int n = 0; n < cc->n; n++)
        for (int c = 0; c < C; c++)
            for (int iy = 0; iy < H; iy++)
                for (int ix = 0; ix < W; ix++)
                    for (int f = 0; f < F; f++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                int oy = iy * cc->s - cc->p + i, ox = ix * cc->s - cc->p + j;
                                if (oy < 0 || oy >= Ho || ox < 0 || ox >= Wo)
                                    continue;
                                size_t xi = (((size_t)n * C + c) * H + iy) * W + ix;
                                size_t wi = (((size_t)c * F + f) * k + i) * k + j;
                                size_t o = (((size_t)n * F + f) * Ho + oy) * Wo + ox;
                                y[o] += (double)w[wi] * x[xi];
                                dx[xi] += (double)w[wi] * dy[o];
                                dw[wi] += (double)x[xi] * dy[o];
                            }
}

/* The layer's forward and backward (im2col, grouped GEMMs) against the
 * naive loops, on random data. */
/* Against the naive loops with the batch split over `threads` (3 leaves a
 * thread without samples when n = 2). */
static void check_lowered(const conv_case *cc, int deconv, int threads, const char *extra)
{
    char cfg[256];
    int len = snprintf(cfg, sizeof cfg,
                       "[net]\nbatch=%d\ninput=%d,%d,%d\nthreads=%d\n[%s]\nname=L\nfilters=%d\n"
                       "size=%d\nstride=%d\npad=%d\n",
                       cc->n, cc->C, cc->H, cc->W, threads, deconv ? "deconv" : "conv", cc->F,
                       cc->k, cc->s, cc->p);
    if (deconv)
        snprintf(cfg + len, sizeof cfg - (size_t)len, "output_padding=%d\n", cc->op);
    else
        snprintf(cfg + len, sizeof cfg - (size_t)len, "%s", extra);
    cn_net *net = tu_net(cfg);
    cn_layer *out = cn_net_output(net);
    int Ho = deconv ? (cc->H - 1) * cc->s - 2 * cc->p + cc->k + cc->op
                    : (cc->H + 2 * cc->p - cc->k) / cc->s + 1;
    int Wo = deconv ? (cc->W - 1) * cc->s - 2 * cc->p + cc->k + cc->op
                    : (cc->W + 2 * cc->p - cc->k) / cc->s + 1;
    ck_assert(out->c == cc->F && out->h == Ho && out->w == Wo);
    /* 2 FLOPs per multiply-add: K * F per output position, or per input one */
    double taps = 2.0 * cc->C * cc->F * cc->k * cc->k;
    ck_assert_double_eq(cn_layer_flops(out), taps * (deconv ? cc->H * cc->W : Ho * Wo));
    cn_param *W = param(net, "L.W"), *b = param(net, "L.b");
    size_t nx = (size_t)cc->n * cc->C * cc->H * cc->W, ny = (size_t)cc->n * cc->F * Ho * Wo;
    float *x = malloc(nx * sizeof *x), *dy = malloc(ny * sizeof *dy);
    double *y = calloc(ny, sizeof *y), *dx = calloc(nx, sizeof *dx);
    double *dw = calloc(W->count, sizeof *dw), *db = calloc(b->count, sizeof *db);
    ck_assert(x && dy && y && dx && dw && db);
    cn_rng rng;
    cn_rng_seed(&rng, 11);
    fill(x, nx, -1, 1, &rng);
    fill(dy, ny, -1, 1, &rng);
    fill(W->value, W->count, -0.5f, 0.5f, &rng);
    fill(b->value, b->count, -0.5f, 0.5f, &rng);
    (deconv ? naive_deconv : naive_conv)(cc, Ho, Wo, x, W->value, b->value, dy, y, dx, dw, db);

    cn_net_set_input_grad(net, 1);
    cn_net_set_batch(net, x, NULL, cc->n);
    cn_net_zero_grad(net);
    cn_net_forward(net);
    assert_near(out->out.data, y, ny, "y");
    memcpy(out->dout.data, dy, ny * sizeof *dy);
    cn_net_backward(net);
    assert_near(cn_net_layer(net, 0)->dout.data, dx, nx, "dx");
    assert_near(W->grad, dw, W->count, "dW");
    assert_near(b->grad, db, b->count, "db");
    free(x), free(dy), free(y), free(dx), free(dw), free(db);
    cn_net_free(net);
}

START_TEST(test_conv_naive)
{
    check_lowered(&conv_cases[_i / 3], 0, 1 + _i % 3, "algo=im2col\n");
}
END_TEST

START_TEST(test_conv_winograd)
{
    check_lowered(&wino_cases[_i / 3], 0, 1 + _i % 3, "algo=winograd\n");
}
END_TEST

START_TEST(test_deconv_naive)
{
    check_lowered(&deconv_cases[_i / 3], 1, 1 + _i % 3, "");
}
END_TEST

/* [conv] share=c on a second input, against a net whose second conv holds
 * a copy of c's W and b: the same outputs, one W, and the gradient of the
 * shared W and b the sum of both uses'. */
START_TEST(test_shared_conv)
{
#define SHARE_CONV(c2) NET2("2,5,5") "[conv]\nname=a\nfilters=2\nsize=1\nactivation=tanh\n" \
    "[conv]\nname=c\nfrom=input\nfilters=3\npad=1\nactivation=sigmoid\n[conv]\nname=c2\n" \
    "from=a\n" c2 "[route]\nfrom=c,c2\n"
    cn_net *shared = tu_net(SHARE_CONV("share=c\n"));
    cn_net *free_net = tu_net(SHARE_CONV("filters=3\npad=1\nactivation=sigmoid\n"));
#undef SHARE_CONV
    ck_assert_int_eq(cn_net_n_params(shared), 4);
    ck_assert_int_eq(cn_net_find_layer(shared, "c2")->n_params, 0);
    cn_param *W = param(shared, "c.W"), *b = param(shared, "c.b");
    set_param(free_net, "c2.W", W->value, W->count);
    set_param(free_net, "c2.b", b->value, 3);
    float x[2 * 50], r[2 * 150];
    cn_rng rng;
    cn_rng_seed(&rng, 9);
    fill(x, 100, 0, 1, &rng);
    fill(r, 300, -1, 1, &rng);
    cn_layer *ys = run_backward(shared, x, r), *yf = run_backward(free_net, x, r);
    ck_assert_int_eq(ys->c * ys->h * ys->w, 150);
    assert_close(ys->out.data, yf->out.data, 300, 1e-6);
    const float *g1 = param(free_net, "c.W")->grad, *g2 = param(free_net, "c2.W")->grad;
    float want[54];
    for (int k = 0; k < 54; k++)
        want[k] = g1[k] + g2[k];
    assert_close(W->grad, want, 54, 1e-5);
    ck_assert(g1[0] != 0.0f && g2[0] != 0.0f);
    for (int k = 0; k < 3; k++)
        want[k] = param(free_net, "c.b")->grad[k] + param(free_net, "c2.b")->grad[k];
    assert_close(b->grad, want, 3, 1e-5);
    assert_close(param(shared, "a.W")->grad, param(free_net, "a.W")->grad, 4, 1e-5);
    cn_net_free(shared);
    cn_net_free(free_net);
}
END_TEST

START_TEST(test_tied_deconv)
{
#define ENC "[net]\nbatch=2\ninput=2,7,7\n[conv]\nname=enc\nfilters=3\nstride=2\npad=1\n" \
            "activation=tanh\n[deconv]\nname=dec\nstride=2\npad=1\nactivation=sigmoid\n"
    cn_net *tied = tu_net(ENC "tie=enc\n"), *free_net = tu_net(ENC "filters=2\nsize=3\n");
#undef ENC
    /* W once in the parameter list (enc.W, enc.b, dec.b), no dec.W */
    ck_assert_int_eq(cn_net_n_params(tied), 3);
    ck_assert_ptr_null(cn_layer_param(cn_net_find_layer(tied, "dec"), "W"));
    cn_layer *yt = cn_net_output(tied);
    ck_assert(yt->c == 2 && yt->h == 7 && yt->w == 7);

    /* enc.W (3, 2, 3, 3) is already a deconv 3 -> 2 weight: the untied
     * decoder with a copy of it computes the same function */
    cn_param *W = param(tied, "enc.W");
    set_param(free_net, "enc.W", W->value, W->count);
    set_param(free_net, "enc.b", param(tied, "enc.b")->value, 3);
    set_param(free_net, "dec.W", W->value, W->count);
    set_param(free_net, "dec.b", param(tied, "dec.b")->value, 2);
    float x[2 * 98], r[2 * 98];
    cn_rng rng;
    cn_rng_seed(&rng, 5);
    fill(x, 196, 0, 1, &rng);
    fill(r, 196, -1, 1, &rng);
    yt = run_backward(tied, x, r);
    cn_layer *yf = run_backward(free_net, x, r);
    assert_close(yt->out.data, yf->out.data, 196, 1e-6);

    /* the shared W's gradient is the sum of both uses' */
    const float *ge = param(free_net, "enc.W")->grad, *gd = param(free_net, "dec.W")->grad;
    float want[54];
    for (int k = 0; k < 54; k++)
        want[k] = ge[k] + gd[k];
    assert_close(W->grad, want, 54, 1e-5);
    ck_assert_float_ne(ge[0], 0.0f);
    ck_assert_float_ne(gd[0], 0.0f);
    assert_close(param(tied, "dec.b")->grad, param(free_net, "dec.b")->grad, 2, 1e-6);
    cn_net_free(tied);
    cn_net_free(free_net);
}
END_TEST

/* Pooling splits the batch over the threads: loop 0 runs 1 thread, loop 1 two. */
#define NET2T(input) "[net]\nbatch=2\ninput=" input "\nseed=7\nthreads=1\n"

static cn_net *pool_net(const char *cfg, int threads)
{
    char text[256];
    snprintf(text, sizeof text, "%s", cfg);
    strstr(text, "threads=1")[8] = (char)('0' + threads);
    return tu_net(text);
}

START_TEST(test_maxpool_values)
{
    cn_net *net = pool_net(NET2T("1,4,5") "[maxpool]\n", 1 + _i);
    cn_net_set_input_grad(net, 1);
    /* 4x5 -> 2x2: the last column is dropped (floor); sample 1 is -sample 0 */
    float x[40] = {1, 5, 2, 0, 9, 3, 4, 8, 7, 6, 0, -1, -2, -3, -4, 2, -5, 3, 1, 10};
    for (int i = 0; i < 20; i++)
        x[20 + i] = -x[i];
    const float r[] = {1, 2, 3, 4, 5, 6, 7, 8};
    cn_layer *out = run_backward(net, x, r);
    ck_assert(out->c == 1 && out->h == 2 && out->w == 2);
    const float want[] = {5, 8, 2, 3, -1, 0, 5, 3};
    assert_close(out->out.data, want, 8, 0);
    /* the gradient goes to the argmax only */
    const float *dx = cn_net_layer(net, 0)->dout.data;
    float dwant[40] = {0};
    dwant[1] = 1, dwant[7] = 2, dwant[15] = 3, dwant[17] = 4;
    dwant[20] = 5, dwant[23] = 6, dwant[36] = 7, dwant[33] = 8;
    assert_close(dx, dwant, 40, 0);
    cn_net_free(net);

    /* size 3, stride 2, pad 1 on all-negative values: padding never wins */
    net = pool_net(NET2T("1,4,4") "[maxpool]\nsize=3\nstride=2\npad=1\n", 1 + _i);
    for (int i = 0; i < 32; i++)
        x[i] = -(float)(i % 16 + 1);
    cn_net_set_batch(net, x, NULL, 2);
    cn_net_forward(net);
    const float want2[] = {-1, -2, -5, -6, -1, -2, -5, -6};
    assert_close(cn_net_output(net)->out.data, want2, 8, 0);
    cn_net_free(net);
}
END_TEST

START_TEST(test_avgpool_values)
{
    /* size 3, stride 2, pad 1 on 4x4: padding counts as 0, divisor 9 */
    cn_net *net = pool_net(NET2T("1,4,4") "[avgpool]\nsize=3\nstride=2\npad=1\n", 1 + _i);
    cn_net_set_input_grad(net, 1);
    float x[32];
    for (int i = 0; i < 32; i++)
        x[i] = -(float)(i % 16 + 1);
    const float r[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    cn_layer *out = run_backward(net, x, r);
    const float want[] = {-14 / 9.0f, -30 / 9.0f, -57 / 9.0f, -11, -14 / 9.0f, -30 / 9.0f,
                          -57 / 9.0f, -11};
    assert_close(out->out.data, want, 8, 1e-6);
    /* dx = (windows covering the pixel) / 9 */
    const float *dx = cn_net_layer(net, 0)->dout.data;
    const float cover[16] = {1, 2, 1, 1, 2, 4, 2, 2, 1, 2, 1, 1, 1, 2, 1, 1};
    for (int i = 0; i < 32; i++)
        ck_assert_float_eq_tol(dx[i], cover[i % 16] / 9.0f, 1e-7f);
    cn_net_free(net);
}
END_TEST

START_TEST(test_upsample_values)
{
    cn_net *net = tu_net(NET2("1,2,3") "[upsample]\n");
    cn_net_set_input_grad(net, 1);
    float x[12], r[48];
    for (int i = 0; i < 12; i++)
        x[i] = (float)(i + 1);
    for (int i = 0; i < 48; i++)
        r[i] = (float)(i % 24);
    cn_layer *out = run_backward(net, x, r);
    ck_assert(out->c == 1 && out->h == 4 && out->w == 6);
    const float want[24] = {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3,
                            4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6};
    assert_close(out->out.data, want, 24, 0);
    assert_close(out->out.data + 24, want, 24, 6); /* sample 2 is sample 1 + 6 */
    ck_assert_float_eq(out->out.data[24], 7.0f);
    /* dx sums each 2x2 block of dy */
    const float dwant[] = {14, 22, 30, 62, 70, 78, 14, 22, 30, 62, 70, 78};
    assert_close(cn_net_layer(net, 0)->dout.data, dwant, 12, 0);
    cn_net_free(net);
}
END_TEST

START_TEST(test_conv_errors)
{
    expect_error("[net]\nbatch=2\ninput=1,5,5\n[conv]\nfilters=2\nsize=7\n", CN_ERR_SHAPE,
                 "test.cfg:6: key 'size' = '7': layer 'conv1' (input 1x5x5) with size 7, pad 0 "
                 "has an output smaller than 1x1: needs height and width + 2*pad >= size");
    expect_error("[net]\nbatch=2\ninput=2,5,5\n[dense]\nname=d\noutput=3\n[deconv]\ntie=d\n",
                 CN_ERR_CFG,
                 "test.cfg:8: key 'tie' = 'd': layer 'd' is a [dense]; only a [conv] layer's W "
                 "can be tied");
    expect_error("[net]\nbatch=2\ninput=2,7,7\n[conv]\nname=enc\nfilters=3\nstride=2\n[conv]\n"
                 "filters=4\nsize=1\n[deconv]\nname=dec\ntie=enc\n",
                 CN_ERR_SHAPE,
                 "test.cfg:13: key 'tie' = 'enc': layer 'dec' (input 4x3x3) cannot use the "
                 "transpose of 'enc' W (3 x 2 x 3 x 3): needs 3 input channels");
    expect_error("[net]\nbatch=2\ninput=2,7,7\n[conv]\nname=enc\nfilters=3\n[deconv]\n"
                 "tie=enc\nfilters=3\n",
                 CN_ERR_CFG,
                 "test.cfg:9: key 'filters' = '3': layer 'deconv2' is tied to 'enc', whose W "
                 "gives filters 2; leave filters out or set it to 2");
    expect_error("[net]\nbatch=2\ninput=2,3,3\n[deconv]\nfilters=2\nstride=2\n"
                 "output_padding=2\n",
                 CN_ERR_CFG,
                 "test.cfg:7: key 'output_padding' = '2': expects output_padding < stride (2)");
    expect_error("[net]\nbatch=2\ninput=1,1,1\n[deconv]\nfilters=1\nsize=1\npad=1\n",
                 CN_ERR_SHAPE,
                 "test.cfg:7: key 'pad' = '1': layer 'deconv1' (input 1) with size 1, stride "
                 "1, pad 1, output_padding 0 has an output of -1x-1: needs (H - 1)*stride - "
                 "2*pad + size + output_padding >= 1");
    expect_error("[net]\nbatch=2\ninput=1,5,5\n[maxpool]\nsize=2\npad=2\n", CN_ERR_CFG,
                 "test.cfg:6: key 'pad' = '2': expects pad < size (2), so every window holds "
                 "an input value");
    expect_error("[net]\nbatch=2\ninput=1,5,5\n[conv]\nfilters=2\nalgo=winograd\n",
                 CN_ERR_CFG,
                 "test.cfg:6: key 'algo' = 'winograd': layer 'conv1': winograd needs size 5, "
                 "stride 1 and pad <= 4 (got size 3, stride 1, pad 0)");
    expect_error("[net]\nbatch=2\ninput=1,5,5\n[conv]\nfilters=2\nalgo=fft\n", CN_ERR_CFG,
                 "test.cfg:6: key 'algo' expects one of auto, im2col, winograd, got 'fft'");
    expect_error("[net]\nbatch=2\ninput=1,5,5\n[conv]\nsize=3\n", CN_ERR_CFG,
                 "test.cfg:4: [conv] needs key 'filters' (output channels F (may be left out with "
                 "share))");
}
END_TEST

/* Batchnorm in eval mode: running statistics are constants, and the
 * gradient through them is checked after a few training batches moved them. */
START_TEST(test_batchnorm_eval_mode)
{
    cn_net *net = tu_net("[net]\nbatch=4\ninput=2,3,3\n[conv]\nfilters=3\nsize=2\n"
                         "activation=tanh\n[batchnorm]\nname=bn\n[dense]\noutput=2\n");
    float x[4 * 18];
    for (int step = 0; step < 3; step++) {
        for (int i = 0; i < 4 * 18; i++)
            x[i] = (float)((i * 7 + step * 3) % 11) / 5.0f;
        cn_net_set_batch(net, x, NULL, 4);
        cn_net_forward(net);
    }
    const cn_layer *bn = cn_net_find_layer(net, "bn");
    ck_assert_float_ne(cn_layer_param(bn, "running_mean")->value[0], 0.0f);
    ck_assert_double_lt(tu_gradcheck_mode(net, 1, 0, 42, 0), 1e-2);
    cn_net_free(net);
}
END_TEST

Suite *layers_suite(void)
{
    Suite *s = suite_create("layers");
    TCase *tc = tcase_create("gradcheck");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_gradcheck, 0, tu_n_layer_rows);
    tcase_add_test(tc, test_coverage);
    tcase_add_test(tc, test_batchnorm_eval_mode);
    suite_add_tcase(s, tc);
    tc = tcase_create("values");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_dense_forward);
    tcase_add_test(tc, test_gain_temperature);
    tcase_add_test(tc, test_route_order);
    tcase_add_test(tc, test_tied_weights);
    tcase_add_test(tc, test_grad_reverse_exact);
    tcase_add_test(tc, test_shared_dense);
    tcase_add_test(tc, test_shared_conv);
    tcase_add_test(tc, test_onehot_values);
    tcase_add_test(tc, test_prior_gaussian);
    tcase_add_test(tc, test_prior_categorical);
    tcase_add_test(tc, test_prior_mixture);
    tcase_add_test(tc, test_prior_reproducible);
    tcase_add_test(tc, test_constant);
    tcase_add_test(tc, test_grad_reverse_against_plain);
    tcase_add_test(tc, test_noise_eval_identity);
    tcase_add_test(tc, test_noise_statistics);
    tcase_add_test(tc, test_noise_reproducible);
    tcase_add_test(tc, test_dropout_eval_identity);
    tcase_add_test(tc, test_dropout_statistics);
    tcase_add_test(tc, test_dropout_reproducible);
    tcase_add_test(tc, test_reshape_round_trip);
    tcase_add_test(tc, test_corrupt_kernels);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_tied_deconv);
    tcase_add_loop_test(tc, test_maxpool_values, 0, 2);
    tcase_add_loop_test(tc, test_avgpool_values, 0, 2);
    tcase_add_test(tc, test_upsample_values);
    tcase_add_test(tc, test_conv_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("conv_naive");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_conv_naive, 0,
                        3 * (int)(sizeof conv_cases / sizeof conv_cases[0]));
    tcase_add_loop_test(tc, test_conv_winograd, 0,
                        3 * (int)(sizeof wino_cases / sizeof wino_cases[0]));
    tcase_add_loop_test(tc, test_deconv_naive, 0,
                        3 * (int)(sizeof deconv_cases / sizeof deconv_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}
