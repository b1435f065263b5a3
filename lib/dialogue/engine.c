/* engine.c - running dialogue scripts: connections, events, rule matching and timed actions.
 *
 * Pure: the transport says what happened and when; the engine picks the first rule that matches
 * (rules are sorted at load: priority, then file and rule order, fallbacks last), renders its
 * actions into frames with their delays, checks each frame against the contract and returns
 * them. It never sleeps, reads a clock or touches a socket. Per-connection state (variables,
 * counters, the random generator, the queue of turns) lives in struct ct_dialogue_conn; anything
 * produced for one call lives in the call's work area (struct ct_dialogue_work: the connection's
 * own, or one shared by the connections of a thread) until the next call that uses it. */
#include "dialogue_impl.h"

#include "core/alloc.h"
#include "core/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- connections ------------------------------------------------------------------------------ */

static char *dup_or_null(const char *s)
{
    return s ? ct_xstrdup(s) : NULL;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t ct__dlg_rand(struct ct_dialogue_conn *c)
{
    return splitmix(&c->rng);
}

/* --- work areas ------------------------------------------------------------------------------- */

static void work_init(struct ct_dialogue_work *w)
{
    memset(w, 0, sizeof(*w));
    ct_arena_init(&w->scratch, 1 << 12);
    ct_buf_init(&w->frame, 0);
    ct_buf_init(&w->text, 0);
    w->vc = ct_vctx_new();
    w->md = ct__regex_md_new();
}

static void work_deinit(struct ct_dialogue_work *w)
{
    ct_arena_deinit(&w->scratch);
    ct_free(w->acts);
    ct_buf_deinit(&w->frame);
    ct_buf_deinit(&w->text);
    ct_vctx_free(w->vc);
    ct__regex_md_free(w->md);
}

struct ct_dialogue_work *ct_dialogue_work_new(void)
{
    struct ct_dialogue_work *w = ct_xmalloc(sizeof(*w));
    work_init(w);
    return w;
}

void ct_dialogue_work_free(struct ct_dialogue_work *w)
{
    if (!w)
        return;
    work_deinit(w);
    ct_free(w);
}

/* --- connections (continued) ------------------------------------------------------------------ */

struct ct_dialogue_conn *ct_dialogue_conn_new(const struct ct_dialogue_set *s,
                                              const struct ct_dialogue_ctx *ctx)
{
    struct ct_dialogue_conn *c = ct_xcalloc(1, sizeof(*c));
    c->set = s;
    c->channel = dup_or_null(ctx->channel);
    c->sub = dup_or_null(ctx->sub);
    c->email = dup_or_null(ctx->email);
    c->role = dup_or_null(ctx->role);
    c->rng = ctx->seed;
    c->opened = ctx->now_ms;
    c->pace = 1.0;
    if (ctx->session_id) {
        c->session = ct_xstrdup(ctx->session_id);
    } else {
        c->session = ct_xasprintf("sess_%010" PRIx64, ct__dlg_rand(c) & (uint64_t)0xFFFFFFFFFF);
    }
    if (s->api && ctx->channel)
        c->ch = ct_asyncapi_channel(s->api, ctx->channel, strlen(ctx->channel));
    ct_arena_init(&c->keep, 1024);
    if (ctx->work) {
        c->w = ctx->work;
    } else {
        c->w = ct_dialogue_work_new();
        c->own_work = true;
    }
    ct_diags_init(&c->diags);
    c->diags.max = 64;
    if (ctx->query) {
        /* A private copy: the caller's nodes may die with its request. */
        struct ct_buf b;
        ct_buf_init(&b, 0);
        ct_json_emit(ctx->query, &b, false);
        c->query_src.name = "<query>";
        c->query_src.text = ct_arena_strndup(&c->keep, ct_buf_cstr(&b), b.len);
        c->query_src.len = b.len;
        c->query = ct_json_parse(&c->keep, &c->query_src, NULL, NULL);
        ct_buf_deinit(&b);
    }
    if (s->nstate) {
        c->state = ct_xcalloc(s->nstate, sizeof(*c->state));
        for (size_t i = 0; i < s->nstate; i++) {
            if (!s->state_init[i])
                continue;
            struct ct_buf b;
            ct_buf_init(&b, 0);
            ct_json_emit(s->state_init[i], &b, false);
            c->state[i] = ct_buf_steal(&b, NULL);
        }
    }
    return c;
}

void ct_dialogue_conn_free(struct ct_dialogue_conn *c)
{
    if (!c)
        return;
    for (size_t i = 0; c->state && i < c->set->nstate; i++)
        ct_free(c->state[i]);
    ct_free(c->state);
    ct_free(c->channel);
    ct_free(c->sub);
    ct_free(c->email);
    ct_free(c->role);
    ct_free(c->session);
    ct_arena_deinit(&c->keep);
    if (c->own_work)
        ct_dialogue_work_free(c->w);
    ct_diags_deinit(&c->diags);
    ct_free(c);
}

const struct ct_diags *ct_dialogue_conn_diags(const struct ct_dialogue_conn *c)
{
    return &c->diags;
}

const char *ct_dialogue_conn_rule(const struct ct_dialogue_conn *c)
{
    return c->last_rule ? c->last_rule->name : NULL;
}

const char *ct_dialogue_conn_session(const struct ct_dialogue_conn *c)
{
    return c->session;
}

const struct ct_node *ct__dlg_state_get(struct ct_dialogue_conn *c, uint32_t var,
                                        struct ct_arena *a)
{
    if (!c->state || var >= c->set->nstate || !c->state[var])
        return NULL;
    struct ct_source *src = ct_arena_zalloc(a, sizeof(*src));
    src->name = "<state>";
    src->text = c->state[var];
    src->len = strlen(c->state[var]);
    return ct_json_parse(a, src, NULL, NULL);
}

unsigned ct__dlg_waiting(const struct ct_dialogue_conn *c, int64_t now)
{
    unsigned n = 0;
    for (size_t i = 0; i < c->nturn_ends; i++)
        n += c->turn_ends[i] > now;
    return n;
}

static void note_turn_end(struct ct_dialogue_conn *c, int64_t now, int64_t end)
{
    /* Forget finished turns, then remember this one (the queue is short: at most 16 kept). */
    size_t k = 0;
    for (size_t i = 0; i < c->nturn_ends; i++)
        if (c->turn_ends[i] > now)
            c->turn_ends[k++] = c->turn_ends[i];
    c->nturn_ends = k;
    if (k < sizeof(c->turn_ends) / sizeof(c->turn_ends[0]))
        c->turn_ends[c->nturn_ends++] = end;
}

static void begin_call(struct ct_dialogue_conn *c)
{
    ct_arena_reset(&c->w->scratch);
    c->nacts = 0;
    ct_diags_clear(&c->diags);
    c->last_rule = NULL;
}

/* --- text and language ------------------------------------------------------------------------ */

static const struct dlg_seg default_ws_text[] = {{"data", 4, 0}, {"message", 7, 0}};
static const struct dlg_seg default_sse_text[] = {{"messages", 8, 0}, {NULL, 0, -1}};

static const struct ct_node *text_of(const struct dlg_script *sc, enum dlg_event ev,
                                     const struct ct_node *doc)
{
    if (!doc)
        return NULL;
    const struct ct_node *t;
    if (sc && sc->has_text_at)
        t = ct__dlg_path_get(doc, sc->text_at, sc->ntext_at);
    else if (ev == EV_SSE)
        t = ct__dlg_path_get(doc, default_sse_text, 2);
    else
        t = ct__dlg_path_get(doc, default_ws_text, 2);
    return t && t->kind == CT_STRING ? t : NULL;
}

/* "zh" when the text holds a Han character (CJK ideographs, extensions, compatibility forms),
 * "en" otherwise. */
static const char *lang_of(const struct ct_node *t)
{
    if (!t)
        return NULL;
    const unsigned char *s = (const unsigned char *)t->u.str, *end = s + t->len;
    while (s < end) {
        uint32_t cp;
        if (*s < 0x80) {
            s++;
            continue;
        } else if ((*s & 0xE0) == 0xC0 && end - s >= 2) {
            cp = ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
            s += 2;
        } else if ((*s & 0xF0) == 0xE0 && end - s >= 3) {
            cp = ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
            s += 3;
        } else if ((*s & 0xF8) == 0xF0 && end - s >= 4) {
            cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
                 ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
            s += 4;
        } else {
            s++;
            continue;
        }
        if ((cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
            (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FA1F))
            return "zh";
    }
    return "en";
}

/* --- matching --------------------------------------------------------------------------------- */

static bool in_strs(const struct dlg_strs *l, const struct ct_node *v)
{
    if (!v || v->kind != CT_STRING)
        return false;
    for (uint32_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], v->u.str))
            return true;
    return false;
}

static bool matcher_holds(struct ct_dialogue_conn *c, const struct dlg_matcher *m,
                          const struct ct_node *v)
{
    switch (m->op) {
    case M_EQUALS:
        return v && ct_node_equal(v, m->arg);
    case M_NOT_EQUALS:
        return !v || !ct_node_equal(v, m->arg);
    case M_ONE_OF:
        for (uint32_t i = 0; v && i < m->arg->len; i++)
            if (ct_node_equal(v, m->arg->u.items[i]))
                return true;
        return false;
    case M_MATCHES:
        return v && v->kind == CT_STRING && m->re &&
               ct__regex_match(m->re, c->w->md, v->u.str, v->len) == 1;
    case M_EXISTS:
        return (v != NULL) == ((m->arg->flags & CT_NF_TRUE) != 0);
    default:
        break;
    }
    if (!v || v->kind != CT_NUMBER || m->arg->kind != CT_NUMBER)
        return false;
    int cmp = ct_num_cmp(v, m->arg);
    switch (m->op) {
    case M_GT:
        return cmp > 0;
    case M_GTE:
        return cmp >= 0;
    case M_LT:
        return cmp < 0;
    default:
        return cmp <= 0;
    }
}

static bool channel_ok(const struct ct_dialogue_conn *c, const struct dlg_script *sc)
{
    if (!sc->channel)
        return true;
    if (sc->ch && c->ch)
        return sc->ch == c->ch;
    return c->channel && !strcmp(sc->channel, c->channel);
}

static const struct ct_node *field(const struct ct_node *msg, const char *a, const char *b)
{
    const struct ct_node *d = msg && msg->kind == CT_OBJECT ? ct_obj_get(msg, a) : NULL;
    return d && d->kind == CT_OBJECT ? ct_obj_get(d, b) : NULL;
}

/* Does rule r answer this event? Fills the text and language of the context for the rule's
 * script (scripts may place the text elsewhere). */
static bool rule_matches(struct ct_dialogue_conn *c, const struct dlg_rule *r,
                         enum dlg_event ev, struct dlg_rctx *rc, const char *type,
                         const char *operation)
{
    if (r->on != ev)
        return false;
    if (ev == EV_SSE) {
        if (strcmp(r->operation, operation) != 0)
            return false;
    } else if (!channel_ok(c, r->script)) {
        return false;
    }
    const struct ct_node *doc = ev == EV_SSE ? rc->request : rc->message;
    rc->text = text_of(r->script, ev, doc);
    rc->lang = lang_of(rc->text);
    if (r->types.n) {
        bool hit = false;
        for (uint32_t i = 0; type && i < r->types.n && !hit; i++)
            hit = !strcmp(r->types.v[i], type);
        if (!hit)
            return false;
    }
    if (r->agents.n && !in_strs(&r->agents, field(doc, "data", "agent")))
        return false;
    if (r->modes.n && !in_strs(&r->modes, field(doc, "data", "mode")))
        return false;
    if (r->langs && (!rc->lang || !(r->langs & (rc->lang[0] == 'z' ? 1u : 2u))))
        return false;
    if (r->text &&
        (!rc->text || ct__regex_match(r->text, c->w->md, rc->text->u.str, rc->text->len) != 1))
        return false;
    rc->rule = r;
    for (uint32_t i = 0; i < r->nconds; i++) {
        const struct dlg_cond *cd = &r->conds[i];
        const struct ct_node *v =
            cd->src == C_FIELD ? ct__dlg_path_get(doc, cd->segs, cd->nsegs)
                               : cd->e ? ct__dlg_eval(rc, cd->e) : NULL;
        for (uint32_t k = 0; k < cd->nm; k++)
            if (!matcher_holds(c, &cd->m[k], v))
                return false;
    }
    return true;
}

static const struct dlg_rule *find_rule(struct ct_dialogue_conn *c, enum dlg_event ev,
                                        struct dlg_rctx *rc, const char *type,
                                        const char *operation)
{
    for (size_t i = 0; i < c->set->nrules; i++)
        if (rule_matches(c, c->set->rules[i], ev, rc, type, operation))
            return c->set->rules[i];
    return NULL;
}

/* --- producing actions ------------------------------------------------------------------------ */

struct emitter {
    struct ct_dialogue_conn *c;
    struct dlg_rctx *r;
    const struct dlg_rule *rule;
    int64_t call;  /* time of the call */
    int64_t last;  /* time of the previous action */
    int64_t clock; /* time of the next action */
    bool sse;
    bool stopped;  /* a close or drop ended the connection */
};

static void advance(struct emitter *e, uint32_t ms)
{
    double d = (double)ms * e->c->pace;
    e->clock += d > 3.6e6 ? 3600000 : (int64_t)(d + 0.5);
}

static struct ct_dlg_action *push(struct emitter *e, enum ct_dlg_kind kind)
{
    struct ct_dialogue_conn *c = e->c;
    struct ct_dialogue_work *w = c->w;
    w->acts = ct_xgrow(w->acts, &w->capacts, c->nacts + 1, sizeof(*w->acts));
    struct ct_dlg_action *a = &w->acts[c->nacts++];
    memset(a, 0, sizeof(*a));
    a->kind = kind;
    int64_t d = e->clock - e->last;
    a->delay_ms = d < 0 ? 0 : d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
    e->last = e->clock;
    return a;
}

static char *keep_text(struct emitter *e, struct ct_buf *b, size_t *len)
{
    *len = b->len;
    return ct_arena_strndup(&e->c->w->scratch, ct_buf_cstr(b), b->len);
}

/* Report a frame the engine will not send, at the script's action. */
static void withhold(struct emitter *e, const struct dlg_action *act, const struct ct_diags *vd)
{
    const char *why = "it does not parse as JSON";
    for (size_t i = 0; i < vd->n; i++)
        if (vd->v[i].sev == CT_SEV_ERROR) {
            why = vd->v[i].msg;
            break;
        }
    const struct ct_node *at = act ? act->at : NULL;
    ct_diags_add(&e->c->diags, CT_SEV_ERROR, CT_E_CONTRACT, at ? at->src : NULL,
                 at ? at->line : 0, at ? at->col : 0,
                 "rule '%s': withheld a frame that breaks the contract: %s", e->rule->name, why);
}

/* Is the number node what the JSON parser makes of its literal: JSON syntax, the same flags
 * (integer, exact, negative) and bit for bit the same double? */
static bool number_as_parsed(const struct ct_node *n)
{
    const char *p = n->u.text, *end = p + n->len;
    bool neg = p < end && *p == '-';
    if (neg)
        p++;
    const char *digits = p;
    if (p < end && *p == '0')
        p++;
    else if (p < end && *p >= '1' && *p <= '9')
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    else
        return false;
    size_t intdigits = (size_t)(p - digits);
    bool isint = true;
    if (p < end && *p == '.') {
        isint = false;
        if (++p == end || !(*p >= '0' && *p <= '9'))
            return false;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        isint = false;
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !(*p >= '0' && *p <= '9'))
            return false;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p != end)
        return false;
    uint8_t want = (uint8_t)((isint ? CT_NF_INT : 0) | (neg ? CT_NF_NEG : 0));
    double v;
    if (isint && intdigits <= 15) {
        int64_t x = 0;
        for (const char *d = digits; d < p; d++)
            x = x * 10 + (*d - '0');
        v = (double)(neg ? -x : x);
        want |= CT_NF_EXACT;
    } else {
        char tmp[64];
        if (n->len >= sizeof(tmp))
            return false;
        memcpy(tmp, n->u.text, n->len);
        tmp[n->len] = '\0';
        v = strtod(tmp, NULL);
    }
    return (n->flags & (CT_NF_INT | CT_NF_EXACT | CT_NF_NEG)) == want &&
           memcmp(&v, &n->num, sizeof(v)) == 0;
}

/* Would parsing ct_json_emit's text of `n` give back the same tree (so that validating `n` is
 * validating the frame)? Every string and key valid UTF-8, every number as the parser reads its
 * literal, nesting well inside the parser's limit (256). Repeated keys are caught where objects
 * are built (ct__dlg_render_node); the nodes from parsers have none. */
static bool same_as_parsed(const struct ct_node *n, unsigned depth)
{
    switch (n->kind) {
    case CT_STRING:
        return ct_utf8_valid(n->u.str, n->len);
    case CT_NUMBER:
        return number_as_parsed(n);
    case CT_ARRAY:
        if (depth > 200)
            return false;
        for (uint32_t i = 0; i < n->len; i++)
            if (!same_as_parsed(n->u.items[i], depth + 1))
                return false;
        return true;
    case CT_OBJECT:
        if (depth > 200)
            return false;
        for (uint32_t i = 0; i < n->len; i++) {
            const struct ct_node *k = n->u.members[i].key;
            if (!ct_utf8_valid(k->u.str, k->len) ||
                !same_as_parsed(n->u.members[i].val, depth + 1))
                return false;
        }
        return true;
    default:
        return true;
    }
}

/* Is the text a frame (WebSocket) or data record (SSE) the contract accepts? `n`, when not NULL,
 * is the tree the text was emitted from: when parsing the text would give it back, it is
 * validated as it is; otherwise, and whenever it fails (for the diagnostics), the text is parsed
 * and validated, as a client would read it. */
static bool keeps_contract(struct emitter *e, const char *text, size_t len, const struct ct_node *n,
                           bool dup_key, const struct dlg_action *act)
{
    struct ct_dialogue_conn *c = e->c;
    const struct ct_schema *data = e->sse && e->rule->sse ? e->rule->sse->data : NULL;
    if (e->sse ? !data : !c->ch)
        return true; /* nothing to check against */
    struct ct_vopts vo = {.direction = CT_DIR_RESPONSE, .all_errors = false};
    if (n && !dup_key && len <= ((size_t)64 << 20) && same_as_parsed(n, 0)) {
        struct ct_diags vd;
        ct_diags_init(&vd);
        bool ok = e->sse ? ct_schema_validate_opts(data, c->w->vc, n, &vo, &vd)
                         : ct_asyncapi_match(c->set->api, c->ch, CT_AA_SEND, n, c->w->vc, &vd) != NULL;
        ct_diags_deinit(&vd);
        if (ok)
            return true;
    }
    struct ct_source *src = ct_arena_zalloc(&c->w->scratch, sizeof(*src));
    src->name = e->sse ? "<sse data>" : "<frame>";
    src->text = text;
    src->len = len;
    struct ct_diags vd;
    ct_diags_init(&vd);
    const struct ct_node *parsed = ct_json_parse(&c->w->scratch, src, NULL, &vd);
    bool ok = false;
    if (parsed && e->sse)
        ok = ct_schema_validate_opts(data, c->w->vc, parsed, &vo, &vd);
    else if (parsed)
        ok = ct_asyncapi_match(c->set->api, c->ch, CT_AA_SEND, parsed, c->w->vc, &vd) != NULL;
    if (!ok)
        withhold(e, act, &vd);
    ct_diags_deinit(&vd);
    return ok;
}

static void sse_fields(struct emitter *e, const struct dlg_action *act, struct ct_dlg_action *a)
{
    size_t l;
    if (act && act->event) {
        struct ct_buf b;
        ct_buf_init(&b, 0);
        ct__dlg_render_text(e->r, act->event, &b);
        a->event = keep_text(e, &b, &l);
        ct_buf_deinit(&b);
    }
    if (act && act->id) {
        struct ct_buf b;
        ct_buf_init(&b, 0);
        ct__dlg_render_text(e->r, act->id, &b);
        a->id = keep_text(e, &b, &l);
        ct_buf_deinit(&b);
    }
}

/* Render a frame template at the current clock and queue it (unless it breaks the contract). */
static void send_frame(struct emitter *e, const struct dlg_tv *tv, const struct dlg_action *act,
                       bool raw)
{
    if (!tv || e->stopped)
        return;
    e->r->now = e->clock;
    struct ct_buf *b = &e->c->w->frame; /* reused: grown once, not per frame */
    b->len = 0;
    const struct ct_node *n = NULL;
    bool dup_key = false;
    if (raw) {
        ct__dlg_render_text(e->r, tv, b);
    } else {
        /* Rendered as nodes, then written: the nodes are validated without parsing the text
         * back (see keeps_contract). */
        n = ct__dlg_render_node(e->r, tv, &dup_key);
        ct_json_emit(n, b, false);
    }
    size_t len;
    char *text = keep_text(e, b, &len);
    bool on_purpose = act && act->invalid;
    if (!on_purpose && !keeps_contract(e, text, len, n, dup_key, act))
        return;
    struct ct_dlg_action *a = push(e, CT_DLG_SEND);
    a->text = text;
    a->len = len;
    a->invalid_on_purpose = on_purpose;
    if (e->sse)
        sse_fields(e, act, a);
}

static uint32_t chunk_interval(const struct dlg_stream *st, size_t cps_in_chunk)
{
    if (st->cps > 0) {
        double ms = (double)cps_in_chunk * 1000.0 / st->cps;
        return ms > 3.6e6 ? 3600000u : (uint32_t)(ms + 0.5);
    }
    return st->every_ms;
}

static void run_stream(struct emitter *e, const struct dlg_action *act)
{
    const struct dlg_stream *st = act->stream;
    struct dlg_rctx *r = e->r;
    r->now = e->clock;
    struct ct_buf *b = &e->c->w->frame;
    b->len = 0;
    if (st->text)
        ct__dlg_render_text(r, st->text, b);
    size_t tlen;
    const char *text = keep_text(e, b, &tlen);
    size_t ncp = ct__dlg_cp_count(text, tlen);
    size_t k;
    if (st->chunks)
        k = st->chunks < ncp ? st->chunks : ncp;
    else
        k = (ncp + st->chunk_size - 1) / st->chunk_size;
    if (k == 0)
        k = 1;
    /* Chunk boundaries in code points: chunk i is [i*ncp/k, (i+1)*ncp/k) or fixed sizes. */
    size_t total = k + (st->final_empty ? 1 : 0);
    r->in_stream = true;
    r->stream_text = text;
    r->stream_len = tlen;
    r->stream_chunks = (uint32_t)total;
    if (st->typing_start)
        send_frame(e, st->typing_start, act, false);
    bool cut = false;
    for (size_t i = 0; i < k && !e->stopped; i++) {
        if (st->cut_after >= 0 && (long)i >= st->cut_after) {
            cut = true;
            break;
        }
        size_t a0 = st->chunks ? i * ncp / k : i * st->chunk_size;
        size_t a1 = st->chunks ? (i + 1) * ncp / k : (i + 1) * st->chunk_size;
        if (a1 > ncp)
            a1 = ncp;
        size_t b0 = ct__dlg_cp_offset(text, tlen, a0), b1 = ct__dlg_cp_offset(text, tlen, a1);
        if (i == 0)
            advance(e, st->has_think ? st->think_ms
                                     : st->typing_start ? chunk_interval(st, a1 - a0) : 0);
        else
            advance(e, chunk_interval(st, a1 - a0));
        bool final = !st->final_empty && i + 1 == k;
        r->in_chunk = true;
        r->chunk_index = (uint32_t)i;
        r->chunk_count = (uint32_t)total;
        r->chunk_final = final;
        r->delta = text + b0;
        r->delta_len = b1 - b0;
        send_frame(e, final && st->last_frame ? st->last_frame : st->frame, act, false);
    }
    if (st->cut_after >= 0 && (size_t)st->cut_after < total)
        cut = true;
    if (!cut && st->final_empty && !e->stopped) {
        advance(e, st->every_ms);
        r->in_chunk = true;
        r->chunk_index = (uint32_t)k;
        r->chunk_count = (uint32_t)total;
        r->chunk_final = true;
        r->delta = "";
        r->delta_len = 0;
        send_frame(e, st->last_frame ? st->last_frame : st->frame, act, false);
    }
    r->in_chunk = false;
    if (!cut) {
        if (st->typing_stop)
            send_frame(e, st->typing_stop, act, false);
        if (st->then)
            send_frame(e, st->then, act, false);
    }
    r->in_stream = false;
}

static void run_action(struct emitter *e, const struct dlg_action *act)
{
    if (e->stopped)
        return;
    advance(e, act->after_ms);
    switch (act->kind) {
    case A_SEND:
        send_frame(e, act->value, act, false);
        break;
    case A_RAW:
        send_frame(e, act->value, act, true);
        break;
    case A_STREAM:
        run_stream(e, act);
        break;
    case A_WAIT:
        advance(e, act->wait_ms);
        break;
    case A_CLOSE: {
        struct ct_dlg_action *a = push(e, CT_DLG_CLOSE);
        a->close_code = act->close_code;
        a->close_reason = act->close_reason ? act->close_reason : "";
        e->stopped = true;
        break;
    }
    case A_DROP:
        push(e, CT_DLG_DROP);
        e->stopped = true;
        break;
    case A_PACE:
        e->c->pace = act->pace;
        break;
    case A_DONE: {
        struct ct_dlg_action *a = push(e, CT_DLG_SEND);
        a->text = act->done_text;
        a->len = strlen(act->done_text);
        a->done = true;
        break;
    }
    }
}

/* Evaluate a template into a node of the scratch arena. */
static const struct ct_node *eval_value(struct dlg_rctx *r, const struct dlg_tv *tv)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct__dlg_render_json(r, tv, &b);
    struct ct_source *src = ct_arena_zalloc(r->a, sizeof(*src));
    src->name = "<let>";
    src->text = ct_arena_strndup(r->a, ct_buf_cstr(&b), b.len);
    src->len = b.len;
    ct_buf_deinit(&b);
    return ct_json_parse(r->a, src, NULL, NULL);
}

static size_t run_rule(struct ct_dialogue_conn *c, const struct dlg_rule *rule,
                       struct dlg_rctx *r, int64_t now, const struct ct_dlg_action **out)
{
    c->last_rule = rule;
    r->rule = rule;
    r->now = now;
    r->start = now;
    /* One server message id per turn: chunks and the complete answer share it. */
    char tid[32];
    snprintf(tid, sizeof(tid), "s_%010" PRIx64, ct__dlg_rand(c) & (uint64_t)0xFFFFFFFFFF);
    r->turn_id = ct_arena_strdup(r->a, tid);
    if (rule->nlets) {
        r->lets = ct_arena_zalloc(r->a, rule->nlets * sizeof(*r->lets));
        for (uint32_t i = 0; i < rule->nlets; i++)
            if (rule->lets[i].v)
                r->lets[i] = eval_value(r, rule->lets[i].v);
    }
    struct emitter e = {.c = c, .r = r, .rule = rule, .call = now, .last = now, .clock = now,
                        .sse = rule->on == EV_SSE};
    /* Turns queue behind the previous turn; instant answers (pong) do not wait. */
    if (rule->turn && c->busy_until > now)
        e.clock = c->busy_until;
    for (uint32_t i = 0; i < rule->nacts && !e.stopped; i++)
        run_action(&e, &rule->acts[i]);
    if (rule->turn) {
        c->busy_until = e.clock;
        note_turn_end(c, now, e.clock);
    }
    if (e.stopped)
        c->closed = true;
    /* State changes take effect now, for the next event. */
    r->now = now;
    r->in_chunk = r->in_stream = false;
    for (uint32_t i = 0; i < rule->nsets; i++) {
        if (!rule->sets[i].v)
            continue;
        struct ct_buf b;
        ct_buf_init(&b, 0);
        ct__dlg_render_json(r, rule->sets[i].v, &b);
        uint32_t var = rule->sets[i].var;
        ct_free(c->state[var]);
        c->state[var] = ct_buf_steal(&b, NULL);
        if (!strcmp(c->state[var], "null") || !c->state[var][0]) {
            /* null clears: the variable is undefined again. */
            ct_free(c->state[var]);
            c->state[var] = NULL;
        }
    }
    *out = c->w->acts;
    return c->nacts;
}

/* --- events ----------------------------------------------------------------------------------- */

size_t ct_dialogue_on_open(struct ct_dialogue_conn *c, int64_t now_ms,
                           const struct ct_dlg_action **out)
{
    begin_call(c);
    *out = NULL;
    if (c->closed)
        return 0;
    struct dlg_rctx r = {.a = &c->w->scratch, .conn = c, .now = now_ms, .start = now_ms};
    const struct dlg_rule *rule = find_rule(c, EV_OPEN, &r, NULL, NULL);
    return rule ? run_rule(c, rule, &r, now_ms, out) : 0;
}

/* The first error of a validation, without the keyword location: for {{invalid.message}}. */
static const char *first_error(struct ct_arena *a, const struct ct_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        if (d->v[i].sev != CT_SEV_ERROR)
            continue;
        const char *m = d->v[i].msg;
        const char *kw = strstr(m, " (keyword ");
        return ct_arena_strndup(a, m, kw ? (size_t)(kw - m) : strlen(m));
    }
    return "invalid frame";
}

static size_t dispatch_frame(struct ct_dialogue_conn *c, const struct ct_node *msg,
                             const char *invalid_reason, const char *invalid_message,
                             int64_t now_ms, const struct ct_dlg_action **out)
{
    struct dlg_rctx r = {.a = &c->w->scratch, .conn = c, .message = msg, .now = now_ms,
                         .start = now_ms};
    c->turn++;
    const char *type = NULL;
    const char *dprop = c->ch && c->ch->dispatch ? c->ch->dispatch : "type";
    if (msg && msg->kind == CT_OBJECT)
        type = ct_obj_str(msg, dprop);
    if (!invalid_reason && msg && c->ch) {
        /* Tell the frame apart and check it against the contract. */
        struct ct_diags vd;
        ct_diags_init(&vd);
        const struct ct_asyncapi_message *m = ct_asyncapi_identify(c->ch, CT_AA_RECEIVE, msg);
        if (!m) {
            ct_asyncapi_match(c->set->api, c->ch, CT_AA_RECEIVE, msg, c->w->vc, &vd);
            invalid_reason = "unknown_type";
            invalid_message = first_error(&c->w->scratch, &vd);
        } else if (!ct_asyncapi_validate(m, c->w->vc, msg, &vd)) {
            invalid_reason = "schema";
            invalid_message = first_error(&c->w->scratch, &vd);
        }
        ct_diags_deinit(&vd);
    }
    enum dlg_event ev = invalid_reason ? EV_INVALID : EV_MESSAGE;
    if (invalid_reason) {
        c->invalid_streak++;
        r.invalid_reason = invalid_reason;
        r.invalid_message = invalid_message;
    } else {
        c->invalid_streak = 0;
    }
    const struct dlg_rule *rule = find_rule(c, ev, &r, type, NULL);
    return rule ? run_rule(c, rule, &r, now_ms, out) : 0;
}

size_t ct_dialogue_on_message(struct ct_dialogue_conn *c, const struct ct_node *msg,
                              int64_t now_ms, const struct ct_dlg_action **out)
{
    begin_call(c);
    *out = NULL;
    if (c->closed)
        return 0;
    return dispatch_frame(c, msg, NULL, NULL, now_ms, out);
}

size_t ct_dialogue_on_text(struct ct_dialogue_conn *c, const char *text, size_t len,
                           int64_t now_ms, const struct ct_dlg_action **out)
{
    begin_call(c);
    *out = NULL;
    if (c->closed)
        return 0;
    struct ct_source *src = ct_arena_zalloc(&c->w->scratch, sizeof(*src));
    src->name = "<frame>";
    src->text = ct_arena_strndup(&c->w->scratch, text, len);
    src->len = len;
    struct ct_diags pd;
    ct_diags_init(&pd);
    struct ct_parse_limits lim = {.max_bytes = 1 << 20, .max_depth = 64};
    const struct ct_node *msg = ct_json_parse(&c->w->scratch, src, &lim, &pd);
    const char *why = NULL;
    if (!msg) {
        const struct ct_diag *g = pd.n ? &pd.v[0] : NULL;
        why = g ? ct_arena_strdup(&c->w->scratch, g->msg) : "not JSON";
        if (g && g->line) {
            char *w = ct_xasprintf("line %u, column %u: %s", g->line, g->col, g->msg);
            why = ct_arena_strdup(&c->w->scratch, w);
            ct_free(w);
        }
    }
    ct_diags_deinit(&pd);
    return dispatch_frame(c, msg, msg ? NULL : "json", why, now_ms, out);
}

size_t ct_dialogue_sse(struct ct_dialogue_conn *c, const char *operation_id,
                       const struct ct_node *request_body, int64_t now_ms,
                       const struct ct_dlg_action **out)
{
    begin_call(c);
    *out = NULL;
    struct dlg_rctx r = {.a = &c->w->scratch, .conn = c, .request = request_body, .now = now_ms,
                         .start = now_ms};
    const struct dlg_rule *rule = find_rule(c, EV_SSE, &r, NULL, operation_id);
    return rule ? run_rule(c, rule, &r, now_ms, out) : 0;
}

int ct_dialogue_upgrade_status(const struct ct_dialogue_set *s, const struct ct_dialogue_ctx *ctx,
                               const char **rule_name)
{
    if (rule_name)
        *rule_name = NULL;
    bool any = false;
    for (size_t i = 0; i < s->nrules && !any; i++)
        any = s->rules[i]->on == EV_UPGRADE;
    if (!any)
        return 0;
    struct ct_dialogue_conn *c = ct_dialogue_conn_new(s, ctx);
    struct dlg_rctx r = {.a = &c->w->scratch, .conn = c, .now = ctx->now_ms, .start = ctx->now_ms};
    const struct dlg_rule *rule = find_rule(c, EV_UPGRADE, &r, NULL, NULL);
    int status = rule ? rule->refuse : 0;
    if (rule && rule_name)
        *rule_name = rule->name;
    ct_dialogue_conn_free(c);
    return status;
}

/* --- SSE examples ----------------------------------------------------------------------------- */

struct sse_record {
    struct ct_buf data, event, id;
    bool have_data, have_event, have_id;
};

static void record_reset(struct sse_record *rec)
{
    ct_buf_deinit(&rec->data);
    ct_buf_deinit(&rec->event);
    ct_buf_deinit(&rec->id);
    rec->have_data = rec->have_event = rec->have_id = false;
}

/* A blank line ends a record; records without data are ignored (as browsers do). */
static void record_flush(struct ct_dialogue_conn *c, struct sse_record *rec, uint32_t every_ms,
                         const char *done)
{
    if (rec->have_data) {
        struct ct_dialogue_work *w = c->w;
        w->acts = ct_xgrow(w->acts, &w->capacts, c->nacts + 1, sizeof(*w->acts));
        struct ct_dlg_action *a = &w->acts[c->nacts++];
        memset(a, 0, sizeof(*a));
        a->kind = CT_DLG_SEND;
        a->delay_ms = c->nacts == 1 ? 0 : every_ms;
        a->text = ct_arena_strndup(&c->w->scratch, ct_buf_cstr(&rec->data), rec->data.len);
        a->len = rec->data.len;
        a->event = rec->have_event ? ct_arena_strdup(&c->w->scratch, ct_buf_cstr(&rec->event)) : NULL;
        a->id = rec->have_id ? ct_arena_strdup(&c->w->scratch, ct_buf_cstr(&rec->id)) : NULL;
        a->done = done && !strcmp(a->text, done);
    }
    record_reset(rec);
}

size_t ct_dialogue_sse_example(struct ct_dialogue_conn *c, const char *text, size_t len,
                               uint32_t every_ms, const char *done,
                               const struct ct_dlg_action **out)
{
    begin_call(c);
    struct sse_record rec;
    memset(&rec, 0, sizeof(rec));
    size_t i = 0;
    while (i < len) {
        size_t st = i;
        while (i < len && text[i] != '\n')
            i++;
        size_t ll = i - st;
        if (ll && text[st + ll - 1] == '\r')
            ll--;
        const char *line = text + st;
        i++; /* past the newline */
        if (ll == 0) {
            record_flush(c, &rec, every_ms, done);
            continue;
        }
        if (line[0] == ':')
            continue; /* a comment */
        const char *colon = memchr(line, ':', ll);
        size_t nl = colon ? (size_t)(colon - line) : ll;
        const char *v = colon ? colon + 1 : line + ll;
        size_t vl = ll - (size_t)(v - line);
        if (vl && *v == ' ') {
            v++;
            vl--;
        }
        if (nl == 4 && !memcmp(line, "data", 4)) {
            if (rec.have_data)
                ct_buf_addc(&rec.data, '\n');
            ct_buf_add(&rec.data, v, vl);
            rec.have_data = true;
        } else if (nl == 5 && !memcmp(line, "event", 5)) {
            ct_buf_deinit(&rec.event);
            ct_buf_add(&rec.event, v, vl);
            rec.have_event = true;
        } else if (nl == 2 && !memcmp(line, "id", 2)) {
            ct_buf_deinit(&rec.id);
            ct_buf_add(&rec.id, v, vl);
            rec.have_id = true;
        }
    }
    record_flush(c, &rec, every_ms, done); /* a last record without its blank line */
    *out = c->w->acts;
    return c->nacts;
}

void ct_dialogue_conn_trim(struct ct_dialogue_conn *c)
{
    /* The own work area's memory goes back to the allocator; the next call makes it anew. A
     * shared one is its owner's to keep. */
    c->nacts = 0;
    if (!c->own_work)
        return;
    ct_arena_deinit(&c->w->scratch);
    ct_arena_init(&c->w->scratch, 1 << 12);
    ct_free(c->w->acts);
    c->w->acts = NULL;
    c->w->capacts = 0;
    ct_buf_deinit(&c->w->frame);
    ct_buf_deinit(&c->w->text);
}
