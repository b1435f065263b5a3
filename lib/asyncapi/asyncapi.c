/* asyncapi.c - building the AsyncAPI 3.0 model (asyncapi.h) and telling frames apart.
 *
 * What it checks, reporting every problem with file:line:col: the version (2.x and unknown
 * versions are refused), the fields of the objects it models (unknown non-`x-` fields are errors
 * with a did-you-mean hint), operations naming a channel of the document and messages of that
 * channel, `x-close-codes` entries, and every payload schema (compiled here, so a broken schema
 * fails the load rather than the first frame). What it does not check: examples against their
 * schemas (the contract tests do), servers beyond the token parameter, traits (not applied). */
#include "asyncapi.h"

#include "core/alloc.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Problems in the document's structure. The code table has no AsyncAPI entry yet; CT_E_SPEC is
 * the document-level code ("invalid OpenAPI document" in docs/errors.md covers both). */
#define AA_E_DOC CT_E_SPEC

struct ct_asyncapi_impl {
    struct ct_schema_set *sets[CT_DIALECT_OAS31 + 1]; /* one per dialect, made on first use */
    struct ct_schema_opts base;
};

struct builder {
    struct ct_docset *ds;
    struct ct_arena *arena;
    struct ct_diags *diags;
    struct ct_asyncapi *api;
    size_t errors_at_start;
};

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

static struct ct_diag *err_at(struct builder *b, const struct ct_node *n, int code,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct ct_diag *err_at(struct builder *b, const struct ct_node *n, int code,
                              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct ct_diag *g = ct_diag_atv(b->diags, CT_SEV_ERROR, code, n, fmt, ap);
    va_end(ap);
    return g;
}

static bool is_ext(const struct ct_node *k)
{
    return k->len >= 2 && k->u.str[0] == 'x' && k->u.str[1] == '-';
}

/* Every key of `obj` must be in `allowed` or start with "x-". */
static void check_keys(struct builder *b, const struct ct_node *obj, const char *const *allowed,
                       size_t nallowed, const char *what)
{
    for (uint32_t i = 0; i < obj->len; i++) {
        const struct ct_node *k = obj->u.members[i].key;
        if (is_ext(k))
            continue;
        bool ok = false;
        for (size_t j = 0; j < nallowed && !ok; j++)
            ok = strcmp(k->u.str, allowed[j]) == 0;
        if (ok)
            continue;
        struct ct_diag *g = err_at(b, k, AA_E_DOC,
                                   "unknown field '%s' in %s: expected one of the %s fields or an "
                                   "'x-' extension",
                                   k->u.str, what, what);
        const char *best = ct_did_you_mean(k->u.str, allowed, nallowed);
        if (best)
            ct_diag_set_hint(g, "did you mean '%s'?", best);
    }
}

static const char *kind_name(enum ct_kind k)
{
    static const char *const names[] = {"null",     "a boolean", "a number",
                                        "a string", "an array",  "an object"};
    return names[k];
}

static const char *got_name(const struct ct_node *n)
{
    switch (n->kind) {
    case CT_NULL:
        return "null";
    case CT_BOOL:
        return "a boolean";
    case CT_NUMBER:
        return "a number";
    case CT_STRING:
        return "a string";
    case CT_ARRAY:
        return "an array";
    default:
        return "an object";
    }
}

/* The member `key` of `obj` when it has kind `kind`; reports a wrong kind, and a missing
 * member when `required`. */
static const struct ct_node *want(struct builder *b, const struct ct_node *obj, const char *key,
                                  enum ct_kind kind, bool required, const char *what)
{
    const struct ct_node *v = ct_obj_get(obj, key);
    if (!v) {
        if (required)
            err_at(b, obj, AA_E_DOC, "%s has no '%s': expected %s", what, key, kind_name(kind));
        return NULL;
    }
    if (v->kind != kind) {
        err_at(b, v, AA_E_DOC, "'%s' of %s: expected %s, got %s", key, what, kind_name(kind),
               got_name(v));
        return NULL;
    }
    return v;
}

/* Follow `$ref` (reported by the docset when broken); NULL for a broken reference. */
static const struct ct_node *deref(struct builder *b, const struct ct_node *n)
{
    return n ? ct_docset_deref(b->ds, n, b->diags) : NULL;
}

/* --- schemas ---------------------------------------------------------------------------------- */

static struct ct_schema_set *set_for(struct ct_asyncapi_impl *im, struct ct_docset *ds,
                                     enum ct_dialect d)
{
    if (!im->sets[d]) {
        struct ct_schema_opts o = im->base;
        o.dialect = d;
        im->sets[d] = ct_schema_set_new(ds, &o);
    }
    return im->sets[d];
}

/* The dialect a `schemaFormat` names; false (with a diagnostic) for formats we cannot check. */
static bool dialect_of_format(struct builder *b, const struct ct_node *fmt, enum ct_dialect dflt,
                              enum ct_dialect *out)
{
    const char *s = fmt->u.str;
    static const struct {
        const char *prefix;
        int dialect; /* -1: the default */
    } known[] = {
        {"application/vnd.aai.asyncapi", -1},
        {"application/schema+json;version=draft-04", CT_DIALECT_DRAFT4},
        {"application/schema+json;version=draft-06", CT_DIALECT_DRAFT6},
        {"application/schema+json;version=draft-07", CT_DIALECT_DRAFT7},
        {"application/schema+yaml;version=draft-07", CT_DIALECT_DRAFT7},
        {"application/schema+json;version=2019-09", CT_DIALECT_2019_09},
        {"application/schema+json;version=2020-12", CT_DIALECT_2020_12},
        {"application/vnd.oai.openapi;version=3.0", CT_DIALECT_OAS30},
        {"application/vnd.oai.openapi+json;version=3.0", CT_DIALECT_OAS30},
        {"application/vnd.oai.openapi+yaml;version=3.0", CT_DIALECT_OAS30},
        {"application/vnd.oai.openapi;version=3.1", CT_DIALECT_OAS31},
        {"application/vnd.oai.openapi+json;version=3.1", CT_DIALECT_OAS31},
        {"application/vnd.oai.openapi+yaml;version=3.1", CT_DIALECT_OAS31},
    };
    for (size_t i = 0; i < NKEYS(known); i++) {
        if (!strncmp(s, known[i].prefix, strlen(known[i].prefix))) {
            *out = known[i].dialect < 0 ? dflt : (enum ct_dialect)known[i].dialect;
            return true;
        }
    }
    struct ct_diag *g = err_at(b, fmt, AA_E_DOC,
                               "unsupported schemaFormat '%s': expected an AsyncAPI, JSON Schema "
                               "or OpenAPI schema format",
                               s);
    ct_diag_set_hint(g, "Avro, RAML and Protobuf payloads cannot be validated by mockd");
    return false;
}

static void build_payload(struct builder *b, struct ct_asyncapi_message *m,
                          const struct ct_node *payload)
{
    struct ct_asyncapi_impl *im = b->api->impl;
    enum ct_dialect d = im->base.dialect;
    const struct ct_node *schema = payload;
    /* A Multi Format Schema Object: {schemaFormat, schema}. */
    if (payload->kind == CT_OBJECT && ct_obj_get(payload, "schemaFormat") &&
        ct_obj_get(payload, "schema")) {
        const struct ct_node *fmt =
            want(b, payload, "schemaFormat", CT_STRING, true, "Multi Format Schema Object");
        if (!fmt || !dialect_of_format(b, fmt, im->base.dialect, &d))
            return;
        schema = ct_obj_get(payload, "schema");
    }
    m->payload = schema;
    m->schema = ct_schema_set_get(set_for(im, b->ds, d), schema, b->diags);
}

/* --- messages and channels -------------------------------------------------------------------- */

static const char *const message_keys[] = {
    "headers", "payload",  "correlationId", "contentType", "name",   "title",   "summary",
    "description", "tags", "externalDocs",  "bindings",    "examples", "traits",
};

static const char *const channel_keys[] = {"address", "messages",     "title",    "summary",
                                           "description", "servers",  "parameters", "tags",
                                           "externalDocs", "bindings"};

static void build_message(struct builder *b, struct ct_asyncapi_message *m, const char *key,
                          const struct ct_node *node)
{
    m->key = key;
    m->name = key;
    m->node = node;
    check_keys(b, node, message_keys, NKEYS(message_keys), "Message Object");
    const struct ct_node *name = want(b, node, "name", CT_STRING, false, "Message Object");
    if (name)
        m->name = name->u.str;
    m->examples = want(b, node, "examples", CT_ARRAY, false, "Message Object");
    const struct ct_node *corr = deref(b, ct_obj_get(node, "correlationId"));
    if (corr && corr->kind == CT_OBJECT) {
        const struct ct_node *loc = want(b, corr, "location", CT_STRING, true,
                                         "Correlation ID Object");
        static const char prefix[] = "$message.payload#";
        if (loc && !strncmp(loc->u.str, prefix, sizeof(prefix) - 1))
            m->correlation_ptr = loc->u.str + sizeof(prefix) - 1;
        else if (loc && strncmp(loc->u.str, "$message.header#", 16) != 0)
            err_at(b, loc, AA_E_DOC,
                   "correlationId location '%s': expected a runtime expression starting with "
                   "'$message.payload#' or '$message.header#'",
                   loc->u.str);
    }
    const struct ct_node *payload = ct_obj_get(node, "payload");
    if (payload)
        build_payload(b, m, payload);
}

static void build_closes(struct builder *b, struct ct_asyncapi_channel *ch,
                         const struct ct_node *list)
{
    if (list->kind != CT_ARRAY) {
        err_at(b, list, AA_E_DOC, "'x-close-codes' of channel '%s': expected an array, got %s",
               ch->id, got_name(list));
        return;
    }
    ch->closes = ct_arena_zalloc(b->arena, (list->len + 1) * sizeof(*ch->closes));
    for (uint32_t i = 0; i < list->len; i++) {
        const struct ct_node *e = list->u.items[i];
        if (e->kind != CT_OBJECT) {
            err_at(b, e, AA_E_DOC, "close code entry: expected an object {code, name}, got %s",
                   got_name(e));
            continue;
        }
        const struct ct_node *code = want(b, e, "code", CT_NUMBER, true, "close code entry");
        const struct ct_node *name = want(b, e, "name", CT_STRING, true, "close code entry");
        if (!code || !name)
            continue;
        if (!ct_num_is_integer(code) || code->num < 1000 || code->num > 4999) {
            err_at(b, code, AA_E_DOC,
                   "close code %.*s: expected an integer from 1000 to 4999", (int)code->len,
                   code->u.text);
            continue;
        }
        for (unsigned j = 0; j < ch->ncloses; j++)
            if (!strcmp(ch->closes[j].name, name->u.str))
                err_at(b, name, AA_E_DOC,
                       "close code name '%s' is used twice: expected unique names",
                       name->u.str);
        struct ct_asyncapi_close *c = &ch->closes[ch->ncloses++];
        c->code = (uint16_t)code->num;
        c->name = name->u.str;
        const struct ct_node *when = want(b, e, "when", CT_STRING, false, "close code entry");
        c->when = when ? when->u.str : NULL;
        c->reconnect = ct_obj_true(e, "reconnect");
        c->node = e;
    }
}

/* The dispatch property: a payload property that every message of the channel pins with a
 * distinct string `const`. "type" is preferred when several qualify. */
static const char *const_of(struct builder *b, const struct ct_asyncapi_message *m,
                            const char *prop)
{
    if (!m->payload)
        return NULL;
    const struct ct_node *pl = ct_docset_deref(b->ds, m->payload, NULL);
    const struct ct_node *props = pl ? ct_docset_deref(b->ds, ct_obj_get(pl, "properties"), NULL)
                                     : NULL;
    const struct ct_node *p = props ? ct_docset_deref(b->ds, ct_obj_get(props, prop), NULL)
                                    : NULL;
    const struct ct_node *c = p ? ct_obj_get(p, "const") : NULL;
    if (!c && p) {
        const struct ct_node *en = ct_obj_get(p, "enum");
        if (en && en->kind == CT_ARRAY && en->len == 1)
            c = en->u.items[0];
    }
    return c && c->kind == CT_STRING ? c->u.str : NULL;
}

static bool dispatch_works(struct builder *b, struct ct_asyncapi_channel *ch, const char *prop)
{
    unsigned with_payload = 0;
    for (unsigned i = 0; i < ch->nmessages; i++) {
        if (!ch->messages[i].payload)
            continue;
        with_payload++;
        const char *v = const_of(b, &ch->messages[i], prop);
        if (!v)
            return false;
        for (unsigned j = 0; j < i; j++) {
            const char *w = ch->messages[j].payload ? const_of(b, &ch->messages[j], prop) : NULL;
            if (w && !strcmp(v, w))
                return false;
        }
    }
    return with_payload > 0;
}

static void find_dispatch(struct builder *b, struct ct_asyncapi_channel *ch)
{
    if (ch->nmessages == 0)
        return;
    if (dispatch_works(b, ch, "type")) {
        ch->dispatch = "type";
    } else {
        /* Candidates: the properties of the first message with a payload. */
        const struct ct_asyncapi_message *first = NULL;
        for (unsigned i = 0; i < ch->nmessages && !first; i++)
            if (ch->messages[i].payload)
                first = &ch->messages[i];
        const struct ct_node *pl = first ? ct_docset_deref(b->ds, first->payload, NULL) : NULL;
        const struct ct_node *props =
            pl ? ct_docset_deref(b->ds, ct_obj_get(pl, "properties"), NULL) : NULL;
        for (uint32_t i = 0; props && props->kind == CT_OBJECT && i < props->len; i++) {
            const char *name = props->u.members[i].key->u.str;
            if (dispatch_works(b, ch, name)) {
                ch->dispatch = name;
                break;
            }
        }
    }
    if (ch->dispatch)
        for (unsigned i = 0; i < ch->nmessages; i++)
            ch->messages[i].type_const = const_of(b, &ch->messages[i], ch->dispatch);
}

static void build_channel(struct builder *b, struct ct_asyncapi_channel *ch, const char *id,
                          const struct ct_node *node)
{
    ch->id = id;
    ch->node = node;
    check_keys(b, node, channel_keys, NKEYS(channel_keys), "Channel Object");
    const struct ct_node *addr = ct_obj_get(node, "address");
    if (addr && addr->kind == CT_STRING) {
        ch->address = addr->u.str;
        if (addr->u.str[0] != '/')
            err_at(b, addr, AA_E_DOC,
                   "address '%s' of channel '%s': expected a path starting with '/'",
                   addr->u.str, id);
    } else if (addr && addr->kind != CT_NULL) {
        err_at(b, addr, AA_E_DOC, "'address' of channel '%s': expected a string or null, got %s",
               id, got_name(addr));
    }
    const struct ct_node *msgs = want(b, node, "messages", CT_OBJECT, false, "Channel Object");
    if (msgs) {
        ch->messages = ct_arena_zalloc(b->arena, (msgs->len + 1) * sizeof(*ch->messages));
        for (uint32_t i = 0; i < msgs->len; i++) {
            const struct ct_member *mm = &msgs->u.members[i];
            const struct ct_node *mn = deref(b, mm->val);
            if (!mn)
                continue;
            if (mn->kind != CT_OBJECT) {
                err_at(b, mm->val, AA_E_DOC, "message '%s': expected a Message Object, got %s",
                       mm->key->u.str, got_name(mn));
                continue;
            }
            build_message(b, &ch->messages[ch->nmessages++], mm->key->u.str, mn);
        }
    }
    const struct ct_node *closes = ct_obj_get(node, "x-close-codes");
    if (closes)
        build_closes(b, ch, closes);
    const struct ct_node *bind = deref(b, ct_obj_get(node, "bindings"));
    const struct ct_node *ws = bind ? deref(b, ct_obj_get(bind, "ws")) : NULL;
    if (ws && ws->kind == CT_OBJECT) {
        ch->query = ct_obj_get(ws, "query");
        if (ch->query)
            ch->query_schema = ct_schema_set_get(
                set_for(b->api->impl, b->ds, b->api->impl->base.dialect), ch->query, b->diags);
    }
    find_dispatch(b, ch);
}

/* --- operations ------------------------------------------------------------------------------- */

static const char *const operation_keys[] = {
    "action", "channel",  "title",    "summary", "description", "security", "tags",
    "externalDocs", "bindings", "traits", "messages", "reply",
};

static struct ct_asyncapi_channel *channel_of(struct builder *b, const struct ct_node *ref,
                                              const char *what)
{
    const struct ct_node *n = deref(b, ref);
    if (!n)
        return NULL;
    for (unsigned i = 0; i < b->api->nchannels; i++)
        if (b->api->channels[i].node == n)
            return &b->api->channels[i];
    err_at(b, ref, AA_E_DOC, "%s: expected a reference to a channel under 'channels'", what);
    return NULL;
}

/* Mark the messages `list` names (references into `ch`) with direction `dir`. */
static void mark_messages(struct builder *b, struct ct_asyncapi_channel *ch,
                          const struct ct_node *list, unsigned dir, const char *opid,
                          bool *marked)
{
    if (!list || list->kind != CT_ARRAY) {
        if (list)
            err_at(b, list, AA_E_DOC, "'messages' of operation '%s': expected an array, got %s",
                   opid, got_name(list));
        /* No list: every message of the channel. */
        if (!list)
            for (unsigned i = 0; i < ch->nmessages; i++) {
                ch->messages[i].dirs |= dir;
                marked[i] = true;
            }
        return;
    }
    for (uint32_t i = 0; i < list->len; i++) {
        const struct ct_node *mn = deref(b, list->u.items[i]);
        if (!mn)
            continue;
        bool found = false;
        for (unsigned j = 0; j < ch->nmessages; j++) {
            if (ch->messages[j].node == mn) {
                ch->messages[j].dirs |= dir;
                marked[j] = true;
                found = true;
            }
        }
        if (!found)
            err_at(b, list->u.items[i], AA_E_DOC,
                   "operation '%s': expected a message of channel '%s' (a reference to "
                   "'#/channels/%s/messages/...')",
                   opid, ch->id, ch->id);
    }
}

static void build_operations(struct builder *b, const struct ct_node *ops, bool **marked)
{
    for (uint32_t i = 0; i < ops->len; i++) {
        const char *opid = ops->u.members[i].key->u.str;
        const struct ct_node *op = deref(b, ops->u.members[i].val);
        if (!op)
            continue;
        if (op->kind != CT_OBJECT) {
            err_at(b, op, AA_E_DOC, "operation '%s': expected an Operation Object, got %s", opid,
                   got_name(op));
            continue;
        }
        check_keys(b, op, operation_keys, NKEYS(operation_keys), "Operation Object");
        const struct ct_node *action = want(b, op, "action", CT_STRING, true, "Operation Object");
        unsigned dir = 0;
        if (action && !strcmp(action->u.str, "send")) {
            dir = CT_AA_SEND;
        } else if (action && !strcmp(action->u.str, "receive")) {
            dir = CT_AA_RECEIVE;
        } else if (action) {
            static const char *const actions[] = {"send", "receive"};
            struct ct_diag *g = err_at(b, action, AA_E_DOC,
                                       "action '%s' of operation '%s': expected 'send' or "
                                       "'receive'",
                                       action->u.str, opid);
            const char *best = ct_did_you_mean(action->u.str, actions, 2);
            if (best)
                ct_diag_set_hint(g, "did you mean '%s'?", best);
        }
        const struct ct_node *chref = want(b, op, "channel", CT_OBJECT, true, "Operation Object");
        struct ct_asyncapi_channel *ch = chref ? channel_of(b, chref, "'channel'") : NULL;
        if (!ch || !dir)
            continue;
        size_t ci = (size_t)(ch - b->api->channels);
        mark_messages(b, ch, ct_obj_get(op, "messages"), dir, opid, marked[ci]);
        const struct ct_node *reply = deref(b, ct_obj_get(op, "reply"));
        if (reply && reply->kind == CT_OBJECT) {
            const struct ct_node *rch = ct_obj_get(reply, "channel");
            struct ct_asyncapi_channel *rc = rch ? channel_of(b, rch, "reply 'channel'") : ch;
            if (rc)
                mark_messages(b, rc, ct_obj_get(reply, "messages"),
                              dir == CT_AA_SEND ? CT_AA_RECEIVE : CT_AA_SEND, opid,
                              marked[rc - b->api->channels]);
        }
    }
}

/* --- servers: which query parameter carries the token ----------------------------------------- */

static const char *token_param(struct builder *b, const struct ct_node *servers)
{
    if (!servers || servers->kind != CT_OBJECT)
        return NULL;
    for (uint32_t i = 0; i < servers->len; i++) {
        const struct ct_node *srv = ct_docset_deref(b->ds, servers->u.members[i].val, NULL);
        const struct ct_node *sec = srv ? ct_obj_get(srv, "security") : NULL;
        for (uint32_t j = 0; sec && sec->kind == CT_ARRAY && j < sec->len; j++) {
            const struct ct_node *s = ct_docset_deref(b->ds, sec->u.items[j], NULL);
            const char *type = s ? ct_obj_str(s, "type") : NULL;
            const char *in = s ? ct_obj_str(s, "in") : NULL;
            if (type && in && !strcmp(type, "httpApiKey") && !strcmp(in, "query"))
                return ct_obj_str(s, "name");
        }
    }
    return NULL;
}

/* --- the document ----------------------------------------------------------------------------- */

static const char *const root_keys[] = {"asyncapi", "id",         "info",       "servers",
                                        "defaultContentType", "channels", "operations",
                                        "components"};

static bool parse_version(struct builder *b, const struct ct_node *root)
{
    const struct ct_node *v = ct_obj_get(root, "asyncapi");
    if (!v) {
        err_at(b, root, CT_E_VERSION,
               "no 'asyncapi' field: expected 'asyncapi: 3.0.0' at the top of the document");
        return false;
    }
    if (v->kind != CT_STRING) {
        struct ct_diag *g = err_at(b, v, CT_E_VERSION,
                                   "'asyncapi' is %s: expected a string such as \"3.0.0\"",
                                   got_name(v));
        if (v->kind == CT_NUMBER)
            ct_diag_set_hint(g, "quote the version: asyncapi: \"%.*s\"", (int)v->len, v->u.text);
        return false;
    }
    if (v->u.str[0] == '3' && v->u.str[1] == '.') {
        b->api->version = v->u.str;
        return true;
    }
    struct ct_diag *g = err_at(b, v, CT_E_VERSION,
                               "unsupported AsyncAPI version '%s': expected 3.x", v->u.str);
    if (v->u.str[0] == '2' && v->u.str[1] == '.')
        ct_diag_set_hint(g, "AsyncAPI 2 documents describe the application's publish/subscribe "
                            "view; convert with `asyncapi convert` (AsyncAPI CLI) first");
    return false;
}

struct ct_asyncapi *ct_asyncapi_build(struct ct_docset *ds, const struct ct_node *root,
                                      const struct ct_asyncapi_opts *opts,
                                      struct ct_diags *diags)
{
    struct builder b = {.ds = ds, .arena = ct_docset_arena(ds), .diags = diags};
    b.errors_at_start = diags->nerrors;
    if (!root || root->kind != CT_OBJECT) {
        if (root)
            err_at(&b, root, AA_E_DOC, "expected the document to be a mapping, got %s",
                   got_name(root));
        return NULL;
    }
    struct ct_asyncapi *api = ct_xcalloc(1, sizeof(*api));
    api->impl = ct_xcalloc(1, sizeof(*api->impl));
    api->impl->base.dialect = opts && opts->dialect ? opts->dialect : CT_DIALECT_2020_12;
    api->impl->base.format_assert = !(opts && opts->format_assert_off);
    api->impl->base.all_errors = true;
    api->root = root;
    api->docset = ds;
    b.api = api;
    if (!parse_version(&b, root))
        goto fail;
    check_keys(&b, root, root_keys, NKEYS(root_keys), "AsyncAPI Object");
    const struct ct_node *info = want(&b, root, "info", CT_OBJECT, true, "AsyncAPI Object");
    if (info) {
        const struct ct_node *t = want(&b, info, "title", CT_STRING, true, "Info Object");
        api->title = t ? t->u.str : NULL;
        want(&b, info, "version", CT_STRING, true, "Info Object");
    }
    const struct ct_node *chans = want(&b, root, "channels", CT_OBJECT, false, "AsyncAPI Object");
    const char *tok = token_param(&b, want(&b, root, "servers", CT_OBJECT, false,
                                           "AsyncAPI Object"));
    if (chans) {
        api->channels = ct_arena_zalloc(b.arena, (chans->len + 1) * sizeof(*api->channels));
        for (uint32_t i = 0; i < chans->len; i++) {
            const struct ct_member *cm = &chans->u.members[i];
            const struct ct_node *cn = deref(&b, cm->val);
            if (!cn)
                continue;
            if (cn->kind != CT_OBJECT) {
                err_at(&b, cm->val, AA_E_DOC, "channel '%s': expected a Channel Object, got %s",
                       cm->key->u.str, got_name(cn));
                continue;
            }
            struct ct_asyncapi_channel *ch = &api->channels[api->nchannels++];
            build_channel(&b, ch, cm->key->u.str, cn);
            ch->token_param = tok;
        }
    }
    /* Directions from the operations; messages no operation mentions travel both ways. */
    bool **marked = ct_xcalloc(api->nchannels + 1, sizeof(*marked));
    for (unsigned i = 0; i < api->nchannels; i++)
        marked[i] = ct_xcalloc(api->channels[i].nmessages + 1, sizeof(bool));
    const struct ct_node *ops = want(&b, root, "operations", CT_OBJECT, false, "AsyncAPI Object");
    if (ops)
        build_operations(&b, ops, marked);
    for (unsigned i = 0; i < api->nchannels; i++) {
        for (unsigned j = 0; j < api->channels[i].nmessages; j++)
            if (!marked[i][j])
                api->channels[i].messages[j].dirs = CT_AA_RECEIVE | CT_AA_SEND;
        ct_free(marked[i]);
    }
    ct_free(marked);
    if (diags->nerrors > b.errors_at_start)
        goto fail;
    return api;
fail:
    ct_asyncapi_free(api);
    return NULL;
}

struct ct_asyncapi *ct_asyncapi_load(struct ct_docset *ds, const char *path,
                                     const struct ct_asyncapi_opts *opts,
                                     struct ct_diags *diags)
{
    size_t before = diags->nerrors;
    struct ct_node *root = ct_docset_load(ds, path, diags);
    if (!root)
        return NULL;
    ct_docset_check_refs(ds, root, diags);
    if (diags->nerrors > before)
        return NULL;
    return ct_asyncapi_build(ds, root, opts, diags);
}

void ct_asyncapi_free(struct ct_asyncapi *api)
{
    if (!api)
        return;
    if (api->impl)
        for (size_t i = 0; i < NKEYS(api->impl->sets); i++)
            ct_schema_set_free(api->impl->sets[i]);
    ct_free(api->impl);
    ct_free(api);
}

/* --- lookups ---------------------------------------------------------------------------------- */

/* Does `path` match the address template `tpl`, where "{name}" stands for one segment? */
static bool address_matches(const char *tpl, const char *path, size_t len)
{
    const char *p = path, *end = path + len;
    while (*tpl) {
        if (*tpl == '{') {
            const char *close = strchr(tpl, '}');
            if (!close)
                return false;
            const char *seg = p;
            while (p < end && *p != '/')
                p++;
            if (p == seg)
                return false;
            tpl = close + 1;
            continue;
        }
        if (p >= end || *p != *tpl)
            return false;
        p++;
        tpl++;
    }
    return p == end;
}

const struct ct_asyncapi_channel *ct_asyncapi_channel(const struct ct_asyncapi *api,
                                                      const char *s, size_t len)
{
    if (!api)
        return NULL;
    for (unsigned i = 0; i < api->nchannels; i++) {
        const struct ct_asyncapi_channel *ch = &api->channels[i];
        if (strlen(ch->id) == len && !memcmp(ch->id, s, len))
            return ch;
    }
    for (unsigned i = 0; i < api->nchannels; i++) {
        const struct ct_asyncapi_channel *ch = &api->channels[i];
        if (ch->address && address_matches(ch->address, s, len))
            return ch;
    }
    return NULL;
}

const struct ct_asyncapi_message *
ct_asyncapi_message(const struct ct_asyncapi_channel *ch, unsigned dir, const char *name)
{
    for (unsigned i = 0; ch && i < ch->nmessages; i++) {
        const struct ct_asyncapi_message *m = &ch->messages[i];
        if (!(m->dirs & dir))
            continue;
        if ((m->type_const && !strcmp(m->type_const, name)) || !strcmp(m->name, name))
            return m;
    }
    return NULL;
}

int ct_asyncapi_close_code(const struct ct_asyncapi_channel *ch, const char *name)
{
    for (unsigned i = 0; ch && i < ch->ncloses; i++)
        if (!strcmp(ch->closes[i].name, name))
            return ch->closes[i].code;
    return -1;
}

const struct ct_asyncapi_message *ct_asyncapi_identify(const struct ct_asyncapi_channel *ch,
                                                       unsigned dir,
                                                       const struct ct_node *frame)
{
    if (!ch || !ch->dispatch || !frame)
        return NULL;
    const char *t = ct_obj_str(frame, ch->dispatch);
    if (!t)
        return NULL;
    for (unsigned i = 0; i < ch->nmessages; i++) {
        const struct ct_asyncapi_message *m = &ch->messages[i];
        if ((m->dirs & dir) && m->type_const && !strcmp(m->type_const, t))
            return m;
    }
    return NULL;
}

bool ct_asyncapi_validate(const struct ct_asyncapi_message *m, struct ct_vctx *vc,
                          const struct ct_node *frame, struct ct_diags *diags)
{
    if (!m->schema)
        return true;
    struct ct_vopts vo = {.direction = CT_DIR_NONE, .all_errors = true};
    return ct_schema_validate_opts(m->schema, vc, frame, &vo, diags);
}

static const char *dir_words(unsigned dir)
{
    return dir == CT_AA_SEND ? "from the server to the client" : "from the client to the server";
}

/* "'user_message', 'ping'" : the dispatch values of the messages travelling in `dir`. */
static void list_types(const struct ct_asyncapi_channel *ch, unsigned dir, struct ct_buf *out,
                       const char **names, size_t *nnames)
{
    *nnames = 0;
    for (unsigned i = 0; i < ch->nmessages; i++) {
        const struct ct_asyncapi_message *m = &ch->messages[i];
        if (!(m->dirs & dir) || !m->type_const)
            continue;
        ct_buf_printf(out, "%s'%s'", *nnames ? ", " : "", m->type_const);
        names[(*nnames)++] = m->type_const;
    }
}

const struct ct_asyncapi_message *ct_asyncapi_match(const struct ct_asyncapi *api,
                                                    const struct ct_asyncapi_channel *ch,
                                                    unsigned dir, const struct ct_node *frame,
                                                    struct ct_vctx *vc, struct ct_diags *diags)
{
    (void)api;
    if (!ch->dispatch) {
        /* No discriminator: the first message whose schema accepts the frame. */
        for (unsigned i = 0; i < ch->nmessages; i++) {
            const struct ct_asyncapi_message *m = &ch->messages[i];
            if ((m->dirs & dir) && ct_asyncapi_validate(m, vc, frame, NULL))
                return m;
        }
        ct_diags_add(diags, CT_SEV_ERROR, CT_E_CONTRACT, frame->src, frame->line, frame->col,
                     "frame matches none of the messages of channel '%s' travelling %s",
                     ch->id, dir_words(dir));
        for (unsigned i = 0; i < ch->nmessages; i++)
            if (ch->messages[i].dirs & dir)
                ct_asyncapi_validate(&ch->messages[i], vc, frame, diags);
        return NULL;
    }
    const struct ct_asyncapi_message *m = ct_asyncapi_identify(ch, dir, frame);
    if (m)
        return ct_asyncapi_validate(m, vc, frame, diags) ? m : NULL;
    /* Say why it is no message of this direction. */
    struct ct_buf list;
    ct_buf_init(&list, 0);
    const char **names = ct_xcalloc(ch->nmessages + 1, sizeof(*names));
    size_t nnames;
    list_types(ch, dir, &list, names, &nnames);
    const struct ct_node *tn = frame->kind == CT_OBJECT ? ct_obj_get(frame, ch->dispatch) : NULL;
    const struct ct_node *at = tn ? tn : frame;
    if (!tn || tn->kind != CT_STRING) {
        char got[64];
        if (frame->kind != CT_OBJECT)
            snprintf(got, sizeof(got), "%s", got_name(frame));
        else if (!tn)
            snprintf(got, sizeof(got), "no '%s'", ch->dispatch);
        else
            snprintf(got, sizeof(got), "'%s' as %s", ch->dispatch, got_name(tn));
        ct_diags_add(diags, CT_SEV_ERROR, CT_E_CONTRACT, at->src, at->line, at->col,
                     "expected an object whose '%s' is one of %s, got %s", ch->dispatch,
                     ct_buf_cstr(&list), got);
    } else {
        const struct ct_asyncapi_message *other =
            ct_asyncapi_identify(ch, dir == CT_AA_SEND ? CT_AA_RECEIVE : CT_AA_SEND, frame);
        struct ct_diag *g;
        if (other) {
            g = ct_diags_add(diags, CT_SEV_ERROR, CT_E_CONTRACT, at->src, at->line, at->col,
                             "message '%s' travels %s: expected one of %s", tn->u.str,
                             dir_words(dir == CT_AA_SEND ? CT_AA_RECEIVE : CT_AA_SEND),
                             ct_buf_cstr(&list));
        } else {
            g = ct_diags_add(diags, CT_SEV_ERROR, CT_E_CONTRACT, at->src, at->line, at->col,
                             "unknown message %s '%s': expected one of %s", ch->dispatch,
                             tn->u.str, ct_buf_cstr(&list));
            const char *best = ct_did_you_mean(tn->u.str, names, nnames);
            if (best)
                ct_diag_set_hint(g, "did you mean '%s'?", best);
        }
        if (g)
            g->instance_ptr = ct_xasprintf("/%s", ch->dispatch);
    }
    ct_free(names);
    ct_buf_deinit(&list);
    return NULL;
}
