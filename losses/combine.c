/* combine.c - a loss that is an expression over other losses' values: the
 * cooperative objectives of Kamal & Bae ("Cooperative and Non-cooperative
 * Autonets: from Dimensionality Reduction to Classification", presented in
 * H. Bae's lecture "Loss function and cooperative learning"), e.g. the
 * auto-classifier's strict cooperation
 *   L = L_C + L_G + |L_C - L_G|        expr = c + g + abs(c - g)
 * and, generally, any objective written with + - * /, unary minus, numbers,
 * parentheses, abs(a), max(a, b), min(a, b) and the names of losses defined
 * above this section.
 *
 * A name stands for that loss's weighted value v_i = weight_i * L_i (so
 * weights keep scaling their terms); the combine's value is expr(v) and the
 * net adds weight * expr(v) to the total. Every loss named is consumed
 * (cn_loss_consume): it adds nothing to the total on its own, and its
 * gradient reaches the network only through the combine, whose backward
 * calls it with the effective weight
 *   weight * d expr / d v_i * weight_i
 * (the chain rule dL/dtheta = sum_i dexpr/dv_i * weight_i * dL_i/dtheta).
 * The derivatives are taken at the current values, by forward-mode
 * differentiation of the parsed expression; at a kink the one-sided choice
 * is abs'(0) = 0, max picks its first argument on a tie (min likewise).
 * A loss can be named by one combine only; a combine may name a combine.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_REFS 8   /* losses one expression may name */
#define MAX_NODES 64

static const cn_key keys[] = {
    {"expr", CN_KEY_STRING, NULL, NULL,
     "expression over the names of losses above: + - * / ( ) numbers abs(a) max(a,b) min(a,b)"},
    CN_KEY_END};

enum op { OP_NUM, OP_REF, OP_NEG, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_ABS, OP_MAX, OP_MIN };

typedef struct node {
    enum op op;
    int a, b;     /* operand nodes */
    double num;   /* OP_NUM */
    int ref;      /* OP_REF: index into refs */
} node;

typedef struct combine_state {
    node nodes[MAX_NODES];
    int n_nodes, root;
    cn_loss *refs[MAX_REFS];
    int n_refs;
    double grad[MAX_REFS]; /* d expr / d v_i at the last forward */
} combine_state;

/* The parser: a cursor over the text, errors through the section. */
typedef struct parser {
    combine_state *st;
    cn_loss *loss;
    const char *text, *p;
    cn_sec *s;
    cn_error *err;
    cn_status rc;
    int depth; /* nesting of parentheses and unary minus, bounded */
} parser;

static int fail(parser *ps, const char *what)
{
    if (!ps->rc)
        ps->rc = cn_sec_bad(ps->s, "expr", CN_ERR_CFG, ps->err, "%s at character %d",
                            what, (int)(ps->p - ps->text) + 1);
    return -1;
}

static int add_node(parser *ps, enum op op, int a, int b)
{
    if (ps->rc || a < 0 || b < -1)
        return -1;
    if (ps->st->n_nodes == MAX_NODES)
        return fail(ps, "expression too long");
    ps->st->nodes[ps->st->n_nodes] = (node){.op = op, .a = a, .b = b};
    return ps->st->n_nodes++;
}

static void skip_space(parser *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

/* Consume c (after spaces) if it comes next. */
static int peek(parser *ps, char c)
{
    skip_space(ps);
    if (*ps->p != c)
        return 0;
    ps->p++;
    return 1;
}

/* The earlier loss called `name` (the only one), as a ref index: the first
 * mention consumes it through the builder, which finds it. */
static int resolve(parser *ps, const char *name, size_t len)
{
    for (int i = 0; i < ps->st->n_refs; i++)
        if (strlen(ps->st->refs[i]->name) == len && !strncmp(ps->st->refs[i]->name, name, len))
            return i;
    char *copy = malloc(len + 1);
    if (!copy)
        return fail(ps, "out of memory");
    memcpy(copy, name, len);
    copy[len] = 0;
    cn_loss *found;
    cn_error why = {0};
    cn_status rc = cn_loss_consume(ps->loss, NULL, "expr", copy, &found, &why);
    free(copy);
    if (rc) {
        char msg[160]; /* the reason (as long as it always was); fail() adds where */
        size_t n = strnlen(why.msg, sizeof msg - 1);
        memcpy(msg, why.msg, n);
        msg[n] = 0;
        return fail(ps, msg);
    }
    if (ps->st->n_refs == MAX_REFS)
        return fail(ps, "more than 8 losses named");
    ps->st->refs[ps->st->n_refs] = found;
    return ps->st->n_refs++;
}

static int parse_sum(parser *ps);

static int parse_primary(parser *ps)
{
    if (peek(ps, '(')) {
        if (++ps->depth > MAX_NODES)
            return fail(ps, "parentheses nested too deeply");
        int e = parse_sum(ps);
        ps->depth--;
        return peek(ps, ')') ? e : fail(ps, "expected ')'");
    }
    const char *start = ps->p;
    if (isdigit((unsigned char)*start) || *start == '.') {
        char *end;
        double v = strtod(start, &end);
        ps->p = end;
        if (!isfinite(v) || !isfinite((float)v))
            return fail(ps, "a number past the float range");
        int n = add_node(ps, OP_NUM, 0, -1);
        if (n >= 0)
            ps->st->nodes[n].num = v;
        return n;
    }
    size_t len = 0;
    while (isalnum((unsigned char)start[len]) || start[len] == '_')
        len++;
    if (!len)
        return fail(ps, "expected a number, a loss name, a function or '('");
    ps->p = start + len;
    static const struct { const char *name; enum op op; int args; } fns[] = {
        {"abs", OP_ABS, 1}, {"max", OP_MAX, 2}, {"min", OP_MIN, 2}};
    for (int f = 0; f < 3; f++)
        if (strlen(fns[f].name) == len && !strncmp(start, fns[f].name, len) && peek(ps, '(')) {
            int a = parse_sum(ps), b = -1;
            if (fns[f].args == 2 && !peek(ps, ','))
                return fail(ps, "expected ',' between the two arguments");
            if (fns[f].args == 2)
                b = parse_sum(ps);
            return peek(ps, ')') ? add_node(ps, fns[f].op, a, b) : fail(ps, "expected ')'");
        }
    ps->p = start; /* errors point at the name */
    int ref = resolve(ps, start, len), n = add_node(ps, OP_REF, 0, -1);
    ps->p = start + len;
    if (n >= 0)
        ps->st->nodes[n].ref = ref;
    return ref < 0 ? -1 : n;
}

static int parse_unary(parser *ps)
{
    if (!peek(ps, '-'))
        return parse_primary(ps);
    if (++ps->depth > MAX_NODES)
        return fail(ps, "too many signs in a row");
    int a = parse_unary(ps);
    ps->depth--;
    return add_node(ps, OP_NEG, a, -1);
}

static int parse_product(parser *ps)
{
    int a = parse_unary(ps);
    for (;;) {
        if (peek(ps, '*'))
            a = add_node(ps, OP_MUL, a, parse_unary(ps));
        else if (peek(ps, '/'))
            a = add_node(ps, OP_DIV, a, parse_unary(ps));
        else
            return a;
    }
}

static int parse_sum(parser *ps)
{
    int a = parse_product(ps);
    for (;;) {
        if (peek(ps, '+'))
            a = add_node(ps, OP_ADD, a, parse_product(ps));
        else if (peek(ps, '-'))
            a = add_node(ps, OP_SUB, a, parse_product(ps));
        else
            return a;
    }
}

/* Value of node i and its gradient g (n_refs) with respect to the v_i. */
static double eval(const combine_state *st, int i, const double *v, double *g)
{
    const node *nd = &st->nodes[i];
    double ga[MAX_REFS], gb[MAX_REFS], a = 0.0, b = 0.0;
    int n = st->n_refs;
    memset(g, 0, (size_t)n * sizeof *g);
    if (nd->op == OP_NUM)
        return nd->num;
    if (nd->op == OP_REF) {
        g[nd->ref] = 1.0;
        return v[nd->ref];
    }
    a = eval(st, nd->a, v, ga);
    if (nd->b >= 0)
        b = eval(st, nd->b, v, gb);
    double da = 0.0, db = 0.0, y = 0.0; /* y = f(a, b), da = df/da, db = df/db */
    switch (nd->op) {
    case OP_NEG: y = -a, da = -1.0; break;
    case OP_ADD: y = a + b, da = 1.0, db = 1.0; break;
    case OP_SUB: y = a - b, da = 1.0, db = -1.0; break;
    case OP_MUL: y = a * b, da = b, db = a; break;
    case OP_DIV: y = a / b, da = 1.0 / b, db = -a / (b * b); break;
    case OP_ABS: y = fabs(a), da = a > 0.0 ? 1.0 : a < 0.0 ? -1.0 : 0.0; break;
    case OP_MAX: y = a >= b ? a : b, da = a >= b, db = a < b; break;
    case OP_MIN: y = a <= b ? a : b, da = a <= b, db = a > b; break;
    default: break;
    }
    for (int r = 0; r < n; r++)
        g[r] = da * ga[r] + (nd->b >= 0 ? db * gb[r] : 0.0);
    return y;
}

static cn_status combine_setup(cn_loss *loss, cn_sec *s, cn_error *err)
{
    combine_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "loss '%s': out of memory", loss->name);
    loss->state = st;
    const char *text;
    cn_status rc = cn_sec_str(s, "expr", &text, err);
    if (rc)
        return rc;
    if (!text || !*text)
        return cn_sec_errorf(s, CN_ERR_CFG, err, "needs key 'expr', an expression over the "
                             "losses above (e.g. expr = a + b + abs(a - b))");
    parser ps = {.st = st, .loss = loss, .text = text, .p = text, .s = s, .err = err};
    st->root = parse_sum(&ps);
    skip_space(&ps);
    if (*ps.p)
        fail(&ps, "unexpected text");
    return ps.rc;
}

static double combine_forward(cn_loss *loss, const cn_ctx *ctx)
{
    (void)ctx;
    combine_state *st = loss->state;
    double v[MAX_REFS];
    for (int i = 0; i < st->n_refs; i++)
        v[i] = st->refs[i]->weight * st->refs[i]->value;
    return eval(st, st->root, v, st->grad);
}

static void combine_backward(cn_loss *loss, const cn_ctx *ctx)
{
    const combine_state *st = loss->state;
    for (int i = 0; i < st->n_refs; i++) {
        cn_loss *r = st->refs[i];
        float w = r->weight;
        if (st->grad[i] == 0.0)
            continue;
        r->weight = (float)(loss->weight * st->grad[i] * w);
        r->ops->backward(r, ctx);
        r->weight = w;
    }
}

static void combine_destroy(cn_loss *loss)
{
    free(loss->state);
    loss->state = NULL;
}

const cn_loss_ops cn_loss_combine = {
    .type = "combine",
    .keys = keys,
    .doc = "an expression over the values of losses above (e.g. c + g + abs(c - g)); "
           "the losses it names count only through it",
    .targets = CN_TARGETS(CN_TARGET_NONE),
    .target_default = CN_TARGET_NONE,
    .setup = combine_setup,
    .forward = combine_forward,
    .backward = combine_backward,
    .destroy = combine_destroy,
};
