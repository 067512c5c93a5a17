/* build_loss.c - a loss section into its cn_loss: the common keys, the
 * layer it attaches to and its target (input, label, none or a layer), the
 * type's setup, and cn_loss_consume (a loss using another's value, as
 * [combine] does). Shape mismatches name the layer where they start.
 */
#include <stdio.h>
#include <string.h>

#include "net_internal.h"

/* Keys every loss section accepts. */
static const cn_key loss_common_keys[] = {
    {"name", CN_KEY_STRING, "", NULL, "loss name in logs (default: the type)"},
    {"layer", CN_KEY_STRING, "-1", NULL,
     "the layer the loss attaches to (default: the last layer above the section)"},
    {"target", CN_KEY_STRING, "", NULL,
     "input (the clean network input), label, none, or a layer (default: per type)"},
    {"weight", CN_KEY_FLOAT, "1", "(-inf, inf)", "factor of this loss in the total"},
    {"target_grad", CN_KEY_BOOL, "0", NULL, "let the gradient flow into a target layer"},
    {"groups", CN_KEY_LIST, "", NULL,
     "the parameter groups this loss trains, each optionally signed: gen, -disc (gen "
     "descends the loss, disc ascends it; default: every group descends it)"},
    CN_KEY_END};

const cn_key *cn_loss_common_keys(void) { return loss_common_keys; }

/* The words of a loss's `target` that are not layer names, in cn_target_kind
 * order ("input" is also the input layer's name): no layer may take them. */
static const char *const target_words[] = {"none", "input", "label"};

int cn_target_word(const char *t)
{
    for (int k = 0; k < (int)(sizeof target_words / sizeof *target_words); k++)
        if (!strcmp(t, target_words[k]))
            return k;
    return -1;
}

/* The earliest layer on l's chain of first inputs that reads a flat vector
 * (a [dense] output, N x 1 x 1) as N channels of 1x1 and spreads it into a
 * spatial map: where a mismatch against an image starts when a dense layer
 * feeds a [deconv] or [upsample] without a [reshape]. NULL when none. */
static const cn_layer *flat_to_spatial(const cn_layer *l)
{
    const cn_layer *found = NULL;
    for (; l->index > 0 && l->n_in > 0; l = l->in[0]) {
        const cn_layer *in = l->in[0];
        if ((l->h > 1 || l->w > 1) && in->h == 1 && in->w == 1 && in->c > 1 && in->index > 0)
            found = l;
    }
    return found;
}

/* A loss whose layer and target differ in count: the layer whose output is
 * wrong, both shapes, and where the shapes part when a flat vector was
 * spread into space. */
static cn_status target_shape_error(const cn_loss *loss, const cn_sec *s, cn_error *err)
{
    const cn_layer *l = loss->layer, *t = loss->target, *start = NULL;
    char lw[160], tw[160], why[400] = "";
    if (t->h > 1 || t->w > 1)
        start = flat_to_spatial(l);
    if (start) {
        char sw[160], iw[160];
        snprintf(why, sizeof why, "; the shapes part at %s, which reads the flat output of %s "
                 "as %d channels of 1x1: put [reshape] output=C,H,W after '%s' to give it "
                 "height and width", cn_layer_where(start, sw, sizeof sw),
                 cn_layer_where(start->in[0], iw, sizeof iw), start->in[0]->c,
                 start->in[0]->name);
    }
    return cn_sec_bad(s, "target", CN_ERR_SHAPE, err, "layer %s does not match target %s: "
                      "%zu values against %zu%s", cn_layer_where(l, lw, sizeof lw),
                      cn_layer_where(t, tw, sizeof tw), (size_t)l->c * l->h * l->w,
                      (size_t)t->c * t->h * t->w, why);
}

static cn_status read_target(cn_net *net, cn_loss *loss, cn_sec *s, int current, cn_error *err)
{
    const char *t;
    if (cn_sec_str(s, "target", &t, err))
        return err->code;
    if (!t || !*t)
        t = loss->ops->target_default == CN_TARGET_LAYER
                ? ""
                : target_words[loss->ops->target_default];
    loss->target = NULL;
    int kind = cn_target_word(t);
    loss->target_kind = kind < 0 ? CN_TARGET_LAYER : (cn_target_kind)kind;
    if (loss->target_kind == CN_TARGET_INPUT)
        loss->target = &net->layers[0];
    if (loss->target_kind == CN_TARGET_LAYER &&
        cn_resolve_ref(net, current, s, "target", t, &loss->target, err))
        return err->code;
    if (!(loss->ops->targets & CN_TARGETS(loss->target_kind))) {
        char ok[128] = "";
        for (int k = 0; k <= CN_TARGET_LAYER; k++)
            if (loss->ops->targets & CN_TARGETS(k))
                snprintf(ok + strlen(ok), sizeof ok - strlen(ok), "%s%s", *ok ? ", " : "",
                         k == CN_TARGET_LAYER ? "a layer" : target_words[k]);
        return cn_sec_bad(s, "target", CN_ERR_CFG, err, "[%s] accepts target %s",
                          loss->ops->type, ok);
    }
    if (loss->target && (size_t)loss->target->c * loss->target->h * loss->target->w !=
                            (size_t)loss->layer->c * loss->layer->h * loss->layer->w)
        return target_shape_error(loss, s, err);
    return CN_OK;
}

cn_status cn_build_loss(cn_net *net, const cn_cfg *cfg, cn_cfg_section *sec, cn_loss *loss,
                        int current, cn_error *err)
{
    cn_sec s = cn_sec_make(cfg, sec, loss_common_keys, loss->ops->keys, NULL);
    cn_build b = {.net = net, .sec = &s};
    const char *name, *layer;
    loss->cfg_line = sec->line;
    if (cn_sec_str(&s, "name", &name, err) || cn_sec_str(&s, "layer", &layer, err) ||
        cn_resolve_ref(net, current, &s, "layer", layer, &loss->layer, err) ||
        cn_sec_float(&s, "weight", &loss->weight, err) ||
        cn_sec_bool(&s, "target_grad", &loss->target_grad, err) ||
        read_target(net, loss, &s, current, err))
        return err->code;
    snprintf(loss->name, sizeof loss->name, "%s", name && *name ? name : loss->ops->type);
    if (cn_groups_loss(net, loss, &s, err))
        return err->code;
    loss->build = &b;
    cn_status rc = loss->ops->setup ? loss->ops->setup(loss, &s, err) : CN_OK;
    loss->build = NULL;
    return rc ? rc : cn_sec_finish(&s, err);
}

/* A failed cn_loss_consume: cited at s's key, with the losses above when
 * `above` is given, or (s NULL) the bare reason, for a caller that cites
 * the place itself. */
static cn_status consume_error(cn_sec *s, const char *key, const char *why, const char *above,
                               cn_error *err)
{
    if (!s)
        return cn_errorf(err, CN_ERR_CFG, "%s", why);
    if (above)
        return cn_sec_bad(s, key, CN_ERR_CFG, err, "%s (losses so far: %s)", why,
                          *above ? above : "none");
    return cn_sec_bad(s, key, CN_ERR_CFG, err, "%s", why);
}

cn_status cn_loss_consume(cn_loss *loss, cn_sec *s, const char *key, const char *name,
                          cn_loss **out, cn_error *err)
{
    const cn_net *net = loss->build ? loss->build->net : NULL;
    cn_loss *found = NULL;
    char why[256], above[512] = "";
    size_t len = 0;
    *out = NULL;
    if (!net)
        return cn_errorf(err, CN_ERR_INTERNAL, "internal: loss '%s' consumes '%s' outside its "
                         "setup", loss->name, name);
    for (int i = 0; i < net->n_losses && &net->losses[i] != loss; i++) { /* the losses above */
        cn_loss *l = &net->losses[i];
        if (len < sizeof above)
            len += (size_t)snprintf(above + len, sizeof above - len, "%s%s", i ? ", " : "",
                                    l->name);
        if (strcmp(l->name, name))
            continue;
        if (found) {
            snprintf(why, sizeof why, "two losses above are named '%s'; give them name=", name);
            return consume_error(s, key, why, NULL, err);
        }
        found = l;
    }
    if (!found) {
        snprintf(why, sizeof why, "no loss named '%s' above this section", name);
        return consume_error(s, key, why, above, err);
    }
    if (found->consumed) {
        snprintf(why, sizeof why, "loss '%s' is already used by another [%s]", name,
                 found->consumed->ops->type);
        return consume_error(s, key, why, NULL, err);
    }
    found->consumed = loss;
    *out = found;
    return CN_OK;
}
