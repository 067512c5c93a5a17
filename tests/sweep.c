/* sweep.c - the gradient-check sweep over the layer and loss registries.
 * A built-in type is checked by its rows in the suites' tables; a type a
 * program registers at run time usually has none, so its ops' `example`
 * (a whole tiny net) stands in. Either way every registered type is
 * covered, and a type with neither is a failure the coverage tests report.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define SWEEP_TOL 1e-2

/* Type i of the registry (NULL past the end) and its example. */
static const char *type_at(tu_kind kind, int i, const char **example)
{
    if (kind == TU_LAYERS) {
        const cn_layer_ops *o = cn_layer_types()[i];
        *example = o ? o->example : NULL;
        return o ? o->type : NULL;
    }
    const cn_loss_ops *o = cn_loss_types()[i];
    *example = o ? o->example : NULL;
    return o ? o->type : NULL;
}

/* Whether the built net has a layer or loss of the type. */
static int uses(const cn_net *net, tu_kind kind, const char *type)
{
    if (kind == TU_LAYERS) {
        for (int i = 1; i < cn_net_n_layers(net); i++)
            if (!strcmp(cn_net_layer(net, i)->ops->type, type))
                return 1;
        return 0;
    }
    for (int i = 0; i < cn_net_n_losses(net); i++)
        if (!strcmp(cn_net_loss(net, i)->ops->type, type))
            return 1;
    return 0;
}

/* The input's gradient is checkable unless a loss holds a target that
 * depends on the input as a constant; label targets need classes. */
static void check_args(const cn_net *net, int *with_input, int *classes)
{
    *with_input = 1;
    *classes = 0;
    for (int i = 0; i < cn_net_n_losses(net); i++) {
        const cn_loss *l = cn_net_loss(net, i);
        if (l->target_kind == CN_TARGET_INPUT ||
            (l->target_kind == CN_TARGET_LAYER && !l->target_grad))
            *with_input = 0;
        if (l->target_kind == CN_TARGET_LABEL) {
            int d = l->layer->c * l->layer->h * l->layer->w;
            *classes = *classes ? (d < *classes ? d : *classes) : d;
        }
    }
}

/* Build and gradient-check one example into s->error; 0 when it passes. */
static int check_example(tu_kind kind, const char *example, tu_swept *s)
{
    const char *what = kind == TU_LAYERS ? "layer" : "loss";
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    cn_error err = {0};
    if (cn_cfg_parse_string("example.cfg", example, &cfg, &err) ||
        cn_net_create(cfg, &net, &err)) {
        fprintf(stderr, "sweep: the example of %s type '%s' does not build: %s\n", what,
                s->type, err.msg);
        cn_cfg_free(cfg);
        return 1;
    }
    cn_cfg_free(cfg);
    int fail = 0;
    if (!uses(net, kind, s->type)) {
        fprintf(stderr, "sweep: the example of %s type '%s' has no [%s] section\n", what,
                s->type, s->type);
        fail = 1;
    } else {
        int with_input, classes;
        check_args(net, &with_input, &classes);
        s->example = 1;
        s->error = tu_gradcheck(net, with_input, classes, 42);
        if (!(s->error < SWEEP_TOL)) { /* NaN fails too */
            fprintf(stderr, "sweep: %s type '%s': relative error %g of its example\n%s", what,
                    s->type, s->error, example);
            fail = 1;
        }
    }
    cn_net_free(net);
    return fail;
}

int tu_sweep_registered(tu_kind kind, const tu_grad_row *rows, int n_rows, tu_swept *out,
                        int max, int *n)
{
    int fails = 0, count = 0;
    const char *type, *example;
    for (; (type = type_at(kind, count, &example)); count++) {
        tu_swept s = {type, 0, 0, 0.0};
        for (int r = 0; r < n_rows; r++)
            s.rows += !strcmp(rows[r].type, type);
        if (!s.rows && !example) {
            fprintf(stderr, "sweep: %s type '%s' has neither a gradient-check row nor an "
                    "example\n", kind == TU_LAYERS ? "layer" : "loss", type);
            fails++;
        } else if (!s.rows) {
            fails += check_example(kind, example, &s);
        }
        if (count < max)
            out[count] = s;
    }
    *n = count;
    return fails;
}
