/* load.c - YAML 1.2 (core schema) into ct_node trees, through libyaml's event parser.
 *
 * Every node keeps its line and column. Plain scalars resolve as the YAML 1.2 core schema says
 * (null, booleans, integers in decimal/octal 0o/hex 0x, floats); quoted scalars and explicit
 * `!!str` are strings. Mapping keys are always strings (an unquoted `200:` becomes "200", as
 * OpenAPI needs). Anchors and aliases share the anchored node; a count of the nodes that aliases
 * would expand to stops alias bombs. Only the first document of a stream is read; a second one
 * is an error. `.inf` and `.nan` have no JSON form and are kept as strings. Merge keys (`<<`) are
 * YAML 1.1 and not supported: a `<<` key is an ordinary key. */
#include "json/node.h"

#include "core/alloc.h"
#include "core/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>


struct anchor {
    char *name;
    struct ct_node *node;
    uint64_t weight; /* nodes the anchored subtree expands to */
};

struct frame {
    struct ct_node *node;
    size_t base;     /* index into the child stack */
    uint64_t weight; /* expanded size so far */
    char *anchor;    /* owned; registered when the container ends */
};

struct loader {
    struct ct_arena *arena;
    const struct ct_source *src;
    struct ct_diags *diags;
    const struct ct_parse_limits *lim;
    uint32_t max_depth;
    uint64_t max_nodes;
    struct frame *frames;
    size_t nframes, capframes;
    struct ct_node **stack;
    size_t nstack, capstack;
    struct anchor *anchors;
    size_t nanchors, capanchors;
    uint64_t total_weight;
};

static void add_anchor(struct loader *ld, char *name, struct ct_node *n, uint64_t weight)
{
    /* A redefined anchor replaces the old one for later aliases, as YAML says. */
    ld->anchors = ct_xgrow(ld->anchors, &ld->capanchors, ld->nanchors + 1, sizeof(*ld->anchors));
    ld->anchors[ld->nanchors++] = (struct anchor){name, n, weight};
}

static struct anchor *find_anchor(struct loader *ld, const char *name)
{
    for (size_t i = ld->nanchors; i-- > 0;)
        if (strcmp(ld->anchors[i].name, name) == 0)
            return &ld->anchors[i];
    return NULL;
}

static struct ct_node *mk(struct loader *ld, enum ct_kind kind, yaml_mark_t m)
{
    struct ct_node *n = ct_arena_zalloc(ld->arena, sizeof(*n));
    n->kind = (uint8_t)kind;
    n->line = (uint32_t)m.line + 1;
    n->col = (uint32_t)m.column + 1;
    n->src = ld->src;
    return n;
}

static bool all_digits(const char *s, size_t n, int base)
{
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = base == 10   ? (c >= '0' && c <= '9')
                  : base == 8  ? (c >= '0' && c <= '7')
                               : ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                                 (c >= 'A' && c <= 'F'));
        if (!ok)
            return false;
    }
    return true;
}

static bool is_float(const char *s, size_t n)
{
    /* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    size_t d1 = 0, d2 = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, d1++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, d2++;
    }
    if (!d1 && !d2)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t d3 = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, d3++;
        if (!d3)
            return false;
    }
    return i == n;
}

/* Make a number node whose text is valid JSON. */
static void set_number(struct loader *ld, struct ct_node *n, const char *s, size_t len)
{
    n->kind = CT_NUMBER;
    const char *p = s;
    size_t l = len;
    bool neg = false;
    if (l && (*p == '+' || *p == '-')) {
        neg = *p == '-';
        p++, l--;
    }
    if (l > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'o')) {
        /* Hex and octal integers: convert to decimal text. Too large ones stay approximate. */
        unsigned long long v = strtoull(p + 2, NULL, p[1] == 'x' ? 16 : 8);
        char tmp[32];
        int k = snprintf(tmp, sizeof(tmp), "%s%llu", neg ? "-" : "", v);
        n->u.text = ct_arena_strndup(ld->arena, tmp, (size_t)k);
        n->len = (uint32_t)k;
        n->num = neg ? -(double)v : (double)v;
        n->flags = CT_NF_INT | (v < (1ULL << 53) ? CT_NF_EXACT : 0) | (neg ? CT_NF_NEG : 0);
        return;
    }
    /* Decimal: drop '+', leading zeros, and complete "1." / ".5" to JSON's "1.0" / "0.5". */
    struct ct_buf b;
    ct_buf_init(&b, 0);
    if (neg)
        ct_buf_addc(&b, '-');
    size_t i = 0;
    while (i + 1 < l && p[i] == '0' && p[i + 1] >= '0' && p[i + 1] <= '9')
        i++;
    if (i < l && p[i] == '.')
        ct_buf_addc(&b, '0');
    bool isint = true;
    for (; i < l; i++) {
        ct_buf_addc(&b, p[i]);
        if (p[i] == '.' || p[i] == 'e' || p[i] == 'E') {
            isint = false;
            if (p[i] == '.' && (i + 1 == l || !(p[i + 1] >= '0' && p[i + 1] <= '9')))
                ct_buf_addc(&b, '0');
        }
    }
    n->u.text = ct_arena_strndup(ld->arena, b.ptr, b.len);
    n->len = (uint32_t)b.len;
    n->num = strtod(n->u.text, NULL);
    size_t digits = b.len - (neg ? 1 : 0);
    n->flags = (uint8_t)((isint ? CT_NF_INT : 0) | (neg ? CT_NF_NEG : 0) |
                         (isint && digits <= 15 ? CT_NF_EXACT : 0));
    ct_buf_deinit(&b);
}

static struct ct_node *scalar_node(struct loader *ld, const yaml_event_t *ev, bool as_key)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    struct ct_node *n = mk(ld, CT_STRING, ev->start_mark);
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (tag && !as_key) {
        if (!strcmp(tag, YAML_STR_TAG)) {
            plain = false;
        } else if (!strcmp(tag, YAML_INT_TAG) || !strcmp(tag, YAML_FLOAT_TAG)) {
            if (is_float(s, len)) {
                set_number(ld, n, s, len);
                return n;
            }
        } else if (!strcmp(tag, YAML_BOOL_TAG) || !strcmp(tag, YAML_NULL_TAG)) {
            plain = true;
        }
    }
    if (plain && !as_key) {
        if (len == 0 || (len == 1 && s[0] == '~') || !strcmp(s, "null") || !strcmp(s, "Null") ||
            !strcmp(s, "NULL")) {
            n->kind = CT_NULL;
            return n;
        }
        if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
            n->kind = CT_BOOL;
            n->flags = CT_NF_TRUE;
            return n;
        }
        if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
            n->kind = CT_BOOL;
            return n;
        }
        const char *d = s;
        size_t dl = len;
        if (dl && (*d == '-' || *d == '+'))
            d++, dl--;
        if ((dl > 2 && d[0] == '0' && d[1] == 'x' && all_digits(d + 2, dl - 2, 16)) ||
            (dl > 2 && d[0] == '0' && d[1] == 'o' && all_digits(d + 2, dl - 2, 8)) ||
            is_float(s, len)) {
            set_number(ld, n, s, len);
            return n;
        }
    }
    /* Strings: the value is copied; libyaml's buffer is freed with the event. */
    n->u.str = ct_arena_strndup(ld->arena, s, len);
    n->len = (uint32_t)len;
    return n;
}

static void fail(struct loader *ld, int code, yaml_mark_t m, const char *what, const char *arg)
{
    ct_diags_add(ld->diags, CT_SEV_ERROR, code, ld->src, (uint32_t)m.line + 1,
                 (uint32_t)m.column + 1, "%s%s%s", what, arg, arg[0] ? "'" : "");
}

/* Attach a finished child to the open container. Returns false on error. */
static bool attach_at(struct loader *ld, struct ct_node *n, uint64_t weight, uint32_t line,
                      uint32_t col)
{
    ld->total_weight += weight;
    if (ld->total_weight > ld->max_nodes) {
        ct_diags_add(ld->diags, CT_SEV_ERROR, CT_E_ALIAS, ld->src, line, col,
                     "document expands to more than %llu nodes: expected fewer aliases",
                     (unsigned long long)ld->max_nodes);
        return false;
    }
    if (!ld->nframes) {
        ld->stack = ct_xgrow(ld->stack, &ld->capstack, ld->nstack + 1, sizeof(*ld->stack));
        ld->stack[ld->nstack++] = n;
        return true;
    }
    struct frame *f = &ld->frames[ld->nframes - 1];
    f->weight += weight;
    if (f->node->kind == CT_OBJECT && ((ld->nstack - f->base) % 2) == 0) {
        /* This is a key. */
        if (n->kind == CT_OBJECT || n->kind == CT_ARRAY) {
            ct_diags_add(ld->diags, CT_SEV_ERROR, CT_E_SYNTAX, ld->src, n->line, n->col,
                         "complex mapping key: expected a scalar key");
            return false;
        }
    }
    ld->stack = ct_xgrow(ld->stack, &ld->capstack, ld->nstack + 1, sizeof(*ld->stack));
    ld->stack[ld->nstack++] = n;
    return true;
}

static bool attach(struct loader *ld, struct ct_node *n, uint64_t weight)
{
    return attach_at(ld, n, weight, n->line, n->col);
}

static bool expecting_key(const struct loader *ld)
{
    if (!ld->nframes)
        return false;
    const struct frame *f = &ld->frames[ld->nframes - 1];
    return f->node->kind == CT_OBJECT && ((ld->nstack - f->base) % 2) == 0;
}

/* A key node must be a string: scalars that resolved otherwise take their source text. */
static struct ct_node *as_key_node(struct loader *ld, struct ct_node *n)
{
    if (n->kind == CT_STRING)
        return n;
    struct ct_node *k = ct_arena_zalloc(ld->arena, sizeof(*k));
    ct_node_copy(k, n);
    k->kind = CT_STRING;
    k->flags = 0;
    if (n->kind == CT_NULL) {
        k->u.str = "";
        k->len = 0;
    } else if (n->kind == CT_BOOL) {
        k->u.str = (n->flags & CT_NF_TRUE) ? "true" : "false";
        k->len = (uint32_t)strlen(k->u.str);
    } else {
        k->u.str = ct_arena_strndup(ld->arena, n->u.text, n->len);
    }
    return k;
}

static bool open_container(struct loader *ld, const yaml_event_t *ev, bool is_map)
{
    if (expecting_key(ld)) {
        fail(ld, CT_E_SYNTAX, ev->start_mark, "complex mapping key: expected a scalar key", "");
        return false;
    }
    if (ld->nframes >= ld->max_depth) {
        struct ct_diag *g = ct_diags_add(
            ld->diags, CT_SEV_ERROR, CT_E_DEPTH, ld->src, (uint32_t)ev->start_mark.line + 1,
            (uint32_t)ev->start_mark.column + 1, "nesting too deep: expected at most %u levels",
            ld->max_depth);
        (void)g;
        return false;
    }
    ld->frames = ct_xgrow(ld->frames, &ld->capframes, ld->nframes + 1, sizeof(*ld->frames));
    struct frame *f = &ld->frames[ld->nframes++];
    f->node = mk(ld, is_map ? CT_OBJECT : CT_ARRAY, ev->start_mark);
    f->base = ld->nstack;
    f->weight = 1;
    const yaml_char_t *anchor =
        is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    f->anchor = anchor ? ct_xstrdup((const char *)anchor) : NULL;
    return true;
}

static bool close_container(struct loader *ld)
{
    struct frame f = ld->frames[--ld->nframes];
    struct ct_node *n = f.node;
    size_t count = ld->nstack - f.base;
    if (n->kind == CT_OBJECT) {
        n->len = (uint32_t)(count / 2);
        struct ct_member *m = ct_arena_alloc(ld->arena, ct__obj_members_size(n->len));
        for (uint32_t i = 0; i < n->len; i++) {
            m[i].key = as_key_node(ld, ld->stack[f.base + 2 * i]);
            m[i].val = ld->stack[f.base + 2 * i + 1];
        }
        n->u.members = m;
        long first = -1, d = ct__obj_finish(n, &first);
        if (d >= 0) {
            const struct ct_node *k = m[d].key, *fk = m[first].key;
            struct ct_diag *g = ct_diags_add(
                ld->diags, CT_SEV_ERROR, CT_E_DUPKEY, ld->src, k->line, k->col,
                "duplicate key '%s': expected each key once per mapping", k->u.str);
            ct_diag_set_hint(g, "first defined at line %u, column %u", fk->line, fk->col);
            ct_free(f.anchor);
            return false;
        }
    } else {
        n->len = (uint32_t)count;
        struct ct_node **items = ct_arena_alloc(ld->arena, (count ? count : 1) * sizeof(*items));
        if (count)
            memcpy(items, ld->stack + f.base, count * sizeof(*items));
        n->u.items = items;
    }
    ld->nstack = f.base;
    if (f.anchor)
        add_anchor(ld, f.anchor, n, f.weight);
    /* The container's own weight was counted as its children arrived; add only itself. */
    ld->total_weight -= f.weight - 1;
    return attach(ld, n, f.weight);
}

static const char *yaml_problem(const yaml_parser_t *p)
{
    return p->problem ? p->problem : "malformed YAML";
}

struct ct_node *ct_yaml_parse(struct ct_arena *arena, const struct ct_source *src,
                              const struct ct_parse_limits *lim, struct ct_diags *diags)
{
    size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : (size_t)64 << 20;
    if (src->len > max_bytes) {
        ct_diags_add(diags, CT_SEV_ERROR, CT_E_TOOBIG, src, 0, 0,
                     "document is %zu bytes: expected at most %zu", src->len, max_bytes);
        return NULL;
    }
    struct loader ld = {
        .arena = arena,
        .src = src,
        .diags = diags,
        .lim = lim,
        .max_depth = lim && lim->max_depth ? lim->max_depth : 256,
        .max_nodes = lim && lim->max_nodes ? lim->max_nodes : 4000000,
    };
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)src->text, src->len);
    struct ct_node *root = NULL;
    bool ok = true, done = false;
    int docs = 0;
    while (ok && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            yaml_mark_t m = parser.problem_mark;
            struct ct_diag *g = ct_diags_add(
                diags, CT_SEV_ERROR, CT_E_SYNTAX, src, (uint32_t)m.line + 1,
                (uint32_t)m.column + 1, "%s%s%s", yaml_problem(&parser),
                parser.context ? " " : "", parser.context ? parser.context : "");
            if (m.index < src->len && src->text[m.index] == '\t')
                ct_diag_set_hint(g, "YAML does not allow tabs for indentation: use spaces");
            else if (parser.context)
                ct_diag_set_hint(g, "the construct started at line %u, column %u",
                                 (unsigned)parser.context_mark.line + 1,
                                 (unsigned)parser.context_mark.column + 1);
            ok = false;
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                fail(&ld, CT_E_SYNTAX, ev.start_mark,
                     "a second YAML document: expected one document per file", "");
                ok = false;
            }
            break;
        case YAML_SCALAR_EVENT: {
            bool key = expecting_key(&ld);
            struct ct_node *n = scalar_node(&ld, &ev, key);
            if (ev.data.scalar.anchor)
                add_anchor(&ld, ct_xstrdup((const char *)ev.data.scalar.anchor), n, 1);
            ok = attach(&ld, n, 1);
            break;
        }
        case YAML_ALIAS_EVENT: {
            struct anchor *a = find_anchor(&ld, (const char *)ev.data.alias.anchor);
            if (!a) {
                fail(&ld, CT_E_SYNTAX, ev.start_mark,
                     "unknown alias: expected an anchor defined earlier for '*",
                     (const char *)ev.data.alias.anchor);
                ok = false;
            } else {
                /* Errors point at the alias, not at the anchored node. */
                ok = attach_at(&ld, expecting_key(&ld) ? as_key_node(&ld, a->node) : a->node,
                               a->weight, (uint32_t)ev.start_mark.line + 1,
                               (uint32_t)ev.start_mark.column + 1);
            }
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
            ok = open_container(&ld, &ev, false);
            break;
        case YAML_MAPPING_START_EVENT:
            ok = open_container(&ld, &ev, true);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            ok = close_container(&ld);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    if (ok) {
        if (ld.nstack == 1) {
            root = ld.stack[0];
        } else {
            /* An empty file: no document at all. */
            ct_diags_add(diags, CT_SEV_ERROR, CT_E_SYNTAX, src, 1, 1,
                         "empty document: expected a mapping or a value");
        }
    }
    yaml_parser_delete(&parser);
    for (size_t i = 0; i < ld.nanchors; i++)
        ct_free(ld.anchors[i].name);
    for (size_t i = 0; i < ld.nframes; i++)
        ct_free(ld.frames[i].anchor);
    ct_free(ld.anchors);
    ct_free(ld.frames);
    ct_free(ld.stack);
    return root;
}
