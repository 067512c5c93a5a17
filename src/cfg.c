/* cfg.c - the darknet-style INI parser, --set overrides and typed key views.
 *
 * Grammar, one construct per line:
 *     [type]          section header (type trimmed, non-empty)
 *     key = value     entry (key and value trimmed, both non-empty; the first
 *                     '=' splits, so values may hold '=' and inner spaces)
 *     # or ;          comment, at the start of a line or after whitespace
 * Blank lines are skipped, CRLF endings and a leading UTF-8 BOM accepted.
 * Every problem is an error "file:line: message" quoting what was found.
 *
 * Modules read entries through a cn_sec view holding their key tables: each
 * read marks the entry used, missing keys take the table's default text, and
 * cn_sec_finish() rejects any entry nobody read (darknet's option_unused,
 * promoted to an error with a spelling suggestion).
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
    if (e) {
        char *v = dupn(value, strlen(value));
        if (!v) {
            st = cn_errorf(err, CN_ERR_NOMEM, "--set '%s': out of memory", override);
            goto done;
        }
        free(e->value);
        e->value = v;
    } else if (add_entry(sec, key, value, sec->line)) {
        st = cn_errorf(err, CN_ERR_NOMEM, "--set '%s': out of memory", override);
    }
done:
    free(buf);
    return st;
}

/* ---- key views ---- */

cn_sec cn_sec_make(const cn_cfg *cfg, cn_cfg_section *sec, const cn_key *t0, const cn_key *t1,
                   const cn_key *t2)
{
    cn_sec s;
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    s.sec = sec;
    const cn_key *t[3] = {t0, t1, t2};
    for (int i = 0; i < 3 && t[i]; i++)
        s.tables[i] = t[i];
    return s;
}

static const char *sec_file(const cn_sec *s)
{
    return s->cfg ? s->cfg->file : "?";
}

static const char *sec_type(const cn_sec *s)
{
    return s->sec ? s->sec->type : "?";
}

static const cn_key *table_key(const cn_sec *s, const char *name)
{
    for (int t = 0; t < CN_SEC_MAX_TABLES && s->tables[t]; t++)
        for (const cn_key *k = s->tables[t]; k->name; k++)
            if (strcmp(k->name, name) == 0)
                return k;
    return NULL;
}

static cn_cfg_entry *sec_entry(const cn_sec *s, const char *key)
{
    return s->sec ? cn_cfg_entry_find(s->sec, key) : NULL;
}

/* A value being read: its table row, text (entry or default) and line. */
struct val {
    const cn_key *key;
    const cn_cfg_entry *entry;
    const char *text;
    int line;
};

/* Find the key in the tables and the section, marking the entry used. With
 * `required`, a key with neither an entry nor a default is an error. */
static cn_status look(cn_sec *s, const char *name, int required, struct val *v, cn_error *err)
{
    v->key = table_key(s, name);
    if (!v->key)
        return cn_errorf(err, CN_ERR_INTERNAL,
                         "internal: key '%s' read by [%s] is not in its key table", name,
                         sec_type(s));
    cn_cfg_entry *e = sec_entry(s, name);
    if (e)
        e->used = 1;
    v->entry = e;
    v->text = e ? e->value : v->key->def;
    v->line = e ? e->line : cn_sec_line(s, name);
    if (v->text || !required)
        return CN_OK;
    if (v->key->doc)
        return cn_errorf(err, CN_ERR_CFG, "%s:%d: [%s] needs key '%s' (%s)", sec_file(s), v->line,
                         sec_type(s), name, v->key->doc);
    return cn_errorf(err, CN_ERR_CFG, "%s:%d: [%s] needs key '%s'", sec_file(s), v->line,
                     sec_type(s), name);
}

/* "key 'k' expects <what>, got 'v'"; a bad table default is a bug of cnet. */
static cn_status expects(const cn_sec *s, const struct val *v, const char *what, cn_error *err)
{
    if (!v->entry)
        return cn_errorf(err, CN_ERR_INTERNAL,
                         "internal: default of key '%s' in [%s] expects %s, got '%s'",
                         v->key->name, sec_type(s), what, v->text);
    return cn_errorf(err, CN_ERR_CFG, "%s:%d: key '%s' expects %s, got '%s'", sec_file(s),
                     v->line, v->key->name, what, v->text);
}

/* Whole-string decimal int; *end gets where parsing stopped. */
static int parse_int(const char *t, int *out, const char **end)
{
    char *e;
    errno = 0;
    long x = strtol(t, &e, 10);
    *end = e;
    if (e == t || errno == ERANGE || x < INT_MIN || x > INT_MAX)
        return 0;
    *out = (int)x;
    return 1;
}

cn_status cn_sec_int(cn_sec *s, const char *key, int *out, cn_error *err)
{
    return cn_sec_int_min(s, key, INT_MIN, out, err);
}

cn_status cn_sec_int_min(cn_sec *s, const char *key, int lo, int *out, cn_error *err)
{
    struct val v;
    cn_status st = look(s, key, 1, &v, err);
    if (st)
        return st;
    const char *end;
    int x;
    if (!parse_int(v.text, &x, &end) || *end || x < lo) {
        char what[64] = "an integer";
        if (lo != INT_MIN)
            snprintf(what, sizeof what, "an integer >= %d", lo);
        return expects(s, &v, what, err);
    }
    *out = x;
    return CN_OK;
}

cn_status cn_sec_float(cn_sec *s, const char *key, float *out, cn_error *err)
{
    return cn_sec_float_range(s, key, -INFINITY, INFINITY, out, err);
}

cn_status cn_sec_float_range(cn_sec *s, const char *key, float lo, float hi, float *out,
                             cn_error *err)
{
    struct val v;
    cn_status st = look(s, key, 1, &v, err);
    if (st)
        return st;
    char *end;
    float x = strtof(v.text, &end);
    if (end == v.text || *end || !isfinite(x) || x < lo || x > hi) {
        char what[96] = "a number";
        if (isfinite(lo) || isfinite(hi))
            snprintf(what, sizeof what, "a number in [%g, %g]", (double)lo, (double)hi);
        return expects(s, &v, what, err);
    }
    *out = x;
    return CN_OK;
}

cn_status cn_sec_bool(cn_sec *s, const char *key, int *out, cn_error *err)
{
    static const char *const words[] = {"0", "false", "no", "1", "true", "yes"};
    struct val v;
    cn_status st = look(s, key, 1, &v, err);
    if (st)
        return st;
    for (int i = 0; i < 6; i++) {
        if (strcasecmp(v.text, words[i]) == 0) {
            *out = i >= 3;
            return CN_OK;
        }
    }
    return expects(s, &v, "0, 1, true or false", err);
}

cn_status cn_sec_str(cn_sec *s, const char *key, const char **out, cn_error *err)
{
    struct val v;
    cn_status st = look(s, key, 0, &v, err);
    if (st)
        return st;
    *out = v.text;
    return CN_OK;
}

cn_status cn_sec_enum(cn_sec *s, const char *key, int *out, cn_error *err)
{
    struct val v;
    cn_status st = look(s, key, 1, &v, err);
    if (st)
        return st;
    const char *c = v.key->choices;
    if (!c)
        return cn_errorf(err, CN_ERR_INTERNAL, "internal: enum key '%s' of [%s] has no choices",
                         key, sec_type(s));
    size_t n = strlen(v.text);
    for (int i = 0; *c; i++) {
        size_t len = strcspn(c, "|");
        if (len == n && strncmp(c, v.text, n) == 0) {
            *out = i;
            return CN_OK;
        }
        c += len + (c[len] == '|');
    }
    /* "a|b|c" -> "one of a, b, c" */
    char what[512] = "one of ";
    size_t w = strlen(what);
    for (c = v.key->choices; *c && w + 3 < sizeof what; c++) {
        if (*c == '|') {
            what[w++] = ',';
            what[w++] = ' ';
        } else {
            what[w++] = *c;
        }
    }
    what[w] = '\0';
    return expects(s, &v, what, err);
}

cn_status cn_sec_ints(cn_sec *s, const char *key, int *out, int max, int *n, cn_error *err)
{
    struct val v;
    cn_status st = look(s, key, 1, &v, err);
    if (st)
        return st;
    int count = 0, ok = 1;
    for (const char *p = v.text; ok;) {
        const char *end;
        int x;
        ok = parse_int(p, &x, &end) && count < max;
        if (ok)
            out[count++] = x;
        while (is_space(*end))
            end++;
        if (*end != ',') {
            ok = ok && *end == '\0';
            break;
        }
        p = end + 1;
    }
    if (!ok) {
        char what[96];
        snprintf(what, sizeof what, "a comma list of at most %d integers", max);
        return expects(s, &v, what, err);
    }
    *n = count;
    return CN_OK;
}

int cn_sec_has(cn_sec *s, const char *key)
{
    cn_cfg_entry *e = sec_entry(s, key);
    if (e)
        e->used = 1;
    return e != NULL;
}

int cn_sec_line(const cn_sec *s, const char *key)
{
    const cn_cfg_entry *e = sec_entry(s, key);
    return e ? e->line : s->sec ? s->sec->line : 0;
}

cn_status cn_sec_bad(const cn_sec *s, const char *key, cn_status code, cn_error *err,
                     const char *fmt, ...)
{
    char why[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    const cn_cfg_entry *e = sec_entry(s, key);
    if (code == CN_OK)
        code = CN_ERR_CFG;
    if (e)
        return cn_errorf(err, code, "%s:%d: key '%s' = '%s': %s", sec_file(s), e->line, key,
                         e->value, why);
    return cn_errorf(err, code, "%s:%d: key '%s': %s", sec_file(s), cn_sec_line(s, key), key, why);
}

cn_status cn_sec_errorf(const cn_sec *s, cn_status code, cn_error *err, const char *fmt, ...)
{
    char why[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return cn_errorf(err, code == CN_OK ? CN_ERR_CFG : code, "%s:%d: [%s]: %s", sec_file(s),
                     s->sec ? s->sec->line : 0, sec_type(s), why);
}

/* Levenshtein distance of two short keys (longer ones count as far). */
static int edit_distance(const char *a, const char *b)
{
    enum { MAXLEN = 63 };
    size_t na = strlen(a), nb = strlen(b);
    if (na > MAXLEN || nb > MAXLEN)
        return INT_MAX;
    int prev[MAXLEN + 1], cur[MAXLEN + 1];
    for (size_t j = 0; j <= nb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int best = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            cur[j] = best;
        }
        memcpy(prev, cur, (nb + 1) * sizeof *prev);
    }
    return prev[nb];
}

/* The accepted key closest to `bad`: edit distance <= 2 (and shorter than the
 * key itself, so "xy" does not suggest "lr"), else one is a prefix of the
 * other with at least 3 characters in common; NULL when nothing is close. */
static const char *suggest(const cn_sec *s, const char *bad)
{
    const char *best = NULL, *prefix = NULL;
    int best_d = 3, n = (int)strlen(bad);
    for (int t = 0; t < CN_SEC_MAX_TABLES && s->tables[t]; t++) {
        for (const cn_key *k = s->tables[t]; k->name; k++) {
            int d = edit_distance(bad, k->name);
            if (d < best_d && d < n) {
                best_d = d;
                best = k->name;
            }
            size_t common = strlen(k->name) < (size_t)n ? strlen(k->name) : (size_t)n;
            if (!prefix && common >= 3 && strncmp(bad, k->name, common) == 0)
                prefix = k->name;
        }
    }
    return best ? best : prefix;
}

cn_status cn_sec_finish(const cn_sec *s, cn_error *err)
{
    if (!s->sec)
        return CN_OK;
    for (int i = 0; i < s->sec->n_entries; i++) {
        const cn_cfg_entry *e = &s->sec->entries[i];
        if (e->used)
            continue;
        char accepted[700];
        size_t len = 0;
        accepted[0] = '\0';
        for (int t = 0; t < CN_SEC_MAX_TABLES && s->tables[t]; t++)
            for (const cn_key *k = s->tables[t]; k->name && len < sizeof accepted; k++)
                if (table_key(s, k->name) == k) /* skip names an earlier table shadows */
                    len += (size_t)snprintf(accepted + len, sizeof accepted - len, "%s%s",
                                            len ? ", " : "", k->name);
        const char *near = suggest(s, e->key);
        if (near)
            return cn_errorf(err, CN_ERR_CFG,
                             "%s:%d: unknown key '%s' in [%s] (did you mean '%s'?; accepted: %s)",
                             sec_file(s), e->line, e->key, s->sec->type, near, accepted);
        return cn_errorf(err, CN_ERR_CFG, "%s:%d: unknown key '%s' in [%s] (accepted: %s)",
                         sec_file(s), e->line, e->key, s->sec->type, accepted);
    }
    return CN_OK;
}
