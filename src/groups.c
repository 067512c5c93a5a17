/* groups.c - parameter groups: each [optim] section trains the parameters
 * of the layers naming it (`group`), with its own optimizer and schedule;
 * each loss says which groups it trains and with which sign (`groups`);
 * and the alternating round in which the groups take their steps. This is
 * how a min-max game (a discriminator against a generator, Goodfellow et
 * al., "Generative Adversarial Nets", 2014) is expressed without anything
 * in the trainer knowing about adversaries.
 *
 * A round is every group in [optim] section order, each taking its `steps`
 * consecutive steps (k discriminator steps per generator step: the
 * discriminator's section first with steps = k). With alternate=fresh each
 * step takes the next batch, so batch b is trained by the group whose turn
 * position b mod R is (R the steps of a round); with alternate=shared
 * every step of a round is on the same batch. Either way a group's step
 * count after B batches is a function of B, so a checkpoint records only B.
 */
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

static const char *const default_name = "default";

int cn_net_n_groups(const cn_net *net) { return net->n_groups; }
const char *cn_net_group_name(const cn_net *net, int g) { return net->groups[g].name; }
cn_optim *cn_net_group_optim(const cn_net *net, int g) { return net->groups[g].optim; }
int cn_net_group_steps(const cn_net *net, int g) { return net->groups[g].steps; }
long cn_net_steps(const cn_net *net) { return net->step; }

/* 1 to CN_NAME_MAX-1 characters of [A-Za-z0-9_]: no sign, comma or space,
 * which a loss's `groups` list uses. */
static int good_name(const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
            return 0;
    return len > 0 && len < CN_NAME_MAX;
}

static int find(const cn_net *net, const char *name)
{
    for (int g = 0; g < net->n_groups; g++)
        if (!strcmp(net->groups[g].name, name))
            return g;
    return -1;
}

/* "default, disc": the groups, for messages. */
static void list_groups(const cn_net *net, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int g = 0; g < net->n_groups && len < size; g++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", g ? ", " : "",
                                net->groups[g].name);
}

static cn_status add_group(cn_net *net, const cn_cfg *cfg, cn_cfg_section *sec, cn_error *err)
{
    const char *name = default_name;
    int steps = 1;
    if (sec) {
        cn_sec s = cn_sec_make(cfg, sec, cn_optim_common_keys, NULL, NULL);
        const char *given;
        if (cn_sec_str(&s, "name", &given, err) || cn_sec_int(&s, "steps", &steps, err))
            return err->code;
        if (*given && !good_name(given))
            return cn_sec_bad(&s, "name", CN_ERR_CFG, err, "'%s' is not a group name: 1 to %d "
                              "characters of [A-Za-z0-9_]", given, CN_NAME_MAX - 1);
        if (*given)
            name = given;
        int dup = find(net, name);
        if (dup >= 0)
            return cn_sec_errorf(&s, CN_ERR_CFG, err, "a second [optim] for group '%s' (the "
                                 "first on line %d)%s", name, net->groups[dup].sec->line,
                                 name == default_name ? ": each [optim] after the first needs "
                                 "a name, the group its layers name with group=" : "");
        if (net->n_groups == CN_GROUPS_MAX)
            return cn_sec_errorf(&s, CN_ERR_CFG, err, "more than %d [optim] sections (parameter "
                                 "groups)", CN_GROUPS_MAX);
    }
    cn_group *gr = &net->groups[net->n_groups++];
    snprintf(gr->name, sizeof gr->name, "%s", name);
    gr->sec = sec;
    gr->steps = steps;
    return CN_OK;
}

cn_status cn_groups_scan(cn_net *net, const cn_cfg *cfg, cn_error *err)
{
    net->n_groups = 0;
    net->phase = -1;
    for (int i = 0; i < cfg->n_sections; i++)
        if (cn_section_find(cfg->sections[i].type) == CN_SECTION_OPTIM &&
            add_group(net, cfg, &cfg->sections[i], err))
            return err->code;
    net->default_group = find(net, default_name);
    if (net->default_group < 0) { /* no unnamed [optim]: the defaults, first in a round */
        if (net->n_groups == CN_GROUPS_MAX)
            return cn_errorf(err, CN_ERR_CFG, "%s: %d named [optim] sections and no unnamed one "
                             "for the layers naming no group: at most %d groups in all",
                             cfg->file, CN_GROUPS_MAX, CN_GROUPS_MAX);
        memmove(&net->groups[1], &net->groups[0], (size_t)net->n_groups * sizeof net->groups[0]);
        memset(&net->groups[0], 0, sizeof net->groups[0]);
        net->n_groups++;
        snprintf(net->groups[0].name, sizeof net->groups[0].name, "%s", default_name);
        net->groups[0].steps = 1;
        net->default_group = 0;
    }
    return CN_OK;
}

cn_status cn_groups_layer(cn_net *net, cn_layer *l, cn_sec *s, cn_error *err)
{
    const char *name;
    if (cn_sec_str(s, "group", &name, err))
        return err->code;
    l->group = *name ? find(net, name) : net->default_group;
    if (l->group >= 0)
        return CN_OK;
    char known[CN_GROUPS_MAX * CN_NAME_MAX];
    list_groups(net, known, sizeof known);
    return cn_sec_bad(s, "group", CN_ERR_CFG, err, "layer '%s': no [optim] section has name = "
                      "%s (groups: %s)", l->name, name, known);
}

cn_status cn_groups_loss(cn_net *net, cn_loss *loss, cn_sec *s, cn_error *err)
{
    const char *list;
    if (cn_sec_str(s, "groups", &list, err))
        return err->code;
    memset(loss->sign, *list ? 0 : 1, sizeof loss->sign);
    char item[CN_NAME_MAX + 2];
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        const char *b = p, *e = p + len;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        snprintf(item, sizeof item, "%.*s", (int)CN_MIN((size_t)(e - b), sizeof item - 1), b);
        int sign = item[0] == '-' ? -1 : 1;
        const char *name = item + (item[0] == '-' || item[0] == '+');
        int g = find(net, name);
        if (g < 0) {
            char known[CN_GROUPS_MAX * CN_NAME_MAX];
            list_groups(net, known, sizeof known);
            return cn_sec_bad(s, "groups", CN_ERR_CFG, err, "loss '%s': '%s' is not a group "
                              "(groups: %s; a leading - trains the group against the loss)",
                              loss->name, item, known);
        }
        if (loss->sign[g])
            return cn_sec_bad(s, "groups", CN_ERR_CFG, err, "loss '%s': group '%s' is listed "
                              "twice", loss->name, name);
        loss->sign[g] = (signed char)sign;
        p += len + (p[len] == ',');
    }
    return CN_OK;
}

static int trainable(const cn_param *p) { return !p->inner && !p->buffer; }

/* Which layers' backward group g's step needs: a layer using g's
 * parameters (its own, or its owner's through share=/tie=), or reading a
 * layer that needs it, since the gradient must pass through to get there.
 * The rest (a discriminator's step through a whole encoder) is skipped. */
static cn_status find_needs(cn_net *net, cn_group *gr, int g, cn_error *err)
{
    gr->needs = calloc((size_t)net->n_layers, 1);
    if (!gr->needs)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for the parameter groups");
    for (int i = 1; i < net->n_layers; i++) {
        const cn_layer *l = &net->layers[i];
        int need = (l->n_params && l->group == g) || (l->uses && l->uses->group == g);
        for (int j = 0; j < l->n_in && !need; j++)
            need = gr->needs[l->in[j]->index];
        gr->needs[i] = (unsigned char)need;
    }
    return CN_OK;
}

cn_status cn_groups_create(cn_net *net, const cn_cfg *cfg, cn_error *err)
{
    /* every param once, in the net's order, in its owner's group */
    for (int i = 1; i < net->n_layers; i++)
        for (int j = 0; j < net->layers[i].n_params; j++)
            net->groups[net->layers[i].group].n_params++;
    for (int g = 0; g < net->n_groups; g++) {
        cn_group *gr = &net->groups[g];
        gr->params = calloc((size_t)gr->n_params + 1, sizeof *gr->params);
        if (!gr->params)
            return cn_errorf(err, CN_ERR_NOMEM, "out of memory for the parameter groups");
        gr->n_params = 0;
    }
    for (int k = 0; k < net->n_params; k++)
        for (int i = 1; i < net->n_layers; i++)
            for (int j = 0; j < net->layers[i].n_params; j++)
                if (net->layers[i].params[j] == net->params[k]) {
                    cn_group *gr = &net->groups[net->layers[i].group];
                    gr->params[gr->n_params++] = net->params[k];
                }
    for (int g = 0; g < net->n_groups; g++) {
        cn_group *gr = &net->groups[g];
        int n = 0;
        for (int k = 0; k < gr->n_params; k++)
            n += trainable(gr->params[k]);
        if (!n && net->n_groups > 1 && g == net->default_group && !gr->sec)
            gr->steps = 0; /* every layer with params named a group: no turn for the defaults */
        else if (!n && net->n_groups > 1)
            return cn_errorf(err, CN_ERR_CFG, "%s:%d: [optim] group '%s' trains nothing: no "
                             "layer with trainable parameters has group = %s", cfg->file,
                             gr->sec ? gr->sec->line : 0, gr->name, gr->name);
        if (cn_optim_create_in(cfg, gr->sec, gr->params, gr->n_params, &gr->optim, err))
            return err->code;
        gr->optim->pool = net->pool;
        gr->hook = cn_optim_grad_hook(gr->optim);
        if (find_needs(net, gr, g, err))
            return err->code;
    }
    char types[128];
    cn_groups_types(net, types, sizeof types);
    if (strlen(types) >= 32) /* a checkpoint records them in 32 bytes */
        return cn_errorf(err, CN_ERR_CFG, "%s: the optimizer types of the %d groups, '%s', are "
                         "%zu characters; a checkpoint records at most 31", cfg->file,
                         net->n_groups, types, strlen(types));
    net->optim = net->groups[net->default_group].optim;
    net->grad_hook = &net->groups[net->default_group].hook;
    return CN_OK;
}

void cn_groups_free(cn_net *net)
{
    for (int g = 0; g < net->n_groups; g++) {
        free(net->groups[g].needs);
        cn_optim_free(net->groups[g].optim);
        free(net->groups[g].params);
    }
    net->n_groups = 0;
    net->optim = NULL;
}

static long round_steps(const cn_net *net)
{
    long r = 0;
    for (int g = 0; g < net->n_groups; g++)
        r += net->groups[g].steps;
    return r;
}

long cn_groups_t(const cn_net *net, int g, long batches)
{
    if (net->n_groups == 1)
        return batches;
    long k = net->groups[g].steps;
    if (net->alternate == CN_ALTERNATE_SHARED)
        return batches * k;
    long r = round_steps(net), start = 0;
    for (int i = 0; i < g; i++)
        start += net->groups[i].steps;
    long pos = batches % r - start;
    return batches / r * k + (pos < 0 ? 0 : pos > k ? k : pos);
}

int cn_groups_turn(const cn_net *net, long batch)
{
    if (net->n_groups == 1)
        return 0;
    long pos = batch % round_steps(net);
    int g = 0;
    while (pos >= net->groups[g].steps)
        pos -= net->groups[g++].steps;
    return g;
}

void cn_groups_seek(cn_net *net, long batches)
{
    net->step = batches;
    for (int g = 0; g < net->n_groups; g++)
        net->groups[g].optim->t = cn_groups_t(net, g, batches);
}

size_t cn_groups_state_floats(const cn_net *net)
{
    size_t n = 0;
    for (int g = 0; g < net->n_groups; g++) {
        const cn_optim *o = net->groups[g].optim;
        n += o->ops->state_floats ? o->ops->state_floats(o) : 0;
    }
    return n;
}

void cn_groups_types(const cn_net *net, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int g = 0; g < net->n_groups && len < size; g++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", g ? "+" : "",
                                net->groups[g].optim->ops->type);
}
