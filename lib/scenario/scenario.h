/* scenario.h - the scenario model (scenarios/ **.yaml) and its parser and checker.
 *
 * A scenario file is YAML (or JSON) describing HTTP exchanges to replay against a server and what
 * to expect from them; docs/scenarios.md is the user's reference and ct-scenario(5) its manual
 * page. This module turns a parsed node tree into an immutable model and reports every problem
 * with file:line:col, what was expected and a did-you-mean hint. It does no I/O: runner reads the
 * files, loads variable files and interprets the model.
 *
 * Two passes:
 *  - ct_scen_parse() checks the shape of the document against the format (keys, types,
 *    durations, paths, template syntax) and builds the model.
 *  - ct_scen_check() checks the model against its surroundings: operationIds and parameter names
 *    against the OpenAPI model, variables against what is defined before each use, regular
 *    expressions through a callback (the regex engine lives outside lib/scenario).
 *
 * Ownership: every struct, string and array of the model lives in the arena passed to the
 * parser, and borrows the node tree (values are kept as nodes and interpolated at run time), so
 * the model is valid while both the arena and the node tree's arena are. Nothing is freed on its
 * own. */
#pragma once

#include "json/node.h"
#include "openapi/model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- matchers and checks ------------------------------------------------------------------ */

/** One comparison inside an assertion: `{type: string, min_length: 1}` holds two. */
enum ct_match_op {
    CT_M_EQUALS,
    CT_M_NOT_EQUALS,
    CT_M_ONE_OF,
    CT_M_MATCHES,
    CT_M_TYPE,
    CT_M_LENGTH,
    CT_M_MIN_LENGTH,
    CT_M_MAX_LENGTH,
    CT_M_CONTAINS,
    CT_M_NOT_CONTAINS,
    CT_M_EXISTS,
    CT_M_GT,
    CT_M_GTE,
    CT_M_LT,
    CT_M_LTE,
};

/** Bits of a `type` matcher. */
enum {
    CT_T_NULL = 1 << 0,
    CT_T_BOOLEAN = 1 << 1,
    CT_T_INTEGER = 1 << 2,
    CT_T_NUMBER = 1 << 3, /* integers are numbers too */
    CT_T_STRING = 1 << 4,
    CT_T_ARRAY = 1 << 5,
    CT_T_OBJECT = 1 << 6,
};

struct ct_scen_match {
    enum ct_match_op op;
    const struct ct_node *arg; /* the operand as written: a template (strings hold ${...}) */
    unsigned types;            /* CT_M_TYPE: CT_T_* bits */
    bool exists;               /* CT_M_EXISTS: the wanted answer */
    const struct ct_node *at;  /* where to report a failure: the matcher key or the value */
};

/** Where a value comes from in a response or a frame. */
enum ct_src_kind {
    CT_SRC_BODY,   /* a value inside the JSON body (arg: a JSON Pointer, "" for the whole body) */
    CT_SRC_HEADER, /* a response header (arg: its name, compared case-insensitively) */
    CT_SRC_STATUS, /* the status code, as an integer */
    CT_SRC_TEXT,   /* the body as text (SSE/WS collect: the joined text) */
};

struct ct_scen_source {
    enum ct_src_kind kind;
    const char *arg;     /* pointer (body) or header name; "" otherwise */
    const char *written; /* as the file wrote it, for messages: ".data.id", "header ETag" */
};

/** An assertion: every matcher must hold for the value at `src`. */
struct ct_scen_check {
    struct ct_scen_source src;
    struct ct_scen_match *m;
    unsigned nm;
    const struct ct_node *at; /* the key in the file */
};

/** A status range: 200 is {200, 200}, 2XX is {200, 299}. */
struct ct_scen_status {
    uint16_t lo, hi;
};

/** What a response must look like: `expect:` (and `repeat.until:`). */
struct ct_scen_expect {
    struct ct_scen_status *status; /* any of these; when nstatus is 0, 2XX is expected */
    unsigned nstatus;
    struct ct_scen_check *checks; /* headers, body paths and text, in file order */
    unsigned nchecks;
    uint32_t max_time_ms; /* 0: no limit */
    const struct ct_node *node; /* the mapping, or NULL when the step has none */
};

/** `capture: {var: SOURCE}` */
struct ct_scen_capture {
    const char *var;
    struct ct_scen_source src;
    const char *regex; /* `match:` - keep group 1 (or the whole match); NULL: the value itself */
    const struct ct_node *regex_at; /* the `match:` value, or NULL */
    const struct ct_node *at;
};

/* --- bodies ------------------------------------------------------------------------------- */

enum ct_body_kind {
    CT_BODY_NONE,
    CT_BODY_JSON,      /* `json:` any value, sent as application/json */
    CT_BODY_FORM,      /* `form:` a mapping, application/x-www-form-urlencoded */
    CT_BODY_MULTIPART, /* `multipart:` a list of parts, multipart/form-data */
    CT_BODY_RAW,       /* `raw:` a string sent as is (content_type defaults to text/plain) */
    CT_BODY_FILE,      /* `file:` a path (relative to the scenario) sent as is */
};

struct ct_scen_part {
    const struct ct_node *name;         /* template string */
    const struct ct_node *value;        /* template; NULL for a file part */
    const struct ct_node *file;         /* template path; NULL for a value part */
    const struct ct_node *filename;     /* may be NULL: the file's base name */
    const struct ct_node *content_type; /* may be NULL */
    const struct ct_node *at;
};

/* --- streams (designed and checked now, executed once mockd streams) ------------------------ */

/** `sse:` on an HTTP step: read a text/event-stream answer event by event. */
struct ct_scen_sse {
    struct ct_scen_expect *events; /* the first n data events must match these, in order */
    unsigned nevents;
    const char *join;            /* JSON Pointer into each event's data: strings joined */
    struct ct_scen_check count;  /* matchers on the number of data events (nm may be 0) */
    struct ct_scen_check text;   /* matchers on the joined text (nm may be 0) */
    uint32_t first_event_ms;     /* max latency of the first event; 0: no limit */
    uint32_t total_ms;           /* max time until the stream ends; 0: no limit */
    const char *capture;         /* variable receiving the joined text, or NULL */
    const struct ct_node *node;
};

enum ct_ws_kind {
    CT_WS_SEND,             /* send one JSON text frame */
    CT_WS_SEND_TEXT,        /* send one raw text frame (to test invalid frames) */
    CT_WS_EXPECT,           /* the next frame(s) must match, in order */
    CT_WS_EXPECT_UNORDERED, /* these frames, in any order, within the timeout */
    CT_WS_COLLECT,          /* frames of one type until a final one; join a field's text */
    CT_WS_EXPECT_CLOSE,     /* the server closes with one of these codes */
    CT_WS_CLOSE,            /* close from the client side */
    CT_WS_WAIT,             /* pause */
};

/** A frame expectation: `{type: agent_response, body: {...}, capture: {...}}`. */
struct ct_scen_frame {
    const char *type; /* the message `type`, or NULL for any */
    struct ct_scen_expect expect;
    struct ct_scen_capture *captures;
    unsigned ncaptures;
    uint32_t timeout_ms;
    const struct ct_node *at;
};

struct ct_scen_ws_action {
    enum ct_ws_kind kind;
    const struct ct_node *payload;  /* SEND: template value; SEND_TEXT: template string */
    struct ct_scen_frame *frames;   /* EXPECT, EXPECT_UNORDERED: 1 or more; COLLECT: exactly
                                       1: the frames' type, and as its checks the `until`
                                       conditions that mark the final frame */
    unsigned nframes;
    const char *join;               /* COLLECT: pointer into each frame */
    struct ct_scen_check text;      /* COLLECT: matchers on the joined text */
    const char *capture;            /* COLLECT: variable receiving the joined text */
    uint16_t codes[8];              /* EXPECT_CLOSE: any of; CLOSE: codes[0] */
    unsigned ncodes;
    uint32_t ms;                    /* WAIT: how long; others: timeout (0 = the step's) */
    const struct ct_node *at;
};

struct ct_scen_ws {
    const char *channel;          /* AsyncAPI channel id, or NULL when `path` is given */
    const struct ct_node *path;   /* template string, or NULL */
    const struct ct_node *query;  /* mapping of templates, or NULL */
    const struct ct_node *headers;
    struct ct_scen_ws_action *actions;
    unsigned nactions;
};

/* --- steps -------------------------------------------------------------------------------- */

struct ct_scen_http {
    const char *op_id;              /* `op:`, or NULL for method + path */
    const struct ct_node *op_at;
    int method;                     /* enum ct_http_method for `method:`; -1 with `op:` */
    const struct ct_node *path;     /* `path:` template, NULL with `op:` */
    const struct ct_node *params;   /* mapping name -> template, or NULL */
    const struct ct_node *query;    /* extra query parameters: mapping, or NULL */
    const struct ct_node *headers;  /* mapping, or NULL */
    const struct ct_node *auth;     /* template string, or NULL: the scenario default */
    bool no_auth;                   /* `auth: false` */
    const struct ct_node *prefer;   /* template string (mock control), or NULL */
    enum ct_body_kind body_kind;
    const struct ct_node *body;     /* JSON/FORM/RAW: the value; FILE: the path template */
    const struct ct_node *content_type;
    struct ct_scen_part *parts;     /* MULTIPART */
    unsigned nparts;
    bool send_invalid;              /* the request deliberately breaks the contract */
    uint32_t timeout_ms;            /* 0: the scenario's */
    struct ct_scen_expect expect;
    struct ct_scen_capture *captures;
    unsigned ncaptures;
    struct ct_scen_sse *sse;        /* NULL unless `sse:` */
};

enum ct_step_kind { CT_STEP_HTTP, CT_STEP_GROUP, CT_STEP_WS };

struct ct_scen_step;

struct ct_scen_block {
    struct ct_scen_step *v;
    unsigned n;
};

/** `repeat: N` or `repeat: {until: EXPECT, max: N, delay: D}`. */
struct ct_scen_repeat {
    unsigned times;  /* fixed number of runs (each must pass); 1 when there is no repeat */
    bool poll;       /* until-mode: retry until `until` holds, at most `max` times */
    struct ct_scen_expect until;
    unsigned max;
    uint32_t delay_ms;
    const struct ct_node *node;
};

struct ct_scen_step {
    enum ct_step_kind kind;
    const char *name;  /* `name:` (or the group's name), NULL when absent */
    const char *label; /* what reports show: the name, else "createPrompt" or "GET /path" */
    const char **tags;
    unsigned ntags;
    const char *skip; /* reason, or NULL */
    const struct ct_node *if_set; /* `if_set`: string or list of variable names; the step is
                                     skipped unless all are set (cleanups in teardown) */
    struct ct_scen_repeat repeat;
    struct ct_scen_http http;   /* CT_STEP_HTTP */
    struct ct_scen_block group; /* CT_STEP_GROUP */
    struct ct_scen_ws ws;       /* CT_STEP_WS */
    uint32_t timeout_ms;        /* WS: default action timeout; HTTP: see http.timeout_ms */
    const struct ct_node *node;
};

struct ct_scen {
    const char *name;
    const char *description; /* may be NULL */
    const char **tags;
    unsigned ntags;
    const char *skip;               /* reason, or NULL */
    const struct ct_node *vars;     /* mapping name -> template value, or NULL */
    const struct ct_node *var_files;/* array of path strings, or NULL */
    const struct ct_node *default_auth;    /* template string, or NULL */
    const struct ct_node *default_headers; /* mapping, or NULL */
    uint32_t timeout_ms;            /* per request; 0: runner's default */
    struct ct_scen_block setup, steps, teardown;
    const struct ct_node *root;
    const struct ct_source *src;
    bool broken; /* the parser reported errors: the model is partial, fit for ct_scen_check
                    (to report more problems in one go) but never for running */
};

/* --- parsing and checking ----------------------------------------------------------------- */

/** Build the model from a parsed document, reporting every problem in `diags` (CT_E_SCENARIO,
 * located). Returns NULL only when the document is not a mapping; when it breaks the format in
 * other ways the model has `broken` set. The model lives in `a` and borrows `root` (see the
 * file comment). */
struct ct_scen *ct_scen_parse(struct ct_arena *a, const struct ct_node *root,
                              struct ct_diags *diags);

/** Parse YAML/JSON text and build the model; nodes and model both live in `a`. `src` is
 * borrowed and must outlive the model. NULL when the text does not parse or is not a mapping. */
struct ct_scen *ct_scen_parse_text(struct ct_arena *a, const struct ct_source *src,
                                   struct ct_diags *diags);

/** Checks a regular expression for ct_scen_check; returns true when it compiles, else sets
 * *msg (caller owns: ct_free) and *offset (byte offset of the problem). */
typedef bool (*ct_regex_check_fn)(void *ud, const char *re, size_t len, char **msg,
                                  size_t *offset);

struct ct_router;

struct ct_scen_env {
    const struct ct_oas *oas;        /* may be NULL: operationIds are not checked */
    const struct ct_router *router;  /* may be NULL: method + path steps are not matched */
    const char *const *channels;     /* AsyncAPI channel ids, or NULL: not checked */
    size_t nchannels;
    const char *const *extra_vars;   /* names defined outside the file (var files, --var) */
    size_t nextra;
    ct_regex_check_fn regex_check;   /* may be NULL: patterns are not checked */
    void *ud;
};

/** Check a parsed scenario against its environment: operationIds and parameter names (with
 * did-you-mean), body kinds the operation accepts, required parameters, variables used before
 * they are defined (with did-you-mean), regular expressions. Returns the number of errors
 * added. */
size_t ct_scen_check(const struct ct_scen *s, const struct ct_scen_env *env,
                     struct ct_diags *diags);

/** True when any of the scenario's, a group's or a step's tags equals `tag`. */
bool ct_scen_has_tag(const struct ct_scen *s, const char *tag);

/* --- templates: "${name}", "${name.path[0]}", "${env.HOME:-/root}", "$${" for "${" -------- */

struct ct_tpl_part {
    bool var;        /* a ${...} reference (ptr/len: the text inside the braces) */
    const char *ptr; /* literal text or the expression */
    size_t len;
    size_t off;      /* byte offset of the part in the template */
};

/** Next part of a template starting at *pos; returns 1 with *part filled, 0 at the end, -1 on
 * an unterminated or empty `${` (part->off is where it starts). `$${` yields a literal "${". */
int ct_tpl_next(const char *s, size_t len, size_t *pos, struct ct_tpl_part *part);

/** True when the string contains any ${...} reference. */
bool ct_tpl_has_vars(const char *s, size_t len);

enum ct_var_ns { CT_VAR_USER, CT_VAR_ENV, CT_VAR_RUN };

/** A parsed reference: `name` then an optional path into its value. */
struct ct_var_ref {
    enum ct_var_ns ns;
    const char *name; /* USER: the variable; ENV: the environment name; RUN: id, uuid, ... */
    size_t namelen;
    const char *path; /* the rest as written (".a[0]"), converted by ct_scen_path_parse */
    size_t pathlen;
    bool has_default; /* ENV only: `:-default` */
    const char *def;
    size_t deflen;
};

/** Parse the text inside ${...}. Returns false with *err (a static message) when it is not a
 * valid reference. */
bool ct_var_ref_parse(const char *expr, size_t len, struct ct_var_ref *out, const char **err);

/** Names of the `run.` namespace, NULL-terminated. */
extern const char *const ct_scen_run_vars[];

/* --- paths: JSON Pointer ("/data/items/0") or the dotted form (".data.items[0]") -------------- */

/** Convert a path to a JSON Pointer appended to `out` ("" for the whole value; negative array
 * indexes stay as "-1" tokens, counted from the end). Returns true, or false with *err (static
 * message) and *err_off (byte offset). */
bool ct_scen_path_parse(const char *s, size_t len, struct ct_buf *out, const char **err,
                        size_t *err_off);

/** Name of a matcher ("min_length"). Static string. */
const char *ct_match_op_name(enum ct_match_op op);
