/* schema.h - JSON Schema validation: compile a schema once, validate many instances.
 *
 * Supported dialects: JSON Schema draft 4, 6, 7, 2019-09 and 2020-12, and the OpenAPI 3.0 and
 * 3.1 Schema Objects. A schema is compiled into an immutable form (see schema_impl.h) with every
 * `$ref` resolved, every pattern compiled and every bound decoded, so validation walks no raw
 * tree and allocates nothing per keyword.
 *
 * Two ways in:
 *  - ct_schema_compile(): one schema, one owner; free it with ct_schema_free().
 *  - struct ct_schema_set: one per docset (an OpenAPI document). Every schema node is compiled at
 *    most once and shared by all the schemas that reach it, so compiling the body, response and
 *    parameter schemas of every operation costs little more than compiling the components once.
 *
 * Threads: compiling changes the set and must not run concurrently with anything else on the
 * same set. A compiled schema is immutable: validate from any number of threads at once, each
 * with its own struct ct_vctx (or none: then a temporary one is made per call).
 */
#pragma once

#include "core/diag.h"
#include "json/node.h"
#include "openapi/docset.h"

#include <stdbool.h>
#include <stddef.h>

enum ct_dialect {
    CT_DIALECT_AUTO = 0, /* from `$schema`, else 2020-12 */
    CT_DIALECT_DRAFT4,
    CT_DIALECT_DRAFT6,
    CT_DIALECT_DRAFT7,
    CT_DIALECT_2019_09,
    CT_DIALECT_2020_12,
    CT_DIALECT_OAS30, /* OpenAPI 3.0 Schema Object: draft-4-like, nullable, discriminator */
    CT_DIALECT_OAS31, /* OpenAPI 3.1: 2020-12 plus discriminator */
};

/** Which side of an exchange an instance is: readOnly properties must not appear in requests,
 * writeOnly properties must not appear in responses (and `required` ignores them there). */
enum ct_direction { CT_DIR_NONE = 0, CT_DIR_REQUEST, CT_DIR_RESPONSE };

/** Map a URI prefix to a directory, for offline remote references: with
 * {"http://localhost:1234/", "tests/remotes/"} a `$ref` to http://localhost:1234/a/b.json loads
 * tests/remotes/a/b.json through the docset. */
struct ct_schema_remote {
    const char *prefix;
    const char *dir;
};

struct ct_schema_opts {
    enum ct_dialect dialect;     /* default dialect when a schema has no `$schema` */
    enum ct_direction direction; /* readOnly/writeOnly checks */
    bool format_assert;          /* true: `format` is an assertion; false: an annotation */
    bool all_errors;             /* true: report every error; false: stop at the first */
    bool instance_notes;         /* add a note located at the instance value after each error */
    bool lenient_patterns;       /* a pattern that is not ECMAScript but compiles as PCRE2 (an
                                    inline `(?i)`, say) is kept, with a warning, not refused */
    const struct ct_schema_remote *remotes; /* borrowed: must outlive the set */
    size_t nremotes;
};

struct ct_schema;
struct ct_schema_set;

/* --- sets: compile many schemas of one document set ------------------------------------------ */

/** A set compiling schemas that live in `ds`. `ds` is borrowed and must outlive the set (the
 * compiled form points into its nodes); remote documents are loaded into it. opts may be NULL
 * (2020-12, no direction, formats annotate, first error); it is copied, but `remotes` stays
 * borrowed. Caller owns: ct_schema_set_free(). */
struct ct_schema_set *ct_schema_set_new(struct ct_docset *ds, const struct ct_schema_opts *opts);
void ct_schema_set_free(struct ct_schema_set *set);

/** Free what only compiling needs: call after the last ct_schema_set_get of a load to give the
 * memory back. (Nothing at present: schema locations are composed on demand, without the
 * parent index of whole documents this once freed.) */
void ct_schema_set_trim(struct ct_schema_set *set);

/** The compiled form of `node` (a schema object or boolean inside a document of the set's
 * docset), compiling it and everything it references on first use. Returns NULL when the schema
 * is broken, with located diagnostics (CT_E_SCHEMA, CT_E_REF) in `diags`. Borrowed: valid
 * until ct_schema_set_free. */
const struct ct_schema *ct_schema_set_get(struct ct_schema_set *set, const struct ct_node *node,
                                          struct ct_diags *diags);

/* --- single schemas ------------------------------------------------------------------------- */

/** Compile `schema` (borrowed from `ds`, which must outlive the result). NULL on error with
 * diagnostics. Caller owns: ct_schema_free(). */
struct ct_schema *ct_schema_compile(struct ct_docset *ds, const struct ct_node *schema,
                                    const struct ct_schema_opts *opts, struct ct_diags *diags);
/** Free a schema from ct_schema_compile (not one borrowed from a set); NULL is a no-op. */
void ct_schema_free(struct ct_schema *s);

/* --- validation ------------------------------------------------------------------------------ */

/** Scratch space for validation: reuse one per thread to avoid allocating per call. Fields are
 * private; use the API. */
struct ct_vctx;

/** Caller owns: ct_vctx_free(). */
struct ct_vctx *ct_vctx_new(void);
void ct_vctx_free(struct ct_vctx *vc);

/** Validate `instance` (borrowed). Returns true when valid. On failure adds CT_E_INVALID
 * diagnostics located at the failing keyword in the schema's source, with instance_ptr and
 * keyword_ptr set (one, or all with opts.all_errors). `vc` may be NULL (a temporary context is
 * made); a context may be used by one thread at a time. */
bool ct_schema_validate_ex(const struct ct_schema *s, struct ct_vctx *vc,
                           const struct ct_node *instance, struct ct_diags *diags);
bool ct_schema_validate(const struct ct_schema *s, const struct ct_node *instance,
                        struct ct_diags *diags);

/** Same schema, different per-call behaviour (direction, first/all errors), e.g. one compiled
 * component validated in both a request and a response. */
struct ct_vopts {
    enum ct_direction direction;
    bool all_errors;
    bool instance_notes;
};
bool ct_schema_validate_opts(const struct ct_schema *s, struct ct_vctx *vc,
                             const struct ct_node *instance, const struct ct_vopts *vo,
                             struct ct_diags *diags);

/* --- helpers ------------------------------------------------------------------------------ */

/** "draft4", "draft6", "draft7", "2019-09", "2020-12", "oas30", "oas31" (also "draft2020-12"
 * etc.) to a dialect; returns false for unknown names. */
bool ct_dialect_parse(const char *name, enum ct_dialect *out);
/** The name of a dialect ("2020-12"). Static string. */
const char *ct_dialect_name(enum ct_dialect d);

/** Check a string against a format by name ("date-time", "email", ...). Returns 1 valid,
 * 0 invalid, -1 unknown format. Exposed for mockd's generator and for tests. */
int ct_format_check(const char *format, const char *s, size_t len);
