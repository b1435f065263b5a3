/* parse.c - scenario documents to the scenario model (scenario.h).
 *
 * Every mapping of the format is checked against a declared list of keys and the kinds of value
 * each accepts (the h2o configurator's idea): unknown keys are errors with a did-you-mean hint,
 * wrong kinds say what was expected and what was found. Every problem is reported, not only the
 * first; a document with any error yields no model. Checks that need the OpenAPI model or the
 * order of steps (operationIds, variables) are in check.c. */
#include "scenario.h"
#include "scenario_impl.h"

#include "core/alloc.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- context and reporting ------------------------------------------------------------------ */

struct pctx {
    struct ct_arena *a;
    struct ct_diags *diags;
    bool failed;
};

static struct ct_diag *err_at(struct pctx *p, const struct ct_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static struct ct_diag *err_at(struct pctx *p, const struct ct_node *at, const char *fmt, ...)
{
    p->failed = true;
    va_list ap;
    va_start(ap, fmt);
    struct ct_diag *g = ct_diag_atv(p->diags, CT_SEV_ERROR, CT_E_SCENARIO, at, fmt, ap);
    va_end(ap);
    return g;
}

/* What a node is, in the words of a YAML author, with its value when it is short: "an integer
 * -1", "a string 'soon'", "an empty list". Returned by value so that GOT(n) can sit inside a
 * printf argument list (the temporary lives until the end of the full expression). */
struct got {
    char s[96];
};

static struct got got_text(const struct ct_node *n)
{
    struct got g;
    switch (n->kind) {
    case CT_NULL:
        snprintf(g.s, sizeof(g.s), "null");
        break;
    case CT_BOOL:
        snprintf(g.s, sizeof(g.s), "%s", n->flags & CT_NF_TRUE ? "true" : "false");
        break;
    case CT_NUMBER:
        snprintf(g.s, sizeof(g.s), "%s %.40s", ct_num_is_integer(n) ? "an integer" : "a number",
                 n->u.text);
        break;
    case CT_STRING: {
        /* Cut at 40 bytes without splitting a UTF-8 sequence. */
        size_t len = n->len;
        if (len > 40) {
            len = 40;
            while (len > 0 && ((unsigned char)n->u.str[len] & 0xC0) == 0x80)
                len--;
        }
        snprintf(g.s, sizeof(g.s), "a string '%.*s%s'", (int)len, n->u.str,
                 len < n->len ? "..." : "");
        break;
    }
    case CT_ARRAY:
        snprintf(g.s, sizeof(g.s), "%s", n->len ? "a list" : "an empty list");
        break;
    default:
        snprintf(g.s, sizeof(g.s), "%s", n->len ? "a mapping" : "an empty mapping");
        break;
    }
    return g;
}

#define GOT(n) (got_text(n).s)

/* Value kinds a key accepts. */
enum {
    K_NULL = 1 << CT_NULL,
    K_BOOL = 1 << CT_BOOL,
    K_NUM = 1 << CT_NUMBER,
    K_STR = 1 << CT_STRING,
    K_ARR = 1 << CT_ARRAY,
    K_OBJ = 1 << CT_OBJECT,
    K_ANY = 0x3f,
};

static void kinds_text(unsigned kinds, char *out, size_t cap)
{
    static const char *const names[] = {"null", "a boolean", "a number",
                                        "a string", "a list", "a mapping"};
    if (kinds == K_ANY) {
        snprintf(out, cap, "any value");
        return;
    }
    size_t n = 0, total = 0;
    for (unsigned k = 0; k < 6; k++)
        total += (kinds >> k) & 1;
    out[0] = '\0';
    for (unsigned k = 0; k < 6; k++) {
        if (!((kinds >> k) & 1))
            continue;
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s%s", n == 0 ? "" : n + 1 == total ? " or " : ", ", names[k]);
        n++;
    }
}

struct field {
    const char *name;
    unsigned kinds;
};

/* Check every key of `obj` against `fields`; report unknown keys (with did-you-mean) and values
 * of the wrong kind. Returns false when anything was wrong. */
static bool check_fields(struct pctx *p, const struct ct_node *obj, const char *what,
                         const struct field *f, size_t nf)
{
    bool ok = true;
    const char *names[48];
    for (size_t j = 0; j < nf && j < 48; j++)
        names[j] = f[j].name;
    for (uint32_t i = 0; i < obj->len; i++) {
        const struct ct_node *k = obj->u.members[i].key, *v = obj->u.members[i].val;
        const struct field *hit = NULL;
        for (size_t j = 0; j < nf && !hit; j++)
            if (!strcmp(k->u.str, f[j].name))
                hit = &f[j];
        if (!hit) {
            struct ct_diag *g = err_at(p, k, "unknown key '%s' in %s", k->u.str, what);
            const char *best = ct_did_you_mean(k->u.str, names, nf < 48 ? nf : 48);
            if (best) {
                ct_diag_set_hint(g, "did you mean '%s'?", best);
            } else {
                char list[512] = "";
                for (size_t j = 0; j < nf; j++) {
                    size_t l = strlen(list);
                    snprintf(list + l, sizeof(list) - l, "%s'%s'", j ? ", " : "", f[j].name);
                }
                ct_diag_set_hint(g, "%s takes %s", what, list);
            }
            ok = false;
            continue;
        }
        if (!((hit->kinds >> v->kind) & 1)) {
            char want[96];
            kinds_text(hit->kinds, want, sizeof(want));
            err_at(p, v, "'%s' in %s: expected %s, got %s", k->u.str, what, want, GOT(v));
            ok = false;
        }
    }
    return ok;
}

/* The value of `key` when it has one of `kinds` (check_fields reported the others). */
static const struct ct_node *get(const struct ct_node *obj, const char *key, unsigned kinds)
{
    const struct ct_node *v = ct_obj_get(obj, key);
    return v && ((kinds >> v->kind) & 1) ? v : NULL;
}

static const char *get_str(const struct ct_node *obj, const char *key)
{
    const struct ct_node *v = get(obj, key, K_STR);
    return v ? v->u.str : NULL;
}

static void *alloc_n(struct pctx *p, size_t n, size_t size)
{
    return n ? ct_arena_zalloc(p->a, n * size) : NULL;
}

static struct ct_diag *err_in(struct pctx *p, const struct ct_node *n, size_t off, const char *fmt,
                              ...) __attribute__((format(printf, 4, 5)));

static struct ct_diag *err_in(struct pctx *p, const struct ct_node *n, size_t off, const char *fmt,
                              ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct ct_node at;
    ct__scen_locate(n, off, &at);
    return err_at(p, &at, "%s", msg);
}

/* --- small values --------------------------------------------------------------------------- */

/* Durations: an integer of milliseconds, or a string "250ms", "2s", "1.5s", "1m". */
static bool parse_duration(struct pctx *p, const struct ct_node *n, const char *what, uint32_t *ms)
{
    if (n->kind == CT_NUMBER && ct_num_is_integer(n) && n->num >= 0 && n->num <= 86400000.0) {
        *ms = (uint32_t)n->num;
        return true;
    }
    if (n->kind == CT_STRING) {
        const char *s = n->u.str;
        char *end = NULL;
        double v = strtod(s, &end);
        if (end != s && v >= 0 && s[0] != '+' && s[0] != '-') {
            double mul = 0;
            if (!strcmp(end, "ms"))
                mul = 1;
            else if (!strcmp(end, "s"))
                mul = 1000;
            else if (!strcmp(end, "m") || !strcmp(end, "min"))
                mul = 60000;
            if (mul > 0 && v * mul <= 86400000.0) {
                *ms = (uint32_t)(v * mul + 0.5);
                return true;
            }
        }
    }
    err_at(p, n, "%s: expected a duration (milliseconds, or a string like '250ms', '2s', '1m'), "
                 "got %s",
           what, GOT(n));
    return false;
}

static bool valid_name(const char *s)
{
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (const char *c = s + 1; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-'))
            return false;
    return true;
}

/* A variable name being defined (vars, capture). */
static bool check_var_name(struct pctx *p, const struct ct_node *k)
{
    if (!valid_name(k->u.str)) {
        err_at(p, k, "variable name '%s': expected letters, digits, '_' or '-', starting with a "
                     "letter or '_'",
               k->u.str);
        return false;
    }
    if (!strcmp(k->u.str, "env") || !strcmp(k->u.str, "run")) {
        err_at(p, k, "variable name '%s' is reserved (${%s.NAME} reads %s)", k->u.str, k->u.str,
               k->u.str[0] == 'e' ? "the environment" : "run values");
        return false;
    }
    return true;
}

/* Every ${...} inside the strings of `n` (keys included) must be well formed. */
static void check_templates(struct pctx *p, const struct ct_node *n)
{
    if (n->kind == CT_STRING) {
        size_t pos = 0;
        struct ct_tpl_part part;
        int r;
        while ((r = ct_tpl_next(n->u.str, n->len, &pos, &part)) != 0) {
            if (r < 0) {
                err_in(p, n, part.off,
                       "unterminated or empty '${': expected '${name}' (write '$${' for a "
                       "literal '${')");
                return;
            }
            if (!part.var)
                continue;
            struct ct_var_ref ref;
            const char *e = NULL;
            if (!ct_var_ref_parse(part.ptr, part.len, &ref, &e)) {
                err_in(p, n, part.off, "'${%.*s}': %s", (int)part.len, part.ptr, e);
                continue;
            }
            if (ref.path) {
                struct ct_buf tmp;
                ct_buf_init(&tmp, 0);
                size_t eo = 0;
                if (!ct_scen_path_parse(ref.path, ref.pathlen, &tmp, &e, &eo))
                    err_in(p, n, part.off, "'${%.*s}': %s", (int)part.len, part.ptr, e);
                ct_buf_deinit(&tmp);
            }
        }
    } else if (n->kind == CT_ARRAY) {
        for (uint32_t i = 0; i < n->len; i++)
            check_templates(p, n->u.items[i]);
    } else if (n->kind == CT_OBJECT) {
        for (uint32_t i = 0; i < n->len; i++) {
            check_templates(p, n->u.members[i].key);
            check_templates(p, n->u.members[i].val);
        }
    }
}

static bool valid_tag(const char *s)
{
    if (!*s)
        return false;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-' || *c == '.' || *c == ':' || *c == '/'))
            return false;
    return true;
}

/* `tags: [a, b]` or `tags: a`. */
static void parse_tags(struct pctx *p, const struct ct_node *n, const char ***tags, unsigned *ntags)
{
    *tags = NULL;
    *ntags = 0;
    if (!n)
        return;
    const struct ct_node *one[1] = {n};
    const struct ct_node *const *items = n->kind == CT_ARRAY ? (const struct ct_node *const *)n->u.items : one;
    uint32_t count = n->kind == CT_ARRAY ? n->len : 1;
    *tags = alloc_n(p, count, sizeof(char *));
    for (uint32_t i = 0; i < count; i++) {
        const struct ct_node *t = items[i];
        if (t->kind != CT_STRING) {
            err_at(p, t, "tag: expected a string, got %s", GOT(t));
            continue;
        }
        if (!valid_tag(t->u.str)) {
            err_at(p, t, "tag '%s': expected letters, digits and '_', '-', '.', ':' or '/' "
                         "(no blanks, commas or '!')",
                   t->u.str);
            continue;
        }
        (*tags)[(*ntags)++] = t->u.str;
    }
}

/* --- paths and sources ---------------------------------------------------------------------- */

static const char *parse_path(struct pctx *p, const struct ct_node *n, const char *text,
                              size_t len, size_t off)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    const char *e = NULL;
    size_t eo = 0;
    if (!ct_scen_path_parse(text, len, &b, &e, &eo)) {
        struct ct_diag *g = err_in(p, n, off + eo, "path '%.*s': %s", (int)len, text, e);
        if (len && text[0] != '.' && text[0] != '/' && text[0] != '[')
            ct_diag_set_hint(g, "did you mean '.%.*s'?", (int)len, text);
        ct_buf_deinit(&b);
        return NULL;
    }
    const char *out = ct_arena_strndup(p->a, b.ptr ? b.ptr : "", b.len);
    ct_buf_deinit(&b);
    return out;
}

/* A source string: ".data.id", "/data/id", "status", "text", "header NAME". */
static bool parse_source(struct pctx *p, const struct ct_node *n, struct ct_scen_source *src)
{
    memset(src, 0, sizeof(*src));
    if (n->kind != CT_STRING) {
        err_at(p, n, "expected a source ('.data.id', '/data/id', 'status', 'text' or "
                     "'header NAME'), got %s",
               GOT(n));
        return false;
    }
    const char *s = n->u.str;
    src->written = s;
    src->arg = "";
    if (!strcmp(s, "status")) {
        src->kind = CT_SRC_STATUS;
        return true;
    }
    if (!strcmp(s, "text")) {
        src->kind = CT_SRC_TEXT;
        return true;
    }
    if (!strncmp(s, "header ", 7) || !strncmp(s, "header:", 7)) {
        const char *h = s + 7;
        while (*h == ' ')
            h++;
        if (!*h) {
            err_at(p, n, "'%s': expected a header name after 'header'", s);
            return false;
        }
        src->kind = CT_SRC_HEADER;
        src->arg = h;
        return true;
    }
    if (s[0] == '.' || s[0] == '/' || s[0] == '[') {
        src->kind = CT_SRC_BODY;
        src->arg = parse_path(p, n, s, n->len, 0);
        return src->arg != NULL;
    }
    struct ct_diag *g = err_at(p, n, "'%s': expected a body path ('.data.id' or '/data/id'), "
                                     "'status', 'text' or 'header NAME'",
                               s);
    static const char *const words[] = {"status", "text", "header"};
    const char *best = ct_did_you_mean(s, words, 3);
    if (best)
        ct_diag_set_hint(g, "did you mean '%s'?", best);
    else
        ct_diag_set_hint(g, "did you mean '.%s'?", s);
    return false;
}

/* --- matchers ------------------------------------------------------------------------------- */

static const char *const match_names[] = {
    "equals", "not_equals", "one_of",       "matches", "type", "length", "min_length",
    "max_length", "contains", "not_contains", "exists", "gt",  "gte",  "lt",
    "lte",
};
#define NMATCH (sizeof(match_names) / sizeof(match_names[0]))

static const char *const type_names[] = {"null",   "boolean", "integer", "number",
                                         "string", "array",   "object"};

static bool parse_type_name(struct pctx *p, const struct ct_node *t, unsigned *bits)
{
    if (t->kind != CT_STRING) {
        err_at(p, t, "type: expected a type name, got %s", GOT(t));
        return false;
    }
    for (unsigned i = 0; i < 7; i++)
        if (!strcmp(t->u.str, type_names[i])) {
            *bits |= 1u << i;
            return true;
        }
    struct ct_diag *g = err_at(p, t, "unknown type '%s': expected null, boolean, integer, number, "
                                     "string, array or object",
                               t->u.str);
    const char *best = ct_did_you_mean(t->u.str, type_names, 7);
    if (!best && (!strcmp(t->u.str, "list") || !strcmp(t->u.str, "sequence")))
        best = "array";
    if (!best && (!strcmp(t->u.str, "mapping") || !strcmp(t->u.str, "map") ||
                  !strcmp(t->u.str, "dict")))
        best = "object";
    if (best)
        ct_diag_set_hint(g, "did you mean '%s'?", best);
    return false;
}

static bool is_template_str(const struct ct_node *n)
{
    return n->kind == CT_STRING && ct_tpl_has_vars(n->u.str, n->len);
}

/* A matcher value: a mapping of matcher keys, or any other value meaning `equals`. */
static bool parse_matcher(struct pctx *p, const struct ct_node *v, struct ct_scen_check *c)
{
    /* The slot may hold a matcher list that failed before (its check was not counted, so the
     * next check reuses the slot): start it afresh. */
    c->m = NULL;
    c->nm = 0;
    check_templates(p, v);
    if (v->kind != CT_OBJECT) {
        c->m = ct_arena_zalloc(p->a, sizeof(*c->m));
        c->m[0].op = CT_M_EQUALS;
        c->m[0].arg = v;
        c->m[0].at = v;
        c->nm = 1;
        return true;
    }
    if (v->len == 0) {
        struct ct_diag *g = err_at(p, v, "expected at least one matcher (equals, matches, type, "
                                         "length, contains, exists, gt, ...), got an empty mapping");
        ct_diag_set_hint(g, "to compare with an empty mapping, write '{equals: {}}'");
        return false;
    }
    c->m = alloc_n(p, v->len, sizeof(*c->m));
    bool ok = true;
    for (uint32_t i = 0; i < v->len; i++) {
        const struct ct_node *k = v->u.members[i].key, *a = v->u.members[i].val;
        int op = -1;
        for (unsigned j = 0; j < NMATCH; j++)
            if (!strcmp(k->u.str, match_names[j]))
                op = (int)j;
        if (op < 0) {
            struct ct_diag *g = err_at(p, k, "unknown matcher '%s'", k->u.str);
            const char *best = ct_did_you_mean(k->u.str, match_names, NMATCH);
            if (best)
                ct_diag_set_hint(g, "did you mean '%s'?", best);
            else
                ct_diag_set_hint(g, "a mapping here holds matchers (equals, not_equals, one_of, "
                                    "matches, type, length, min_length, max_length, contains, "
                                    "not_contains, exists, gt, gte, lt, lte); to compare with a "
                                    "mapping, write '{equals: {...}}'");
            ok = false;
            continue;
        }
        struct ct_scen_match *m = &c->m[c->nm];
        m->op = (enum ct_match_op)op;
        m->arg = a;
        m->at = k;
        bool good = true;
        switch (m->op) {
        case CT_M_EQUALS:
        case CT_M_NOT_EQUALS:
        case CT_M_CONTAINS:
        case CT_M_NOT_CONTAINS:
            break;
        case CT_M_ONE_OF:
            if (a->kind != CT_ARRAY || a->len == 0) {
                err_at(p, a, "one_of: expected a non-empty list of values, got %s", GOT(a));
                good = false;
            }
            break;
        case CT_M_MATCHES:
            if (a->kind != CT_STRING) {
                err_at(p, a, "matches: expected a regular expression string, got %s", GOT(a));
                good = false;
            }
            break;
        case CT_M_TYPE:
            if (a->kind == CT_ARRAY && a->len > 0) {
                for (uint32_t t = 0; t < a->len; t++)
                    good = parse_type_name(p, a->u.items[t], &m->types) && good;
            } else if (a->kind == CT_STRING) {
                good = parse_type_name(p, a, &m->types);
            } else {
                err_at(p, a, "type: expected a type name or a list of them, got %s", GOT(a));
                good = false;
            }
            break;
        case CT_M_LENGTH:
        case CT_M_MIN_LENGTH:
        case CT_M_MAX_LENGTH:
            if (!(a->kind == CT_NUMBER && ct_num_is_integer(a) && !(a->flags & CT_NF_NEG)) &&
                !is_template_str(a)) {
                err_at(p, a, "%s: expected a non-negative integer, got %s", k->u.str, GOT(a));
                good = false;
            }
            break;
        case CT_M_EXISTS:
            if (a->kind != CT_BOOL) {
                err_at(p, a, "exists: expected true or false, got %s", GOT(a));
                good = false;
            }
            m->exists = a->kind == CT_BOOL && (a->flags & CT_NF_TRUE);
            break;
        case CT_M_GT:
        case CT_M_GTE:
        case CT_M_LT:
        case CT_M_LTE:
            if (a->kind != CT_NUMBER && !is_template_str(a)) {
                err_at(p, a, "%s: expected a number, got %s", k->u.str, GOT(a));
                good = false;
            }
            break;
        }
        if (good)
            c->nm++;
        ok = ok && good;
    }
    return ok;
}

/* --- expectations --------------------------------------------------------------------------- */

static bool parse_status_one(struct pctx *p, const struct ct_node *n, struct ct_scen_status *st)
{
    if (n->kind == CT_NUMBER && ct_num_is_integer(n) && n->num >= 100 && n->num <= 599) {
        st->lo = st->hi = (uint16_t)n->num;
        return true;
    }
    if (n->kind == CT_STRING && n->len == 3 && n->u.str[0] >= '1' && n->u.str[0] <= '5' &&
        (n->u.str[1] == 'X' || n->u.str[1] == 'x') && (n->u.str[2] == 'X' || n->u.str[2] == 'x')) {
        st->lo = (uint16_t)((n->u.str[0] - '0') * 100);
        st->hi = (uint16_t)(st->lo + 99);
        return true;
    }
    if (n->kind == CT_STRING && n->len == 3 && n->u.str[0] >= '1' && n->u.str[0] <= '5' &&
        n->u.str[1] >= '0' && n->u.str[1] <= '9' && n->u.str[2] >= '0' && n->u.str[2] <= '9') {
        st->lo = st->hi = (uint16_t)((n->u.str[0] - '0') * 100 + (n->u.str[1] - '0') * 10 +
                                     (n->u.str[2] - '0'));
        return true;
    }
    err_at(p, n, "status: expected a status code (100 to 599) or a range like '4XX', got %s",
           GOT(n));
    return false;
}

/* Body checks: a mapping of path -> matcher (expect.body, SSE events, WS frames). */
static void parse_body_checks(struct pctx *p, const struct ct_node *body, struct ct_scen_check *out,
                              unsigned *n)
{
    for (uint32_t i = 0; i < body->len; i++) {
        const struct ct_node *k = body->u.members[i].key, *v = body->u.members[i].val;
        struct ct_scen_check *c = &out[*n];
        memset(c, 0, sizeof(*c));
        c->src.kind = CT_SRC_BODY;
        c->src.written = k->u.str;
        c->at = k;
        c->src.arg = parse_path(p, k, k->u.str, k->len, 0);
        if (!c->src.arg)
            continue;
        if (parse_matcher(p, v, c))
            (*n)++;
    }
}

static const struct field expect_fields[] = {
    {"status", K_NUM | K_STR | K_ARR}, {"headers", K_OBJ}, {"body", K_OBJ},
    {"text", K_ANY},                   {"max_time", K_NUM | K_STR},
};

static void parse_expect(struct pctx *p, const struct ct_node *n, const char *what,
                         struct ct_scen_expect *e)
{
    memset(e, 0, sizeof(*e));
    e->node = n;
    if (n->kind != CT_OBJECT) {
        err_at(p, n, "%s: expected a mapping (status, headers, body, text, max_time), got %s",
               what, GOT(n));
        return;
    }
    check_fields(p, n, what, expect_fields, sizeof(expect_fields) / sizeof(expect_fields[0]));
    const struct ct_node *st = get(n, "status", K_NUM | K_STR | K_ARR);
    if (st) {
        uint32_t cnt = st->kind == CT_ARRAY ? st->len : 1;
        if (cnt == 0)
            err_at(p, st, "status: expected a status code or a non-empty list of them, got an "
                          "empty list");
        e->status = alloc_n(p, cnt, sizeof(*e->status));
        for (uint32_t i = 0; i < cnt; i++) {
            const struct ct_node *one = st->kind == CT_ARRAY ? st->u.items[i] : st;
            if (parse_status_one(p, one, &e->status[e->nstatus]))
                e->nstatus++;
        }
    }
    const struct ct_node *h = get(n, "headers", K_OBJ), *b = get(n, "body", K_OBJ),
                         *t = ct_obj_get(n, "text"), *mt = ct_obj_get(n, "max_time");
    unsigned cap = (h ? h->len : 0) + (b ? b->len : 0) + (t ? 1 : 0);
    e->checks = alloc_n(p, cap, sizeof(*e->checks));
    if (h) {
        for (uint32_t i = 0; i < h->len; i++) {
            const struct ct_node *k = h->u.members[i].key;
            struct ct_scen_check *c = &e->checks[e->nchecks];
            memset(c, 0, sizeof(*c));
            c->src.kind = CT_SRC_HEADER;
            c->src.arg = k->u.str;
            c->src.written = k->u.str;
            c->at = k;
            if (parse_matcher(p, h->u.members[i].val, c))
                e->nchecks++;
        }
    }
    if (b)
        parse_body_checks(p, b, e->checks, &e->nchecks);
    if (t) {
        struct ct_scen_check *c = &e->checks[e->nchecks];
        memset(c, 0, sizeof(*c));
        c->src.kind = CT_SRC_TEXT;
        c->src.arg = "";
        c->src.written = "text";
        c->at = ct_obj_member(n, "text")->key;
        if (parse_matcher(p, t, c))
            e->nchecks++;
    }
    if (mt)
        parse_duration(p, mt, "max_time", &e->max_time_ms);
}

static const struct field capture_fields[] = {{"from", K_STR}, {"match", K_STR}};

static void parse_captures(struct pctx *p, const struct ct_node *n, struct ct_scen_capture **out,
                           unsigned *nout)
{
    *out = alloc_n(p, n->len, sizeof(**out));
    *nout = 0;
    for (uint32_t i = 0; i < n->len; i++) {
        const struct ct_node *k = n->u.members[i].key, *v = n->u.members[i].val;
        struct ct_scen_capture *c = &(*out)[*nout];
        c->var = k->u.str;
        c->at = k;
        bool ok = check_var_name(p, k);
        if (v->kind == CT_OBJECT) {
            ok = check_fields(p, v, "a capture", capture_fields, 2) && ok;
            const struct ct_node *from = get(v, "from", K_STR);
            if (!from) {
                if (!ct_obj_get(v, "from"))
                    err_at(p, v, "capture '%s' has no 'from': expected a source ('.data.id', "
                                 "'header Location', 'status' or 'text')",
                           k->u.str);
                continue;
            }
            ok = parse_source(p, from, &c->src) && ok;
            c->regex_at = get(v, "match", K_STR);
            c->regex = c->regex_at ? c->regex_at->u.str : NULL;
        } else {
            ok = parse_source(p, v, &c->src) && ok;
        }
        if (ok)
            (*nout)++;
    }
}

/* --- request bodies ------------------------------------------------------------------------- */

static const struct field part_fields[] = {
    {"name", K_STR},     {"value", K_STR | K_NUM | K_BOOL | K_OBJ | K_ARR | K_NULL},
    {"file", K_STR},     {"filename", K_STR},
    {"content_type", K_STR},
};

static void parse_multipart(struct pctx *p, const struct ct_node *n, struct ct_scen_http *h)
{
    h->parts = alloc_n(p, n->len, sizeof(*h->parts));
    if (n->len == 0)
        err_at(p, n, "multipart: expected a list of parts, got an empty list");
    for (uint32_t i = 0; i < n->len; i++) {
        const struct ct_node *pn = n->u.items[i];
        if (pn->kind != CT_OBJECT) {
            err_at(p, pn, "multipart part: expected a mapping (name, value or file, filename, "
                          "content_type), got %s",
                   GOT(pn));
            continue;
        }
        check_fields(p, pn, "a multipart part", part_fields,
                     sizeof(part_fields) / sizeof(part_fields[0]));
        check_templates(p, pn);
        struct ct_scen_part *part = &h->parts[h->nparts];
        part->at = pn;
        part->name = get(pn, "name", K_STR);
        part->value = ct_obj_get(pn, "value");
        part->file = get(pn, "file", K_STR);
        part->filename = get(pn, "filename", K_STR);
        part->content_type = get(pn, "content_type", K_STR);
        if (!part->name) {
            if (!ct_obj_get(pn, "name"))
                err_at(p, pn, "multipart part has no 'name': expected the form field name");
            continue;
        }
        if (!!part->value == !!ct_obj_get(pn, "file")) {
            err_at(p, pn, "multipart part '%s': expected exactly one of 'value' or 'file'",
                   part->name->u.str);
            continue;
        }
        if (part->filename && !part->file)
            err_at(p, ct_obj_member(pn, "filename")->key,
                   "'filename' applies to file parts: part '%s' has a 'value'", part->name->u.str);
        h->nparts++;
    }
}

/* --- streams -------------------------------------------------------------------------------- */

static const struct field sse_fields[] = {
    {"events", K_ARR},          {"join", K_STR},  {"count", K_ANY}, {"text", K_ANY},
    {"first_event", K_NUM | K_STR}, {"total", K_NUM | K_STR}, {"capture", K_STR},
};

static struct ct_scen_sse *parse_sse(struct pctx *p, const struct ct_node *n)
{
    struct ct_scen_sse *s = ct_arena_zalloc(p->a, sizeof(*s));
    s->node = n;
    check_fields(p, n, "sse", sse_fields, sizeof(sse_fields) / sizeof(sse_fields[0]));
    const struct ct_node *ev = get(n, "events", K_ARR), *v;
    if (ev) {
        s->events = alloc_n(p, ev->len, sizeof(*s->events));
        for (uint32_t i = 0; i < ev->len; i++) {
            const struct ct_node *e = ev->u.items[i];
            if (e->kind != CT_OBJECT) {
                err_at(p, e, "sse event: expected a mapping of body paths to matchers, got %s",
                       GOT(e));
                continue;
            }
            struct ct_scen_expect *x = &s->events[s->nevents++];
            x->node = e;
            x->checks = alloc_n(p, e->len, sizeof(*x->checks));
            parse_body_checks(p, e, x->checks, &x->nchecks);
        }
    }
    if ((v = get(n, "join", K_STR)))
        s->join = parse_path(p, v, v->u.str, v->len, 0);
    if ((v = ct_obj_get(n, "count"))) {
        s->count.src.kind = CT_SRC_TEXT;
        s->count.src.written = "count";
        s->count.at = ct_obj_member(n, "count")->key;
        parse_matcher(p, v, &s->count);
    }
    if ((v = ct_obj_get(n, "text"))) {
        if (!s->join && !ct_obj_get(n, "join"))
            err_at(p, ct_obj_member(n, "text")->key,
                   "sse 'text' needs 'join': the path of the text inside each event");
        s->text.src.kind = CT_SRC_TEXT;
        s->text.src.written = "text";
        s->text.at = ct_obj_member(n, "text")->key;
        parse_matcher(p, v, &s->text);
    }
    if ((v = ct_obj_get(n, "first_event")))
        parse_duration(p, v, "first_event", &s->first_event_ms);
    if ((v = ct_obj_get(n, "total")))
        parse_duration(p, v, "total", &s->total_ms);
    if ((v = get(n, "capture", K_STR))) {
        if (check_var_name(p, v))
            s->capture = v->u.str;
        if (!ct_obj_get(n, "join"))
            err_at(p, v, "sse 'capture' needs 'join': the path of the text inside each event");
    }
    return s;
}

static const struct field frame_fields[] = {
    {"type", K_STR}, {"body", K_OBJ}, {"capture", K_OBJ}, {"timeout", K_NUM | K_STR},
};

static bool parse_frame(struct pctx *p, const struct ct_node *n, struct ct_scen_frame *f)
{
    memset(f, 0, sizeof(*f));
    f->at = n;
    if (n->kind != CT_OBJECT) {
        err_at(p, n, "frame: expected a mapping (type, body, capture, timeout), got %s", GOT(n));
        return false;
    }
    check_fields(p, n, "a frame", frame_fields, sizeof(frame_fields) / sizeof(frame_fields[0]));
    f->type = get_str(n, "type");
    const struct ct_node *b = get(n, "body", K_OBJ), *c = get(n, "capture", K_OBJ),
                         *t = ct_obj_get(n, "timeout");
    f->expect.node = n;
    if (b) {
        f->expect.checks = alloc_n(p, b->len, sizeof(*f->expect.checks));
        parse_body_checks(p, b, f->expect.checks, &f->expect.nchecks);
    }
    if (c)
        parse_captures(p, c, &f->captures, &f->ncaptures);
    if (t)
        parse_duration(p, t, "timeout", &f->timeout_ms);
    return true;
}

static const char *const ws_actions[] = {"send",    "send_text",    "expect", "expect_unordered",
                                         "collect", "expect_close", "close",  "wait"};

static const struct field collect_fields[] = {
    {"type", K_STR}, {"join", K_STR},    {"until", K_OBJ},
    {"text", K_ANY}, {"capture", K_STR}, {"timeout", K_NUM | K_STR},
};

static bool parse_close_code(struct pctx *p, const struct ct_node *n, uint16_t *code)
{
    if (n->kind == CT_NUMBER && ct_num_is_integer(n) && n->num >= 1000 && n->num <= 4999) {
        *code = (uint16_t)n->num;
        return true;
    }
    err_at(p, n, "close code: expected an integer from 1000 to 4999, got %s", GOT(n));
    return false;
}

static void parse_ws_action(struct pctx *p, const struct ct_node *n, struct ct_scen_ws_action *a)
{
    memset(a, 0, sizeof(*a));
    a->at = n;
    if (n->kind != CT_OBJECT) {
        err_at(p, n, "ws action: expected a mapping with one of send, send_text, expect, "
                     "expect_unordered, collect, expect_close, close, wait; got %s",
               GOT(n));
        return;
    }
    int kind = -1;
    const struct ct_node *arg = NULL, *timeout = NULL;
    for (uint32_t i = 0; i < n->len; i++) {
        const struct ct_node *k = n->u.members[i].key;
        if (!strcmp(k->u.str, "timeout")) {
            timeout = n->u.members[i].val;
            continue;
        }
        int found = -1;
        for (int j = 0; j < 8; j++)
            if (!strcmp(k->u.str, ws_actions[j]))
                found = j;
        if (found < 0) {
            struct ct_diag *g = err_at(p, k, "unknown key '%s' in a ws action", k->u.str);
            const char *best = ct_did_you_mean(k->u.str, ws_actions, 8);
            ct_diag_set_hint(g, best ? "did you mean '%s'?" : "%s",
                             best ? best
                                  : "an action is one of send, send_text, expect, "
                                    "expect_unordered, collect, expect_close, close, wait");
            continue;
        }
        if (kind >= 0) {
            err_at(p, k, "a ws action does one thing: found '%s' after '%s'", k->u.str,
                   ws_actions[kind]);
            continue;
        }
        kind = found;
        arg = n->u.members[i].val;
    }
    if (kind < 0) {
        if (!p->failed)
            err_at(p, n, "ws action: expected one of send, send_text, expect, expect_unordered, "
                         "collect, expect_close, close, wait");
        return;
    }
    a->kind = (enum ct_ws_kind)kind;
    if (timeout)
        parse_duration(p, timeout, "timeout", &a->ms);
    switch (a->kind) {
    case CT_WS_SEND:
        check_templates(p, arg);
        a->payload = arg;
        break;
    case CT_WS_SEND_TEXT:
        if (arg->kind != CT_STRING)
            err_at(p, arg, "send_text: expected a string, got %s", GOT(arg));
        check_templates(p, arg);
        a->payload = arg;
        break;
    case CT_WS_EXPECT:
    case CT_WS_EXPECT_UNORDERED: {
        if (a->kind == CT_WS_EXPECT_UNORDERED && (arg->kind != CT_ARRAY || arg->len == 0)) {
            err_at(p, arg, "expect_unordered: expected a non-empty list of frames, got %s",
                   GOT(arg));
            break;
        }
        uint32_t cnt = arg->kind == CT_ARRAY ? arg->len : 1;
        a->frames = alloc_n(p, cnt, sizeof(*a->frames));
        for (uint32_t i = 0; i < cnt; i++)
            if (parse_frame(p, arg->kind == CT_ARRAY ? arg->u.items[i] : arg,
                            &a->frames[a->nframes]))
                a->nframes++;
        break;
    }
    case CT_WS_COLLECT: {
        if (arg->kind != CT_OBJECT) {
            err_at(p, arg, "collect: expected a mapping (type, join, until, text, capture), got %s",
                   GOT(arg));
            break;
        }
        check_fields(p, arg, "collect", collect_fields,
                     sizeof(collect_fields) / sizeof(collect_fields[0]));
        a->frames = ct_arena_zalloc(p->a, sizeof(*a->frames));
        a->nframes = 1;
        a->frames[0].type = get_str(arg, "type");
        a->frames[0].at = arg;
        const struct ct_node *j = get(arg, "join", K_STR), *u = get(arg, "until", K_OBJ),
                             *t = ct_obj_get(arg, "text"), *c = get(arg, "capture", K_STR),
                             *to = ct_obj_get(arg, "timeout");
        if (j)
            a->join = parse_path(p, j, j->u.str, j->len, 0);
        else if (!ct_obj_get(arg, "join"))
            err_at(p, arg, "collect has no 'join': expected the path of the text in each frame");
        if (u) {
            struct ct_scen_check *tmp = alloc_n(p, u->len, sizeof(*tmp));
            unsigned nu = 0;
            parse_body_checks(p, u, tmp, &nu);
            /* The final frame is the first one for which every `until` check holds. */
            a->frames[0].expect.checks = tmp;
            a->frames[0].expect.nchecks = nu;
            a->frames[0].expect.node = u;
        } else if (!ct_obj_get(arg, "until")) {
            err_at(p, arg, "collect has no 'until': expected the checks of the final frame, "
                           "e.g. {.data.final: true}");
        }
        if (t) {
            a->text.src.kind = CT_SRC_TEXT;
            a->text.src.written = "text";
            a->text.at = ct_obj_member(arg, "text")->key;
            parse_matcher(p, t, &a->text);
        }
        if (c && check_var_name(p, c))
            a->capture = c->u.str;
        if (to)
            parse_duration(p, to, "timeout", &a->ms);
        break;
    }
    case CT_WS_EXPECT_CLOSE: {
        uint32_t cnt = arg->kind == CT_ARRAY ? arg->len : 1;
        if (cnt == 0 || cnt > 8) {
            err_at(p, arg, "expect_close: expected a close code or a list of 1 to 8 of them");
            break;
        }
        for (uint32_t i = 0; i < cnt; i++)
            if (parse_close_code(p, arg->kind == CT_ARRAY ? arg->u.items[i] : arg,
                                 &a->codes[a->ncodes]))
                a->ncodes++;
        break;
    }
    case CT_WS_CLOSE:
        if (arg->kind == CT_BOOL && (arg->flags & CT_NF_TRUE)) {
            a->codes[0] = 1000;
            a->ncodes = 1;
        } else if (parse_close_code(p, arg, &a->codes[0])) {
            a->ncodes = 1;
        }
        break;
    case CT_WS_WAIT:
        parse_duration(p, arg, "wait", &a->ms);
        break;
    }
}

static const struct field ws_fields[] = {
    {"channel", K_STR}, {"path", K_STR}, {"query", K_OBJ}, {"headers", K_OBJ}, {"do", K_ARR},
};

static void parse_ws(struct pctx *p, const struct ct_node *n, struct ct_scen_ws *ws)
{
    if (n->kind != CT_OBJECT) {
        err_at(p, n, "ws: expected a mapping (channel or path, query, headers, do), got %s",
               GOT(n));
        return;
    }
    check_fields(p, n, "ws", ws_fields, sizeof(ws_fields) / sizeof(ws_fields[0]));
    check_templates(p, n);
    ws->channel = get_str(n, "channel");
    ws->path = get(n, "path", K_STR);
    ws->query = get(n, "query", K_OBJ);
    ws->headers = get(n, "headers", K_OBJ);
    if (!!ws->channel == !!ws->path && !p->failed)
        err_at(p, n, "ws: expected exactly one of 'channel' (an AsyncAPI channel) or 'path'");
    const struct ct_node *d = get(n, "do", K_ARR);
    if (!d) {
        if (!ct_obj_get(n, "do"))
            err_at(p, n, "ws has no 'do': expected the list of actions (send, expect, ...)");
        return;
    }
    ws->actions = alloc_n(p, d->len, sizeof(*ws->actions));
    for (uint32_t i = 0; i < d->len; i++)
        parse_ws_action(p, d->u.items[i], &ws->actions[ws->nactions++]);
}

/* --- steps ---------------------------------------------------------------------------------- */

static void parse_block(struct pctx *p, const struct ct_node *n, const char *what,
                        struct ct_scen_block *b);

static const struct field repeat_fields[] = {
    {"until", K_OBJ}, {"max", K_NUM}, {"delay", K_NUM | K_STR}};

static void parse_repeat(struct pctx *p, const struct ct_node *n, struct ct_scen_repeat *r)
{
    r->node = n;
    if (n->kind == CT_NUMBER) {
        if (!ct_num_is_integer(n) || n->num < 1 || n->num > 100000) {
            err_at(p, n, "repeat: expected a count from 1 to 100000, got %s", GOT(n));
            return;
        }
        r->times = (unsigned)n->num;
        return;
    }
    check_fields(p, n, "repeat", repeat_fields, 3);
    const struct ct_node *u = get(n, "until", K_OBJ), *m = ct_obj_get(n, "max"),
                         *d = ct_obj_get(n, "delay");
    if (!u) {
        if (!ct_obj_get(n, "until"))
            err_at(p, n, "repeat has no 'until': expected the expectation that ends the polling "
                         "(write 'repeat: N' to run a step N times)");
        return;
    }
    r->poll = true;
    r->max = 10;
    r->delay_ms = 1000;
    parse_expect(p, u, "until", &r->until);
    if (m && m->kind == CT_NUMBER) {
        if (!ct_num_is_integer(m) || m->num < 1 || m->num > 100000)
            err_at(p, m, "max: expected a number of attempts from 1 to 100000, got %s", GOT(m));
        else
            r->max = (unsigned)m->num;
    }
    if (d)
        parse_duration(p, d, "delay", &r->delay_ms);
}

static const struct field http_fields[] = {
    {"name", K_STR},
    {"op", K_STR},
    {"method", K_STR},
    {"path", K_STR},
    {"params", K_OBJ},
    {"query", K_OBJ},
    {"headers", K_OBJ},
    {"auth", K_STR | K_BOOL},
    {"prefer", K_STR},
    {"json", K_ANY},
    {"form", K_OBJ},
    {"multipart", K_ARR},
    {"raw", K_STR},
    {"file", K_STR},
    {"content_type", K_STR},
    {"send_invalid", K_BOOL},
    {"timeout", K_NUM | K_STR},
    {"repeat", K_NUM | K_OBJ},
    {"expect", K_OBJ},
    {"capture", K_OBJ},
    {"sse", K_OBJ},
    {"tags", K_STR | K_ARR},
    {"skip", K_STR},
    {"if_set", K_STR | K_ARR},
};
#define NHTTP (sizeof(http_fields) / sizeof(http_fields[0]))

static const struct field group_fields[] = {
    {"group", K_STR}, {"steps", K_ARR}, {"tags", K_STR | K_ARR}, {"skip", K_STR},
    {"if_set", K_STR | K_ARR},
};

static const struct field wsstep_fields[] = {
    {"name", K_STR},  {"ws", K_OBJ},           {"timeout", K_NUM | K_STR},
    {"skip", K_STR},  {"tags", K_STR | K_ARR}, {"if_set", K_STR | K_ARR},
};

/* Every key any step may have, for did-you-mean when the kind of step is unclear. */
static const struct field any_step_fields[] = {
    {"name", K_ANY},         {"op", K_ANY},      {"method", K_ANY},  {"path", K_ANY},
    {"params", K_ANY},       {"query", K_ANY},   {"headers", K_ANY}, {"auth", K_ANY},
    {"prefer", K_ANY},       {"json", K_ANY},    {"form", K_ANY},    {"multipart", K_ANY},
    {"raw", K_ANY},          {"file", K_ANY},    {"content_type", K_ANY},
    {"send_invalid", K_ANY}, {"timeout", K_ANY}, {"repeat", K_ANY},  {"expect", K_ANY},
    {"capture", K_ANY},      {"sse", K_ANY},     {"tags", K_ANY},    {"skip", K_ANY},
    {"group", K_ANY},        {"steps", K_ANY},   {"ws", K_ANY},      {"if_set", K_ANY},
};

static const char *const body_keys[] = {"json", "form", "multipart", "raw", "file"};

static void parse_http(struct pctx *p, const struct ct_node *n, struct ct_scen_step *st)
{
    struct ct_scen_http *h = &st->http;
    h->method = -1;
    check_fields(p, n, "an HTTP step", http_fields, NHTTP);
    const struct ct_node *op = get(n, "op", K_STR), *method = get(n, "method", K_STR),
                         *path = get(n, "path", K_STR), *v;
    if (op && (method || path)) {
        err_at(p, ct_obj_member(n, method ? "method" : "path")->key,
               "'op' and '%s' are alternatives: name the operation by operationId, or give "
               "method and path",
               method ? "method" : "path");
    } else if (op) {
        h->op_id = op->u.str;
        h->op_at = op;
    } else if (method || path) {
        if (!method)
            err_at(p, n, "a step with 'path' needs 'method' too");
        else if (!path)
            err_at(p, n, "a step with 'method' needs 'path' too");
        if (method) {
            h->method = ct_http_method_parse(method->u.str, method->len);
            if (h->method < 0) {
                static const char *const ms[] = {"GET",     "PUT",  "POST",  "DELETE",
                                                 "OPTIONS", "HEAD", "PATCH", "TRACE"};
                struct ct_diag *g = err_at(p, method, "unknown HTTP method '%s'", method->u.str);
                const char *best = ct_did_you_mean(method->u.str, ms, 8);
                if (best)
                    ct_diag_set_hint(g, "did you mean '%s'?", best);
            }
        }
        if (path) {
            check_templates(p, path);
            if (path->u.str[0] != '/' && strncmp(path->u.str, "${", 2) != 0)
                err_at(p, path, "path '%s': expected an absolute path starting with '/'",
                       path->u.str);
            h->path = path;
        }
    }
    h->params = get(n, "params", K_OBJ);
    h->query = get(n, "query", K_OBJ);
    h->headers = get(n, "headers", K_OBJ);
    h->prefer = get(n, "prefer", K_STR);
    h->content_type = get(n, "content_type", K_STR);
    const struct ct_node *tpl[] = {h->params, h->query, h->headers, h->prefer, h->content_type};
    for (size_t i = 0; i < sizeof(tpl) / sizeof(tpl[0]); i++)
        if (tpl[i])
            check_templates(p, tpl[i]);
    if (h->params && op == NULL && (method || path))
        err_at(p, ct_obj_member(n, "params")->key,
               "'params' names parameters of an operation: use it with 'op', or write them into "
               "'path', 'query' and 'headers'");
    if ((v = ct_obj_get(n, "auth"))) {
        if (v->kind == CT_BOOL) {
            if (v->flags & CT_NF_TRUE)
                err_at(p, v, "auth: expected a bearer token string, or false to send none; got "
                             "true");
            h->no_auth = true;
        } else if (v->kind == CT_STRING) {
            check_templates(p, v);
            h->auth = v;
        }
    }
    const char *body_key = NULL;
    for (size_t i = 0; i < 5; i++) {
        const struct ct_member *m = ct_obj_member(n, body_keys[i]);
        if (!m)
            continue;
        if (body_key) {
            err_at(p, m->key, "a request has one body: found '%s' after '%s'", body_keys[i],
                   body_key);
            continue;
        }
        body_key = body_keys[i];
        h->body_kind = (enum ct_body_kind)(i + 1);
        h->body = m->val;
        check_templates(p, m->val);
    }
    if (h->body_kind == CT_BODY_MULTIPART && h->body->kind == CT_ARRAY)
        parse_multipart(p, h->body, h);
    if (h->body_kind == CT_BODY_FORM && h->body->kind == CT_OBJECT) {
        for (uint32_t i = 0; i < h->body->len; i++) {
            const struct ct_node *fv = h->body->u.members[i].val;
            if (fv->kind == CT_OBJECT)
                err_at(p, fv, "form field '%s': expected a scalar or a list of scalars, got a "
                              "mapping",
                       h->body->u.members[i].key->u.str);
        }
    }
    if (h->content_type && (h->body_kind == CT_BODY_NONE || h->body_kind == CT_BODY_FORM ||
                            h->body_kind == CT_BODY_MULTIPART))
        err_at(p, ct_obj_member(n, "content_type")->key,
               h->body_kind == CT_BODY_NONE
                   ? "'content_type' needs a body ('json', 'raw' or 'file')"
                   : "'content_type' applies to 'json', 'raw' and 'file' bodies; form and "
                     "multipart bodies set their own");
    if ((v = get(n, "send_invalid", K_BOOL)))
        h->send_invalid = v->flags & CT_NF_TRUE;
    if ((v = ct_obj_get(n, "timeout")))
        parse_duration(p, v, "timeout", &h->timeout_ms);
    if ((v = get(n, "expect", K_OBJ)))
        parse_expect(p, v, "expect", &h->expect);
    if ((v = get(n, "capture", K_OBJ)))
        parse_captures(p, v, &h->captures, &h->ncaptures);
    if ((v = get(n, "sse", K_OBJ)))
        h->sse = parse_sse(p, v);
}

static void make_label(struct pctx *p, struct ct_scen_step *st)
{
    if (st->name) {
        st->label = st->name;
    } else if (st->kind == CT_STEP_HTTP && st->http.op_id) {
        st->label = st->http.op_id;
    } else if (st->kind == CT_STEP_HTTP && st->http.path && st->http.method >= 0) {
        const char *m = ct_http_method_name((enum ct_http_method)st->http.method);
        size_t ml = strlen(m), pl = st->http.path->len;
        char *l = ct_arena_alloc(p->a, ml + pl + 2);
        for (size_t i = 0; i < ml; i++)
            l[i] = (char)(m[i] >= 'a' && m[i] <= 'z' ? m[i] - 'a' + 'A' : m[i]);
        l[ml] = ' ';
        memcpy(l + ml + 1, st->http.path->u.str, pl + 1);
        st->label = l;
    } else if (st->kind == CT_STEP_WS && st->ws.channel) {
        char *l = ct_arena_alloc(p->a, strlen(st->ws.channel) + 4);
        memcpy(l, "ws ", 3);
        memcpy(l + 3, st->ws.channel, strlen(st->ws.channel) + 1);
        st->label = l;
    } else if (st->kind == CT_STEP_WS && st->ws.path) {
        char *l = ct_arena_alloc(p->a, st->ws.path->len + 4);
        memcpy(l, "ws ", 3);
        memcpy(l + 3, st->ws.path->u.str, st->ws.path->len + 1);
        st->label = l;
    } else {
        st->label = st->kind == CT_STEP_GROUP ? "group" : "step";
    }
}

static void parse_step(struct pctx *p, const struct ct_node *n, struct ct_scen_step *st)
{
    memset(st, 0, sizeof(*st));
    st->node = n;
    st->repeat.times = 1;
    if (n->kind != CT_OBJECT) {
        err_at(p, n, "step: expected a mapping ('op' or 'method' + 'path', 'group' or 'ws'), "
                     "got %s",
               GOT(n));
        st->label = "step";
        return;
    }
    /* The kind of step comes from the keys that name it. */
    static const char *const kind_keys[] = {"op", "method", "path", "group", "ws"};
    const char *first = NULL;
    int kind = -1;
    for (size_t i = 0; i < 5; i++) {
        const struct ct_member *m = ct_obj_member(n, kind_keys[i]);
        if (!m)
            continue;
        int k = i < 3 ? CT_STEP_HTTP : i == 3 ? CT_STEP_GROUP : CT_STEP_WS;
        if (kind >= 0 && k != kind) {
            err_at(p, m->key, "a step is an HTTP request ('op', or 'method' and 'path'), a "
                              "'group' or a 'ws' conversation: found '%s' and '%s'",
                   first, kind_keys[i]);
            st->label = "step";
            return;
        }
        if (kind < 0)
            first = kind_keys[i];
        kind = k;
    }
    if (kind < 0) {
        check_fields(p, n, "a step", any_step_fields,
                     sizeof(any_step_fields) / sizeof(any_step_fields[0]));
        err_at(p, n, "a step needs 'op' (an operationId), 'method' and 'path', 'group' or 'ws'");
        st->label = "step";
        return;
    }
    st->kind = (enum ct_step_kind)kind;
    const struct ct_node *v;
    if (st->kind == CT_STEP_HTTP) {
        parse_http(p, n, st);
    } else if (st->kind == CT_STEP_GROUP) {
        check_fields(p, n, "a group", group_fields,
                     sizeof(group_fields) / sizeof(group_fields[0]));
        st->name = get_str(n, "group");
        if ((v = get(n, "steps", K_ARR)))
            parse_block(p, v, "group", &st->group);
        else if (!ct_obj_get(n, "steps"))
            err_at(p, n, "group '%s' has no 'steps': expected a list of steps",
                   st->name ? st->name : "");
    } else {
        check_fields(p, n, "a ws step", wsstep_fields,
                     sizeof(wsstep_fields) / sizeof(wsstep_fields[0]));
        if ((v = ct_obj_get(n, "ws")))
            parse_ws(p, v, &st->ws);
        if ((v = ct_obj_get(n, "timeout")))
            parse_duration(p, v, "timeout", &st->timeout_ms);
    }
    if (st->kind != CT_STEP_GROUP)
        st->name = get_str(n, "name");
    parse_tags(p, get(n, "tags", K_STR | K_ARR), &st->tags, &st->ntags);
    st->skip = get_str(n, "skip");
    if ((v = get(n, "if_set", K_STR | K_ARR))) {
        uint32_t cnt = v->kind == CT_ARRAY ? v->len : 1;
        for (uint32_t i = 0; i < cnt; i++) {
            const struct ct_node *name = v->kind == CT_ARRAY ? v->u.items[i] : v;
            if (name->kind != CT_STRING)
                err_at(p, name, "if_set: expected a variable name, got %s", GOT(name));
            else if (!valid_name(name->u.str))
                err_at(p, name, "if_set: '%s' is not a variable name (write 'name', not "
                                "'${name}')",
                       name->u.str);
        }
        st->if_set = v;
    }
    if (st->kind == CT_STEP_HTTP && (v = get(n, "repeat", K_NUM | K_OBJ)))
        parse_repeat(p, v, &st->repeat);
    make_label(p, st);
}

static void parse_block(struct pctx *p, const struct ct_node *n, const char *what,
                        struct ct_scen_block *b)
{
    b->v = alloc_n(p, n->len, sizeof(*b->v));
    b->n = n->len;
    if (n->len == 0 && !strcmp(what, "group"))
        err_at(p, n, "%s: expected at least one step, got an empty list", what);
    for (uint32_t i = 0; i < n->len; i++)
        parse_step(p, n->u.items[i], &b->v[i]);
}

/* --- the scenario --------------------------------------------------------------------------- */

static const struct field scen_fields[] = {
    {"name", K_STR},     {"description", K_STR}, {"tags", K_STR | K_ARR},
    {"skip", K_STR},     {"vars", K_OBJ},        {"var_files", K_STR | K_ARR},
    {"defaults", K_OBJ}, {"timeout", K_NUM | K_STR}, {"setup", K_ARR},
    {"steps", K_ARR},    {"teardown", K_ARR},
};

static const struct field defaults_fields[] = {{"auth", K_STR}, {"headers", K_OBJ}};

struct ct_scen *ct_scen_parse(struct ct_arena *a, const struct ct_node *root,
                              struct ct_diags *diags)
{
    struct pctx p = {.a = a, .diags = diags};
    if (root->kind != CT_OBJECT) {
        err_at(&p, root, "expected the scenario to be a mapping (name, steps, ...), got %s",
               GOT(root));
        return NULL;
    }
    struct ct_scen *s = ct_arena_zalloc(a, sizeof(*s));
    s->root = root;
    s->src = root->src;
    check_fields(&p, root, "a scenario", scen_fields, sizeof(scen_fields) / sizeof(scen_fields[0]));
    s->name = get_str(root, "name");
    if (!ct_obj_get(root, "name"))
        err_at(&p, root, "the scenario has no 'name': expected a string saying what it checks");
    else if (s->name && !s->name[0])
        err_at(&p, ct_obj_get(root, "name"), "name: expected a non-empty string");
    s->description = get_str(root, "description");
    s->skip = get_str(root, "skip");
    parse_tags(&p, get(root, "tags", K_STR | K_ARR), &s->tags, &s->ntags);
    const struct ct_node *v;
    if ((v = get(root, "vars", K_OBJ))) {
        for (uint32_t i = 0; i < v->len; i++)
            check_var_name(&p, v->u.members[i].key);
        check_templates(&p, v);
        s->vars = v;
    }
    if ((v = get(root, "var_files", K_STR | K_ARR))) {
        if (v->kind == CT_ARRAY)
            for (uint32_t i = 0; i < v->len; i++)
                if (v->u.items[i]->kind != CT_STRING)
                    err_at(&p, v->u.items[i], "var_files: expected a file path, got %s",
                           GOT(v->u.items[i]));
        s->var_files = v;
    }
    if ((v = get(root, "defaults", K_OBJ))) {
        check_fields(&p, v, "defaults", defaults_fields, 2);
        check_templates(&p, v);
        s->default_auth = get(v, "auth", K_STR);
        s->default_headers = get(v, "headers", K_OBJ);
    }
    if ((v = ct_obj_get(root, "timeout")))
        parse_duration(&p, v, "timeout", &s->timeout_ms);
    if ((v = get(root, "setup", K_ARR)))
        parse_block(&p, v, "setup", &s->setup);
    if ((v = get(root, "steps", K_ARR))) {
        if (v->len == 0)
            err_at(&p, v, "steps: expected at least one step, got an empty list");
        parse_block(&p, v, "steps", &s->steps);
    } else if (!ct_obj_get(root, "steps")) {
        err_at(&p, root, "the scenario has no 'steps': expected a list of steps");
    }
    if ((v = get(root, "teardown", K_ARR)))
        parse_block(&p, v, "teardown", &s->teardown);
    s->broken = p.failed;
    return s;
}

struct ct_scen *ct_scen_parse_text(struct ct_arena *a, const struct ct_source *src,
                                   struct ct_diags *diags)
{
    struct ct_parse_limits lim = {.max_bytes = 16u << 20, .max_depth = 64};
    struct ct_node *root = ct_doc_parse(a, src, &lim, diags);
    if (!root)
        return NULL;
    return ct_scen_parse(a, root, diags);
}

static bool tags_have(const char *const *tags, unsigned n, const char *tag)
{
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(tags[i], tag))
            return true;
    return false;
}

static bool block_has_tag(const struct ct_scen_block *b, const char *tag)
{
    for (unsigned i = 0; i < b->n; i++) {
        if (tags_have(b->v[i].tags, b->v[i].ntags, tag))
            return true;
        if (b->v[i].kind == CT_STEP_GROUP && block_has_tag(&b->v[i].group, tag))
            return true;
    }
    return false;
}

bool ct_scen_has_tag(const struct ct_scen *s, const char *tag)
{
    return tags_have(s->tags, s->ntags, tag) || block_has_tag(&s->setup, tag) ||
           block_has_tag(&s->steps, tag) || block_has_tag(&s->teardown, tag);
}
