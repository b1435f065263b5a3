/* template.c - the template language of dialogue scripts: {{expressions}} inside frame values,
 * their compilation (with located errors for unknown names and bad syntax), evaluation against
 * one event, and rendering to JSON or plain text. Also paths (JSON Pointer or .dotted[0]) and
 * small UTF-8 helpers. No I/O; evaluation allocates only from the event's arena. */
#include "dialogue_impl.h"

#include "core/alloc.h"
#include "core/err.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- UTF-8 -------------------------------------------------------------------------------------- */

size_t ct__dlg_cp_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

size_t ct__dlg_cp_offset(const char *s, size_t len, size_t cp)
{
    size_t i = 0, n = 0;
    while (i < len) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (n == cp)
                return i;
            n++;
        }
        i++;
    }
    return len;
}

/* Find `needle` (2 bytes) in s[0..len); memmem is not in C17 or POSIX. */
static const char *find2(const char *s, size_t len, const char *needle)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (s[i] == needle[0] && s[i + 1] == needle[1])
            return s + i;
    return NULL;
}

const char *ct__dlg_suggest(const char *word, const char *const *cand, size_t n)
{
    const char *best = ct_did_you_mean(word, cand, n);
    if (best)
        return best;
    size_t wl = strlen(word);
    for (size_t i = 0; i < n; i++) {
        if (strlen(cand[i]) != wl)
            continue;
        size_t diff = 0, first = 0;
        for (size_t k = 0; k < wl; k++)
            if (word[k] != cand[i][k] && diff++ == 0)
                first = k;
        if (diff == 2 && first + 1 < wl && word[first] == cand[i][first + 1] &&
            word[first + 1] == cand[i][first])
            return cand[i];
    }
    return NULL;
}

/* --- nodes for computed values ----------------------------------------------------------------- */

struct ct_node *ct__dlg_str(struct ct_arena *a, const char *s, size_t len)
{
    struct ct_node *n = ct_arena_zalloc(a, sizeof(*n));
    n->kind = CT_STRING;
    n->u.str = ct_arena_strndup(a, s, len);
    n->len = (uint32_t)len;
    return n;
}

static struct ct_node *number_node(struct ct_arena *a, const char *text, double v, bool integer)
{
    struct ct_node *n = ct_arena_zalloc(a, sizeof(*n));
    n->kind = CT_NUMBER;
    n->u.text = ct_arena_strdup(a, text);
    n->len = (uint32_t)strlen(text);
    n->num = v;
    n->flags = (uint8_t)((integer ? CT_NF_INT : 0) | (v < 0 ? CT_NF_NEG : 0) |
                         (integer && v > -9007199254740992.0 && v < 9007199254740992.0
                              ? CT_NF_EXACT
                              : 0));
    return n;
}

struct ct_node *ct__dlg_int(struct ct_arena *a, int64_t v)
{
    /* Decimal digits by hand: snprintf was the most of rendering a timestamp. */
    char buf[24], *p = buf + sizeof(buf);
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    *--p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return number_node(a, p, (double)v, true);
}

struct ct_node *ct__dlg_num(struct ct_arena *a, double v)
{
    if (v == (double)(int64_t)v && v > -9e15 && v < 9e15)
        return ct__dlg_int(a, (int64_t)v);
    char buf[40];
    snprintf(buf, sizeof(buf), "%.17g", v);
    return number_node(a, buf, v, false);
}

struct ct_node *ct__dlg_bool(struct ct_arena *a, bool v)
{
    struct ct_node *n = ct_arena_zalloc(a, sizeof(*n));
    n->kind = CT_BOOL;
    n->flags = v ? CT_NF_TRUE : 0;
    return n;
}

/* --- locations inside strings ------------------------------------------------------------------ */

struct ct_diag *ct__dlg_err_in(struct ct_diags *diags, const struct ct_node *n, size_t off,
                               const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    uint32_t line = 0, col = 0;
    if (n)
        ct_node_locate(n, off, &line, &col);
    return ct_diags_add(diags, CT_SEV_ERROR, CT__E_DIALOGUE, n ? n->src : NULL, line, col, "%s",
                        msg);
}

/* --- paths ------------------------------------------------------------------------------------ */

static bool parse_long(const char *s, size_t len, long *out)
{
    if (!len || len > 18)
        return false;
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-') {
        neg = true;
        i = 1;
        if (len == 1)
            return false;
    }
    long v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

bool ct__dlg_path_parse(struct ct_arena *a, const char *s, size_t len, struct dlg_seg **segs,
                        uint32_t *nsegs, const char **err, size_t *off)
{
    /* At most one segment per byte. */
    struct dlg_seg *v = ct_arena_zalloc(a, (len + 1) * sizeof(*v));
    uint32_t n = 0;
    size_t i = 0;
    if (len && s[0] == '/') {
        while (i < len) {
            size_t st = ++i;
            while (i < len && s[i] != '/')
                i++;
            char *key = ct_arena_alloc(a, i - st + 1);
            size_t k = 0;
            for (size_t j = st; j < i; j++) {
                if (s[j] == '~') {
                    if (j + 1 < i && (s[j + 1] == '0' || s[j + 1] == '1')) {
                        key[k++] = s[j + 1] == '0' ? '~' : '/';
                        j++;
                        continue;
                    }
                    *err = "'~' in a JSON Pointer must be '~0' or '~1'";
                    *off = j;
                    return false;
                }
                key[k++] = s[j];
            }
            key[k] = 0;
            v[n].key = key;
            v[n].len = (uint32_t)k;
            n++;
        }
    } else if (len && !(len == 1 && s[0] == '.')) {
        if (s[0] != '.' && s[0] != '[') {
            *err = "expected a JSON Pointer ('/data/message') or a path ('.data.message')";
            *off = 0;
            return false;
        }
        while (i < len) {
            if (s[i] == '.') {
                size_t st = ++i;
                while (i < len && s[i] != '.' && s[i] != '[')
                    i++;
                if (i == st) {
                    *err = "expected a field name after '.'";
                    *off = st;
                    return false;
                }
                v[n].key = ct_arena_strndup(a, s + st, i - st);
                v[n].len = (uint32_t)(i - st);
                n++;
            } else if (s[i] == '[') {
                size_t st = ++i;
                if (i < len && (s[i] == '"' || s[i] == '\'')) {
                    char q = s[i++];
                    size_t ks = i;
                    while (i < len && s[i] != q)
                        i++;
                    if (i >= len) {
                        *err = "unterminated quoted key: expected a closing quote";
                        *off = st;
                        return false;
                    }
                    v[n].key = ct_arena_strndup(a, s + ks, i - ks);
                    v[n].len = (uint32_t)(i - ks);
                    i++;
                } else {
                    size_t ds = i;
                    while (i < len && s[i] != ']')
                        i++;
                    if (!parse_long(s + ds, i - ds, &v[n].idx)) {
                        *err = "expected an index ([0], [-1]) or a quoted key ([\"a.b\"])";
                        *off = ds;
                        return false;
                    }
                }
                n++;
                if (i >= len || s[i] != ']') {
                    *err = "expected ']'";
                    *off = i;
                    return false;
                }
                i++;
            } else {
                *err = "expected '.' or '['";
                *off = i;
                return false;
            }
        }
    }
    *segs = v;
    *nsegs = n;
    return true;
}

const struct ct_node *ct__dlg_path_get(const struct ct_node *n, const struct dlg_seg *segs,
                                       uint32_t nsegs)
{
    for (uint32_t i = 0; n && i < nsegs; i++) {
        const struct dlg_seg *sg = &segs[i];
        if (n->kind == CT_OBJECT && sg->key) {
            n = ct_obj_getn(n, sg->key, sg->len);
        } else if (n->kind == CT_ARRAY) {
            long idx = sg->idx;
            if (sg->key && !parse_long(sg->key, sg->len, &idx))
                return NULL;
            if (idx < 0)
                idx += (long)n->len;
            n = idx >= 0 && idx < (long)n->len ? n->u.items[idx] : NULL;
        } else {
            return NULL;
        }
    }
    return n;
}

/* --- expressions: parsing --------------------------------------------------------------------- */

struct root_def {
    const char *name;
    enum dlg_root root;
    const char *const *fields; /* NULL-terminated; NULL: any path; empty: no fields */
};

static const char *const no_fields[] = {NULL};
static const char *const session_fields[] = {"id", NULL};
static const char *const conn_fields[] = {"sub",  "email",          "role",    "channel",
                                          "turn", "invalid_streak", "waiting", NULL};
static const char *const turn_fields[] = {"id", "elapsed", "started", NULL};
static const char *const chunk_fields[] = {"index", "delta", "final", "count", NULL};
static const char *const stream_fields[] = {"text", "chunks", NULL};
static const char *const invalid_fields[] = {"reason", "message", NULL};

static const struct root_def roots[] = {
    {"message", R_MESSAGE, NULL},        {"request", R_REQUEST, NULL},
    {"text", R_TEXT, no_fields},         {"lang", R_LANG, no_fields},
    {"session", R_SESSION, session_fields}, {"conn", R_CONN, conn_fields},
    {"query", R_QUERY, NULL},            {"state", R_STATE, NULL},
    {"now", R_NOW, no_fields},           {"now_s", R_NOW_S, no_fields},
    {"now_iso", R_NOW_ISO, no_fields},   {"turn", R_TURN, turn_fields},
    {"chunk", R_CHUNK, chunk_fields},    {"stream", R_STREAM, stream_fields},
    {"id", R_ID, no_fields},             {"uuid", R_UUID, no_fields},
    {"invalid", R_INVALID, invalid_fields},
};
#define NROOTS (sizeof(roots) / sizeof(roots[0]))

static const char *const filter_names[] = {"default", "truncate", "json", "len",
                                           "plus",    "upper",    "lower"};

struct eparse {
    struct ct_arena *a;
    const struct ct_node *at; /* the string */
    const char *s;            /* its text */
    size_t pos, end;          /* within s */
    const struct dlg_scope *scope;
    struct ct_diags *diags;
    bool failed;
};

static void ep_err(struct eparse *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ep_err(struct eparse *p, size_t off, const char *fmt, ...)
{
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    p->failed = true;
    ct__dlg_err_in(p->diags, p->at, off, "%s", msg);
}

static void skip_ws(struct eparse *p)
{
    while (p->pos < p->end && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
        p->pos++;
}

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* A literal: 'text', "text", a number, true, false, null. NULL when there is none here. */
static const struct ct_node *parse_literal(struct eparse *p)
{
    const char *s = p->s;
    size_t i = p->pos;
    if (i < p->end && (s[i] == '\'' || s[i] == '"')) {
        char q = s[i];
        size_t st = i + 1, j = st;
        while (j < p->end && s[j] != q)
            j++;
        if (j >= p->end) {
            ep_err(p, i, "unterminated string in template: expected a closing %c", q);
            return NULL;
        }
        p->pos = j + 1;
        return ct__dlg_str(p->a, s + st, j - st);
    }
    if (i < p->end && ((s[i] >= '0' && s[i] <= '9') || s[i] == '-')) {
        size_t j = i + 1;
        while (j < p->end && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.'))
            j++;
        char buf[40];
        size_t l = j - i < sizeof(buf) - 1 ? j - i : sizeof(buf) - 1;
        memcpy(buf, s + i, l);
        buf[l] = 0;
        char *endp = NULL;
        double v = strtod(buf, &endp);
        if (!endp || *endp || endp == buf) {
            ep_err(p, i, "expected a number, got '%s'", buf);
            return NULL;
        }
        p->pos = j;
        return strchr(buf, '.') ? number_node(p->a, buf, v, false) : ct__dlg_num(p->a, v);
    }
    static const char *const words[] = {"true", "false", "null"};
    for (int w = 0; w < 3; w++) {
        size_t l = strlen(words[w]);
        if (p->end - i >= l && !memcmp(s + i, words[w], l) &&
            (i + l == p->end || !is_name_char(s[i + l]))) {
            p->pos = i + l;
            if (w == 2) {
                struct ct_node *n = ct_arena_zalloc(p->a, sizeof(*n));
                n->kind = CT_NULL;
                return n;
            }
            return ct__dlg_bool(p->a, w == 0);
        }
    }
    return NULL;
}

static bool is_literal_start(const struct eparse *p)
{
    if (p->pos >= p->end)
        return false;
    char c = p->s[p->pos];
    if (c == '\'' || c == '"' || c == '-' || (c >= '0' && c <= '9'))
        return true;
    const char *w[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t l = strlen(w[k]);
        if (p->end - p->pos >= l && !memcmp(p->s + p->pos, w[k], l) &&
            (p->pos + l == p->end || !is_name_char(p->s[p->pos + l])))
            return true;
    }
    return false;
}

static void hint_names(struct ct_diag *g, const char *word, const char *const *cand, size_t n,
                       const char *what)
{
    const char *best = ct__dlg_suggest(word, cand, n);
    if (best) {
        ct_diag_set_hint(g, "did you mean '%s'?", best);
        return;
    }
    struct ct_buf b;
    ct_buf_init(&b, 0);
    for (size_t i = 0; i < n && i < 24; i++)
        ct_buf_printf(&b, "%s'%s'", i ? ", " : "", cand[i]);
    if (n)
        ct_diag_set_hint(g, "%s: %s", what, ct_buf_cstr(&b));
    ct_buf_deinit(&b);
}

/* A path: name ('.' name | '[' int ']')* . Fills e (root, segments); false after an error. */
static bool parse_path(struct eparse *p, struct dlg_expr *e)
{
    const char *s = p->s;
    size_t st = p->pos;
    if (p->pos >= p->end || !is_name_start(s[p->pos])) {
        ep_err(p, p->pos, "expected a name or a literal in the template expression");
        return false;
    }
    while (p->pos < p->end && is_name_char(s[p->pos]))
        p->pos++;
    size_t nl = p->pos - st;
    char name[80];
    snprintf(name, sizeof(name), "%.*s", (int)(nl < 79 ? nl : 79), s + st);
    const struct root_def *rd = NULL;
    for (size_t i = 0; i < NROOTS && !rd; i++)
        if (!strcmp(roots[i].name, name))
            rd = &roots[i];
    bool found_let = false;
    for (size_t i = 0; !rd && p->scope && i < p->scope->nlets; i++) {
        if (!strcmp(p->scope->lets[i], name)) {
            e->root = R_LET;
            e->index = (uint32_t)i;
            found_let = true;
            break;
        }
    }
    if (!rd && !found_let) {
        const char *cand[NROOTS + 64];
        size_t nc = 0;
        for (size_t i = 0; i < NROOTS; i++)
            cand[nc++] = roots[i].name;
        for (size_t i = 0; p->scope && i < p->scope->nlets && nc < NROOTS + 64; i++)
            cand[nc++] = p->scope->lets[i];
        p->failed = true;
        struct ct_diag *g = ct__dlg_err_in(p->diags, p->at, st,
                                           "unknown name '%s' in template: expected a variable "
                                           "such as message, session, conn, state, now or a "
                                           "'let' name",
                                           name);
        hint_names(g, name, cand, nc, "names");
        return false;
    }
    if (rd)
        e->root = rd->root;
    /* Segments. */
    struct dlg_seg segs[32];
    uint32_t n = 0;
    while (p->pos < p->end && (s[p->pos] == '.' || s[p->pos] == '[')) {
        if (n == 32) {
            ep_err(p, p->pos, "template path too long: expected at most 32 steps");
            return false;
        }
        size_t at = p->pos;
        if (s[p->pos] == '.') {
            size_t fs = ++p->pos;
            while (p->pos < p->end && (is_name_char(s[p->pos]) || s[p->pos] == '-'))
                p->pos++;
            if (p->pos == fs) {
                ep_err(p, fs, "expected a field name after '.'");
                return false;
            }
            segs[n].key = ct_arena_strndup(p->a, s + fs, p->pos - fs);
            segs[n].len = (uint32_t)(p->pos - fs);
            segs[n].idx = 0;
        } else {
            size_t ds = ++p->pos;
            while (p->pos < p->end && s[p->pos] != ']')
                p->pos++;
            long idx;
            if (p->pos >= p->end || !parse_long(s + ds, p->pos - ds, &idx)) {
                ep_err(p, at, "expected an index such as [0] or [-1]");
                return false;
            }
            p->pos++;
            segs[n].key = NULL;
            segs[n].len = 0;
            segs[n].idx = idx;
        }
        n++;
    }
    /* Check fields of the built-in roots. */
    if (rd && rd->fields) {
        if (rd->fields == no_fields) {
            if (n) {
                ep_err(p, st, "'%s' has no fields: expected '{{%s}}'", name, name);
                return false;
            }
        } else if (!n || !segs[0].key) {
            p->failed = true;
            struct ct_diag *g = ct__dlg_err_in(p->diags, p->at, st,
                                               "'%s' needs a field: expected '%s.<field>'", name,
                                               name);
            size_t nf = 0;
            while (rd->fields[nf])
                nf++;
            hint_names(g, "", rd->fields, nf, "fields");
            return false;
        } else {
            bool ok = false;
            size_t nf = 0;
            for (; rd->fields[nf]; nf++)
                ok = ok || !strcmp(rd->fields[nf], segs[0].key);
            if (!ok) {
                p->failed = true;
                struct ct_diag *g = ct__dlg_err_in(p->diags, p->at, st,
                                                   "unknown field '%s.%s' in template", name,
                                                   segs[0].key);
                hint_names(g, segs[0].key, rd->fields, nf, "fields");
                return false;
            }
        }
    }
    if (rd && rd->root == R_STATE) {
        if (!n || !segs[0].key) {
            ep_err(p, st, "'state' needs a variable name: expected 'state.<name>'");
            return false;
        }
        bool ok = false;
        for (size_t i = 0; p->scope && i < p->scope->nstate && !ok; i++) {
            if (!strcmp(p->scope->state[i], segs[0].key)) {
                e->index = (uint32_t)i;
                ok = true;
            }
        }
        if (!ok) {
            p->failed = true;
            struct ct_diag *g = ct__dlg_err_in(
                p->diags, p->at, st,
                "unknown state variable '%s': expected one given an initial value in 'state' or "
                "set by a rule's 'set'",
                segs[0].key);
            if (p->scope)
                hint_names(g, segs[0].key, p->scope->state, p->scope->nstate, "variables");
            return false;
        }
        /* The variable itself is found by index; keep only what follows. */
        memmove(segs, segs + 1, (n - 1) * sizeof(*segs));
        n--;
    }
    e->segs = n ? ct_arena_alloc(p->a, n * sizeof(*segs)) : NULL;
    if (n)
        memcpy(e->segs, segs, n * sizeof(*segs));
    e->nsegs = n;
    return true;
}

/* expr := (literal | path) ['?'] ('|' filter [arg])* */
static struct dlg_expr *parse_expr(struct eparse *p)
{
    struct dlg_expr *e = ct_arena_zalloc(p->a, sizeof(*e));
    e->at = p->at;
    e->off = p->pos;
    skip_ws(p);
    size_t st = p->pos;
    if (is_literal_start(p)) {
        e->lit = parse_literal(p);
        if (!e->lit)
            return NULL;
        e->root = R_LITERAL;
    } else if (!parse_path(p, e)) {
        return NULL;
    }
    if (p->pos < p->end && p->s[p->pos] == '?') {
        e->optional = true;
        p->pos++;
    }
    skip_ws(p);
    struct dlg_filter_call fl[8];
    uint32_t nf = 0;
    while (p->pos < p->end && p->s[p->pos] == '|') {
        p->pos++;
        skip_ws(p);
        size_t fs = p->pos;
        while (p->pos < p->end && is_name_char(p->s[p->pos]))
            p->pos++;
        char name[40];
        snprintf(name, sizeof(name), "%.*s", (int)(p->pos - fs < 39 ? p->pos - fs : 39),
                 p->s + fs);
        int f = -1;
        for (int k = 0; k < (int)(sizeof(filter_names) / sizeof(filter_names[0])); k++)
            if (!strcmp(filter_names[k], name))
                f = k;
        if (f < 0) {
            p->failed = true;
            struct ct_diag *g = ct__dlg_err_in(p->diags, p->at, fs,
                                               "unknown filter '%s': expected one of default, "
                                               "truncate, json, len, plus, upper, lower",
                                               name);
            const char *best = ct__dlg_suggest(name, filter_names,
                                               sizeof(filter_names) / sizeof(filter_names[0]));
            if (best)
                ct_diag_set_hint(g, "did you mean '%s'?", best);
            return NULL;
        }
        if (nf == 8) {
            ep_err(p, fs, "too many filters: expected at most 8");
            return NULL;
        }
        struct dlg_filter_call *fc = &fl[nf++];
        memset(fc, 0, sizeof(*fc));
        fc->f = (enum dlg_filter)f;
        skip_ws(p);
        bool wants_arg = fc->f == F_DEFAULT || fc->f == F_TRUNCATE || fc->f == F_PLUS;
        if (wants_arg) {
            if (p->pos >= p->end || p->s[p->pos] == '|') {
                ep_err(p, p->pos, "filter '%s' needs an argument", name);
                return NULL;
            }
            if (is_literal_start(p)) {
                fc->lit = parse_literal(p);
                if (!fc->lit)
                    return NULL;
            } else {
                struct dlg_expr *arg = ct_arena_zalloc(p->a, sizeof(*arg));
                arg->at = p->at;
                arg->off = p->pos;
                if (!parse_path(p, arg))
                    return NULL;
                fc->arg = arg;
            }
            if (fc->f == F_TRUNCATE && (!fc->lit || fc->lit->kind != CT_NUMBER ||
                                        !ct_num_is_integer(fc->lit) || fc->lit->num < 0)) {
                ep_err(p, fs, "'truncate' needs a count of characters, such as 'truncate 80'");
                return NULL;
            }
            skip_ws(p);
        }
    }
    skip_ws(p);
    if (p->pos != p->end) {
        ep_err(p, p->pos, "unexpected '%c' in template expression: expected '?', '|' or '}}'",
               p->s[p->pos]);
        return NULL;
    }
    if (nf) {
        e->filters = ct_arena_alloc(p->a, nf * sizeof(*fl));
        memcpy(e->filters, fl, nf * sizeof(*fl));
        e->nfilters = nf;
    }
    e->text = ct_arena_strndup(p->a, p->s + st, p->end - st);
    return e;
}

/* --- templates: compiling -------------------------------------------------------------------- */

/* Compile a string: literal text and {{expressions}}. */
static struct dlg_tv *compile_string(struct ct_arena *a, const struct ct_node *n,
                                     const struct dlg_scope *scope, struct ct_diags *diags,
                                     bool *failed)
{
    struct dlg_tv *tv = ct_arena_zalloc(a, sizeof(*tv));
    tv->node = n;
    const char *s = n->u.str;
    size_t len = n->len;
    if (!find2(s, len, "{{")) {
        tv->kind = TV_LIT;
        return tv;
    }
    struct dlg_part parts[128];
    uint32_t np = 0;
    size_t i = 0;
    while (i < len) {
        const char *open = find2(s + i, len - i, "{{");
        size_t lit_end = open ? (size_t)(open - s) : len;
        if (lit_end > i) {
            if (np == 128)
                goto too_many;
            parts[np++] = (struct dlg_part){.lit = s + i, .len = (uint32_t)(lit_end - i)};
        }
        if (!open)
            break;
        size_t es = lit_end + 2;
        const char *close = find2(s + es, len - es, "}}");
        if (!close) {
            *failed = true;
            struct ct_diag *g = ct__dlg_err_in(diags, n, lit_end,
                                               "unterminated '{{' in template: expected '}}'");
            ct_diag_set_hint(g, "write {{'{{'}} for a literal '{{'");
            return NULL;
        }
        struct eparse p = {.a = a, .at = n, .s = s, .pos = es, .end = (size_t)(close - s),
                           .scope = scope, .diags = diags};
        struct dlg_expr *e = parse_expr(&p);
        i = (size_t)(close - s) + 2;
        if (!e) {
            /* Go on: the other expressions of the string may have problems too. */
            *failed = true;
            continue;
        }
        if (np == 128)
            goto too_many;
        parts[np++] = (struct dlg_part){.e = e};
    }
    if (*failed)
        return NULL;
    tv->has_expr = true;
    if (np == 1 && parts[0].e) {
        tv->kind = TV_EXPR;
        tv->e = parts[0].e;
        return tv;
    }
    tv->kind = TV_STR;
    tv->parts = ct_arena_alloc(a, np * sizeof(*parts));
    memcpy(tv->parts, parts, np * sizeof(*parts));
    tv->nparts = np;
    return tv;
too_many:
    *failed = true;
    ct__dlg_err_in(diags, n, 0, "too many template parts in one string: expected at most 128");
    return NULL;
}

static struct dlg_tv *compile(struct ct_arena *a, const struct ct_node *n,
                              const struct dlg_scope *scope, struct ct_diags *diags,
                              bool *failed, unsigned depth)
{
    struct dlg_tv *tv;
    switch (n->kind) {
    case CT_STRING:
        return compile_string(a, n, scope, diags, failed);
    case CT_OBJECT:
        tv = ct_arena_zalloc(a, sizeof(*tv));
        tv->kind = TV_OBJ;
        tv->node = n;
        tv->n = n->len;
        tv->members = ct_arena_zalloc(a, (n->len + 1) * sizeof(*tv->members));
        for (uint32_t i = 0; i < n->len; i++) {
            tv->members[i].key = n->u.members[i].key;
            tv->members[i].val = compile(a, n->u.members[i].val, scope, diags, failed, depth + 1);
            if (tv->members[i].val && tv->members[i].val->has_expr)
                tv->has_expr = true;
        }
        return tv;
    case CT_ARRAY:
        tv = ct_arena_zalloc(a, sizeof(*tv));
        tv->kind = TV_ARR;
        tv->node = n;
        tv->n = n->len;
        tv->items = ct_arena_zalloc(a, (n->len + 1) * sizeof(*tv->items));
        for (uint32_t i = 0; i < n->len; i++) {
            tv->items[i] = compile(a, n->u.items[i], scope, diags, failed, depth + 1);
            if (tv->items[i] && tv->items[i]->has_expr)
                tv->has_expr = true;
        }
        return tv;
    default:
        tv = ct_arena_zalloc(a, sizeof(*tv));
        tv->kind = TV_LIT;
        tv->node = n;
        return tv;
    }
}

struct dlg_tv *ct__dlg_compile(struct ct_arena *a, const struct ct_node *n,
                               const struct dlg_scope *scope, struct ct_diags *diags)
{
    bool failed = false;
    struct dlg_tv *tv = compile(a, n, scope, diags, &failed, 0);
    return failed ? NULL : tv;
}

/* --- evaluation ------------------------------------------------------------------------------- */

static const struct ct_node *cstr(struct dlg_rctx *r, const char *s)
{
    return s ? ct__dlg_str(r->a, s, strlen(s)) : NULL;
}

static const struct ct_node *random_id(struct dlg_rctx *r, const char *prefix)
{
    char buf[40];
    uint64_t v = ct__dlg_rand(r->conn);
    snprintf(buf, sizeof(buf), "%s%010" PRIx64, prefix, v & (uint64_t)0xFFFFFFFFFF);
    return cstr(r, buf);
}

static const struct ct_node *uuid4(struct dlg_rctx *r)
{
    uint64_t hi = ct__dlg_rand(r->conn), lo = ct__dlg_rand(r->conn);
    hi = (hi & ~(uint64_t)0xF000) | (uint64_t)0x4000;                         /* version 4 */
    lo = (lo & (uint64_t)0x3FFFFFFFFFFFFFFF) | (uint64_t)0x8000000000000000; /* variant 10 */
    char buf[40];
    snprintf(buf, sizeof(buf), "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64
                               "-%012" PRIx64,
             hi >> 32, (hi >> 16) & (uint64_t)0xFFFF, hi & (uint64_t)0xFFFF, lo >> 48,
             lo & (uint64_t)0xFFFFFFFFFFFF);
    return cstr(r, buf);
}

/* ISO 8601 UTC with milliseconds, from epoch milliseconds (civil-from-days, no libc time). */
static const struct ct_node *iso_time(struct dlg_rctx *r, int64_t ms)
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int msr = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int sod = (int)(secs - days * 86400);
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    char buf[96];
    snprintf(buf, sizeof(buf), "%04" PRId64 "-%02" PRId64 "-%02" PRId64 "T%02d:%02d:%02d.%03dZ",
             y, m, d, (sod / 3600) % 24, (sod / 60) % 60, sod % 60, msr % 1000);
    return cstr(r, buf);
}

/* The value of a root with its first field (for roots with fixed fields). */
static const struct ct_node *root_field(struct dlg_rctx *r, enum dlg_root root, const char *f)
{
    struct ct_dialogue_conn *c = r->conn;
    switch (root) {
    case R_SESSION:
        return cstr(r, c->session);
    case R_CONN:
        if (!strcmp(f, "sub"))
            return cstr(r, c->sub);
        if (!strcmp(f, "email"))
            return cstr(r, c->email);
        if (!strcmp(f, "role"))
            return cstr(r, c->role);
        if (!strcmp(f, "channel"))
            return cstr(r, c->channel);
        if (!strcmp(f, "turn"))
            return ct__dlg_int(r->a, (int64_t)c->turn);
        if (!strcmp(f, "invalid_streak"))
            return ct__dlg_int(r->a, c->invalid_streak);
        return ct__dlg_int(r->a, ct__dlg_waiting(c, r->start));
    case R_TURN:
        if (!strcmp(f, "id"))
            return cstr(r, r->turn_id);
        if (!strcmp(f, "elapsed"))
            return ct__dlg_int(r->a, r->now - r->start);
        return ct__dlg_int(r->a, r->start);
    case R_CHUNK:
        if (!r->in_chunk)
            return NULL;
        if (!strcmp(f, "index"))
            return ct__dlg_int(r->a, r->chunk_index);
        if (!strcmp(f, "delta"))
            return ct__dlg_str(r->a, r->delta, r->delta_len);
        if (!strcmp(f, "final"))
            return ct__dlg_bool(r->a, r->chunk_final);
        return ct__dlg_int(r->a, r->chunk_count);
    case R_STREAM:
        if (!r->in_stream)
            return NULL;
        if (!strcmp(f, "text"))
            return ct__dlg_str(r->a, r->stream_text, r->stream_len);
        return ct__dlg_int(r->a, r->stream_chunks);
    case R_INVALID:
        if (!r->invalid_reason)
            return NULL;
        return cstr(r, !strcmp(f, "reason") ? r->invalid_reason : r->invalid_message);
    default:
        return NULL;
    }
}

static const struct ct_node *apply_filter(struct dlg_rctx *r, const struct dlg_filter_call *fc,
                                          const struct ct_node *v)
{
    const struct ct_node *arg = fc->lit ? fc->lit : fc->arg ? ct__dlg_eval(r, fc->arg) : NULL;
    switch (fc->f) {
    case F_DEFAULT:
        return v && v->kind != CT_NULL ? v : arg;
    case F_TRUNCATE:
        if (v && v->kind == CT_STRING && arg) {
            size_t off = ct__dlg_cp_offset(v->u.str, v->len, (size_t)arg->num);
            return off < v->len ? ct__dlg_str(r->a, v->u.str, off) : v;
        }
        return v;
    case F_JSON: {
        if (!v)
            return NULL;
        struct ct_buf b;
        ct_buf_init(&b, 0);
        ct_json_emit(v, &b, false);
        const struct ct_node *s = ct__dlg_str(r->a, ct_buf_cstr(&b), b.len);
        ct_buf_deinit(&b);
        return s;
    }
    case F_LEN:
        if (!v)
            return NULL;
        if (v->kind == CT_STRING)
            return ct__dlg_int(r->a, (int64_t)ct__dlg_cp_count(v->u.str, v->len));
        if (v->kind == CT_ARRAY || v->kind == CT_OBJECT)
            return ct__dlg_int(r->a, v->len);
        return NULL;
    case F_PLUS:
        if (v && arg && v->kind == CT_NUMBER && arg->kind == CT_NUMBER)
            return ct__dlg_num(r->a, v->num + arg->num);
        return NULL;
    case F_UPPER:
    case F_LOWER: {
        if (!v || v->kind != CT_STRING)
            return v;
        char *s = ct_arena_strndup(r->a, v->u.str, v->len);
        for (size_t i = 0; i < v->len; i++) {
            if (fc->f == F_UPPER && s[i] >= 'a' && s[i] <= 'z')
                s[i] = (char)(s[i] - 32);
            if (fc->f == F_LOWER && s[i] >= 'A' && s[i] <= 'Z')
                s[i] = (char)(s[i] + 32);
        }
        return ct__dlg_str(r->a, s, v->len);
    }
    }
    return v;
}

const struct ct_node *ct__dlg_eval(struct dlg_rctx *r, const struct dlg_expr *e)
{
    const struct ct_node *v = NULL;
    uint32_t skip = 0; /* segments consumed by the root */
    switch (e->root) {
    case R_MESSAGE:
        v = r->message;
        break;
    case R_REQUEST:
        v = r->request;
        break;
    case R_TEXT:
        v = r->text;
        break;
    case R_LANG:
        v = cstr(r, r->lang);
        break;
    case R_QUERY:
        v = r->conn->query;
        break;
    case R_STATE:
        v = ct__dlg_state_get(r->conn, e->index, r->a);
        break;
    case R_NOW:
        v = ct__dlg_int(r->a, r->now);
        break;
    case R_NOW_S:
        v = ct__dlg_int(r->a, r->now / 1000);
        break;
    case R_NOW_ISO:
        v = iso_time(r, r->now);
        break;
    case R_ID:
        v = random_id(r, "");
        break;
    case R_UUID:
        v = uuid4(r);
        break;
    case R_LET:
        v = r->lets ? r->lets[e->index] : NULL;
        break;
    case R_LITERAL:
        v = e->lit;
        break;
    default:
        v = root_field(r, e->root, e->nsegs ? e->segs[0].key : "");
        skip = 1;
        break;
    }
    if (v && e->nsegs > skip)
        v = ct__dlg_path_get(v, e->segs + skip, e->nsegs - skip);
    for (uint32_t i = 0; i < e->nfilters; i++)
        v = apply_filter(r, &e->filters[i], v);
    return v;
}

/* --- rendering -------------------------------------------------------------------------------- */

static void undefined(struct dlg_rctx *r, const struct dlg_expr *e)
{
    uint32_t line = 0, col = 0;
    if (e->at)
        ct_node_locate(e->at, e->off, &line, &col);
    ct_diags_add(&r->conn->diags, CT_SEV_WARNING, CT__E_DIALOGUE, e->at ? e->at->src : NULL, line,
                 col, "rule '%s': template value '%s' is undefined here",
                 r->rule ? r->rule->name : "?", e->text);
}

static void text_of(struct ct_buf *out, const struct ct_node *v)
{
    switch (v->kind) {
    case CT_STRING:
        ct_buf_add(out, v->u.str, v->len);
        break;
    case CT_NUMBER:
        ct_buf_add(out, v->u.text, v->len);
        break;
    case CT_BOOL:
        ct_buf_adds(out, (v->flags & CT_NF_TRUE) ? "true" : "false");
        break;
    case CT_NULL:
        ct_buf_adds(out, "null");
        break;
    default:
        ct_json_emit(v, out, false);
        break;
    }
}

void ct__dlg_render_text(struct dlg_rctx *r, const struct dlg_tv *tv, struct ct_buf *out)
{
    switch (tv->kind) {
    case TV_LIT:
        text_of(out, tv->node);
        break;
    case TV_EXPR: {
        const struct ct_node *v = ct__dlg_eval(r, tv->e);
        if (v)
            text_of(out, v);
        else if (!tv->e->optional)
            undefined(r, tv->e);
        break;
    }
    case TV_STR:
        for (uint32_t i = 0; i < tv->nparts; i++) {
            const struct dlg_part *p = &tv->parts[i];
            if (!p->e) {
                ct_buf_add(out, p->lit, p->len);
                continue;
            }
            const struct ct_node *v = ct__dlg_eval(r, p->e);
            if (v)
                text_of(out, v);
            else if (!p->e->optional)
                undefined(r, p->e);
        }
        break;
    default:
        ct__dlg_render_json(r, tv, out);
        break;
    }
}

void ct__dlg_render_json(struct dlg_rctx *r, const struct dlg_tv *tv, struct ct_buf *out)
{
    switch (tv->kind) {
    case TV_LIT:
        ct_json_emit(tv->node, out, false);
        break;
    case TV_STR: {
        /* The work area's text buffer: rendering a string template's parts never comes back
         * here, so it is free. */
        struct ct_buf *t = &r->conn->w->text;
        t->len = 0;
        ct__dlg_render_text(r, tv, t);
        ct_json_emit_string(out, t->len ? t->ptr : "", t->len);
        break;
    }
    case TV_EXPR: {
        const struct ct_node *v = ct__dlg_eval(r, tv->e);
        if (v) {
            ct_json_emit(v, out, false);
        } else {
            if (!tv->e->optional)
                undefined(r, tv->e);
            ct_buf_adds(out, "null");
        }
        break;
    }
    case TV_OBJ: {
        ct_buf_addc(out, '{');
        bool first = true;
        for (uint32_t i = 0; i < tv->n; i++) {
            const struct dlg_tv *v = tv->members[i].val;
            const struct ct_node *val = NULL;
            if (v->kind == TV_EXPR) {
                val = ct__dlg_eval(r, v->e);
                if (!val && v->e->optional)
                    continue; /* `?`: an undefined value drops the member */
            }
            if (!first)
                ct_buf_addc(out, ',');
            first = false;
            const struct ct_node *k = tv->members[i].key;
            ct_json_emit_string(out, k->u.str, k->len);
            ct_buf_addc(out, ':');
            if (v->kind == TV_EXPR) {
                if (val) {
                    ct_json_emit(val, out, false);
                } else {
                    undefined(r, v->e);
                    ct_buf_adds(out, "null");
                }
            } else {
                ct__dlg_render_json(r, v, out);
            }
        }
        ct_buf_addc(out, '}');
        break;
    }
    case TV_ARR: {
        ct_buf_addc(out, '[');
        bool first = true;
        for (uint32_t i = 0; i < tv->n; i++) {
            const struct dlg_tv *v = tv->items[i];
            const struct ct_node *val = NULL;
            if (v->kind == TV_EXPR) {
                val = ct__dlg_eval(r, v->e);
                if (!val && v->e->optional)
                    continue;
            }
            if (!first)
                ct_buf_addc(out, ',');
            first = false;
            if (v->kind == TV_EXPR) {
                if (val) {
                    ct_json_emit(val, out, false);
                } else {
                    undefined(r, v->e);
                    ct_buf_adds(out, "null");
                }
            } else {
                ct__dlg_render_json(r, v, out);
            }
        }
        ct_buf_addc(out, ']');
        break;
    }
    }
}

/* --- rendering into nodes ------------------------------------------------------------------- */

static const struct ct_node null_node = {.kind = CT_NULL};

/* The value of a member or item that is an expression: NULL when it is left out (undefined and
 * marked `?`), the null node when it is undefined (reported). */
static const struct ct_node *expr_node(struct dlg_rctx *r, const struct dlg_expr *e)
{
    const struct ct_node *v = ct__dlg_eval(r, e);
    if (v)
        return v;
    if (e->optional)
        return NULL;
    undefined(r, e);
    return &null_node;
}

const struct ct_node *ct__dlg_render_node(struct dlg_rctx *r, const struct dlg_tv *tv,
                                          bool *dup_key)
{
    switch (tv->kind) {
    case TV_LIT:
        return tv->node;
    case TV_STR: {
        struct ct_buf *t = &r->conn->w->text; /* free: see ct__dlg_render_json */
        t->len = 0;
        ct__dlg_render_text(r, tv, t);
        return ct__dlg_str(r->a, t->len ? t->ptr : "", t->len);
    }
    case TV_EXPR: {
        const struct ct_node *v = ct__dlg_eval(r, tv->e);
        if (!v && !tv->e->optional)
            undefined(r, tv->e);
        return v ? v : &null_node;
    }
    case TV_OBJ: {
        /* Room for every member: those left out only make it shorter, and the index of a
         * large object (placed after the members) needs no more than the full count's. */
        struct ct_node *o = ct_arena_zalloc(r->a, sizeof(*o));
        o->kind = CT_OBJECT;
        o->u.members = ct_arena_alloc(r->a, ct__obj_members_size(tv->n));
        uint32_t k = 0;
        for (uint32_t i = 0; i < tv->n; i++) {
            const struct dlg_tv *v = tv->members[i].val;
            const struct ct_node *val = v->kind == TV_EXPR ? expr_node(r, v->e)
                                                           : ct__dlg_render_node(r, v, dup_key);
            if (!val)
                continue;
            o->u.members[k].key = (struct ct_node *)tv->members[i].key;
            o->u.members[k].val = (struct ct_node *)val;
            k++;
        }
        o->len = k;
        long first;
        if (ct__obj_finish(o, &first) >= 0)
            *dup_key = true;
        return o;
    }
    case TV_ARR: {
        struct ct_node *a = ct_arena_zalloc(r->a, sizeof(*a));
        a->kind = CT_ARRAY;
        a->u.items = ct_arena_alloc(r->a, (tv->n ? tv->n : 1) * sizeof(*a->u.items));
        uint32_t k = 0;
        for (uint32_t i = 0; i < tv->n; i++) {
            const struct dlg_tv *v = tv->items[i];
            const struct ct_node *val = v->kind == TV_EXPR ? expr_node(r, v->e)
                                                           : ct__dlg_render_node(r, v, dup_key);
            if (val)
                a->u.items[k++] = (struct ct_node *)val;
        }
        a->len = k;
        return a;
    }
    }
    return &null_node;
}

struct dlg_expr *ct__dlg_expr_compile(struct ct_arena *a, const struct ct_node *n,
                                      const struct dlg_scope *scope, struct ct_diags *diags)
{
    struct eparse p = {.a = a, .at = n, .s = n->u.str, .pos = 0, .end = n->len, .scope = scope,
                       .diags = diags};
    struct dlg_expr *e = parse_expr(&p);
    return p.failed ? NULL : e;
}

bool ct__dlg_is_root_name(const char *name)
{
    for (size_t i = 0; i < NROOTS; i++)
        if (!strcmp(roots[i].name, name))
            return true;
    return false;
}
