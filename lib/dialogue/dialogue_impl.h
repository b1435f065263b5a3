/* dialogue_impl.h - the compiled form of dialogue scripts, shared by the loader (load.c), the
 * template language (template.c) and the engine (engine.c). Not a public API.
 *
 * Everything here lives in the set's arena and borrows the scripts' nodes (owned by the docset the
 * set was loaded from); compiled regular expressions are listed in the set and freed with it. */
#pragma once

#include "dialogue.h"

#include "core/arena.h"
#include "core/buf.h"
#include "schema/schema_impl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Format problems. The code table has no dialogue entry yet; scripts are scenarios of the mock,
 * and CT_E_SCENARIO ("invalid scenario") is the closest. One line to change. */
#define CT__E_DIALOGUE CT_E_SCENARIO

extern const char ct__dialogue_schema_text[];

/* --- templates -------------------------------------------------------------------------------- */

/* Roots of template expressions: {{message.data.messageId}} has root R_MESSAGE. */
enum dlg_root {
    R_MESSAGE,
    R_REQUEST,
    R_TEXT,
    R_LANG,
    R_SESSION,
    R_CONN,
    R_QUERY,
    R_STATE,
    R_NOW,
    R_NOW_S,
    R_NOW_ISO,
    R_TURN,
    R_CHUNK,
    R_STREAM,
    R_ID,
    R_UUID,
    R_INVALID,
    R_LET,
    R_LITERAL, /* {{'text'}}, {{3}}: a constant */
};

enum dlg_filter { F_DEFAULT, F_TRUNCATE, F_JSON, F_LEN, F_PLUS, F_UPPER, F_LOWER };

struct dlg_seg {
    const char *key; /* NULL for an index */
    uint32_t len;
    long idx; /* negative counts from the end */
};

struct dlg_expr;

struct dlg_filter_call {
    enum dlg_filter f;
    struct dlg_expr *arg;       /* an expression argument, or NULL */
    const struct ct_node *lit;  /* a literal argument ('text', 3, true), or NULL */
};

struct dlg_expr {
    enum dlg_root root;
    uint32_t index; /* R_LET: which binding; R_STATE: which variable */
    struct dlg_seg *segs;
    uint32_t nsegs;
    bool optional; /* `?`: undefined drops the member or item instead of being an error */
    struct dlg_filter_call *filters;
    uint32_t nfilters;
    const struct ct_node *lit; /* R_LITERAL */
    const char *text; /* as written, for messages */
    const struct ct_node *at; /* the string holding it, and the byte offset there */
    size_t off;
};

enum dlg_tv_kind { TV_LIT, TV_STR, TV_EXPR, TV_OBJ, TV_ARR };

struct dlg_tv;

struct dlg_part {
    const char *lit; /* literal text, or NULL when e is set */
    uint32_t len;
    struct dlg_expr *e;
};

struct dlg_member {
    const struct ct_node *key;
    struct dlg_tv *val;
};

/** A compiled template value. */
struct dlg_tv {
    uint8_t kind;
    bool has_expr; /* somewhere below */
    const struct ct_node *node; /* the source (for TV_LIT: the value itself) */
    struct dlg_part *parts;     /* TV_STR */
    uint32_t nparts;
    struct dlg_expr *e;         /* TV_EXPR: a string that is one {{expression}} (typed result) */
    struct dlg_member *members; /* TV_OBJ */
    struct dlg_tv **items;      /* TV_ARR */
    uint32_t n;
};

/* --- scripts ---------------------------------------------------------------------------------- */

enum dlg_event { EV_MESSAGE, EV_OPEN, EV_INVALID, EV_SSE, EV_UPGRADE };

enum dlg_mop { M_EQUALS, M_NOT_EQUALS, M_ONE_OF, M_MATCHES, M_EXISTS, M_GT, M_GTE, M_LT, M_LTE };

struct dlg_matcher {
    enum dlg_mop op;
    const struct ct_node *arg;
    struct ct_regex *re; /* M_MATCHES */
};

enum dlg_csrc { C_FIELD, C_STATE, C_VAR };

/** One condition of `when`: a value and the matchers it must pass. */
struct dlg_cond {
    enum dlg_csrc src;
    struct dlg_seg *segs; /* C_FIELD: path into the frame or body */
    uint32_t nsegs;
    struct dlg_expr *e;   /* C_STATE, C_VAR */
    struct dlg_matcher *m;
    uint32_t nm;
};

struct dlg_strs {
    const char **v;
    uint32_t n;
};

enum dlg_akind { A_SEND, A_RAW, A_STREAM, A_WAIT, A_CLOSE, A_DROP, A_PACE, A_DONE };

struct dlg_stream {
    struct dlg_tv *text;
    uint32_t chunks, chunk_size; /* one of them is set */
    uint32_t every_ms, think_ms;
    bool has_think;
    double cps;
    struct dlg_tv *frame, *last_frame, *then; /* frame is required on WebSocket rules */
    bool final_empty;
    struct dlg_tv *typing_start, *typing_stop; /* NULL without typing */
    long cut_after; /* -1: the whole stream */
};

struct dlg_action {
    enum dlg_akind kind;
    uint32_t after_ms;
    bool invalid;           /* a deliberate contract violation */
    struct dlg_tv *value;   /* SEND: the frame; RAW: the text */
    struct dlg_tv *event, *id; /* SSE fields, may be NULL */
    struct dlg_stream *stream;
    uint32_t wait_ms;
    uint16_t close_code;
    const char *close_reason;
    double pace;
    const char *done_text;
    const struct ct_node *at;
};

struct dlg_let {
    const char *name;
    struct dlg_tv *v;
};

struct dlg_set_var {
    uint32_t var; /* index into the set's state names */
    struct dlg_tv *v;
};

struct dlg_script;

struct dlg_rule {
    const char *name; /* "dialogue/rule" */
    enum dlg_event on;
    const char *operation; /* EV_SSE */
    bool fallback;
    bool turn; /* has delays: queues behind the previous turn */
    struct dlg_strs types, agents, modes;
    unsigned langs;        /* bits: 1 zh, 2 en; 0 any */
    struct ct_regex *text; /* may be NULL */
    struct dlg_cond *conds;
    uint32_t nconds;
    struct dlg_let *lets;
    uint32_t nlets;
    struct dlg_action *acts;
    uint32_t nacts;
    struct dlg_set_var *sets;
    uint32_t nsets;
    int refuse;
    const struct dlg_script *script;
    const struct dlg_sse_op *sse; /* EV_SSE with a contract: the operation's stream */
    size_t seq;                   /* file order, for sorting */
    const struct ct_node *node;
};

struct dlg_script {
    const char *name;
    const char *channel; /* as written, or NULL: every channel */
    const struct ct_asyncapi_channel *ch; /* resolved when the set has an AsyncAPI document */
    int priority;
    size_t order;
    struct dlg_seg *text_at; /* NULL: the default for the event */
    uint32_t ntext_at;
    bool has_text_at;
    const struct ct_node *root;
};

struct dlg_frame {
    const char *name;
    const struct ct_node *node;
    struct dlg_tv *tv; /* NULL until compiled */
    int state;         /* 0 not compiled, 1 compiling ($use loop check), 2 done */
};

/** An SSE operation of the OpenAPI document that scripts answer. */
struct dlg_sse_op {
    const char *operation;
    const char *done;                 /* `x-sse-done`, or NULL */
    const struct ct_schema *data;     /* compiled `x-sse-data-schema`, or NULL */
};

struct ct_dialogue_set {
    struct ct_arena arena;
    struct dlg_script *scripts;
    size_t nscripts;
    struct dlg_rule **rules; /* in the order they are tried */
    size_t nrules;
    struct dlg_frame *frames;
    size_t nframes;
    const char **state_names; /* every per-connection variable of every script */
    const struct ct_node **state_init; /* initial value (a literal), or NULL */
    size_t nstate;
    struct dlg_sse_op **sse_ops; /* each in the arena (rules point at them) */
    size_t nsse_ops;
    struct ct_regex **regexes; /* to free */
    size_t nregexes, capregexes;
    struct ct_schema_set *sse_schemas; /* over the OpenAPI docset, or NULL */
    const struct ct_asyncapi *api;
    const struct ct_oas *oas;
};

/* --- template.c ------------------------------------------------------------------------------- */

/** Names a template may use besides the built-in roots: the rule's `let` bindings and the set's
 * state variables. */
struct dlg_scope {
    const char *const *lets;
    size_t nlets;
    const char *const *state;
    size_t nstate;
};

/** Compile `n` (a script value) into a template. Problems are reported to diags (located inside
 * strings); returns NULL after an error. */
struct dlg_tv *ct__dlg_compile(struct ct_arena *a, const struct ct_node *n,
                               const struct dlg_scope *scope, struct ct_diags *diags);

/** Compile a whole string node as one expression (no braces): `when.vars` keys. */
struct dlg_expr *ct__dlg_expr_compile(struct ct_arena *a, const struct ct_node *n,
                                      const struct dlg_scope *scope, struct ct_diags *diags);
/** True for the names of the built-in template roots (message, now, ...). */
bool ct__dlg_is_root_name(const char *name);

/** Parse a path (JSON Pointer, or dotted with [n] indices; negative indices count from the end).
 * Returns false with *err (static) and *off set. */
bool ct__dlg_path_parse(struct ct_arena *a, const char *s, size_t len, struct dlg_seg **segs,
                        uint32_t *nsegs, const char **err, size_t *off);

/** Follow segments from `n`; NULL when a step is missing. */
const struct ct_node *ct__dlg_path_get(const struct ct_node *n, const struct dlg_seg *segs,
                                       uint32_t nsegs);

/** A diagnostic at byte `off` inside string node `n` (the column counts characters). */
struct ct_diag *ct__dlg_err_in(struct ct_diags *diags, const struct ct_node *n, size_t off,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/** A connection (engine.c). Fields are the engine's; template.c reads them through dlg_rctx. */
/* Scratch space of engine calls: the connection's own, or one shared by the connections a thread
 * serves (ct_dialogue_work_new). Everything in it is valid until the next call that uses it. */
struct ct_dialogue_work {
    struct ct_arena scratch;    /* rendered texts, parsed frames, computed values */
    struct ct_dlg_action *acts; /* the call's actions (the connection counts them) */
    size_t capacts;
    struct ct_buf frame, text;  /* rendering: a frame's JSON, a string template's text */
    struct ct_vctx *vc;
    void *md;                   /* regex match data */
};

struct ct_dialogue_conn {
    const struct ct_dialogue_set *set;
    const struct ct_asyncapi_channel *ch; /* resolved channel, or NULL */
    char *channel, *sub, *email, *role, *session; /* owned copies, may be NULL (not session) */
    struct ct_arena keep;         /* lives as long as the connection: the query's nodes */
    struct ct_source query_src;
    const struct ct_node *query;  /* object, or NULL */
    uint64_t rng;
    int64_t opened;
    char **state;        /* per variable: its JSON text (owned), NULL while undefined */
    struct ct_dialogue_work *w; /* scratch of the calls: own (own_work) or shared, borrowed */
    bool own_work;
    size_t nacts;               /* actions of the last call, in w->acts */
    struct ct_diags diags;
    uint64_t turn;           /* user frames received */
    uint32_t invalid_streak; /* invalid frames in a row */
    int64_t busy_until;      /* when the last queued turn's last action is due */
    int64_t turn_ends[16];   /* ends of queued turns, for conn.waiting */
    size_t nturn_ends;
    double pace;
    bool closed;
    const struct dlg_rule *last_rule;
};

/** The evaluation context of one event (engine.c fills it). */
struct dlg_rctx {
    struct ct_arena *a;
    struct ct_dialogue_conn *conn;
    const struct dlg_rule *rule;
    const struct ct_node *message; /* EV_MESSAGE, EV_INVALID (NULL when it was not JSON) */
    const struct ct_node *request; /* EV_SSE */
    const struct ct_node *text;    /* the text at text_at, or NULL */
    const char *lang;              /* "zh" or "en", or NULL without text */
    const struct ct_node **lets;   /* evaluated `let` values */
    int64_t now;                   /* time of the action being rendered */
    int64_t start;                 /* time of the event */
    const char *turn_id;
    bool in_chunk;
    uint32_t chunk_index, chunk_count;
    bool chunk_final;
    const char *delta;
    size_t delta_len;
    bool in_stream;
    const char *stream_text;
    size_t stream_len;
    uint32_t stream_chunks;
    const char *invalid_reason, *invalid_message;
};

/** A state variable's current value, parsed into `a`; NULL while undefined. */
const struct ct_node *ct__dlg_state_get(struct ct_dialogue_conn *c, uint32_t var,
                                        struct ct_arena *a);
/** Next random number of the connection. */
uint64_t ct__dlg_rand(struct ct_dialogue_conn *c);
/** conn.waiting at `now`: queued turns not yet finished. */
unsigned ct__dlg_waiting(const struct ct_dialogue_conn *c, int64_t now);

/** Evaluate an expression; NULL when undefined. The result is borrowed (from the event's nodes or
 * the context's arena). */
const struct ct_node *ct__dlg_eval(struct dlg_rctx *r, const struct dlg_expr *e);
/** Render a template as JSON text into `out`. */
void ct__dlg_render_json(struct dlg_rctx *r, const struct dlg_tv *tv, struct ct_buf *out);
/** Render a template as plain text (strings unquoted, other values as JSON). */
void ct__dlg_render_text(struct dlg_rctx *r, const struct dlg_tv *tv, struct ct_buf *out);
/** Render a JSON template into nodes of the context's arena (literal parts are the script's own
 * nodes, shared): ct_json_emit of the result is exactly what ct__dlg_render_json writes, with
 * the same values evaluated in the same order and the same diagnostics. *dup_key is set when an
 * object got a key twice (the text would not parse). Borrowed from the arena and the script. */
const struct ct_node *ct__dlg_render_node(struct dlg_rctx *r, const struct dlg_tv *tv,
                                          bool *dup_key);

/** New nodes in an arena (for computed values). */
struct ct_node *ct__dlg_str(struct ct_arena *a, const char *s, size_t len);
struct ct_node *ct__dlg_int(struct ct_arena *a, int64_t v);
struct ct_node *ct__dlg_num(struct ct_arena *a, double v);
struct ct_node *ct__dlg_bool(struct ct_arena *a, bool v);

/** ct_did_you_mean, plus one swap of adjacent letters ("wehn" for "when"), which edit distance
 * counts as two edits and so misses in short words. NULL when nothing is close. */
const char *ct__dlg_suggest(const char *word, const char *const *cand, size_t n);

/** Code points in UTF-8 text. */
size_t ct__dlg_cp_count(const char *s, size_t len);
/** Byte offset of code point `cp` (clamped to len). */
size_t ct__dlg_cp_offset(const char *s, size_t len, size_t cp);
