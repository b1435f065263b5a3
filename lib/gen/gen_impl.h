/* gen_impl.h - declarations shared by the files of lib/gen (not part of the API).
 *
 *   gen.c     the walk: $ref and allOf merged into a conjunction, combinators, objects, arrays
 *   scalar.c  numbers, strings, formats, name hints and the word lists
 *   regex.c   the regex-to-string generator (ECMAScript subset)
 *   check.c   the generator-side check of a candidate against raw schema nodes
 *   pcre.c    the only file that includes pcre2.h: compiled patterns and the cache
 */
#pragma once

#include "gen/gen.h"

#include "core/buf.h"
#include "core/ptrmap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Type bits. INT is a subset of NUM: `type: number` allows both bits. */
enum {
    GT_NULL = 1 << 0,
    GT_BOOL = 1 << 1,
    GT_INT = 1 << 2,
    GT_NUM = 1 << 3,
    GT_STR = 1 << 4,
    GT_ARR = 1 << 5,
    GT_OBJ = 1 << 6,
    GT_ALL = (1 << 7) - 1,
};

/* Schema keywords the generator reads. Each schema node met in a call gets its keywords indexed
 * once (a bit mask and member positions), so the many keyword lookups of generation and of the
 * check cost an array access instead of a scan of the node's members. */
#define GEN_KEYWORDS(X)                                                                            \
    X(REF, "$ref")                                                                                 \
    X(TYPE, "type")                                                                                \
    X(ENUM, "enum")                                                                                \
    X(CONST, "const")                                                                              \
    X(NULLABLE, "nullable")                                                                        \
    X(ALL_OF, "allOf")                                                                             \
    X(ANY_OF, "anyOf")                                                                             \
    X(ONE_OF, "oneOf")                                                                             \
    X(NOT, "not")                                                                                  \
    X(IF, "if")                                                                                    \
    X(THEN, "then")                                                                                \
    X(ELSE, "else")                                                                                \
    X(DISCRIMINATOR, "discriminator")                                                              \
    X(PROPERTIES, "properties")                                                                    \
    X(REQUIRED, "required")                                                                        \
    X(ADDITIONAL_PROPERTIES, "additionalProperties")                                               \
    X(PATTERN_PROPERTIES, "patternProperties")                                                     \
    X(PROPERTY_NAMES, "propertyNames")                                                             \
    X(MIN_PROPERTIES, "minProperties")                                                             \
    X(MAX_PROPERTIES, "maxProperties")                                                             \
    X(DEPENDENT_REQUIRED, "dependentRequired")                                                     \
    X(DEPENDENT_SCHEMAS, "dependentSchemas")                                                       \
    X(DEPENDENCIES, "dependencies")                                                                \
    X(UNEVALUATED_PROPERTIES, "unevaluatedProperties")                                             \
    X(UNEVALUATED_ITEMS, "unevaluatedItems")                                                       \
    X(ITEMS, "items")                                                                              \
    X(PREFIX_ITEMS, "prefixItems")                                                                 \
    X(ADDITIONAL_ITEMS, "additionalItems")                                                         \
    X(MIN_ITEMS, "minItems")                                                                       \
    X(MAX_ITEMS, "maxItems")                                                                       \
    X(UNIQUE_ITEMS, "uniqueItems")                                                                 \
    X(CONTAINS, "contains")                                                                        \
    X(MIN_CONTAINS, "minContains")                                                                 \
    X(MAX_CONTAINS, "maxContains")                                                                 \
    X(MIN_LENGTH, "minLength")                                                                     \
    X(MAX_LENGTH, "maxLength")                                                                     \
    X(PATTERN, "pattern")                                                                          \
    X(FORMAT, "format")                                                                            \
    X(MINIMUM, "minimum")                                                                          \
    X(MAXIMUM, "maximum")                                                                          \
    X(EXCLUSIVE_MINIMUM, "exclusiveMinimum")                                                       \
    X(EXCLUSIVE_MAXIMUM, "exclusiveMaximum")                                                       \
    X(MULTIPLE_OF, "multipleOf")                                                                   \
    X(EXAMPLE, "example")                                                                          \
    X(EXAMPLES, "examples")                                                                        \
    X(DEFAULT, "default")                                                                          \
    X(READ_ONLY, "readOnly")                                                                       \
    X(WRITE_ONLY, "writeOnly")

enum gen_kw {
#define GEN_KW_ENUM(name, text) K_##name,
    GEN_KEYWORDS(GEN_KW_ENUM)
#undef GEN_KW_ENUM
        K_COUNT
};

/* A conjunction: every schema in it applies to the same instance. $ref targets and allOf
 * branches are flattened into one, so generation sees the merged constraints. */
struct gen_conj {
    const struct ct_node **v;
    uint32_t n, cap;
    const char *refname;              /* last segment of the first $ref followed ("Pet") */
    const struct ct_node *ref_target; /* what that $ref led to */
    bool contradiction;               /* a `false` schema or a broken $ref was met */
    bool uncertain;                   /* a patternProperties pattern could not be evaluated */
    const struct ct_node *false_at;   /* where */
};

/* One call's state. Lives on the stack of ct_gen_instance. */
struct gen {
    struct ct_docset *ds;
    struct ct_gen_opts o;    /* with defaults applied */
    struct ct_arena *out;    /* the caller's arena: results */
    struct ct_arena tmp;     /* conjunctions, synthetic schemas, scratch; freed at the end */
    struct ct_diags quiet;   /* diagnostics from $ref resolution during attempts */
    struct ct_gen_cache *re; /* compiled patterns (the caller's, or one for this call) */
    uint64_t rng;
    unsigned depth;     /* nesting of generated values */
    unsigned nodes;     /* values generated so far in this attempt (a budget) */
    unsigned long work; /* values generated in this call, all attempts (a hard limit) */
    bool abort;         /* this attempt cannot succeed: unwind without retrying */
    const struct ct_node *stack[64]; /* schemas being generated, for recursion detection */
    unsigned nstack;
    /* The first reason an attempt failed: a schema node and a message. */
    const struct ct_node *fail_at;
    char fail_msg[256];
    /* The check's first failure. */
    const struct ct_node *ck_at;
    char ck_msg[256];
    unsigned ck_depth;
    unsigned ck_quiet;     /* >0: checking a branch, failures are expected (not recorded) */
    const char *ctx_name;  /* the hint of the object whose properties are being generated */
    uint64_t persona;      /* the object's person: its names, email and username agree */
    int8_t ctx_person;     /* the object describes a person: 1, 0, or -1 not decided yet */
    const void *ctx_props; /* that object's properties (struct props in gen.c) */
    struct ct_buf sbuf;    /* string scratch */
    /* $ref targets already resolved in this call (the docset walks a JSON Pointer each time). */
    struct ct_ptrmap memo; /* $ref node -> its target */
    struct ct_ptrmap kwm;  /* schema node -> its struct gen_kwinfo */
    int8_t kw_by_len[25][8];       /* keyword numbers by name length, -1 terminated */
    const struct ct_node *kw_last; /* the node looked up last (the next lookup is usually it) */
    const struct gen_kwinfo *kw_last_info;
};

struct gen_kwinfo {
    uint64_t mask;
    uint8_t idx[K_COUNT]; /* member position + 1; 0 with the bit set: look it up by name */
};

/* --- randomness (splitmix64: tiny, fast, good enough, reproducible) --------------------- */

static inline uint64_t gen_rand(struct gen *g)
{
    uint64_t z = (g->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/** Uniform in [0, n); 0 when n == 0. */
static inline uint64_t gen_below(struct gen *g, uint64_t n)
{
    return n ? gen_rand(g) % n : 0;
}

/** True with probability pct/100. */
static inline bool gen_chance(struct gen *g, unsigned pct)
{
    return gen_below(g, 100) < pct;
}

/* --- keywords (gen.c) ------------------------------------------------------------------ */

extern const char *const ct__gen_kw_names[K_COUNT];
/** The keyword index of a schema object (computed once per node and call). */
const struct gen_kwinfo *ct__gen_kwinfo(struct gen *g, const struct ct_node *s);

/** The value of keyword k in schema s, or NULL (also for non-objects). Borrowed. */
static inline const struct ct_node *gkw(struct gen *g, const struct ct_node *s, enum gen_kw k)
{
    if (!s || s->kind != CT_OBJECT) return NULL;
    const struct gen_kwinfo *ki = s == g->kw_last ? g->kw_last_info : ct__gen_kwinfo(g, s);
    if (!(ki->mask & (1ull << k))) return NULL;
    if (ki->idx[k]) return s->u.members[ki->idx[k] - 1].val;
    return ct_obj_get(s, ct__gen_kw_names[k]);
}

static inline bool gkw_true(struct gen *g, const struct ct_node *s, enum gen_kw k)
{
    const struct ct_node *v = gkw(g, s, k);
    return v && v->kind == CT_BOOL && (v->flags & CT_NF_TRUE);
}

static inline const char *gkw_str(struct gen *g, const struct ct_node *s, enum gen_kw k)
{
    const struct ct_node *v = gkw(g, s, k);
    return v && v->kind == CT_STRING ? v->u.str : NULL;
}

/** Any of the keywords in `bits` present? */
static inline bool gkw_any(struct gen *g, const struct ct_node *s, uint64_t bits)
{
    if (!s || s->kind != CT_OBJECT) return false;
    const struct gen_kwinfo *ki = s == g->kw_last ? g->kw_last_info : ct__gen_kwinfo(g, s);
    return (ki->mask & bits) != 0;
}

#define KB(k) (1ull << (k))

/* --- gen.c ------------------------------------------------------------------------------ */

void ct__gen_fail(struct gen *g, const struct ct_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Follow `$ref` (quietly); NULL when broken. Boolean schemas are returned as they are. */
const struct ct_node *ct__gen_deref(struct gen *g, const struct ct_node *n);
/** Dialect-dependent keyword presence. */
bool ct__gen_has_const(const struct gen *g);

/* Node builders (in the output arena). */
struct ct_node *ct__gen_null(struct gen *g);
struct ct_node *ct__gen_bool(struct gen *g, bool v);
struct ct_node *ct__gen_str(struct gen *g, const char *s, size_t len);
/** A number from a JSON literal (already valid JSON number syntax). */
struct ct_node *ct__gen_num_lit(struct gen *g, const char *lit, size_t len);
/** Deep copy of a document node into the output arena (positions dropped). */
struct ct_node *ct__gen_copy(struct gen *g, const struct ct_node *n);

/** Does the object being generated describe a person (so its "name" is a person's name)?
 * Decided from its schema name and property names on first use. */
bool ct__gen_ctx_person(struct gen *g);

/* --- scalar.c --------------------------------------------------------------------------- */

struct ct_node *ct__gen_number(struct gen *g, const struct gen_conj *c, bool integer,
                               const char *hint);
struct ct_node *ct__gen_string(struct gen *g, const struct gen_conj *c, const char *hint);
/** True when an object's name (is_property false) or one of its property names suggests a
 * person. */
bool ct__gen_person_hint(const char *name, bool is_property);
/** A readable map key or free word, for additionalProperties. */
const char *ct__gen_word(struct gen *g);
/** Count UTF-8 code points. */
size_t ct__gen_utf8_len(const char *s, size_t len);

/* --- regex.c ---------------------------------------------------------------------------- */

/** Append to `out` a string matching `pat` (ECMAScript syntax) whose length in code points is
 * as close as possible to [minlen, maxlen]. Returns false when the pattern uses syntax the
 * generator does not understand or is too large; the result must still be verified. */
bool ct__gen_regex(struct gen *g, const char *pat, size_t plen, uint64_t minlen, uint64_t maxlen,
                   struct ct_buf *out);

/* --- check.c ---------------------------------------------------------------------------- */

/** True when `inst` is valid for `schema` as far as the generator-side check can tell
 * (unsupported keywords pass). On failure sets g->ck_at / g->ck_msg (first failure only). */
bool ct__gen_check(struct gen *g, const struct ct_node *inst, const struct ct_node *schema);
/** Same for every schema of a conjunction. */
bool ct__gen_check_conj(struct gen *g, const struct ct_node *inst, const struct gen_conj *c);
/** Forget the recorded failure. */
void ct__gen_check_reset(struct gen *g);

/* --- pcre.c ----------------------------------------------------------------------------- */

/** Does `s` contain a match of the pattern (ECMAScript semantics as far as PCRE2 gives them)?
 * 1 yes, 0 no, -1 the pattern cannot be compiled here (unknown: callers treat it as a pass),
 * -2 the match gave up (backtracking limit): the validator gives up too and reports the
 * string as invalid, so callers treat it as no match. */
int ct__gen_re_search(struct ct_gen_cache *cache, const char *pat, size_t plen, const char *s,
                      size_t len);
