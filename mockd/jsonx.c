/* jsonx.c - node builders, merge patch and containment for the test-double layers.
 *
 * Builders allocate from an arena and never change their inputs: a "set" copies the object's
 * member array with one member replaced, so templates from the loaded spec can be shared by all
 * threads while each request builds its own answer on top of them. */
#include "jsonx.h"

#include "core/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *jx_fmt(struct ct_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n < sizeof(tmp)) return ct_arena_strndup(a, tmp, (size_t)n);
    char *s = ct_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static struct ct_node *node(struct ct_arena *a, enum ct_kind k)
{
    struct ct_node *n = ct_arena_zalloc(a, sizeof(*n));
    n->kind = (uint8_t)k;
    return n;
}

struct ct_node *jx_null(struct ct_arena *a)
{
    return node(a, CT_NULL);
}

struct ct_node *jx_bool(struct ct_arena *a, bool v)
{
    struct ct_node *n = node(a, CT_BOOL);
    n->flags = v ? CT_NF_TRUE : 0;
    return n;
}

struct ct_node *jx_strn(struct ct_arena *a, const char *s, size_t len)
{
    struct ct_node *n = node(a, CT_STRING);
    n->len = (uint32_t)len;
    n->u.str = ct_arena_strndup(a, s, len);
    return n;
}

struct ct_node *jx_str(struct ct_arena *a, const char *s)
{
    return jx_strn(a, s, strlen(s));
}

struct ct_node *jx_int(struct ct_arena *a, long long v)
{
    struct ct_node *n = node(a, CT_NUMBER);
    char *t = jx_fmt(a, "%lld", v);
    n->u.text = t;
    n->len = (uint32_t)strlen(t);
    n->num = (double)v;
    n->flags = CT_NF_INT | CT_NF_EXACT | (v < 0 ? CT_NF_NEG : 0);
    return n;
}

struct ct_node *jx_num_text(struct ct_arena *a, const char *text)
{
    struct ct_node *n = node(a, CT_NUMBER);
    n->u.text = ct_arena_strdup(a, text);
    n->len = (uint32_t)strlen(text);
    n->num = strtod(text, NULL);
    bool integer = !strpbrk(text, ".eE");
    n->flags = (uint8_t)((integer ? CT_NF_INT : 0) | (text[0] == '-' ? CT_NF_NEG : 0));
    if (integer && n->len < 16) n->flags |= CT_NF_EXACT;
    return n;
}

struct ct_node *jx_array(struct ct_arena *a, struct ct_node *const *items, uint32_t count)
{
    struct ct_node *n = node(a, CT_ARRAY);
    n->len = count;
    n->u.items = ct_arena_alloc(a, (count ? count : 1) * sizeof(*n->u.items));
    if (count) memcpy(n->u.items, items, count * sizeof(*items));
    return n;
}

struct ct_node *jx_set(struct ct_arena *a, const struct ct_node *o, const char *key,
                       const struct ct_node *val)
{
    uint32_t n = o && o->kind == CT_OBJECT ? o->len : 0;
    struct ct_node *c = node(a, CT_OBJECT);
    if (o && o->kind == CT_OBJECT) {
        c->line = o->line;
        c->col = o->col;
        c->src = o->src;
    }
    c->u.members = ct_arena_alloc(a, ct__obj_members_size(n + 1));
    uint32_t k = 0;
    bool done = false;
    for (uint32_t i = 0; i < n; i++) {
        if (!strcmp(o->u.members[i].key->u.str, key)) {
            done = true;
            if (!val) continue;
            c->u.members[k].key = o->u.members[i].key;
            c->u.members[k++].val = (struct ct_node *)val;
        } else {
            c->u.members[k++] = o->u.members[i];
        }
    }
    if (!done && val) {
        c->u.members[k].key = jx_str(a, key);
        c->u.members[k++].val = (struct ct_node *)val;
    }
    c->len = k;
    long first;
    ct__obj_finish(c, &first);
    return c;
}

struct ct_node *jx_set_at(struct ct_arena *a, const struct ct_node *root, const char *ptr,
                          const struct ct_node *val)
{
    if (!ptr || !*ptr) return (struct ct_node *)val;
    if (!root || *ptr != '/') return (struct ct_node *)root;
    const char *tok = ptr + 1;
    size_t tl = strcspn(tok, "/");
    char key[256];
    size_t k = 0;
    for (size_t i = 0; i < tl && k + 1 < sizeof(key); i++) {
        if (tok[i] == '~' && i + 1 < tl) {
            key[k++] = tok[i + 1] == '1' ? '/' : '~';
            i++;
        } else {
            key[k++] = tok[i];
        }
    }
    key[k] = 0;
    const char *rest = tok + tl;
    if (root->kind == CT_OBJECT) {
        const struct ct_node *child = ct_obj_get(root, key);
        if (!child) return (struct ct_node *)root;
        return jx_set(a, root, key, jx_set_at(a, child, rest, val));
    }
    if (root->kind == CT_ARRAY) {
        char *end;
        unsigned long idx = strtoul(key, &end, 10);
        if (*end || idx >= root->len) return (struct ct_node *)root;
        struct ct_node *c = jx_array(a, root->u.items, root->len);
        c->u.items[idx] = jx_set_at(a, root->u.items[idx], rest, val);
        return c;
    }
    return (struct ct_node *)root;
}

struct ct_node *jx_merge_patch(struct ct_arena *a, const struct ct_node *target,
                               const struct ct_node *patch)
{
    if (!patch || patch->kind != CT_OBJECT) return (struct ct_node *)patch;
    const struct ct_node *out =
        target && target->kind == CT_OBJECT ? target : jx_set(a, NULL, "", NULL);
    for (uint32_t i = 0; i < patch->len; i++) {
        const char *k = patch->u.members[i].key->u.str;
        const struct ct_node *v = patch->u.members[i].val;
        if (v->kind == CT_NULL)
            out = jx_set(a, out, k, NULL);
        else
            out = jx_set(a, out, k, jx_merge_patch(a, ct_obj_get(out, k), v));
    }
    return (struct ct_node *)out;
}

bool jx_contains(const struct ct_node *expected, const struct ct_node *actual)
{
    if (!expected) return true;
    if (!actual) return false;
    if (expected->kind == CT_OBJECT) {
        if (actual->kind != CT_OBJECT) return false;
        for (uint32_t i = 0; i < expected->len; i++) {
            const struct ct_member *m = &expected->u.members[i];
            if (!jx_contains(m->val, ct_obj_getn(actual, m->key->u.str, m->key->len))) return false;
        }
        return true;
    }
    if (expected->kind == CT_ARRAY) {
        if (actual->kind != CT_ARRAY || actual->len != expected->len) return false;
        for (uint32_t i = 0; i < expected->len; i++)
            if (!jx_contains(expected->u.items[i], actual->u.items[i])) return false;
        return true;
    }
    return ct_node_equal(expected, actual);
}

struct ct_node *jx_parse(struct ct_arena *a, const char *name, const char *text, size_t len,
                         struct ct_diags *diags)
{
    struct ct_source *src = ct_arena_zalloc(a, sizeof(*src));
    src->name = name;
    src->text = ct_arena_strndup(a, text ? text : "", len);
    src->len = len;
    struct ct_parse_limits lim = {.max_depth = 128};
    struct ct_diags local;
    ct_diags_init(&local);
    struct ct_node *n = ct_json_parse(a, src, &lim, diags ? diags : &local);
    ct_diags_deinit(&local);
    return n;
}

char *jx_emit(struct ct_arena *a, const struct ct_node *n, size_t *len)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_json_emit(n, &b, false);
    char *s = ct_arena_strndup(a, b.ptr ? b.ptr : "", b.len);
    if (len) *len = b.len;
    ct_buf_deinit(&b);
    return s;
}

const char *jx_scalar_text(const struct ct_node *n)
{
    if (!n) return NULL;
    switch (n->kind) {
    case CT_STRING:
    case CT_NUMBER:
        return n->u.str;
    case CT_BOOL:
        return (n->flags & CT_NF_TRUE) ? "true" : "false";
    case CT_NULL:
        return "null";
    default:
        return NULL;
    }
}

const char *jx_get_text(const struct ct_node *o, const char *key)
{
    const struct ct_node *v = ct_obj_get(o, key);
    return v && (v->kind == CT_STRING || v->kind == CT_NUMBER) ? v->u.str : NULL;
}

uint64_t jx_get_uint(const struct ct_node *o, const char *key, uint64_t dflt)
{
    const struct ct_node *v = ct_obj_get(o, key);
    if (!v || v->kind != CT_NUMBER || (v->flags & CT_NF_NEG) || !ct_num_is_integer(v)) return dflt;
    return (uint64_t)v->num;
}

double jx_get_num(const struct ct_node *o, const char *key, double dflt)
{
    const struct ct_node *v = ct_obj_get(o, key);
    return v && v->kind == CT_NUMBER ? v->num : dflt;
}

void jx_put_str(struct ct_buf *b, const char *s, size_t n)
{
    ct_json_emit_string(b, s ? s : "", s ? n : 0);
}

void jx_put_cstr(struct ct_buf *b, const char *s)
{
    if (s)
        ct_json_emit_string(b, s, strlen(s));
    else
        ct_buf_adds(b, "null");
}

void jx_put_body(struct ct_buf *b, struct ct_arena *scratch, const char *body, size_t len)
{
    if (!body || !len) {
        ct_buf_adds(b, "null");
        return;
    }
    if (jx_parse(scratch, "body", body, len, NULL))
        ct_buf_add(b, body, len);
    else
        jx_put_str(b, body, len);
}

uint64_t jx_hash(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;
    if (!h) h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}
