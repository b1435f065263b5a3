/* validate.c - running a compiled schema against an instance.
 *
 * The validator is a loop over each compiled node's keyword array with one switch; it never looks
 * at schema JSON and allocates nothing per keyword. Per-call state lives in struct ct_vctx: the
 * instance path (a stack of key/index segments, turned into a JSON Pointer only when an error is
 * reported), the dynamic scope (resource roots entered, for $dynamicRef / $recursiveRef), the
 * PCRE2 match data, and a scratch arena for evaluated-item/property bitsets, which only schemas
 * using unevaluated* ever ask for.
 *
 * Subschemas whose failure is not itself an error (anyOf/oneOf branches, not, if, contains,
 * propertyNames) run "quietly": they stop at the first failing keyword and report nothing; the
 * combinator then reports one error of its own. */
#include "schema_impl.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Nested subschema evaluations before giving up: deep enough for any real instance (the parser
 * limits nesting to 256), shallow enough to protect the C stack from `{"$ref": "#"}` loops. */
#define MAX_EVAL_DEPTH 1000
/* Subschema evaluations per call: a schema whose combinators multiply (allOf of refs to allOf
 * of refs...) fails with an error instead of running for minutes. */
#define MAX_EVAL_STEPS 20000000ul

struct seg {
    const char *key; /* NULL: array index */
    uint32_t len;
    uint32_t idx;
};

/* Evaluated members or items of one object or array, for unevaluated*. */
struct ev {
    uint64_t *bits;
    uint32_t n;
};

struct ct_vctx {
    void *md; /* pcre2_match_data */
    struct seg *path;
    size_t npath, cappath;
    const struct ct_snode **scope;
    size_t nscope, capscope;
    struct ct_arena scratch;
    /* per call */
    const struct ct_schema *schema;
    struct ct_diags *diags;
    bool all, notes;
    uint8_t dir;
    unsigned quiet;
    unsigned depth;
    unsigned long steps;
    /* The last object matched against a `properties` table: `required` computes it, the
     * `properties` keyword of the same schema reuses it (scratch memory, reset per call). */
    const struct ct_node *pm_in;
    const struct ct_kw_props *pm_p;
    const uint32_t *pm_idx;
};

struct ct_vctx *ct_vctx_new(void)
{
    struct ct_vctx *vc = ct_xcalloc(1, sizeof(*vc));
    vc->md = ct__regex_md_new();
    ct_arena_init(&vc->scratch, 4096);
    return vc;
}

void ct_vctx_free(struct ct_vctx *vc)
{
    if (!vc)
        return;
    ct__regex_md_free(vc->md);
    ct_free(vc->path);
    ct_free(vc->scope);
    ct_arena_deinit(&vc->scratch);
    ct_free(vc);
}

/* --- helpers ------------------------------------------------------------------------------ */

static inline void push_key(struct ct_vctx *c, const struct ct_node *key)
{
    if (c->npath == c->cappath)
        c->path = ct_xgrow(c->path, &c->cappath, c->npath + 1, sizeof(*c->path));
    c->path[c->npath].key = key->u.str;
    c->path[c->npath].len = key->len;
    c->npath++;
}

static inline void push_idx(struct ct_vctx *c, uint32_t i)
{
    if (c->npath == c->cappath)
        c->path = ct_xgrow(c->path, &c->cappath, c->npath + 1, sizeof(*c->path));
    c->path[c->npath].key = NULL;
    c->path[c->npath].idx = i;
    c->npath++;
}

static void ev_init(struct ct_vctx *c, struct ev *e, uint32_t n)
{
    e->n = n;
    e->bits = ct_arena_zalloc(&c->scratch, ((n + 63) / 64 + 1) * sizeof(uint64_t));
}

static inline void ev_set(struct ev *e, uint32_t i)
{
    if (e && i < e->n)
        e->bits[i / 64] |= (uint64_t)1 << (i % 64);
}

static inline bool ev_has(const struct ev *e, uint32_t i)
{
    return (e->bits[i / 64] >> (i % 64)) & 1;
}

static void ev_or(struct ev *dst, const struct ev *src)
{
    if (!dst || !src)
        return;
    uint32_t words = (dst->n + 63) / 64;
    for (uint32_t i = 0; i < words; i++)
        dst->bits[i] |= src->bits[i];
}

static bool is_false_schema(const struct ct_snode *s)
{
    return s && s->node->kind == CT_BOOL && s->nkw == 1;
}

static void render_path(const struct ct_vctx *c, struct ct_buf *b)
{
    for (size_t i = 0; i < c->npath; i++) {
        if (c->path[i].key)
            ct_pointer_append(b, c->path[i].key, c->path[i].len);
        else
            ct_buf_printf(b, "/%u", c->path[i].idx);
    }
}

static void describe(struct ct_buf *b, const struct ct_node *n)
{
    switch (n->kind) {
    case CT_NULL:
        ct_buf_adds(b, "null");
        break;
    case CT_BOOL:
        ct_buf_adds(b, (n->flags & CT_NF_TRUE) ? "true" : "false");
        break;
    case CT_NUMBER:
        ct_buf_add(b, n->u.text, n->len > 40 ? 40 : n->len);
        break;
    case CT_STRING:
        ct_buf_printf(b, "'%.*s%s'", n->len > 60 ? 60 : (int)n->len, n->u.str,
                      n->len > 60 ? "..." : "");
        break;
    case CT_ARRAY:
        ct_buf_printf(b, "an array of %u item%s", n->len, n->len == 1 ? "" : "s");
        break;
    default:
        ct_buf_printf(b, "an object with %u propert%s", n->len, n->len == 1 ? "y" : "ies");
        break;
    }
}

/* Report one failure of keyword `kw` of node `s` on instance `in`. Quiet evaluations report
 * nothing. Returns the diagnostic (for a hint) or NULL. */
__attribute__((format(printf, 5, 6))) static struct ct_diag *
fail(struct ct_vctx *c, const struct ct_snode *s, const struct ct_kw *kw,
     const struct ct_node *in, const char *fmt, ...)
{
    if (c->quiet || !c->diags)
        return NULL;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct ct_buf ip, kp;
    ct_buf_init(&ip, 0);
    ct_buf_init(&kp, 0);
    render_path(c, &ip);
    ct_buf_printf(&kp, "#%s", ct__snode_ptr(c->schema, s));
    if (kw && kw->at)
        ct_pointer_append(&kp, kw->at->key->u.str, kw->at->key->len);
    const struct ct_node *loc = kw && kw->at ? kw->at->key : s->node;
    struct ct_diag *g = ct_diags_add(c->diags, CT_SEV_ERROR, CT_E_INVALID, loc->src, loc->line,
                                     loc->col, "at %s: %s (keyword %s)",
                                     ip.len ? ct_buf_cstr(&ip) : "the root", msg,
                                     ct_buf_cstr(&kp));
    size_t gi = g ? (size_t)(g - c->diags->v) : 0;
    if (g) {
        g->instance_ptr = ct_xstrdup(ct_buf_cstr(&ip));
        g->keyword_ptr = ct_xstrdup(ct_buf_cstr(&kp));
    }
    if (c->notes && in && in->src && in->line)
        ct_diags_add(c->diags, CT_SEV_NOTE, 0, in->src, in->line, in->col,
                     "the value at %s is here", ip.len ? ct_buf_cstr(&ip) : "the root");
    ct_buf_deinit(&ip);
    ct_buf_deinit(&kp);
    /* Adding the note may have moved the list: hand back the error by its index. */
    return g ? &c->diags->v[gi] : NULL;
}

static const char *type_names(uint32_t t, char *buf, size_t cap)
{
    static const char *const names[] = {"null",   "boolean", "object", "array",
                                        "number", "string",  "integer"};
    size_t o = 0;
    buf[0] = 0;
    unsigned cnt = 0;
    for (unsigned i = 0; i < 7; i++)
        cnt += (t >> i) & 1;
    unsigned k = 0;
    for (unsigned i = 0; i < 7; i++) {
        if (!((t >> i) & 1))
            continue;
        const char *sep = k == 0 ? "" : (k + 1 == cnt ? " or " : ", ");
        int w = snprintf(buf + o, cap - o, "%s%s", sep, names[i]);
        if (w > 0 && (size_t)w < cap - o)
            o += (size_t)w;
        k++;
    }
    return buf;
}

static inline bool type_ok(uint32_t t, const struct ct_node *in)
{
    /* The type bit of each node kind; a number also passes "integer" when it is one. */
    static const uint8_t bit[] = {
        [CT_NULL] = CT_T_NULL,     [CT_BOOL] = CT_T_BOOLEAN,  [CT_NUMBER] = CT_T_NUMBER,
        [CT_STRING] = CT_T_STRING, [CT_ARRAY] = CT_T_ARRAY,   [CT_OBJECT] = CT_T_OBJECT,
    };
    if (t & bit[in->kind])
        return true;
    return in->kind == CT_NUMBER && (t & CT_T_INTEGER) && ct_num_is_integer(in);
}

static int num_cmp(const struct ct_node *in, const struct ct_kw_num *b)
{
    if ((in->flags & CT_NF_EXACT) && b->exact)
        return (in->num > b->d) - (in->num < b->d);
    return ct_num_cmp(in, b->val);
}

/* Is x a multiple of d? Exact on the decimal literals: 0.0075 is a multiple of 0.0001. */
static bool multiple_of(const struct ct_node *x, const struct ct_kw_num *m)
{
    double dv = m->d, xv = x->num;
    if ((x->flags & CT_NF_EXACT) && m->exact && dv == floor(dv) && fabs(xv) < 9007199254740992.0)
        return fmod(xv, dv) == 0;
    struct ct_decimal dx, dd;
    ct_decimal_from_node(x, &dx);
    ct_decimal_from_node(m->val, &dd);
    if (!dx.ndigits)
        return true;
    if (!dx.overflow && !dd.overflow && dd.ndigits <= 17) {
        int64_t sx = dx.exp - (int64_t)dx.ndigits, sd = dd.exp - (int64_t)dd.ndigits;
        if (sx < sd)
            return false; /* x has a nonzero digit below d's last digit */
        uint64_t D = 0, r = 0;
        for (uint32_t i = 0; i < dd.ndigits; i++)
            D = D * 10 + (uint64_t)(dd.digits[i] - '0');
        for (uint32_t i = 0; i < dx.ndigits; i++)
            r = (r * 10 + (uint64_t)(dx.digits[i] - '0')) % D;
        /* Appending zeros: D has at most 57 factors of 2 and 24 of 5, so 64 rounds decide. */
        for (int64_t k = sx - sd; k > 0 && r && k > (sx - sd) - 64; k--)
            r = (r * 10) % D;
        return r == 0;
    }
    double q = xv / dv;
    return isfinite(q) && q == floor(q);
}

static uint64_t codepoints(const char *s, size_t len)
{
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static bool vnode(struct ct_vctx *c, const struct ct_snode *s, const struct ct_node *in,
                  struct ev *ev);

static bool stop(const struct ct_vctx *c)
{
    return !c->all || c->quiet;
}

/* --- keywords ------------------------------------------------------------------------------ */

static bool v_items(struct ct_vctx *c, const struct ct_snode *s, const struct ct_kw *kw,
                    const struct ct_node *in, struct ev *ev)
{
    const struct ct_kw_items *it = &kw->u.items;
    bool ok = true;
    for (uint32_t i = 0; i < in->len; i++) {
        const struct ct_snode *sub = i < it->nprefix ? it->prefix[i] : it->rest;
        if (!sub)
            break;
        if (i >= it->nprefix && is_false_schema(sub)) {
            struct ct_kw tmp = *kw;
            tmp.at = it->at_rest;
            fail(c, s, &tmp, in, "expected at most %u item%s, got %u", it->nprefix,
                 it->nprefix == 1 ? "" : "s", in->len);
            return false;
        }
        push_idx(c, i);
        bool r = vnode(c, sub, in->u.items[i], NULL);
        c->npath--;
        if (r)
            ev_set(ev, i);
        if (!r) {
            ok = false;
            if (stop(c))
                return false;
        }
    }
    return ok;
}


/* ct__prop_index for every member of `in`, kept for the `properties` keyword that follows. */
static const uint32_t *prop_matches(struct ct_vctx *c, const struct ct_kw_props *p,
                                    const struct ct_node *in)
{
    if (c->pm_in == in && c->pm_p == p)
        return c->pm_idx;
    uint32_t *idx = ct_arena_alloc(&c->scratch, (in->len ? in->len : 1) * sizeof(uint32_t));
    for (uint32_t i = 0; i < in->len; i++)
        idx[i] = ct__prop_index(p, in->u.members[i].key->u.str, in->u.members[i].key->len);
    c->pm_in = in;
    c->pm_p = p;
    c->pm_idx = idx;
    return idx;
}

/* `required` when every name is a declared property: true when all are present (a missing
 * one is reported by the general check). */
static bool required_fast(struct ct_vctx *c, const struct ct_kw *kw, const struct ct_node *in)
{
    uint32_t n = kw->u.req.n;
    uint64_t want = n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
    if (c->dir == CT_DIR_REQUEST)
        want &= ~kw->u.req.ro;
    else if (c->dir == CT_DIR_RESPONSE)
        want &= ~kw->u.req.wo;
    if (!want)
        return true;
    const struct ct_kw_props *p = kw->u.req.props;
    const uint32_t *idx = prop_matches(c, p, in);
    uint64_t have = 0;
    for (uint32_t i = 0; i < in->len; i++)
        if (idx[i])
            have |= p->props[idx[i] - 1].reqbits;
    return (have & want) == want;
}

__attribute__((noinline)) static bool v_props(struct ct_vctx *c, const struct ct_snode *s,
                                              const struct ct_kw *kw, const struct ct_node *in,
                                              struct ev *ev)
{
    const struct ct_kw_props *p = kw->u.props;
    const uint32_t *idx = c->pm_in == in && c->pm_p == p ? c->pm_idx : NULL;
    bool ok = true;
    for (uint32_t i = 0; i < in->len; i++) {
        const struct ct_member *m = &in->u.members[i];
        const char *k = m->key->u.str;
        uint32_t kl = m->key->len;
        bool matched = false;
        uint32_t pi = idx ? idx[i] : ct__prop_index(p, k, kl);
        if (pi) {
            {
                const struct ct_prop *pp = &p->props[pi - 1];
                matched = true;
                /* The key is pushed first so that a read-only or write-only error
                 * points at the property itself (/id), not at its object. */
                push_key(c, m->key);
                if (c->dir && pp->sub) {
                    uint32_t f = pp->sub->flags;
                    for (uint32_t q = 0; q < pp->sub->nkw && !(f & (CT_SN_READONLY |
                                                                    CT_SN_WRITEONLY));
                         q++)
                        if (pp->sub->kw[q].kind == CT_KW_REF && pp->sub->kw[q].u.sub)
                            f |= pp->sub->kw[q].u.sub->flags;
                    if (c->dir == CT_DIR_REQUEST && (f & CT_SN_READONLY)) {
                        struct ct_kw tmp = *kw;
                        tmp.at = p->at_props;
                        fail(c, s, &tmp, m->val,
                             "property '%s' is read-only and must not be sent in a request", k);
                        ok = false;
                        if (stop(c)) {
                            c->npath--;
                            return false;
                        }
                    } else if (c->dir == CT_DIR_RESPONSE && (f & CT_SN_WRITEONLY)) {
                        struct ct_kw tmp = *kw;
                        tmp.at = p->at_props;
                        fail(c, s, &tmp, m->val,
                             "property '%s' is write-only and must not appear in a response",
                             k);
                        ok = false;
                        if (stop(c)) {
                            c->npath--;
                            return false;
                        }
                    }
                }
                bool r = vnode(c, pp->sub, m->val, NULL);
                c->npath--;
                if (!r) {
                    ok = false;
                    if (stop(c))
                        return false;
                }
            }
        }
        for (uint32_t j = 0; j < p->npat; j++) {
            int mr = ct__regex_match(&p->pat[j], c->md, k, kl);
            if (mr < 0) {
                struct ct_kw tmp = *kw;
                tmp.at = p->at_pat;
                fail(c, s, &tmp, in,
                     "pattern '%s' gave up on property name '%s' (match limit reached)",
                     p->pat[j].source, k);
                ok = false;
                if (stop(c))
                    return false;
                continue;
            }
            if (!mr)
                continue;
            matched = true;
            push_key(c, m->key);
            bool r = vnode(c, p->patsub[j], m->val, NULL);
            c->npath--;
            if (!r) {
                ok = false;
                if (stop(c))
                    return false;
            }
        }
        if (!matched && p->additional) {
            if (is_false_schema(p->additional)) {
                struct ct_kw tmp = *kw;
                tmp.at = p->at_add;
                struct ct_diag *g = fail(c, s, &tmp, m->key, "unexpected property '%s'", k);
                if (g && p->nprops) {
                    const char **names = ct_xmalloc(p->nprops * sizeof(char *));
                    for (uint32_t j = 0; j < p->nprops; j++)
                        names[j] = p->props[j].name;
                    const char *best = ct_did_you_mean(k, names, p->nprops);
                    if (best && !ct_obj_get(in, best))
                        ct_diag_set_hint(g, "did you mean '%s'?", best);
                    ct_free(names);
                }
                ok = false;
                if (stop(c))
                    return false;
                continue;
            }
            push_key(c, m->key);
            bool r = vnode(c, p->additional, m->val, NULL);
            c->npath--;
            if (!r) {
                ok = false;
                if (stop(c))
                    return false;
            }
            matched = true;
        }
        if (matched)
            ev_set(ev, i);
    }
    return ok;
}

static bool v_unique(struct ct_vctx *c, const struct ct_snode *s, const struct ct_kw *kw,
                     const struct ct_node *in)
{
    for (uint32_t i = 1; i < in->len; i++) {
        for (uint32_t j = 0; j < i; j++) {
            if (ct_node_equal(in->u.items[i], in->u.items[j])) {
                struct ct_buf b;
                ct_buf_init(&b, 0);
                describe(&b, in->u.items[i]);
                fail(c, s, kw, in, "expected unique items, got %s at %u and %u",
                     ct_buf_cstr(&b), j, i);
                ct_buf_deinit(&b);
                return false;
            }
        }
    }
    return true;
}

static int b64v(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

/* Draft 7 contentEncoding (base64) and contentMediaType (application/json). */
static bool v_content(struct ct_vctx *c, const struct ct_snode *s, const struct ct_kw *kw,
                      const struct ct_node *in)
{
    const char *text = in->u.str;
    size_t len = in->len;
    if (kw->u.content.base64) {
        char *out = ct_arena_alloc(&c->scratch, len + 1);
        size_t o = 0, pad = 0;
        uint32_t acc = 0;
        unsigned bits = 0;
        for (size_t i = 0; i < len; i++) {
            unsigned char ch = (unsigned char)text[i];
            if (ch == '=') {
                pad++;
                continue;
            }
            int v = b64v(ch);
            if (v < 0 || pad) {
                fail(c, s, kw, in, "expected base64 text, got a '%c' at offset %zu", ch, i);
                return false;
            }
            acc = (acc << 6) | (uint32_t)v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out[o++] = (char)((acc >> bits) & 0xFF);
            }
        }
        if ((len % 4) != 0 || pad > 2) {
            fail(c, s, kw, in, "expected base64 text, got a length that is not a multiple of 4");
            return false;
        }
        out[o] = 0;
        text = out;
        len = o;
    }
    if (kw->u.content.json) {
        struct ct_source src = {"<content>", text, len};
        struct ct_diags d;
        ct_diags_init(&d);
        char *copy = ct_arena_strndup(&c->scratch, text, len);
        src.text = copy;
        bool ok = ct_json_parse(&c->scratch, &src, NULL, &d) != NULL;
        if (!ok)
            fail(c, s, kw, in, "expected JSON content, got text that does not parse (%s)",
                 d.n ? d.v[0].msg : "syntax error");
        ct_diags_deinit(&d);
        return ok;
    }
    return true;
}

static const struct ct_snode *dyn_target(const struct ct_vctx *c, const struct ct_kw *kw)
{
    const struct ct_kw_dyn *d = &kw->u.dyn;
    if (!d->anchor)
        return d->target;
    if (kw->flags & CT_KF_RECURSIVE) {
        /* 2019-09: the outermost resource of the unbroken run of $recursiveAnchor: true
         * resources, counting inwards from the current one. */
        const struct ct_snode *t = d->target;
        for (size_t i = c->nscope; i-- > 0;) {
            if (!(c->scope[i]->flags & CT_SN_RECANCHOR))
                break;
            t = c->scope[i];
        }
        return t;
    }
    /* 2020-12: the outermost resource in the dynamic scope with a matching dynamic anchor. */
    for (size_t i = 0; i < c->nscope; i++) {
        const struct ct_snode *r = c->scope[i];
        for (uint32_t j = 0; j < r->ndyn; j++)
            if (!strcmp(r->dyn[j].name, d->anchor))
                return r->dyn[j].target;
    }
    return d->target;
}

/* Every keyword, with its messages; v_kw answers the common passing cases before calling it. */
__attribute__((noinline)) static bool v_kw_full(struct ct_vctx *c, const struct ct_snode *s,
                                                const struct ct_kw *kw, const struct ct_node *in,
                                                struct ev *ev)
{
    char tb[96];
    switch ((enum ct_kwk)kw->kind) {
    case CT_KW_FALSE:
        fail(c, s, kw, in, "no value is allowed here (the schema is false)");
        return false;
    case CT_KW_TYPE:
        if (type_ok(kw->u.types, in) &&
            !((kw->flags & CT_KF_STRICTINT) && in->kind == CT_NUMBER &&
              !(kw->u.types & CT_T_NUMBER) && !(in->flags & CT_NF_INT)))
            return true;
        {
            struct ct_buf b;
            ct_buf_init(&b, 0);
            describe(&b, in);
            fail(c, s, kw, in, "expected %s, got %s %s",
                 type_names(kw->u.types, tb, sizeof(tb)), ct_node_type_name(in),
                 ct_buf_cstr(&b));
            ct_buf_deinit(&b);
        }
        return false;
    case CT_KW_ENUM:
        if ((kw->flags & CT_KF_NULLABLE) && in->kind == CT_NULL)
            return true;
        for (uint32_t i = 0; i < kw->u.list.n; i++)
            if (ct_node_equal(kw->u.list.v[i], in))
                return true;
        {
            struct ct_buf b, e;
            ct_buf_init(&b, 0);
            ct_buf_init(&e, 0);
            describe(&b, in);
            for (uint32_t i = 0; i < kw->u.list.n && i < 10; i++) {
                if (i)
                    ct_buf_adds(&e, ", ");
                describe(&e, kw->u.list.v[i]);
            }
            if (kw->u.list.n > 10)
                ct_buf_printf(&e, " (%u more)", kw->u.list.n - 10);
            fail(c, s, kw, in, "expected one of %s, got %s", ct_buf_cstr(&e), ct_buf_cstr(&b));
            ct_buf_deinit(&b);
            ct_buf_deinit(&e);
        }
        return false;
    case CT_KW_CONST:
        if (ct_node_equal(kw->u.value, in))
            return true;
        {
            struct ct_buf b, e;
            ct_buf_init(&b, 0);
            ct_buf_init(&e, 0);
            describe(&b, in);
            describe(&e, kw->u.value);
            fail(c, s, kw, in, "expected %s, got %s", ct_buf_cstr(&e), ct_buf_cstr(&b));
            ct_buf_deinit(&b);
            ct_buf_deinit(&e);
        }
        return false;
    case CT_KW_MULTIPLEOF:
        if (in->kind != CT_NUMBER || multiple_of(in, &kw->u.num))
            return true;
        fail(c, s, kw, in, "expected a multiple of %.*s, got %.*s", (int)kw->u.num.val->len,
             kw->u.num.val->u.text, (int)in->len, in->u.text);
        return false;
    case CT_KW_MAXIMUM:
    case CT_KW_MINIMUM: {
        if (in->kind != CT_NUMBER)
            return true;
        int r = num_cmp(in, &kw->u.num);
        bool excl = kw->flags & CT_KF_EXCL;
        bool max = kw->kind == CT_KW_MAXIMUM;
        if (max ? (excl ? r < 0 : r <= 0) : (excl ? r > 0 : r >= 0))
            return true;
        fail(c, s, kw, in, "expected a number %s %.*s, got %.*s",
             max ? (excl ? "<" : "<=") : (excl ? ">" : ">="), (int)kw->u.num.val->len,
             kw->u.num.val->u.text, (int)in->len, in->u.text);
        return false;
    }
    case CT_KW_MAXLENGTH:
        if (in->kind != CT_STRING || in->len <= kw->u.count)
            return true;
        {
            uint64_t n = codepoints(in->u.str, in->len);
            if (n <= kw->u.count)
                return true;
            fail(c, s, kw, in, "expected at most %llu character%s, got %llu",
                 (unsigned long long)kw->u.count, kw->u.count == 1 ? "" : "s",
                 (unsigned long long)n);
        }
        return false;
    case CT_KW_MINLENGTH:
        if (in->kind != CT_STRING || in->len / 4 >= kw->u.count)
            return true;
        {
            uint64_t n = codepoints(in->u.str, in->len);
            if (n >= kw->u.count)
                return true;
            fail(c, s, kw, in, "expected at least %llu character%s, got %llu",
                 (unsigned long long)kw->u.count, kw->u.count == 1 ? "" : "s",
                 (unsigned long long)n);
        }
        return false;
    case CT_KW_PATTERN: {
        if (in->kind != CT_STRING)
            return true;
        int r = ct__regex_match(&kw->u.re, c->md, in->u.str, in->len);
        if (r == 1)
            return true;
        struct ct_buf b;
        ct_buf_init(&b, 0);
        describe(&b, in);
        if (r < 0)
            fail(c, s, kw, in, "pattern '%s' gave up on %s (match limit reached)",
                 kw->u.re.source, ct_buf_cstr(&b));
        else
            fail(c, s, kw, in, "expected a string matching '%s', got %s", kw->u.re.source,
                 ct_buf_cstr(&b));
        ct_buf_deinit(&b);
        return false;
    }
    case CT_KW_FORMAT:
        if (in->kind != CT_STRING || kw->u.format.fn(in->u.str, in->len))
            return true;
        {
            struct ct_buf b;
            ct_buf_init(&b, 0);
            describe(&b, in);
            fail(c, s, kw, in, "expected a valid %s, got %s", kw->u.format.name,
                 ct_buf_cstr(&b));
            ct_buf_deinit(&b);
        }
        return false;
    case CT_KW_MAXITEMS:
    case CT_KW_MINITEMS:
    case CT_KW_MAXPROPS:
    case CT_KW_MINPROPS: {
        bool items = kw->kind == CT_KW_MAXITEMS || kw->kind == CT_KW_MINITEMS;
        bool max = kw->kind == CT_KW_MAXITEMS || kw->kind == CT_KW_MAXPROPS;
        if (in->kind != (items ? CT_ARRAY : CT_OBJECT))
            return true;
        if (max ? in->len <= kw->u.count : in->len >= kw->u.count)
            return true;
        const char *what = items ? (kw->u.count == 1 ? "item" : "items")
                                 : (kw->u.count == 1 ? "property" : "properties");
        fail(c, s, kw, in, "expected at %s %llu %s, got %u", max ? "most" : "least",
             (unsigned long long)kw->u.count, what, in->len);
        return false;
    }
    case CT_KW_UNIQUE:
        return in->kind != CT_ARRAY || v_unique(c, s, kw, in);
    case CT_KW_ITEMS:
        return in->kind != CT_ARRAY || v_items(c, s, kw, in, ev);
    case CT_KW_CONTAINS: {
        if (in->kind != CT_ARRAY)
            return true;
        const struct ct_kw_contains *k = &kw->u.contains;
        uint64_t cnt = 0;
        bool mark = ev && (s->dialect == CT_DIALECT_2020_12 || s->dialect == CT_DIALECT_OAS31);
        c->quiet++;
        for (uint32_t i = 0; i < in->len; i++) {
            if (vnode(c, k->sub, in->u.items[i], NULL)) {
                cnt++;
                if (mark)
                    ev_set(ev, i);
                else if (cnt >= k->min && k->max == UINT64_MAX)
                    break;
            }
        }
        c->quiet--;
        if (cnt < k->min) {
            struct ct_kw tmp = *kw;
            if (k->at_min)
                tmp.at = k->at_min;
            fail(c, s, &tmp, in, "expected at least %llu item%s matching 'contains', got %llu",
                 (unsigned long long)k->min, k->min == 1 ? "" : "s", (unsigned long long)cnt);
            return false;
        }
        if (cnt > k->max) {
            struct ct_kw tmp = *kw;
            tmp.at = k->at_max;
            fail(c, s, &tmp, in, "expected at most %llu item%s matching 'contains', got %llu",
                 (unsigned long long)k->max, k->max == 1 ? "" : "s", (unsigned long long)cnt);
            return false;
        }
        return true;
    }
    case CT_KW_REQUIRED: {
        if (in->kind != CT_OBJECT || (kw->u.req.props && required_fast(c, kw, in)))
            return true;
        bool ok = true;
        for (uint32_t i = 0; i < kw->u.req.n; i++) {
            const struct ct_req *r = &kw->u.req.v[i];
            if ((c->dir == CT_DIR_REQUEST && (r->rw & 1)) ||
                (c->dir == CT_DIR_RESPONSE && (r->rw & 2)))
                continue;
            if (ct_obj_getn(in, r->name, r->len))
                continue;
            fail(c, s, kw, in, "missing required property '%s'", r->name);
            ok = false;
            if (stop(c))
                return false;
        }
        return ok;
    }
    case CT_KW_PROPS:
        return in->kind != CT_OBJECT || v_props(c, s, kw, in, ev);
    case CT_KW_DEPREQ: {
        if (in->kind != CT_OBJECT)
            return true;
        bool ok = true;
        for (uint32_t i = 0; i < kw->u.depreq.n; i++) {
            const struct ct_depreq *d = &kw->u.depreq.v[i];
            if (!ct_obj_getn(in, d->name, d->len))
                continue;
            for (uint32_t j = 0; j < d->nreq; j++) {
                if (ct_obj_getn(in, d->req[j].name, d->req[j].len))
                    continue;
                fail(c, s, kw, in, "property '%s' requires property '%s', which is missing",
                     d->name, d->req[j].name);
                ok = false;
                if (stop(c))
                    return false;
            }
        }
        return ok;
    }
    case CT_KW_DEPSCHEMAS: {
        if (in->kind != CT_OBJECT)
            return true;
        bool ok = true;
        for (uint32_t i = 0; i < kw->u.depsch.n; i++) {
            const struct ct_depsch *d = &kw->u.depsch.v[i];
            if (!ct_obj_getn(in, d->name, d->len))
                continue;
            if (!vnode(c, d->sub, in, ev)) {
                ok = false;
                if (stop(c))
                    return false;
            }
        }
        return ok;
    }
    case CT_KW_PROPNAMES: {
        if (in->kind != CT_OBJECT)
            return true;
        bool ok = true;
        for (uint32_t i = 0; i < in->len; i++) {
            c->quiet++;
            bool r = vnode(c, kw->u.sub, in->u.members[i].key, NULL);
            c->quiet--;
            if (r)
                continue;
            fail(c, s, kw, in, "property name '%s' does not match 'propertyNames'",
                 in->u.members[i].key->u.str);
            ok = false;
            if (stop(c))
                return false;
        }
        return ok;
    }
    case CT_KW_ALLOF: {
        bool ok = true;
        for (uint32_t i = 0; i < kw->u.subs.n; i++) {
            if (!vnode(c, kw->u.subs.v[i], in, ev)) {
                ok = false;
                if (stop(c))
                    return false;
            }
        }
        return ok;
    }
    case CT_KW_ANYOF: {
        bool any = false;
        c->quiet++;
        for (uint32_t i = 0; i < kw->u.subs.n; i++) {
            struct ev tmp, *tp = NULL;
            if (ev) {
                ev_init(c, &tmp, ev->n);
                tp = &tmp;
            }
            if (vnode(c, kw->u.subs.v[i], in, tp)) {
                any = true;
                ev_or(ev, tp);
                if (!ev)
                    break;
            }
        }
        c->quiet--;
        if (!any)
            fail(c, s, kw, in, "expected to match at least one of the %u schemas in anyOf, "
                               "matched none",
                 kw->u.subs.n);
        return any;
    }
    case CT_KW_ONEOF: {
        uint32_t cnt = 0, first = 0, second = 0;
        struct ev keep = {0};
        c->quiet++;
        for (uint32_t i = 0; i < kw->u.subs.n && cnt < 2; i++) {
            struct ev tmp, *tp = NULL;
            if (ev) {
                ev_init(c, &tmp, ev->n);
                tp = &tmp;
            }
            if (vnode(c, kw->u.subs.v[i], in, tp)) {
                if (cnt++ == 0) {
                    first = i;
                    if (tp)
                        keep = tmp;
                } else {
                    second = i;
                }
            }
        }
        c->quiet--;
        if (cnt == 1) {
            if (ev)
                ev_or(ev, &keep);
            return true;
        }
        if (cnt == 0)
            fail(c, s, kw, in, "expected to match exactly one of the %u schemas in oneOf, "
                               "matched none",
                 kw->u.subs.n);
        else
            fail(c, s, kw, in, "expected to match exactly one of the %u schemas in oneOf, "
                               "matched several (%u and %u)",
                 kw->u.subs.n, first, second);
        return false;
    }
    case CT_KW_NOT: {
        c->quiet++;
        bool r = vnode(c, kw->u.sub, in, NULL);
        c->quiet--;
        if (r)
            fail(c, s, kw, in, "expected not to match the schema in 'not', but it does");
        return !r;
    }
    case CT_KW_IF: {
        struct ev tmp, *tp = NULL;
        if (ev) {
            ev_init(c, &tmp, ev->n);
            tp = &tmp;
        }
        c->quiet++;
        bool r = vnode(c, kw->u.cond.if_, in, tp);
        c->quiet--;
        if (r) {
            ev_or(ev, tp);
            return !kw->u.cond.then_ || vnode(c, kw->u.cond.then_, in, ev);
        }
        return !kw->u.cond.else_ || vnode(c, kw->u.cond.else_, in, ev);
    }
    case CT_KW_REF:
        return vnode(c, kw->u.sub, in, ev);
    case CT_KW_DYNREF:
        return vnode(c, dyn_target(c, kw), in, ev);
    case CT_KW_DISCRIMINATOR: {
        const struct ct_kw_disc *d = kw->u.disc;
        if (in->kind != CT_OBJECT) {
            fail(c, s, kw, in, "expected an object with discriminator property '%s', got %s",
                 d->prop, ct_node_type_name(in));
            return false;
        }
        const struct ct_node *v = ct_obj_get(in, d->prop);
        if (!v) {
            fail(c, s, kw, in, "missing discriminator property '%s'", d->prop);
            return false;
        }
        if (v->kind == CT_STRING) {
            for (uint32_t i = 0; i < d->n; i++)
                if (!strcmp(d->values[i], v->u.str))
                    return vnode(c, d->subs[i], in, ev);
        }
        struct ct_buf b, e;
        ct_buf_init(&b, 0);
        ct_buf_init(&e, 0);
        describe(&b, v);
        for (uint32_t i = 0; i < d->n; i++)
            ct_buf_printf(&e, "%s'%s'", i ? ", " : "", d->values[i]);
        fail(c, s, kw, in, "discriminator '%s': expected one of %s, got %s", d->prop,
             ct_buf_cstr(&e), ct_buf_cstr(&b));
        ct_buf_deinit(&b);
        ct_buf_deinit(&e);
        return false;
    }
    case CT_KW_CONTENT:
        return in->kind != CT_STRING || v_content(c, s, kw, in);
    case CT_KW_UNEVAL_ITEMS:
    case CT_KW_UNEVAL_PROPS: {
        bool props = kw->kind == CT_KW_UNEVAL_PROPS;
        if (in->kind != (props ? CT_OBJECT : CT_ARRAY) || !ev)
            return true;
        bool ok = true;
        for (uint32_t i = 0; i < in->len; i++) {
            if (ev_has(ev, i))
                continue;
            if (is_false_schema(kw->u.sub)) {
                if (props)
                    fail(c, s, kw, in, "unexpected property '%s' (no subschema evaluated it)",
                         in->u.members[i].key->u.str);
                else
                    fail(c, s, kw, in, "unexpected item at index %u (no subschema evaluated it)",
                         i);
                ok = false;
                if (stop(c))
                    return false;
                continue;
            }
            if (props)
                push_key(c, in->u.members[i].key);
            else
                push_idx(c, i);
            bool r = vnode(c, kw->u.sub, props ? in->u.members[i].val : in->u.items[i], NULL);
            c->npath--;
            if (!r) {
                ok = false;
                if (stop(c))
                    return false;
            }
        }
        if (ok)
            for (uint32_t i = 0; i < in->len; i++)
                ev_set(ev, i);
        return ok;
    }
    }
    return true;
}

/* The hot path: keywords that pass are answered here, in a small frame; failures and the
 * rarer keywords go to v_kw_full, which checks again and reports. */
static inline bool v_kw(struct ct_vctx *c, const struct ct_snode *s, const struct ct_kw *kw,
                        const struct ct_node *in, struct ev *ev)
{
    switch ((enum ct_kwk)kw->kind) {
    case CT_KW_TYPE:
        if (type_ok(kw->u.types, in) && !(kw->flags & CT_KF_STRICTINT))
            return true;
        break;
    case CT_KW_MAXLENGTH:
        if (in->kind != CT_STRING || in->len <= kw->u.count)
            return true;
        break;
    case CT_KW_MINLENGTH:
        if (in->kind != CT_STRING || in->len / 4 >= kw->u.count)
            return true;
        break;
    case CT_KW_FORMAT:
        if (in->kind != CT_STRING || kw->u.format.fn(in->u.str, in->len))
            return true;
        break;
    case CT_KW_MAXIMUM:
    case CT_KW_MINIMUM:
        if (in->kind != CT_NUMBER)
            return true;
        if ((in->flags & CT_NF_EXACT) && kw->u.num.exact) {
            double a = in->num, b = kw->u.num.d;
            bool excl = kw->flags & CT_KF_EXCL;
            if (kw->kind == CT_KW_MAXIMUM ? (excl ? a < b : a <= b) : (excl ? a > b : a >= b))
                return true;
        }
        break;
    case CT_KW_MAXITEMS:
        if (in->kind != CT_ARRAY || in->len <= kw->u.count)
            return true;
        break;
    case CT_KW_MINITEMS:
        if (in->kind != CT_ARRAY || in->len >= kw->u.count)
            return true;
        break;
    case CT_KW_ENUM:
        if (in->kind == CT_STRING) {
            for (uint32_t i = 0; i < kw->u.list.n; i++) {
                const struct ct_node *v = kw->u.list.v[i];
                if (v->kind == CT_STRING && v->len == in->len &&
                    ct__name_eq(v->u.str, in->u.str, in->len))
                    return true;
            }
        }
        break;
    case CT_KW_REQUIRED:
        if (in->kind != CT_OBJECT || (kw->u.req.props && required_fast(c, kw, in)))
            return true;
        break;
    case CT_KW_PROPS:
        return in->kind != CT_OBJECT || v_props(c, s, kw, in, ev);
    case CT_KW_ITEMS:
        return in->kind != CT_ARRAY || v_items(c, s, kw, in, ev);
    case CT_KW_REF:
        return vnode(c, kw->u.sub, in, ev);
    default:
        break;
    }
    return v_kw_full(c, s, kw, in, ev);
}

static bool vnode(struct ct_vctx *c, const struct ct_snode *s, const struct ct_node *in,
                  struct ev *ev)
{
    if (!s || !s->nkw)
        return true;
    if (++c->steps > MAX_EVAL_STEPS) {
        if (c->steps == MAX_EVAL_STEPS + 1) {
            unsigned q = c->quiet;
            c->quiet = 0;
            fail(c, s, NULL, in, "validation took more than %lu subschema evaluations; giving up",
                 MAX_EVAL_STEPS);
            c->quiet = q;
        }
        return false;
    }
    if (c->depth >= MAX_EVAL_DEPTH) {
        fail(c, s, NULL, in, "schema evaluation nested more than %d levels deep (a $ref loop?)",
             MAX_EVAL_DEPTH);
        return false;
    }
    c->depth++;
    /* Entering another schema resource (its root, or any node reached by a reference) adds
     * it to the dynamic scope. */
    const struct ct_snode *res = s->res;
    bool resource = res && (c->nscope == 0 || c->scope[c->nscope - 1] != res);
    if (resource) {
        if (c->nscope == c->capscope)
            c->scope = ct_xgrow(c->scope, &c->capscope, c->nscope + 1, sizeof(*c->scope));
        c->scope[c->nscope++] = res;
    }
    struct ev local, *e = ev;
    if ((s->flags & CT_SN_NEEDS_EV) && (in->kind == CT_OBJECT || in->kind == CT_ARRAY)) {
        ev_init(c, &local, in->len);
        e = &local;
    }
    bool ok = true;
    /* A leading `type` that passes is settled here, without a dispatch (a failing one is
     * reported by the loop). */
    uint32_t i = (s->flags & CT_SN_TYPE0) && type_ok(s->kw[0].u.types, in);
    for (; i < s->nkw; i++) {
        if (!v_kw(c, s, &s->kw[i], in, e)) {
            ok = false;
            if (stop(c))
                break;
        }
    }
    if (ok && e != ev)
        ev_or(ev, &local);
    if (resource)
        c->nscope--;
    c->depth--;
    return ok;
}

/* --- entry points ----------------------------------------------------------------------------- */

bool ct_schema_validate_opts(const struct ct_schema *s, struct ct_vctx *vc,
                             const struct ct_node *instance, const struct ct_vopts *vo,
                             struct ct_diags *diags)
{
    struct ct_vctx *own = NULL;
    if (!vc)
        vc = own = ct_vctx_new();
    ct_arena_reset(&vc->scratch);
    vc->npath = 0;
    vc->nscope = 0;
    vc->schema = s;
    vc->diags = diags;
    vc->all = vo->all_errors;
    vc->notes = vo->instance_notes;
    vc->dir = (uint8_t)vo->direction;
    vc->quiet = 0;
    vc->depth = 0;
    vc->steps = 0;
    vc->pm_in = NULL;
    vc->pm_p = NULL;
    bool ok = vnode(vc, s->root, instance, NULL);
    ct_vctx_free(own);
    return ok;
}

bool ct_schema_validate_ex(const struct ct_schema *s, struct ct_vctx *vc,
                           const struct ct_node *instance, struct ct_diags *diags)
{
    const struct ct_schema_opts *o = ct__schema_opts(s);
    struct ct_vopts vo = {o->direction, o->all_errors, o->instance_notes};
    return ct_schema_validate_opts(s, vc, instance, &vo, diags);
}

bool ct_schema_validate(const struct ct_schema *s, const struct ct_node *instance,
                        struct ct_diags *diags)
{
    return ct_schema_validate_ex(s, NULL, instance, diags);
}
