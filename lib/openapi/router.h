/* router.h - matching request paths to the operations of an OpenAPI model.
 *
 * Compiled once from the model: a trie over path segments in which literal segments are tried
 * before templated ones (`/prompts/popular` wins over `/prompts/{id}`), with every server base
 * path (`servers[].url` path part, e.g. `/api/v1`) as a prefix. A segment may mix literals and
 * variables (`/files/{name}.{ext}`). Trailing slashes are significant: `/prompts/` does not match
 * `/prompts` (ct_router_near finds such near misses for a helpful 404).
 *
 * Matching allocates nothing; path parameter values are returned raw (still percent-encoded) as
 * slices of the request path. The router is immutable after compile and safe to share between
 * threads. */
#pragma once

#include "model.h"

#define CT_ROUTER_MAX_PARAMS 16

struct ct_router;

struct ct_route_param {
    const char *name;  /* borrowed from the model */
    const char *value; /* slice of the matched path; not NUL-terminated */
    size_t len;
};

struct ct_route_match {
    const struct ct_oas_op *op;
    unsigned nparams;
    struct ct_route_param params[CT_ROUTER_MAX_PARAMS];
    unsigned allowed; /* bit per enum ct_http_method with an operation on the matched path */
};

/** Compile the router for the model's operations under `paths` (not webhooks). The model must
 * outlive the router. Caller owns: ct_router_free(). */
struct ct_router *ct_router_new(const struct ct_oas *oas);
void ct_router_free(struct ct_router *r);

/** Match `path` (without the query string). Returns 1 when an operation matches the method,
 * 0 when the path matches but not the method (m->allowed says which do: answer 405), -1 when
 * no path matches (answer 404). */
int ct_router_match(const struct ct_router *r, enum ct_http_method method, const char *path,
                    size_t len, struct ct_route_match *m);

/** For a 404: a template that the path nearly matches (differs by a trailing slash or a missing
 * base path), or NULL. Static or borrowed from the model. */
const char *ct_router_near(const struct ct_router *r, const char *path, size_t len);
