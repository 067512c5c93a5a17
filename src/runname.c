/* runname.c - the run name: [net] name, else the cfg file's stem, which
 * names the folder runs/<name>. A name is taken whole or refused (never
 * truncated, never a path), so two names are two folders and none leaves
 * runs/.
 */
#include <ctype.h>
#include <string.h>

#include "net_internal.h"

static void stem(const char *path, char *out, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, size, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = 0;
}

/* The longest run name: the net's name buffer, never truncated into it. */
#define RUN_NAME_MAX ((int)sizeof(((cn_net *)0)->name) - 1)

/* Why `name` cannot name the folder runs/<name>, or NULL: it is taken as it
 * is, so two names are two folders, and it never leaves runs/. */
static const char *run_name_problem(const char *name)
{
    if (!*name)
        return "is empty";
    if (strlen(name) > (size_t)RUN_NAME_MAX)
        return "is too long";
    if (strchr(name, '/'))
        return "contains '/'";
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return "would climb out of runs/";
    for (const char *c = name; *c; c++)
        if (iscntrl((unsigned char)*c))
            return "contains a control character";
    return NULL;
}

cn_status cn_run_name(const cn_sec *s, const char *key, char *name, size_t size,
                      cn_error *err)
{
    const char *why;
    if (key && *key) {
        if ((why = run_name_problem(key)))
            return cn_sec_bad(s, "name", CN_ERR_CFG, err, "the run name %s; it names the "
                              "folder runs/<name>: 1 to %d characters, no '/' and no control "
                              "characters, not '.' or '..'", why, RUN_NAME_MAX);
        snprintf(name, size, "%s", key);
        return CN_OK;
    }
    char base[1024];
    stem(s->cfg->file, base, sizeof base);
    if ((why = run_name_problem(base)))
        return cn_errorf(err, CN_ERR_CFG, "%s: the cfg file's name '%.80s' %s, so it cannot "
                         "name the run folder runs/<name> (1 to %d characters); set [net] name",
                         s->cfg->file, base, why, RUN_NAME_MAX);
    snprintf(name, size, "%s", base); /* fits a net's name: checked above */
    return CN_OK;
}

cn_status cn_cfg_run_name(const cn_cfg *cfg, char *name, size_t size, cn_error *err)
{
    cn_sec s = cn_sec_make(cfg, cn_cfg_find(cfg, cn_section_name(CN_SECTION_NET)),
                           cn_net_keys, NULL, NULL);
    const char *key;
    if (cn_sec_str(&s, "name", &key, err))
        return err->code;
    return cn_run_name(&s, key, name, size, err);
}
