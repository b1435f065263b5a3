/* dialogue.h - scripted conversations for mockd's WebSocket channels and SSE answers.
 *
 * A dialogue script (a YAML file under specs/dialogues/, format in docs/dialogues.md) says how the mock
 * answers: which client frames it reacts to, with which frames, at what pace, with which faults.
 * This module loads scripts into an immutable set (checking them against the format's own JSON
 * Schema and then semantically, with file:line:col diagnostics) and runs them with a pure engine:
 * no sockets, threads, clocks or sleeping. The transport tells the engine what happened (the
 * connection opened, a frame arrived, an SSE request came) and the time; the engine answers with
 * timed actions (send this text after N ms, close with this code, drop the connection), which the
 * transport schedules.
 *
 * Built into the engine (docs/dialogues.md, "What the engine does by itself"):
 *  - frames are told apart and validated with the AsyncAPI document when the set has one: a frame
 *    that fails becomes an `invalid` event (reason json, unknown_type or schema) for the scripts'
 *    `on: invalid` rules;
 *  - a frame the engine produces that breaks the contract is withheld (never sent) and reported
 *    through ct_dialogue_conn_diags(), unless its action is marked `invalid: true`;
 *  - turns queue: a rule with delays starts when the previous one's last action is due, while
 *    rules without delays (pong) answer at once;
 *  - counters per connection: conn.turn, conn.invalid_streak, conn.waiting.
 * Nothing else is: pong, welcome frames and error frames come from the scripts.
 *
 * Threads: a set is immutable after load and shared by any number of threads; a connection
 * (struct ct_dialogue_conn) is used by one thread at a time. */
#pragma once

#include "asyncapi/asyncapi.h"
#include "core/diag.h"
#include "json/node.h"
#include "openapi/docset.h"
#include "openapi/model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ct_dialogue_set;
struct ct_dialogue_conn;

/* --- loading ---------------------------------------------------------------------------------- */

/** The contracts scripts are checked against; both may be NULL (then frames, close code names,
 * message types and operations are not checked, and nothing is validated at run time). Borrowed:
 * both must outlive the set. */
struct ct_dialogue_env {
    const struct ct_asyncapi *api;
    const struct ct_oas *oas;
};

/** Load the scripts at `paths` (n of them, read through `ds` once each) into a set. Every problem
 * of every file is reported to `diags` (CT_E_SCENARIO for the format, CT_E_SYNTAX and friends
 * from the loader, located); any error gives NULL. `ds` is borrowed and must outlive the set:
 * the set keeps pointers into the scripts' nodes, and the diagnostics point into its sources.
 * `env` may be NULL. Caller owns the result: ct_dialogue_set_free(). Paths are used in the given
 * order (it breaks ties between rules of equal priority), so list directories sorted. */
struct ct_dialogue_set *ct_dialogue_set_load(struct ct_docset *ds, const char *const *paths,
                                             size_t n, const struct ct_dialogue_env *env,
                                             struct ct_diags *diags);

/** Same, from documents already loaded into `ds` (ct_docset_load_text for scripts held in
 * memory). `roots` are borrowed from `ds`. */
struct ct_dialogue_set *ct_dialogue_set_build(struct ct_docset *ds,
                                              const struct ct_node *const *roots, size_t n,
                                              const struct ct_dialogue_env *env,
                                              struct ct_diags *diags);

void ct_dialogue_set_free(struct ct_dialogue_set *s);

struct ct_dialogue_stats {
    size_t scripts, rules, frames;
    size_t sse_rules, upgrade_rules;
};
void ct_dialogue_set_stats(const struct ct_dialogue_set *s, struct ct_dialogue_stats *st);

/** Rule i (0 <= i < stats.rules) as "dialogue/rule", in the order they are tried. Static for the
 * set's lifetime. */
const char *ct_dialogue_rule_name(const struct ct_dialogue_set *s, size_t i);

/** True when some `on: sse` rule answers `operation_id` (else the transport answers from the
 * operation's examples, see ct_dialogue_sse_example). */
bool ct_dialogue_has_sse(const struct ct_dialogue_set *s, const char *operation_id);

/** The JSON Schema of the format, as YAML text (lib/dialogue/dialogue.schema.yaml). Static. */
const char *ct_dialogue_schema_text(void);

/* --- connections ------------------------------------------------------------------------------ */

/** Scratch space for engine calls (rendered frames, parsed nodes, validation state), shared by
 * the connections one thread serves. Without one a connection has its own, kept between calls
 * (ct_dialogue_conn_trim gives it back). With one, a connection holds no scratch memory between
 * calls, calls reuse its memory instead of allocating, and a call's results (actions, their
 * texts) are valid only until the next call on any connection sharing it. Used by one thread at
 * a time. Caller owns: ct_dialogue_work_free(), after the connections using it. */
struct ct_dialogue_work;
struct ct_dialogue_work *ct_dialogue_work_new(void);
void ct_dialogue_work_free(struct ct_dialogue_work *w);

/** What the engine knows about a connection (or an SSE request). Copied by ct_dialogue_conn_new:
 * nothing in it needs to outlive the call but `work`. */
struct ct_dialogue_ctx {
    const char *channel;         /* the path connected to (or a channel id); NULL for SSE */
    const struct ct_node *query; /* object of query parameters (string values), may be NULL */
    const char *sub, *email, *role; /* the token's claims, may be NULL */
    const char *session_id; /* the session to report; NULL: one is made ("sess_" + 10 hex) */
    uint64_t seed;          /* random ids are drawn from it: same seed, same ids */
    int64_t now_ms;         /* milliseconds since the Unix epoch, when it connected */
    struct ct_dialogue_work *work; /* NULL, or a work area to share (borrowed: it must outlive
                                      the connection) */
};

enum ct_dlg_kind {
    CT_DLG_SEND,  /* send `text` (a WebSocket text frame, or one SSE record) */
    CT_DLG_CLOSE, /* WebSocket: close with close_code and close_reason */
    CT_DLG_DROP,  /* drop the connection: no close frame, no end of the SSE stream */
};

/** One timed action. All pointers borrow from the connection: valid until the next call on it
 * (or ct_dialogue_conn_free). */
struct ct_dlg_action {
    enum ct_dlg_kind kind;
    uint32_t delay_ms;  /* after the previous action of the same call (after the call itself for
                           the first one) */
    const char *text;   /* SEND: the frame's JSON text, or SSE data; NUL-terminated. SSE data may
                           hold newlines: write one `data:` line per line */
    size_t len;
    const char *event;  /* SSE `event:` field, or NULL */
    const char *id;     /* SSE `id:` field, or NULL */
    uint16_t close_code;       /* CLOSE */
    const char *close_reason;  /* CLOSE: "" when the script gives none */
    bool invalid_on_purpose;   /* SEND: the script asked for a contract violation (`invalid`) */
    bool done;                 /* SSE: the terminating record (`x-sse-done`, e.g. [DONE]) */
};

/** A connection's engine state. Caller owns: ct_dialogue_conn_free(). `s` is borrowed and must
 * outlive it. */
struct ct_dialogue_conn *ct_dialogue_conn_new(const struct ct_dialogue_set *s,
                                              const struct ct_dialogue_ctx *ctx);
void ct_dialogue_conn_free(struct ct_dialogue_conn *c);

/** Upgrade decision for a WebSocket channel: 0 to accept, else the HTTP status to refuse with
 * (an `on: upgrade` rule, a fault on demand). When `rule` is not NULL it is set to the refusing
 * rule's name ("dialogue/rule", static for the set's lifetime) or NULL. */
int ct_dialogue_upgrade_status(const struct ct_dialogue_set *s, const struct ct_dialogue_ctx *ctx,
                               const char **rule);

/* Events. Each returns the number of actions and sets *out to them (borrowed: valid until the
 * next call on `c`); 0 when no rule answers or the connection was closed by an earlier action.
 * `now_ms` is the time of the event (milliseconds since the epoch): templates' {{now}} count from
 * it, and turns queue after the previous turn. */

/** The connection opened (after the upgrade): typically a `system` welcome frame. */
size_t ct_dialogue_on_open(struct ct_dialogue_conn *c, int64_t now_ms,
                           const struct ct_dlg_action **out);

/** A text frame arrived. It is parsed here (JSON), told apart and validated; a frame that is not
 * JSON or breaks the contract goes to the `on: invalid` rules. */
size_t ct_dialogue_on_text(struct ct_dialogue_conn *c, const char *text, size_t len,
                           int64_t now_ms, const struct ct_dlg_action **out);

/** A frame arrived, already parsed (`msg` borrowed for the call). */
size_t ct_dialogue_on_message(struct ct_dialogue_conn *c, const struct ct_node *msg,
                              int64_t now_ms, const struct ct_dlg_action **out);

/** An SSE request for `operation_id` with its JSON body (may be NULL): the records to send. 0
 * when no script answers (see ct_dialogue_has_sse). */
size_t ct_dialogue_sse(struct ct_dialogue_conn *c, const char *operation_id,
                       const struct ct_node *request_body, int64_t now_ms,
                       const struct ct_dlg_action **out);

/** Without a script: the records of an SSE example (the text of a `text/event-stream` example:
 * `data:`, `event:` and `id:` fields, records separated by blank lines, `:` comments skipped), one
 * action each, `every_ms` apart; a record whose data equals `done` (may be NULL) is marked done. */
size_t ct_dialogue_sse_example(struct ct_dialogue_conn *c, const char *text, size_t len,
                               uint32_t every_ms, const char *done,
                               const struct ct_dlg_action **out);

/** Release the memory of the last call's results (its actions become invalid): for transports
 * that copied the actions, so that an idle connection costs little. A shared work area is kept
 * (its owner frees it). */
void ct_dialogue_conn_trim(struct ct_dialogue_conn *c);

/** Problems of the last call (frames withheld because they broke the contract, template values
 * that were undefined): for the transport's log. Borrowed: valid until the next call. */
const struct ct_diags *ct_dialogue_conn_diags(const struct ct_dialogue_conn *c);

/** The rule that answered the last call ("dialogue/rule"), or NULL. Static for the set's
 * lifetime. */
const char *ct_dialogue_conn_rule(const struct ct_dialogue_conn *c);

/** The session id reported to the client ({{session.id}}). Borrowed from the connection. */
const char *ct_dialogue_conn_session(const struct ct_dialogue_conn *c);
