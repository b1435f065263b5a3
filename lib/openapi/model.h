/* model.h - the OpenAPI 3.0/3.1 model: what mockd and runner need from a description.
 *
 * Built once from a loaded document (ct_oas_build) and immutable afterwards; every struct lives in
 * the docset's arena and keeps a pointer to the node it came from, so later stages can report
 * file:line:col. References in path items, operations, parameters, request bodies, responses and
 * security schemes are followed here; schemas stay as nodes (with their `$ref`s) for the validator
 * to compile. Unknown `x-` extensions stay reachable through each object's node. */
#pragma once

#include "docset.h"

enum ct_http_method {
    CT_GET, CT_PUT, CT_POST, CT_DELETE, CT_OPTIONS, CT_HEAD, CT_PATCH, CT_TRACE, CT_METHOD_COUNT
};

/** "get", "put", ... (lower case, as the document writes them). */
const char *ct_http_method_name(enum ct_http_method m);
/** Parse an upper- or lower-case method name; -1 when unknown. */
int ct_http_method_parse(const char *s, size_t len);

enum ct_param_in { CT_IN_PATH, CT_IN_QUERY, CT_IN_HEADER, CT_IN_COOKIE };

struct ct_oas_param {
    const char *name;
    enum ct_param_in in;
    bool required;
    bool deprecated;
    bool allow_empty;
    bool explode;
    const char *style;            /* effective style: form, simple, matrix, label, ... */
    const struct ct_node *schema; /* may be NULL (then `content` is used) */
    const struct ct_node *content;
    const struct ct_node *node; /* the Parameter Object (after $ref) */
};

struct ct_oas_media {
    const char *type; /* "application/json", "multipart/form-data", "*\/\*" ... */
    const struct ct_node *schema;
    const struct ct_node *example;  /* `example`, may be NULL */
    const struct ct_node *examples; /* `examples` map, may be NULL */
    const struct ct_node *node;
};

struct ct_oas_response {
    const char *status; /* "200", "4XX", "default" */
    const char *description;
    struct ct_oas_media *media;
    unsigned nmedia;
    const struct ct_node *headers; /* map, may be NULL */
    const struct ct_node *node;
};

struct ct_oas_op {
    enum ct_http_method method;
    const char *path;         /* the template as written: "/prompts/{id}" */
    const char *operation_id; /* may be NULL */
    const char *summary;
    bool deprecated;
    bool webhook;             /* from `webhooks`, not `paths` */
    struct ct_oas_param *params; /* path-level and operation-level merged */
    unsigned nparams;
    bool body_required;
    struct ct_oas_media *body; /* request body media types */
    unsigned nbody;
    struct ct_oas_response *responses;
    unsigned nresponses;
    const struct ct_node *security; /* effective requirement array (op or global); may be NULL */
    const struct ct_node *tags;
    const struct ct_node *node; /* the Operation Object */
};

struct ct_oas_server {
    const char *url;
    const char *base_path; /* the path part of url with variables at their defaults: "/api/v1" */
    const struct ct_node *node;
};

struct ct_oas_security_scheme {
    const char *name;
    const char *type;   /* apiKey, http, oauth2, openIdConnect, mutualTLS */
    const char *scheme; /* http: bearer, basic */
    const char *in;     /* apiKey: header, query, cookie */
    const char *param;  /* apiKey: the parameter name */
    const char *bearer_format;
    const struct ct_node *node;
};

struct ct_oas {
    unsigned major, minor;   /* 3.0 or 3.1 */
    const char *version;     /* the `openapi` string */
    const char *title;
    const char *api_version; /* info.version */
    const char *json_schema_dialect;
    struct ct_oas_server *servers;
    unsigned nservers;
    struct ct_oas_op *ops;
    unsigned nops;     /* operations under `paths` come first, then webhooks */
    unsigned npaths;   /* path items */
    unsigned nwebhook; /* how many of ops are webhooks */
    struct ct_oas_security_scheme *schemes;
    unsigned nschemes;
    const struct ct_node *components;
    const struct ct_node *root;
    struct ct_docset *docset; /* borrowed */
};

/** Build the model from a loaded root. Returns NULL when the document is not OpenAPI 3.0/3.1 or
 * has errors (all reported to diags: every problem, not only the first). The model lives in the
 * docset's arena: valid until ct_docset_free. */
struct ct_oas *ct_oas_build(struct ct_docset *ds, const struct ct_node *root,
                            struct ct_diags *diags);

/** Load `path` into a fresh docset, check references and build the model. Returns NULL when
 * anything is wrong. Either way *ds_out owns everything, including the sources that the
 * diagnostics point into: render them first, then ct_docset_free(*ds_out). */
struct ct_oas *ct_oas_load(const char *path, const struct ct_docset_opts *opts,
                           struct ct_docset **ds_out, struct ct_diags *diags);

/** Find an operation by operationId; NULL if none. */
const struct ct_oas_op *ct_oas_find_op(const struct ct_oas *oas, const char *operation_id);
