/* asyncapi.h - the AsyncAPI 3.0 model: what mockd needs to serve and check WebSocket channels.
 *
 * Built once from a document loaded into a docset (ct_asyncapi_build) and immutable afterwards:
 * shared by mockd's threads without locks. It models the channels (id, address, messages and the
 * direction each travels in, derived from the `operations`), each message's payload schema
 * (compiled with the project's validator), the channel's `x-close-codes`, its WebSocket query
 * binding and the query parameter that carries the access token. Everything else in the document
 * stays reachable through each struct's `node`.
 *
 * Directions are the server's, as AsyncAPI 3 writes them: an operation with `action: receive`
 * lists frames the client sends (the server receives), `action: send` frames the server sends;
 * a `reply` travels the other way. A channel message that no operation mentions may travel both
 * ways.
 *
 * Ownership: the model, its arrays and strings live in the docset's arena and borrow its nodes,
 * so the docset must outlive the model; the compiled schemas are owned by the model and freed by
 * ct_asyncapi_free(). */
#pragma once

#include "core/diag.h"
#include "json/node.h"
#include "openapi/docset.h"
#include "schema/schema.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Which way a message travels, seen from the server (bits: a message may travel both ways). */
enum ct_aa_dir {
    CT_AA_RECEIVE = 1 << 0, /* client to server */
    CT_AA_SEND = 1 << 1,    /* server to client */
};

struct ct_asyncapi_message {
    const char *key;        /* the channel's key for it: "userMessage" */
    const char *name;       /* the Message Object's `name` ("user_message"), else key */
    const char *type_const; /* the string `const` of the channel's dispatch property in the
                               payload ("user_message"), or NULL */
    unsigned dirs;          /* CT_AA_* bits */
    const struct ct_node *payload;  /* the schema (a Multi Format Schema is unwrapped); may be
                                       NULL: any payload */
    const struct ct_schema *schema; /* compiled payload; NULL when payload is NULL */
    const char *correlation_ptr;    /* JSON Pointer from `correlationId.location`
                                       ("$message.payload#/data/replyTo" gives "/data/replyTo"),
                                       or NULL */
    const struct ct_node *examples; /* `examples` array, or NULL */
    const struct ct_node *node;     /* the Message Object (after $ref) */
};

/** One entry of `x-close-codes`. */
struct ct_asyncapi_close {
    uint16_t code;
    const char *name; /* "auth_failed" */
    const char *when; /* may be NULL */
    bool reconnect;
    const struct ct_node *node;
};

struct ct_asyncapi_channel {
    const char *id;      /* the key under `channels`: "chat" */
    const char *address; /* "/api/v1/ws/chat"; NULL when the document leaves it open */
    struct ct_asyncapi_message *messages;
    unsigned nmessages;
    const char *dispatch; /* the payload property whose `const` names each message ("type"):
                             every message with a payload has one, all different; or NULL */
    struct ct_asyncapi_close *closes; /* `x-close-codes`, in document order */
    unsigned ncloses;
    const struct ct_node *query;        /* `bindings.ws.query` schema, or NULL */
    const struct ct_schema *query_schema; /* compiled `query`, or NULL */
    const char *token_param; /* the query parameter holding the access token (from an
                                `httpApiKey` scheme `in: query` of the servers), or NULL */
    const struct ct_node *node;
};

struct ct_asyncapi {
    const char *version; /* the `asyncapi` string: "3.0.0" */
    const char *title;
    struct ct_asyncapi_channel *channels;
    unsigned nchannels;
    const struct ct_node *root;
    struct ct_docset *docset; /* borrowed */
    struct ct_asyncapi_impl *impl; /* private: the compiled schema sets */
};

/** Options for building; NULL means the defaults below. */
struct ct_asyncapi_opts {
    /* Dialect of payloads without a `schemaFormat` (AsyncAPI's default format is a superset of
     * draft 7, but documents are written, and checked, as 2020-12). 0 = CT_DIALECT_2020_12. */
    enum ct_dialect dialect;
    bool format_assert_off; /* `format` annotates instead of asserting (default: asserts) */
};

/** Build the model from a loaded root (see ct_docset_load). Returns NULL when the document is
 * not AsyncAPI 3.x or has problems, every one of them reported to `diags` (CT_E_SPEC,
 * CT_E_VERSION, CT_E_REF, CT_E_SCHEMA, located). Caller owns: ct_asyncapi_free(); `ds` is
 * borrowed and must outlive the model. */
struct ct_asyncapi *ct_asyncapi_build(struct ct_docset *ds, const struct ct_node *root,
                                      const struct ct_asyncapi_opts *opts,
                                      struct ct_diags *diags);

/** Load `path` into `ds`, check its references and build the model. NULL on any problem (with
 * diagnostics whose sources `ds` owns: render them before freeing it). Caller owns. */
struct ct_asyncapi *ct_asyncapi_load(struct ct_docset *ds, const char *path,
                                     const struct ct_asyncapi_opts *opts,
                                     struct ct_diags *diags);

void ct_asyncapi_free(struct ct_asyncapi *api);

/** The channel whose id or address is `s` (len bytes), or NULL. Addresses with `{param}`
 * segments match any non-empty segment. Borrowed from the model. */
const struct ct_asyncapi_channel *ct_asyncapi_channel(const struct ct_asyncapi *api,
                                                      const char *s, size_t len);

/** The message of `ch` travelling in direction `dir` (CT_AA_RECEIVE or CT_AA_SEND) whose
 * `type_const` or name is `name`, or NULL. */
const struct ct_asyncapi_message *
ct_asyncapi_message(const struct ct_asyncapi_channel *ch, unsigned dir, const char *name);

/** The close code named `name` in `x-close-codes` ("auth_failed" -> 4001), or -1. */
int ct_asyncapi_close_code(const struct ct_asyncapi_channel *ch, const char *name);

/** Which message `frame` claims to be, by the channel's dispatch property, among the messages
 * travelling in `dir`; NULL when the frame has no such property or names no message of `dir`.
 * Does not validate. */
const struct ct_asyncapi_message *ct_asyncapi_identify(const struct ct_asyncapi_channel *ch,
                                                       unsigned dir,
                                                       const struct ct_node *frame);

/** Say which message `frame` (borrowed) is and check it against that message's payload schema.
 * Returns the message when the frame is valid. Otherwise returns NULL and adds diagnostics:
 * every schema violation of the identified message (CT_E_INVALID, located at the schema keyword,
 * instance_ptr naming the JSON Pointer in the frame, the message saying what was expected and
 * found), or one CT_E_CONTRACT diagnostic located at the frame when it names no message of
 * `dir` (with a did-you-mean, or "travels the other way"). When the channel has no dispatch
 * property, the first message whose schema accepts the frame wins and a frame that matches none
 * reports the errors of each candidate. `vc` may be NULL; one context per thread. */
const struct ct_asyncapi_message *ct_asyncapi_match(const struct ct_asyncapi *api,
                                                    const struct ct_asyncapi_channel *ch,
                                                    unsigned dir, const struct ct_node *frame,
                                                    struct ct_vctx *vc, struct ct_diags *diags);

/** Check a frame against one known message (the fast path when the caller already knows it).
 * Same diagnostics as ct_asyncapi_match; true when valid. */
bool ct_asyncapi_validate(const struct ct_asyncapi_message *m, struct ct_vctx *vc,
                          const struct ct_node *frame, struct ct_diags *diags);
