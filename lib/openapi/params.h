/* params.h - decoding OpenAPI parameters and form bodies from raw request text into ct_node
 * values that the validator can check.
 *
 * Serialisation styles (OpenAPI 3.x "style" and "explode"): path `simple`, `label`, `matrix`;
 * query `form`, `spaceDelimited`, `pipeDelimited`, `deepObject`; header `simple`; cookie `form`.
 * Values are percent-decoded (and `+` is a space in query strings). Text is coerced to the
 * type the parameter's schema asks for (integer, number, boolean, array items, object
 * properties); text that does not parse stays a string, so the validator reports it as
 * "expected integer, got string 'abc'". Parameters described with `content` are parsed as the
 * media type says (JSON). */
#pragma once

#include "model.h"

/** One name=value pair of a query string or a form body, raw (still percent-encoded). */
struct ct_kv {
    const char *key;
    size_t keylen;
    const char *val;
    size_t vallen;
};

/** Split a query string or application/x-www-form-urlencoded body into pairs (slices of `s`).
 * Returns the number of pairs written (at most max). */
size_t ct_query_split(const char *s, size_t len, struct ct_kv *out, size_t max);

/** Percent-decode into the arena; plus_space turns '+' into ' '. *ok is false for malformed
 * escapes or invalid UTF-8 after decoding. */
char *ct_pct_decode(struct ct_arena *a, const char *s, size_t len, bool plus_space, size_t *outlen,
                    bool *ok);

/** The raw occurrences of a parameter in a request. */
struct ct_param_src {
    const char *path_value; /* path: the matched segment slice */
    size_t path_len;
    const struct ct_kv *query; /* query: every pair of the query string */
    size_t nquery;
    const char *header; /* header/cookie: the value, NULL when absent */
    size_t header_len;
};

/** Whether the parameter is present at all in the request. */
bool ct_param_present(const struct ct_oas_param *p, const struct ct_param_src *src);

/** Decode a parameter. Returns NULL when it is absent, or (with a diagnostic) when its text is
 * malformed beyond coercion (bad percent-escape, bad JSON in `content`). The result lives in
 * `a`. `ds` resolves `$ref` in the schema. */
struct ct_node *ct_param_decode(struct ct_docset *ds, const struct ct_oas_param *p,
                                const struct ct_param_src *src, struct ct_arena *a,
                                struct ct_diags *diags);

/** Decode an application/x-www-form-urlencoded body into an object, coercing values by the
 * body schema's properties. */
struct ct_node *ct_form_decode(struct ct_docset *ds, const struct ct_node *schema, const char *body,
                               size_t len, struct ct_arena *a, struct ct_diags *diags);

/** Coerce one text value into a node typed by `schema` (string when the text does not fit). */
struct ct_node *ct_coerce_text(struct ct_docset *ds, const struct ct_node *schema, const char *s,
                               size_t len, struct ct_arena *a);
