/* build.c - turn a parsed cfg into a network: the Caffe-style setup
 * sequence (resolve inputs, check arity, layer setup, unknown-key check),
 * then losses, then one allocation per arena, then parameter init.
 *
 * Sections: [net] (batch, input shape, seed), [data] (read by data/),
 * [optim] (read by optim/), and every other section is a layer type from
 * layers/registry.c or a loss type from losses/registry.c.
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "net_internal.h"

/* The most memory a network may need (arenas, optimizer state, scratch): a
 * typo such as output=100000000 is an error naming the layer, not a failed
 * or swapping allocation. The fuzzing build (make fuzz) compiles a lower cap. */
/* The largest output a layer may have: height and width (the input's range),
 * channels (a dense layer's `output` range). */
#define CN_DIM_MAX 1048576
#define CN_CHANNELS_MAX 16777216

#ifndef CN_MAX_NET_BYTES
#define CN_MAX_NET_BYTES 8589934592.0 /* 8 GiB */
#endif

const cn_key cn_net_keys[] = {
    {"batch", CN_KEY_INT, "128", "[1, 65536]", "samples per mini-batch (>= 1)"},
    {"input", CN_KEY_LIST, "1,28,28", "[1, 1048576]", "input shape C,H,W (or a flat size N)"},
    {"seed", CN_KEY_INT, "1", "[0, 2147483647]", "seed of the one RNG (init, shuffling, noise, sampling)"},
    {"epochs", CN_KEY_INT, "10", "[1, 1000000]", "training epochs (cnet train --epochs overrides)"},
    {"name", CN_KEY_STRING, "", NULL,
     "run name: runs/<name>/, 1 to 63 characters, no '/', not . or .. (default: the cfg "
     "file's stem)"},
    {"threads", CN_KEY_INT, "0", "[0, 64]", "threads of the network's pool, which splits every layer's "
                                       "work (0 = OPENBLAS_NUM_THREADS, or the cores; at most 64)"},
    {"monitor", CN_KEY_ENUM, "loss", CN_MONITOR_CHOICES,
     "what best.ckpt and early stopping watch on the validation split (the training loss "
     "without one): loss (lower is better), accuracy of the label loss's layer, cluster_acc of "
     "the cluster layer (higher is better)"},
    {"patience", CN_KEY_INT, "0", "[0, 1000000]",
     "stop after this many epochs without the monitored value improving by min_delta (0 = "
     "never); counted afresh on --resume"},
    {"min_delta", CN_KEY_FLOAT, "0", "[0, inf)", "the least change that counts as improving"},
    {"alternate", CN_KEY_ENUM, "fresh", CN_ALTERNATE_CHOICES,
     "with several parameter groups: fresh = each step of a round trains on the next batch; "
     "shared = every step of a round trains on the same batch (an epoch is then its batches' "
     "rounds)"},
    CN_KEY_END};

/* Keys every layer section accepts, read here rather than in layers. */
static const cn_key layer_common_keys[] = {
    {"name", CN_KEY_STRING, "", NULL, "layer name for references (default <type><index>)"},
    {"from", CN_KEY_LIST, "-1", NULL,
     "inputs: layer names or negative relative indices (-1 = the previous layer)"},
    {"lr_mult", CN_KEY_FLOAT, "1", "[0, inf)", "learning-rate multiplier of this layer's parameters"},
    {"decay_mult", CN_KEY_FLOAT, "1", "[0, inf)", "weight-decay multiplier (biases always get 0)"},
    {"init", CN_KEY_ENUM, "uniform", "uniform|normal|xavier",
     "weight init: U(-a,a) a=s/sqrt(fan_in); N(0,(s/sqrt(fan_in))^2); U with a=s*sqrt(6/(in+out))"},
    {"init_scale", CN_KEY_FLOAT, "1", "[0, inf)", "the factor s of the init rule"},
    {"offers", CN_KEY_LIST, "", CN_OFFER_MARK_NAMES,
     "what this layer offers to evaluation (docs/eval.md): clusters = its argmax is a cluster "
     "id (clustering metrics), code = it is a sparse code (sparsity statistics)"},
    {"group", CN_KEY_STRING, "", NULL,
     "the parameter group training this layer's parameters: the name of an [optim] section "
     "(default: the group 'default'; docs/training.md)"},
    CN_KEY_END};

const cn_key *cn_layer_common_keys(void) { return layer_common_keys; }

static const cn_layer_ops input_ops = {
    .type = "input", .doc = "the network input ([net] input=C,H,W)",
};

/* "net, data, optim, dense, ..., mse, ...": every section type, for the
 * unknown-section message (Caffe's "known types"). */
static void known_types(char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < CN_SECTION_COUNT && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
                                cn_section_name((cn_section)i));
    for (const cn_layer_ops *const *t = cn_layer_types(); *t && len < size; t++)
        len += (size_t)snprintf(buf + len, size - len, ", %s", (*t)->type);
    for (const cn_loss_ops *const *t = cn_loss_types(); *t && len < size; t++)
        len += (size_t)snprintf(buf + len, size - len, ", %s", (*t)->type);
}

static int looks_like_int(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Bytes a layer adds to its network, in double so no size can overflow: per
 * parameter its value, gradient and two floats of optimizer state (Adam's;
 * SGD keeps one or none), per activation its value and gradient. Its own
 * buffers (cn_build_alloc) and the shared scratch (the largest layer's) are
 * added as they are made. */
static double layer_bytes(const cn_net *net, const cn_layer *l)
{
    double params = 0.0;
    for (int j = 0; j < l->n_params; j++) {
        const int *d = l->params[j]->shape;
        params += (double)d[0] * d[1] * d[2] * d[3];
    }
    return 4.0 * (4.0 * params + 2.0 * (double)net->batch * l->c * l->h * l->w);
}

/* What the layers built so far need, scratch included. */
static double net_bytes(const cn_net *net) { return net->bytes + net->scratch_bytes; }

/* A value count as an int, for the fans (a checked tensor keeps them far below). */
static int fan(double x) { return x < 1.0 ? 1 : x > INT_MAX ? INT_MAX : (int)x; }

cn_param *cn_build_param(cn_build *b, cn_layer *l, const char *name, int d0, int d1, int d2,
                         int d3, cn_init init, double fan_in, double fan_out, cn_param_role role)
{
    /* in double: a product of four ints could overflow even size_t */
    double count = (double)d0 * d1 * d2 * d3;
    if (d0 < 1 || d1 < 1 || d2 < 1 || d3 < 1) {
        b->param_code = CN_ERR_CFG;
        snprintf(b->param_why, sizeof b->param_why, "parameter '%s' has shape %d x %d x %d x "
                 "%d, with a size below 1", name, d0, d1, d2, d3);
        return NULL;
    }
    if (16.0 * count > CN_MAX_NET_BYTES) { /* value, gradient, two floats of state */
        b->param_code = CN_ERR_CFG;
        snprintf(b->param_why, sizeof b->param_why, "parameter '%s' (%d x %d x %d x %d) has "
                 "%.4g values, which with gradient and optimizer state need %.1f GiB, more "
                 "than the %g GiB a network may use", name, d0, d1, d2, d3, count,
                 16.0 * count / 1073741824.0, CN_MAX_NET_BYTES / 1073741824.0);
        return NULL;
    }
    if (l->n_params >= CN_MAX_PARAMS) {
        b->param_code = CN_ERR_INTERNAL;
        snprintf(b->param_why, sizeof b->param_why, "more than %d parameters", CN_MAX_PARAMS);
        return NULL;
    }
    cn_param *p = calloc(1, sizeof *p);
    if (!p) {
        b->param_code = CN_ERR_NOMEM;
        snprintf(b->param_why, sizeof b->param_why, "out of memory declaring '%s'", name);
        return NULL;
    }
    snprintf(p->name, sizeof p->name, "%s.%s", l->name, name);
    p->shape[0] = d0, p->shape[1] = d1, p->shape[2] = d2, p->shape[3] = d3;
    p->count = (size_t)d0 * (size_t)d1 * (size_t)d2 * (size_t)d3;
    p->lr_mult = b->lr_mult;
    p->decay_mult = role == CN_PARAM_WEIGHT ? b->decay_mult : 0.0f;
    p->role = role;
    p->init = init;
    p->init_scale = b->init_scale;
    p->fan_in = fan(fan_in);
    p->fan_out = fan(fan_out);
    l->params[l->n_params++] = p;
    return p;
}

void *cn_build_alloc(cn_build *b, cn_layer *l, size_t bytes)
{
    double total = net_bytes(b->net) + (double)bytes;
    if (total > CN_MAX_NET_BYTES) {
        b->param_code = CN_ERR_CFG;
        snprintf(b->param_why, sizeof b->param_why, "a buffer of %.4g bytes (batch %d) brings "
                 "the network to %.1f GiB, more than the %g GiB a network may use",
                 (double)bytes, b->net->batch, total / 1073741824.0,
                 CN_MAX_NET_BYTES / 1073741824.0);
        return NULL;
    }
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p) {
        b->param_code = CN_ERR_NOMEM;
        snprintf(b->param_why, sizeof b->param_why, "out of memory for %zu bytes", bytes);
        return NULL;
    }
    l->own_bytes += bytes;
    b->net->bytes += (double)bytes;
    return p;
}

cn_status cn_build_error(const cn_build *b, const cn_layer *l, cn_error *err)
{
    return cn_sec_errorf(b->sec, b->param_code, err, "layer '%s': %s", l->name, b->param_why);
}

cn_status cn_build_ref(cn_build *b, const cn_layer *l, cn_sec *s, const char *key,
                       const char *ref, cn_layer **out, cn_error *err)
{
    return cn_resolve_ref(b->net, l->index, s, key, ref, out, err);
}

cn_init cn_build_init(const cn_build *b) { return b->init; }
float cn_build_init_scale(const cn_build *b) { return b->init_scale; }
int cn_build_batch(const cn_build *b) { return b->net->batch; }
int cn_build_threads(const cn_build *b) { return cn_pool_size(b->net->pool); }

cn_param *cn_layer_param(const cn_layer *l, const char *name)
{
    size_t ln = strlen(l->name);
    for (int i = 0; i < l->n_params; i++) {
        const char *pn = l->params[i]->name;
        if (!strncmp(pn, l->name, ln) && pn[ln] == '.' && !strcmp(pn + ln + 1, name))
            return l->params[i];
    }
    return NULL;
}

const char *cn_layer_shape_str(const cn_layer *l, char *buf, size_t size)
{
    if (l->h == 1 && l->w == 1)
        snprintf(buf, size, "%d", l->c);
    else
        snprintf(buf, size, "%dx%dx%d", l->c, l->h, l->w);
    return buf;
}

const char *cn_layer_where(const cn_layer *l, char *buf, size_t size)
{
    char shape[64];
    cn_layer_shape_str(l, shape, sizeof shape);
    if (l->index == 0)
        snprintf(buf, size, "'%s' ([net] input %s)", l->name, shape);
    else
        snprintf(buf, size, "'%s' ([%s], line %d, output %s)", l->name, l->ops->type,
                 l->cfg_line, shape);
    return buf;
}

const char *cn_flat_hint(const cn_layer *in, char *buf, size_t size)
{
    char where[160];
    buf[0] = '\0';
    if (in->index > 0 && in->h == 1 && in->w == 1 && in->c > 1)
        snprintf(buf, size, "; its input %s is a flat vector (%d channels of 1x1): put "
                 "[reshape] output=C,H,W after '%s' to give it height and width",
                 cn_layer_where(in, where, sizeof where), in->c, in->name);
    return buf;
}

/* Count layer l in, and refuse a network that now needs more than the cap. */
static cn_status check_size(cn_net *net, const cn_layer *l, cn_sec *s, cn_error *err)
{
    net->bytes += layer_bytes(net, l);
    net->scratch_bytes = fmax(net->scratch_bytes, 4.0 * (double)l->scratch);
    double bytes = net_bytes(net);
    if (bytes <= CN_MAX_NET_BYTES)
        return CN_OK;
    char shape[64];
    cn_layer_shape_str(l, shape, sizeof shape);
    if (l->index == 0)
        return cn_sec_bad(s, "input", CN_ERR_CFG, err, "a batch of %d inputs of shape %s needs "
                          "%.1f GiB, more than the %g GiB a network may use", net->batch,
                          shape, bytes / 1073741824.0, CN_MAX_NET_BYTES / 1073741824.0);
    return cn_sec_errorf(s, CN_ERR_CFG, err, "layer '%s' (output %s, batch %d) brings the "
                         "network to %.1f GiB, more than the %g GiB a network may use",
                         l->name, shape, net->batch, bytes / 1073741824.0,
                         CN_MAX_NET_BYTES / 1073741824.0);
}

/* threads = 0: OpenBLAS's thread count (OPENBLAS_NUM_THREADS, or the cores)
 * as it was before any network changed it, read at the first build. */
static int default_threads(void)
{
    static int n;
    if (!n)
        n = openblas_get_num_threads();
    return n;
}

static cn_status read_net(cn_net *net, const cn_cfg *cfg, cn_error *err)
{
    cn_cfg_section *sec = cn_cfg_find(cfg, cn_section_name(CN_SECTION_NET));
    if (!sec)
        return cn_errorf(err, CN_ERR_CFG, "%s: no [net] section (batch, input shape, seed)",
                         cfg->file);
    cn_sec s = cn_sec_make(cfg, sec, cn_net_keys, NULL, NULL);
    int dims[3], nd, seed;
    const char *name;
    cn_layer *in = &net->layers[0];
    if (cn_sec_int(&s, "batch", &net->batch, err) ||
        cn_sec_ints(&s, "input", dims, 3, &nd, err) || cn_sec_int(&s, "seed", &seed, err) ||
        cn_sec_int(&s, "epochs", &net->epochs, err) ||
        cn_sec_str(&s, "name", &name, err) ||
        cn_sec_int(&s, "threads", &net->threads, err) ||
        cn_sec_enum(&s, "monitor", &net->monitor, err) ||
        cn_sec_int(&s, "patience", &net->patience, err) ||
        cn_sec_float(&s, "min_delta", &net->min_delta, err) ||
        cn_sec_enum(&s, "alternate", &net->alternate, err) || cn_sec_finish(&s, err) ||
        cn_pool_create(net->threads ? net->threads : default_threads(), &net->pool, err))
        return err ? err->code : CN_ERR_CFG;
    in->c = dims[0], in->h = nd == 3 ? dims[1] : 1, in->w = nd == 3 ? dims[2] : 1;
    if (nd == 2 || in->c < 1 || in->h < 1 || in->w < 1)
        return cn_sec_bad(&s, "input", CN_ERR_CFG, err,
                          "expected C,H,W or N with positive sizes");
    if (check_size(net, in, &s, err))
        return err->code;
    net->seed = (uint64_t)(int64_t)seed;
    return cn_run_name(&s, name, net->name, sizeof net->name, err);
}

/* Resolve `from` into l->in[] and check the type's arity. */
static cn_status read_inputs(cn_net *net, cn_layer *l, cn_sec *s, cn_error *err)
{
    const char *from;
    if (cn_sec_str(s, "from", &from, err))
        return err->code;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", from);
    l->n_in = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok))
            tok++;
        for (char *e = tok + strlen(tok); e > tok && isspace((unsigned char)e[-1]);)
            *--e = 0;
        if (l->n_in == CN_MAX_INPUTS)
            return cn_sec_bad(s, "from", CN_ERR_CFG, err, "at most %d inputs", CN_MAX_INPUTS);
        if (cn_resolve_ref(net, l->index, s, "from", tok, &l->in[l->n_in], err))
            return err->code;
        l->n_in++;
    }
    int lo = l->ops->n_inputs_min ? l->ops->n_inputs_min : 1;
    int hi = l->ops->n_inputs_max ? l->ops->n_inputs_max : 1;
    if (l->n_in < lo || l->n_in > hi)
        return cn_sec_bad(s, "from", CN_ERR_CFG, err, "[%s] takes %d to %d inputs, got %d",
                          l->ops->type, lo, hi, l->n_in);
    return CN_OK;
}

static cn_status read_name(cn_net *net, cn_layer *l, cn_sec *s, const char *fallback,
                           cn_error *err)
{
    const char *name;
    if (cn_sec_str(s, "name", &name, err))
        return err->code;
    if (!name || !*name) {
        snprintf(l->name, sizeof l->name, "%s", fallback);
        return CN_OK;
    }
    if (strlen(name) >= CN_NAME_MAX || looks_like_int(name) || strchr(name, ',') ||
        strchr(name, '.') || cn_target_word(name) >= 0)
        return cn_sec_bad(s, "name", CN_ERR_CFG, err,
                          "expected a name of 1-%d characters, not a number, without ',' or "
                          "'.', other than input, label and none", CN_NAME_MAX - 1);
    int i = cn_names_find(&net->names, net->layers, name);
    if (i >= 0 && i < l->index)
        return cn_sec_bad(s, "name", CN_ERR_CFG, err, "name already used by the layer "
                          "on line %d", net->layers[i].cfg_line);
    snprintf(l->name, sizeof l->name, "%s", name);
    return CN_OK;
}

static cn_status build_layer(cn_net *net, const cn_cfg *cfg, cn_cfg_section *sec, cn_layer *l,
                             cn_error *err)
{
    cn_sec s = cn_sec_make(cfg, sec, layer_common_keys, l->ops->keys, NULL);
    cn_build b = {.net = net, .sec = &s};
    char fallback[CN_NAME_MAX];
    int init;
    snprintf(fallback, sizeof fallback, "%s%d", l->ops->type, l->index);
    if (read_name(net, l, &s, fallback, err))
        return err->code;
    cn_names_add(&net->names, net->layers, l->index);
    if (read_inputs(net, l, &s, err) || cn_groups_layer(net, l, &s, err) ||
        cn_sec_float(&s, "lr_mult", &b.lr_mult, err) ||
        cn_sec_float(&s, "decay_mult", &b.decay_mult, err) ||
        cn_sec_enum(&s, "init", &init, err) ||
        cn_sec_float(&s, "init_scale", &b.init_scale, err) ||
        cn_offers_read(&s, "offers", &l->offers, err))
        return err->code;
    b.init = init == 0 ? CN_INIT_UNIFORM : init == 1 ? CN_INIT_NORMAL : CN_INIT_XAVIER;
    if (l->ops->setup && l->ops->setup(l, &s, &b, err))
        return err->code;
    if (l->c < 1 || l->h < 1 || l->w < 1)
        return cn_sec_errorf(&s, CN_ERR_INTERNAL, err, "layer '%s' set no output shape",
                             l->name);
    /* keeps every layer's size arithmetic (a dim times a key of at most 1024) in int */
    if (l->h > CN_DIM_MAX || l->w > CN_DIM_MAX || l->c > CN_CHANNELS_MAX) {
        char shape[64];
        return cn_sec_errorf(&s, CN_ERR_SHAPE, err, "layer '%s' has output %s: at most %d "
                             "channels and %d rows and columns", l->name,
                             cn_layer_shape_str(l, shape, sizeof shape), CN_CHANNELS_MAX,
                             CN_DIM_MAX);
    }
    for (int i = 0; i < l->n_params; i++)
        if (!l->params[i])
            return cn_errorf(err, CN_ERR_NOMEM, "out of memory declaring parameters");
    if (check_size(net, l, &s, err))
        return err->code;
    return cn_sec_finish(&s, err);
}

/* Count layer and loss sections, rejecting unknown and repeated special ones. */
static cn_status count_sections(const cn_cfg *cfg, int *n_layers, int *n_losses, cn_error *err)
{
    *n_layers = *n_losses = 0;
    for (int i = 0; i < cfg->n_sections; i++) {
        const cn_cfg_section *sec = &cfg->sections[i];
        if (cn_section_find(sec->type) >= 0) {
            /* [optim] repeats, one per parameter group (src/groups.c) */
            for (int j = 0; j < i && cn_section_find(sec->type) != CN_SECTION_OPTIM; j++)
                if (!strcmp(cfg->sections[j].type, sec->type))
                    return cn_errorf(err, CN_ERR_CFG, "%s:%d: second [%s] section (first on "
                                     "line %d)", cfg->file, sec->line, sec->type,
                                     cfg->sections[j].line);
        } else if (cn_layer_find(sec->type)) {
            (*n_layers)++;
        } else if (cn_loss_find(sec->type)) {
            (*n_losses)++;
        } else {
            char known[1024];
            known_types(known, sizeof known);
            return cn_errorf(err, CN_ERR_CFG, "%s:%d: unknown section type [%s] (known types: "
                             "%s)", cfg->file, sec->line, sec->type, known);
        }
    }
    if (*n_layers == 0)
        return cn_errorf(err, CN_ERR_CFG, "%s: no layer sections", cfg->file);
    return CN_OK;
}

static void init_param(cn_param *p, cn_rng *rng)
{
    float a = p->init_scale / sqrtf((float)(p->fan_in > 0 ? p->fan_in : 1));
    switch (p->init) {
    case CN_INIT_UNIFORM:
    case CN_INIT_XAVIER:
        if (p->init == CN_INIT_XAVIER)
            a = p->init_scale * sqrtf(6.0f / (float)CN_MAX(p->fan_in + p->fan_out, 1));
        for (size_t i = 0; i < p->count; i++)
            p->value[i] = a * (2.0f * cn_rng_uniform(rng) - 1.0f);
        break;
    case CN_INIT_NORMAL:
        for (size_t i = 0; i < p->count; i++)
            p->value[i] = a * cn_rng_normal(rng);
        break;
    case CN_INIT_ZERO:
    case CN_INIT_ONE:
        for (size_t i = 0; i < p->count; i++)
            p->value[i] = p->init == CN_INIT_ONE ? 1.0f : 0.0f;
        break;
    }
}

/* One block per arena (llm.c's habit), carved into views. */
static cn_status allocate(cn_net *net, cn_error *err)
{
    size_t n_params = 0, n_act = 0;
    int np = 0;
    for (int i = 0; i < net->n_layers; i++) {
        cn_layer *l = &net->layers[i];
        np += l->n_params;
        for (int j = 0; j < l->n_params; j++)
            n_params += l->params[j]->count;
        n_act += (size_t)net->batch * l->c * l->h * l->w;
        net->n_scratch = CN_MAX(net->n_scratch, l->scratch);
    }
    net->n_param_floats = n_params;
    net->n_act_floats = n_act;
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    net->params = calloc((size_t)CN_MAX(np, 1), sizeof *net->params);
    net->param_arena = calloc(CN_MAX(n_params, 1), sizeof(float));
    net->grad_arena = calloc(CN_MAX(n_params, 1), sizeof(float));
    net->act_arena = calloc(n_act, sizeof(float));
    net->dact_arena = calloc(n_act, sizeof(float));
    net->scratch = calloc(CN_MAX(net->n_scratch, 1), sizeof(float));
    net->labels = malloc((size_t)net->batch * sizeof(int));
    if (!net->params || !net->param_arena || !net->grad_arena || !net->act_arena ||
        !net->dact_arena || !net->scratch || !net->labels)
        return cn_errorf(err, CN_ERR_NOMEM, "%s: out of memory allocating the network "
                         "(%zu parameters, %zu activations)", net->file, n_params, n_act);
    size_t po = 0, ao = 0;
    for (int i = 0; i < net->n_layers; i++) {
        cn_layer *l = &net->layers[i];
        for (int j = 0; j < l->n_params; j++) {
            cn_param *p = l->params[j];
            p->value = net->param_arena + po;
            p->grad = net->grad_arena + po;
            po += p->count;
            net->params[net->n_params++] = p;
        }
        l->out = (cn_tensor){net->act_arena + ao, net->batch, l->c, l->h, l->w};
        l->dout = (cn_tensor){net->dact_arena + ao, net->batch, l->c, l->h, l->w};
        ao += (size_t)net->batch * l->c * l->h * l->w;
        l->scratch_buf = net->scratch;
    }
    for (int i = 0; i < net->batch; i++)
        net->labels[i] = -1;
    return CN_OK;
}

/* FNV-1a over layer types, shapes and parameter shapes. */
static uint64_t fingerprint(const cn_net *net)
{
    uint64_t h = 0xcbf29ce484222325ULL;
#define MIX(p, n)                                                                                \
    for (size_t k_ = 0; k_ < (n); k_++)                                                          \
        h = (h ^ ((const unsigned char *)(p))[k_]) * 0x100000001b3ULL;
    for (int i = 0; i < net->n_layers; i++) {
        const cn_layer *l = &net->layers[i];
        int shape[3] = {l->c, l->h, l->w};
        MIX(l->ops->type, strlen(l->ops->type));
        MIX(shape, sizeof shape);
        for (int j = 0; j < l->n_params; j++)
            MIX(l->params[j]->shape, sizeof l->params[j]->shape);
    }
#undef MIX
    return h;
}

static cn_status build(cn_net *net, const cn_cfg *cfg, cn_layer_built_fn built, void *user,
                       cn_error *err)
{
    int n_layers, n_losses;
    if (count_sections(cfg, &n_layers, &n_losses, err))
        return err->code;
    net->layers = calloc((size_t)n_layers + 1, sizeof *net->layers);
    net->losses = calloc((size_t)CN_MAX(n_losses, 1), sizeof *net->losses);
    if (!net->layers || !net->losses || cn_names_init(&net->names, n_layers + 1))
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory");
    cn_layer *in = &net->layers[0];
    in->ops = &input_ops;
    snprintf(in->name, sizeof in->name, "input");
    cn_names_add(&net->names, net->layers, 0);
    net->n_layers = 1;
    if (read_net(net, cfg, err) || cn_groups_scan(net, cfg, err))
        return err->code;
    if (built)
        built(in, user);
    for (int i = 0; i < cfg->n_sections; i++) {
        cn_cfg_section *sec = &cfg->sections[i];
        if (cn_section_find(sec->type) >= 0) /* read by their owners */
            continue;
        const cn_layer_ops *lops = cn_layer_find(sec->type);
        if (lops) {
            cn_layer *l = &net->layers[net->n_layers];
            l->ops = lops;
            l->index = net->n_layers;
            l->cfg_line = sec->line;
            net->n_layers++; /* counted now so destroy() runs on partial setups */
            if (build_layer(net, cfg, sec, l, err))
                return err->code;
            l->needs_grad = 1;
            if (built)
                built(l, user);
        } else {
            cn_loss *loss = &net->losses[net->n_losses++];
            loss->ops = cn_loss_find(sec->type);
            if (cn_build_loss(net, cfg, sec, loss, net->n_layers, err))
                return err->code;
        }
    }
    if (allocate(net, err))
        return err->code;
    cn_rng_seed(&net->rng, net->seed);
    for (int i = 0; i < net->n_params; i++)
        init_param(net->params[i], &net->rng);
    net->fingerprint = fingerprint(net);
    /* each group's optimizer; the trainer's default hook updates each param
     * as soon as its gradient is final */
    return cn_groups_create(net, cfg, err);
}

cn_status cn_net_create(const cn_cfg *cfg, cn_net **out, cn_error *err)
{
    return cn_net_create_each(cfg, NULL, NULL, out, err);
}

cn_status cn_net_create_each(const cn_cfg *cfg, cn_layer_built_fn built, void *user,
                             cn_net **out, cn_error *err)
{
    cn_error local;
    if (!err)
        err = &local;
    *out = NULL;
    cn_net *net = calloc(1, sizeof *net);
    if (!net)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory");
    snprintf(net->file, sizeof net->file, "%s", cfg->file);
    net->train = 1;
    if (build(net, cfg, built, user, err)) {
        cn_net_free(net);
        return err->code;
    }
    *out = net;
    return CN_OK;
}

void cn_net_free(cn_net *net)
{
    if (!net)
        return;
    for (int i = 0; i < net->n_losses; i++)
        if (net->losses[i].ops && net->losses[i].ops->destroy)
            net->losses[i].ops->destroy(&net->losses[i]);
    for (int i = 0; i < net->n_layers; i++) {
        cn_layer *l = &net->layers[i];
        if (l->ops && l->ops->destroy)
            l->ops->destroy(l);
        for (int j = 0; j < l->n_params; j++)
            free(l->params[j]);
    }
    cn_groups_free(net);
    free(net->layers);
    cn_names_free(&net->names);
    free(net->losses);
    free(net->params);
    free(net->param_arena);
    free(net->grad_arena);
    free(net->act_arena);
    free(net->dact_arena);
    free(net->scratch);
    free(net->labels);
    cn_pool_free(net->pool);
    free(net);
}
