/* jsonx.h - small helpers over struct ct_node for the test-double layers: building nodes in an
 * arena, parsing request text, merge patches and "contains" matching.
 *
 * Every node made here lives in the arena passed in (borrowed: valid until that arena is freed)
 * and may point into the nodes it was built from; nothing is changed in place, so nodes of a
 * loaded document can be used as templates. */
#pragma once

#include "core/arena.h"
#include "core/buf.h"
#include "json/node.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** printf into the arena. */
char *jx_fmt(struct ct_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct ct_node *jx_null(struct ct_arena *a);
struct ct_node *jx_bool(struct ct_arena *a, bool v);
struct ct_node *jx_str(struct ct_arena *a, const char *s);
struct ct_node *jx_strn(struct ct_arena *a, const char *s, size_t n);
struct ct_node *jx_int(struct ct_arena *a, long long v);
/** A number from its JSON literal text (copied). */
struct ct_node *jx_num_text(struct ct_arena *a, const char *text);
/** An array of n items (the pointer array is copied). */
struct ct_node *jx_array(struct ct_arena *a, struct ct_node *const *items, uint32_t n);

/** A copy of object `o` (NULL or a non-object: an empty object) with `key` set to `val`
 * (replaced in place, or appended). val NULL removes the key. */
struct ct_node *jx_set(struct ct_arena *a, const struct ct_node *o, const char *key,
                       const struct ct_node *val);
/** Set the value at a JSON Pointer inside `root`, copying each object on the way (arrays on the
 * way are copied too). Returns the new root; `root` itself when the path does not exist. */
struct ct_node *jx_set_at(struct ct_arena *a, const struct ct_node *root, const char *ptr,
                          const struct ct_node *val);

/** RFC 7386 JSON merge patch: members of `patch` replace those of `target`, null removes,
 * objects merge recursively. */
struct ct_node *jx_merge_patch(struct ct_arena *a, const struct ct_node *target,
                               const struct ct_node *patch);

/** True when `actual` contains `expected`: objects by member (each expected member present and
 * contained), arrays item by item when the lengths agree, scalars by JSON equality. */
bool jx_contains(const struct ct_node *expected, const struct ct_node *actual);

/** Parse `len` bytes of JSON (need not be NUL-terminated; copied into the arena) named `name`
 * in diagnostics. NULL when the text is not JSON (diags may be NULL). */
struct ct_node *jx_parse(struct ct_arena *a, const char *name, const char *text, size_t len,
                         struct ct_diags *diags);

/** Serialise compactly into the arena; *len gets the length (may be NULL). */
char *jx_emit(struct ct_arena *a, const struct ct_node *n, size_t *len);

/** A scalar as text: strings as they are, numbers as their literal, true/false/null; NULL for
 * arrays and objects. Borrowed from the node or static. */
const char *jx_scalar_text(const struct ct_node *n);

/** The value of a string member, or of a number member as text; NULL otherwise. */
const char *jx_get_text(const struct ct_node *o, const char *key);
/** An unsigned integer member; `dflt` when absent or not a non-negative integer. */
uint64_t jx_get_uint(const struct ct_node *o, const char *key, uint64_t dflt);
/** A number member as a double; `dflt` when absent. */
double jx_get_num(const struct ct_node *o, const char *key, double dflt);

/** Append `s` (n bytes) to b as a JSON string literal. */
void jx_put_str(struct ct_buf *b, const char *s, size_t n);
/** Append a NUL-terminated string as a JSON string, or null when s is NULL. */
void jx_put_cstr(struct ct_buf *b, const char *s);
/** Append body bytes as JSON when they parse as JSON, else as a JSON string (scratch arena
 * for the check). */
void jx_put_body(struct ct_buf *b, struct ct_arena *scratch, const char *body, size_t len);

/** 64-bit FNV-1a. */
uint64_t jx_hash(const void *p, size_t n, uint64_t h);
