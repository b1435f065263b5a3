/* schema_impl.h - the compiled form of a schema, shared inside lib/schema and readable by the
 * instance generator (mockd).
 *
 * A compiled schema is a graph of struct ct_snode, allocated in the set's arena (so pointers are
 * stable and "$ref resolved to a node index" is simply a pointer). Each node holds its keywords as
 * an array of small typed struct ct_kw in evaluation order; the validator is a loop over that
 * array with one switch. Everything here is immutable after compilation. */
#pragma once

#include "schema.h"

#include "core/arena.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Type bits for `type` (and nullable). INTEGER is a subset of NUMBER. */
enum {
    CT_T_NULL = 1 << 0,
    CT_T_BOOLEAN = 1 << 1,
    CT_T_OBJECT = 1 << 2,
    CT_T_ARRAY = 1 << 3,
    CT_T_NUMBER = 1 << 4,
    CT_T_STRING = 1 << 5,
    CT_T_INTEGER = 1 << 6,
};

enum ct_kwk {
    CT_KW_FALSE,        /* boolean schema false */
    CT_KW_TYPE,         /* u.types */
    CT_KW_ENUM,         /* u.list of values */
    CT_KW_CONST,        /* u.value */
    CT_KW_MULTIPLEOF,   /* u.num */
    CT_KW_MAXIMUM,      /* u.num; flags CT_KF_EXCL for exclusive */
    CT_KW_MINIMUM,      /* u.num; flags CT_KF_EXCL */
    CT_KW_MAXLENGTH,    /* u.count */
    CT_KW_MINLENGTH,    /* u.count */
    CT_KW_PATTERN,      /* u.re */
    CT_KW_FORMAT,       /* u.format */
    CT_KW_MAXITEMS,     /* u.count */
    CT_KW_MINITEMS,     /* u.count */
    CT_KW_UNIQUE,       /* - */
    CT_KW_ITEMS,        /* u.items: prefix schemas then one schema for the rest */
    CT_KW_CONTAINS,     /* u.contains */
    CT_KW_MAXPROPS,     /* u.count */
    CT_KW_MINPROPS,     /* u.count */
    CT_KW_REQUIRED,     /* u.req */
    CT_KW_PROPS,        /* u.props: properties + patternProperties + additionalProperties */
    CT_KW_DEPREQ,       /* u.depreq */
    CT_KW_DEPSCHEMAS,   /* u.depsch */
    CT_KW_PROPNAMES,    /* u.sub */
    CT_KW_ALLOF,        /* u.subs */
    CT_KW_ANYOF,        /* u.subs */
    CT_KW_ONEOF,        /* u.subs */
    CT_KW_NOT,          /* u.sub */
    CT_KW_IF,           /* u.cond */
    CT_KW_REF,          /* u.sub (resolved) */
    CT_KW_DYNREF,       /* u.dyn: $dynamicRef and $recursiveRef */
    CT_KW_DISCRIMINATOR, /* u.disc (OpenAPI; replaces the oneOf/anyOf check) */
    CT_KW_UNEVAL_ITEMS, /* u.sub */
    CT_KW_UNEVAL_PROPS, /* u.sub */
    CT_KW_CONTENT,      /* u.content (draft 7 only; an annotation in 2019-09 and later) */
};

enum {
    CT_KF_EXCL = 1 << 0,      /* exclusive bound */
    CT_KF_NULLABLE = 1 << 1,  /* OpenAPI 3.0 nullable: null passes type and enum */
    CT_KF_RECURSIVE = 1 << 2, /* CT_KW_DYNREF is a 2019-09 $recursiveRef */
    CT_KF_STRICTINT = 1 << 3, /* CT_KW_TYPE in draft 4: "integer" needs a literal without
                                 fraction (1.0 is a number) */
};

struct ct_snode;

/** A number bound: the literal node (exact comparisons) and its double (fast path). */
struct ct_kw_num {
    const struct ct_node *val;
    double d;
    bool exact; /* val's double is exact: compare doubles when the instance's is too */
};

/** One compiled regular expression (pcre2_code, kept opaque here). */
struct ct_regex {
    void *code;         /* pcre2_code_8 * */
    const char *source; /* the pattern as written, for messages */
    bool jit;
};

struct ct_prop {
    const char *name; /* borrowed from the schema tree */
    uint32_t len;
    uint32_t hash;
    const struct ct_snode *sub;
    uint64_t reqbits; /* bit i: entry i of the sibling `required` names this property */
};

struct ct_kw_props {
    struct ct_prop *props; /* `properties` */
    uint32_t nprops;
    uint32_t *table; /* open addressing over props: index+1, 0 = empty; size tmask+1 */
    uint32_t tmask;
    struct ct_regex *pat; /* `patternProperties` */
    const struct ct_snode **patsub;
    uint32_t npat;
    const struct ct_snode *additional; /* NULL: none */
    const struct ct_member *at_props, *at_pat, *at_add; /* keyword locations (may be NULL) */
};

struct ct_req {
    const char *name;
    uint32_t len;
    uint8_t rw; /* 1: the property is readOnly, 2: writeOnly (from `properties`) */
};

struct ct_kw_items {
    const struct ct_snode **prefix; /* prefixItems, or draft-4..2019-09 array `items` */
    uint32_t nprefix;
    const struct ct_snode *rest; /* items / additionalItems; NULL: none */
    const struct ct_member *at_rest;
};

struct ct_kw_contains {
    const struct ct_snode *sub;
    uint64_t min, max; /* max == UINT64_MAX: none */
    const struct ct_member *at_min, *at_max;
};

struct ct_depreq {
    const char *name;
    uint32_t len;
    struct ct_req *req;
    uint32_t nreq;
};

struct ct_depsch {
    const char *name;
    uint32_t len;
    const struct ct_snode *sub;
};

struct ct_kw_cond {
    const struct ct_snode *if_, *then_, *else_;
};

struct ct_kw_dyn {
    const struct ct_snode *target; /* static resolution */
    const char *anchor;           /* dynamic anchor name to search for; NULL: static only */
};

struct ct_kw_disc {
    const char *prop;
    const char **values; /* mapping keys and implicit names */
    const struct ct_snode **subs;
    uint32_t n;
};

/** A format checker: returns true when s is valid. */
typedef bool (*ct_format_fn)(const char *s, size_t len);

struct ct_kw {
    uint8_t kind;  /* enum ct_kwk */
    uint8_t flags; /* CT_KF_* */
    const struct ct_member *at; /* the keyword in the schema: key (location) and value */
    union {
        uint32_t types;
        uint64_t count;
        struct ct_kw_num num;
        const struct ct_node *value;
        struct {
            const struct ct_node **v;
            uint32_t n;
        } list;
        struct ct_regex re;
        struct {
            ct_format_fn fn;
            const char *name;
        } format;
        struct ct_kw_items items;
        struct ct_kw_contains contains;
        struct {
            struct ct_req *v;
            uint32_t n;
            /* Fast path: every name is in the sibling `properties` (at most 64 names); the
             * check is then one pass over the instance's members, shared with `properties`. */
            const struct ct_kw_props *props;
            uint64_t ro, wo; /* bits of names that are readOnly / writeOnly properties */
        } req;
        struct ct_kw_props *props;
        struct {
            struct ct_depreq *v;
            uint32_t n;
        } depreq;
        struct {
            struct ct_depsch *v;
            uint32_t n;
        } depsch;
        const struct ct_snode *sub;
        struct {
            const struct ct_snode **v;
            uint32_t n;
        } subs;
        struct ct_kw_cond cond;
        struct ct_kw_dyn dyn;
        struct ct_kw_disc *disc;
        struct {
            bool base64; /* contentEncoding: base64 */
            bool json;   /* contentMediaType: application/json */
        } content;
    } u;
};

/** A dynamic anchor of a schema resource (also `$recursiveAnchor: true`, named ""). */
struct ct_dynanchor {
    const char *name;
    const struct ct_snode *target;
};

enum {
    CT_SN_RESOURCE = 1 << 0,  /* a schema resource root: entered into the dynamic scope */
    CT_SN_NEEDS_EV = 1 << 1,  /* has unevaluated*: tracks evaluated properties/items */
    CT_SN_READONLY = 1 << 2,  /* readOnly: true */
    CT_SN_WRITEONLY = 1 << 3, /* writeOnly: true */
    CT_SN_RECANCHOR = 1 << 4, /* $recursiveAnchor: true */
    CT_SN_COMPILED = 1 << 5,  /* keywords filled in (false while being compiled) */
    CT_SN_TYPE0 = 1 << 6,     /* kw[0] is a plain `type` (no draft-4 integer rule): the
                                 validator checks it before dispatching keywords */
};

struct ct_snode {
    const struct ct_node *node; /* the schema (object or boolean); borrowed from the docset */
    uint32_t flags;             /* CT_SN_* */
    uint32_t nkw;
    struct ct_kw *kw;          /* in evaluation order; unevaluated* last */
    const char *base;          /* base URI, for messages */
    uint8_t dialect;           /* enum ct_dialect */
    const struct ct_snode *res; /* the root of the schema resource this node belongs to */
    struct ct_dynanchor *dyn;  /* resource roots only */
    uint32_t ndyn;
};

struct ct_schema {
    struct ct_schema_set *set;
    const struct ct_snode *root;
    bool owns_set; /* from ct_schema_compile */
};

/* --- shared helpers (ct__ = internal to lib) ------------------------------------------------ */

struct ct__metaschema {
    const char *uri;
    const char *text;
};
/** Embedded metaschemas, terminated by {NULL, NULL}. */
extern const struct ct__metaschema ct__metaschemas[];

/** The format checker for a name, or NULL when the format is unknown. */
ct_format_fn ct__format_lookup(const char *name);

/** Resolve `ref` against `base` (RFC 3986 section 5.2). Caller owns: ct_free(). */
char *ct__uri_resolve(const char *base, const char *ref);

/** Translate an ECMAScript regex to PCRE2 syntax. Returns NULL (with *err set to a static
 * message) when it is not a valid ECMAScript pattern. Caller owns: ct_free(). */
char *ct__regex_translate(const char *src, size_t len, const char **err);
/** Compile an ECMAScript pattern. Returns 0, or -1 with *msg (caller owns) and *offset set. */
int ct__regex_compile(struct ct_regex *re, const char *src, size_t len, char **msg,
                      size_t *offset);
/** Compile `src` with PCRE2's own syntax (UTF), for patterns that are not ECMAScript. */
int ct__regex_compile_native(struct ct_regex *re, const char *src, size_t len, char **msg,
                             size_t *offset);
void ct__regex_free(struct ct_regex *re);
/** Match with per-thread match data `md` (from ct__regex_md_new). 1 match, 0 no match, -1 limit
 * reached or error (treated as a failure by the caller). */
int ct__regex_match(const struct ct_regex *re, void *md, const char *s, size_t len);
void *ct__regex_md_new(void);
void ct__regex_md_free(void *md);

/* Accessors for validate.c (the set is private to compile.c). */
const struct ct_schema_opts *ct__schema_opts(const struct ct_schema *s);
struct ct_docset *ct__schema_docset(const struct ct_schema *s);
/** JSON Pointer of a compiled node inside its document ("" for the root). Borrowed. */
const char *ct__snode_ptr(const struct ct_schema *s, const struct ct_snode *sn);

/* --- inline definitions ------------------------------------------------------------------- */

/** Are n bytes at a and b equal? Property names are short: word compares instead of a call
 * to memcmp (both strings are at least n bytes long). */
static inline bool ct__name_eq(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        uint64_t x, y, x2, y2;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        memcpy(&x2, a + n - 8, 8);
        memcpy(&y2, b + n - 8, 8);
        if ((x ^ y) | (x2 ^ y2))
            return false;
        return n <= 16 || !memcmp(a + 8, b + 8, n - 16);
    }
    if (n >= 4) {
        uint32_t x, y, x2, y2;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        memcpy(&x2, a + n - 4, 4);
        memcpy(&y2, b + n - 4, 4);
        return !((x ^ y) | (x2 ^ y2));
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/** Hash of a property name for the compiled `properties` tables: the first and last eight bytes
 * (four, or three single bytes, of a shorter name) and the length, mixed. Cheaper than a byte
 * loop on the hot path. */
static inline uint32_t ct__key_hash(const char *s, size_t n)
{
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        a = x | (uint64_t)y << 32;
    } else if (n) {
        /* fixed-size loads only: memcpy of a variable length is a call */
        a = (unsigned char)s[0] | (uint64_t)(unsigned char)s[n / 2] << 8 |
            (uint64_t)(unsigned char)s[n - 1] << 16;
    }
    uint64_t h = (a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL) ^ (uint64_t)n;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    return (uint32_t)(h >> 32);
}

/** Index+1 in p->props of the property named by the n bytes at k, or 0 (the compiler and the
 * validator's lookup in a `properties` table). */
static inline uint32_t ct__prop_index(const struct ct_kw_props *p, const char *k, uint32_t n)
{
    if (!p->nprops)
        return 0;
    uint32_t h = ct__key_hash(k, n);
    for (uint32_t j = h & p->tmask; p->table[j]; j = (j + 1) & p->tmask) {
        const struct ct_prop *pp = &p->props[p->table[j] - 1];
        if (pp->hash == h && pp->len == n && ct__name_eq(pp->name, k, n))
            return p->table[j];
    }
    return 0;
}
