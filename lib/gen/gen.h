/* gen.h - generate JSON instances from JSON Schemas (mockd's generated answers).
 *
 * ct_gen_instance() walks a raw schema node (OpenAPI 3.0 or 3.1 Schema Object, or plain JSON
 * Schema 2020-12) and builds an instance that is valid for it: types, enums, bounds, lengths,
 * formats, patterns (through a small regex-to-string generator), object and array keywords, and
 * the combinators (allOf merged, oneOf/anyOf by seed with discriminators honoured, not and
 * if/then/else best effort). Values are realistic where the schema leaves room: property names
 * act as hints ("email", "createdAt", "title", ...) and unconstrained strings are readable words.
 *
 * Output is a pure function of (schema, options): the same seed gives the same instance. Every
 * candidate is checked against the schema before it is returned (a generator-side check on raw
 * nodes, independent of lib/schema's compiled validator, so generation needs no compile step and
 * no shared mutable state); when no candidate passes after a few seeds, the call fails with a
 * located diagnostic instead of returning something invalid.
 *
 * Threads: no global state. Calls may run concurrently as long as each uses its own arena,
 * diagnostics and (if any) cache. See docs/generation.md. */
#pragma once

#include "core/arena.h"
#include "core/diag.h"
#include "json/node.h"
#include "openapi/docset.h"
#include "schema/schema.h"

#include <stdbool.h>
#include <stdint.h>

/** Compiled regular expressions kept between calls (patterns of the spec, keyed by their text).
 * Optional: without one, each call compiles the patterns it meets once. One cache must be used
 * by one thread at a time (mockd keeps one per worker). Fields are private. */
struct ct_gen_cache;

/** Caller owns: ct_gen_cache_free(). */
struct ct_gen_cache *ct_gen_cache_new(void);
/** Free the cache and every compiled pattern in it; NULL is a no-op. */
void ct_gen_cache_free(struct ct_gen_cache *cache);

struct ct_gen_opts {
    uint64_t seed;               /* same seed + same schema => same output */
    enum ct_direction direction; /* RESPONSE: omit writeOnly properties; REQUEST: omit readOnly */
    bool oas30;           /* OpenAPI 3.0 semantics: nullable, boolean exclusiveMinimum, example */
    bool prefer_examples; /* use schema-level example/examples/default/const when they validate */
    unsigned max_depth;   /* recursion limit for recursive schemas (0 = default 8) */
    unsigned max_items;   /* cap for generated arrays (0 = default 3; raised to minItems) */
    struct ct_gen_cache *cache; /* borrowed, may be NULL: compiled patterns kept across calls */
};

/** Generate an instance of `schema` (borrowed node in `ds`: a schema object, a `$ref` object or
 * a boolean schema). The result and everything in it is allocated in `arena` (borrowed: valid
 * until the arena is reset or deinit); it does not point into the docset.
 *
 * Returns NULL only when no instance can be produced (a `false` schema, contradictory keywords,
 * a required self-reference deeper than max_depth, or a pattern the generator cannot satisfy),
 * with an error diagnostic (CT_E_SCHEMA) located at the schema keyword that could not be met.
 * `opts` may be NULL (seed 0, no direction, 2020-12/OpenAPI 3.1 semantics). */
struct ct_node *ct_gen_instance(struct ct_docset *ds, const struct ct_node *schema,
                                const struct ct_gen_opts *opts, struct ct_arena *arena,
                                struct ct_diags *diags);
