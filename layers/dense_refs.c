/* dense_refs.c - where a [dense] layer's output size and parameters come
 * from: its key output and parameters of its own, or an earlier [dense]
 * layer's W used transposed (tie, an autoencoder's decoder) or its W and b
 * used as they are (share, one layer applied to two inputs). dense.c
 * declares the parameters when the layer has its own.
 */
#include <stdlib.h>
#include <string.h>

#include "dense.h"
#include "jacobian.h"

/* Resolve tie=<ref>: an earlier dense layer with its own W of shape
 * (this layer's input, anything). */
static cn_status resolve_tie(cn_layer *l, cn_sec *s, cn_build *b, const char *ref,
                             dense_state *st, cn_error *err)
{
    cn_layer *enc;
    cn_status rc = cn_build_ref(b, l, s, "tie", ref, &enc, err);
    if (rc)
        return rc;
    if (enc->ops != &cn_layer_dense)
        return cn_sec_bad(s, "tie", CN_ERR_CFG, err,
                          "layer '%s' is a [%s]; only a [dense] layer's W can be tied",
                          enc->name, enc->ops->type);
    const dense_state *o = enc->state;
    cn_param *W = o->tied ? NULL : o->W; /* its own, or the one it shares */
    if (!W)
        return cn_sec_bad(s, "tie", CN_ERR_CFG, err,
                          "layer '%s' is itself tied and has no W of its own", enc->name);
    if (W->shape[0] != st->in)
        return cn_sec_bad(s, "tie", CN_ERR_SHAPE, err,
                          "layer '%s' (input %d) cannot use the transpose of '%s' W (%d x %d): "
                          "needs input %d",
                          l->name, st->in, enc->name, W->shape[0], W->shape[1], W->shape[0]);
    st->tied = 1;
    st->W = W;
    l->uses = enc->uses ? enc->uses : enc;
    st->out = W->shape[1];
    if (cn_sec_has(s, "output")) {
        int n;
        rc = cn_sec_int(s, "output", &n, err);
        if (rc)
            return rc;
        if (n != st->out)
            return cn_sec_bad(s, "output", CN_ERR_CFG, err,
                              "layer '%s' is tied to '%s' and outputs %d (the input size of "
                              "'%s'); leave output out or set it to %d",
                              l->name, enc->name, st->out, enc->name, st->out);
    }
    return CN_OK;
}

/* Resolve share=<ref>: an earlier dense layer whose state this layer takes
 * (its W and b, tied or not, its activation and sizes) for an input of the
 * same size. A key given here must agree with what it takes. */
static cn_status resolve_share(cn_layer *l, cn_sec *s, cn_build *b, const char *ref,
                               dense_state *st, int bias, cn_error *err)
{
    cn_layer *own;
    cn_status rc = cn_build_ref(b, l, s, "share", ref, &own, err);
    if (rc)
        return rc;
    if (own->ops != &cn_layer_dense)
        return cn_sec_bad(s, "share", CN_ERR_CFG, err, "layer '%s' is a [%s]; a [dense] layer "
                          "shares only another [dense] layer's parameters", own->name,
                          own->ops->type);
    const dense_state *o = own->state;
    if (o->in != st->in) {
        char own_at[160];
        return cn_sec_bad(s, "share", CN_ERR_SHAPE, err, "layer '%s' (input %d) cannot use "
                          "the parameters of %s, which reads %d values: a shared layer's "
                          "input has the size of its owner's", l->name, st->in,
                          cn_layer_where(own, own_at, sizeof own_at), o->in);
    }
    const dense_state mine = *st;
    *st = *o;
    st->shared = 1;
    l->uses = own->uses ? own->uses : own;
    /* a key given here must say what the layer takes from the owner */
    char own_at[160], has[64];
    const char *key = NULL;
    int n = st->out;
    if (cn_sec_has(s, "output") && (rc = cn_sec_int(s, "output", &n, err)))
        return rc;
    if (n != st->out)
        key = "output", snprintf(has, sizeof has, "%d", o->out);
    else if (cn_sec_has(s, "activation") && mine.act != o->act)
        key = "activation", snprintf(has, sizeof has, "%s", cn_act_name((int)o->act));
    else if ((cn_sec_has(s, "gain") || cn_sec_has(s, "slope")) && mine.param != o->param)
        key = cn_sec_has(s, "gain") ? "gain" : "slope", snprintf(has, sizeof has, "%g",
                                                                  (double)o->param);
    else if (cn_sec_has(s, "bias") && bias != (o->b != NULL))
        key = "bias", snprintf(has, sizeof has, "%d", o->b != NULL);
    if (key)
        return cn_sec_bad(s, key, CN_ERR_CFG, err, "layer '%s' shares %s and takes its %s "
                          "from it (%s = %s); leave %s out or set it to %s", l->name,
                          cn_layer_where(own, own_at, sizeof own_at), key, key, has, key, has);
    return CN_OK;
}

/* output=64,7,7: a dense layer has no spatial output; say what gives one
 * (output = the count, then [reshape]). CN_OK when the value is no such list. */
static cn_status shaped_output(cn_sec *s, cn_error *err)
{
    const cn_cfg_entry *e = cn_cfg_entry_find(s->sec, "output");
    if (!e || !strchr(e->value, ','))
        return CN_OK;
    double count = 1.0;
    int n = 0;
    for (const char *p = e->value;; p++) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1)
            return CN_OK;
        count *= (double)v, n++;
        while (*end == ' ')
            end++;
        if (*end != ',') {
            if (*end || n != 3)
                return CN_OK;
            break;
        }
        p = end;
    }
    return cn_sec_bad(s, "output", CN_ERR_CFG, err, "a [dense] layer outputs a flat vector "
                      "(N x 1 x 1); for this shape set output=%.0f and follow the layer with "
                      "[reshape] output=%s", count, e->value);
}

cn_status cn_dense_resolve(cn_layer *l, cn_sec *s, cn_build *b, dense_state *st, int bias,
                           cn_error *err)
{
    const char *tie, *share;
    cn_status rc = cn_sec_str(s, "tie", &tie, err);
    if (!rc)
        rc = cn_sec_str(s, "share", &share, err);
    if (rc)
        return rc;
    if (tie && tie[0] && share && share[0])
        return cn_sec_bad(s, "share", CN_ERR_CFG, err, "layer '%s' has both tie and share; "
                          "it uses either another W transposed (tie) or another layer's "
                          "parameters as they are (share)", l->name);
    if (share && share[0])
        return resolve_share(l, s, b, share, st, bias, err);
    if (tie && tie[0])
        return resolve_tie(l, s, b, tie, st, err);
    rc = shaped_output(s, err);
    return rc ? rc : cn_sec_int(s, "output", &st->out, err);
}
