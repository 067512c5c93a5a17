/* sections.c - what a cfg section's type can name: one of the special
 * sections below, a layer type or a loss type; and the checks a type must
 * pass to be registered at run time (cn_layer_register, cn_loss_register,
 * cn_optim_register, cn_dataset_register).
 *
 * The special sections (CN_SPECIAL_SECTIONS in src/internal.h) are read by
 * their owners: [net] by src/build.c, [data] by data/, [optim] by optim/.
 */
#include <string.h>

#include "internal.h"

#define NAME(kind, s) #s,
static const char *const special[] = {CN_SPECIAL_SECTIONS(NAME) NULL};

const char *cn_section_name(cn_section k)
{
    return k >= 0 && k < CN_SECTION_COUNT ? special[k] : NULL;
}

int cn_section_find(const char *type)
{
    for (int i = 0; type && i < CN_SECTION_COUNT; i++)
        if (!strcmp(special[i], type))
            return i;
    return -1;
}

void cn_section_types(char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < CN_SECTION_COUNT && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", special[i]);
    for (const cn_layer_ops *const *t = cn_layer_types(); *t && len < size; t++)
        len += (size_t)snprintf(buf + len, size - len, ", %s", (*t)->type);
    for (const cn_loss_ops *const *t = cn_loss_types(); *t && len < size; t++)
        len += (size_t)snprintf(buf + len, size - len, ", %s", (*t)->type);
}

cn_status cn_type_name_check(const char *fn, const char *name, cn_error *err)
{
    if (!name || !*name)
        return cn_errorf(err, CN_ERR_CFG, "%s: the ops have no type name", fn);
    if (strlen(name) >= CN_NAME_MAX)
        return cn_errorf(err, CN_ERR_CFG, "%s: type name '%s' is longer than %d characters",
                         fn, name, CN_NAME_MAX - 1);
    /* what a cfg header, a key value and a generated doc can all carry as is */
    if (name[strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_")])
        return cn_errorf(err, CN_ERR_CFG, "%s: type name '%s' has characters outside "
                         "[a-z0-9_]", fn, name);
    return CN_OK;
}

cn_status cn_section_type_free(const char *fn, const char *name, cn_error *err)
{
    cn_status st = cn_type_name_check(fn, name, err);
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
