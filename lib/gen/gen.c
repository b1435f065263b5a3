/* gen.c - generate an instance from a schema: the walk, objects, arrays and combinators.
 *
 * The unit of work is a conjunction (struct gen_conj): the schemas that all apply to one value.
 * `$ref` targets and `allOf` branches are flattened into it, so `allOf: [{$ref: Base}, {...}]`
 * is generated as one merged object (properties from every branch, the union of `required`),
 * and `additionalProperties` keeps its per-schema meaning because each property's value
 * conjunction is built from each schema of the conjunction in turn. `oneOf`/`anyOf` add one
 * branch chosen by the seed (with a discriminator, the branch's mapping key is written into the
 * discriminating property); `if` adds `if`+`then` or `else`. After a value is built, `oneOf`
 * exclusivity, `not` and the `else` path are checked with check.c and the value is rebuilt with
 * other choices when they fail.
 *
 * Recursion: values nest at most max_depth deep before the generator turns minimal (only
 * required properties, minItems items, null where allowed); optional properties that lead back
 * to a schema being generated are dropped early. A required self-reference that never ends
 * fails with a diagnostic.
 *
 * The result lives in the caller's arena; conjunctions and synthetic schemas live in a scratch
 * arena freed before returning. Nothing here keeps state between calls. */
#include "gen_impl.h"

#include "core/alloc.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOP_ATTEMPTS   8        /* whole-instance attempts (each with a derived seed) */
#define VALUE_ATTEMPTS 4        /* local attempts when oneOf/not/else checks fail */
#define NODE_BUDGET    20000u   /* values per attempt before turning minimal */
#define WORK_LIMIT     100000ul /* values per call, all attempts: bounds the time of any call */
#define CONJ_MAX       512u

/* ===================================================================== helpers =========== */

void ct__gen_fail(struct gen *g, const struct ct_node *at, const char *fmt, ...)
{
    if (g->fail_at || g->fail_msg[0]) return; /* keep the first (deepest) reason */
    g->fail_at = at;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->fail_msg, sizeof g->fail_msg, fmt, ap);
    va_end(ap);
}

const char *const ct__gen_kw_names[K_COUNT] = {
#define GEN_KW_NAME(name, text) [K_##name] = text,
    GEN_KEYWORDS(GEN_KW_NAME)
#undef GEN_KW_NAME
};

static const uint8_t kw_lens[K_COUNT] = {
#define GEN_KW_LEN(name, text) [K_##name] = sizeof(text) - 1,
    GEN_KEYWORDS(GEN_KW_LEN)
#undef GEN_KW_LEN
};

/* Keywords grouped by name length, so that looking a key up costs a few compares. */
static void kw_index_init(struct gen *g)
{
    memset(g->kw_by_len, -1, sizeof g->kw_by_len);
    for (int k = 0; k < K_COUNT; k++) {
        int8_t *slot = g->kw_by_len[kw_lens[k]];
        while (*slot >= 0)
            slot++;
        *slot = (int8_t)k;
    }
}

static int kw_of(const struct gen *g, const char *name, uint32_t len)
{
    if (len >= sizeof g->kw_by_len / sizeof g->kw_by_len[0]) return -1;
    for (const int8_t *k = g->kw_by_len[len]; *k >= 0; k++)
        if (ct__gen_kw_names[*k][0] == name[0] && !memcmp(ct__gen_kw_names[*k], name, len))
            return *k;
    return -1;
}

const struct gen_kwinfo *ct__gen_kwinfo(struct gen *g, const struct ct_node *s)
{
    void *known;
    if (ct_ptrmap_get(&g->kwm, s, &known)) {
        g->kw_last = s;
        g->kw_last_info = known;
        return known;
    }
    struct gen_kwinfo *ki = ct_arena_zalloc(&g->tmp, sizeof(*ki));
    for (uint32_t i = 0; i < s->len; i++) {
        const struct ct_node *k = s->u.members[i].key;
        int kw = kw_of(g, k->u.str, k->len);
        if (kw < 0) continue;
        ki->mask |= 1ull << kw;
        ki->idx[kw] = i < 255 ? (uint8_t)(i + 1) : 0;
    }
    ct_ptrmap_put(&g->kwm, s, ki);
    g->kw_last = s;
    g->kw_last_info = ki;
    return ki;
}

const struct ct_node *ct__gen_deref(struct gen *g, const struct ct_node *n)
{
    if (!n || n->kind != CT_OBJECT || !gkw_str(g, n, K_REF)) return n;
    void *known;
    if (ct_ptrmap_get(&g->memo, n, &known)) return known;
    const struct ct_node *t = ct_docset_deref(g->ds, n, &g->quiet);
    ct_ptrmap_put(&g->memo, n, (void *)t);
    return t;
}

bool ct__gen_has_const(const struct gen *g)
{
    return !g->o.oas30; /* draft 4 and OpenAPI 3.0 have no `const` */
}

static struct ct_node *new_node(struct ct_arena *a, enum ct_kind k)
{
    struct ct_node *n = ct_arena_zalloc(a, sizeof(*n));
    n->kind = (uint8_t)k;
    return n;
}

struct ct_node *ct__gen_null(struct gen *g)
{
    return new_node(g->out, CT_NULL);
}

struct ct_node *ct__gen_bool(struct gen *g, bool v)
{
    struct ct_node *n = new_node(g->out, CT_BOOL);
    n->flags = v ? CT_NF_TRUE : 0;
    return n;
}

static struct ct_node *str_in(struct ct_arena *a, const char *s, size_t len)
{
    struct ct_node *n = new_node(a, CT_STRING);
    n->u.str = ct_arena_strndup(a, s, len);
    n->len = (uint32_t)len;
    return n;
}

struct ct_node *ct__gen_str(struct gen *g, const char *s, size_t len)
{
    return str_in(g->out, s, len);
}

struct ct_node *ct__gen_num_lit(struct gen *g, const char *lit, size_t len)
{
    struct ct_node *n = new_node(g->out, CT_NUMBER);
    n->u.text = ct_arena_strndup(g->out, lit, len);
    n->len = (uint32_t)len;
    n->num = strtod(n->u.text, NULL);
    bool isint = !memchr(lit, '.', len) && !memchr(lit, 'e', len) && !memchr(lit, 'E', len);
    if (isint) n->flags |= CT_NF_INT;
    if (isint && n->num < 9007199254740992.0 && n->num > -9007199254740992.0)
        n->flags |= CT_NF_EXACT;
    if (len && lit[0] == '-') n->flags |= CT_NF_NEG;
    return n;
}

static struct ct_node *obj_in(struct ct_arena *a, uint32_t n)
{
    struct ct_node *o = new_node(a, CT_OBJECT);
    o->u.members = ct_arena_zalloc(a, ct__obj_members_size(n));
    o->len = n;
    return o;
}

static void obj_finish(struct ct_node *o)
{
    long first;
    (void)ct__obj_finish(o, &first);
}

static struct ct_node *copy_in(struct ct_arena *a, const struct ct_node *n)
{
    struct ct_node *c = new_node(a, (enum ct_kind)n->kind);
    c->flags = n->flags & (uint8_t)~CT_NF_INDEXED;
    switch (n->kind) {
    case CT_STRING:
        c->u.str = ct_arena_strndup(a, n->u.str, n->len);
        c->len = n->len;
        break;
    case CT_NUMBER:
        c->u.text = ct_arena_strndup(a, n->u.text, n->len);
        c->len = n->len;
        c->num = n->num;
        break;
    case CT_ARRAY:
        c->len = n->len;
        c->u.items = ct_arena_alloc(a, (n->len ? n->len : 1) * sizeof(*c->u.items));
        for (uint32_t i = 0; i < n->len; i++)
            c->u.items[i] = copy_in(a, n->u.items[i]);
        break;
    case CT_OBJECT: {
        struct ct_node *o = obj_in(a, n->len);
        o->line = 0;
        for (uint32_t i = 0; i < n->len; i++) {
            o->u.members[i].key = copy_in(a, n->u.members[i].key);
            o->u.members[i].val = copy_in(a, n->u.members[i].val);
        }
        obj_finish(o);
        return o;
    }
    default:
        break;
    }
    return c;
}

struct ct_node *ct__gen_copy(struct gen *g, const struct ct_node *n)
{
    return copy_in(g->out, n);
}

/* ===================================================================== conjunctions ====== */

static void conj_push(struct gen *g, struct gen_conj *c, const struct ct_node *n)
{
    if (c->n >= CONJ_MAX) return;
    if (c->n + 1 > c->cap) {
        uint32_t ncap = c->cap ? c->cap * 2 : 8;
        const struct ct_node **nv = ct_arena_alloc(&g->tmp, ncap * sizeof(*nv));
        if (c->n) memcpy(nv, c->v, c->n * sizeof(*nv));
        c->v = nv;
        c->cap = ncap;
    }
    c->v[c->n++] = n;
}

static bool conj_has(const struct gen_conj *c, const struct ct_node *n)
{
    for (uint32_t i = 0; i < c->n; i++)
        if (c->v[i] == n) return true;
    return false;
}

/* Add a schema and everything it brings by `$ref` and `allOf`. */
static void conj_add(struct gen *g, struct gen_conj *c, const struct ct_node *s)
{
    if (!s) return;
    if (s->kind == CT_BOOL) {
        if (!(s->flags & CT_NF_TRUE) && !c->contradiction) {
            c->contradiction = true;
            c->false_at = s;
        }
        return;
    }
    if (s->kind != CT_OBJECT || conj_has(c, s)) return;
    const struct ct_node *ref = gkw(g, s, K_REF);
    if (ref && ref->kind == CT_STRING) {
        const struct ct_node *t = ct__gen_deref(g, s);
        if (!t) {
            if (!c->contradiction) {
                c->contradiction = true;
                c->false_at = s;
            }
            return;
        }
        if (!c->refname) {
            const char *slash = strrchr(ref->u.str, '/');
            c->refname = slash ? slash + 1 : ref->u.str;
            c->ref_target = t;
        }
        if (g->o.oas30) {
            /* OpenAPI 3.0 / draft 4: a $ref replaces its siblings. */
            conj_add(g, c, t);
            return;
        }
        conj_push(g, c, s);
        conj_add(g, c, t);
    } else {
        conj_push(g, c, s);
    }
    /* `not: true`, `not: {}` and a `not` with nothing but annotations reject everything. */
    const struct ct_node *nt = gkw(g, s, K_NOT);
    const uint64_t annotations = KB(K_EXAMPLE) | KB(K_EXAMPLES) | KB(K_DEFAULT) | KB(K_READ_ONLY) |
                                 KB(K_WRITE_ONLY) | KB(K_NULLABLE) | KB(K_DISCRIMINATOR);
    if (nt &&
        ((nt->kind == CT_BOOL && (nt->flags & CT_NF_TRUE)) ||
         (nt->kind == CT_OBJECT && !(ct__gen_kwinfo(g, nt)->mask & ~annotations))) &&
        !c->contradiction) {
        c->contradiction = true;
        c->false_at = nt;
    }
    const struct ct_node *all = gkw(g, s, K_ALL_OF);
    if (all && all->kind == CT_ARRAY)
        for (uint32_t i = 0; i < all->len; i++)
            conj_add(g, c, all->u.items[i]);
}

/* ===================================================================== synthetic schemas == */

/* {"properties": {name: {"enum": [value]}}, "required": [name]} and, with `object`,
 * "type": "object" (a discriminator with oneOf/anyOf only accepts objects): forces a
 * discriminator. */
static const struct ct_node *force_prop(struct gen *g, const char *name, const char *value,
                                        bool object)
{
    struct ct_arena *a = &g->tmp;
    struct ct_node *arr = new_node(a, CT_ARRAY);
    arr->len = 1;
    arr->u.items = ct_arena_alloc(a, sizeof(*arr->u.items));
    arr->u.items[0] = str_in(a, value, strlen(value));
    struct ct_node *en = obj_in(a, 1);
    en->u.members[0].key = str_in(a, "enum", 4);
    en->u.members[0].val = arr;
    obj_finish(en);
    struct ct_node *props = obj_in(a, 1);
    props->u.members[0].key = str_in(a, name, strlen(name));
    props->u.members[0].val = en;
    obj_finish(props);
    struct ct_node *req = new_node(a, CT_ARRAY);
    req->len = 1;
    req->u.items = ct_arena_alloc(a, sizeof(*req->u.items));
    req->u.items[0] = str_in(a, name, strlen(name));
    struct ct_node *s = obj_in(a, object ? 3 : 2);
    s->u.members[0].key = str_in(a, "properties", 10);
    s->u.members[0].val = props;
    s->u.members[1].key = str_in(a, "required", 8);
    s->u.members[1].val = req;
    if (object) {
        s->u.members[2].key = str_in(a, "type", 4);
        s->u.members[2].val = str_in(a, "object", 6);
    }
    obj_finish(s);
    return s;
}

/* ===================================================================== types ============= */

static unsigned type_bit(const char *t)
{
    if (!strcmp(t, "null")) return GT_NULL;
    if (!strcmp(t, "boolean")) return GT_BOOL;
    if (!strcmp(t, "integer")) return GT_INT;
    if (!strcmp(t, "number")) return GT_INT | GT_NUM;
    if (!strcmp(t, "string")) return GT_STR;
    if (!strcmp(t, "array")) return GT_ARR;
    if (!strcmp(t, "object")) return GT_OBJ;
    return 0;
}

/* The types one schema object allows by its `type` (and 3.0 `nullable`). */
static unsigned own_types(struct gen *g, const struct ct_node *s)
{
    const struct ct_node *t = gkw(g, s, K_TYPE);
    if (!t) return GT_ALL;
    unsigned bits = 0;
    if (t->kind == CT_STRING)
        bits = type_bit(t->u.str);
    else if (t->kind == CT_ARRAY)
        for (uint32_t i = 0; i < t->len; i++)
            if (t->u.items[i]->kind == CT_STRING) bits |= type_bit(t->u.items[i]->u.str);
    if (g->o.oas30 && gkw_true(g, s, K_NULLABLE)) bits |= GT_NULL;
    return bits;
}

static unsigned kind_bit(const struct ct_node *v)
{
    switch (v->kind) {
    case CT_NULL:
        return GT_NULL;
    case CT_BOOL:
        return GT_BOOL;
    case CT_NUMBER:
        return ct_num_is_integer(v) ? GT_INT | GT_NUM : GT_NUM;
    case CT_STRING:
        return GT_STR;
    case CT_ARRAY:
        return GT_ARR;
    default:
        return GT_OBJ;
    }
}

/* A cheap estimate of the types a branch allows: its own `type`, `const`/`enum`, and those of
 * its $ref and allOf, a few levels deep. Used to choose oneOf branches that can work. */
static unsigned shallow_types(struct gen *g, const struct ct_node *s, int depth)
{
    s = ct__gen_deref(g, s);
    if (!s) return 0;
    if (s->kind == CT_BOOL) return (s->flags & CT_NF_TRUE) ? GT_ALL : 0;
    if (s->kind != CT_OBJECT) return GT_ALL;
    unsigned t = own_types(g, s);
    const struct ct_node *v;
    if (ct__gen_has_const(g) && (v = gkw(g, s, K_CONST))) t &= kind_bit(v);
    if ((v = gkw(g, s, K_ENUM)) && v->kind == CT_ARRAY) {
        unsigned e = 0;
        for (uint32_t i = 0; i < v->len; i++)
            e |= kind_bit(v->u.items[i]);
        if (g->o.oas30 && gkw_true(g, s, K_NULLABLE)) e |= GT_NULL;
        t &= e;
    }
    if (depth < 4 && (v = gkw(g, s, K_ALL_OF)) && v->kind == CT_ARRAY)
        for (uint32_t i = 0; i < v->len; i++)
            t &= shallow_types(g, v->u.items[i], depth + 1);
    return t;
}

/* ===================================================================== recursion ========= */

static bool on_stack(const struct gen *g, const struct ct_node *n)
{
    for (unsigned i = 0; i < g->nstack; i++)
        if (g->stack[i] == n) return true;
    return false;
}

/* Does generating `s` lead straight back into a schema being generated (itself, or as the
 * items of an array)? */
static bool is_recursive(struct gen *g, const struct ct_node *s)
{
    for (int hop = 0; hop < 3 && s; hop++) {
        const struct ct_node *t = ct__gen_deref(g, s);
        if (!t || t->kind != CT_OBJECT) return false;
        if (on_stack(g, t) || on_stack(g, s)) return true;
        const struct ct_node *items = gkw(g, t, K_ITEMS);
        const struct ct_node *ap = gkw(g, t, K_ADDITIONAL_PROPERTIES);
        if (items && items->kind == CT_OBJECT)
            s = items;
        else if (ap && ap->kind == CT_OBJECT)
            s = ap;
        else
            return false;
    }
    return false;
}

static bool minimal_mode(const struct gen *g)
{
    return g->depth >= g->o.max_depth || g->nodes > NODE_BUDGET;
}

/* ===================================================================== values ============ */

static struct ct_node *gen_value(struct gen *g, struct gen_conj *c, const char *hint);

static struct ct_node *gen_schema(struct gen *g, const struct ct_node *s, const char *hint)
{
    struct gen_conj c = {0};
    conj_add(g, &c, s);
    return gen_value(g, &c, hint);
}

/* "tags" -> "tag", "categories" -> "category": a hint for array items. */
static const char *singular(struct gen *g, const char *hint)
{
    if (!hint) return NULL;
    size_t n = strlen(hint);
    if (n > 3 && !strcmp(hint + n - 3, "ies")) {
        char *s = ct_arena_alloc(&g->tmp, n);
        memcpy(s, hint, n - 3);
        memcpy(s + n - 3, "y", 2);
        return s;
    }
    if (n > 1 && hint[n - 1] == 's' && hint[n - 2] != 's')
        return ct_arena_strndup(&g->tmp, hint, n - 1);
    return hint;
}

/* --- objects ------------------------------------------------------------------------------ */

struct prop {
    const char *name;
    uint32_t len;
    bool required;
    bool include;
    bool forbidden;     /* additionalProperties: false, propertyNames, ... */
    bool rw_skip;       /* readOnly in a request, writeOnly in a response */
    struct gen_conj pc; /* the schemas of the value (from prop_conj) */
    struct ct_node *value;
};

struct props {
    struct prop *v;
    uint32_t n, cap;
};

static struct prop *props_find(struct props *p, const char *name, uint32_t len)
{
    for (uint32_t i = 0; i < p->n; i++)
        if (p->v[i].len == len && !memcmp(p->v[i].name, name, len)) return &p->v[i];
    return NULL;
}

static struct prop *props_add(struct gen *g, struct props *p, const char *name, uint32_t len)
{
    struct prop *f = props_find(p, name, len);
    if (f) return f;
    if (p->n + 1 > p->cap) {
        uint32_t ncap = p->cap ? p->cap * 2 : 16;
        struct prop *nv = ct_arena_alloc(&g->tmp, ncap * sizeof(*nv));
        if (p->n) memcpy(nv, p->v, p->n * sizeof(*nv));
        p->v = nv;
        p->cap = ncap;
    }
    struct prop *q = &p->v[p->n++];
    memset(q, 0, sizeof(*q));
    q->name = name;
    q->len = len;
    return q;
}

bool ct__gen_ctx_person(struct gen *g)
{
    if (g->ctx_person >= 0) return g->ctx_person;
    bool person = ct__gen_person_hint(g->ctx_name, false);
    const struct props *ps = g->ctx_props;
    for (uint32_t i = 0; ps && i < ps->n && !person; i++) {
        char name[64];
        if (!ps->v[i].include || ps->v[i].len >= sizeof name) continue;
        memcpy(name, ps->v[i].name, ps->v[i].len);
        name[ps->v[i].len] = 0;
        person = ct__gen_person_hint(name, true);
    }
    g->ctx_person = person;
    return person;
}

/* readOnly/writeOnly of a property schema, looked up the way the validator does: on the schema
 * and along its chain of `$ref`s (not inside allOf). 1: readOnly, 2: writeOnly. */
static unsigned prop_rw(struct gen *g, const struct ct_node *s)
{
    for (int hop = 0; hop < 8 && s && s->kind == CT_OBJECT; hop++) {
        unsigned rw =
            (gkw_true(g, s, K_READ_ONLY) ? 1u : 0u) | (gkw_true(g, s, K_WRITE_ONLY) ? 2u : 0u);
        if (rw) return rw;
        if (!gkw_str(g, s, K_REF)) return 0;
        s = ct__gen_deref(g, s);
    }
    return 0;
}

static bool rw_skipped(struct gen *g, const struct gen_conj *c, const char *name, uint32_t len)
{
    for (uint32_t i = 0; i < c->n; i++) {
        const struct ct_node *ps = gkw(g, c->v[i], K_PROPERTIES);
        const struct ct_node *p = ps ? ct_obj_getn(ps, name, len) : NULL;
        if (!p) continue;
        unsigned rw = prop_rw(g, p);
        if ((rw & 1) && g->o.direction == CT_DIR_REQUEST) return true;
        if ((rw & 2) && g->o.direction == CT_DIR_RESPONSE) return true;
    }
    return false;
}

/* Was this applicator's branch chosen into the conjunction? */
static bool chosen(struct gen *g, const struct gen_conj *c, const struct ct_node *b)
{
    return b && (conj_has(c, b) || conj_has(c, ct__gen_deref(g, b)));
}

/* Does schema s (with what it contains: $ref, allOf, and the anyOf/oneOf/if branches chosen into
 * the conjunction) evaluate property `name`? For unevaluatedProperties, which sees only the
 * annotations of its own schema object and its subschemas. */
static bool evaluates_prop(struct gen *g, const struct gen_conj *c, const struct ct_node *s,
                           const char *name, uint32_t len, int depth)
{
    if (!s || s->kind != CT_OBJECT || depth > 16) return false;
    if (depth > 0 && gkw(g, s, K_UNEVALUATED_PROPERTIES)) return true;
    const struct ct_node *ps = gkw(g, s, K_PROPERTIES);
    if ((ps && ct_obj_getn(ps, name, len)) || gkw(g, s, K_ADDITIONAL_PROPERTIES)) return true;
    const struct ct_node *pp = gkw(g, s, K_PATTERN_PROPERTIES);
    for (uint32_t j = 0; pp && pp->kind == CT_OBJECT && j < pp->len; j++) {
        const struct ct_node *k = pp->u.members[j].key;
        if (ct__gen_re_search(g->re, k->u.str, k->len, name, len) == 1) return true;
    }
    if (gkw(g, s, K_REF) && evaluates_prop(g, c, ct__gen_deref(g, s), name, len, depth + 1))
        return true;
    static const enum gen_kw apps[] = {K_ALL_OF, K_ANY_OF, K_ONE_OF};
    for (int a = 0; a < 3; a++) {
        const struct ct_node *v = gkw(g, s, apps[a]);
        for (uint32_t i = 0; v && v->kind == CT_ARRAY && i < v->len; i++)
            if ((a == 0 || chosen(g, c, v->u.items[i])) &&
                evaluates_prop(g, c, v->u.items[i], name, len, depth + 1))
                return true;
    }
    const struct ct_node *ifs = gkw(g, s, K_IF);
    if (ifs && chosen(g, c, ifs) &&
        (evaluates_prop(g, c, ifs, name, len, depth + 1) ||
         evaluates_prop(g, c, gkw(g, s, K_THEN), name, len, depth + 1)))
        return true;
    const struct ct_node *el = gkw(g, s, K_ELSE);
    return el && chosen(g, c, el) && evaluates_prop(g, c, el, name, len, depth + 1);
}

/* The schemas that apply to the value of property `name`, and whether the name is allowed at
 * all. Each schema of the conjunction contributes its `properties` entry, its matching
 * `patternProperties`, or else its `additionalProperties`. */
static bool prop_conj(struct gen *g, const struct gen_conj *c, const char *name, uint32_t len,
                      struct gen_conj *out)
{
    memset(out, 0, sizeof(*out));
    bool allowed = true;
    struct ct_node key = {.kind = CT_STRING, .u.str = name, .len = len};
    for (uint32_t i = 0; i < c->n; i++) {
        const struct ct_node *s = c->v[i];
        if (s->kind != CT_OBJECT) continue;
        bool matched = false;
        const struct ct_node *ps = gkw(g, s, K_PROPERTIES);
        const struct ct_node *p = ps ? ct_obj_getn(ps, name, len) : NULL;
        if (p) {
            conj_add(g, out, p);
            matched = true;
        }
        const struct ct_node *pp = gkw(g, s, K_PATTERN_PROPERTIES);
        if (pp && pp->kind == CT_OBJECT) {
            for (uint32_t j = 0; j < pp->len; j++) {
                const struct ct_node *k = pp->u.members[j].key;
                int rc = ct__gen_re_search(g->re, k->u.str, k->len, name, len);
                if (rc == 1) {
                    conj_add(g, out, pp->u.members[j].val);
                    matched = true;
                }
                out->uncertain |= rc < 0;
            }
        }
        const struct ct_node *ap = gkw(g, s, K_ADDITIONAL_PROPERTIES);
        if (!matched && ap) {
            if (ap->kind == CT_BOOL && !(ap->flags & CT_NF_TRUE))
                allowed = false;
            else
                conj_add(g, out, ap);
        }
        if (!g->o.oas30) {
            const struct ct_node *pn = gkw(g, s, K_PROPERTY_NAMES);
            if (pn) {
                g->ck_quiet++;
                bool ok = ct__gen_check(g, &key, pn);
                g->ck_quiet--;
                if (!ok) allowed = false;
            }
            const struct ct_node *ue = gkw(g, s, K_UNEVALUATED_PROPERTIES);
            if (ue && !evaluates_prop(g, c, s, name, len, 0)) {
                if (ue->kind == CT_BOOL && !(ue->flags & CT_NF_TRUE))
                    allowed = false;
                else
                    conj_add(g, out, ue);
            }
        }
    }
    if (out->contradiction) allowed = false;
    return allowed;
}

static unsigned optional_chance(const struct gen *g)
{
    static const unsigned by_depth[] = {90, 85, 70, 50, 35, 25, 20, 15};
    return g->depth < 8 ? by_depth[g->depth] : 10;
}

static uint64_t count_kw(const struct ct_node *v, uint64_t dflt)
{
    if (!v || v->kind != CT_NUMBER || (v->flags & CT_NF_NEG)) return dflt;
    return v->num >= 1.8e19 ? UINT64_MAX : (uint64_t)v->num;
}

/* A fresh key for a map-like object: from propertyNames, a patternProperties pattern, or a
 * readable word. */
static bool extra_key(struct gen *g, const struct gen_conj *c, const struct props *ps,
                      struct ct_buf *key)
{
    const struct ct_node *pn = NULL, *pat = NULL;
    bool addl_ok = true;
    for (uint32_t i = 0; i < c->n; i++) {
        const struct ct_node *s = c->v[i];
        const struct ct_node *v;
        if (!g->o.oas30 && !pn && (v = gkw(g, s, K_PROPERTY_NAMES))) pn = v;
        if (!pat && (v = gkw(g, s, K_PATTERN_PROPERTIES)) && v->kind == CT_OBJECT && v->len)
            pat = v->u.members[gen_below(g, v->len)].key;
        v = gkw(g, s, K_ADDITIONAL_PROPERTIES);
        if (v && v->kind == CT_BOOL && !(v->flags & CT_NF_TRUE)) addl_ok = false;
    }
    for (int t = 0; t < 12; t++) {
        key->len = 0;
        if (pn) {
            struct gen_conj kc = {0};
            conj_add(g, &kc, pn);
            struct ct_node *k = gen_value(g, &kc, "key");
            if (!k || k->kind != CT_STRING) continue;
            ct_buf_add(key, k->u.str, k->len);
        } else if (pat && (!addl_ok || t % 2 == 1)) {
            if (!ct__gen_regex(g, pat->u.str, pat->len, 1, 24, key)) continue;
        } else {
            ct_buf_adds(key, ct__gen_word(g));
            if (t >= 4) ct_buf_printf(key, "%u", (unsigned)gen_below(g, 1000));
        }
        const char *k = ct_buf_cstr(key);
        if (!props_find((struct props *)ps, k, (uint32_t)key->len)) return true;
    }
    return false;
}

static void dependent_required(struct gen *g, const struct gen_conj *c, struct props *ps,
                               const struct prop *p)
{
    for (uint32_t i = 0; i < c->n; i++) {
        const struct ct_node *s = c->v[i];
        const struct ct_node *d = gkw(g, s, g->o.oas30 ? K_DEPENDENCIES : K_DEPENDENT_REQUIRED);
        const struct ct_node *list = d ? ct_obj_getn(d, p->name, p->len) : NULL;
        if (!list || list->kind != CT_ARRAY) continue;
        for (uint32_t j = 0; j < list->len; j++) {
            const struct ct_node *n = list->u.items[j];
            if (n->kind != CT_STRING) continue;
            struct prop *q = props_add(g, ps, n->u.str, n->len);
            q->required = true;
        }
    }
}

static struct ct_node *gen_object(struct gen *g, struct gen_conj *c, const char *hint, bool minimal)
{
    struct props ps = {0};
    uint64_t minp = 0, maxp = UINT64_MAX;
    bool maplike = true; /* no named properties: a map, filled from additionalProperties */
    bool has_addl_schema = false;
    const struct ct_node *at = c->n ? c->v[0] : NULL;
    /* dependentSchemas may add schemas to the conjunction: then collect again. */
    for (int round = 0; round < 3; round++) {
        uint32_t n_before = c->n;
        ps.n = 0;
        minp = 0;
        maxp = UINT64_MAX;
        for (uint32_t i = 0; i < c->n; i++) {
            const struct ct_node *s = c->v[i];
            const struct ct_node *v;
            if ((v = gkw(g, s, K_PROPERTIES)) && v->kind == CT_OBJECT) {
                for (uint32_t j = 0; j < v->len; j++)
                    props_add(g, &ps, v->u.members[j].key->u.str, v->u.members[j].key->len);
                maplike &= v->len == 0;
            }
            if ((v = gkw(g, s, K_ADDITIONAL_PROPERTIES)) && v->kind == CT_OBJECT)
                has_addl_schema = true;
            if ((v = gkw(g, s, K_PATTERN_PROPERTIES)) && v->kind == CT_OBJECT && v->len)
                has_addl_schema = true;
            uint64_t x = count_kw(gkw(g, s, K_MIN_PROPERTIES), 0);
            if (x > minp) minp = x;
            x = count_kw(gkw(g, s, K_MAX_PROPERTIES), UINT64_MAX);
            if (x < maxp) maxp = x;
        }
        for (uint32_t i = 0; i < c->n; i++) {
            const struct ct_node *r = gkw(g, c->v[i], K_REQUIRED);
            if (!r || r->kind != CT_ARRAY) continue;
            for (uint32_t j = 0; j < r->len; j++)
                if (r->u.items[j]->kind == CT_STRING)
                    props_add(g, &ps, r->u.items[j]->u.str, r->u.items[j]->len)->required = true;
        }
        if (minp > maxp) {
            ct__gen_fail(g, at, "minProperties %llu is greater than maxProperties %llu",
                         (unsigned long long)minp, (unsigned long long)maxp);
            return NULL;
        }
        if (minp > 10000) {
            ct__gen_fail(g, at, "minProperties %llu is too large to generate",
                         (unsigned long long)minp);
            return NULL;
        }
        /* Decide who is in. */
        for (uint32_t i = 0; i < ps.n; i++) {
            struct prop *p = &ps.v[i];
            struct gen_conj *pc = &p->pc;
            p->forbidden = !prop_conj(g, c, p->name, p->len, pc) || (pc->uncertain && !p->required);
            p->rw_skip = g->o.direction != CT_DIR_NONE && rw_skipped(g, c, p->name, p->len);
            if (p->forbidden || p->rw_skip) {
                p->include = false;
                continue;
            }
            if (p->required) {
                p->include = true;
            } else if (minimal) {
                p->include = false;
            } else {
                const struct ct_node *first = pc->n ? pc->v[0] : NULL;
                bool rec = first && is_recursive(g, first);
                p->include =
                    rec ? (g->depth < 2 && gen_chance(g, 40)) : gen_chance(g, optional_chance(g));
            }
        }
        for (uint32_t i = 0; i < ps.n; i++)
            if (ps.v[i].include) dependent_required(g, c, &ps, &ps.v[i]);
        for (uint32_t i = 0; i < ps.n; i++) {
            struct prop *p = &ps.v[i];
            if (p->required && !p->include && !p->rw_skip) {
                if (p->forbidden) {
                    ct__gen_fail(g, at,
                                 "required property '%.*s' is not allowed by the schema "
                                 "(additionalProperties, propertyNames or a false schema)",
                                 (int)p->len, p->name);
                    return NULL;
                }
                p->forbidden = !prop_conj(g, c, p->name, p->len, &p->pc);
                p->include = !p->forbidden;
            }
        }
        /* dependentSchemas (dependencies with a schema in 3.0) of included properties. */
        for (uint32_t i = 0; i < ps.n; i++) {
            if (!ps.v[i].include) continue;
            for (uint32_t j = 0; j < n_before; j++) {
                const struct ct_node *d =
                    gkw(g, c->v[j], g->o.oas30 ? K_DEPENDENCIES : K_DEPENDENT_SCHEMAS);
                const struct ct_node *sch = d ? ct_obj_getn(d, ps.v[i].name, ps.v[i].len) : NULL;
                if (sch && sch->kind != CT_ARRAY) conj_add(g, c, sch);
            }
        }
        if (c->n == n_before) break;
    }
    /* maxProperties: drop optional ones from the end. */
    uint64_t count = 0;
    for (uint32_t i = 0; i < ps.n; i++)
        count += ps.v[i].include;
    for (uint32_t i = ps.n; i-- > 0 && count > maxp;) {
        if (ps.v[i].include && !ps.v[i].required) {
            ps.v[i].include = false;
            count--;
        }
    }
    if (count > maxp) {
        ct__gen_fail(g, at, "more properties are required than maxProperties %llu allows",
                     (unsigned long long)maxp);
        return NULL;
    }
    /* minProperties: first optional named ones. */
    for (uint32_t i = 0; i < ps.n && count < minp; i++) {
        struct prop *p = &ps.v[i];
        if (!p->include && !p->forbidden && !p->rw_skip) {
            p->include = true;
            count++;
        }
    }
    /* Generate the values. */
    const char *saved_ctx = g->ctx_name;
    uint64_t saved_persona = g->persona;
    int8_t saved_person = g->ctx_person;
    const void *saved_props = g->ctx_props;
    g->ctx_name = c->refname ? c->refname : hint;
    g->persona = gen_rand(g);
    g->ctx_person = -1; /* decided when a "name" needs it (ct__gen_ctx_person) */
    g->ctx_props = &ps;
    g->depth++;
    for (uint32_t i = 0; i < ps.n; i++) {
        struct prop *p = &ps.v[i];
        if (!p->include) continue;
        const char *name = ct_arena_strndup(&g->tmp, p->name, p->len);
        p->value = gen_value(g, &p->pc, name);
        if (!p->value) {
            if (p->required) {
                g->depth--;
                g->ctx_name = saved_ctx;
                g->persona = saved_persona;
                g->ctx_person = saved_person;
                g->ctx_props = saved_props;
                return NULL;
            }
            p->include = false;
            count--;
            g->fail_at = NULL; /* an optional property may simply be left out */
            g->fail_msg[0] = 0;
        }
    }
    /* Extra entries: a map's own entries, or more keys for minProperties. */
    uint64_t want_extra = 0;
    if (count < minp)
        want_extra = minp - count;
    else if (maplike && has_addl_schema && !minimal && count < maxp)
        want_extra = 1 + gen_below(g, 2);
    if (count + want_extra > maxp) want_extra = maxp - count;
    struct ct_buf key;
    ct_buf_init(&key, 0);
    for (uint64_t e = 0; e < want_extra; e++) {
        if (!extra_key(g, c, &ps, &key)) break;
        struct gen_conj pc;
        if (!prop_conj(g, c, key.ptr, (uint32_t)key.len, &pc) || pc.uncertain) continue;
        const char *kname = ct_arena_strndup(&g->tmp, key.ptr, key.len);
        struct ct_node *v = gen_value(g, &pc, kname);
        if (!v) continue;
        struct prop *p = props_add(g, &ps, kname, (uint32_t)key.len);
        p->include = true;
        p->value = v;
        count++;
    }
    ct_buf_deinit(&key);
    g->depth--;
    g->ctx_name = saved_ctx;
    g->persona = saved_persona;
    g->ctx_person = saved_person;
    g->ctx_props = saved_props;
    if (count < minp) {
        ct__gen_fail(g, at, "could not generate the %llu properties minProperties asks for",
                     (unsigned long long)minp);
        return NULL;
    }
    struct ct_node *o = obj_in(g->out, (uint32_t)count);
    uint32_t k = 0;
    for (uint32_t i = 0; i < ps.n; i++) {
        if (!ps.v[i].include || !ps.v[i].value) continue;
        o->u.members[k].key = str_in(g->out, ps.v[i].name, ps.v[i].len);
        o->u.members[k].val = ps.v[i].value;
        k++;
    }
    o->len = k;
    obj_finish(o);
    return o;
}

/* --- arrays ------------------------------------------------------------------------------- */

/* The schemas for item i; false when no item may be at position i. */
static bool item_conj(struct gen *g, const struct gen_conj *c, uint32_t i, struct gen_conj *out)
{
    memset(out, 0, sizeof(*out));
    bool modern = !g->o.oas30;
    for (uint32_t j = 0; j < c->n; j++) {
        const struct ct_node *s = c->v[j];
        const struct ct_node *items = gkw(g, s, K_ITEMS);
        const struct ct_node *prefix = modern ? gkw(g, s, K_PREFIX_ITEMS) : NULL;
        const struct ct_node *rest = NULL;
        if (items && items->kind == CT_ARRAY) {
            prefix = items; /* the old tuple form */
            rest = modern ? NULL : gkw(g, s, K_ADDITIONAL_ITEMS);
        } else {
            rest = items;
        }
        if (prefix && prefix->kind == CT_ARRAY && i < prefix->len)
            conj_add(g, out, prefix->u.items[i]);
        else if (rest)
            conj_add(g, out, rest);
    }
    return !out->contradiction;
}

/* How many leading items a schema evaluates by itself (prefixItems, items, and through $ref and
 * allOf), for unevaluatedItems. Conservative: anyOf, oneOf, if and contains evaluate depending on
 * the instance and are not counted, so the cap is never too high. */
static uint64_t eval_items_len(struct gen *g, const struct gen_conj *c, const struct ct_node *s,
                               int depth)
{
    if (!s || s->kind != CT_OBJECT || depth > 16) return 0;
    const struct ct_node *items = gkw(g, s, K_ITEMS);
    if (items && items->kind != CT_ARRAY) return UINT64_MAX;
    if (depth > 0 && gkw(g, s, K_UNEVALUATED_ITEMS)) return UINT64_MAX;
    const struct ct_node *prefix = items ? items : gkw(g, s, K_PREFIX_ITEMS);
    uint64_t n = prefix && prefix->kind == CT_ARRAY ? prefix->len : 0, x;
    if (gkw(g, s, K_REF) && (x = eval_items_len(g, c, ct__gen_deref(g, s), depth + 1)) > n) n = x;
    static const enum gen_kw apps[] = {K_ALL_OF, K_ANY_OF, K_ONE_OF};
    for (int a = 0; a < 3; a++) {
        const struct ct_node *v = gkw(g, s, apps[a]);
        for (uint32_t i = 0; v && v->kind == CT_ARRAY && i < v->len; i++)
            if ((a == 0 || chosen(g, c, v->u.items[i])) &&
                (x = eval_items_len(g, c, v->u.items[i], depth + 1)) > n)
                n = x;
    }
    const struct ct_node *ifs = gkw(g, s, K_IF), *el = gkw(g, s, K_ELSE);
    if (ifs && chosen(g, c, ifs)) {
        if ((x = eval_items_len(g, c, ifs, depth + 1)) > n) n = x;
        if ((x = eval_items_len(g, c, gkw(g, s, K_THEN), depth + 1)) > n) n = x;
    } else if (el && chosen(g, c, el) && (x = eval_items_len(g, c, el, depth + 1)) > n) {
        n = x;
    }
    return n;
}

static struct ct_node *gen_array(struct gen *g, struct gen_conj *c, const char *hint, bool minimal)
{
    uint64_t mini = 0, maxi = UINT64_MAX, minc = 0, maxc = UINT64_MAX;
    bool unique = false;
    const struct ct_node *contains[4];
    unsigned ncontains = 0;
    const struct ct_node *at = c->n ? c->v[0] : NULL;
    for (uint32_t i = 0; i < c->n; i++) {
        const struct ct_node *s = c->v[i];
        uint64_t x = count_kw(gkw(g, s, K_MIN_ITEMS), 0);
        if (x > mini) mini = x;
        x = count_kw(gkw(g, s, K_MAX_ITEMS), UINT64_MAX);
        if (x < maxi) maxi = x;
        unique |= gkw_true(g, s, K_UNIQUE_ITEMS);
        const struct ct_node *ct = g->o.oas30 ? NULL : gkw(g, s, K_CONTAINS);
        if (ct && ncontains < 4) {
            contains[ncontains++] = ct;
            x = count_kw(gkw(g, s, K_MIN_CONTAINS), 1);
            if (x > minc) minc = x;
            x = count_kw(gkw(g, s, K_MAX_CONTAINS), UINT64_MAX);
            if (x < maxc) maxc = x;
        }
    }
    /* unevaluatedItems (2019-09+): false caps the count; a schema applies past the evaluated
     * prefix. */
    uint64_t ue_from = UINT64_MAX;
    const struct ct_node *ue_schema = NULL;
    for (uint32_t i = 0; !g->o.oas30 && i < c->n; i++) {
        const struct ct_node *ue = gkw(g, c->v[i], K_UNEVALUATED_ITEMS);
        if (!ue) continue;
        uint64_t ev = eval_items_len(g, c, c->v[i], 0);
        if (ue->kind == CT_BOOL && !(ue->flags & CT_NF_TRUE)) {
            if (ev < maxi) maxi = ev;
        } else if (ue->kind == CT_OBJECT && ev < ue_from) {
            ue_from = ev;
            ue_schema = ue;
        }
    }
    if (mini > maxi || minc > maxc || minc > maxi) {
        ct__gen_fail(g, at, "the item counts (minItems, maxItems, minContains) contradict");
        return NULL;
    }
    if (mini > 10000) {
        ct__gen_fail(g, at, "minItems %llu is too large to generate", (unsigned long long)mini);
        return NULL;
    }
    uint64_t lo = mini > minc ? mini : minc;
    uint64_t cap = g->o.max_items;
    struct gen_conj first;
    if (item_conj(g, c, 0, &first) && first.n && is_recursive(g, first.v[0]) && g->depth >= 2)
        cap = 0;
    if (g->depth >= 3 && cap > 1) cap = 1;
    uint64_t n;
    if (minimal || cap == 0) {
        n = lo;
    } else {
        uint64_t top = cap > lo ? cap : lo;
        uint64_t bottom = lo > 1 ? lo : 1;
        n = bottom + gen_below(g, top - bottom + 1);
    }
    if (n > maxi) n = maxi;
    struct ct_node **items = ct_arena_alloc(g->out, (n ? n : 1) * sizeof(*items));
    uint32_t got = 0;
    const char *ihint = singular(g, hint);
    g->depth++;
    for (uint64_t i = 0; i < n; i++) {
        struct gen_conj ic;
        if (!item_conj(g, c, (uint32_t)i, &ic)) break;
        if (ue_schema && i >= ue_from) conj_add(g, &ic, ue_schema);
        bool want_contains = got < minc;
        if (want_contains)
            for (unsigned k = 0; k < ncontains; k++)
                conj_add(g, &ic, contains[k]);
        struct ct_node *v = NULL;
        for (int t = 0; t < 8; t++) {
            v = gen_value(g, &ic, ihint);
            if (!v) break;
            bool dup = false;
            for (uint32_t j = 0; unique && j < got && !dup; j++)
                dup = ct_node_equal(items[j], v);
            bool too_many = false;
            if (!want_contains && ncontains && maxc != UINT64_MAX) {
                uint64_t matching = 0;
                g->ck_quiet++;
                for (uint32_t j = 0; j < got; j++)
                    matching += ct__gen_check(g, items[j], contains[0]);
                too_many = matching >= maxc && ct__gen_check(g, v, contains[0]);
                g->ck_quiet--;
            }
            if (!dup && !too_many) break;
            v = NULL;
        }
        if (!v) {
            if (got >= lo) {
                g->fail_at = NULL;
                g->fail_msg[0] = 0;
                break;
            }
            g->depth--;
            if (!g->fail_at && !g->fail_msg[0])
                ct__gen_fail(g, at,
                             unique ? "could not generate %llu distinct items (uniqueItems)"
                                    : "could not generate %llu items",
                             (unsigned long long)lo);
            return NULL;
        }
        items[got++] = v;
    }
    g->depth--;
    struct ct_node *a = new_node(g->out, CT_ARRAY);
    a->u.items = items;
    a->len = got;
    return a;
}

/* --- combinators ---------------------------------------------------------------------------- */

enum { CHOICE_ONEOF, CHOICE_ANYOF, CHOICE_ELSE };

struct choice {
    int kind;
    const struct ct_node *member; /* the schema holding the combinator */
    const struct ct_node *alts;   /* the oneOf array, or the `if` schema */
    uint32_t chosen;
    bool discriminated;
};

struct choices {
    struct choice v[16];
    unsigned n;
};

/* The types the conjunction allows so far. */
static unsigned conj_types(struct gen *g, const struct gen_conj *c)
{
    unsigned t = GT_ALL;
    for (uint32_t i = 0; i < c->n; i++)
        if (c->v[i]->kind == CT_OBJECT) t &= own_types(g, c->v[i]);
    return t;
}

/* Pick a branch: one whose types fit, by the seed; null-only branches only when nothing else
 * fits or when values must stay small; branches that recurse avoided when deep. */
/* A `const` or the shortest `enum` of the conjunction: the values the instance must be one of. */
static const struct ct_node *conj_values(struct gen *g, const struct gen_conj *c, bool *is_const)
{
    const struct ct_node *best = NULL;
    for (uint32_t i = 0; i < c->n; i++) {
        const struct ct_node *k = ct__gen_has_const(g) ? gkw(g, c->v[i], K_CONST) : NULL;
        if (k) {
            *is_const = true;
            return k;
        }
        const struct ct_node *e = gkw(g, c->v[i], K_ENUM);
        if (e && e->kind == CT_ARRAY && (!best || e->len < best->len)) best = e;
    }
    *is_const = false;
    return best;
}

/* Can the branch accept one of the values the conjunction already allows? */
static bool branch_admits(struct gen *g, const struct ct_node *branch, const struct ct_node *vals,
                          bool is_const)
{
    if (!vals) return true;
    uint32_t n = is_const ? 1 : vals->len;
    bool ok = false;
    g->ck_quiet++;
    for (uint32_t i = 0; i < n && i < 64 && !ok; i++)
        ok = ct__gen_check(g, is_const ? vals : vals->u.items[i], branch);
    g->ck_quiet--;
    return ok;
}

static int pick_branch(struct gen *g, const struct gen_conj *c, const struct ct_node *alts,
                       bool minimal, const bool *excluded)
{
    int cand[64], ncand = 0, nulls[64], nnull = 0, any = -1;
    unsigned types = conj_types(g, c);
    bool is_const;
    const struct ct_node *vals = conj_values(g, c, &is_const);
    for (uint32_t i = 0; i < alts->len && i < 64; i++) {
        if (excluded && excluded[i]) continue;
        unsigned t = shallow_types(g, alts->u.items[i], 0) & types;
        if (!t || !branch_admits(g, alts->u.items[i], vals, is_const)) continue;
        if (any < 0) any = (int)i;
        if (t == GT_NULL)
            nulls[nnull++] = (int)i;
        else if (!(minimal && is_recursive(g, alts->u.items[i])))
            cand[ncand++] = (int)i;
    }
    if (minimal && nnull) return nulls[gen_below(g, (uint64_t)nnull)];
    if (ncand) return cand[gen_below(g, (uint64_t)ncand)];
    if (nnull) return nulls[gen_below(g, (uint64_t)nnull)];
    return any;
}

/* The discriminator value that selects alternative `alt`: a mapping key whose target is the
 * same schema, else the last segment of the alternative's $ref. NULL when none. */
static const char *disc_value(struct gen *g, const struct ct_node *disc, const struct ct_node *alt)
{
    const struct ct_node *target = ct__gen_deref(g, alt);
    const struct ct_node *mapping = ct_obj_get(disc, "mapping");
    if (mapping && mapping->kind == CT_OBJECT) {
        for (uint32_t i = 0; i < mapping->len; i++) {
            const struct ct_node *v = mapping->u.members[i].val;
            if (v->kind != CT_STRING) continue;
            const char *r = v->u.str;
            char *tmp = NULL;
            if (!strchr(r, '/') && !strchr(r, '#'))
                r = tmp = ct_xasprintf("#/components/schemas/%s", r);
            const struct ct_node *t = ct_docset_resolve(g->ds, v, r, &g->quiet);
            ct_free(tmp);
            if (t && t == target) return mapping->u.members[i].key->u.str;
        }
    }
    const char *ref = gkw_str(g, alt, K_REF);
    if (!ref) return NULL;
    const char *slash = strrchr(ref, '/');
    const char *name = slash ? slash + 1 : ref;
    /* The validator skips implicit names that collide with a mapping key (pointing elsewhere). */
    if (mapping && ct_obj_get(mapping, name)) return NULL;
    return name;
}

/* On a base schema used through allOf, a discriminator is an annotation: still, writing the
 * schema's own name there is what a real server would send. */
static void annotate_discriminator(struct gen *g, struct gen_conj *c, const struct ct_node *s)
{
    const struct ct_node *d = gkw(g, s, K_DISCRIMINATOR);
    const char *pn = d ? ct_obj_str(d, "propertyName") : NULL;
    if (!pn || !c->refname || gkw(g, s, K_ONE_OF) || gkw(g, s, K_ANY_OF)) return;
    const char *value = c->refname;
    const struct ct_node *mapping = ct_obj_get(d, "mapping");
    if (mapping && mapping->kind == CT_OBJECT) {
        for (uint32_t i = 0; i < mapping->len; i++) {
            const struct ct_node *v = mapping->u.members[i].val;
            if (v->kind != CT_STRING) continue;
            const char *r = v->u.str;
            char *tmp = NULL;
            if (!strchr(r, '/') && !strchr(r, '#'))
                r = tmp = ct_xasprintf("#/components/schemas/%s", r);
            const struct ct_node *t = ct_docset_resolve(g->ds, v, r, &g->quiet);
            ct_free(tmp);
            if (t && t == c->ref_target) {
                value = mapping->u.members[i].key->u.str;
                break;
            }
        }
    }
    /* Only when every schema for that property accepts the value. */
    struct ct_node val = {.kind = CT_STRING, .u.str = value, .len = (uint32_t)strlen(value)};
    for (uint32_t i = 0; i < c->n; i++) {
        const struct ct_node *ps = gkw(g, c->v[i], K_PROPERTIES);
        const struct ct_node *p = ps ? ct_obj_get(ps, pn) : NULL;
        if (!p) continue;
        g->ck_quiet++;
        bool ok = ct__gen_check(g, &val, p);
        g->ck_quiet--;
        if (!ok) return;
    }
    conj_push(g, c, force_prop(g, pn, value, false));
}

/* Expand oneOf/anyOf/if of every schema in the conjunction (branches may bring more). */
static bool expand(struct gen *g, struct gen_conj *c, struct choices *ch, bool minimal)
{
    for (uint32_t i = 0; i < c->n; i++) {
        const struct ct_node *s = c->v[i];
        if (s->kind != CT_OBJECT) continue;
        const struct ct_node *one = gkw(g, s, K_ONE_OF), *any = gkw(g, s, K_ANY_OF);
        const struct ct_node *disc = gkw(g, s, K_DISCRIMINATOR);
        const char *pn = disc ? ct_obj_str(disc, "propertyName") : NULL;
        if (pn && !one && !any) annotate_discriminator(g, c, s);
        for (int which = 0; which < 2; which++) {
            const struct ct_node *alts = which == 0 ? one : any;
            if (!alts || alts->kind != CT_ARRAY || !alts->len) continue;
            bool discriminated = pn && (which == 0 || !one);
            bool excluded[64] = {0};
            int k = -1;
            const char *dv = NULL;
            for (int t = 0; t < 64; t++) {
                k = pick_branch(g, c, alts, minimal, excluded);
                if (k < 0 || !discriminated) break;
                dv = disc_value(g, disc, alts->u.items[k]);
                if (dv) break;
                excluded[k] = true; /* an inline branch no discriminator value selects */
            }
            if (k < 0) {
                ct__gen_fail(g, alts, "no %s branch fits the other constraints",
                             which == 0 ? "oneOf" : "anyOf");
                return false;
            }
            conj_add(g, c, alts->u.items[k]);
            if (discriminated && dv) conj_push(g, c, force_prop(g, pn, dv, true));
            if (ch->n < 16)
                ch->v[ch->n++] = (struct choice){which == 0 ? CHOICE_ONEOF : CHOICE_ANYOF, s, alts,
                                                 (uint32_t)k, discriminated};
        }
        if (!g->o.oas30) {
            const struct ct_node *ifs = gkw(g, s, K_IF);
            if (ifs) {
                const struct ct_node *th = gkw(g, s, K_THEN), *el = gkw(g, s, K_ELSE);
                /* Either satisfy `if` and `then`, or `else` and (checked afterwards) not `if`.
                 * A false branch rules its path out. */
                bool then_false = th && th->kind == CT_BOOL && !(th->flags & CT_NF_TRUE);
                bool else_false = el && el->kind == CT_BOOL && !(el->flags & CT_NF_TRUE);
                if (!else_false && (then_false || gen_chance(g, 50))) {
                    conj_add(g, c, el);
                    if (ch->n < 16) ch->v[ch->n++] = (struct choice){CHOICE_ELSE, s, ifs, 0, false};
                } else {
                    conj_add(g, c, ifs);
                    if (th) conj_add(g, c, th);
                }
            }
        }
    }
    return true;
}

/* After building: oneOf must match exactly one branch, `not` must fail, and the else path must
 * not satisfy `if`. */
static bool post_check(struct gen *g, const struct ct_node *v, const struct gen_conj *c,
                       const struct choices *ch)
{
    bool ok = true;
    g->ck_quiet++;
    for (unsigned i = 0; i < ch->n && ok; i++) {
        const struct choice *x = &ch->v[i];
        if (x->kind == CHOICE_ONEOF && !x->discriminated) {
            for (uint32_t j = 0; j < x->alts->len && ok; j++)
                if (j != x->chosen && ct__gen_check(g, v, x->alts->u.items[j])) ok = false;
        } else if (x->kind == CHOICE_ELSE) {
            ok = !ct__gen_check(g, v, x->alts);
        }
    }
    for (uint32_t i = 0; i < c->n && ok; i++) {
        const struct ct_node *n = gkw(g, c->v[i], K_NOT);
        if (n && ct__gen_check(g, v, n)) ok = false;
    }
    g->ck_quiet--;
    return ok;
}

/* Types a `not` rules out when it says nothing but `type`. */
static unsigned not_types(struct gen *g, const struct gen_conj *c)
{
    unsigned out = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        const struct ct_node *n = gkw(g, c->v[i], K_NOT);
        if (n && n->kind == CT_OBJECT && n->len == 1 && gkw(g, n, K_TYPE)) out |= own_types(g, n);
    }
    return out;
}

static bool has_any(struct gen *g, const struct gen_conj *c, uint64_t bits)
{
    for (uint32_t i = 0; i < c->n; i++)
        if (gkw_any(g, c->v[i], bits)) return true;
    return false;
}

#define OBJ_KW                                                                                     \
    (KB(K_PROPERTIES) | KB(K_REQUIRED) | KB(K_ADDITIONAL_PROPERTIES) | KB(K_PATTERN_PROPERTIES) |  \
     KB(K_MIN_PROPERTIES) | KB(K_MAX_PROPERTIES) | KB(K_PROPERTY_NAMES) |                          \
     KB(K_DEPENDENT_REQUIRED) | KB(K_DISCRIMINATOR))
#define ARR_KW                                                                                     \
    (KB(K_ITEMS) | KB(K_PREFIX_ITEMS) | KB(K_MIN_ITEMS) | KB(K_MAX_ITEMS) | KB(K_UNIQUE_ITEMS) |   \
     KB(K_CONTAINS))
#define STR_KW (KB(K_MIN_LENGTH) | KB(K_MAX_LENGTH) | KB(K_PATTERN))
#define NUM_KW                                                                                     \
    (KB(K_MINIMUM) | KB(K_MAXIMUM) | KB(K_EXCLUSIVE_MINIMUM) | KB(K_EXCLUSIVE_MAXIMUM) |           \
     KB(K_MULTIPLE_OF))

/* Try the schema's own examples (example, examples, default), most specific schema first. */
static struct ct_node *try_examples(struct gen *g, const struct gen_conj *c)
{
    for (uint32_t i = 0; i < c->n; i++) {
        const struct ct_node *s = c->v[i];
        if (s->kind != CT_OBJECT) continue;
        const struct ct_node *cand[3] = {gkw(g, s, K_EXAMPLE), NULL, gkw(g, s, K_DEFAULT)};
        const struct ct_node *ex = gkw(g, s, K_EXAMPLES);
        if (ex && ex->kind == CT_ARRAY && ex->len) cand[1] = ex->u.items[gen_below(g, ex->len)];
        for (int k = 0; k < 3; k++) {
            if (!cand[k]) continue;
            g->ck_quiet++;
            bool ok = ct__gen_check_conj(g, cand[k], c);
            g->ck_quiet--;
            if (ok) return ct__gen_copy(g, cand[k]);
        }
    }
    return NULL;
}

static struct ct_node *gen_enum(struct gen *g, const struct gen_conj *c, const struct ct_node *list,
                                const struct ct_node *at)
{
    uint32_t n = list->len;
    if (!n) {
        ct__gen_fail(g, at, "enum is empty: no value can be valid");
        return NULL;
    }
    uint32_t start = (uint32_t)gen_below(g, n);
    for (uint32_t k = 0; k < n; k++) {
        const struct ct_node *v = list->u.items[(start + k) % n];
        g->ck_quiet++;
        bool ok = ct__gen_check_conj(g, v, c);
        g->ck_quiet--;
        if (ok) return ct__gen_copy(g, v);
    }
    if (at && !at->src) /* the synthetic schema that forces a discriminator value */
        ct__gen_fail(g, at, "the discriminator value '%s' does not satisfy the property's schema",
                     list->u.items[0]->kind == CT_STRING ? list->u.items[0]->u.str : "?");
    else
        ct__gen_fail(g, at, "no enum value satisfies the other keywords");
    return NULL;
}

static struct ct_node *gen_merged(struct gen *g, struct gen_conj *c, const char *hint, bool minimal)
{
    const struct ct_node *at = c->n ? c->v[0] : NULL;
    unsigned types = conj_types(g, c) & ~not_types(g, c);
    if (!types) {
        ct__gen_fail(g, at, "no type satisfies every schema (type, nullable, not)");
        return NULL;
    }
    if (g->o.prefer_examples) {
        struct ct_node *ex = try_examples(g, c);
        if (ex) return ex;
    }
    for (uint32_t i = 0; ct__gen_has_const(g) && i < c->n; i++) {
        const struct ct_node *k = gkw(g, c->v[i], K_CONST);
        if (!k) continue;
        g->ck_quiet++;
        bool ok = ct__gen_check_conj(g, k, c);
        g->ck_quiet--;
        if (ok) return ct__gen_copy(g, k);
        ct__gen_fail(g, k, "the const value does not satisfy the other keywords");
        return NULL;
    }
    const struct ct_node *enum_list = NULL, *enum_at = NULL;
    for (uint32_t i = 0; i < c->n; i++) {
        const struct ct_node *e = gkw(g, c->v[i], K_ENUM);
        if (e && e->kind == CT_ARRAY && (!enum_list || e->len < enum_list->len)) {
            enum_list = e;
            enum_at = c->v[i];
        }
    }
    if (enum_list) return gen_enum(g, c, enum_list, enum_at);

    /* Choose a type: the schema's, narrowed by the keywords present. */
    unsigned inferred = 0;
    if (has_any(g, c, OBJ_KW)) inferred |= GT_OBJ;
    if (has_any(g, c, ARR_KW)) inferred |= GT_ARR;
    if (has_any(g, c, STR_KW)) inferred |= GT_STR;
    if (has_any(g, c, NUM_KW)) inferred |= GT_INT | GT_NUM;
    unsigned cand = types;
    if (types == GT_ALL || (types & inferred)) cand = inferred & types ? inferred & types : types;
    if (cand == GT_ALL) {
        const struct ct_node *f = NULL;
        for (uint32_t i = 0; i < c->n && !f; i++)
            f = gkw(g, c->v[i], K_FORMAT);
        cand =
            f && f->kind == CT_STRING && (!strcmp(f->u.str, "int32") || !strcmp(f->u.str, "int64"))
                ? GT_INT
                : GT_STR;
    }
    if ((cand & GT_NULL) && (minimal || cand == GT_NULL)) return ct__gen_null(g);
    cand &= ~(unsigned)GT_NULL;
    /* number allows integers too: generate a number (with a fraction) for `number`. */
    unsigned opts[7];
    unsigned nopt = 0;
    static const unsigned order[] = {GT_OBJ, GT_ARR, GT_STR, GT_NUM, GT_INT, GT_BOOL};
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        if (!(cand & order[i])) continue;
        if (order[i] == GT_INT && (cand & GT_NUM)) continue;
        opts[nopt++] = order[i];
    }
    if (!nopt) {
        if (types & GT_NULL) return ct__gen_null(g);
        ct__gen_fail(g, at, "no type satisfies every schema");
        return NULL;
    }
    /* Start with a type chosen by the seed; when it cannot be generated, try the others (a
     * schema with `contains: false` and no type is satisfied by any non-array). */
    unsigned first = (unsigned)gen_below(g, nopt);
    for (unsigned k = 0; k < nopt; k++) {
        struct ct_node *v;
        switch (opts[(first + k) % nopt]) {
        case GT_OBJ:
            v = gen_object(g, c, hint, minimal);
            break;
        case GT_ARR:
            v = gen_array(g, c, hint, minimal);
            break;
        case GT_STR:
            v = ct__gen_string(g, c, hint);
            break;
        case GT_NUM:
            v = ct__gen_number(g, c, false, hint);
            break;
        case GT_INT:
            v = ct__gen_number(g, c, true, hint);
            break;
        default:
            v = ct__gen_bool(g, gen_chance(g, 50));
            break;
        }
        if (v) return v;
    }
    /* Types the keywords did not suggest, last. */
    unsigned rest = types & ~cand & ~(unsigned)GT_NULL;
    if (rest & GT_STR) return ct__gen_string(g, c, hint);
    if (rest & (GT_INT | GT_NUM)) return ct__gen_number(g, c, !(rest & GT_NUM), hint);
    if (rest & GT_BOOL) return ct__gen_bool(g, gen_chance(g, 50));
    if (types & GT_NULL) return ct__gen_null(g);
    return NULL;
}

static struct ct_node *gen_value(struct gen *g, struct gen_conj *c, const char *hint)
{
    if (g->abort) return NULL;
    g->nodes++;
    if (++g->work > WORK_LIMIT) {
        ct__gen_fail(g, c->n ? c->v[0] : NULL,
                     "gave up after generating %lu values (the schema keeps failing deep down)",
                     WORK_LIMIT);
        g->abort = true;
        return NULL;
    }
    if (c->contradiction) {
        ct__gen_fail(
            g, c->false_at,
            !c->false_at || (c->false_at->kind == CT_OBJECT && gkw_str(g, c->false_at, K_REF))
                ? "the reference cannot be resolved"
                : "the schema is false (or 'not' rejects everything): no instance is valid");
        return NULL;
    }
    if (g->depth > g->o.max_depth + 24) {
        ct__gen_fail(g, c->n ? c->v[0] : NULL,
                     "recursion deeper than max_depth %u: a required property refers back to "
                     "its own schema",
                     g->o.max_depth);
        g->abort = true; /* every level above would retry in vain */
        return NULL;
    }
    const struct ct_node *self = c->ref_target ? c->ref_target : c->n ? c->v[0] : NULL;
    bool pushed = self && g->nstack < sizeof g->stack / sizeof *g->stack;
    if (pushed) g->stack[g->nstack++] = self;
    uint32_t n0 = c->n;
    struct ct_node *v = NULL, *last = NULL;
    for (int attempt = 0; attempt < VALUE_ATTEMPTS; attempt++) {
        c->n = n0;
        c->contradiction = false;
        struct choices ch = {.n = 0};
        bool minimal = minimal_mode(g) || attempt >= 2;
        if (!expand(g, c, &ch, minimal)) break;
        if (c->contradiction) {
            ct__gen_fail(g, c->false_at, "the chosen branch is a false schema");
            continue;
        }
        bool needs_check = ch.n > 0;
        for (uint32_t i = 0; i < c->n && !needs_check; i++)
            needs_check = gkw(g, c->v[i], K_NOT) != NULL;
        v = gen_merged(g, c, hint, minimal);
        if (!v && (!ch.n || g->abort)) break; /* no choice to make differently */
        if (!v) continue;
        last = v;
        if (!needs_check || post_check(g, v, c, &ch)) break;
        v = NULL;
    }
    if (!v && last)
        ct__gen_fail(g, c->n ? c->v[0] : NULL,
                     "every candidate matched a second oneOf branch, the 'not' schema or 'if' "
                     "on the else path");
    if (v) {
        g->fail_at = NULL;
        g->fail_msg[0] = 0;
    }
    c->n = n0;
    if (pushed) g->nstack--;
    return v;
}

/* ===================================================================== entry ============= */

static uint64_t mix_seed(uint64_t seed, unsigned attempt)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * (attempt + 1);
    z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdull;
    z = (z ^ (z >> 33)) * 0xc4ceb9fe1a85ec53ull;
    return z ^ (z >> 33);
}

struct ct_node *ct_gen_instance(struct ct_docset *ds, const struct ct_node *schema,
                                const struct ct_gen_opts *opts, struct ct_arena *arena,
                                struct ct_diags *diags)
{
    struct gen g;
    memset(&g, 0, sizeof g);
    g.ds = ds;
    if (opts) g.o = *opts;
    if (!g.o.max_depth) g.o.max_depth = 8;
    if (!g.o.max_items) g.o.max_items = 3;
    g.out = arena;
    kw_index_init(&g);
    ct_arena_init(&g.tmp, 16384);
    ct_diags_init(&g.quiet);
    g.quiet.max = 16;
    ct_buf_init(&g.sbuf, 1u << 22);
    g.re = g.o.cache ? g.o.cache : ct_gen_cache_new();

    struct ct_node *result = NULL;
    const struct ct_node *fail_at = NULL;
    char fail_msg[sizeof g.fail_msg] = "";
    for (unsigned attempt = 0; attempt < TOP_ATTEMPTS && schema; attempt++) {
        g.rng = mix_seed(g.o.seed, attempt);
        g.depth = 0;
        g.nodes = 0;
        g.nstack = 0;
        g.abort = false;
        g.fail_at = NULL;
        g.fail_msg[0] = 0;
        struct ct_node *r = gen_schema(&g, schema, NULL);
        if (r) {
            ct__gen_check_reset(&g);
            if (ct__gen_check(&g, r, schema)) {
                result = r;
                break;
            }
            if (!fail_at && !fail_msg[0]) {
                fail_at = g.ck_at;
                snprintf(fail_msg, sizeof fail_msg, "%s", g.ck_msg);
            }
            continue;
        }
        if (!fail_at && !fail_msg[0]) {
            fail_at = g.fail_at;
            snprintf(fail_msg, sizeof fail_msg, "%s", g.fail_msg);
        }
        /* A false schema or a broken reference at the top gives the same answer every time, and
         * past the work limit there is no time left for another seed. */
        if (schema->kind == CT_BOOL || (schema->kind == CT_OBJECT && !ct__gen_deref(&g, schema)) ||
            g.work > WORK_LIMIT)
            break;
    }
    if (!result && diags) {
        if (!schema) {
            ct_diags_add(diags, CT_SEV_ERROR, CT_E_SCHEMA, NULL, 0, 0,
                         "no schema to generate from");
        } else {
            /* Synthetic schemas (a forced discriminator) have no source: name the schema then. */
            const struct ct_node *at = fail_at && fail_at->src ? fail_at : schema;
            struct ct_diag *d = ct_diags_add(diags, CT_SEV_ERROR, CT_E_SCHEMA, at->src, at->line,
                                             at->col, "cannot generate an instance: %s",
                                             fail_msg[0] ? fail_msg : "no valid value found");
            ct_diag_set_hint(d, "checked %u seeds from %llu; the schema may be contradictory",
                             TOP_ATTEMPTS, (unsigned long long)g.o.seed);
            /* A broken reference explains itself better than we can. */
            for (size_t i = 0; i < g.quiet.n && i < 1; i++) {
                const struct ct_diag *q = &g.quiet.v[i];
                ct_diags_add(diags, CT_SEV_NOTE, q->code, q->src, q->line, q->col, "%s", q->msg);
            }
        }
    }
    if (!g.o.cache) ct_gen_cache_free(g.re);
    ct_buf_deinit(&g.sbuf);
    ct_diags_deinit(&g.quiet);
    ct_arena_deinit(&g.tmp);
    ct_ptrmap_deinit(&g.memo);
    ct_ptrmap_deinit(&g.kwm);
    return result;
}
