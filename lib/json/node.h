/* node.h - the document tree shared by the loader, the validator, mockd and runner.
 *
 * Every value that comes from a file or a request body is a struct ct_node. A node knows where it
 * came from (source, 1-based line and column), numbers keep their literal text beside the double so
 * big integers and decimals compare exactly, and objects keep their members in document order with
 * key nodes (so a duplicate or misspelt key can be located).
 *
 * Nodes live in the arena of whoever parsed them (a docset, a request) and are immutable after
 * parsing; YAML aliases make the tree a DAG (an aliased node is shared, never copied). They
 * never point into the parsed text (only `src` names it), so the text may go before them. */
#pragma once

#include "core/arena.h"
#include "core/diag.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum ct_kind { CT_NULL, CT_BOOL, CT_NUMBER, CT_STRING, CT_ARRAY, CT_OBJECT };

enum {
    CT_NF_TRUE = 1 << 0,   /* CT_BOOL: the value is true */
    CT_NF_INT = 1 << 1,    /* CT_NUMBER: the literal has no fraction or exponent */
    CT_NF_EXACT = 1 << 2,  /* CT_NUMBER: the double is exactly the literal's value */
    CT_NF_NEG = 1 << 3,    /* CT_NUMBER: the literal starts with '-' */
    CT_NF_INDEXED = 1 << 4, /* CT_OBJECT: a hash index follows the members (large objects) */
};

/** Objects with more members than this get a hash index when parsed, so lookups in big maps
 * (components.schemas, paths) stay O(1). */
#define CT_OBJ_INDEX_MIN 16

struct ct_node;

struct ct_member {
    struct ct_node *key; /* CT_STRING */
    struct ct_node *val;
};

/** Fields are read directly (they are the hot path); nodes are never changed after parsing.
 *
 * `num` comes last and exists only in numbers: the JSON parser allocates every other node
 * without it (CT_NODE_SHORT bytes; a big document has ten times more of them than numbers).
 * So read `num` only from a CT_NUMBER node, and copy nodes with ct_node_copy, never by value.
 * Sanitizer builds allocate whole nodes and poison `num` of the others, so a test catches
 * any read of it. */
struct ct_node {
    uint8_t kind;  /* enum ct_kind */
    uint8_t flags; /* CT_NF_* */
    uint32_t line, col;
    uint32_t len; /* string: bytes; number: literal length; array: items; object: members */
    union {
        const char *str;           /* CT_STRING: NUL-terminated, may hold NULs inside */
        struct ct_node **items;    /* CT_ARRAY */
        struct ct_member *members; /* CT_OBJECT */
        const char *text;          /* CT_NUMBER: the literal, normalised to JSON syntax */
    } u;
    const struct ct_source *src;
    double num; /* CT_NUMBER only: nearest double */
};

/** Bytes of a node that is not a number (see struct ct_node). */
#define CT_NODE_SHORT offsetof(struct ct_node, num)

/** Limits applied by both parsers. */
struct ct_parse_limits {
    size_t max_bytes;   /* refuse larger input (0 = 64 MiB) */
    uint32_t max_depth; /* nesting of arrays and objects (0 = 256) */
    size_t max_nodes;   /* YAML: expanded node count with aliases (0 = 4,000,000) */
    /* JSON of 64 KiB and more: store each short string once (specs repeat `type`, `string`,
     * the same `$ref` thousands of times). For documents kept long, such as a docset's;
     * a request body is read once and gains nothing from it. */
    bool intern_strings;
};

/** Length of a valid UTF-8 sequence starting at p (first byte >= 0x80), or 0. The ranges of
 * the second byte (Unicode's table of well-formed sequences) exclude overlong forms,
 * surrogates and code points above U+10FFFF without decoding. */
static inline size_t ct_utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);
    if (c >= 0xC2 && c <= 0xDF)
        return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return avail >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return avail >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 &&
                       (p[3] & 0xC0) == 0x80
                   ? 4
                   : 0;
    }
    return 0;
}

/** Where byte `off` of string node `n` sits in its source text (1-based line, column in
 * characters), for diagnostics that point inside a string: plain and quoted one-line scalars
 * and literal block scalars (`|`) are mapped; anything else (escapes, folding) gives the node's
 * own position. */
void ct_node_locate(const struct ct_node *n, size_t off, uint32_t *line, uint32_t *col);

/** Is `s` (n bytes) valid UTF-8, as the parsers require of strings? */
bool ct_utf8_valid(const char *s, size_t n);

/** Parse JSON text into nodes allocated in `arena`. On error returns NULL and adds one located
 * diagnostic. `src` is borrowed and must outlive the nodes (it names them). The result is
 * borrowed from the arena. */
struct ct_node *ct_json_parse(struct ct_arena *arena, const struct ct_source *src,
                              const struct ct_parse_limits *lim, struct ct_diags *diags);

/** Parse YAML 1.2 (core schema) text; same contract as ct_json_parse. */
struct ct_node *ct_yaml_parse(struct ct_arena *arena, const struct ct_source *src,
                              const struct ct_parse_limits *lim, struct ct_diags *diags);

/** JSON when the text starts (after blanks) with '{' or '[', YAML otherwise. */
struct ct_node *ct_doc_parse(struct ct_arena *arena, const struct ct_source *src,
                             const struct ct_parse_limits *lim, struct ct_diags *diags);

/** For parsers: a node of `kind` in the arena, short unless it is a number (see struct
 * ct_node), with every field zero but the kind. */
struct ct_node *ct__node_new(struct ct_arena *arena, enum ct_kind kind);

/** Copy a node into dst, a whole struct (`num` is copied from numbers, zero otherwise). */
static inline void ct_node_copy(struct ct_node *dst, const struct ct_node *src);

/** For parsers: bytes to allocate for an object's members, with room for its index. */
size_t ct__obj_members_size(uint32_t n);
/** For parsers: build the index of a finished object (when it is large) and find the first
 * repeated key. Returns the index of the repeat and sets *first to the earlier one, or -1. */
long ct__obj_finish(struct ct_node *obj, long *first);

/** A diagnostic located at node `at` (its source, line and column; none when NULL). */
struct ct_diag *ct_diag_at(struct ct_diags *d, enum ct_sev sev, int code,
                           const struct ct_node *at, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
struct ct_diag *ct_diag_atv(struct ct_diags *d, enum ct_sev sev, int code,
                            const struct ct_node *at, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

/* --- lookups --------------------------------------------------------------------------- */

/** Member value for key, or NULL (also for non-objects). Borrowed. */
struct ct_node *ct_obj_getn(const struct ct_node *obj, const char *key, size_t keylen);
struct ct_node *ct_obj_get(const struct ct_node *obj, const char *key);
/** The member (key and value) for key, or NULL. */
const struct ct_member *ct_obj_member(const struct ct_node *obj, const char *key);
/** The string value of key if it is a string, else NULL. */
const char *ct_obj_str(const struct ct_node *obj, const char *key);
/** True if key exists and is boolean true. */
bool ct_obj_true(const struct ct_node *obj, const char *key);

/** Follow a JSON Pointer ("" is the node itself; "/a/b~1c/0"), decoding ~0, ~1 and, when
 * `percent` is set, %XX escapes (URI fragments). NULL when a segment is missing. */
struct ct_node *ct_pointer_get(const struct ct_node *root, const char *ptr, size_t len,
                               bool percent);

/** Append one reference token to a pointer, escaping '~' and '/'. */
void ct_pointer_append(struct ct_buf *ptr, const char *tok, size_t len);

/** Structural equality as JSON Schema defines it: 1 equals 1.0, object member order does not
 * matter, strings compare byte for byte. */
bool ct_node_equal(const struct ct_node *a, const struct ct_node *b);

/** Compare two numbers exactly, from their literals when the doubles are not exact.
 * Returns <0, 0, >0. */
int ct_num_cmp(const struct ct_node *a, const struct ct_node *b);
/** True if the number is mathematically an integer (1.0 and 1e2 are). */
bool ct_num_is_integer(const struct ct_node *n);

/** Name of a kind as JSON Schema says it ("null", "boolean", "number", "string", ...). For
 * numbers that are integers, "integer". */
const char *ct_node_type_name(const struct ct_node *n);

/* --- output --------------------------------------------------------------------------- */

/** Serialise as JSON; pretty=true indents by two spaces. Numbers keep their literal text. */
void ct_json_emit(const struct ct_node *n, struct ct_buf *out, bool pretty);
/** Serialise as block-style YAML 1.2 that reads back to the same tree. */
void ct_yaml_emit(const struct ct_node *n, struct ct_buf *out);
/** Append s as a JSON string literal with quotes. */
void ct_json_emit_string(struct ct_buf *out, const char *s, size_t len);

/* --- exact decimals ------------------------------------------------------------------- */

/** A number as sign, significant digits and exponent: value = 0.DIGITS x 10^exp. Zero has
 * ndigits == 0. Trailing zeros are stripped, so equal values have equal forms. */
struct ct_decimal {
    bool neg;
    bool overflow; /* more than 160 significant digits: only the double is usable */
    uint32_t ndigits;
    int64_t exp;
    char digits[160];
};

/** Decode a number node's literal. Returns false for non-numbers. */
bool ct_decimal_from_node(const struct ct_node *n, struct ct_decimal *d);
/** Compare exactly; <0, 0, >0. */
int ct_decimal_cmp(const struct ct_decimal *a, const struct ct_decimal *b);

/* --- inline definitions ------------------------------------------------------------------ */

static inline void ct_node_copy(struct ct_node *dst, const struct ct_node *src)
{
    memcpy(dst, src, CT_NODE_SHORT);
    dst->num = src->kind == CT_NUMBER ? src->num : 0;
}
