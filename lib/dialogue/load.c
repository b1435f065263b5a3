/* load.c - dialogue scripts to a compiled, immutable set (dialogue.h).
 *
 * Two layers of checks, every problem reported with file:line:col:
 *  1. the shape of each file against the format's own JSON Schema (dialogue.schema.yaml, via the
 *     project's validator), with the validator's messages re-located at the offending key or
 *     value of the script and a did-you-mean for unknown keys and enum values;
 *  2. what a schema cannot say: names that must exist (frames, state variables, close codes,
 *     message types, operations), template expressions and regular expressions, keys that go
 *     together, frames without templates validated against the contract at load.
 * A file that fails (1) is not compiled further (its errors would be noise); the others are, so
 * one run reports every broken file. Any error yields no set. */
#include "dialogue_impl.h"

#include "core/alloc.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct loader {
    struct ct_dialogue_set *s;
    struct ct_arena *a;
    struct ct_docset *ds;
    struct ct_diags *diags;
    const struct ct_dialogue_env *env;
    size_t seq; /* rules in file order */
};

static struct ct_diag *err_at(struct loader *L, const struct ct_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static struct ct_diag *err_at(struct loader *L, const struct ct_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct ct_diag *g = ct_diag_atv(L->diags, CT_SEV_ERROR, CT__E_DIALOGUE, n, fmt, ap);
    va_end(ap);
    return g;
}

static struct ct_diag *warn_at(struct loader *L, const struct ct_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static struct ct_diag *warn_at(struct loader *L, const struct ct_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct ct_diag *g = ct_diag_atv(L->diags, CT_SEV_WARNING, CT__E_DIALOGUE, n, fmt, ap);
    va_end(ap);
    return g;
}

static const struct ct_member *member(const struct ct_node *obj, const char *key)
{
    return obj && obj->kind == CT_OBJECT ? ct_obj_member(obj, key) : NULL;
}

static void hint_list(struct ct_diag *g, const char *word, const char *const *cand, size_t n,
                      const char *what)
{
    if (!g)
        return;
    const char *best = word ? ct__dlg_suggest(word, cand, n) : NULL;
    if (best) {
        ct_diag_set_hint(g, "did you mean '%s'?", best);
        return;
    }
    if (!n)
        return;
    struct ct_buf b;
    ct_buf_init(&b, 0);
    for (size_t i = 0; i < n && i < 16; i++)
        ct_buf_printf(&b, "%s'%s'", i ? ", " : "", cand[i]);
    if (n > 16)
        ct_buf_printf(&b, " and %zu more", n - 16);
    ct_diag_set_hint(g, "%s: %s", what, ct_buf_cstr(&b));
    ct_buf_deinit(&b);
}

/* --- layer 1: the format's JSON Schema -------------------------------------------------------- */

const char *ct_dialogue_schema_text(void)
{
    return ct__dialogue_schema_text;
}

/* "rules[2].do[0].send" for "/rules/2/do/0/send". */
static void friendly_path(const struct ct_node *root, const char *ptr, struct ct_buf *out)
{
    const struct ct_node *n = root;
    const char *p = ptr;
    if (!*p) {
        ct_buf_adds(out, "the script");
        return;
    }
    while (*p == '/') {
        const char *st = ++p;
        while (*p && *p != '/')
            p++;
        char tok[128];
        size_t k = 0;
        for (const char *q = st; q < p && k < sizeof(tok) - 1; q++) {
            if (*q == '~' && q + 1 < p) {
                tok[k++] = q[1] == '1' ? '/' : '~';
                q++;
            } else {
                tok[k++] = *q;
            }
        }
        tok[k] = 0;
        if (n && n->kind == CT_ARRAY) {
            ct_buf_printf(out, "[%s]", tok);
            n = ct__dlg_path_get(n, &(struct dlg_seg){.key = tok, .len = (uint32_t)k}, 1);
        } else {
            ct_buf_printf(out, "%s%s", out->len ? "." : "", tok);
            n = n ? ct_obj_getn(n, tok, k) : NULL;
        }
    }
}

/* The enum values of a failing `enum` keyword, for a did-you-mean. */
static void enum_hint(struct ct_diag *g, const struct ct_node *schema_root, const char *kw_ptr,
                      const struct ct_node *value)
{
    if (!g || !kw_ptr || kw_ptr[0] != '#' || !value || value->kind != CT_STRING)
        return;
    size_t l = strlen(kw_ptr);
    if (l < 5 || strcmp(kw_ptr + l - 5, "/enum") != 0)
        return;
    const struct ct_node *en = ct_pointer_get(schema_root, kw_ptr + 1, l - 1, false);
    if (!en || en->kind != CT_ARRAY)
        return;
    const char *cand[32];
    size_t n = 0;
    for (uint32_t i = 0; i < en->len && n < 32; i++)
        if (en->u.items[i]->kind == CT_STRING)
            cand[n++] = en->u.items[i]->u.str;
    const char *best = ct__dlg_suggest(value->u.str, cand, n);
    if (best)
        ct_diag_set_hint(g, "did you mean '%s'?", best);
}

/* For an unknown key: the keys the mapping takes (the `properties` beside the failing
 * `additionalProperties`), as a did-you-mean or a list. `quoted` is "'name'..." from the
 * validator's message. */
static void key_hint(struct ct_diag *g, const struct ct_node *schema_root, const char *kw_ptr,
                     const char *quoted)
{
    if (!kw_ptr || kw_ptr[0] != '#' || quoted[0] != '\'')
        return;
    const char *end = strchr(quoted + 1, '\'');
    if (!end)
        return;
    char word[128];
    snprintf(word, sizeof(word), "%.*s", (int)(end - quoted - 1), quoted + 1);
    size_t l = strlen(kw_ptr);
    static const char tail[] = "/additionalProperties";
    if (l < sizeof(tail) || strcmp(kw_ptr + l - (sizeof(tail) - 1), tail) != 0)
        return;
    const struct ct_node *parent =
        ct_pointer_get(schema_root, kw_ptr + 1, l - 1 - (sizeof(tail) - 1), false);
    const struct ct_node *props = parent ? ct_obj_get(parent, "properties") : NULL;
    if (!props || props->kind != CT_OBJECT)
        return;
    const char *cand[64];
    size_t n = 0;
    for (uint32_t i = 0; i < props->len && n < 64; i++)
        cand[n++] = props->u.members[i].key->u.str;
    hint_list(g, word, cand, n, "expected one of");
}

/* Re-report the validator's findings at the script's nodes, in the script's words. */
static void remap(struct loader *L, const struct ct_diags *tmp, const struct ct_node *root,
                  const struct ct_node *schema_root)
{
    for (size_t i = 0; i < tmp->n; i++) {
        const struct ct_diag *g = &tmp->v[i];
        if (g->sev != CT_SEV_ERROR)
            continue;
        const struct ct_diag *note =
            i + 1 < tmp->n && tmp->v[i + 1].sev == CT_SEV_NOTE ? &tmp->v[i + 1] : NULL;
        const char *ip = g->instance_ptr ? g->instance_ptr : "";
        const char *msg = g->msg;
        /* "at /rules/0: TEXT (keyword #/...)" -> "TEXT" */
        size_t skip = 3 + (ip[0] ? strlen(ip) : strlen("the root")) + 2;
        if (strncmp(msg, "at ", 3) == 0 && strlen(msg) >= skip)
            msg += skip;
        size_t mlen = strlen(msg);
        const char *kw = strstr(msg, " (keyword ");
        if (kw)
            mlen = (size_t)(kw - msg);
        struct ct_buf text;
        ct_buf_init(&text, 0);
        static const char unexpected[] = "unexpected property ";
        if (!strncmp(msg, unexpected, sizeof(unexpected) - 1)) {
            ct_buf_adds(&text, "unknown key ");
            ct_buf_add(&text, msg + sizeof(unexpected) - 1, mlen - (sizeof(unexpected) - 1));
        } else {
            ct_buf_add(&text, msg, mlen);
        }
        struct ct_buf where;
        ct_buf_init(&where, 0);
        friendly_path(root, ip, &where);
        const struct ct_node *inst = ct_pointer_get(root, ip, strlen(ip), false);
        const struct ct_source *src = note ? note->src : inst ? inst->src : root->src;
        uint32_t line = note ? note->line : inst ? inst->line : root->line;
        uint32_t col = note ? note->col : inst ? inst->col : root->col;
        struct ct_diag *d = ct_diags_add(L->diags, CT_SEV_ERROR, CT__E_DIALOGUE, src, line, col,
                                         "%s: %s", ct_buf_cstr(&where), ct_buf_cstr(&text));
        if (d) {
            if (g->hint)
                ct_diag_set_hint(d, "%s", g->hint);
            else if (!strncmp(msg, unexpected, sizeof(unexpected) - 1))
                key_hint(d, schema_root, g->keyword_ptr, msg + sizeof(unexpected) - 1);
            else
                enum_hint(d, schema_root, g->keyword_ptr, inst);
            d->instance_ptr = ct_xstrdup(ip);
        }
        ct_buf_deinit(&where);
        ct_buf_deinit(&text);
    }
}

/* --- small values ----------------------------------------------------------------------------- */

/* Durations (the schema checked the shape): milliseconds, or "250ms", "1.5s", "2m". */
static uint32_t duration_ms(const struct ct_node *n)
{
    if (!n)
        return 0;
    if (n->kind == CT_NUMBER)
        return (uint32_t)n->num;
    char *end = NULL;
    double v = strtod(n->u.str, &end);
    double mul = !strcmp(end, "ms") ? 1 : !strcmp(end, "s") ? 1000 : 60000;
    double ms = v * mul + 0.5;
    return ms > 3600000.0 ? 3600000u : (uint32_t)ms;
}

static bool valid_name(const char *s)
{
    if (!s[0] || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

static struct ct_regex *compile_regex(struct loader *L, const struct ct_node *n)
{
    struct ct_regex *re = ct_xcalloc(1, sizeof(*re));
    char *msg = NULL;
    size_t off = 0;
    if (ct__regex_compile_native(re, n->u.str, n->len, &msg, &off) != 0) {
        ct__dlg_err_in(L->diags, n, off, "bad regular expression: %s", msg);
        ct_free(msg);
        ct_free(re);
        return NULL;
    }
    re->source = n->u.str;
    struct ct_dialogue_set *s = L->s;
    s->regexes = ct_xgrow(s->regexes, &s->capregexes, s->nregexes + 1, sizeof(*s->regexes));
    s->regexes[s->nregexes++] = re;
    return re;
}

static struct dlg_strs strings(struct loader *L, const struct ct_node *n)
{
    struct dlg_strs r = {0};
    if (!n)
        return r;
    if (n->kind == CT_STRING) {
        r.v = ct_arena_alloc(L->a, sizeof(char *));
        r.v[0] = n->u.str;
        r.n = 1;
        return r;
    }
    r.v = ct_arena_alloc(L->a, (n->len + 1) * sizeof(char *));
    for (uint32_t i = 0; i < n->len; i++)
        r.v[r.n++] = n->u.items[i]->u.str;
    return r;
}

/* --- names: state variables, frames ----------------------------------------------------------- */

static long state_index(const struct ct_dialogue_set *s, const char *name)
{
    for (size_t i = 0; i < s->nstate; i++)
        if (!strcmp(s->state_names[i], name))
            return (long)i;
    return -1;
}

static void add_state(struct loader *L, const struct ct_node *key, const struct ct_node *init)
{
    struct ct_dialogue_set *s = L->s;
    if (!valid_name(key->u.str)) {
        err_at(L, key,
               "state variable '%s': expected a name of letters, digits and '_' (not starting "
               "with a digit)",
               key->u.str);
        return;
    }
    long i = state_index(s, key->u.str);
    if (i >= 0) {
        if (init && s->state_init[i] && !ct_node_equal(init, s->state_init[i])) {
            struct ct_diag *g = err_at(L, key,
                                       "state variable '%s' has two initial values: expected one",
                                       key->u.str);
            ct_diag_set_hint(g, "the other is at %s:%u", s->state_init[i]->src
                                                              ? s->state_init[i]->src->name
                                                              : "?",
                             s->state_init[i]->line);
        } else if (init) {
            s->state_init[i] = init;
        }
        return;
    }
    /* Grow both arrays in the arena; variables are few. */
    const char **names = ct_arena_alloc(L->a, (s->nstate + 1) * sizeof(*names));
    const struct ct_node **inits = ct_arena_alloc(L->a, (s->nstate + 1) * sizeof(*inits));
    if (s->nstate) {
        memcpy(names, s->state_names, s->nstate * sizeof(*names));
        memcpy(inits, s->state_init, s->nstate * sizeof(*inits));
    }
    names[s->nstate] = key->u.str;
    inits[s->nstate] = init;
    s->state_names = names;
    s->state_init = inits;
    s->nstate++;
}

static struct dlg_frame *find_frame(const struct ct_dialogue_set *s, const char *name)
{
    for (size_t i = 0; i < s->nframes; i++)
        if (!strcmp(s->frames[i].name, name))
            return &s->frames[i];
    return NULL;
}

static struct dlg_tv *frame_value(struct loader *L, const struct ct_node *n,
                                  const struct dlg_scope *scope);

static struct dlg_tv *merge(struct loader *L, struct dlg_tv *base, struct dlg_tv *over)
{
    if (!base || !over || base->kind != TV_OBJ || over->kind != TV_OBJ)
        return over;
    struct dlg_tv *m = ct_arena_zalloc(L->a, sizeof(*m));
    *m = *base;
    m->node = over->node;
    m->members = ct_arena_zalloc(L->a, (base->n + over->n + 1) * sizeof(*m->members));
    memcpy(m->members, base->members, base->n * sizeof(*m->members));
    m->n = base->n;
    for (uint32_t i = 0; i < over->n; i++) {
        const struct ct_node *k = over->members[i].key;
        bool replaced = false;
        for (uint32_t j = 0; j < base->n; j++) {
            if (!strcmp(m->members[j].key->u.str, k->u.str)) {
                m->members[j].val = merge(L, m->members[j].val, over->members[i].val);
                replaced = true;
                break;
            }
        }
        if (!replaced)
            m->members[m->n++] = over->members[i];
    }
    m->has_expr = base->has_expr || over->has_expr;
    return m;
}

static const char **frame_names(struct loader *L, size_t *n)
{
    const char **v = ct_arena_alloc(L->a, (L->s->nframes + 1) * sizeof(*v));
    for (size_t i = 0; i < L->s->nframes; i++)
        v[i] = L->s->frames[i].name;
    *n = L->s->nframes;
    return v;
}

static struct dlg_tv *named_frame(struct loader *L, const struct ct_node *name_node,
                                  const char *name)
{
    struct dlg_frame *f = find_frame(L->s, name);
    if (!f) {
        size_t nf;
        const char **names = frame_names(L, &nf);
        struct ct_diag *g = err_at(L, name_node,
                                   "unknown frame '%s': expected the name of a frame under "
                                   "'frames' in one of the scripts",
                                   name);
        hint_list(g, name, names, nf, "frames");
        return NULL;
    }
    if (f->state == 2)
        return f->tv;
    if (f->state == 1) {
        err_at(L, name_node, "frame '%s' uses itself through '$use': expected no cycle", name);
        return NULL;
    }
    f->state = 1;
    struct dlg_scope scope = {.state = L->s->state_names, .nstate = L->s->nstate};
    f->tv = frame_value(L, f->node, &scope);
    f->state = 2;
    return f->tv;
}

/* A frame position: a frame's name, a mapping extending one with `$use`, or a template. */
static struct dlg_tv *frame_value(struct loader *L, const struct ct_node *n,
                                  const struct dlg_scope *scope)
{
    if (n->kind == CT_STRING)
        return named_frame(L, n, n->u.str);
    const struct ct_member *use = member(n, "$use");
    struct dlg_tv *tv = ct__dlg_compile(L->a, n, scope, L->diags);
    if (!tv || !use)
        return tv;
    if (use->val->kind != CT_STRING) {
        err_at(L, use->val, "'$use': expected the name of a frame, got %s",
               ct_node_type_name(use->val));
        return NULL;
    }
    /* Drop `$use` itself from the overriding mapping. */
    uint32_t k = 0;
    for (uint32_t i = 0; i < tv->n; i++)
        if (strcmp(tv->members[i].key->u.str, "$use") != 0)
            tv->members[k++] = tv->members[i];
    tv->n = k;
    struct dlg_tv *base = named_frame(L, use->val, use->val->u.str);
    return base ? merge(L, base, tv) : NULL;
}

/* --- checks against the contract ------------------------------------------------------------- */

static const struct ct_asyncapi_channel *script_channel(struct loader *L,
                                                        const struct dlg_script *sc)
{
    if (sc->ch)
        return sc->ch;
    /* No channel named: the document's only channel, if it has one. */
    if (L->env && L->env->api && L->env->api->nchannels == 1)
        return &L->env->api->channels[0];
    return NULL;
}

/* A WebSocket frame: its dispatch value (`type`) when written literally must name a message the
 * server sends; a frame without any template is validated in full. */
static void check_ws_frame(struct loader *L, const struct dlg_script *sc, const struct dlg_tv *tv,
                           const struct ct_node *at, bool invalid)
{
    const struct ct_asyncapi_channel *ch = script_channel(L, sc);
    if (!tv || !ch || !ch->dispatch)
        return;
    if (tv->kind == TV_OBJ) {
        for (uint32_t i = 0; i < tv->n; i++) {
            const struct dlg_tv *v = tv->members[i].val;
            if (strcmp(tv->members[i].key->u.str, ch->dispatch) != 0 || v->kind != TV_LIT ||
                v->node->kind != CT_STRING)
                continue;
            if (ct_asyncapi_message(ch, CT_AA_SEND, v->node->u.str) || invalid)
                break;
            const char *names[64];
            size_t nn = 0;
            for (unsigned j = 0; j < ch->nmessages && nn < 64; j++)
                if ((ch->messages[j].dirs & CT_AA_SEND) && ch->messages[j].type_const)
                    names[nn++] = ch->messages[j].type_const;
            struct ct_diag *g = err_at(L, v->node,
                                       "frame %s '%s' is no message the server sends on channel "
                                       "'%s'",
                                       ch->dispatch, v->node->u.str, ch->id);
            hint_list(g, v->node->u.str, names, nn, "the server sends");
            return;
        }
    }
    if (tv->has_expr)
        return;
    /* No template anywhere: render and validate now. */
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct__dlg_render_json(NULL, tv, &b);
    struct ct_arena tmpa;
    ct_arena_init(&tmpa, 4096);
    struct ct_source src = {.name = "<frame>", .text = ct_buf_cstr(&b), .len = b.len};
    struct ct_diags vd;
    ct_diags_init(&vd);
    const struct ct_node *frame = ct_json_parse(&tmpa, &src, NULL, &vd);
    bool ok = frame && ct_asyncapi_match(L->env->api, ch, CT_AA_SEND, frame, NULL, &vd);
    if (!ok && !invalid) {
        for (size_t i = 0; i < vd.n; i++) {
            if (vd.v[i].sev != CT_SEV_ERROR)
                continue;
            struct ct_diag *g = err_at(L, at, "frame breaks the contract: %s", vd.v[i].msg);
            ct_diag_set_hint(g, "mark the action 'invalid: true' to send it on purpose");
        }
    } else if (ok && invalid) {
        warn_at(L, at, "frame marked 'invalid: true' is valid: expected a contract violation");
    }
    ct_diags_deinit(&vd);
    ct_arena_deinit(&tmpa);
    ct_buf_deinit(&b);
}

static bool close_code(struct loader *L, const struct dlg_script *sc, const struct ct_node *n,
                       uint16_t *code)
{
    const struct ct_asyncapi_channel *ch = script_channel(L, sc);
    if (n->kind == CT_STRING) {
        int c = ch ? ct_asyncapi_close_code(ch, n->u.str) : -1;
        if (c < 0 && !ch && L->env && L->env->api) {
            /* No single channel: any channel's names. */
            for (unsigned i = 0; i < L->env->api->nchannels && c < 0; i++)
                c = ct_asyncapi_close_code(&L->env->api->channels[i], n->u.str);
        }
        if (c >= 0) {
            *code = (uint16_t)c;
            return true;
        }
        if (!L->env || !L->env->api) {
            err_at(L, n,
                   "close code '%s': names come from the AsyncAPI document's x-close-codes, and "
                   "no document was given: expected a number",
                   n->u.str);
            return false;
        }
        const char *names[64];
        size_t nn = 0;
        for (unsigned i = 0; ch && i < ch->ncloses && nn < 64; i++)
            names[nn++] = ch->closes[i].name;
        struct ct_diag *g = err_at(L, n, "unknown close code '%s': expected a name from the "
                                         "channel's x-close-codes or a number",
                                   n->u.str);
        hint_list(g, n->u.str, names, nn, "names");
        return false;
    }
    *code = (uint16_t)n->num;
    if (ch && ch->ncloses) {
        for (unsigned i = 0; i < ch->ncloses; i++)
            if (ch->closes[i].code == *code)
                return true;
        struct ct_buf b;
        ct_buf_init(&b, 0);
        for (unsigned i = 0; i < ch->ncloses; i++)
            ct_buf_printf(&b, "%s%u %s", i ? ", " : "", ch->closes[i].code, ch->closes[i].name);
        struct ct_diag *g = err_at(L, n, "close code %u is not in the x-close-codes of channel "
                                         "'%s'",
                                   *code, ch->id);
        ct_diag_set_hint(g, "the channel's codes: %s", ct_buf_cstr(&b));
        ct_buf_deinit(&b);
        return false;
    }
    return true;
}

/* The SSE operation `op` of the OpenAPI document, registered once in the set. */
static const struct dlg_sse_op *sse_op(struct loader *L, const struct ct_node *opn)
{
    struct ct_dialogue_set *s = L->s;
    for (size_t i = 0; i < s->nsse_ops; i++)
        if (!strcmp(s->sse_ops[i]->operation, opn->u.str))
            return s->sse_ops[i];
    const struct ct_oas *oas = L->env ? L->env->oas : NULL;
    if (!oas)
        return NULL;
    const struct ct_oas_op *op = ct_oas_find_op(oas, opn->u.str);
    if (!op) {
        const char **ids = ct_arena_alloc(L->a, (oas->nops + 1) * sizeof(*ids));
        size_t n = 0;
        for (unsigned i = 0; i < oas->nops; i++)
            if (oas->ops[i].operation_id)
                ids[n++] = oas->ops[i].operation_id;
        struct ct_diag *g = err_at(L, opn, "unknown operation '%s': expected an operationId of "
                                           "the OpenAPI document",
                                   opn->u.str);
        hint_list(g, opn->u.str, ids, n, "operations");
        return NULL;
    }
    const struct ct_oas_media *media = NULL;
    for (unsigned i = 0; i < op->nresponses && !media; i++)
        for (unsigned j = 0; j < op->responses[i].nmedia && !media; j++)
            if (!strcmp(op->responses[i].media[j].type, "text/event-stream"))
                media = &op->responses[i].media[j];
    if (!media) {
        err_at(L, opn, "operation '%s' answers no text/event-stream: expected an SSE operation",
               opn->u.str);
        return NULL;
    }
    s->sse_ops = ct_xrealloc(s->sse_ops, (s->nsse_ops + 1) * sizeof(*s->sse_ops));
    struct dlg_sse_op *so = ct_arena_zalloc(L->a, sizeof(*so));
    s->sse_ops[s->nsse_ops++] = so;
    so->operation = opn->u.str;
    so->done = ct_obj_str(media->node, "x-sse-done");
    const struct ct_node *ds = ct_obj_get(media->node, "x-sse-data-schema");
    if (ds) {
        if (!s->sse_schemas) {
            struct ct_schema_opts o = {
                .dialect = oas->minor == 0 ? CT_DIALECT_OAS30 : CT_DIALECT_OAS31,
                .direction = CT_DIR_RESPONSE,
                .format_assert = true,
                .all_errors = true,
            };
            s->sse_schemas = ct_schema_set_new(oas->docset, &o);
        }
        so->data = ct_schema_set_get(s->sse_schemas, ds, L->diags);
    }
    return so;
}

/* --- rules ------------------------------------------------------------------------------------ */

static const char *const verbs[] = {"send", "raw", "stream", "wait", "close", "drop", "pace",
                                    "done"};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

struct rule_ctx {
    struct dlg_rule *r;
    const struct dlg_script *sc;
    struct dlg_scope scope;
    bool ws;  /* open, message, invalid: WebSocket frames */
};

static struct dlg_tv *typing_frame(struct loader *L, const struct ct_node *at, const char *name)
{
    if (!find_frame(L->s, name)) {
        err_at(L, at, "'typing: true' needs a frame named '%s' under 'frames'", name);
        return NULL;
    }
    return named_frame(L, at, name);
}

static void compile_stream(struct loader *L, struct rule_ctx *rc, struct dlg_action *act,
                           const struct ct_node *n)
{
    struct dlg_stream *st = ct_arena_zalloc(L->a, sizeof(*st));
    act->stream = st;
    st->cut_after = -1;
    st->text = ct__dlg_compile(L->a, ct_obj_get(n, "text"), &rc->scope, L->diags);
    const struct ct_member *chunks = member(n, "chunks"), *size = member(n, "chunk_size");
    if (chunks && size)
        err_at(L, size->key, "'chunks' and 'chunk_size' both given: expected one of them");
    st->chunks = chunks ? (uint32_t)chunks->val->num : 0;
    st->chunk_size = size ? (uint32_t)size->val->num : chunks ? 0 : 20;
    const struct ct_member *every = member(n, "every"), *cps = member(n, "cps");
    if (every && cps)
        err_at(L, cps->key, "'every' and 'cps' both given: expected one pace");
    st->every_ms = every ? duration_ms(every->val) : 0;
    st->cps = cps ? cps->val->num : 0;
    const struct ct_member *think = member(n, "think");
    st->has_think = think != NULL;
    st->think_ms = think ? duration_ms(think->val) : 0;
    const struct ct_member *fr = member(n, "frame");
    if (fr) {
        st->frame = frame_value(L, fr->val, &rc->scope);
    } else if (find_frame(L->s, "chunk")) {
        st->frame = named_frame(L, n, "chunk");
    } else {
        err_at(L, n, "stream without 'frame': expected the chunk frame (or a frame named "
                     "'chunk' under 'frames')");
    }
    const struct ct_member *last = member(n, "last_frame"), *then = member(n, "then");
    if (last)
        st->last_frame = frame_value(L, last->val, &rc->scope);
    if (then)
        st->then = frame_value(L, then->val, &rc->scope);
    const struct ct_member *final = member(n, "final");
    st->final_empty = final && !strcmp(final->val->u.str, "empty");
    const struct ct_member *cut = member(n, "cut_after");
    if (cut)
        st->cut_after = (long)cut->val->num;
    const struct ct_member *typing = member(n, "typing");
    if (typing && !rc->ws) {
        err_at(L, typing->key, "'typing' in an SSE stream: typing frames exist only on "
                               "WebSocket channels");
    } else if (typing && typing->val->kind == CT_BOOL && (typing->val->flags & CT_NF_TRUE)) {
        st->typing_start = typing_frame(L, typing->val, "typing_start");
        st->typing_stop = typing_frame(L, typing->val, "typing_stop");
    } else if (typing && typing->val->kind == CT_ARRAY) {
        st->typing_start = named_frame(L, typing->val->u.items[0], typing->val->u.items[0]->u.str);
        st->typing_stop = named_frame(L, typing->val->u.items[1], typing->val->u.items[1]->u.str);
    }
    const struct ct_member *ev = member(n, "event");
    if (ev && rc->ws)
        err_at(L, ev->key, "'event' on a WebSocket rule: expected it only in 'on: sse' rules");
    if (ev)
        act->event = ct__dlg_compile(L->a, ev->val, &rc->scope, L->diags);
    if (rc->ws) {
        check_ws_frame(L, rc->sc, st->frame, fr ? fr->val : n, false);
        if (st->last_frame)
            check_ws_frame(L, rc->sc, st->last_frame, last->val, false);
        if (st->then)
            check_ws_frame(L, rc->sc, st->then, then->val, false);
    }
}

static void compile_action(struct loader *L, struct rule_ctx *rc, struct dlg_action *act,
                           const struct ct_node *n)
{
    act->at = n;
    const struct ct_member *verb = NULL;
    for (uint32_t i = 0; i < n->len; i++) {
        const struct ct_node *k = n->u.members[i].key;
        for (size_t v = 0; v < NVERBS; v++) {
            if (strcmp(k->u.str, verbs[v]) != 0)
                continue;
            if (verb) {
                err_at(L, k, "action has both '%s' and '%s': expected one of send, raw, stream, "
                             "wait, close, drop, pace, done per list item",
                       verb->key->u.str, k->u.str);
                return;
            }
            verb = &n->u.members[i];
            act->kind = (enum dlg_akind)v;
        }
    }
    if (!verb) {
        err_at(L, n, "action without a verb: expected one of send, raw, stream, wait, close, "
                     "drop, pace, done");
        return;
    }
    const struct ct_member *after = member(n, "after"), *inv = member(n, "invalid");
    const struct ct_member *ev = member(n, "event"), *id = member(n, "id");
    act->after_ms = after ? duration_ms(after->val) : 0;
    act->invalid = inv && (inv->val->flags & CT_NF_TRUE);
    if (inv && act->kind != A_SEND && act->kind != A_RAW)
        err_at(L, inv->key, "'invalid' on a '%s' action: expected it only with 'send' or 'raw'",
               verb->key->u.str);
    if ((ev || id) && rc->ws)
        err_at(L, (ev ? ev : id)->key,
               "'%s' on a WebSocket rule: SSE fields go only in 'on: sse' rules",
               (ev ? ev : id)->key->u.str);
    if ((ev || id) && act->kind != A_SEND && act->kind != A_RAW)
        err_at(L, (ev ? ev : id)->key, "'%s' on a '%s' action: expected it with 'send' or 'raw'",
               (ev ? ev : id)->key->u.str, verb->key->u.str);
    if (ev)
        act->event = ct__dlg_compile(L->a, ev->val, &rc->scope, L->diags);
    if (id)
        act->id = ct__dlg_compile(L->a, id->val, &rc->scope, L->diags);
    const struct ct_node *v = verb->val;
    switch (act->kind) {
    case A_SEND:
        act->value = frame_value(L, v, &rc->scope);
        if (rc->ws)
            check_ws_frame(L, rc->sc, act->value, v, act->invalid);
        break;
    case A_RAW:
        act->value = ct__dlg_compile(L->a, v, &rc->scope, L->diags);
        if (rc->ws && !act->invalid) {
            struct ct_diag *g = err_at(L, verb->key, "a raw WebSocket frame is not checked "
                                                     "against the contract: mark it "
                                                     "'invalid: true'");
            ct_diag_set_hint(g, "use 'send' for frames that keep the contract");
        }
        break;
    case A_STREAM:
        compile_stream(L, rc, act, v);
        break;
    case A_WAIT:
        act->wait_ms = duration_ms(v);
        break;
    case A_CLOSE: {
        if (!rc->ws) {
            err_at(L, verb->key, "'close' in an SSE rule: expected 'drop' (an SSE answer ends "
                                 "after its last action)");
            break;
        }
        const struct ct_node *code = v->kind == CT_OBJECT ? ct_obj_get(v, "code") : v;
        const char *reason = v->kind == CT_OBJECT ? ct_obj_str(v, "reason") : NULL;
        close_code(L, rc->sc, code, &act->close_code);
        act->close_reason = reason ? reason : "";
        break;
    }
    case A_DROP:
        break;
    case A_PACE:
        act->pace = v->num;
        break;
    case A_DONE:
        if (rc->ws) {
            err_at(L, verb->key, "'done' on a WebSocket rule: the terminating record belongs to "
                                 "SSE answers");
            break;
        }
        if (v->kind == CT_STRING) {
            act->done_text = v->u.str;
        } else if (!(v->flags & CT_NF_TRUE)) {
            err_at(L, v, "'done: false': expected true (the contract's x-sse-done record) or "
                         "the record's text");
        } else if (rc->r->sse && rc->r->sse->done) {
            act->done_text = rc->r->sse->done;
        } else if (rc->r->sse) {
            err_at(L, v, "operation '%s' has no x-sse-done: expected the record's text, such as "
                         "done: '[DONE]'",
                   rc->r->operation);
        } else {
            act->done_text = "[DONE]"; /* no contract loaded: the common convention */
        }
        break;
    }
}

static bool is_turn(const struct dlg_rule *r)
{
    for (uint32_t i = 0; i < r->nacts; i++) {
        const struct dlg_action *a = &r->acts[i];
        if (a->after_ms || (a->kind == A_WAIT && a->wait_ms) || a->kind == A_STREAM)
            return true;
    }
    return false;
}

static void compile_matchers(struct loader *L, struct dlg_cond *c, const struct ct_node *m)
{
    static const char *const ops[] = {"equals", "not_equals", "one_of", "matches", "exists",
                                      "gt",     "gte",        "lt",     "lte"};
    if (m->kind != CT_OBJECT) {
        c->m = ct_arena_zalloc(L->a, sizeof(*c->m));
        c->m[0].op = M_EQUALS;
        c->m[0].arg = m;
        c->nm = 1;
        return;
    }
    c->m = ct_arena_zalloc(L->a, (m->len + 1) * sizeof(*c->m));
    for (uint32_t i = 0; i < m->len; i++) {
        const char *k = m->u.members[i].key->u.str;
        const struct ct_node *v = m->u.members[i].val;
        struct dlg_matcher *mm = &c->m[c->nm++];
        mm->arg = v;
        for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
            if (!strcmp(ops[o], k))
                mm->op = (enum dlg_mop)o;
        if (mm->op == M_MATCHES)
            mm->re = compile_regex(L, v);
    }
}

static void compile_when(struct loader *L, struct rule_ctx *rc, const struct ct_node *w)
{
    struct dlg_rule *r = rc->r;
    const struct ct_member *type = member(w, "type"), *agent = member(w, "agent"),
                           *mode = member(w, "mode"), *lang = member(w, "lang"),
                           *text = member(w, "text"), *fields = member(w, "fields");
    bool frameless = r->on == EV_OPEN || r->on == EV_UPGRADE;
    const struct ct_member *frame_keys[] = {type, agent, mode, lang, text, fields};
    for (size_t i = 0; frameless && i < 6; i++)
        if (frame_keys[i])
            err_at(L, frame_keys[i]->key,
                   "'when.%s' in an 'on: %s' rule: there is no frame to look at; expected "
                   "'vars' or 'state'",
                   frame_keys[i]->key->u.str, r->on == EV_OPEN ? "open" : "upgrade");
    r->types = strings(L, type ? type->val : NULL);
    r->agents = strings(L, agent ? agent->val : NULL);
    r->modes = strings(L, mode ? mode->val : NULL);
    /* Message types of `on: message` rules must be frames the client sends. */
    const struct ct_asyncapi_channel *ch = script_channel(L, rc->sc);
    if (ch && ch->dispatch && r->on == EV_MESSAGE) {
        for (uint32_t i = 0; i < r->types.n; i++) {
            if (ct_asyncapi_message(ch, CT_AA_RECEIVE, r->types.v[i]))
                continue;
            const struct ct_node *at = type->val->kind == CT_ARRAY ? type->val->u.items[i]
                                                                   : type->val;
            const char *names[64];
            size_t nn = 0;
            for (unsigned j = 0; j < ch->nmessages && nn < 64; j++)
                if ((ch->messages[j].dirs & CT_AA_RECEIVE) && ch->messages[j].type_const)
                    names[nn++] = ch->messages[j].type_const;
            struct ct_diag *g = err_at(L, at,
                                       "'%s' is no message the client sends on channel '%s'",
                                       r->types.v[i], ch->id);
            hint_list(g, r->types.v[i], names, nn, "the client sends");
        }
    }
    if (lang) {
        struct dlg_strs ls = strings(L, lang->val);
        for (uint32_t i = 0; i < ls.n; i++)
            r->langs |= !strcmp(ls.v[i], "zh") ? 1u : 2u;
    }
    if (text)
        r->text = compile_regex(L, text->val);
    const struct ct_member *state = member(w, "state"), *vars = member(w, "vars");
    uint32_t ncond = (fields ? fields->val->len : 0) + (state ? state->val->len : 0) +
                     (vars ? vars->val->len : 0);
    r->conds = ct_arena_zalloc(L->a, (ncond + 1) * sizeof(*r->conds));
    for (uint32_t i = 0; fields && i < fields->val->len; i++) {
        const struct ct_member *m = &fields->val->u.members[i];
        struct dlg_cond *c = &r->conds[r->nconds++];
        c->src = C_FIELD;
        const char *err;
        size_t off;
        if (!ct__dlg_path_parse(L->a, m->key->u.str, m->key->len, &c->segs, &c->nsegs, &err,
                                &off))
            ct__dlg_err_in(L->diags, m->key, off, "bad field path '%s': %s", m->key->u.str, err);
        compile_matchers(L, c, m->val);
    }
    for (uint32_t i = 0; state && i < state->val->len; i++) {
        const struct ct_member *m = &state->val->u.members[i];
        struct dlg_cond *c = &r->conds[r->nconds++];
        c->src = C_STATE;
        long si = state_index(L->s, m->key->u.str);
        if (si < 0) {
            struct ct_diag *g = err_at(L, m->key,
                                       "unknown state variable '%s': expected one given an "
                                       "initial value in 'state' or set by a rule's 'set'",
                                       m->key->u.str);
            hint_list(g, m->key->u.str, L->s->state_names, L->s->nstate, "variables");
        } else {
            c->e = ct_arena_zalloc(L->a, sizeof(*c->e));
            c->e->root = R_STATE;
            c->e->index = (uint32_t)si;
            c->e->text = m->key->u.str;
            c->e->at = m->key;
        }
        compile_matchers(L, c, m->val);
    }
    for (uint32_t i = 0; vars && i < vars->val->len; i++) {
        const struct ct_member *m = &vars->val->u.members[i];
        struct dlg_cond *c = &r->conds[r->nconds++];
        c->src = C_VAR;
        c->e = ct__dlg_expr_compile(L->a, m->key, &rc->scope, L->diags);
        compile_matchers(L, c, m->val);
    }
}

static const char *const event_names[] = {"message", "open", "invalid", "sse", "upgrade"};

static void compile_rule(struct loader *L, struct dlg_script *sc, const struct ct_node *n,
                         uint32_t index)
{
    struct ct_dialogue_set *s = L->s;
    struct dlg_rule *r = ct_arena_zalloc(L->a, sizeof(*r));
    r->script = sc;
    r->node = n;
    r->refuse = 0;
    const char *rname = ct_obj_str(n, "name");
    char num[16];
    snprintf(num, sizeof(num), "%u", index + 1);
    size_t nl = strlen(sc->name) + 1 + strlen(rname ? rname : num) + 2;
    char *full = ct_arena_alloc(L->a, nl);
    snprintf(full, nl, "%s/%s", sc->name, rname ? rname : num);
    r->name = full;
    /* Rule names are unique within a script. */
    for (size_t i = 0; rname && i < s->nrules; i++)
        if (s->rules[i]->script == sc && !strcmp(s->rules[i]->name, full))
            err_at(L, ct_obj_get(n, "name"), "rule name '%s' is used twice in dialogue '%s'",
                   rname, sc->name);
    const char *on = ct_obj_str(n, "on");
    r->on = EV_MESSAGE;
    for (int i = 0; on && i < 5; i++)
        if (!strcmp(on, event_names[i]))
            r->on = (enum dlg_event)i;
    struct rule_ctx rc = {.r = r, .sc = sc, .ws = r->on != EV_SSE && r->on != EV_UPGRADE};
    rc.scope.state = s->state_names;
    rc.scope.nstate = s->nstate;
    const struct ct_member *op = member(n, "operation");
    if (r->on == EV_SSE) {
        if (!op) {
            err_at(L, n, "an 'on: sse' rule needs 'operation': the operationId it answers");
        } else {
            r->operation = op->val->u.str;
            r->sse = sse_op(L, op->val);
        }
    } else if (op) {
        err_at(L, op->key, "'operation' in an 'on: %s' rule: expected it only with 'on: sse'",
               event_names[r->on]);
    }
    r->fallback = ct_obj_true(n, "fallback");
    const struct ct_member *refuse = member(n, "refuse"), *doo = member(n, "do");
    const struct ct_member *set = member(n, "set"), *let = member(n, "let");
    if (r->on == EV_UPGRADE) {
        if (!refuse)
            err_at(L, n, "an 'on: upgrade' rule needs 'refuse': the HTTP status to refuse the "
                         "upgrade with");
        else
            r->refuse = (int)refuse->val->num;
        const struct ct_member *bad[] = {doo, set, let};
        for (int i = 0; i < 3; i++)
            if (bad[i])
                err_at(L, bad[i]->key, "'%s' in an 'on: upgrade' rule: a refused upgrade sends "
                                       "nothing; expected only 'when' and 'refuse'",
                       bad[i]->key->u.str);
    } else if (refuse) {
        err_at(L, refuse->key, "'refuse' in an 'on: %s' rule: expected it only with 'on: "
                               "upgrade'",
               event_names[r->on]);
    } else if (!doo || !doo->val->len) {
        err_at(L, doo ? doo->val : n, "rule '%s' does nothing: expected a 'do' list of actions",
               r->name);
    }
    /* let: evaluated in order; each may use the ones before it. */
    if (let) {
        r->lets = ct_arena_zalloc(L->a, (let->val->len + 1) * sizeof(*r->lets));
        const char **names = ct_arena_zalloc(L->a, (let->val->len + 1) * sizeof(*names));
        for (uint32_t i = 0; i < let->val->len; i++) {
            const struct ct_member *m = &let->val->u.members[i];
            if (!valid_name(m->key->u.str) || ct__dlg_is_root_name(m->key->u.str)) {
                err_at(L, m->key,
                       "let name '%s': expected a name of letters, digits and '_' that is not "
                       "a built-in (message, text, now...)",
                       m->key->u.str);
                continue;
            }
            rc.scope.lets = names;
            rc.scope.nlets = r->nlets;
            r->lets[r->nlets].name = m->key->u.str;
            r->lets[r->nlets].v = ct__dlg_compile(L->a, m->val, &rc.scope, L->diags);
            names[r->nlets++] = m->key->u.str;
        }
        rc.scope.lets = names;
        rc.scope.nlets = r->nlets;
    }
    const struct ct_member *when = member(n, "when");
    if (when)
        compile_when(L, &rc, when->val);
    if (doo && r->on != EV_UPGRADE) {
        r->acts = ct_arena_zalloc(L->a, (doo->val->len + 1) * sizeof(*r->acts));
        for (uint32_t i = 0; i < doo->val->len; i++)
            compile_action(L, &rc, &r->acts[r->nacts++], doo->val->u.items[i]);
    }
    if (set && r->on != EV_UPGRADE) {
        r->sets = ct_arena_zalloc(L->a, (set->val->len + 1) * sizeof(*r->sets));
        for (uint32_t i = 0; i < set->val->len; i++) {
            const struct ct_member *m = &set->val->u.members[i];
            long si = state_index(s, m->key->u.str);
            if (si < 0)
                continue; /* reported when the names were collected */
            r->sets[r->nsets].var = (uint32_t)si;
            r->sets[r->nsets].v = ct__dlg_compile(L->a, m->val, &rc.scope, L->diags);
            r->nsets++;
        }
    }
    r->turn = is_turn(r);
    s->rules = ct_xrealloc(s->rules, (s->nrules + 1) * sizeof(*s->rules));
    s->rules[s->nrules++] = r;
    r->seq = L->seq++;
}

/* --- scripts ---------------------------------------------------------------------------------- */

/* Pass 1: the script's header, its frames and state variables (names other scripts may use). */
static void declare_script(struct loader *L, struct dlg_script *sc, const struct ct_node *root)
{
    struct ct_dialogue_set *s = L->s;
    sc->root = root;
    sc->name = ct_obj_str(root, "dialogue");
    for (size_t i = 0; i < s->nscripts; i++) {
        if (&s->scripts[i] != sc && s->scripts[i].name && !strcmp(s->scripts[i].name, sc->name)) {
            struct ct_diag *g = err_at(L, ct_obj_get(root, "dialogue"),
                                       "dialogue name '%s' is used twice: expected unique names",
                                       sc->name);
            const struct ct_node *o = ct_obj_get(s->scripts[i].root, "dialogue");
            ct_diag_set_hint(g, "the other is at %s:%u", o->src ? o->src->name : "?", o->line);
        }
    }
    const struct ct_node *prio = ct_obj_get(root, "priority");
    sc->priority = prio ? (int)prio->num : 0;
    const struct ct_member *ch = member(root, "channel");
    if (ch) {
        sc->channel = ch->val->u.str;
        const struct ct_asyncapi *api = L->env ? L->env->api : NULL;
        if (api) {
            sc->ch = ct_asyncapi_channel(api, ch->val->u.str, ch->val->len);
            if (!sc->ch) {
                const char **names = ct_arena_alloc(L->a, (api->nchannels + 1) * sizeof(char *));
                for (unsigned i = 0; i < api->nchannels; i++)
                    names[i] = api->channels[i].id;
                struct ct_diag *g = err_at(L, ch->val,
                                           "unknown channel '%s': expected a channel id or "
                                           "address of the AsyncAPI document",
                                           ch->val->u.str);
                hint_list(g, ch->val->u.str, names, api->nchannels, "channels");
            }
        }
    }
    const struct ct_member *ta = member(root, "text_at");
    if (ta) {
        const char *err;
        size_t off;
        sc->has_text_at = true;
        if (!ct__dlg_path_parse(L->a, ta->val->u.str, ta->val->len, &sc->text_at, &sc->ntext_at,
                                &err, &off))
            ct__dlg_err_in(L->diags, ta->val, off, "bad path '%s': %s", ta->val->u.str, err);
    }
    const struct ct_member *frames = member(root, "frames");
    for (uint32_t i = 0; frames && i < frames->val->len; i++) {
        const struct ct_member *m = &frames->val->u.members[i];
        struct dlg_frame *other = find_frame(s, m->key->u.str);
        if (other) {
            struct ct_diag *g = err_at(L, m->key,
                                       "frame name '%s' is used twice: frames are shared by "
                                       "every script, expected unique names",
                                       m->key->u.str);
            ct_diag_set_hint(g, "the other is at %s:%u",
                             other->node->src ? other->node->src->name : "?", other->node->line);
            continue;
        }
        s->frames = ct_xrealloc(s->frames, (s->nframes + 1) * sizeof(*s->frames));
        s->frames[s->nframes++] = (struct dlg_frame){.name = m->key->u.str, .node = m->val};
    }
    const struct ct_member *state = member(root, "state");
    for (uint32_t i = 0; state && i < state->val->len; i++)
        add_state(L, state->val->u.members[i].key, state->val->u.members[i].val);
    const struct ct_member *rules = member(root, "rules");
    for (uint32_t i = 0; rules && i < rules->val->len; i++) {
        const struct ct_member *set = member(rules->val->u.items[i], "set");
        for (uint32_t j = 0; set && j < set->val->len; j++)
            add_state(L, set->val->u.members[j].key, NULL);
    }
}

static int rule_cmp(const void *pa, const void *pb)
{
    const struct dlg_rule *a = *(const struct dlg_rule *const *)pa;
    const struct dlg_rule *b = *(const struct dlg_rule *const *)pb;
    if (a->fallback != b->fallback)
        return a->fallback ? 1 : -1;
    if (a->script->priority != b->script->priority)
        return a->script->priority > b->script->priority ? -1 : 1;
    if (a->script->order != b->script->order)
        return a->script->order < b->script->order ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

struct ct_dialogue_set *ct_dialogue_set_build(struct ct_docset *ds,
                                              const struct ct_node *const *roots, size_t n,
                                              const struct ct_dialogue_env *env,
                                              struct ct_diags *diags)
{
    size_t errors_at_start = diags->nerrors;
    struct ct_dialogue_set *s = ct_xcalloc(1, sizeof(*s));
    ct_arena_init(&s->arena, 1 << 14);
    s->api = env ? env->api : NULL;
    s->oas = env ? env->oas : NULL;
    struct loader L = {.s = s, .a = &s->arena, .ds = ds, .diags = diags, .env = env};

    /* Layer 1: every file against the format's schema. */
    struct ct_docset *sds = ct_docset_new(NULL);
    const struct ct_node *sroot = ct_docset_load_text(
        sds, "dialogue.schema.yaml", ct__dialogue_schema_text, strlen(ct__dialogue_schema_text),
        diags);
    struct ct_schema_opts so = {.dialect = CT_DIALECT_2020_12, .all_errors = true,
                                .instance_notes = true};
    struct ct_schema *schema = sroot ? ct_schema_compile(sds, sroot, &so, diags) : NULL;
    bool *ok = ct_xcalloc(n + 1, sizeof(bool));
    for (size_t i = 0; schema && i < n; i++) {
        const struct ct_node *root = roots[i];
        if (!root)
            continue;
        if (root->kind != CT_OBJECT) {
            err_at(&L, root, "expected a dialogue script (a mapping with 'dialogue' and "
                             "'rules'), got %s",
                   ct_node_type_name(root));
            continue;
        }
        /* The validator may keep a pointer to a diagnostic while adding the note after it, so
         * the list must never move: reserve it whole and cap it there. */
        struct ct_diags tmp;
        ct_diags_init(&tmp);
        tmp.v = ct_xgrow(NULL, &tmp.cap, 512, sizeof(*tmp.v));
        tmp.max = tmp.cap;
        ok[i] = ct_schema_validate(schema, root, &tmp);
        if (!ok[i])
            remap(&L, &tmp, root, sroot);
        if (tmp.dropped)
            err_at(&L, root, "%zu more problems in this script not shown", tmp.dropped);
        ct_diags_deinit(&tmp);
    }
    ct_schema_free(schema);
    ct_docset_free(sds);

    /* Layer 2, pass 1: names. */
    s->scripts = ct_arena_zalloc(&s->arena, (n + 1) * sizeof(*s->scripts));
    for (size_t i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        struct dlg_script *sc = &s->scripts[s->nscripts++];
        sc->order = i;
        declare_script(&L, sc, roots[i]);
    }
    /* Pass 2: frames, then rules. */
    for (size_t i = 0; i < s->nframes; i++)
        if (s->frames[i].state == 0)
            named_frame(&L, s->frames[i].node, s->frames[i].name);
    for (size_t i = 0; i < s->nscripts; i++) {
        struct dlg_script *sc = &s->scripts[i];
        const struct ct_member *rules = member(sc->root, "rules");
        for (uint32_t j = 0; rules && j < rules->val->len; j++)
            compile_rule(&L, sc, rules->val->u.items[j], j);
    }
    if (s->nrules > 1)
        qsort(s->rules, s->nrules, sizeof(*s->rules), rule_cmp);
    ct_free(ok);
    if (diags->nerrors > errors_at_start) {
        ct_dialogue_set_free(s);
        return NULL;
    }
    return s;
}

struct ct_dialogue_set *ct_dialogue_set_load(struct ct_docset *ds, const char *const *paths,
                                             size_t n, const struct ct_dialogue_env *env,
                                             struct ct_diags *diags)
{
    const struct ct_node **roots = ct_xcalloc(n + 1, sizeof(*roots));
    size_t before = diags->nerrors;
    for (size_t i = 0; i < n; i++)
        roots[i] = ct_docset_load(ds, paths[i], diags);
    struct ct_dialogue_set *s = NULL;
    if (diags->nerrors == before)
        s = ct_dialogue_set_build(ds, roots, n, env, diags);
    ct_free(roots);
    return s;
}

void ct_dialogue_set_free(struct ct_dialogue_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nregexes; i++) {
        ct__regex_free(s->regexes[i]);
        ct_free(s->regexes[i]);
    }
    ct_free(s->regexes);
    ct_free(s->rules);
    ct_free(s->frames);
    ct_free(s->sse_ops);
    ct_schema_set_free(s->sse_schemas);
    ct_arena_deinit(&s->arena);
    ct_free(s);
}

void ct_dialogue_set_stats(const struct ct_dialogue_set *s, struct ct_dialogue_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->scripts = s->nscripts;
    st->rules = s->nrules;
    st->frames = s->nframes;
    for (size_t i = 0; i < s->nrules; i++) {
        st->sse_rules += s->rules[i]->on == EV_SSE;
        st->upgrade_rules += s->rules[i]->on == EV_UPGRADE;
    }
}

const char *ct_dialogue_rule_name(const struct ct_dialogue_set *s, size_t i)
{
    return i < s->nrules ? s->rules[i]->name : NULL;
}

bool ct_dialogue_has_sse(const struct ct_dialogue_set *s, const char *operation_id)
{
    for (size_t i = 0; s && i < s->nrules; i++)
        if (s->rules[i]->on == EV_SSE && !strcmp(s->rules[i]->operation, operation_id))
            return true;
    return false;
}
