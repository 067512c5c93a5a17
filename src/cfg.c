/* cfg.c - the darknet-style INI parser and --set overrides (typed reads
 * through key tables are in cfg_keys.c).
 *
 * Grammar, one construct per line:
 *     [type]          section header (type trimmed, non-empty)
 *     key = value     entry (key and value trimmed, both non-empty; the first
 *                     '=' splits, so values may hold '=' and inner spaces)
 *     # or ;          comment, at the start of a line or after whitespace
 * Blank lines are skipped, CRLF endings and a leading UTF-8 BOM accepted.
 * Every problem is an error "file:line: message" quoting what was found.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cnet/cfg.h"
#include "internal.h"

/* A cfg file is text a person writes: 1 MiB is some 30000 lines. */
#define CN_CFG_MAX_BYTES (1u << 20)

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trim in place; returns the first non-blank character. */
static char *trim(char *s)
{
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Cut at the first '#' or ';' that opens the line or follows whitespace, so
 * "path = a#b" keeps its value. */
static void strip_comment(char *s)
{
    for (char *p = s; *p; p++) {
        if ((*p == '#' || *p == ';') && (p == s || is_space(p[-1]))) {
            *p = '\0';
            return;
        }
    }
}

static cn_status add_section(cn_cfg *cfg, const char *type, int line)
{
    if (cfg->n_sections == cfg->cap_sections) {
        int cap = cfg->cap_sections ? 2 * cfg->cap_sections : 8;
        cn_cfg_section *s = realloc(cfg->sections, (size_t)cap * sizeof *s);
        if (!s)
            return CN_ERR_NOMEM;
        cfg->sections = s;
        cfg->cap_sections = cap;
    }
    cn_cfg_section *sec = &cfg->sections[cfg->n_sections];
    memset(sec, 0, sizeof *sec);
    sec->type = dupn(type, strlen(type));
    if (!sec->type)
        return CN_ERR_NOMEM;
    sec->line = line;
    cfg->n_sections++;
    return CN_OK;
}

static cn_status add_entry(cn_cfg_section *sec, const char *key, const char *value, int line)
{
    if (sec->n_entries == sec->cap_entries) {
        int cap = sec->cap_entries ? 2 * sec->cap_entries : 8;
        cn_cfg_entry *e = realloc(sec->entries, (size_t)cap * sizeof *e);
        if (!e)
            return CN_ERR_NOMEM;
        sec->entries = e;
        sec->cap_entries = cap;
    }
    cn_cfg_entry *e = &sec->entries[sec->n_entries];
    e->key = dupn(key, strlen(key));
    e->value = dupn(value, strlen(value));
    e->set = NULL;
    if (!e->key || !e->value) {
        free(e->key);
        free(e->value);
        return CN_ERR_NOMEM;
    }
    e->line = line;
    e->used = 0;
    sec->n_entries++;
    return CN_OK;
}

static cn_status parse_header(cn_cfg *cfg, char *s, int ln, cn_error *err)
{
    size_t n = strlen(s);
    if (n < 2 || s[n - 1] != ']' || memchr(s + 1, '[', n - 2) || memchr(s + 1, ']', n - 2))
        return cn_errorf(err, CN_ERR_CFG, "%s:%d: bad section header '%s' (expected '[type]')",
                         cfg->file, ln, s);
    s[n - 1] = '\0';
    char *type = trim(s + 1);
    if (!*type)
        return cn_errorf(err, CN_ERR_CFG, "%s:%d: empty section header '[%s]' (expected '[type]')",
                         cfg->file, ln, type);
    if (add_section(cfg, type, ln))
        return cn_errorf(err, CN_ERR_NOMEM, "%s:%d: out of memory", cfg->file, ln);
    return CN_OK;
}

/* One line, comment already removed and trimmed, non-empty. */
static cn_status parse_line(cn_cfg *cfg, char *s, int ln, cn_error *err)
{
    if (*s == '[')
        return parse_header(cfg, s, ln, err);
    char *eq = strchr(s, '=');
    if (!eq)
        return cn_errorf(err, CN_ERR_CFG, "%s:%d: expected 'key = value' or '[section]', got '%s'",
                         cfg->file, ln, s);
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    if (!*key)
        return cn_errorf(err, CN_ERR_CFG, "%s:%d: empty key in '= %s' (expected 'key = value')",
                         cfg->file, ln, value);
    if (!*value)
        return cn_errorf(err, CN_ERR_CFG,
                         "%s:%d: key '%s' has an empty value (expected 'key = value')", cfg->file,
                         ln, key);
    if (cfg->n_sections == 0)
        return cn_errorf(err, CN_ERR_CFG,
                         "%s:%d: key '%s' outside any section (expected a [section] header first)",
                         cfg->file, ln, key);
    cn_cfg_section *sec = &cfg->sections[cfg->n_sections - 1];
    const cn_cfg_entry *old = cn_cfg_entry_find(sec, key);
    if (old)
        return cn_errorf(err, CN_ERR_CFG,
                         "%s:%d: duplicate key '%s' in [%s] (first set on line %d)", cfg->file, ln,
                         key, sec->type, old->line);
    if (add_entry(sec, key, value, ln))
        return cn_errorf(err, CN_ERR_NOMEM, "%s:%d: out of memory", cfg->file, ln);
    return CN_OK;
}

cn_status cn_cfg_parse_string(const char *name, const char *text, cn_cfg **out, cn_error *err)
{
    cn_status st = CN_ERR_NOMEM;
    char *buf = NULL;
    *out = NULL;
    if (!name)
        name = "<string>";
    if (!text)
        text = "";
    if (strncmp(text, "\xEF\xBB\xBF", 3) == 0)
        text += 3;
    cn_cfg *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->file = dupn(name, strlen(name))) || !(buf = dupn(text, strlen(text)))) {
        cn_errorf(err, st, "%s: out of memory", name);
        goto fail;
    }
    char *p = buf;
    for (int ln = 1; p; ln++) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        strip_comment(p);
        char *s = trim(p);
        if (*s && (st = parse_line(cfg, s, ln, err)) != CN_OK)
            goto fail;
        p = nl ? nl + 1 : NULL;
    }
    free(buf);
    *out = cfg;
    return CN_OK;
fail:
    free(buf);
    cn_cfg_free(cfg);
    return st;
}

cn_status cn_cfg_parse_file(const char *path, cn_cfg **out, cn_error *err)
{
    char *buf;
    size_t len;
    *out = NULL;
    cn_status st = cn_file_slurp(path, "a cfg file", CN_CFG_MAX_BYTES, &buf, &len, err);
    if (st)
        return st;
    if (strlen(buf) != len)
        st = cn_errorf(err, CN_ERR_CFG, "%s: contains a NUL byte (expected a text file)", path);
    else
        st = cn_cfg_parse_string(path, buf, out, err);
    free(buf);
    return st;
}

void cn_cfg_free(cn_cfg *cfg)
{
    if (!cfg)
        return;
    for (int i = 0; i < cfg->n_sections; i++) {
        cn_cfg_section *sec = &cfg->sections[i];
        for (int j = 0; j < sec->n_entries; j++) {
            free(sec->entries[j].key);
            free(sec->entries[j].value);
            free(sec->entries[j].set);
        }
        free(sec->entries);
        free(sec->type);
    }
    free(cfg->sections);
    free(cfg->file);
    free(cfg);
}

cn_cfg_section *cn_cfg_find(const cn_cfg *cfg, const char *type)
{
    for (int i = 0; i < cfg->n_sections; i++)
        if (strcmp(cfg->sections[i].type, type) == 0)
            return &cfg->sections[i];
    return NULL;
}

cn_cfg_entry *cn_cfg_entry_find(const cn_cfg_section *sec, const char *key)
{
    for (int i = 0; i < sec->n_entries; i++)
        if (strcmp(sec->entries[i].key, key) == 0)
            return &sec->entries[i];
    return NULL;
}

/* ---- --set overrides ---- */

/* Sections whose name= (by_name) or type equals `want`: count, first match
 * and their header lines as "2, 5" in `lines`. */
static int match_sections(const cn_cfg *cfg, const char *want, int by_name,
                          cn_cfg_section **first, char *lines, size_t cap)
{
    int n = 0;
    size_t len = 0;
    lines[0] = '\0';
    for (int i = 0; i < cfg->n_sections; i++) {
        cn_cfg_section *sec = &cfg->sections[i];
        const cn_cfg_entry *name = by_name ? cn_cfg_entry_find(sec, "name") : NULL;
        const char *id = by_name ? (name ? name->value : NULL) : sec->type;
        if (!id || strcmp(id, want) != 0)
            continue;
        if (n++ == 0)
            *first = sec;
        if (len < cap)
            len += (size_t)snprintf(lines + len, cap - len, "%s%d", n > 1 ? ", " : "", sec->line);
    }
    return n;
}

cn_status cn_cfg_set(cn_cfg *cfg, const char *override, cn_error *err)
{
    char *buf = dupn(override, strlen(override));
    if (!buf)
        return cn_errorf(err, CN_ERR_NOMEM, "--set '%s': out of memory", override);
    cn_status st = CN_OK;
    char *eq = strchr(buf, '='), *dot = eq ? memchr(buf, '.', (size_t)(eq - buf)) : NULL;
    char *where = buf, *key = NULL, *value = NULL;
    if (dot) {
        *dot = *eq = '\0';
        where = trim(buf);
        key = trim(dot + 1);
        value = trim(eq + 1);
    }
    if (!dot || !*where || !*key || !*value) {
        st = cn_errorf(err, CN_ERR_USAGE, "--set '%s': expected section.key=value", override);
        goto done;
    }
    char lines[256];
    cn_cfg_section *sec = NULL;
    int n = match_sections(cfg, where, 1, &sec, lines, sizeof lines);
    const char *how = "named";
    if (n == 0) {
        n = match_sections(cfg, where, 0, &sec, lines, sizeof lines);
        how = "typed";
    }
    if (n == 0) {
        st = cn_errorf(err, CN_ERR_USAGE, "--set '%s': no section named or typed '%s' in %s",
                       override, where, cfg->file);
        goto done;
    }
    if (n > 1) {
        st = cn_errorf(err, CN_ERR_USAGE,
                       "--set '%s': %d sections %s '%s' in %s (lines %s); give one a name= "
                       "and set that name",
                       override, n, how, where, cfg->file, lines);
        goto done;
    }
    cn_cfg_entry *e = cn_cfg_entry_find(sec, key);
    char *v = dupn(value, strlen(value)), *origin = dupn(override, strlen(override));
    if (!v || !origin || (!e && add_entry(sec, key, value, sec->line))) {
        free(v);
        free(origin);
        st = cn_errorf(err, CN_ERR_NOMEM, "--set '%s': out of memory", override);
        goto done;
    }
    if (!e) {
        e = &sec->entries[sec->n_entries - 1];
        free(e->value);
    } else {
        free(e->value);
        free(e->set);
    }
    e->value = v;
    e->set = origin; /* messages about the value name the override, not a line */
done:
    free(buf);
    return st;
}

