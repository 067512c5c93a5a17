/* ref.c - layer references in cfg keys: a name (`enc`), `input`, or a
 * negative index relative to the referring section (-1 = the layer just
 * above; indices count layer sections only). A reference must resolve to an
 * earlier layer, so cfg order is always a topological order.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

/* Line of the layer section named `name` appearing at or after `from`, or 0. */
static int later_line(const cn_sec *s, const char *name)
{
    const cn_cfg *cfg = s->cfg;
    int seen = 0;
    for (int i = 0; i < cfg->n_sections; i++) {
        const cn_cfg_section *sec = &cfg->sections[i];
        if (sec == s->sec)
            seen = 1;
        const cn_cfg_entry *e = cn_cfg_entry_find(sec, "name");
        if (seen && sec != s->sec && e && !strcmp(e->value, name) && cn_layer_find(sec->type))
            return sec->line;
    }
    return 0;
}

cn_status cn_resolve_ref(const cn_net *net, int current, const cn_sec *s, const char *key,
                         const char *ref, cn_layer **out, cn_error *err)
{
    *out = NULL;
    if (!*ref)
        return cn_sec_bad(s, key, CN_ERR_CFG, err, "expected a layer name or a negative "
                          "relative index such as -1");
    char *end;
    long rel = strtol(ref, &end, 10);
    if (end != ref && !*end) {
        if (rel >= 0)
            return cn_sec_bad(s, key, CN_ERR_CFG, err, "expected a layer name or a negative "
                              "relative index such as -1, got '%s'", ref);
        if (current + rel < 0)
            return cn_sec_bad(s, key, CN_ERR_CFG, err, "index %ld reaches before the input "
                              "(only %d layer%s above)", rel, current - 1,
                              current - 1 == 1 ? " is" : "s are");
        *out = &net->layers[current + rel];
        return CN_OK;
    }
    int at = cn_names_find(&net->names, net->layers, ref);
    if (at >= 0 && at < current && at < net->n_layers) {
        *out = &net->layers[at];
        return CN_OK;
    }
    const cn_cfg_entry *self = cn_cfg_entry_find(s->sec, "name");
    if (self && !strcmp(self->value, ref) && cn_layer_find(s->sec->type))
        return cn_sec_bad(s, key, CN_ERR_CFG, err, "layer '%s' cannot read itself (a cycle); a "
                          "layer may only read layers above it", ref);
    int line = later_line(s, ref);
    if (line)
        return cn_sec_bad(s, key, CN_ERR_CFG, err, "layer '%s' is defined later (line %d); a "
                          "layer may only read layers above it", ref, line);
    char names[512] = "";
    size_t len = 0;
    for (int i = 0; i < current && i < net->n_layers && len < sizeof names; i++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "",
                                net->layers[i].name);
    return cn_sec_bad(s, key, CN_ERR_CFG, err, "no layer named '%s' above this section "
                      "(layers so far: %s)", ref, names);
}
