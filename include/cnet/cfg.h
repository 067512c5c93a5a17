/* cfg.h - the darknet-style INI parser and typed, table-driven key access.
 *
 * A cfg is a list of sections `[type]` holding `key = value` entries, each
 * with its line number. The parser knows nothing of layers. Modules read
 * keys through a cn_sec view that carries their key tables: the tables give
 * each key's kind and default (so docs/cfg.md and the code cannot disagree),
 * every read marks the entry used, and cn_sec_finish() turns any unread key
 * into an error listing the accepted ones.
 *
 *     cn_cfg *cfg;
 *     if (cn_cfg_parse_file("cfg/ae.cfg", &cfg, &err)) ...
 */
#ifndef CNET_CFG_H
#define CNET_CFG_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"

typedef struct cn_cfg_entry {
    char *key, *value;
    int line;
    int used;  /* set when a module reads the key */
    char *set; /* the --set override that gave the value, or NULL (from the file) */
} cn_cfg_entry;

typedef struct cn_cfg_section {
    char *type; /* text between the brackets */
    int line;
    cn_cfg_entry *entries;
    int n_entries, cap_entries;
} cn_cfg_section;

typedef struct cn_cfg {
    char *file; /* name used in messages */
    cn_cfg_section *sections;
    int n_sections, cap_sections;
} cn_cfg;

/* Parse a file: a regular file of at most 1 MiB (a directory, FIFO or
 * device is refused unread). Errors read "file:line: message". */
cn_status cn_cfg_parse_file(const char *path, cn_cfg **out, cn_error *err);
/* Parse text; `name` stands for the file in messages. */
cn_status cn_cfg_parse_string(const char *name, const char *text, cn_cfg **out, cn_error *err);
/* Release a cfg (NULL allowed). */
void cn_cfg_free(cn_cfg *cfg);

/* Apply an override "section.key=value" (as given to --set). `section` is a
 * section type when that type occurs once, or a layer/loss `name=`; the key
 * is replaced, or added when absent. Errors name the override. */
cn_status cn_cfg_set(cn_cfg *cfg, const char *override, cn_error *err);

/* Write the cfg as text that parses back to the same sections and entries;
 * a value from --set carries the override as a trailing comment. */
void cn_cfg_write(const cn_cfg *cfg, FILE *f);

/* One difference between two cfgs: a key of a section (its `name`, else its
 * type) whose value was `was` and is `now` ("(default)" when absent); a
 * change with an empty key means the sections themselves differ. */
typedef struct cn_cfg_change {
    char type[32], section[64], key[64];
    char was[128], now[128];
} cn_cfg_change;

/* The differences of `now` from `was`, up to `max` into `out`; returns how
 * many there are (may exceed max). Sections are compared in order; when
 * their number or types differ, that one change is all that is returned. */
int cn_cfg_diff(const cn_cfg *was, const cn_cfg *now, cn_cfg_change *out, int max);

/* First section of a type, or NULL. */
cn_cfg_section *cn_cfg_find(const cn_cfg *cfg, const char *type);
/* An entry of a section, or NULL. */
cn_cfg_entry *cn_cfg_entry_find(const cn_cfg_section *sec, const char *key);

/* ---- key tables ---- */

typedef enum cn_key_kind {
    CN_KEY_INT,    /* decimal integer in the row's range */
    CN_KEY_FLOAT,  /* decimal or exponent float, finite, in the row's range */
    CN_KEY_BOOL,   /* 0, 1, true, false */
    CN_KEY_STRING, /* free text */
    CN_KEY_ENUM,   /* one of `choices` ("a|b|c") */
    CN_KEY_LIST    /* comma-separated values */
} cn_key_kind;

typedef struct cn_key {
    const char *name;
    cn_key_kind kind;
    const char *def;     /* default as text; NULL = required */
    /* CN_KEY_ENUM: "a|b|c". CN_KEY_INT and CN_KEY_FLOAT: the range, required,
     * "[lo, hi]" with '(' or ')' for an open end and inf for no bound, e.g.
     * "[1, 65536]", "(0, inf)"; a CN_KEY_LIST of integers may have one, which
     * bounds each element. */
    const char *choices;
    const char *doc;     /* one line for docs/cfg.md */
} cn_key;
/* Tables end with a zeroed row. */
#define CN_KEY_END {0, 0, 0, 0, 0}

#define CN_SEC_MAX_TABLES 4

/* A section seen through its key tables. */
typedef struct cn_sec {
    const cn_cfg *cfg;
    cn_cfg_section *sec;
    const cn_key *tables[CN_SEC_MAX_TABLES]; /* NULL-terminated */
} cn_sec;

/* Make a view of `sec` accepting keys from up to 4 tables (NULL ends). */
cn_sec cn_sec_make(const cn_cfg *cfg, cn_cfg_section *sec, const cn_key *t0, const cn_key *t1,
                   const cn_key *t2);

/* Typed reads. A missing key takes the table's default; a key absent from
 * every table is CN_ERR_INTERNAL. Numbers must lie in the table's range.
 * Messages read "file:line: key 'size' expects an integer in [1, 1024], got
 * 'abc'", with "--set 'conv1.size=abc'" in place of file:line for a value
 * the command line gave. */
cn_status cn_sec_int(cn_sec *s, const char *key, int *out, cn_error *err);
cn_status cn_sec_float(cn_sec *s, const char *key, float *out, cn_error *err);
cn_status cn_sec_bool(cn_sec *s, const char *key, int *out, cn_error *err);
/* String value; *out is NULL when the key is absent and has no default. */
cn_status cn_sec_str(cn_sec *s, const char *key, const char **out, cn_error *err);
/* Index of the value in the key's choices. */
cn_status cn_sec_enum(cn_sec *s, const char *key, int *out, cn_error *err);
/* Up to `max` integers from a comma list ("1,28,28"); *n gets the count. */
cn_status cn_sec_ints(cn_sec *s, const char *key, int *out, int max, int *n, cn_error *err);

/* Whether the user wrote the key (marks it used). */
int cn_sec_has(cn_sec *s, const char *key);
/* Line of the key if written, else of the section header. */
int cn_sec_line(const cn_sec *s, const char *key);
/* Where the key's value came from, for messages: "file:line" or "--set 'x.k=v'". */
const char *cn_sec_where(const cn_sec *s, const char *key, char *buf, size_t size);
/* "file:line: key 'k' = 'v': <why>" at the key's line (CN_ERR_CFG unless code given). */
cn_status cn_sec_bad(const cn_sec *s, const char *key, cn_status code, cn_error *err,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* "file:line: [type]: <msg>" at the section header. */
cn_status cn_sec_errorf(const cn_sec *s, cn_status code, cn_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Check a key table (CN_ERR_INTERNAL naming `owner` and the key): every
 * numeric key has a range, every enum its choices, every default reads as
 * its kind and lies in its range. Registration runs it on a plug-in's table. */
cn_status cn_key_table_check(const cn_key *keys, const char *owner, cn_error *err);

/* Error on the first key nobody read: "unknown key 'x' in [dense] (accepted: ...)". */
cn_status cn_sec_finish(const cn_sec *s, cn_error *err);

#endif
