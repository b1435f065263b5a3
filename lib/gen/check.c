/* check.c - the generator's own check of a candidate against raw schema nodes.
 *
 * The generator must never hand out an invalid instance, and it must decide some things by
 * evaluation: does a oneOf candidate also match another branch, does an `else` candidate match
 * `if`, does an enum value or an example satisfy the rest of the conjunction. lib/schema's
 * validator needs a compiled schema set, which is built once and not safe to change from
 * several threads; this check works on the raw nodes instead, allocates nothing, and follows the
 * same dialect rules as the validator for the keywords OpenAPI documents use: OpenAPI 3.0 (no
 * `const`, boolean exclusive bounds, `nullable`, `$ref` hiding its siblings) and 3.1 / 2020-12.
 *
 * It is deliberately lenient where it cannot know (a pattern PCRE2 refuses, an unknown format,
 * unevaluatedItems): the real validator in the tests has the last word. */
#include "gen_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>

#define CK_MAX_DEPTH 64

__extension__ typedef unsigned __int128 u128;

__attribute__((format(printf, 3, 4))) static bool fail(struct gen *g, const struct ct_node *at,
                                                       const char *fmt, ...)
{
    if (g->ck_quiet || g->ck_at) return false;
    g->ck_at = at;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->ck_msg, sizeof g->ck_msg, fmt, ap);
    va_end(ap);
    return false;
}

void ct__gen_check_reset(struct gen *g)
{
    g->ck_at = NULL;
    g->ck_msg[0] = 0;
    g->ck_depth = 0;
}

static bool ck(struct gen *g, const struct ct_node *x, const struct ct_node *s);

/* ===================================================================== numbers =========== */

static bool dec_int(const struct ct_decimal *d, u128 *v, int64_t *e)
{
    if (d->overflow || d->ndigits > 38) return false;
    u128 m = 0;
    for (uint32_t i = 0; i < d->ndigits; i++)
        m = m * 10 + (unsigned)(d->digits[i] - '0');
    *v = m;
    *e = d->exp - (int64_t)d->ndigits;
    return true;
}

/* Is x a multiple of m? Decided the way lib/schema decides it, so that the two never disagree:
 * exactly on the decimal digits while m has at most 17 significant digits, and by the quotient
 * of the nearest doubles beyond that (a divisor like 0.00111111111111111121111111 is rare, and
 * an instance the validator rejects would be worse than a slightly inexact check). */
static bool multiple_of(const struct ct_node *x, const struct ct_node *m)
{
    struct ct_decimal dx, dm;
    if (!ct_decimal_from_node(x, &dx) || !ct_decimal_from_node(m, &dm)) return true;
    if (dx.ndigits == 0) return true;
    if (!dx.overflow && !dm.overflow && dm.ndigits <= 17 && dx.ndigits <= 38) {
        u128 X, M;
        int64_t ex, em;
        if (dec_int(&dx, &X, &ex) && dec_int(&dm, &M, &em) && M != 0) {
            if (ex < em) return false; /* x has a nonzero digit below m's last digit */
            /* x = X * 10^ex, m = M * 10^em: is X * 10^(ex-em) divisible by M? */
            u128 r = X % M;
            for (int64_t k = ex - em; k > 0 && r && k > (ex - em) - 64; k--)
                r = (r * 10) % M;
            return r == 0;
        }
    }
    double q = x->num / m->num;
    return isfinite(q) && q == floor(q);
}

static bool check_number(struct gen *g, const struct ct_node *x, const struct ct_node *s)
{
    const struct ct_node *v;
    if ((v = gkw(g, s, K_MULTIPLE_OF)) && v->kind == CT_NUMBER && !(v->flags & CT_NF_NEG) &&
        v->num != 0 && !multiple_of(x, v))
        return fail(g, v, "%.*s is not a multiple of %.*s", (int)x->len, x->u.text, (int)v->len,
                    v->u.text);
    const struct ct_node *emn = gkw(g, s, K_EXCLUSIVE_MINIMUM);
    const struct ct_node *emx = gkw(g, s, K_EXCLUSIVE_MAXIMUM);
    if ((v = gkw(g, s, K_MINIMUM)) && v->kind == CT_NUMBER) {
        int c = ct_num_cmp(x, v);
        bool excl = emn && emn->kind == CT_BOOL && (emn->flags & CT_NF_TRUE);
        if (c < 0 || (c == 0 && excl))
            return fail(g, v, "%.*s is below the minimum %.*s", (int)x->len, x->u.text, (int)v->len,
                        v->u.text);
    }
    if ((v = gkw(g, s, K_MAXIMUM)) && v->kind == CT_NUMBER) {
        int c = ct_num_cmp(x, v);
        bool excl = emx && emx->kind == CT_BOOL && (emx->flags & CT_NF_TRUE);
        if (c > 0 || (c == 0 && excl))
            return fail(g, v, "%.*s is above the maximum %.*s", (int)x->len, x->u.text, (int)v->len,
                        v->u.text);
    }
    if (emn && emn->kind == CT_NUMBER && ct_num_cmp(x, emn) <= 0)
        return fail(g, emn, "%.*s is not above the exclusive minimum", (int)x->len, x->u.text);
    if (emx && emx->kind == CT_NUMBER && ct_num_cmp(x, emx) >= 0)
        return fail(g, emx, "%.*s is not below the exclusive maximum", (int)x->len, x->u.text);
    return true;
}

/* ===================================================================== strings =========== */

static uint64_t count_kw(const struct ct_node *v, uint64_t dflt)
{
    if (!v || v->kind != CT_NUMBER || (v->flags & CT_NF_NEG)) return dflt;
    return v->num >= 1.8e19 ? UINT64_MAX : (uint64_t)v->num;
}

static bool check_string(struct gen *g, const struct ct_node *x, const struct ct_node *s)
{
    const struct ct_node *v;
    uint64_t n = UINT64_MAX;
    if ((v = gkw(g, s, K_MIN_LENGTH)) || gkw(g, s, K_MAX_LENGTH))
        n = ct__gen_utf8_len(x->u.str, x->len);
    if (v && n < count_kw(v, 0)) return fail(g, v, "string is shorter than minLength");
    if ((v = gkw(g, s, K_MAX_LENGTH)) && v->kind == CT_NUMBER && n > count_kw(v, UINT64_MAX))
        return fail(g, v, "string is longer than maxLength");
    if ((v = gkw(g, s, K_PATTERN)) && v->kind == CT_STRING) {
        int rc = ct__gen_re_search(g->re, v->u.str, v->len, x->u.str, x->len);
        if (rc == 0 || rc == -2) /* -2: PCRE2 gave up, and so does the validator */
            return fail(g, v, "'%.40s' does not match pattern '%s'", x->u.str, v->u.str);
    }
    if ((v = gkw(g, s, K_FORMAT)) && v->kind == CT_STRING &&
        ct_format_check(v->u.str, x->u.str, x->len) == 0)
        return fail(g, v, "'%.40s' is not a valid '%s'", x->u.str, v->u.str);
    return true;
}

/* ===================================================================== arrays ============ */

/* How many leading items of x the schema s evaluates (for unevaluatedItems): prefixItems and
 * items, and through $ref, allOf, the anyOf/oneOf branches x matches, and if/then/else. contains
 * is not counted (a stricter answer, never a more lenient one). */
static uint64_t evaluated_items(struct gen *g, const struct ct_node *x, const struct ct_node *s,
                                int depth)
{
    if (!s || s->kind != CT_OBJECT || depth > 16) return 0;
    const struct ct_node *items = gkw(g, s, K_ITEMS);
    if (items && items->kind != CT_ARRAY) return x->len;
    if (depth > 0 && gkw(g, s, K_UNEVALUATED_ITEMS))
        return x->len; /* a nested unevaluatedItems evaluates the rest itself */
    const struct ct_node *prefix = items ? items : gkw(g, s, K_PREFIX_ITEMS);
    uint64_t n = prefix && prefix->kind == CT_ARRAY ? prefix->len : 0, e;
#define TAKE(v)                                                                                    \
    do {                                                                                           \
        e = (v);                                                                                   \
        if (e > n) n = e;                                                                          \
    } while (0)
    if (gkw(g, s, K_REF)) TAKE(evaluated_items(g, x, ct__gen_deref(g, s), depth + 1));
    const struct ct_node *all = gkw(g, s, K_ALL_OF);
    for (uint32_t i = 0; all && all->kind == CT_ARRAY && i < all->len; i++)
        TAKE(evaluated_items(g, x, all->u.items[i], depth + 1));
    static const enum gen_kw alts[] = {K_ANY_OF, K_ONE_OF};
    for (int k = 0; k < 2; k++) {
        const struct ct_node *a = gkw(g, s, alts[k]);
        for (uint32_t i = 0; a && a->kind == CT_ARRAY && i < a->len; i++) {
            g->ck_quiet++;
            bool ok = ck(g, x, a->u.items[i]);
            g->ck_quiet--;
            if (ok) TAKE(evaluated_items(g, x, a->u.items[i], depth + 1));
        }
    }
    const struct ct_node *ifs = gkw(g, s, K_IF);
    if (ifs) {
        g->ck_quiet++;
        bool ok = ck(g, x, ifs);
        g->ck_quiet--;
        if (ok) TAKE(evaluated_items(g, x, ifs, depth + 1));
        TAKE(evaluated_items(g, x, gkw(g, s, ok ? K_THEN : K_ELSE), depth + 1));
    }
#undef TAKE
    return n;
}

static bool check_array(struct gen *g, const struct ct_node *x, const struct ct_node *s)
{
    const struct ct_node *v;
    if ((v = gkw(g, s, K_MIN_ITEMS)) && x->len < count_kw(v, 0))
        return fail(g, v, "array has fewer items than minItems");
    if ((v = gkw(g, s, K_MAX_ITEMS)) && v->kind == CT_NUMBER && x->len > count_kw(v, UINT64_MAX))
        return fail(g, v, "array has more items than maxItems");
    if (gkw_true(g, s, K_UNIQUE_ITEMS))
        for (uint32_t i = 0; i < x->len; i++)
            for (uint32_t j = i + 1; j < x->len; j++)
                if (ct_node_equal(x->u.items[i], x->u.items[j]))
                    return fail(g, gkw(g, s, K_UNIQUE_ITEMS), "items %u and %u are equal", i, j);
    bool modern = !g->o.oas30;
    const struct ct_node *items = gkw(g, s, K_ITEMS);
    const struct ct_node *prefix = modern ? gkw(g, s, K_PREFIX_ITEMS) : NULL;
    const struct ct_node *rest = items;
    if (items && items->kind == CT_ARRAY) {
        prefix = items;
        rest = modern ? NULL : gkw(g, s, K_ADDITIONAL_ITEMS);
    }
    for (uint32_t i = 0; i < x->len; i++) {
        const struct ct_node *is = NULL;
        if (prefix && prefix->kind == CT_ARRAY && i < prefix->len)
            is = prefix->u.items[i];
        else
            is = rest;
        if (is && !ck(g, x->u.items[i], is)) return false;
    }
    const struct ct_node *ue = modern ? gkw(g, s, K_UNEVALUATED_ITEMS) : NULL;
    if (ue && !(ue->kind == CT_BOOL && (ue->flags & CT_NF_TRUE))) {
        for (uint64_t i = evaluated_items(g, x, s, 0); i < x->len; i++)
            if (!ck(g, x->u.items[i], ue))
                return fail(g, ue, "item %llu is not evaluated (unevaluatedItems)",
                            (unsigned long long)i);
    }
    const struct ct_node *ct = modern ? gkw(g, s, K_CONTAINS) : NULL;
    if (ct) {
        uint64_t mn = count_kw(gkw(g, s, K_MIN_CONTAINS), 1);
        uint64_t mx = count_kw(gkw(g, s, K_MAX_CONTAINS), UINT64_MAX);
        uint64_t m = 0;
        g->ck_quiet++;
        for (uint32_t i = 0; i < x->len; i++)
            m += ck(g, x->u.items[i], ct);
        g->ck_quiet--;
        if (m < mn || m > mx)
            return fail(g, ct, "%llu items match contains, expected %llu..%llu",
                        (unsigned long long)m, (unsigned long long)mn, (unsigned long long)mx);
    }
    return true;
}

/* ===================================================================== objects =========== */

static unsigned rw_of(struct gen *g, const struct ct_node *p)
{
    for (int hop = 0; hop < 8 && p && p->kind == CT_OBJECT; hop++) {
        unsigned rw =
            (gkw_true(g, p, K_READ_ONLY) ? 1u : 0u) | (gkw_true(g, p, K_WRITE_ONLY) ? 2u : 0u);
        if (rw) return rw;
        if (!gkw_str(g, p, K_REF)) return 0;
        p = ct__gen_deref(g, p);
    }
    return 0;
}

static bool rw_forbidden(const struct gen *g, unsigned rw)
{
    return ((rw & 1) && g->o.direction == CT_DIR_REQUEST) ||
           ((rw & 2) && g->o.direction == CT_DIR_RESPONSE);
}

/* Is property `name` evaluated by `s` (for unevaluatedProperties)? Looks through $ref, allOf,
 * the branches of anyOf/oneOf that `x` matches, and if/then/else. */
static bool evaluated(struct gen *g, const struct ct_node *x, const struct ct_node *s,
                      const struct ct_member *m, int depth)
{
    if (!s || s->kind != CT_OBJECT || depth > 16) return false;
    const struct ct_node *ps = gkw(g, s, K_PROPERTIES);
    if (ps && ct_obj_getn(ps, m->key->u.str, m->key->len)) return true;
    if (gkw(g, s, K_ADDITIONAL_PROPERTIES)) return true;
    const struct ct_node *ue = gkw(g, s, K_UNEVALUATED_PROPERTIES);
    if (ue && depth > 0) return true;
    const struct ct_node *pp = gkw(g, s, K_PATTERN_PROPERTIES);
    for (uint32_t i = 0; pp && pp->kind == CT_OBJECT && i < pp->len; i++) {
        const struct ct_node *k = pp->u.members[i].key;
        if (ct__gen_re_search(g->re, k->u.str, k->len, m->key->u.str, m->key->len) == 1)
            return true;
    }
    if (gkw_str(g, s, K_REF) && evaluated(g, x, ct__gen_deref(g, s), m, depth + 1)) return true;
    const struct ct_node *all = gkw(g, s, K_ALL_OF);
    for (uint32_t i = 0; all && all->kind == CT_ARRAY && i < all->len; i++)
        if (evaluated(g, x, all->u.items[i], m, depth + 1)) return true;
    static const enum gen_kw alts[] = {K_ANY_OF, K_ONE_OF};
    for (int k = 0; k < 2; k++) {
        const struct ct_node *a = gkw(g, s, alts[k]);
        for (uint32_t i = 0; a && a->kind == CT_ARRAY && i < a->len; i++) {
            g->ck_quiet++;
            bool ok = ck(g, x, a->u.items[i]);
            g->ck_quiet--;
            if (ok && evaluated(g, x, a->u.items[i], m, depth + 1)) return true;
        }
    }
    const struct ct_node *ifs = gkw(g, s, K_IF);
    if (ifs) {
        g->ck_quiet++;
        bool ok = ck(g, x, ifs);
        g->ck_quiet--;
        if (evaluated(g, x, ok ? ifs : NULL, m, depth + 1) ||
            evaluated(g, x, gkw(g, s, ok ? K_THEN : K_ELSE), m, depth + 1))
            return true;
    }
    return false;
}

static bool check_object(struct gen *g, const struct ct_node *x, const struct ct_node *s)
{
    const struct ct_node *v;
    if ((v = gkw(g, s, K_MIN_PROPERTIES)) && x->len < count_kw(v, 0))
        return fail(g, v, "object has fewer properties than minProperties");
    if ((v = gkw(g, s, K_MAX_PROPERTIES)) && v->kind == CT_NUMBER &&
        x->len > count_kw(v, UINT64_MAX))
        return fail(g, v, "object has more properties than maxProperties");
    const struct ct_node *ps = gkw(g, s, K_PROPERTIES);
    if (ps && ps->kind != CT_OBJECT) ps = NULL;
    const struct ct_node *req = gkw(g, s, K_REQUIRED);
    for (uint32_t i = 0; req && req->kind == CT_ARRAY && i < req->len; i++) {
        const struct ct_node *r = req->u.items[i];
        if (r->kind != CT_STRING || ct_obj_getn(x, r->u.str, r->len)) continue;
        const struct ct_node *p = ps ? ct_obj_getn(ps, r->u.str, r->len) : NULL;
        if (p && rw_forbidden(g, rw_of(g, p)))
            continue; /* required does not apply to readOnly in requests, writeOnly in responses */
        return fail(g, r, "required property '%s' is missing", r->u.str);
    }
    const struct ct_node *pp = gkw(g, s, K_PATTERN_PROPERTIES);
    if (pp && pp->kind != CT_OBJECT) pp = NULL;
    const struct ct_node *ap = gkw(g, s, K_ADDITIONAL_PROPERTIES);
    const struct ct_node *pn = g->o.oas30 ? NULL : gkw(g, s, K_PROPERTY_NAMES);
    for (uint32_t i = 0; i < x->len; i++) {
        const struct ct_member *m = &x->u.members[i];
        bool matched = false;
        const struct ct_node *p = ps ? ct_obj_getn(ps, m->key->u.str, m->key->len) : NULL;
        if (p) {
            matched = true;
            if (g->o.direction != CT_DIR_NONE && rw_forbidden(g, rw_of(g, p)))
                return fail(g, p, "property '%s' is %s and must not appear here", m->key->u.str,
                            g->o.direction == CT_DIR_REQUEST ? "readOnly" : "writeOnly");
            if (!ck(g, m->val, p)) return false;
        }
        for (uint32_t j = 0; pp && j < pp->len; j++) {
            const struct ct_node *k = pp->u.members[j].key;
            if (ct__gen_re_search(g->re, k->u.str, k->len, m->key->u.str, m->key->len) == 1) {
                matched = true;
                if (!ck(g, m->val, pp->u.members[j].val)) return false;
            }
        }
        if (!matched && ap && !ck(g, m->val, ap)) {
            if (ap->kind == CT_BOOL)
                return fail(g, ap, "property '%s' is not allowed (additionalProperties)",
                            m->key->u.str);
            return false;
        }
        if (pn && !ck(g, m->key, pn)) return false;
    }
    /* dependencies (3.0) / dependentRequired and dependentSchemas (3.1). */
    const enum gen_kw dkw[2] = {g->o.oas30 ? K_DEPENDENCIES : K_DEPENDENT_REQUIRED,
                                g->o.oas30 ? K_COUNT : K_DEPENDENT_SCHEMAS};
    for (int k = 0; k < 2; k++) {
        const struct ct_node *d = dkw[k] != K_COUNT ? gkw(g, s, dkw[k]) : NULL;
        for (uint32_t i = 0; d && d->kind == CT_OBJECT && i < d->len; i++) {
            const struct ct_member *dm = &d->u.members[i];
            if (!ct_obj_getn(x, dm->key->u.str, dm->key->len)) continue;
            if (dm->val->kind == CT_ARRAY) {
                for (uint32_t j = 0; j < dm->val->len; j++) {
                    const struct ct_node *r = dm->val->u.items[j];
                    if (r->kind == CT_STRING && !ct_obj_getn(x, r->u.str, r->len))
                        return fail(g, r, "property '%s' requires '%s'", dm->key->u.str, r->u.str);
                }
            } else if (!ck(g, x, dm->val)) {
                return false;
            }
        }
    }
    const struct ct_node *ue = g->o.oas30 ? NULL : gkw(g, s, K_UNEVALUATED_PROPERTIES);
    if (ue && !(ue->kind == CT_BOOL && (ue->flags & CT_NF_TRUE))) {
        for (uint32_t i = 0; i < x->len; i++) {
            const struct ct_member *m = &x->u.members[i];
            if (evaluated(g, x, s, m, 0)) continue;
            if (!ck(g, m->val, ue))
                return fail(g, ue, "property '%s' is not evaluated (unevaluatedProperties)",
                            m->key->u.str);
        }
    }
    return true;
}

/* ===================================================================== combinators ======= */

static bool check_discriminator(struct gen *g, const struct ct_node *x, const struct ct_node *s,
                                const struct ct_node *disc, const struct ct_node *alts)
{
    const char *pn = ct_obj_str(disc, "propertyName");
    if (x->kind != CT_OBJECT) /* as the validator: only an object can name its schema */
        return fail(g, disc, "expected an object with discriminator property '%s'", pn);
    const struct ct_node *v = ct_obj_get(x, pn);
    if (!v || v->kind != CT_STRING)
        return fail(g, disc, "discriminator property '%s' is missing or not a string", pn);
    const struct ct_node *target = NULL;
    const struct ct_node *mapping = ct_obj_get(disc, "mapping");
    const struct ct_node *mv = mapping ? ct_obj_getn(mapping, v->u.str, v->len) : NULL;
    if (mv && mv->kind == CT_STRING) {
        char buf[512];
        const char *r = mv->u.str;
        if (!strchr(r, '/') && !strchr(r, '#')) {
            snprintf(buf, sizeof buf, "#/components/schemas/%s", r);
            r = buf;
        }
        target = ct_docset_resolve(g->ds, mv, r, &g->quiet);
    }
    for (uint32_t i = 0; !target && i < alts->len; i++) {
        const char *ref = gkw_str(g, alts->u.items[i], K_REF);
        if (!ref) continue;
        const char *slash = strrchr(ref, '/');
        const char *name = slash ? slash + 1 : ref;
        if (strlen(name) == v->len && !memcmp(name, v->u.str, v->len)) target = alts->u.items[i];
    }
    if (!target) return fail(g, disc, "discriminator value '%s' selects no schema", v->u.str);
    (void)s;
    return ck(g, x, target);
}

static bool check_combinators(struct gen *g, const struct ct_node *x, const struct ct_node *s)
{
    const struct ct_node *v;
    if ((v = gkw(g, s, K_ALL_OF)) && v->kind == CT_ARRAY)
        for (uint32_t i = 0; i < v->len; i++)
            if (!ck(g, x, v->u.items[i])) return false;
    const struct ct_node *one = gkw(g, s, K_ONE_OF), *any = gkw(g, s, K_ANY_OF);
    const struct ct_node *disc = gkw(g, s, K_DISCRIMINATOR);
    if (disc && ct_obj_str(disc, "propertyName") && (one || any)) {
        const struct ct_node *alts = one ? one : any;
        if (alts->kind == CT_ARRAY && !check_discriminator(g, x, s, disc, alts)) return false;
    } else {
        if (any && any->kind == CT_ARRAY) {
            bool ok = false;
            g->ck_quiet++;
            for (uint32_t i = 0; i < any->len && !ok; i++)
                ok = ck(g, x, any->u.items[i]);
            g->ck_quiet--;
            if (!ok) return fail(g, any, "no anyOf branch matches");
        }
        if (one && one->kind == CT_ARRAY) {
            unsigned n = 0;
            g->ck_quiet++;
            for (uint32_t i = 0; i < one->len && n < 2; i++)
                n += ck(g, x, one->u.items[i]);
            g->ck_quiet--;
            if (n != 1) return fail(g, one, "%s oneOf branch matches", n ? "more than one" : "no");
        }
    }
    if ((v = gkw(g, s, K_NOT))) {
        g->ck_quiet++;
        bool ok = ck(g, x, v);
        g->ck_quiet--;
        if (ok) return fail(g, v, "the instance matches the schema under 'not'");
    }
    if (!g->o.oas30 && (v = gkw(g, s, K_IF))) {
        g->ck_quiet++;
        bool ok = ck(g, x, v);
        g->ck_quiet--;
        const struct ct_node *br = gkw(g, s, ok ? K_THEN : K_ELSE);
        if (br && !ck(g, x, br)) return false;
    }
    return true;
}

/* ===================================================================== the check ========= */

static bool type_ok(const struct gen *g, const struct ct_node *x, const struct ct_node *t,
                    bool nullable)
{
    uint32_t n = t->kind == CT_ARRAY ? t->len : 1;
    if (nullable && x->kind == CT_NULL) return true;
    for (uint32_t i = 0; i < n; i++) {
        const struct ct_node *one = t->kind == CT_ARRAY ? t->u.items[i] : t;
        if (one->kind != CT_STRING) return true;
        const char *name = one->u.str;
        switch (x->kind) {
        case CT_NULL:
            if (!strcmp(name, "null")) return true;
            break;
        case CT_BOOL:
            if (!strcmp(name, "boolean")) return true;
            break;
        case CT_NUMBER:
            if (!strcmp(name, "number") || (!strcmp(name, "integer") && ct_num_is_integer(x)))
                return true;
            break;
        case CT_STRING:
            if (!strcmp(name, "string")) return true;
            break;
        case CT_ARRAY:
            if (!strcmp(name, "array")) return true;
            break;
        default:
            if (!strcmp(name, "object")) return true;
            break;
        }
    }
    (void)g;
    return false;
}

static bool ck(struct gen *g, const struct ct_node *x, const struct ct_node *s)
{
    if (!s) return true;
    if (s->kind == CT_BOOL)
        return (s->flags & CT_NF_TRUE) ? true : fail(g, s, "the schema is false");
    if (s->kind != CT_OBJECT) return true;
    if (g->ck_depth >= CK_MAX_DEPTH) return true;
    g->ck_depth++;
    bool ok = false;
    const struct ct_node *v;
    const struct ct_node *ref = gkw(g, s, K_REF);
    if (ref && ref->kind == CT_STRING) {
        const struct ct_node *t = ct__gen_deref(g, s);
        if (!t) {
            fail(g, ref, "the reference '%s' cannot be resolved", ref->u.str);
            goto out;
        }
        if (!ck(g, x, t)) goto out;
        if (g->o.oas30) {
            ok = true;
            goto out;
        }
    }
    bool nullable = g->o.oas30 && gkw_true(g, s, K_NULLABLE);
    if ((v = gkw(g, s, K_TYPE)) && !type_ok(g, x, v, nullable)) {
        fail(g, v, "expected %s, got %s", v->kind == CT_STRING ? v->u.str : "another type",
             ct_node_type_name(x));
        goto out;
    }
    if ((v = gkw(g, s, K_ENUM)) && v->kind == CT_ARRAY && !(nullable && x->kind == CT_NULL)) {
        bool in = false;
        for (uint32_t i = 0; i < v->len && !in; i++)
            in = ct_node_equal(x, v->u.items[i]);
        if (!in) {
            fail(g, v, "value is not one of the enum");
            goto out;
        }
    }
    if (!g->o.oas30 && (v = gkw(g, s, K_CONST)) && !ct_node_equal(x, v)) {
        fail(g, v, "value is not the const");
        goto out;
    }
    switch (x->kind) {
    case CT_NUMBER:
        if (!check_number(g, x, s)) goto out;
        break;
    case CT_STRING:
        if (!check_string(g, x, s)) goto out;
        break;
    case CT_ARRAY:
        if (!check_array(g, x, s)) goto out;
        break;
    case CT_OBJECT:
        if (!check_object(g, x, s)) goto out;
        break;
    default:
        break;
    }
    ok = check_combinators(g, x, s);
out:
    g->ck_depth--;
    return ok;
}

bool ct__gen_check(struct gen *g, const struct ct_node *inst, const struct ct_node *schema)
{
    return ck(g, inst, schema);
}

bool ct__gen_check_conj(struct gen *g, const struct ct_node *inst, const struct gen_conj *c)
{
    for (uint32_t i = 0; i < c->n; i++)
        if (!ck(g, inst, c->v[i])) return false;
    return true;
}
