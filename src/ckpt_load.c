/* ckpt_load.c - the checkpoint reader's second half: a file that passed
 * ckpt_open (ckpt_read.c) is compared with the network, tensor by tensor
 * (name and shape, always, not only when the fingerprint differs), then
 * with its optimizer (a full load only: a checkpoint of another optimizer
 * still gives its weights), its values are read into buffers as large as
 * the network's and checked finite, and only then copied in: a refused
 * checkpoint leaves the network as it was.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt_format.h"
#include "net_internal.h"

static size_t optim_floats(const cn_optim *o)
{
    return o->ops->state_floats ? o->ops->state_floats(o) : 0;
}

/* "3x16" for version 2, "48 values" for version 1 (no shapes there). */
static void describe(const ckpt_file *f, const uint32_t d[4], uint64_t count, char *buf,
                     size_t size)
{
    if (f->h.version >= 2)
        ckpt_shape_str(d, buf, size);
    else
        snprintf(buf, size, "%llu values", (unsigned long long)count);
}

/* Every tensor's name and shape, then their number, then the fingerprint
 * (layer types and output shapes): the first difference is the message. */
static cn_status check_network(const cn_net *net, const ckpt_file *f, cn_error *err)
{
    const ckpt_header *h = &f->h;
    uint32_t common = h->n_params < (uint32_t)net->n_params ? h->n_params
                                                            : (uint32_t)net->n_params;
    for (uint32_t i = 0; i < common; i++) {
        const cn_param *p = net->params[i];
        uint32_t d[4];
        ckpt_entry e;
        for (int k = 0; k < 4; k++)
            d[k] = (uint32_t)p->shape[k];
        if (ckpt_entry_read(f, i, &e, err))
            return err->code;
        if (!strcmp(e.name, p->name) && e.count == p->count &&
            (h->version < 2 || !memcmp(e.dims, d, sizeof d)))
            continue;
        char was[64], is[64];
        describe(f, e.dims, e.count, was, sizeof was);
        describe(f, d, p->count, is, sizeof is);
        return cn_errorf(err, CN_ERR_FORMAT, "%s: checkpoint of another network: tensor %u "
                         "(offset %llu) is '%s' (%s), %s has '%s' (%s)", f->path, i + 1,
                         (unsigned long long)e.offset, e.name, was, net->file, p->name, is);
    }
    if (h->n_params != (uint32_t)net->n_params)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: checkpoint of another network: it has %u "
                         "parameter tensors, %s has %d (the first %u match)", f->path,
                         h->n_params, net->file, net->n_params, common);
    if (h->fingerprint != net->fingerprint)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: checkpoint of another network: its tensors "
                         "match %s's but its layers differ (fingerprint %016llx at offset 16, "
                         "the network's %016llx)", f->path, net->file,
                         (unsigned long long)h->fingerprint,
                         (unsigned long long)net->fingerprint);
    return CN_OK;
}

/* A resume continues the optimizer that made the checkpoint, or refuses. */
static cn_status check_optim(const cn_net *net, const ckpt_file *f, cn_error *err)
{
    char type[128]; /* "adam", or one type per parameter group: "adam+sgd" */
    cn_groups_types(net, type, sizeof type);
    size_t want = cn_groups_state_floats(net);
    if (f->h.version >= 2 && strcmp(f->h.optim, type))
        return cn_errorf(err, CN_ERR_FORMAT, "%s: made with optimizer '%s', but %s has [optim] "
                         "type=%s: its weights load (cnet eval), its optimizer state cannot "
                         "continue another optimizer; resume with type=%s, or start a new run",
                         f->path, f->h.optim, net->file, type, f->h.optim);
    if (f->h.n_optim_floats != want)
        return cn_errorf(err, CN_ERR_FORMAT, "%s: its %s optimizer state has %llu values, %s's "
                         "[optim] keeps %zu: %s", f->path, f->h.version >= 2 ? f->h.optim : "",
                         (unsigned long long)f->h.n_optim_floats, net->file, want,
                         f->h.version >= 2 ? "a setting that changes the state differs (such "
                         "as momentum=0); its weights load (cnet eval)"
                         : "made with another optimizer or settings (a version 1 checkpoint "
                         "does not name its optimizer); its weights load (cnet eval)");
    return CN_OK;
}

/* CN_ERR_NUMERIC naming the parameter of the first non-finite value. */
static cn_status check_params(const cn_net *net, const ckpt_file *f, const float *v,
                              cn_error *err)
{
    size_t at = 0;
    for (int i = 0; i < net->n_params; i++) {
        const cn_param *p = net->params[i];
        for (size_t k = 0; k < p->count; k++)
            if (!isfinite(v[at + k]))
                return cn_errorf(err, CN_ERR_NUMERIC, "%s: the checkpoint has a non-finite "
                                 "value in parameter '%s' (%g, element %zu at offset %llu)",
                                 f->path, p->name, (double)v[at + k], k,
                                 (unsigned long long)(f->params_at + (at + k) * 4));
        at += p->count;
    }
    return CN_OK;
}

/* CN_ERR_NUMERIC naming the optimizer and, when its state is whole arrays
 * over the trainable parameters (SGD's velocity, Adam's m and v), the
 * parameter whose state holds the first non-finite value. */
static cn_status check_state(const cn_optim *o, const ckpt_file *f, const float *s, size_t n,
                             size_t base, cn_error *err)
{
    for (size_t e = 0; e < n; e++) {
        if (isfinite(s[e]))
            continue;
        const char *name = "?";
        size_t idx = o->n_state ? e % o->n_state : 0;
        for (int i = 0; o->n_state && n % o->n_state == 0 && i < o->n_params; i++)
            if (idx >= o->offset[i] && idx < o->offset[i] + o->params[i]->count &&
                !o->params[i]->inner && !o->params[i]->buffer)
                name = o->params[i]->name;
        return cn_errorf(err, CN_ERR_NUMERIC, "%s: the checkpoint has a non-finite value in "
                         "the %s optimizer's state for parameter '%s' (%g, element %zu at "
                         "offset %llu)", f->path, o->ops->type, name, (double)s[e], base + e,
                         (unsigned long long)(f->optim_at + (base + e) * 4));
    }
    return CN_OK;
}

/* Read and check everything (state too unless weights_only), then copy. */
static cn_status load(cn_net *net, const char *path, cn_ckpt_info *info, int weights_only,
                      cn_error *err)
{
    ckpt_file f;
    if (ckpt_open(&f, path, err))
        return err->code;
    size_t n_state = weights_only ? 0 : cn_groups_state_floats(net);
    float *values = NULL, *state = NULL;
    cn_status st = check_network(net, &f, err);
    if (!st && !weights_only)
        st = check_optim(net, &f, err);
    if (!st) {
        /* sizes the network justifies: the checks above made them the file's */
        values = malloc(net->n_param_floats * sizeof *values + 1);
        state = malloc(n_state * sizeof *state + 1);
        if (!values || !state)
            st = cn_errorf(err, CN_ERR_NOMEM, "%s: out of memory reading the checkpoint", path);
    }
    if (!st && !(st = ckpt_read_at(&f, f.params_at, values, net->n_param_floats * 4, err)) &&
        !(st = ckpt_read_at(&f, f.optim_at, state, n_state * 4, err)) &&
        !(st = check_params(net, &f, values, err))) {
        /* the groups' states follow each other, in group order */
        size_t at = 0;
        for (int g = 0; !st && n_state && g < net->n_groups; g++) {
            const cn_optim *o = net->groups[g].optim;
            st = check_state(o, &f, state + at, optim_floats(o), at, err);
            at += optim_floats(o);
        }
    }
    ckpt_close(&f);
    if (!st) {
        memcpy(net->param_arena, values, net->n_param_floats * sizeof *values);
        size_t at = 0;
        for (int g = 0; n_state && g < net->n_groups; g++) {
            cn_optim *o = net->groups[g].optim;
            size_t n = optim_floats(o);
            if (n)
                memcpy(o->ops->state_data(o), state + at, n * sizeof *state);
            at += n;
        }
    }
    free(values);
    free(state);
    if (st || weights_only)
        return st;
    memcpy(net->rng.s, f.h.rng, sizeof f.h.rng);
    cn_groups_seek(net, (long)f.h.step);
    if (info) {
        info->epoch = (int)f.h.epoch;
        info->step = (long)f.h.step;
        info->best_valid = f.h.best_valid;
        info->batch = (int)f.h.batch;
        info->batches = (int)f.h.batches;
        memcpy(info->epoch_rng, f.h.epoch_rng, sizeof f.h.epoch_rng);
        info->epoch_loss = f.h.epoch_loss;
    }
    return CN_OK;
}

cn_status cn_ckpt_load(cn_net *net, const char *path, cn_ckpt_info *info, cn_error *err)
{
    cn_error local;
    return load(net, path, info, 0, err ? err : &local);
}

cn_status cn_ckpt_load_weights(cn_net *net, const char *path, cn_error *err)
{
    cn_error local;
    return load(net, path, NULL, 1, err ? err : &local);
}
