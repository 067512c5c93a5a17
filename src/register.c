/* register.c - types added at run time by a program linking libcnet
 * (Caffe's layer registration): the checks, then the append to the type's
 * registry. Layer and loss types share the namespace of section headers
 * with the special sections, so a new one may take none of those names;
 * optimizer and dataset types are values of their section's `type` key and
 * need only be new among their kind. Every name is 1 to CN_NAME_MAX-1
 * characters of [a-z0-9_], which a cfg header, a key value and the
 * generated docs all carry as they are.
 *
 * The registries are global and unlocked: register before building nets.
 */
#include <string.h>

#include "cnet/cnet.h"
#include "internal.h"

/* The form of a name; messages start with `fn`, the registering function. */
static cn_status check_name(const char *fn, const char *name, cn_error *err)
{
    if (!name || !*name)
        return cn_errorf(err, CN_ERR_CFG, "%s: the ops have no type name", fn);
    if (strlen(name) >= CN_NAME_MAX)
        return cn_errorf(err, CN_ERR_CFG, "%s: type name '%s' is longer than %d characters",
                         fn, name, CN_NAME_MAX - 1);
    if (name[strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_")])
        return cn_errorf(err, CN_ERR_CFG, "%s: type name '%s' has characters outside "
                         "[a-z0-9_]", fn, name);
    return CN_OK;
}

/* check_name, and no section header means `name` yet. */
static cn_status check_section_name(const char *fn, const char *name, cn_error *err)
{
    cn_status st = check_name(fn, name, err);
    if (st)
        return st;
    if (cn_section_find(name) >= 0)
        return cn_errorf(err, CN_ERR_CFG, "%s: type '%s' is taken by the special section "
                         "[%s]", fn, name, name);
    if (cn_layer_find(name))
        return cn_errorf(err, CN_ERR_CFG, "%s: type '%s' is already a layer type", fn, name);
    if (cn_loss_find(name))
        return cn_errorf(err, CN_ERR_CFG, "%s: type '%s' is already a loss type", fn, name);
    return CN_OK;
}

/* The key table of type `name`: ranges, choices and defaults as
 * cn_key_table_check wants; a bad one is the registering program's error. */
static cn_status check_keys(const char *fn, const char *name, const cn_key *keys, cn_error *err)
{
    cn_error e = {0};
    if (!cn_key_table_check(keys, name, &e))
        return CN_OK;
    return cn_errorf(err, CN_ERR_CFG, "%s: %s", fn, e.msg);
}

static cn_status full(const char *fn, const char *kind, const char *name, cn_error *err)
{
    return cn_errorf(err, CN_ERR_CFG, "%s: cannot add '%s': at most %d %s types can be "
                     "registered", fn, name, CN_REGISTER_MAX, kind);
}

cn_status cn_layer_register(const cn_layer_ops *ops, cn_error *err)
{
    static const char fn[] = "cn_layer_register";
    if (!ops)
        return cn_errorf(err, CN_ERR_CFG, "%s: NULL ops", fn);
    cn_status st = check_section_name(fn, ops->type, err);
    if (st || (st = check_keys(fn, ops->type, ops->keys, err)))
        return st;
    if (!ops->forward) /* backward may be NULL: a layer nothing flows back through */
        return cn_errorf(err, CN_ERR_CFG, "%s: layer type '%s' has no forward", fn, ops->type);
    return cn_layer_types_add(ops) ? full(fn, "layer", ops->type, err) : CN_OK;
}

cn_status cn_loss_register(const cn_loss_ops *ops, cn_error *err)
{
    static const char fn[] = "cn_loss_register";
    if (!ops)
        return cn_errorf(err, CN_ERR_CFG, "%s: NULL ops", fn);
    cn_status st = check_section_name(fn, ops->type, err);
    if (st || (st = check_keys(fn, ops->type, ops->keys, err)))
        return st;
    /* the net calls both for every loss */
    if (!ops->forward || !ops->backward)
        return cn_errorf(err, CN_ERR_CFG, "%s: loss type '%s' has no %s", fn, ops->type,
                         ops->forward ? "backward" : "forward");
    if (!(ops->targets & CN_TARGETS(ops->target_default)))
        return cn_errorf(err, CN_ERR_CFG, "%s: loss type '%s' does not accept its default "
                         "target (targets = 0x%x)", fn, ops->type, ops->targets);
    return cn_loss_types_add(ops) ? full(fn, "loss", ops->type, err) : CN_OK;
}

cn_status cn_optim_register(const cn_optim_ops *ops, cn_error *err)
{
    static const char fn[] = "cn_optim_register";
    if (!ops)
        return cn_errorf(err, CN_ERR_CFG, "%s: NULL ops", fn);
    cn_status st = check_name(fn, ops->type, err);
    if (st || (st = check_keys(fn, ops->type, ops->keys, err)))
        return st;
    if (cn_optim_find(ops->type))
        return cn_errorf(err, CN_ERR_CFG, "%s: type '%s' is already an optimizer type", fn,
                         ops->type);
    if (!ops->setup || !ops->update || !ops->state_floats || !ops->state_data)
        return cn_errorf(err, CN_ERR_CFG, "%s: optimizer type '%s' lacks setup, update, "
                         "state_floats or state_data", fn, ops->type);
    return cn_optim_types_add(ops) ? full(fn, "optimizer", ops->type, err) : CN_OK;
}

cn_status cn_dataset_register(const cn_dataset_ops *ops, cn_error *err)
{
    static const char fn[] = "cn_dataset_register";
    if (!ops)
        return cn_errorf(err, CN_ERR_CFG, "%s: NULL ops", fn);
    cn_status st = check_name(fn, ops->type, err);
    if (st || (st = check_keys(fn, ops->type, ops->keys, err)))
        return st;
    if (cn_dataset_find(ops->type))
        return cn_errorf(err, CN_ERR_CFG, "%s: type '%s' is already a dataset type", fn,
                         ops->type);
    if (!ops->load)
        return cn_errorf(err, CN_ERR_CFG, "%s: dataset type '%s' has no load", fn, ops->type);
    return cn_dataset_types_add(ops) ? full(fn, "dataset", ops->type, err) : CN_OK;
}
