/* bundled.c - every bundled dialogue, run over a set of client messages, keeps the contract.
 *
 * usage: dialogue-bundled SPECS_DIR
 *
 * Loads SPECS_DIR/prompt-sphere.asyncapi.yaml, SPECS_DIR/prompt-sphere.yaml and every
 * SPECS_DIR/dialogues/ *.yaml, then drives connections through: the welcome (with and without a
 * session to resume), pings, every agent x mode x language (with and without currentPrompt, short
 * and long prompts), the multi-turn optimize flow, every fault trigger, invalid frames (not JSON,
 * unknown type, schema errors, ten in a row), the AsyncAPI's own receive examples, the upgrade
 * refusal, and SSE requests for streamChatCompletion (the OpenAPI request examples and more).
 *
 * It proves, independently of the engine's own checks:
 *  - every frame sent (not marked invalid on purpose) validates against the AsyncAPI message the
 *    server sends, and every SSE data record against the operation's x-sse-data-schema;
 *  - the engine withheld nothing and met no undefined template value;
 *  - turn invariants: replyTo is the user's messageId, chunk indexes run 0, 1, 2... with `final`
 *    on the last, agent_response.message is the concatenation of the deltas with the chunks'
 *    messageId, typing_stop comes before the answer; SSE answers end with [DONE];
 *  - the channel's x-example-dialogue is followed frame by frame, with the example's answer;
 *  - every rule of every bundled dialogue answered at least once.
 * Output is TAP. */
#include "core/alloc.h"
#include "dialogue/dialogue.h"
#include "schema/schema.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct env {
    struct ct_asyncapi *api;
    const struct ct_asyncapi_channel *ch;
    struct ct_oas *oas;
    struct ct_dialogue_set *set;
    struct ct_schema *sse_data;
    const char *sse_done;
    size_t *hits; /* per rule */
    size_t nrules;
    size_t frames, records;
    int n, failed;
    uint64_t seed;
};

static void tap(struct env *E, bool ok, const char *why, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void tap(struct env *E, bool ok, const char *why, const char *fmt, ...)
{
    char name[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    E->n++;
    printf("%s %d - %s\n", ok ? "ok" : "not ok", E->n, name);
    if (!ok) {
        E->failed++;
        for (const char *p = why; p && *p;) {
            const char *nl = strchr(p, '\n');
            int l = nl ? (int)(nl - p) : (int)strlen(p);
            printf("# %.*s\n", l, p);
            p = nl ? nl + 1 : NULL;
        }
    }
}

static void hit(struct env *E, const char *rule)
{
    for (size_t i = 0; rule && i < E->nrules; i++)
        if (!strcmp(ct_dialogue_rule_name(E->set, i), rule))
            E->hits[i]++;
}

static const struct ct_node *parse(struct ct_arena *a, const char *text, size_t len,
                                   struct ct_diags *d)
{
    struct ct_source *src = ct_arena_zalloc(a, sizeof(*src));
    src->name = "<frame>";
    src->text = ct_arena_strndup(a, text, len);
    src->len = len;
    return ct_json_parse(a, src, NULL, d);
}

static const char *str_at(const struct ct_node *n, const char *ptr)
{
    const struct ct_node *v = ct_pointer_get(n, ptr, strlen(ptr), false);
    return v && v->kind == CT_STRING ? v->u.str : NULL;
}

/* Check the actions of one WebSocket call; `mid` is the user's messageId when the call answered a
 * user message (turn invariants), else NULL. Appends problems to `why`. */
static void check_ws(struct env *E, struct ct_dialogue_conn *c, size_t n,
                     const struct ct_dlg_action *a, const char *mid, bool cut, struct ct_buf *why)
{
    const struct ct_diags *cd = ct_dialogue_conn_diags(c);
    if (cd->n) {
        ct_buf_adds(why, "engine diagnostics:\n");
        ct_diags_render(cd, why, false);
    }
    struct ct_arena arena;
    ct_arena_init(&arena, 4096);
    struct ct_buf deltas;
    ct_buf_init(&deltas, 0);
    long next_index = 0;
    bool saw_final = false, saw_stop = false, saw_answer = false;
    const char *chunk_mid = NULL;
    for (size_t i = 0; i < n; i++) {
        if (a[i].kind != CT_DLG_SEND || a[i].invalid_on_purpose)
            continue;
        E->frames++;
        struct ct_diags d;
        ct_diags_init(&d);
        const struct ct_node *f = parse(&arena, a[i].text, a[i].len, &d);
        const struct ct_asyncapi_message *m =
            f ? ct_asyncapi_match(E->api, E->ch, CT_AA_SEND, f, NULL, &d) : NULL;
        if (!m) {
            ct_buf_printf(why, "frame %zu breaks the contract: %s\n", i, a[i].text);
            ct_diags_render(&d, why, false);
        }
        ct_diags_deinit(&d);
        if (!f || !mid)
            continue;
        const char *type = str_at(f, "/type");
        const char *reply = str_at(f, "/data/replyTo");
        if (reply && strcmp(reply, mid) != 0)
            ct_buf_printf(why, "frame %zu: replyTo '%s', expected '%s'\n", i, reply, mid);
        if (type && !strcmp(type, "agent_response_chunk")) {
            const struct ct_node *idx = ct_pointer_get(f, "/data/index", 11, false);
            if (!idx || (long)idx->num != next_index)
                ct_buf_printf(why, "frame %zu: chunk index %s, expected %ld\n", i,
                              idx ? idx->u.text : "none", next_index);
            next_index++;
            if (saw_final)
                ct_buf_printf(why, "frame %zu: a chunk after the final one\n", i);
            saw_final = ct_obj_true(ct_obj_get(f, "data"), "final");
            const char *dl = str_at(f, "/data/delta");
            if (dl)
                ct_buf_adds(&deltas, dl);
            const char *cm = str_at(f, "/data/messageId");
            if (chunk_mid && cm && strcmp(chunk_mid, cm) != 0)
                ct_buf_printf(why, "frame %zu: chunk messageId changed\n", i);
            chunk_mid = cm;
        } else if (type && !strcmp(type, "typing_stop")) {
            saw_stop = true;
        } else if (type && !strcmp(type, "agent_response")) {
            saw_answer = true;
            if (next_index && !saw_final)
                ct_buf_printf(why, "frame %zu: answer without a final chunk\n", i);
            if (next_index && strcmp(str_at(f, "/data/message"), ct_buf_cstr(&deltas)) != 0)
                ct_buf_printf(why, "frame %zu: message is not the concatenated deltas\n", i);
            if (chunk_mid && strcmp(str_at(f, "/data/messageId"), chunk_mid) != 0)
                ct_buf_printf(why, "frame %zu: answer messageId differs from the chunks'\n", i);
            if (!saw_stop)
                ct_buf_printf(why, "frame %zu: answer before typing_stop\n", i);
        }
    }
    if (mid && next_index && !cut && !saw_final)
        ct_buf_adds(why, "stream without a final chunk\n");
    (void)saw_answer;
    ct_buf_deinit(&deltas);
    ct_arena_deinit(&arena);
}

static struct ct_dialogue_conn *open_conn(struct env *E, const char *session, const char *label)
{
    struct ct_arena a;
    ct_arena_init(&a, 1024);
    const struct ct_node *q = NULL;
    if (session) {
        char *js = ct_xasprintf("{\"token\":\"x.y.z\",\"sessionId\":\"%s\"}", session);
        q = parse(&a, js, strlen(js), NULL);
        ct_free(js);
    }
    struct ct_dialogue_ctx ctx = {.channel = "/api/v1/ws/chat", .query = q, .sub = "u_42",
                                  .email = "ada@example.com", .role = "user",
                                  .session_id = session, .seed = ++E->seed,
                                  .now_ms = 1758961920000};
    struct ct_dialogue_conn *c = ct_dialogue_conn_new(E->set, &ctx);
    ct_arena_deinit(&a);
    const struct ct_dlg_action *act;
    size_t n = ct_dialogue_on_open(c, ctx.now_ms, &act);
    hit(E, ct_dialogue_conn_rule(c));
    struct ct_buf why;
    ct_buf_init(&why, 0);
    check_ws(E, c, n, act, NULL, false, &why);
    if (n != 1)
        ct_buf_printf(&why, "expected one welcome frame, got %zu actions\n", n);
    tap(E, why.len == 0, ct_buf_cstr(&why), "%s: open%s", label,
        session ? " (resume)" : "");
    ct_buf_deinit(&why);
    return c;
}

/* Send one text frame; check what comes back. Returns the number of actions. */
static size_t say(struct env *E, struct ct_dialogue_conn *c, const char *text, const char *mid,
                  bool cut, int64_t at, const char *label, const struct ct_dlg_action **out)
{
    const struct ct_dlg_action *a;
    size_t n = ct_dialogue_on_text(c, text, strlen(text), at, &a);
    hit(E, ct_dialogue_conn_rule(c));
    struct ct_buf why;
    ct_buf_init(&why, 0);
    check_ws(E, c, n, a, mid, cut, &why);
    if (!ct_dialogue_conn_rule(c))
        ct_buf_printf(&why, "no rule answered %s\n", text);
    tap(E, why.len == 0, ct_buf_cstr(&why), "%s (rule %s, %zu actions)", label,
        ct_dialogue_conn_rule(c) ? ct_dialogue_conn_rule(c) : "none", n);
    ct_buf_deinit(&why);
    if (out)
        *out = a;
    return n;
}

static char *user_message(const char *mid, const char *text, const char *agent, const char *mode,
                          const char *current)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_buf_printf(&b, "{\"type\":\"user_message\",\"data\":{\"messageId\":\"%s\",\"message\":",
                  mid);
    ct_json_emit_string(&b, text, strlen(text));
    ct_buf_printf(&b, ",\"agent\":\"%s\",\"mode\":\"%s\",\"timestamp\":1758961925000", agent,
                  mode);
    if (current) {
        ct_buf_adds(&b, ",\"currentPrompt\":");
        ct_json_emit_string(&b, current, strlen(current));
    }
    ct_buf_adds(&b, "}}");
    return ct_buf_steal(&b, NULL);
}

/* --- scenarios -------------------------------------------------------------------------------- */

static const char *const agents[] = {"pe_engineer", "peqa"};
static const char *const modes[] = {"create", "optimize", "quality_check"};

struct words {
    const char *lang;
    const char *ask, *ask2, *answer;
    const char *short_prompt, *long_prompt;
};

static const struct words langs[] = {
    {"en", "Write a system prompt for a customer support bot of an online shop.",
     "I need a prompt for a maths tutor for children.",
     "Support agents; short answers with the order number first.", "Be helpful.",
     "You are a senior software engineer reviewing a pull request. Point out bugs and security "
     "issues first, then readability. Keep comments short."},
    {"zh", "帮我写一个面向小学生的数学辅导助手的系统提示词，语气要亲切、循序渐进。",
     "帮我写一个电商客服机器人的系统提示词。",
     "给小学三年级学生用，分步骤讲解，每步一句话。", "你是助手。",
     "你是一名资深的软件工程师，负责审查代码合并请求。先指出缺陷和安全问题，再关注可读性，"
     "评论要简短。"},
};

static void agent_modes(struct env *E)
{
    int k = 0;
    for (size_t l = 0; l < 2; l++) {
        for (size_t ag = 0; ag < 2; ag++) {
            for (size_t mo = 0; mo < 3; mo++) {
                for (int variant = 0; variant < 3; variant++) {
                    char label[160];
                    snprintf(label, sizeof(label), "%s %s %s %s", agents[ag], modes[mo],
                             langs[l].lang,
                             variant == 0   ? "message only"
                             : variant == 1 ? "short currentPrompt"
                                            : "long currentPrompt");
                    struct ct_dialogue_conn *c = open_conn(E, variant == 2 ? "sess_abc" : NULL,
                                                           label);
                    char mid[32];
                    snprintf(mid, sizeof(mid), "c_%d", ++k);
                    const char *cur = variant == 1   ? langs[l].short_prompt
                                      : variant == 2 ? langs[l].long_prompt
                                                     : NULL;
                    const char *ask = variant == 0 ? langs[l].ask : langs[l].ask2;
                    char *m = user_message(mid, mo == 0 ? ask : langs[l].long_prompt,
                                           agents[ag], modes[mo], cur);
                    say(E, c, m, mid, false, 1758961930000, label, NULL);
                    ct_free(m);
                    /* The optimize flow asks back: answer, then start again. */
                    if (mo == 1) {
                        for (int turn = 2; turn <= 3; turn++) {
                            snprintf(mid, sizeof(mid), "c_%d", ++k);
                            m = user_message(mid, turn == 2 ? langs[l].answer : langs[l].ask,
                                             agents[ag], modes[mo], NULL);
                            char l2[200];
                            snprintf(l2, sizeof(l2), "%s, turn %d", label, turn);
                            say(E, c, m, mid, false, 1758961940000 + turn * 1000, l2, NULL);
                            ct_free(m);
                        }
                    }
                    ct_dialogue_conn_free(c);
                }
            }
        }
    }
}

static void heartbeat_and_invalid(struct env *E)
{
    struct ct_dialogue_conn *c = open_conn(E, NULL, "heartbeat");
    say(E, c, "{\"type\":\"ping\",\"data\":{\"timestamp\":1758961955000}}", NULL, false,
        1758961955000, "ping with timestamp", NULL);
    say(E, c, "{\"type\":\"ping\"}", NULL, false, 1758961956000, "bare ping", NULL);
    say(E, c, "{\"type\":\"ping\", \"data\": {\"timestamp\": -5}}", NULL, false, 1758961957000,
        "ping with a bad timestamp", NULL);
    say(E, c, "{not json", NULL, false, 1758961958000, "frame that is not JSON", NULL);
    say(E, c, "{\"type\":\"usr_message\",\"data\":{}}", NULL, false, 1758961959000,
        "unknown type", NULL);
    say(E, c, "{\"type\":\"pong\",\"data\":{\"timestamp\":1}}", NULL, false, 1758961960000,
        "server-only type from the client", NULL);
    say(E, c, "{\"type\":\"user_message\",\"data\":{\"messageId\":\"c_1\"}}", "c_1", false,
        1758961961000, "user_message missing fields, readable messageId", NULL);
    say(E, c, "{\"type\":\"user_message\",\"data\":{\"messageId\":\"c 1!\"}}", NULL, false,
        1758961962000, "user_message with an unreadable messageId", NULL);
    say(E, c, "[1,2,3]", NULL, false, 1758961963000, "a JSON array", NULL);
    /* Unsupported agent/mode pairs (the schema refuses them; the scripts name the reason). */
    char *m = user_message("c_2", "Score my prompt", "pe_engineer", "quality_check", NULL);
    say(E, c, m, "c_2", false, 1758961964000, "pe_engineer quality_check", NULL);
    ct_free(m);
    m = user_message("c_3", "写一个提示词", "peqa", "create", NULL);
    say(E, c, m, "c_3", false, 1758961965000, "peqa create", NULL);
    ct_free(m);
    ct_dialogue_conn_free(c);

    /* Ten invalid frames in a row close the connection with 1008. */
    c = open_conn(E, NULL, "invalid streak");
    const struct ct_dlg_action *a = NULL;
    size_t n = 0;
    for (int i = 1; i <= 10; i++) {
        char label[64];
        snprintf(label, sizeof(label), "invalid frame %d in a row", i);
        n = say(E, c, "{", NULL, false, 1758961970000 + i, label, &a);
    }
    tap(E, n == 1 && a[0].kind == CT_DLG_CLOSE && a[0].close_code == 1008, NULL,
        "the tenth invalid frame closes with 1008");
    n = ct_dialogue_on_text(c, "{\"type\":\"ping\"}", 15, 1758961980000, &a);
    tap(E, n == 0, NULL, "nothing answers after the close (got %zu actions)", n);
    ct_dialogue_conn_free(c);
}

static void faults(struct env *E)
{
    static const struct {
        const char *trigger;
        bool cut;
        enum ct_dlg_kind last;
    } f[] = {
        {"#fault drop", true, CT_DLG_DROP},       {"#fault close", true, CT_DLG_CLOSE},
        {"#fault error", true, CT_DLG_SEND},      {"#fault timeout", false, CT_DLG_SEND},
        {"#fault rate", false, CT_DLG_SEND},      {"#fault auth", false, CT_DLG_CLOSE},
        {"#fault shutdown", false, CT_DLG_CLOSE}, {"#fault invalid", false, CT_DLG_SEND},
        {"#fault unheard-of", false, CT_DLG_SEND},
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        struct ct_dialogue_conn *c = open_conn(E, NULL, f[i].trigger);
        char *m = user_message("c_f", f[i].trigger, "pe_engineer", "create", NULL);
        const struct ct_dlg_action *a;
        size_t n = say(E, c, m, "c_f", f[i].cut, 1758961930000, f[i].trigger, &a);
        tap(E, n > 0 && a[n - 1].kind == f[i].last, NULL, "%s ends as expected", f[i].trigger);
        ct_free(m);
        ct_dialogue_conn_free(c);
    }
    /* Slow, then normal: delays grow fivefold and come back. */
    struct ct_dialogue_conn *c = open_conn(E, NULL, "pace");
    char *m = user_message("c_s", "#fault slow", "peqa", "optimize", NULL);
    say(E, c, m, "c_s", false, 1758961930000, "#fault slow", NULL);
    ct_free(m);
    m = user_message("c_n", "#fault normal", "peqa", "optimize", NULL);
    say(E, c, m, "c_n", false, 1758962930000, "#fault normal", NULL);
    ct_free(m);
    ct_dialogue_conn_free(c);
    /* The upgrade refusal. */
    struct ct_arena a;
    ct_arena_init(&a, 1024);
    const char *q = "{\"token\":\"x.y.z\",\"sessionId\":\"fault-refuse\"}";
    struct ct_dialogue_ctx ctx = {.channel = "/api/v1/ws/chat", .query = parse(&a, q, strlen(q),
                                                                               NULL)};
    const char *rule = NULL;
    int st = ct_dialogue_upgrade_status(E->set, &ctx, &rule);
    hit(E, rule);
    tap(E, st == 503, NULL, "sessionId fault-refuse refuses the upgrade with 503 (got %d)", st);
    ctx.query = NULL;
    st = ct_dialogue_upgrade_status(E->set, &ctx, NULL);
    tap(E, st == 0, NULL, "an ordinary upgrade is accepted (got %d)", st);
    ct_arena_deinit(&a);
}

/* The AsyncAPI's own examples of client frames. */
static void contract_examples(struct env *E)
{
    struct ct_dialogue_conn *c = open_conn(E, NULL, "contract examples");
    int64_t t = 1758961930000;
    for (unsigned i = 0; i < E->ch->nmessages; i++) {
        const struct ct_asyncapi_message *m = &E->ch->messages[i];
        if (!(m->dirs & CT_AA_RECEIVE) || !m->examples)
            continue;
        for (uint32_t k = 0; k < m->examples->len; k++) {
            const struct ct_node *ex = m->examples->u.items[k];
            const struct ct_node *pl = ct_obj_get(ex, "payload");
            if (!pl)
                continue;
            struct ct_buf b;
            ct_buf_init(&b, 0);
            ct_json_emit(pl, &b, false);
            const char *mid = str_at(pl, "/data/messageId");
            char label[160];
            snprintf(label, sizeof(label), "AsyncAPI example %s/%s", m->name,
                     ct_obj_str(ex, "name") ? ct_obj_str(ex, "name") : "?");
            say(E, c, ct_buf_cstr(&b), mid, false, t += 60000, label, NULL);
            ct_buf_deinit(&b);
        }
    }
    ct_dialogue_conn_free(c);
}

/* The channel's x-example-dialogue: its client frame gets the server frames it lists, in order,
 * and the complete answer is the example's. */
static const struct ct_node *example_payload(const struct ct_asyncapi_channel *ch, const char *key,
                                             const char *name)
{
    for (unsigned i = 0; i < ch->nmessages; i++) {
        const struct ct_asyncapi_message *m = &ch->messages[i];
        for (uint32_t k = 0; !strcmp(m->key, key) && m->examples && k < m->examples->len; k++)
            if (!strcmp(ct_obj_str(m->examples->u.items[k], "name"), name))
                return ct_obj_get(m->examples->u.items[k], "payload");
    }
    return NULL;
}

static void example_dialogue(struct env *E)
{
    const struct ct_node *xd = ct_obj_get(E->ch->node, "x-example-dialogue");
    struct ct_buf why, want, got;
    ct_buf_init(&why, 0);
    ct_buf_init(&want, 0);
    ct_buf_init(&got, 0);
    const struct ct_node *in = NULL, *answer = NULL;
    for (uint32_t i = 0; xd && i < xd->len; i++) {
        const struct ct_node *st = xd->u.items[i];
        const char *dir = ct_obj_str(st, "direction"), *msg = ct_obj_str(st, "message");
        const struct ct_node *pl = example_payload(E->ch, msg, ct_obj_str(st, "example"));
        if (!strcmp(dir, "receive")) {
            in = pl;
            continue;
        }
        ct_buf_printf(&want, "%s ", msg);
        if (!strcmp(msg, "agentResponse"))
            answer = pl;
    }
    struct ct_dialogue_conn *c = open_conn(E, NULL, "x-example-dialogue");
    struct ct_buf text;
    ct_buf_init(&text, 0);
    if (in)
        ct_json_emit(in, &text, false);
    const struct ct_dlg_action *a;
    size_t n = in ? say(E, c, ct_buf_cstr(&text), str_at(in, "/data/messageId"), false,
                        1758961925000, "x-example-dialogue: the client's frame", &a)
                  : 0;
    struct ct_arena arena;
    ct_arena_init(&arena, 4096);
    for (size_t i = 0; i < n; i++) {
        const struct ct_node *f = parse(&arena, a[i].text, a[i].len, NULL);
        const struct ct_asyncapi_message *m =
            f ? ct_asyncapi_match(E->api, E->ch, CT_AA_SEND, f, NULL, NULL) : NULL;
        ct_buf_printf(&got, "%s ", m ? m->key : "?");
        if (m && answer && !strcmp(m->key, "agentResponse") &&
            strcmp(str_at(f, "/data/message"), str_at(answer, "/data/message")) != 0)
            ct_buf_printf(&why, "the answer is not the example's:\n%s\n", a[i].text);
    }
    if (!xd || !in || strcmp(ct_buf_cstr(&want), ct_buf_cstr(&got)) != 0)
        ct_buf_printf(&why, "the contract's dialogue sends: %s\nthe bundled dialogue sends: %s\n",
                      ct_buf_cstr(&want), ct_buf_cstr(&got));
    tap(E, why.len == 0, ct_buf_cstr(&why), "x-example-dialogue is followed frame by frame");
    ct_arena_deinit(&arena);
    ct_buf_deinit(&text);
    ct_buf_deinit(&why);
    ct_buf_deinit(&want);
    ct_buf_deinit(&got);
    ct_dialogue_conn_free(c);
}

/* --- SSE -------------------------------------------------------------------------------------- */

static void sse_one(struct env *E, const char *body, bool dropped, const char *label)
{
    struct ct_arena a;
    ct_arena_init(&a, 4096);
    const struct ct_node *req = parse(&a, body, strlen(body), NULL);
    struct ct_dialogue_ctx ctx = {.seed = ++E->seed, .now_ms = 1758961920000};
    struct ct_dialogue_conn *c = ct_dialogue_conn_new(E->set, &ctx);
    const struct ct_dlg_action *act;
    size_t n = ct_dialogue_sse(c, "streamChatCompletion", req, ctx.now_ms, &act);
    hit(E, ct_dialogue_conn_rule(c));
    struct ct_buf why;
    ct_buf_init(&why, 0);
    const struct ct_diags *cd = ct_dialogue_conn_diags(c);
    if (cd->n)
        ct_diags_render(cd, &why, false);
    if (!n)
        ct_buf_adds(&why, "no records\n");
    for (size_t i = 0; i < n; i++) {
        if (act[i].kind != CT_DLG_SEND || act[i].invalid_on_purpose)
            continue;
        if (act[i].done) {
            if (strcmp(act[i].text, E->sse_done) != 0)
                ct_buf_printf(&why, "record %zu: done record '%s', expected '%s'\n", i,
                              act[i].text, E->sse_done);
            if (i + 1 != n)
                ct_buf_printf(&why, "record %zu: [DONE] is not the last record\n", i);
            continue;
        }
        E->records++;
        struct ct_diags d;
        ct_diags_init(&d);
        const struct ct_node *rec = parse(&a, act[i].text, act[i].len, &d);
        if (!rec || !ct_schema_validate(E->sse_data, rec, &d)) {
            ct_buf_printf(&why, "record %zu breaks x-sse-data-schema: %s\n", i, act[i].text);
            ct_diags_render(&d, &why, false);
        }
        ct_diags_deinit(&d);
    }
    if (n && dropped && act[n - 1].kind != CT_DLG_DROP)
        ct_buf_adds(&why, "expected the stream to be dropped\n");
    if (n && !dropped && !act[n - 1].done)
        ct_buf_adds(&why, "expected the stream to end with the done record\n");
    tap(E, why.len == 0, ct_buf_cstr(&why), "SSE %s (rule %s, %zu records)", label,
        ct_dialogue_conn_rule(c) ? ct_dialogue_conn_rule(c) : "none", n);
    ct_buf_deinit(&why);
    ct_dialogue_conn_free(c);
    ct_arena_deinit(&a);
}

static void sse(struct env *E)
{
    const struct ct_oas_op *op = ct_oas_find_op(E->oas, "streamChatCompletion");
    /* The operation's own request examples. */
    for (unsigned i = 0; op && i < op->nbody; i++) {
        const struct ct_node *exs = op->body[i].examples;
        for (uint32_t k = 0; exs && k < exs->len; k++) {
            const struct ct_node *ex = ct_docset_deref(E->oas->docset, exs->u.members[k].val,
                                                       NULL);
            const struct ct_node *v = ex ? ct_obj_get(ex, "value") : NULL;
            if (!v)
                continue;
            struct ct_buf b;
            ct_buf_init(&b, 0);
            ct_json_emit(v, &b, false);
            char label[128];
            snprintf(label, sizeof(label), "OpenAPI example '%s'", exs->u.members[k].key->u.str);
            sse_one(E, ct_buf_cstr(&b), false, label);
            ct_buf_deinit(&b);
        }
    }
    sse_one(E, "{\"messages\":[\"Rewrite: You are bot. Answer user about orders.\"]}", false,
            "English, default model");
    sse_one(E, "{\"messages\":[\"hi\",\"hello\",\"请把它改写成系统提示词\"],\"model\":\"qwen-max\"}",
            false, "Chinese, last message counts");
    sse_one(E, "{\"messages\":[\"#fault drop\"]}", true, "#fault drop");
    sse_one(E, "{\"messages\":[\"#fault error\"],\"model\":\"qwen-turbo\"}", false,
            "#fault error");
}

/* --- main ------------------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SPECS_DIR\n", argv[0]);
        return 2;
    }
    struct env E = {0};
    struct ct_diags d;
    ct_diags_init(&d);
    char *ap = ct_xasprintf("%s/prompt-sphere.asyncapi.yaml", argv[1]);
    char *op = ct_xasprintf("%s/prompt-sphere.yaml", argv[1]);
    char *dir = ct_xasprintf("%s/dialogues", argv[1]);
    struct ct_docset *ads = ct_docset_new(NULL), *ods = NULL, *ds = ct_docset_new(NULL);
    E.api = ct_asyncapi_load(ads, ap, NULL, &d);
    E.oas = ct_oas_load(op, NULL, &ods, &d);
    char **paths = NULL;
    size_t np = 0, cap = 0;
    DIR *dh = opendir(dir);
    struct dirent *e;
    while (dh && (e = readdir(dh))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".yaml")) {
            paths = ct_xgrow(paths, &cap, np + 1, sizeof(*paths));
            paths[np++] = ct_xasprintf("%s/%s", dir, e->d_name);
        }
    }
    if (dh)
        closedir(dh);
    if (np)
        qsort(paths, np, sizeof(*paths), cmp_str);
    struct ct_dialogue_env env = {E.api, E.oas};
    if (E.api && E.oas)
        E.set = ct_dialogue_set_load(ds, (const char *const *)paths, np, &env, &d);
    if (!E.set) {
        struct ct_buf b;
        ct_buf_init(&b, 0);
        ct_diags_render(&d, &b, false);
        printf("1..1\nnot ok 1 - load the contracts and %zu dialogues\n", np);
        fputs(ct_buf_cstr(&b), stdout);
        return 1;
    }
    E.ch = ct_asyncapi_channel(E.api, "chat", 4);
    struct ct_dialogue_stats st;
    ct_dialogue_set_stats(E.set, &st);
    E.nrules = st.rules;
    E.hits = ct_xcalloc(st.rules + 1, sizeof(*E.hits));
    /* The SSE data schema, compiled here on its own (not through the engine). */
    const struct ct_oas_op *sop = ct_oas_find_op(E.oas, "streamChatCompletion");
    for (unsigned i = 0; sop && i < sop->nresponses; i++)
        for (unsigned j = 0; j < sop->responses[i].nmedia; j++) {
            const struct ct_oas_media *m = &sop->responses[i].media[j];
            if (strcmp(m->type, "text/event-stream") != 0)
                continue;
            struct ct_schema_opts so = {.dialect = CT_DIALECT_OAS31,
                                        .direction = CT_DIR_RESPONSE,
                                        .format_assert = true,
                                        .all_errors = true};
            E.sse_data = ct_schema_compile(E.oas->docset, ct_obj_get(m->node, "x-sse-data-schema"),
                                           &so, &d);
            E.sse_done = ct_obj_str(m->node, "x-sse-done");
        }
    tap(&E, E.sse_data && E.sse_done, NULL, "streamChatCompletion has x-sse-data-schema and "
                                            "x-sse-done");
    printf("# %zu dialogues, %zu rules, %zu frames\n", st.scripts, st.rules, st.frames);

    agent_modes(&E);
    heartbeat_and_invalid(&E);
    faults(&E);
    contract_examples(&E);
    example_dialogue(&E);
    sse(&E);

    /* Every rule answered at least once. */
    struct ct_buf why;
    ct_buf_init(&why, 0);
    for (size_t i = 0; i < E.nrules; i++) {
        printf("# %4zu  %s\n", E.hits[i], ct_dialogue_rule_name(E.set, i));
        if (!E.hits[i])
            ct_buf_printf(&why, "rule %s never answered\n", ct_dialogue_rule_name(E.set, i));
    }
    tap(&E, why.len == 0, ct_buf_cstr(&why), "every rule of every bundled dialogue answered "
                                             "(%zu rules)",
        E.nrules);
    ct_buf_deinit(&why);
    printf("# %zu WebSocket frames and %zu SSE records checked against the contracts\n",
           E.frames, E.records);
    printf("1..%d\n", E.n);

    ct_free(E.hits);
    ct_schema_free(E.sse_data);
    ct_dialogue_set_free(E.set);
    for (size_t i = 0; i < np; i++)
        ct_free(paths[i]);
    ct_free(paths);
    ct_docset_free(ds);
    ct_asyncapi_free(E.api);
    ct_docset_free(ads);
    ct_docset_free(ods);
    ct_diags_deinit(&d);
    ct_free(ap);
    ct_free(op);
    ct_free(dir);
    return E.failed ? 1 : 0;
}
