/* node.c - lookups, JSON Pointer, structural equality and exact number comparison on ct_node. */
#include "node.h"

#include "core/alloc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* --- object index --------------------------------------------------------------------------- */

/* Large objects carry an open-addressing table of member positions (+1; 0 is empty) right after
 * their members array, sized from the member count alone, so no node field is needed. */
static uint32_t index_cap(uint32_t n)
{
    uint32_t cap = 64;
    while (cap < 2 * n)
        cap <<= 1;
    return cap;
}

static uint32_t key_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

struct ct_node *ct__node_new(struct ct_arena *arena, enum ct_kind kind)
{
    /* Sanitizer builds allocate the whole struct and poison `num` (see struct ct_node). */
    size_t size = kind == CT_NUMBER || CT_ASAN ? sizeof(struct ct_node) : CT_NODE_SHORT;
    struct ct_node *n = ct_arena_alloc(arena, size);
    memset(n, 0, size);
    n->kind = (uint8_t)kind;
    if (kind != CT_NUMBER)
        CT_ASAN_POISON(&n->num, sizeof(n->num));
    return n;
}

size_t ct__obj_members_size(uint32_t n)
{
    size_t sz = (n ? n : 1) * sizeof(struct ct_member);
    if (n > CT_OBJ_INDEX_MIN)
        sz += index_cap(n) * sizeof(uint32_t);
    return sz;
}

static uint32_t *index_table(const struct ct_node *obj)
{
    return (uint32_t *)(void *)(obj->u.members + obj->len);
}

static inline bool key_eq(const struct ct_node *k, const char *s, size_t n)
{
    /* Length and first byte first: most keys differ there, and memcmp is a call. */
    return k->len == n && (n == 0 || (k->u.str[0] == s[0] && memcmp(k->u.str, s, n) == 0));
}

long ct__obj_finish(struct ct_node *obj, long *first)
{
    uint32_t n = obj->len;
    const struct ct_member *m = obj->u.members;
    if (n <= CT_OBJ_INDEX_MIN) {
        for (uint32_t j = 1; j < n; j++)
            for (uint32_t i = 0; i < j; i++)
                if (key_eq(m[i].key, m[j].key->u.str, m[j].key->len)) {
                    *first = i;
                    return j;
                }
        return -1;
    }
    uint32_t cap = index_cap(n), mask = cap - 1;
    uint32_t *t = index_table(obj);
    memset(t, 0, cap * sizeof(uint32_t));
    for (uint32_t j = 0; j < n; j++) {
        const struct ct_node *k = m[j].key;
        uint32_t h = key_hash(k->u.str, k->len) & mask;
        while (t[h]) {
            if (key_eq(m[t[h] - 1].key, k->u.str, k->len)) {
                *first = t[h] - 1;
                return j;
            }
            h = (h + 1) & mask;
        }
        t[h] = j + 1;
    }
    obj->flags |= CT_NF_INDEXED;
    return -1;
}

struct ct_node *ct_obj_getn(const struct ct_node *obj, const char *key, size_t keylen)
{
    if (!obj || obj->kind != CT_OBJECT)
        return NULL;
    const struct ct_member *m = obj->u.members;
    if (!(obj->flags & CT_NF_INDEXED)) {
        for (uint32_t i = 0; i < obj->len; i++)
            if (key_eq(m[i].key, key, keylen))
                return m[i].val;
        return NULL;
    }
    uint32_t mask = index_cap(obj->len) - 1;
    const uint32_t *t = index_table(obj);
    for (uint32_t h = key_hash(key, keylen) & mask; t[h]; h = (h + 1) & mask)
        if (key_eq(m[t[h] - 1].key, key, keylen))
            return m[t[h] - 1].val;
    return NULL;
}

struct ct_diag *ct_diag_atv(struct ct_diags *d, enum ct_sev sev, int code,
                            const struct ct_node *at, const char *fmt, va_list ap)
{
    return ct_diags_addv(d, sev, code, at ? at->src : NULL, at ? at->line : 0, at ? at->col : 0,
                         fmt, ap);
}

struct ct_diag *ct_diag_at(struct ct_diags *d, enum ct_sev sev, int code,
                           const struct ct_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct ct_diag *g = ct_diag_atv(d, sev, code, at, fmt, ap);
    va_end(ap);
    return g;
}

struct ct_node *ct_obj_get(const struct ct_node *obj, const char *key)
{
    return ct_obj_getn(obj, key, strlen(key));
}

const struct ct_member *ct_obj_member(const struct ct_node *obj, const char *key)
{
    const struct ct_node *v = ct_obj_get(obj, key);
    if (!v)
        return NULL;
    /* Values are unique node pointers within one object only when not aliased; search by key. */
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < obj->len; i++)
        if (key_eq(obj->u.members[i].key, key, kl))
            return &obj->u.members[i];
    return NULL;
}

const char *ct_obj_str(const struct ct_node *obj, const char *key)
{
    const struct ct_node *v = ct_obj_get(obj, key);
    return v && v->kind == CT_STRING ? v->u.str : NULL;
}

bool ct_obj_true(const struct ct_node *obj, const char *key)
{
    const struct ct_node *v = ct_obj_get(obj, key);
    return v && v->kind == CT_BOOL && (v->flags & CT_NF_TRUE);
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

struct ct_node *ct_pointer_get(const struct ct_node *root, const char *ptr, size_t len,
                               bool percent)
{
    const struct ct_node *cur = root;
    size_t i = 0;
    char stackbuf[256];
    while (cur && i < len) {
        if (ptr[i] != '/')
            return NULL;
        i++;
        size_t s = i;
        while (i < len && ptr[i] != '/')
            i++;
        /* Decode the token into a scratch buffer. */
        size_t tl = i - s;
        char *tok = tl < sizeof(stackbuf) ? stackbuf : ct_xmalloc(tl + 1);
        size_t o = 0;
        for (size_t j = s; j < i; j++) {
            char c = ptr[j];
            if (percent && c == '%' && j + 2 < i && hexv(ptr[j + 1]) >= 0 &&
                hexv(ptr[j + 2]) >= 0) {
                c = (char)(hexv(ptr[j + 1]) * 16 + hexv(ptr[j + 2]));
                j += 2;
            }
            tok[o++] = c;
        }
        /* ~1 and ~0 are decoded after percent-decoding, as RFC 6901 section 6 says. */
        size_t w = 0;
        for (size_t r = 0; r < o; r++) {
            if (tok[r] == '~' && r + 1 < o && (tok[r + 1] == '0' || tok[r + 1] == '1')) {
                tok[w++] = tok[r + 1] == '0' ? '~' : '/';
                r++;
            } else {
                tok[w++] = tok[r];
            }
        }
        tok[w] = 0;
        const struct ct_node *next = NULL;
        if (cur->kind == CT_OBJECT) {
            next = ct_obj_getn(cur, tok, w);
        } else if (cur->kind == CT_ARRAY) {
            /* Array index: digits only, no leading zeros. */
            bool ok = w > 0 && (w == 1 || tok[0] != '0');
            size_t idx = 0;
            for (size_t r = 0; ok && r < w; r++) {
                if (tok[r] < '0' || tok[r] > '9' || idx > 100000000)
                    ok = false;
                else
                    idx = idx * 10 + (size_t)(tok[r] - '0');
            }
            if (ok && idx < cur->len)
                next = cur->u.items[idx];
        }
        if (tok != stackbuf)
            ct_free(tok);
        cur = next;
    }
    return (struct ct_node *)cur;
}

void ct_pointer_append(struct ct_buf *ptr, const char *tok, size_t len)
{
    ct_buf_addc(ptr, '/');
    for (size_t i = 0; i < len; i++) {
        if (tok[i] == '~')
            ct_buf_add(ptr, "~0", 2);
        else if (tok[i] == '/')
            ct_buf_add(ptr, "~1", 2);
        else
            ct_buf_addc(ptr, tok[i]);
    }
}

/* --- numbers ---------------------------------------------------------------------------- */

bool ct_decimal_from_node(const struct ct_node *n, struct ct_decimal *d)
{
    if (!n || n->kind != CT_NUMBER)
        return false;
    const char *p = n->u.text, *end = n->u.text + n->len;
    d->neg = false;
    d->overflow = false;
    d->ndigits = 0;
    d->exp = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        d->neg = *p == '-';
        p++;
    }
    int64_t intlen = 0;
    bool seen_point = false;
    bool leading = true;
    for (; p < end; p++) {
        char c = *p;
        if (c == '.') {
            seen_point = true;
            continue;
        }
        if (c < '0' || c > '9')
            break;
        if (leading && c == '0') {
            /* Leading zeros shift the exponent only after the point. */
            if (seen_point)
                intlen--;
            continue;
        }
        leading = false;
        if (!seen_point)
            intlen++;
        if (d->ndigits < sizeof(d->digits))
            d->digits[d->ndigits++] = c;
        else if (c != '0')
            d->overflow = true;
    }
    int64_t e = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if (e < 100000000)
                e = e * 10 + (*p - '0');
        if (eneg)
            e = -e;
    }
    while (d->ndigits && d->digits[d->ndigits - 1] == '0')
        d->ndigits--;
    d->exp = d->ndigits ? intlen + e : 0;
    if (!d->ndigits)
        d->neg = false;
    return true;
}

int ct_decimal_cmp(const struct ct_decimal *a, const struct ct_decimal *b)
{
    if (!a->ndigits && !b->ndigits)
        return 0;
    int sa = a->ndigits ? (a->neg ? -1 : 1) : 0;
    int sb = b->ndigits ? (b->neg ? -1 : 1) : 0;
    if (sa != sb)
        return sa < sb ? -1 : 1;
    int mag;
    if (a->exp != b->exp) {
        mag = a->exp < b->exp ? -1 : 1;
    } else {
        uint32_t n = a->ndigits < b->ndigits ? a->ndigits : b->ndigits;
        int c = memcmp(a->digits, b->digits, n);
        if (c)
            mag = c < 0 ? -1 : 1;
        else
            mag = a->ndigits == b->ndigits ? 0 : (a->ndigits < b->ndigits ? -1 : 1);
    }
    return sa < 0 ? -mag : mag;
}

int ct_num_cmp(const struct ct_node *a, const struct ct_node *b)
{
    if ((a->flags & CT_NF_EXACT) && (b->flags & CT_NF_EXACT))
        return a->num < b->num ? -1 : (a->num > b->num);
    /* Different doubles mean different values unless rounding made them collide. */
    if (a->num != b->num && isfinite(a->num) && isfinite(b->num) &&
        fabs(a->num - b->num) > 1e-9 * fabs(a->num) && fabs(a->num) < 1e300)
        return a->num < b->num ? -1 : 1;
    struct ct_decimal da, db;
    ct_decimal_from_node(a, &da);
    ct_decimal_from_node(b, &db);
    if (da.overflow || db.overflow)
        return a->num < b->num ? -1 : (a->num > b->num);
    return ct_decimal_cmp(&da, &db);
}

bool ct_num_is_integer(const struct ct_node *n)
{
    if (n->kind != CT_NUMBER)
        return false;
    if (n->flags & (CT_NF_INT | CT_NF_EXACT))
        return (n->flags & CT_NF_INT) || n->num == floor(n->num);
    struct ct_decimal d;
    ct_decimal_from_node(n, &d);
    return d.ndigits == 0 || (int64_t)d.ndigits <= d.exp;
}

const char *ct_node_type_name(const struct ct_node *n)
{
    switch (n->kind) {
    case CT_NULL:
        return "null";
    case CT_BOOL:
        return "boolean";
    case CT_NUMBER:
        return ct_num_is_integer(n) ? "integer" : "number";
    case CT_STRING:
        return "string";
    case CT_ARRAY:
        return "array";
    default:
        return "object";
    }
}

bool ct_node_equal(const struct ct_node *a, const struct ct_node *b)
{
    if (a == b)
        return true;
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case CT_NULL:
        return true;
    case CT_BOOL:
        return (a->flags & CT_NF_TRUE) == (b->flags & CT_NF_TRUE);
    case CT_NUMBER:
        return ct_num_cmp(a, b) == 0;
    case CT_STRING:
        return a->len == b->len && memcmp(a->u.str, b->u.str, a->len) == 0;
    case CT_ARRAY:
        if (a->len != b->len)
            return false;
        for (uint32_t i = 0; i < a->len; i++)
            if (!ct_node_equal(a->u.items[i], b->u.items[i]))
                return false;
        return true;
    default:
        if (a->len != b->len)
            return false;
        for (uint32_t i = 0; i < a->len; i++) {
            const struct ct_member *m = &a->u.members[i];
            const struct ct_node *o = ct_obj_getn(b, m->key->u.str, m->key->len);
            if (!o || !ct_node_equal(m->val, o))
                return false;
        }
        return true;
    }
}

bool ct_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        uint64_t w;
        if (end - p >= 8 && (memcpy(&w, p, 8), !(w & 0x8080808080808080ull))) {
            p += 8; /* eight ASCII bytes */
            continue;
        }
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t k = ct_utf8_seq(p, end);
        if (!k)
            return false;
        p += k;
    }
    return true;
}

/* Characters (UTF-8 code points) in n bytes. */
static size_t cp_count(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Where byte `off` of string node `n` is in its source. Plain and quoted scalars on one line map
 * directly; literal block scalars (`|`) map line by line; anything else (escapes, folding) falls
 * back to the node's own position. */
void ct_node_locate(const struct ct_node *n, size_t off, uint32_t *line, uint32_t *col)
{
    *line = n->line;
    *col = n->col;
    if (!n->src || !n->src->text || !n->line || n->kind != CT_STRING || off > n->len)
        return;
    const char *t = n->src->text, *end = t + n->src->len;
    for (uint32_t l = 1; l < n->line && t < end; l++) {
        const char *nl = memchr(t, '\n', (size_t)(end - t));
        if (!nl)
            return;
        t = nl + 1;
    }
    for (uint32_t c = 1; c < n->col && t < end; t++)
        if (((unsigned char)*t & 0xC0) != 0x80)
            c++;
    while (t < end && ((unsigned char)*t & 0xC0) == 0x80)
        t++;
    if (t < end && *t == '|') {
        /* Literal block: content starts on the next line, indented. */
        const char *nl = memchr(t, '\n', (size_t)(end - t));
        if (!nl)
            return;
        const char *p = nl + 1;
        uint32_t ln = n->line + 1;
        /* Blank lines before the first content line. */
        while (p < end && *p == '\n') {
            p++;
            ln++;
        }
        uint32_t indent = 0;
        while (p + indent < end && p[indent] == ' ')
            indent++;
        const char *s = n->u.str;
        size_t last_nl = 0;
        bool any_nl = false;
        for (size_t i = 0; i < off; i++) {
            if (s[i] == '\n') {
                ln++;
                last_nl = i + 1;
                any_nl = true;
            }
        }
        *line = ln;
        *col = indent + 1 + (uint32_t)cp_count(s + (any_nl ? last_nl : 0),
                                                       off - (any_nl ? last_nl : 0));
        return;
    }
    uint32_t shift = 0;
    if (t < end && (*t == '"' || *t == '\'')) {
        t++;
        shift = 1;
    }
    if ((size_t)(end - t) < off || memcmp(t, n->u.str, off) != 0)
        return;
    *col = n->col + shift + (uint32_t)cp_count(n->u.str, off);
}
