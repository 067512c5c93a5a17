/* check_cfg.c - the cfg parser, --set overrides and the typed key views.
 *
 * Error messages are golden: each malformed input must give exactly the
 * expected status and text, since users act on them.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "cnet/cfg.h"
#include "util.h"

static cn_cfg *parse_ok(const char *text)
{
    cn_cfg *cfg = NULL;
    cn_error err = {0};
    cn_status st = cn_cfg_parse_string("test.cfg", text, &cfg, &err);
    ck_assert_msg(st == CN_OK, "parse failed: %s", err.msg);
    ck_assert_ptr_nonnull(cfg);
    return cfg;
}

static const char *value_of(const cn_cfg_section *sec, const char *key)
{
    const cn_cfg_entry *e = cn_cfg_entry_find(sec, key);
    return e ? e->value : NULL;
}

/* ---- parsing ---- */

START_TEST(test_parse_basic)
{
    cn_cfg *cfg = parse_ok("# leading comment\n"
                           "; another\n"
                           "\n"
                           "[net]   # header comment\n"
                           "batch = 64\n"
                           "  seed=7  ; trailing\n"
                           "   # indented comment\n"
                           "\n"
                           "[ dense ]\n"
                           "name = hello  world\n"
                           "path = a#b;c\n"
                           "expr = x=1\n"
                           "lr = 0.1\t# tab then comment\n"
                           "[dense]\n"
                           "output=3\n");
    ck_assert_str_eq(cfg->file, "test.cfg");
    ck_assert_int_eq(cfg->n_sections, 3);
    const cn_cfg_section *net = &cfg->sections[0], *d1 = &cfg->sections[1];
    ck_assert_str_eq(net->type, "net");
    ck_assert_int_eq(net->line, 4);
    ck_assert_int_eq(net->n_entries, 2);
    ck_assert_str_eq(value_of(net, "batch"), "64");
    ck_assert_str_eq(value_of(net, "seed"), "7");
    ck_assert_int_eq(cn_cfg_entry_find(net, "seed")->line, 6);
    ck_assert_int_eq(cn_cfg_entry_find(net, "seed")->used, 0);
    ck_assert_str_eq(d1->type, "dense");
    ck_assert_int_eq(d1->line, 9);
    ck_assert_str_eq(value_of(d1, "name"), "hello  world");
    ck_assert_str_eq(value_of(d1, "path"), "a#b;c");
    ck_assert_str_eq(value_of(d1, "expr"), "x=1");
    ck_assert_str_eq(value_of(d1, "lr"), "0.1");
    ck_assert_ptr_null(cn_cfg_entry_find(d1, "batch"));
    ck_assert_ptr_eq(cn_cfg_find(cfg, "dense"), d1);
    ck_assert_ptr_null(cn_cfg_find(cfg, "optim"));
    ck_assert_int_eq(cfg->sections[2].line, 14);
    cn_cfg_free(cfg);
    cn_cfg_free(NULL);
}
END_TEST

START_TEST(test_parse_crlf_bom)
{
    cn_cfg *cfg = parse_ok("\xEF\xBB\xBF[net]\r\nbatch = 4\r\n\r\n# c\r\n[dense]\r\noutput=3 \r\n");
    ck_assert_int_eq(cfg->n_sections, 2);
    ck_assert_str_eq(cfg->sections[0].type, "net");
    ck_assert_str_eq(value_of(&cfg->sections[0], "batch"), "4");
    ck_assert_int_eq(cfg->sections[1].line, 5);
    ck_assert_str_eq(value_of(&cfg->sections[1], "output"), "3");
    ck_assert_int_eq(cfg->sections[1].entries[0].line, 6);
    cn_cfg_free(cfg);

    cfg = parse_ok("");
    ck_assert_int_eq(cfg->n_sections, 0);
    cn_cfg_free(cfg);
}
END_TEST

static const struct {
    const char *text, *msg;
} parse_errors[] = {
    {"batch=1\n",
     "test.cfg:1: key 'batch' outside any section (expected a [section] header first)"},
    {"[optim]\n\nlr=1\n\nlr = 2\n",
     "test.cfg:5: duplicate key 'lr' in [optim] (first set on line 3)"},
    {"[net]\nbatch=1\n\nfoo bar\n",
     "test.cfg:4: expected 'key = value' or '[section]', got 'foo bar'"},
    {"[net]\n = 3\n", "test.cfg:2: empty key in '= 3' (expected 'key = value')"},
    {"[net]\nbatch =   # nothing\n",
     "test.cfg:2: key 'batch' has an empty value (expected 'key = value')"},
    {"[net]\n[]\n", "test.cfg:2: empty section header '[]' (expected '[type]')"},
    {"[  ]\n", "test.cfg:1: empty section header '[]' (expected '[type]')"},
    {"[net\n", "test.cfg:1: bad section header '[net' (expected '[type]')"},
    {"[net] batch=1\n", "test.cfg:1: bad section header '[net] batch=1' (expected '[type]')"},
    {"[a]b]\n", "test.cfg:1: bad section header '[a]b]' (expected '[type]')"},
    {"\r\n[net]\r\nx\r\n", "test.cfg:3: expected 'key = value' or '[section]', got 'x'"},
};

START_TEST(test_parse_errors)
{
    cn_cfg *cfg = (cn_cfg *)&cfg; /* must be reset to NULL */
    cn_error err = {0};
    cn_status st = cn_cfg_parse_string("test.cfg", parse_errors[_i].text, &cfg, &err);
    ck_assert_int_eq(st, CN_ERR_CFG);
    ck_assert_int_eq(err.code, CN_ERR_CFG);
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(err.msg, parse_errors[_i].msg);
}
END_TEST

START_TEST(test_parse_file)
{
    cn_cfg *cfg = (cn_cfg *)&cfg;
    cn_error err = {0};
    ck_assert_int_eq(cn_cfg_parse_file("cfg/no_such_file.cfg", &cfg, &err), CN_ERR_IO);
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(err.msg, "cfg/no_such_file.cfg: cannot open: No such file or directory");

    const char *dir = tu_tmpdir();
    const char *path = tu_write(dir, "ok.cfg", "[net]\nbatch = 8\n\n[dense]\noutput = 5\n");
    ck_assert_int_eq(cn_cfg_parse_file(path, &cfg, &err), CN_OK);
    ck_assert_str_eq(cfg->file, path);
    ck_assert_int_eq(cfg->n_sections, 2);
    ck_assert_str_eq(value_of(cn_cfg_find(cfg, "dense"), "output"), "5");
    ck_assert_int_eq(cn_cfg_find(cfg, "dense")->line, 4);
    cn_cfg_free(cfg);

    char want[600];
    path = tu_write(dir, "bad.cfg", "[net]\nbatch 8\n");
    snprintf(want, sizeof want, "%s:2: expected 'key = value' or '[section]', got 'batch 8'", path);
    ck_assert_int_eq(cn_cfg_parse_file(path, &cfg, &err), CN_ERR_CFG);
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

/* ---- --set ---- */

static const char *set_text = "[net]\n"             /* 1 */
                              "batch = 32\n"        /* 2 */
                              "[dense]\n"           /* 3 */
                              "name = enc\n"        /* 4 */
                              "output = 64\n"       /* 5 */
                              "[dense]\n"           /* 6 */
                              "output = 784\n"      /* 7 */
                              "[optim]\n"           /* 8 */
                              "lr = 0.01\n"         /* 9 */
                              "[sigmoid]\n"         /* 10 */
                              "name = optim\n";     /* 11 */

START_TEST(test_set_ok)
{
    cn_cfg *cfg = parse_ok(set_text);
    cn_error err = {0};
    /* replace by type: the line stays */
    ck_assert_int_eq(cn_cfg_set(cfg, "net.batch=64", &err), CN_OK);
    ck_assert_str_eq(value_of(&cfg->sections[0], "batch"), "64");
    ck_assert_int_eq(cn_cfg_entry_find(&cfg->sections[0], "batch")->line, 2);
    /* append by type: the header's line */
    ck_assert_int_eq(cn_cfg_set(cfg, " net.seed = 9 ", &err), CN_OK);
    ck_assert_int_eq(cfg->sections[0].n_entries, 2);
    ck_assert_str_eq(value_of(&cfg->sections[0], "seed"), "9");
    ck_assert_int_eq(cn_cfg_entry_find(&cfg->sections[0], "seed")->line, 1);
    /* by name, and a value with '=' and '.' in it */
    ck_assert_int_eq(cn_cfg_set(cfg, "enc.output=256", &err), CN_OK);
    ck_assert_str_eq(value_of(&cfg->sections[1], "output"), "256");
    ck_assert_str_eq(value_of(&cfg->sections[2], "output"), "784");
    ck_assert_int_eq(cn_cfg_set(cfg, "enc.path=a.b=c", &err), CN_OK);
    ck_assert_str_eq(value_of(&cfg->sections[1], "path"), "a.b=c");
    /* names come before types: "optim" is the [sigmoid]'s name */
    ck_assert_int_eq(cn_cfg_set(cfg, "optim.gain=2", &err), CN_OK);
    ck_assert_str_eq(value_of(&cfg->sections[4], "gain"), "2");
    ck_assert_ptr_null(cn_cfg_entry_find(&cfg->sections[3], "gain"));
    ck_assert_str_eq(value_of(&cfg->sections[3], "lr"), "0.01");
    cn_cfg_free(cfg);
}
END_TEST

static const struct {
    const char *override, *msg;
} set_errors[] = {
    {"foo", "--set 'foo': expected section.key=value"},
    {"foo=1", "--set 'foo=1': expected section.key=value"},
    {"net.batch", "--set 'net.batch': expected section.key=value"},
    {".batch=1", "--set '.batch=1': expected section.key=value"},
    {"net.=1", "--set 'net.=1': expected section.key=value"},
    {"net.batch=", "--set 'net.batch=': expected section.key=value"},
    {"net=a.b", "--set 'net=a.b': expected section.key=value"},
    {"x.lr=1", "--set 'x.lr=1': no section named or typed 'x' in test.cfg"},
    {"dense.output=3", "--set 'dense.output=3': 2 sections typed 'dense' in test.cfg (lines 3, 6); "
                       "give one a name= and set that name"},
};

START_TEST(test_set_errors)
{
    cn_cfg *cfg = parse_ok(set_text);
    cn_error err = {0};
    ck_assert_int_eq(cn_cfg_set(cfg, set_errors[_i].override, &err), CN_ERR_USAGE);
    ck_assert_int_eq(err.code, CN_ERR_USAGE);
    ck_assert_str_eq(err.msg, set_errors[_i].msg);
    /* nothing changed */
    ck_assert_int_eq(cfg->sections[1].n_entries, 2);
    ck_assert_int_eq(cfg->sections[2].n_entries, 1);
    ck_assert_str_eq(value_of(&cfg->sections[0], "batch"), "32");
    cn_cfg_free(cfg);
}
END_TEST

/* ---- key views ---- */

static const cn_key base_keys[] = {
    {"type", CN_KEY_STRING, "sgd", NULL, "optimizer"},
    {"name", CN_KEY_STRING, NULL, NULL, "a name"},
    CN_KEY_END,
};

static const cn_key test_keys[] = {
    {"output", CN_KEY_INT, NULL, "[-20, 100]", "a positive integer, the width"},
    {"steps", CN_KEY_INT, "10", "[1, 100]", "steps"},
    {"lr", CN_KEY_FLOAT, "0.01", "[0, 1]", "learning rate"},
    {"learning_rate", CN_KEY_FLOAT, "0.5", "(0, inf)", "learning rate"},
    {"momentum", CN_KEY_FLOAT, "0.9", "[0, 1)", "momentum"},
    {"nesterov", CN_KEY_BOOL, "no", NULL, "Nesterov"},
    {"activation", CN_KEY_ENUM, "linear", "linear|sigmoid|tanh", "nonlinearity"},
    {"shape", CN_KEY_LIST, "1,28,28", "[1, 65536]", "input shape"},
    {"need", CN_KEY_FLOAT, NULL, "(-inf, inf)", NULL},
    {"broken", CN_KEY_INT, "ten", "[0, 10]", "a bad default"},
    {"bare", CN_KEY_INT, "1", NULL, "a number without a range"},
    {"type", CN_KEY_INT, "3", "[0, 9]", "shadowed by base_keys"},
    CN_KEY_END,
};

/* Parse `body` as the entries of a single [layer] section (header line 1). */
static cn_cfg *one_section(const char *body, cn_sec *s)
{
    char text[1024];
    snprintf(text, sizeof text, "[layer]\n%s", body);
    cn_cfg *cfg = parse_ok(text);
    *s = cn_sec_make(cfg, &cfg->sections[0], base_keys, test_keys, NULL);
    ck_assert_ptr_null(s->tables[2]);
    ck_assert_ptr_null(s->tables[3]);
    return cfg;
}

START_TEST(test_getters_ok)
{
    cn_sec s;
    cn_cfg *cfg = one_section("output = -12\nlr = 1e-3\nnesterov = TRUE\nactivation = tanh\n"
                              "shape = 3, 32 ,32\nname = enc coder\n",
                              &s);
    cn_error err = {0};
    int i = 0, n = 0, v[4] = {0};
    float f = 0;
    const char *str = NULL;
    ck_assert_int_eq(cn_sec_int(&s, "output", &i, &err), CN_OK);
    ck_assert_int_eq(i, -12);
    ck_assert_int_eq(cn_sec_int(&s, "steps", &i, &err), CN_OK);
    ck_assert_int_eq(i, 10);
    ck_assert_int_eq(cn_sec_float(&s, "lr", &f, &err), CN_OK);
    ck_assert_float_eq(f, 1e-3f);
    ck_assert_int_eq(cn_sec_float(&s, "momentum", &f, &err), CN_OK);
    ck_assert_float_eq(f, 0.9f);
    ck_assert_int_eq(cn_sec_bool(&s, "nesterov", &i, &err), CN_OK);
    ck_assert_int_eq(i, 1);
    ck_assert_int_eq(cn_sec_enum(&s, "activation", &i, &err), CN_OK);
    ck_assert_int_eq(i, 2);
    ck_assert_int_eq(cn_sec_ints(&s, "shape", v, 3, &n, &err), CN_OK);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(v[0], 3);
    ck_assert_int_eq(v[1], 32);
    ck_assert_int_eq(v[2], 32);
    ck_assert_int_eq(cn_sec_str(&s, "name", &str, &err), CN_OK);
    ck_assert_str_eq(str, "enc coder");
    /* the first table wins: "type" is a string defaulting to "sgd" */
    ck_assert_int_eq(cn_sec_str(&s, "type", &str, &err), CN_OK);
    ck_assert_str_eq(str, "sgd");
    ck_assert_int_eq(cn_sec_finish(&s, &err), CN_OK);
    cn_cfg_free(cfg);

    /* defaults, and every bool spelling */
    cfg = one_section("output = 1\n", &s);
    ck_assert_int_eq(cn_sec_str(&s, "name", &str, &err), CN_OK);
    ck_assert_ptr_null(str);
    ck_assert_int_eq(cn_sec_bool(&s, "nesterov", &i, &err), CN_OK);
    ck_assert_int_eq(i, 0);
    ck_assert_int_eq(cn_sec_enum(&s, "activation", &i, &err), CN_OK);
    ck_assert_int_eq(i, 0);
    ck_assert_int_eq(cn_sec_ints(&s, "shape", v, 4, &n, &err), CN_OK);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(v[1], 28);
    ck_assert_int_eq(cn_sec_float(&s, "learning_rate", &f, &err), CN_OK);
    ck_assert_float_eq(f, 0.5f);
    cn_cfg_free(cfg);
    static const char *const words[] = {"0", "1", "false", "True", "no", "YES"};
    for (int k = 0; k < 6; k++) {
        char body[64];
        snprintf(body, sizeof body, "nesterov = %s\n", words[k]);
        cfg = one_section(body, &s);
        i = -1;
        ck_assert_int_eq(cn_sec_bool(&s, "nesterov", &i, &err), CN_OK);
        ck_assert_int_eq(i, k % 2);
        cn_cfg_free(cfg);
    }
}
END_TEST

/* Each row: one entry in [layer] (line 2), the getter, and the message. */
enum getter { G_INT, G_FLOAT, G_BOOL, G_ENUM, G_INTS };

#define IN_OUT "expects an integer in [-20, 100]"
#define IN_LR "expects a finite number in [0, 1]"
#define IN_SHAPE "expects a comma list of at most 3 integers in [1, 65536]"
static const struct {
    const char *body;
    enum getter g;
    const char *key, *msg;
} bad_values[] = {
    {"output = abc", G_INT, "output", "test.cfg:2: key 'output' " IN_OUT ", got 'abc'"},
    {"output = 12x", G_INT, "output", "test.cfg:2: key 'output' " IN_OUT ", got '12x'"},
    {"output = 1.5", G_INT, "output", "test.cfg:2: key 'output' " IN_OUT ", got '1.5'"},
    {"output = 99999999999", G_INT, "output",
     "test.cfg:2: key 'output' " IN_OUT ", got '99999999999'"},
    {"output = 101", G_INT, "output", "test.cfg:2: key 'output' " IN_OUT ", got '101'"},
    {"output = -21", G_INT, "output", "test.cfg:2: key 'output' " IN_OUT ", got '-21'"},
    {"lr = 1e", G_FLOAT, "lr", "test.cfg:2: key 'lr' " IN_LR ", got '1e'"},
    {"lr = nan", G_FLOAT, "lr", "test.cfg:2: key 'lr' " IN_LR ", got 'nan'"},
    {"lr = 1e99", G_FLOAT, "lr", "test.cfg:2: key 'lr' " IN_LR ", got '1e99'"},
    {"lr = 1.5", G_FLOAT, "lr", "test.cfg:2: key 'lr' " IN_LR ", got '1.5'"},
    {"lr = -0.5", G_FLOAT, "lr", "test.cfg:2: key 'lr' " IN_LR ", got '-0.5'"},
    {"learning_rate = 0", G_FLOAT, "learning_rate",
     "test.cfg:2: key 'learning_rate' expects a finite number in (0, inf), got '0'"},
    {"momentum = 1", G_FLOAT, "momentum",
     "test.cfg:2: key 'momentum' expects a finite number in [0, 1), got '1'"},
    {"nesterov = maybe", G_BOOL, "nesterov",
     "test.cfg:2: key 'nesterov' expects 0, 1, true or false, got 'maybe'"},
    {"nesterov = 2", G_BOOL, "nesterov",
     "test.cfg:2: key 'nesterov' expects 0, 1, true or false, got '2'"},
    {"activation = sigmod", G_ENUM, "activation",
     "test.cfg:2: key 'activation' expects one of linear, sigmoid, tanh, got 'sigmod'"},
    {"activation = Tanh", G_ENUM, "activation",
     "test.cfg:2: key 'activation' expects one of linear, sigmoid, tanh, got 'Tanh'"},
    {"shape = 1,2,3,4", G_INTS, "shape", "test.cfg:2: key 'shape' " IN_SHAPE ", got '1,2,3,4'"},
    {"shape = 1,x,3", G_INTS, "shape", "test.cfg:2: key 'shape' " IN_SHAPE ", got '1,x,3'"},
    {"shape = 1,,3", G_INTS, "shape", "test.cfg:2: key 'shape' " IN_SHAPE ", got '1,,3'"},
    {"shape = 1 2", G_INTS, "shape", "test.cfg:2: key 'shape' " IN_SHAPE ", got '1 2'"},
    {"shape = 1,0,3", G_INTS, "shape", "test.cfg:2: key 'shape' " IN_SHAPE ", got '1,0,3'"},
};

static cn_status call_getter(cn_sec *s, enum getter g, const char *key, cn_error *err)
{
    int i = 0, v[3], n = 0;
    float f = 0;
    switch (g) {
    case G_INT: return cn_sec_int(s, key, &i, err);
    case G_FLOAT: return cn_sec_float(s, key, &f, err);
    case G_BOOL: return cn_sec_bool(s, key, &i, err);
    case G_ENUM: return cn_sec_enum(s, key, &i, err);
    case G_INTS: return cn_sec_ints(s, key, v, 3, &n, err);
    }
    return CN_ERR_INTERNAL;
}

START_TEST(test_getters_bad)
{
    cn_sec s;
    char body[128];
    snprintf(body, sizeof body, "%s\n", bad_values[_i].body);
    cn_cfg *cfg = one_section(body, &s);
    cn_error err = {0};
    ck_assert_int_eq(call_getter(&s, bad_values[_i].g, bad_values[_i].key, &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, bad_values[_i].msg);
    ck_assert_int_eq(s.sec->entries[0].used, 1);
    cn_cfg_free(cfg);
}
END_TEST

START_TEST(test_getters_required_and_internal)
{
    cn_sec s;
    cn_cfg *cfg = one_section("lr = 0.1\n", &s);
    cn_error err = {0};
    int i = 7;
    float f = 0;
    ck_assert_int_eq(cn_sec_int(&s, "output", &i, &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg,
                     "test.cfg:1: [layer] needs key 'output' (a positive integer, the width)");
    ck_assert_int_eq(i, 7);
    ck_assert_int_eq(cn_sec_float(&s, "need", &f, &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "test.cfg:1: [layer] needs key 'need'");
    ck_assert_int_eq(cn_sec_int(&s, "size", &i, &err), CN_ERR_INTERNAL);
    ck_assert_str_eq(err.msg, "internal: key 'size' read by [layer] is not in its key table");
    ck_assert_int_eq(cn_sec_int(&s, "broken", &i, &err), CN_ERR_INTERNAL);
    ck_assert_str_eq(err.msg,
                     "internal: default of key 'broken' in [layer] expects an integer in "
                     "[0, 10], got 'ten'");
    ck_assert_int_eq(cn_sec_int(&s, "bare", &i, &err), CN_ERR_INTERNAL);
    ck_assert_str_eq(err.msg, "internal: numeric key 'bare' of [layer] has no range "
                              "\"[lo, hi]\" in its key table (got 'none')");
    cn_cfg_free(cfg);
}
END_TEST

START_TEST(test_has_line_bad_errorf)
{
    cn_sec s;
    cn_cfg *cfg = one_section("\nlr = 0.5\n", &s);
    cn_error err = {0};
    ck_assert_int_eq(cn_sec_line(&s, "lr"), 3);
    ck_assert_int_eq(cn_sec_line(&s, "output"), 1);
    ck_assert_int_eq(cn_sec_has(&s, "output"), 0);
    ck_assert_int_eq(s.sec->entries[0].used, 0);
    ck_assert_int_eq(cn_sec_has(&s, "lr"), 1);
    ck_assert_int_eq(s.sec->entries[0].used, 1);

    ck_assert_int_eq(cn_sec_bad(&s, "lr", CN_OK, &err, "too large for %s", "adam"), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "test.cfg:3: key 'lr' = '0.5': too large for adam");
    ck_assert_int_eq(cn_sec_bad(&s, "output", CN_ERR_SHAPE, &err, "needs %d", 4), CN_ERR_SHAPE);
    ck_assert_int_eq(err.code, CN_ERR_SHAPE);
    ck_assert_str_eq(err.msg, "test.cfg:1: key 'output': needs 4");
    ck_assert_int_eq(cn_sec_errorf(&s, CN_OK, &err, "input has %d dims", 3), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "test.cfg:1: [layer]: input has 3 dims");
    ck_assert_int_eq(cn_sec_errorf(&s, CN_ERR_SHAPE, &err, "x"), CN_ERR_SHAPE);
    cn_cfg_free(cfg);
}
END_TEST

/* ---- unknown keys ---- */

static const struct {
    const char *body, *msg;
} unknown_keys[] = {
    {"lr = 1\nlerning_rate = 0.1\n",
     "test.cfg:3: unknown key 'lerning_rate' in [layer] (did you mean 'learning_rate'?; accepted: "
     "type, name, output, steps, lr, learning_rate, momentum, nesterov, activation, shape, need, "
     "broken, bare)"},
    {"momentun = 0.1\n",
     "test.cfg:2: unknown key 'momentun' in [layer] (did you mean 'momentum'?; accepted: "
     "type, name, output, steps, lr, learning_rate, momentum, nesterov, activation, shape, need, "
     "broken, bare)"},
    {"activ = tanh\n",
     "test.cfg:2: unknown key 'activ' in [layer] (did you mean 'activation'?; accepted: "
     "type, name, output, steps, lr, learning_rate, momentum, nesterov, activation, shape, need, "
     "broken, bare)"},
    {"\n\nbias = 1\n",
     "test.cfg:4: unknown key 'bias' in [layer] (accepted: "
     "type, name, output, steps, lr, learning_rate, momentum, nesterov, activation, shape, need, "
     "broken, bare)"},
    {"xy = 1\n",
     "test.cfg:2: unknown key 'xy' in [layer] (accepted: "
     "type, name, output, steps, lr, learning_rate, momentum, nesterov, activation, shape, need, "
     "broken, bare)"},
};

START_TEST(test_finish_unknown)
{
    cn_sec s;
    cn_cfg *cfg = one_section(unknown_keys[_i].body, &s);
    cn_error err = {0};
    float f;
    ck_assert_int_eq(cn_sec_float(&s, "lr", &f, &err), CN_OK);
    ck_assert_int_eq(cn_sec_finish(&s, &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, unknown_keys[_i].msg);
    cn_cfg_free(cfg);
}
END_TEST

START_TEST(test_finish_after_set)
{
    /* a key added by --set is checked like one written in the file */
    cn_cfg *cfg = parse_ok("[layer]\noutput = 3\n");
    cn_error err = {0};
    ck_assert_int_eq(cn_cfg_set(cfg, "layer.outptu=4", &err), CN_OK);
    cn_sec s = cn_sec_make(cfg, &cfg->sections[0], test_keys, NULL, NULL);
    ck_assert_ptr_null(s.tables[1]);
    int i;
    ck_assert_int_eq(cn_sec_int(&s, "output", &i, &err), CN_OK);
    ck_assert_int_eq(i, 3);
    ck_assert_int_eq(cn_sec_finish(&s, &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg,
                     "--set 'layer.outptu=4': unknown key 'outptu' in [layer] (did you mean "
                     "'output'?; accepted: output, steps, lr, learning_rate, momentum, nesterov, "
                     "activation, shape, need, broken, bare, type)");
    cn_cfg_free(cfg);
}
END_TEST

START_TEST(test_set_value_named)
{
    /* a bad value from --set names the override, not the file's line */
    cn_cfg *cfg = parse_ok("[layer]\noutput = 3\nlr = 0.5\n");
    cn_error err = {0};
    ck_assert_int_eq(cn_cfg_set(cfg, "layer.output=300", &err), CN_OK);
    ck_assert_int_eq(cn_cfg_set(cfg, "layer.steps=0", &err), CN_OK);
    cn_sec s = cn_sec_make(cfg, &cfg->sections[0], test_keys, NULL, NULL);
    int i;
    float f;
    char at[64];
    ck_assert_int_eq(cn_sec_int(&s, "output", &i, &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "--set 'layer.output=300': key 'output' " IN_OUT ", got '300'");
    ck_assert_int_eq(cn_sec_int(&s, "steps", &i, &err), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "--set 'layer.steps=0': key 'steps' expects an integer in "
                              "[1, 100], got '0'");
    ck_assert_int_eq(cn_sec_bad(&s, "output", CN_OK, &err, "too wide"), CN_ERR_CFG);
    ck_assert_str_eq(err.msg, "--set 'layer.output=300': key 'output' = '300': too wide");
    ck_assert_str_eq(cn_sec_where(&s, "output", at, sizeof at), "--set 'layer.output=300'");
    /* the file's values keep their lines */
    ck_assert_int_eq(cn_sec_float(&s, "lr", &f, &err), CN_OK);
    ck_assert_str_eq(cn_sec_where(&s, "lr", at, sizeof at), "test.cfg:3");
    cn_cfg_free(cfg);
}
END_TEST

/* cn_key_table_check: numeric keys need ranges, defaults must read and fit. */
START_TEST(test_key_table_check)
{
    static const cn_key good[] = {{"n", CN_KEY_INT, "3", "[1, 8]", "n"},
                                  {"x", CN_KEY_FLOAT, NULL, "(0, 1)", "x"},
                                  {"dims", CN_KEY_LIST, "1,2", "[1, 9]", "dims"},
                                  {"names", CN_KEY_LIST, "a,b", NULL, "names"},
                                  {"how", CN_KEY_ENUM, "b", "a|b", "how"},
                                  CN_KEY_END};
    static const cn_key no_range[] = {{"n", CN_KEY_FLOAT, "3", NULL, "n"}, CN_KEY_END};
    static const cn_key bad_range[] = {{"n", CN_KEY_INT, "3", "[8, 1]", "n"}, CN_KEY_END};
    static const cn_key out[] = {{"n", CN_KEY_INT, "0", "[1, 8]", "n"}, CN_KEY_END};
    static const cn_key open_end[] = {{"x", CN_KEY_FLOAT, "1", "[0, 1)", "x"}, CN_KEY_END};
    static const cn_key list_out[] = {{"d", CN_KEY_LIST, "1,0", "[1, 9]", "d"}, CN_KEY_END};
    static const cn_key enum_bad[] = {{"how", CN_KEY_ENUM, "c", "a|b", "how"}, CN_KEY_END};
    cn_error err = {0};
    ck_assert_int_eq(cn_key_table_check(good, "t", &err), CN_OK);
    ck_assert_int_eq(cn_key_table_check(no_range, "t", &err), CN_ERR_INTERNAL);
    ck_assert_str_eq(err.msg, "t: numeric key 'n' has no range \"[lo, hi]\"");
    ck_assert_int_eq(cn_key_table_check(bad_range, "t", &err), CN_ERR_INTERNAL);
    ck_assert_int_eq(cn_key_table_check(out, "t", &err), CN_ERR_INTERNAL);
    ck_assert_str_eq(err.msg, "t: internal: default of key 'n' in [?] expects an integer in "
                              "[1, 8], got '0'");
    ck_assert_int_eq(cn_key_table_check(open_end, "t", &err), CN_ERR_INTERNAL);
    ck_assert_int_eq(cn_key_table_check(list_out, "t", &err), CN_ERR_INTERNAL);
    ck_assert_int_eq(cn_key_table_check(enum_bad, "t", &err), CN_ERR_INTERNAL);
}
END_TEST

/* cn_cfg_write: the text parses back to the same sections and entries (a
 * --set value marked as such); cn_cfg_diff lists what differs. */
START_TEST(test_write_and_diff)
{
    cn_error err = {0};
    cn_cfg *a = parse_ok("[net]\nbatch = 8\ninput=1,4,4\n[data]\ndir = some dir/x#y\n"
                         "[dense]\nname=enc\noutput=3\n[mse]\ntarget=input\n");
    ck_assert_int_eq(cn_cfg_set(a, "enc.output=5", &err), CN_OK);
    ck_assert_int_eq(cn_cfg_set(a, "net.seed=4", &err), CN_OK);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    cn_cfg_write(a, f);
    fclose(f);
    ck_assert_msg(strstr(text, "output = 5  # --set enc.output=5\n"), "%s", text);
    cn_cfg *b = parse_ok(text);
    cn_cfg_change c[8];
    ck_assert_int_eq(cn_cfg_diff(a, b, c, 8), 0);
    ck_assert_str_eq(value_of(&b->sections[1], "dir"), "some dir/x#y");
    /* a changed value, a removed key and an added one, in section order */
    ck_assert_int_eq(cn_cfg_set(b, "net.batch=16", &err), CN_OK);
    ck_assert_int_eq(cn_cfg_set(b, "enc.activation=relu", &err), CN_OK);
    ck_assert_int_eq(cn_cfg_diff(a, b, c, 8), 2);
    ck_assert_str_eq(c[0].section, "net");
    ck_assert_str_eq(c[0].key, "batch");
    ck_assert_str_eq(c[0].was, "8");
    ck_assert_str_eq(c[0].now, "16");
    ck_assert_str_eq(c[1].section, "enc");
    ck_assert_str_eq(c[1].type, "dense");
    ck_assert_str_eq(c[1].was, "(default)");
    ck_assert_str_eq(c[1].now, "relu");
    ck_assert_int_eq(cn_cfg_diff(b, a, c, 1), 2); /* the count, though only 1 fits */
    ck_assert_str_eq(c[0].now, "8");
    /* other sections: one change, without a key */
    cn_cfg *d = parse_ok("[net]\nbatch = 8\n[dense]\noutput=3\n");
    ck_assert_int_eq(cn_cfg_diff(a, d, c, 8), 1);
    ck_assert_str_eq(c[0].key, "");
    cn_cfg_free(a);
    cn_cfg_free(b);
    cn_cfg_free(d);
    free(text);
}
END_TEST

Suite *cfg_suite(void)
{
    Suite *s = suite_create("cfg");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_parse_basic);
    tcase_add_test(tc, test_parse_crlf_bom);
    tcase_add_loop_test(tc, test_parse_errors, 0, sizeof parse_errors / sizeof parse_errors[0]);
    tcase_add_test(tc, test_parse_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("set");
    tcase_add_test(tc, test_set_ok);
    tcase_add_loop_test(tc, test_set_errors, 0, sizeof set_errors / sizeof set_errors[0]);
    suite_add_tcase(s, tc);

    tc = tcase_create("keys");
    tcase_add_test(tc, test_getters_ok);
    tcase_add_loop_test(tc, test_getters_bad, 0, sizeof bad_values / sizeof bad_values[0]);
    tcase_add_test(tc, test_getters_required_and_internal);
    tcase_add_test(tc, test_has_line_bad_errorf);
    tcase_add_loop_test(tc, test_finish_unknown, 0, sizeof unknown_keys / sizeof unknown_keys[0]);
    tcase_add_test(tc, test_finish_after_set);
    tcase_add_test(tc, test_set_value_named);
    tcase_add_test(tc, test_key_table_check);
    tcase_add_test(tc, test_write_and_diff);
    suite_add_tcase(s, tc);
    return s;
}
