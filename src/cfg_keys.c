/* cfg_keys.c - typed reads of a section through its key tables.
 *
 * Each read marks the entry used, a missing key takes the table's default
 * text, and cn_sec_finish() rejects any entry nobody read (darknet's
 * option_unused, promoted to an error with a spelling suggestion). A
 * numeric key's range lives in its table row (choices = "[lo, hi]"), so
 * docs/cfg.md, the check and the message cannot disagree. A value given by
 * --set is reported as the command line's, not blamed on a line of the file.
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

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

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

/* Where a value came from, for messages: "file:line", or "--set 'x.k=v'"
 * when the command line gave it (the file's line would be the wrong place). */
static const char *where(const cn_sec *s, const cn_cfg_entry *e, int line, char *buf,
                         size_t size)
{
    if (e && e->set)
        snprintf(buf, size, "--set '%s'", e->set);
    else
        snprintf(buf, size, "%s:%d", sec_file(s), e ? e->line : line);
    return buf;
}

const char *cn_sec_where(const cn_sec *s, const char *key, char *buf, size_t size)
{
    return where(s, sec_entry(s, key), cn_sec_line(s, key), buf, size);
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
    char at[320];
    where(s, NULL, v->line, at, sizeof at);
    if (v->key->doc)
        return cn_errorf(err, CN_ERR_CFG, "%s: [%s] needs key '%s' (%s)", at, sec_type(s), name,
                         v->key->doc);
    return cn_errorf(err, CN_ERR_CFG, "%s: [%s] needs key '%s'", at, sec_type(s), name);
}

/* "key 'k' expects <what>, got 'v'"; a bad table default is a bug of cnet. */
static cn_status expects(const cn_sec *s, const struct val *v, const char *what, cn_error *err)
{
    if (!v->entry)
        return cn_errorf(err, CN_ERR_INTERNAL,
                         "internal: default of key '%s' in [%s] expects %s, got '%s'",
                         v->key->name, sec_type(s), what, v->text);
    char at[320];
    return cn_errorf(err, CN_ERR_CFG, "%s: key '%s' expects %s, got '%s'",
                     where(s, v->entry, v->line, at, sizeof at), v->key->name, what, v->text);
}

/* A numeric key's range, "[lo, hi]" in its table row's choices; '(' or ')'
 * leaves that end out, and inf or -inf stands for no bound. */
typedef struct range {
    double lo, hi;
    int lo_open, hi_open;
} range;

static int parse_range(const char *c, range *r)
{
    if (!c || (*c != '[' && *c != '('))
        return 0;
    char *e;
    r->lo_open = *c == '(';
    r->lo = strtod(c + 1, &e);
    if (e == c + 1 || *e != ',')
        return 0;
    const char *p = e + 1;
    while (is_space(*p))
        p++;
    r->hi = strtod(p, &e);
    if (e == p || (*e != ']' && *e != ')') || e[1])
        return 0;
    r->hi_open = *e == ')';
    return r->lo <= r->hi;
}

static int in_range(const range *r, double x)
{
    return (r->lo_open ? x > r->lo : x >= r->lo) && (r->hi_open ? x < r->hi : x <= r->hi);
}

/* The key's range, or an internal error: every numeric key must have one. */
static cn_status key_range(const cn_sec *s, const struct val *v, range *r, cn_error *err)
{
    if (parse_range(v->key->choices, r))
        return CN_OK;
    return cn_errorf(err, CN_ERR_INTERNAL, "internal: numeric key '%s' of [%s] has no range "
                     "\"[lo, hi]\" in its key table (got '%s')", v->key->name, sec_type(s),
                     v->key->choices ? v->key->choices : "none");
}

/* Whole-string decimal int within [INT_MIN, INT_MAX]; *end gets where parsing stopped. */
static int parse_int(const char *t, int *out, const char **end)
{
    char *e;
    errno = 0;
    long long x = strtoll(t, &e, 10);
    *end = e;
    if (e == t || errno == ERANGE || x < INT_MIN || x > INT_MAX)
        return 0;
    *out = (int)x;
    return 1;
}

cn_status cn_sec_int(cn_sec *s, const char *key, int *out, cn_error *err)
{
    struct val v;
    range r;
    cn_status st = look(s, key, 1, &v, err);
    if (st || (st = key_range(s, &v, &r, err)))
        return st;
    const char *end;
    int x;
    if (!parse_int(v.text, &x, &end) || *end || !in_range(&r, x)) {
        char what[96];
        snprintf(what, sizeof what, "an integer in %s", v.key->choices);
        return expects(s, &v, what, err);
    }
    *out = x;
    return CN_OK;
}

cn_status cn_sec_float(cn_sec *s, const char *key, float *out, cn_error *err)
{
    struct val v;
    range r;
    cn_status st = look(s, key, 1, &v, err);
    if (st || (st = key_range(s, &v, &r, err)))
        return st;
    char *end;
    errno = 0;
    float x = strtof(v.text, &end);
    if (end == v.text || *end || !isfinite(x) || !in_range(&r, x)) {
        char what[96];
        snprintf(what, sizeof what, "a finite number in %s", v.key->choices);
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
    range r = {-INFINITY, INFINITY, 0, 0};
    int ranged = parse_range(v.key->choices, &r);
    int count = 0, ok = 1;
    for (const char *p = v.text; ok;) {
        const char *end;
        int x;
        ok = parse_int(p, &x, &end) && count < max && in_range(&r, x);
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
        snprintf(what, sizeof what, "a comma list of at most %d integers%s%s", max,
                 ranged ? " in " : "", ranged ? v.key->choices : "");
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
    char at[320];
    where(s, e, cn_sec_line(s, key), at, sizeof at);
    if (e)
        return cn_errorf(err, code, "%s: key '%s' = '%s': %s", at, key, e->value, why);
    return cn_errorf(err, code, "%s: key '%s': %s", at, key, why);
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
        char at[320];
        where(s, e, e->line, at, sizeof at);
        if (near)
            return cn_errorf(err, CN_ERR_CFG,
                             "%s: unknown key '%s' in [%s] (did you mean '%s'?; accepted: %s)",
                             at, e->key, s->sec->type, near, accepted);
        return cn_errorf(err, CN_ERR_CFG, "%s: unknown key '%s' in [%s] (accepted: %s)", at,
                         e->key, s->sec->type, accepted);
    }
    return CN_OK;
}

cn_status cn_key_table_check(const cn_key *keys, const char *owner, cn_error *err)
{
    cn_sec s;
    memset(&s, 0, sizeof s);
    s.tables[0] = keys;
    for (const cn_key *k = keys; k && k->name; k++) {
        cn_status st = CN_OK;
        range r;
        int i, v[8], n;
        float f;
        const char *str;
        switch (k->kind) {
        case CN_KEY_INT:
        case CN_KEY_FLOAT:
            if (!parse_range(k->choices, &r))
                st = cn_errorf(err, CN_ERR_INTERNAL, "numeric key '%s' has no range \"[lo, hi]\"",
                               k->name);
            else if (k->def)
                st = k->kind == CN_KEY_INT ? cn_sec_int(&s, k->name, &i, err)
                                           : cn_sec_float(&s, k->name, &f, err);
            break;
        case CN_KEY_BOOL:
            st = k->def ? cn_sec_bool(&s, k->name, &i, err) : CN_OK;
            break;
        case CN_KEY_ENUM:
            if (!k->choices)
                st = cn_errorf(err, CN_ERR_INTERNAL, "enum key '%s' has no choices", k->name);
            else if (k->def)
                st = cn_sec_enum(&s, k->name, &i, err);
            break;
        case CN_KEY_LIST:
            if (k->def && *k->def && parse_range(k->choices, &r))
                st = cn_sec_ints(&s, k->name, v, 8, &n, err);
            break;
        case CN_KEY_STRING:
            st = cn_sec_str(&s, k->name, &str, err);
            break;
        }
        if (st)
            return cn_error_prefix(err, "%s: ", owner);
    }
    return CN_OK;
}
