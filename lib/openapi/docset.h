/* docset.h - a set of loaded documents and `$ref` resolution between them.
 *
 * A docset owns the texts it read, the sources that name them and one arena for every node of
 * every file. Files come in through a read callback (default: the file system), once each.
 * References are resolved lazily and never rewritten into the tree, so a schema that refers to
 * itself is just a node whose `$ref` leads back to an ancestor: nothing loops at load. */
#pragma once

#include "json/node.h"

#include <stdbool.h>

/** Read `path`; on success *text is caller-owned (ct_free) with a NUL after *len bytes.
 * Returns 0 or a negative CT_E_* code. */
typedef int (*ct_read_fn)(void *ud, const char *path, char **text, size_t *len);

struct ct_docset_opts {
    ct_read_fn read; /* NULL: the file system */
    void *ud;
    struct ct_parse_limits limits;
    unsigned max_files; /* 0 = 256 */
};

struct ct_docset;

/** opts may be NULL. Caller owns: ct_docset_free(). */
struct ct_docset *ct_docset_new(const struct ct_docset_opts *opts);
void ct_docset_free(struct ct_docset *ds);

/** Load a file (once; later calls return the same root). NULL on error, with diagnostics.
 * Borrowed: valid until ct_docset_free. */
struct ct_node *ct_docset_load(struct ct_docset *ds, const char *path, struct ct_diags *diags);

/** Load from memory: `name` names the source in diagnostics; the text is copied. */
struct ct_node *ct_docset_load_text(struct ct_docset *ds, const char *name, const char *text,
                                    size_t len, struct ct_diags *diags);

/** Resolve a reference string written in the file of `at` (whose position locates errors).
 * Follows chains of Reference Objects. NULL on error, with a diagnostic at `at`. */
struct ct_node *ct_docset_resolve(struct ct_docset *ds, const struct ct_node *at, const char *ref,
                                  struct ct_diags *diags);

/** If `n` is an object with a string `$ref`, its resolved target; otherwise `n` itself. NULL
 * (with a diagnostic) when the reference is broken. */
struct ct_node *ct_docset_deref(struct ct_docset *ds, const struct ct_node *n,
                                struct ct_diags *diags);

/** Check every `$ref` under root (and in every file they reach) resolves. Literal data
 * (`example`, `default`, `enum`, `const`, `x-*` extensions) is not searched, and neither are
 * subschemas under an absolute `$id` (their references are the validator's). Returns the number
 * of broken references. */
size_t ct_docset_check_refs(struct ct_docset *ds, const struct ct_node *root,
                            struct ct_diags *diags);

/** For the loaders in lib/: between these calls, references that resolve are remembered by
 * (file, reference text), so the check and the model built after it resolve each distinct
 * reference once. Single-threaded use only; _end frees the memory. */
void ct__docset_memo_begin(struct ct_docset *ds);
void ct__docset_memo_end(struct ct_docset *ds);

/** Free the text of the document whose root is `root` (its nodes stay valid: they never point
 * into it). Diagnostics located in it are then rendered without their source line. For a
 * long-running program once loading, and the report of its diagnostics, is over: the text of
 * a big spec is as large again as its tree. */
void ct_docset_drop_text(struct ct_docset *ds, const struct ct_node *root);

/** The root node of the file that `n` belongs to, or NULL. */
struct ct_node *ct_docset_root_of(const struct ct_docset *ds, const struct ct_node *n);

/** The arena holding every node; for callers that build derived structures with the same
 * lifetime. */
struct ct_arena *ct_docset_arena(struct ct_docset *ds);

/** The path of the i-th document (load order) when it was read through the read callback; NULL
 * for texts loaded from memory and past the end (i >= the `files` count of ct_docset_stats).
 * Borrowed: valid until ct_docset_free. For watching the files a loaded model depends on. */
const char *ct_docset_file_path(const struct ct_docset *ds, size_t i);

/** Number of files loaded and bytes read; for reports and benchmarks. */
void ct_docset_stats(const struct ct_docset *ds, unsigned *files, size_t *bytes);
