/* params.c - OpenAPI parameter styles, percent-decoding and type coercion. */
#include "params.h"

#include "core/alloc.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

size_t ct_query_split(const char *s, size_t len, struct ct_kv *out, size_t max)
{
    size_t n = 0, i = 0;
    while (i < len && n < max) {
        size_t st = i;
        while (i < len && s[i] != '&')
            i++;
        if (i > st) {
            const char *eq = memchr(s + st, '=', i - st);
            struct ct_kv *kv = &out[n++];
            kv->key = s + st;
            kv->keylen = eq ? (size_t)(eq - (s + st)) : i - st;
            kv->val = eq ? eq + 1 : s + i;
            kv->vallen = eq ? (size_t)(s + i - (eq + 1)) : 0;
        }
        i++;
    }
    return n;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *ct_pct_decode(struct ct_arena *a, const char *s, size_t len, bool plus_space, size_t *outlen,
                    bool *ok)
{
    char *o = ct_arena_alloc(a, len + 1);
    size_t n = 0;
    *ok = true;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 < len && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
                o[n++] = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
                i += 2;
                continue;
            }
            *ok = false;
            o[n++] = c;
        } else if (c == '+' && plus_space) {
            o[n++] = ' ';
        } else {
            o[n++] = c;
        }
    }
    o[n] = 0;
    if (!ct_utf8_valid(o, n))
        *ok = false;
    *outlen = n;
    return o;
}

/* --- coercion ------------------------------------------------------------------------------ */

static const struct ct_node *schema_of(struct ct_docset *ds, const struct ct_node *s, int depth)
{
    s = ct_docset_deref(ds, s, NULL);
    if (!s || s->kind != CT_OBJECT || depth > 8)
        return s;
    /* A bare allOf/anyOf/oneOf wrapper: look at its first branch with a type. */
    if (!ct_obj_get(s, "type")) {
        static const char *const comb[] = {"allOf", "anyOf", "oneOf"};
        for (int i = 0; i < 3; i++) {
            const struct ct_node *list = ct_obj_get(s, comb[i]);
            if (list && list->kind == CT_ARRAY)
                for (uint32_t k = 0; k < list->len; k++) {
                    const struct ct_node *b = schema_of(ds, list->u.items[k], depth + 1);
                    if (b && b->kind == CT_OBJECT && ct_obj_get(b, "type"))
                        return b;
                }
        }
    }
    return s;
}

/* The first non-null type a schema names, or NULL. */
static const char *type_of(const struct ct_node *s)
{
    const struct ct_node *t = ct_obj_get(s, "type");
    if (!t)
        return NULL;
    if (t->kind == CT_STRING)
        return t->u.str;
    if (t->kind == CT_ARRAY)
        for (uint32_t i = 0; i < t->len; i++)
            if (t->u.items[i]->kind == CT_STRING && strcmp(t->u.items[i]->u.str, "null") != 0)
                return t->u.items[i]->u.str;
    return NULL;
}

static struct ct_node *mk(struct ct_arena *a, enum ct_kind k)
{
    struct ct_node *n = ct_arena_zalloc(a, sizeof(*n));
    n->kind = (uint8_t)k;
    return n;
}

static struct ct_node *mk_str(struct ct_arena *a, const char *s, size_t len)
{
    struct ct_node *n = mk(a, CT_STRING);
    n->u.str = ct_arena_strndup(a, s, len);
    n->len = (uint32_t)len;
    return n;
}

/* A JSON number literal, strictly. */
static bool is_json_number(const char *s, size_t n, bool *isint)
{
    size_t i = 0;
    *isint = true;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return false;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return false;
    if (i < n && s[i] == '.') {
        *isint = false;
        i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        *isint = false;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    return i == n;
}

static struct ct_node *mk_num(struct ct_arena *a, const char *s, size_t len, bool isint)
{
    struct ct_node *n = mk(a, CT_NUMBER);
    char *t = ct_arena_strndup(a, s, len);
    n->u.text = t;
    n->len = (uint32_t)len;
    n->num = strtod(t, NULL);
    size_t digits = len - (s[0] == '-');
    n->flags = (uint8_t)((isint ? CT_NF_INT : 0) | (s[0] == '-' ? CT_NF_NEG : 0) |
                         (isint && digits <= 15 ? CT_NF_EXACT : 0));
    return n;
}

static struct ct_node *coerce(struct ct_docset *ds, const struct ct_node *schema, const char *s,
                              size_t len, struct ct_arena *a)
{
    const struct ct_node *sc = schema_of(ds, schema, 0);
    const char *t = type_of(sc);
    bool isint;
    if (t && (!strcmp(t, "integer") || !strcmp(t, "number")) && is_json_number(s, len, &isint))
        return mk_num(a, s, len, isint);
    if (t && !strcmp(t, "boolean") && ((len == 4 && !memcmp(s, "true", 4)) ||
                                       (len == 5 && !memcmp(s, "false", 5)))) {
        struct ct_node *b = mk(a, CT_BOOL);
        b->flags = len == 4 ? CT_NF_TRUE : 0;
        return b;
    }
    if (t && !strcmp(t, "null") && len == 0)
        return mk(a, CT_NULL);
    return mk_str(a, s, len);
}

struct ct_node *ct_coerce_text(struct ct_docset *ds, const struct ct_node *schema, const char *s,
                               size_t len, struct ct_arena *a)
{
    return coerce(ds, schema, s, len, a);
}

static struct ct_node *mk_array(struct ct_arena *a, struct ct_node **items, uint32_t n)
{
    struct ct_node *arr = mk(a, CT_ARRAY);
    arr->u.items = ct_arena_alloc(a, (n ? n : 1) * sizeof(*items));
    memcpy(arr->u.items, items, n * sizeof(*items));
    arr->len = n;
    return arr;
}

static struct ct_node *mk_object(struct ct_arena *a, struct ct_node **keys, struct ct_node **vals,
                                 uint32_t n)
{
    struct ct_node *o = mk(a, CT_OBJECT);
    o->len = n;
    o->u.members = ct_arena_alloc(a, ct__obj_members_size(n));
    for (uint32_t i = 0; i < n; i++) {
        o->u.members[i].key = keys[i];
        o->u.members[i].val = vals[i];
    }
    long first;
    if (ct__obj_finish(o, &first) >= 0) {
        /* Repeated keys: keep the first occurrence only. */
        uint32_t w = 0;
        for (uint32_t i = 0; i < n; i++) {
            bool seen = false;
            for (uint32_t k = 0; k < w && !seen; k++)
                seen = ct_node_equal(o->u.members[k].key, o->u.members[i].key);
            if (!seen)
                o->u.members[w++] = o->u.members[i];
        }
        o->len = w;
        o->flags = 0;
        ct__obj_finish(o, &first);
    }
    return o;
}

#define MAX_PARTS 256

/* Split decoded text on a separator and coerce each part as an item. */
static struct ct_node *split_array(struct ct_docset *ds, const struct ct_node *sc, const char *s,
                                   size_t len, char sep, struct ct_arena *a)
{
    const struct ct_node *items = ct_obj_get(sc, "items");
    struct ct_node *parts[MAX_PARTS];
    uint32_t n = 0;
    if (len == 0)
        return mk_array(a, parts, 0);
    size_t st = 0;
    for (size_t i = 0; i <= len && n < MAX_PARTS; i++) {
        if (i == len || s[i] == sep) {
            parts[n++] = coerce(ds, items, s + st, i - st, a);
            st = i + 1;
        }
    }
    return mk_array(a, parts, n);
}

/* "k1,v1,k2,v2" (explode=false objects). */
static struct ct_node *split_object(struct ct_docset *ds, const struct ct_node *sc, const char *s,
                                    size_t len, char sep, struct ct_arena *a)
{
    const struct ct_node *props = ct_obj_get(sc, "properties");
    struct ct_node *keys[MAX_PARTS / 2], *vals[MAX_PARTS / 2];
    uint32_t n = 0;
    size_t st = 0;
    const char *k = NULL;
    size_t kl = 0;
    for (size_t i = 0; i <= len && n < MAX_PARTS / 2; i++) {
        if (i == len || s[i] == sep) {
            if (!k) {
                k = s + st;
                kl = i - st;
            } else {
                keys[n] = mk_str(a, k, kl);
                vals[n] = coerce(ds, ct_obj_getn(props, k, kl), s + st, i - st, a);
                n++;
                k = NULL;
            }
            st = i + 1;
        }
    }
    return mk_object(a, keys, vals, n);
}

bool ct_param_present(const struct ct_oas_param *p, const struct ct_param_src *src)
{
    switch (p->in) {
    case CT_IN_PATH:
        return src->path_value != NULL;
    case CT_IN_HEADER:
    case CT_IN_COOKIE:
        return src->header != NULL;
    default:
        break;
    }
    size_t nl = strlen(p->name);
    bool deep = !strcmp(p->style, "deepObject");
    for (size_t i = 0; i < src->nquery; i++) {
        const struct ct_kv *kv = &src->query[i];
        if (kv->keylen == nl && !memcmp(kv->key, p->name, nl))
            return true;
        if (deep && kv->keylen > nl && !memcmp(kv->key, p->name, nl) && kv->key[nl] == '[')
            return true;
        if (deep && kv->keylen > nl + 2 && !memcmp(kv->key, p->name, nl) &&
            !memcmp(kv->key + nl, "%5B", 3))
            return true;
    }
    /* form + explode objects spread their properties as top-level keys. */
    if (!strcmp(p->style, "form") && p->explode && p->schema) {
        const struct ct_node *props = ct_obj_get(p->schema, "properties");
        for (size_t i = 0; props && i < src->nquery; i++)
            if (ct_obj_getn(props, src->query[i].key, src->query[i].keylen))
                return true;
    }
    return false;
}

static struct ct_node *decode_content(const struct ct_oas_param *p, const char *s, size_t len,
                                      struct ct_arena *a, struct ct_diags *diags)
{
    /* `content` parameters: the value is a serialised document (JSON in practice). */
    struct ct_source *src = ct_arena_zalloc(a, sizeof(*src));
    src->name = ct_arena_strdup(a, p->name);
    src->text = ct_arena_strndup(a, s, len);
    src->len = len;
    return ct_json_parse(a, src, NULL, diags);
}

struct ct_node *ct_param_decode(struct ct_docset *ds, const struct ct_oas_param *p,
                                const struct ct_param_src *src, struct ct_arena *a,
                                struct ct_diags *diags)
{
    if (!ct_param_present(p, src))
        return NULL;
    const struct ct_node *sc = schema_of(ds, p->schema, 0);
    const char *t = type_of(sc);
    bool is_arr = t && !strcmp(t, "array"), is_obj = t && !strcmp(t, "object");
    bool ok = true;
    size_t dl;
    char *d;
    if (p->in == CT_IN_PATH || p->in == CT_IN_HEADER || p->in == CT_IN_COOKIE) {
        const char *raw = p->in == CT_IN_PATH ? src->path_value : src->header;
        size_t rl = p->in == CT_IN_PATH ? src->path_len : src->header_len;
        /* Headers are not percent-encoded; path segments and cookies (form style) may be. */
        if (p->in == CT_IN_HEADER) {
            d = ct_arena_strndup(a, raw, rl);
            dl = rl;
        } else {
            d = ct_pct_decode(a, raw, rl, false, &dl, &ok);
        }
        if (!ok) {
            ct_diags_add(diags, CT_SEV_ERROR, CT_E_ENCODING, NULL, 0, 0,
                         "%s parameter '%s': malformed percent-encoding or UTF-8",
                         p->in == CT_IN_PATH ? "path" : "cookie", p->name);
            return NULL;
        }
        if (p->content)
            return decode_content(p, d, dl, a, diags);
        char sep = ',';
        if (p->in == CT_IN_PATH && !strcmp(p->style, "label")) {
            if (dl && d[0] == '.')
                d++, dl--;
            if (p->explode)
                sep = '.';
        } else if (p->in == CT_IN_PATH && !strcmp(p->style, "matrix")) {
            /* ;name=v or ;name=a,b or ;name=a;name=b (explode) */
            size_t nl = strlen(p->name);
            if (dl > nl + 1 && d[0] == ';' && !memcmp(d + 1, p->name, nl) && d[nl + 1] == '=') {
                d += nl + 2;
                dl -= nl + 2;
            } else if (dl && d[0] == ';') {
                d++, dl--;
            }
            if (p->explode && is_arr) {
                /* "a;name=b" -> "a,b" */
                char *o = ct_arena_alloc(a, dl + 1);
                size_t w = 0;
                for (size_t i = 0; i < dl; i++) {
                    if (d[i] == ';' && i + nl + 1 < dl && !memcmp(d + i + 1, p->name, nl) &&
                        d[i + nl + 1] == '=') {
                        o[w++] = ',';
                        i += nl + 1;
                    } else {
                        o[w++] = d[i];
                    }
                }
                d = o;
                dl = w;
            }
        }
        if (is_arr)
            return split_array(ds, sc, d, dl, sep, a);
        if (is_obj) {
            if (p->explode) {
                /* k=v,k2=v2 */
                const struct ct_node *props = ct_obj_get(sc, "properties");
                struct ct_node *keys[64], *vals[64];
                uint32_t n = 0;
                size_t st = 0;
                for (size_t i = 0; i <= dl && n < 64; i++) {
                    if (i == dl || d[i] == sep || (sep == ',' && d[i] == ';')) {
                        const char *eq = memchr(d + st, '=', i - st);
                        if (eq) {
                            keys[n] = mk_str(a, d + st, (size_t)(eq - d - st));
                            vals[n] = coerce(ds, ct_obj_getn(props, d + st, (size_t)(eq - d - st)),
                                             eq + 1, (size_t)(d + i - eq - 1), a);
                            n++;
                        }
                        st = i + 1;
                    }
                }
                return mk_object(a, keys, vals, n);
            }
            return split_object(ds, sc, d, dl, ',', a);
        }
        return coerce(ds, sc, d, dl, a);
    }

    /* Query parameters. */
    size_t nl = strlen(p->name);
    if (!strcmp(p->style, "deepObject")) {
        const struct ct_node *props = ct_obj_get(sc, "properties");
        struct ct_node *keys[64], *vals[64];
        uint32_t n = 0;
        for (size_t i = 0; i < src->nquery && n < 64; i++) {
            const struct ct_kv *kv = &src->query[i];
            size_t kl;
            char *k = ct_pct_decode(a, kv->key, kv->keylen, true, &kl, &ok);
            if (kl > nl + 2 && !memcmp(k, p->name, nl) && k[nl] == '[' && k[kl - 1] == ']') {
                size_t vl;
                char *v = ct_pct_decode(a, kv->val, kv->vallen, true, &vl, &ok);
                keys[n] = mk_str(a, k + nl + 1, kl - nl - 2);
                vals[n] = coerce(ds, ct_obj_getn(props, k + nl + 1, kl - nl - 2), v, vl, a);
                n++;
            }
        }
        return mk_object(a, keys, vals, n);
    }
    if (p->content) {
        for (size_t i = 0; i < src->nquery; i++)
            if (src->query[i].keylen == nl && !memcmp(src->query[i].key, p->name, nl)) {
                d = ct_pct_decode(a, src->query[i].val, src->query[i].vallen, true, &dl, &ok);
                return decode_content(p, d, dl, a, diags);
            }
        return NULL;
    }
    if (is_obj && p->explode && !strcmp(p->style, "form")) {
        /* Every key that names a property (or any key, with additionalProperties). */
        const struct ct_node *props = ct_obj_get(sc, "properties");
        struct ct_node *keys[64], *vals[64];
        uint32_t n = 0;
        for (size_t i = 0; i < src->nquery && n < 64; i++) {
            const struct ct_kv *kv = &src->query[i];
            size_t kl, vl;
            char *k = ct_pct_decode(a, kv->key, kv->keylen, true, &kl, &ok);
            const struct ct_node *ps = ct_obj_getn(props, k, kl);
            if (!ps)
                continue;
            char *v = ct_pct_decode(a, kv->val, kv->vallen, true, &vl, &ok);
            keys[n] = mk_str(a, k, kl);
            vals[n] = coerce(ds, ps, v, vl, a);
            n++;
        }
        return mk_object(a, keys, vals, n);
    }
    /* Collect every occurrence of name=... */
    struct ct_node *parts[MAX_PARTS];
    uint32_t n = 0;
    const struct ct_node *items = ct_obj_get(sc, "items");
    char sep = !strcmp(p->style, "spaceDelimited") ? ' '
               : !strcmp(p->style, "pipeDelimited") ? '|'
                                                     : ',';
    for (size_t i = 0; i < src->nquery && n < MAX_PARTS; i++) {
        const struct ct_kv *kv = &src->query[i];
        if (kv->keylen != nl || memcmp(kv->key, p->name, nl) != 0)
            continue;
        d = ct_pct_decode(a, kv->val, kv->vallen, true, &dl, &ok);
        if (!ok) {
            ct_diags_add(diags, CT_SEV_ERROR, CT_E_ENCODING, NULL, 0, 0,
                         "query parameter '%s': malformed percent-encoding or UTF-8", p->name);
            return NULL;
        }
        if (!is_arr && !is_obj)
            return coerce(ds, sc, d, dl, a);
        if (is_obj)
            return split_object(ds, sc, d, dl, ',', a);
        if (p->explode && sep == ',') {
            parts[n++] = coerce(ds, items, d, dl, a);
        } else {
            struct ct_node *arr = split_array(ds, sc, d, dl, sep, a);
            for (uint32_t k = 0; k < arr->len && n < MAX_PARTS; k++)
                parts[n++] = arr->u.items[k];
        }
    }
    return mk_array(a, parts, n);
}

struct ct_node *ct_form_decode(struct ct_docset *ds, const struct ct_node *schema, const char *body,
                               size_t len, struct ct_arena *a, struct ct_diags *diags)
{
    const struct ct_node *sc = schema_of(ds, schema, 0);
    const struct ct_node *props = ct_obj_get(sc, "properties");
    struct ct_kv kvs[MAX_PARTS];
    size_t nkv = ct_query_split(body, len, kvs, MAX_PARTS);
    struct ct_node *keys[MAX_PARTS], *vals[MAX_PARTS];
    uint32_t n = 0;
    for (size_t i = 0; i < nkv; i++) {
        bool ok = true;
        size_t kl, vl;
        char *k = ct_pct_decode(a, kvs[i].key, kvs[i].keylen, true, &kl, &ok);
        char *v = ct_pct_decode(a, kvs[i].val, kvs[i].vallen, true, &vl, &ok);
        if (!ok) {
            ct_diags_add(diags, CT_SEV_ERROR, CT_E_ENCODING, NULL, 0, 0,
                         "form field '%s': malformed percent-encoding or UTF-8", k);
            return NULL;
        }
        const struct ct_node *ps = schema_of(ds, ct_obj_getn(props, k, kl), 0);
        const char *t = type_of(ps);
        /* Repeated fields of an array property accumulate. */
        if (t && !strcmp(t, "array")) {
            struct ct_node *item = coerce(ds, ct_obj_get(ps, "items"), v, vl, a);
            uint32_t j;
            for (j = 0; j < n; j++)
                if (keys[j]->len == kl && !memcmp(keys[j]->u.str, k, kl))
                    break;
            if (j < n) {
                struct ct_node *old = vals[j];
                struct ct_node **items = ct_arena_alloc(a, (old->len + 1) * sizeof(*items));
                memcpy(items, old->u.items, old->len * sizeof(*items));
                items[old->len] = item;
                vals[j] = mk_array(a, items, old->len + 1);
                continue;
            }
            keys[n] = mk_str(a, k, kl);
            vals[n] = mk_array(a, &item, 1);
            n++;
            continue;
        }
        keys[n] = mk_str(a, k, kl);
        vals[n] = coerce(ds, ps, v, vl, a);
        n++;
    }
    return mk_object(a, keys, vals, n);
}
