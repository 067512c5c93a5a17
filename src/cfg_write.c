/* cfg_write.c - a cfg written back as text (a run's resolved settings,
 * runs/<name>/run.cfg) and two cfgs compared key by key (what a resume or
 * an eval changes against the run's settings).
 *
 * The text parses back to the same sections and entries: values hold no
 * newline and no " #" (the parser would have cut them there), so a value
 * written as it is reads back as it was. A value a --set gave carries the
 * override as a trailing comment, so a reader of run.cfg sees where it came
 * from.
 */
#include <stdio.h>
#include <string.h>

#include "cnet/cfg.h"

void cn_cfg_write(const cn_cfg *cfg, FILE *f)
{
    for (int i = 0; i < cfg->n_sections; i++) {
        const cn_cfg_section *sec = &cfg->sections[i];
        fprintf(f, "%s[%s]\n", i ? "\n" : "", sec->type);
        for (int j = 0; j < sec->n_entries; j++) {
            const cn_cfg_entry *e = &sec->entries[j];
            if (e->set)
                fprintf(f, "%s = %s  # --set %s\n", e->key, e->value, e->set);
            else
                fprintf(f, "%s = %s\n", e->key, e->value);
        }
    }
}

/* "optim", "dense 'enc'" or "dense (line 12)": how a change names its section. */
static void label(const cn_cfg_section *sec, char *buf, size_t size)
{
    const cn_cfg_entry *name = cn_cfg_entry_find(sec, "name");
    if (name)
        snprintf(buf, size, "%s", name->value);
    else
        snprintf(buf, size, "%s", sec->type);
}

static int add(cn_cfg_change *out, int max, int n, const cn_cfg_section *sec, const char *key,
               const char *was, const char *now)
{
    if (n < max) {
        cn_cfg_change *c = &out[n];
        memset(c, 0, sizeof *c);
        snprintf(c->type, sizeof c->type, "%s", sec ? sec->type : "");
        if (sec)
            label(sec, c->section, sizeof c->section);
        snprintf(c->key, sizeof c->key, "%s", key ? key : "");
        snprintf(c->was, sizeof c->was, "%s", was ? was : "(default)");
        snprintf(c->now, sizeof c->now, "%s", now ? now : "(default)");
    }
    return n + 1;
}

int cn_cfg_diff(const cn_cfg *was, const cn_cfg *now, cn_cfg_change *out, int max)
{
    int n = 0;
    if (was->n_sections != now->n_sections)
        return add(out, max, n, NULL, NULL, "sections", "other sections");
    for (int i = 0; i < was->n_sections; i++)
        if (strcmp(was->sections[i].type, now->sections[i].type))
            return add(out, max, n, &now->sections[i], NULL, was->sections[i].type,
                       now->sections[i].type);
    for (int i = 0; i < was->n_sections; i++) {
        const cn_cfg_section *a = &was->sections[i], *b = &now->sections[i];
        for (int j = 0; j < a->n_entries; j++) {
            const cn_cfg_entry *e = cn_cfg_entry_find(b, a->entries[j].key);
            if (!e || strcmp(e->value, a->entries[j].value))
                n = add(out, max, n, b, a->entries[j].key, a->entries[j].value,
                        e ? e->value : NULL);
        }
        for (int j = 0; j < b->n_entries; j++)
            if (!cn_cfg_entry_find(a, b->entries[j].key))
                n = add(out, max, n, b, b->entries[j].key, NULL, b->entries[j].value);
    }
    return n;
}
