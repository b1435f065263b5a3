/* mockd.h - what the parts of the daemon share: configuration, the prepared spec ("app"), and
 * the request and response structs that keep libmicrohttpd out of everything but http_mhd.c. */
#pragma once

#include "asyncapi/asyncapi.h"
#include "dialogue/dialogue.h"
#include "jwt.h"
#include "openapi/model.h"
#include "openapi/params.h"
#include "openapi/router.h"
#include "schema/schema.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

enum mockd_validate { MOCKD_VALIDATE_ENFORCE, MOCKD_VALIDATE_WARN, MOCKD_VALIDATE_OFF };
enum mockd_auth { MOCKD_AUTH_AUTO, MOCKD_AUTH_JWT, MOCKD_AUTH_PRESENCE, MOCKD_AUTH_OFF };
enum mockd_log_format { MOCKD_LOG_TEXT, MOCKD_LOG_JSON, MOCKD_LOG_NONE };

struct mockd_config {
    const char *spec_path;
    const char *host;
    unsigned port; /* 0: pick a free one */
    unsigned threads;
    bool check_only;
    bool quiet;
    enum mockd_validate validate;
    enum mockd_auth auth;
    const char *jwt_secret; /* NULL: random at start */
    unsigned token_ttl;     /* access token lifetime, seconds */
    unsigned refresh_ttl;
    const char *cors;       /* NULL or "*": any origin; "none": off; else comma-separated origins */
    uint64_t seed;
    enum mockd_log_format log_format;
    size_t max_body;        /* bytes; 413 above */
    size_t max_header;      /* bytes of request line + headers; 431 above */
    unsigned max_conns;
    unsigned timeout;       /* idle connection timeout, seconds */
    struct mockd_layers_config *layers; /* options of the test-double layers (layers.h) */
    const char *asyncapi_path;  /* --asyncapi: WebSocket channels on the same port */
    const char *dialogue_paths; /* --dialogues: comma-separated files or directories */
    unsigned ws_idle_timeout;   /* seconds without a frame before closing; 0: never */
    unsigned ws_max_connections;
};

/** Defaults for every field. */
void mockd_config_defaults(struct mockd_config *cfg);
/** Parse argv (and a --config file) into cfg. Returns 0, or an exit status after printing. */
int mockd_config_parse(struct mockd_config *cfg, int argc, char **argv, struct ct_docset **cfgdoc);

/* --- the prepared spec ------------------------------------------------------------------------ */

struct mockd_media_plan {
    const struct ct_oas_media *m;
    const struct ct_schema *schema;   /* NULL: no schema */
    const struct ct_node *body;       /* default answer (example or generated); may be NULL */
    const char *bytes;                /* body serialised once at load */
    size_t len;
    bool json;                        /* a JSON media type (application/json, +json) */
    bool text;                        /* text/plain and other text answers */
    bool sse;                         /* text/event-stream */
    bool gen_failed;                  /* generation was tried and gave nothing */
    struct mockd_app *owner;          /* the app the plan belongs to (for mockd_media_body) */
};

struct mockd_app;

/** The default answer of a response media type: its example, else a body generated from its
 * schema on first use (then kept, with its bytes). Thread-safe; NULL when there is none. */
const struct ct_node *mockd_media_body(const struct mockd_app *app,
                                       const struct mockd_media_plan *mp);
/** The default answer's bytes, serialised on first use and kept (borrowed from the app), with
 * their length in *len; NULL when there is no default answer yet (see mockd_media_body).
 * Thread-safe. */
const char *mockd_media_bytes(const struct mockd_app *app, const struct mockd_media_plan *mp,
                              size_t *len);

struct mockd_resp_plan {
    const struct ct_oas_response *r;
    unsigned code;  /* 100..599; 0 for "default" */
    unsigned klass; /* 1..5 for "4XX"-style ranges, else 0 */
    struct mockd_media_plan *media;
    unsigned nmedia;
};

enum mockd_auth_role { MOCKD_ROLE_NONE, MOCKD_ROLE_LOGIN, MOCKD_ROLE_REFRESH, MOCKD_ROLE_LOGOUT };

struct mockd_op_plan {
    const struct ct_oas_op *op;
    const struct ct_schema **params; /* per op->params entry; NULL when no schema */
    struct mockd_media_plan *body;   /* request media types */
    unsigned nbody;
    struct mockd_resp_plan *resps;
    unsigned nresps;
    int dflt;                        /* index of the default success response, -1 when none */
    enum mockd_auth_role role;
    const struct ct_node *roles;     /* x-required-roles, may be NULL */
};

struct mockd_app {
    const struct mockd_config *cfg;
    struct ct_docset *ds;
    struct ct_oas *oas;
    struct ct_router *router;
    struct ct_schema_set *schemas;
    struct mockd_op_plan *plans; /* parallel to oas->ops */
    struct mockd_jwt *jwt;
    enum mockd_auth auth;        /* effective mode (AUTO resolved) */
    char *spec_json;             /* GET /openapi.json, rendered on first use */
    size_t spec_json_len;
    char *spec_yaml;
    size_t spec_yaml_len;
    pthread_mutex_t render_lock;
    pthread_mutex_t lazy_lock;   /* guards `lazy` and the first generation of a default body */
    struct ct_arena lazy;        /* bodies generated on first use */
    unsigned nwarnings;          /* examples that failed their schema, and so on */
    struct mockd_layers *layers; /* test-double layers: state, overrides, faults, journal */
    struct ct_asyncapi *asyncapi;      /* NULL without --asyncapi */
    struct ct_dialogue_set *dialogues; /* NULL without --dialogues */
};

/** The loaded document as JSON or YAML text, rendered once on first use (thread-safe); the
 * text lives as long as the app. */
const char *mockd_app_spec_text(const struct mockd_app *app, bool yaml, size_t *len);

/** Load and prepare; prints located diagnostics to stderr. Returns 0 or an exit status. */
int mockd_app_load(struct mockd_app *app, const struct mockd_config *cfg);
void mockd_app_free(struct mockd_app *app);

/* --- one exchange --------------------------------------------------------------------------- */

struct mockd_header {
    const char *name;
    const char *value;
};

#define MOCKD_MAX_HEADERS 100
#define MOCKD_MAX_QUERY 256
#define MOCKD_MAX_RESP_HEADERS 32

/** A request as mockd sees it; every pointer is borrowed for the request's lifetime. */
struct mockd_req {
    struct ct_arena *arena; /* the request's scratch, freed when the response is sent */
    const char *method;
    const char *path; /* raw (percent-encoded), without the query */
    size_t path_len;
    struct ct_kv query[MOCKD_MAX_QUERY];
    size_t nquery;
    struct mockd_header headers[MOCKD_MAX_HEADERS];
    size_t nheaders;
    const char *body;
    size_t body_len;
    bool body_too_big;
    const char *remote;
};

/** Transport-level faults a layer may ask for (carried out by http_mhd.c). */
enum mockd_fault {
    MOCKD_FAULT_NONE,
    MOCKD_FAULT_RESET,    /* close the connection without answering */
    MOCKD_FAULT_EMPTY,    /* status and headers, then close with no body */
    MOCKD_FAULT_TRUNCATE, /* announce the full length, send half the body, close */
    MOCKD_FAULT_SLOW,     /* send the body at slow_bps bytes per second */
};

/** One piece of a streamed body: sent `delay_ms` after the previous one (SSE events, paced
 * bodies). `fail` ends the stream abruptly (the connection is dropped mid-stream). */
struct mockd_chunk {
    uint32_t delay_ms;
    const char *data;
    size_t len;
    bool fail;
};

struct mockd_resp {
    unsigned status;
    const char *content_type;
    const char *body;
    size_t body_len;
    struct mockd_header headers[MOCKD_MAX_RESP_HEADERS];
    unsigned nheaders;
    const char *operation_id; /* for the access log */
    const char *request_id;
    unsigned nerrors;         /* validation problems found in the request */
    unsigned delay_ms;        /* wait before answering (latency simulation) */
    enum mockd_fault fault;
    unsigned slow_bps;        /* MOCKD_FAULT_SLOW: bytes per second */
    const char *source;       /* what produced the answer: "example", "generated", "override",
                                 "state", "proxy", ... (journal, X-Mockd-Source) */
    const struct mockd_chunk *chunks; /* non-NULL: a streamed body (chunked), body ignored */
    unsigned nchunks;
};

/** Find a request header (case-insensitive); NULL when absent. */
const char *mockd_req_header(const struct mockd_req *req, const char *name);
/** Add a response header; name and value must live as long as the response. */
void mockd_resp_header(struct mockd_resp *resp, const char *name, const char *value);

/** Answer one request. Thread-safe: the app is read-only here (but for the JWT revocation list,
 * which locks). */
void mockd_handle(const struct mockd_app *app, struct mockd_req *req, struct mockd_resp *resp);

#include "layers.h"

/* --- serving -------------------------------------------------------------------------------- */

struct mockd_server;

/** Start serving; returns NULL after printing the reason to stderr. *port_out gets the bound
 * port. */
struct mockd_server *mockd_http_start(const struct mockd_config *cfg, const struct mockd_app *app,
                                      unsigned *port_out);
void mockd_http_stop(struct mockd_server *srv);

/** Write one access-log line (thread-safe; no-op with MOCKD_LOG_NONE). */
void mockd_log_access(const struct mockd_config *cfg, const struct mockd_req *req,
                      const struct mockd_resp *resp, double ms);
