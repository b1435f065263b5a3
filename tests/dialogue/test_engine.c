/* test_engine.c - the dialogue engine, feature by feature, through the public API (dialogue.h).
 *
 * Scripts are written inline and loaded from memory; a small AsyncAPI document (also inline)
 * stands in for the contract where validation matters. cmocka's allocator checks for leaks. */
#include "../unit/test_util.h"

#include "core/err.h"
#include "dialogue/dialogue.h"

#include <stdio.h>
#include <stdlib.h>

/* --- fixture ------------------------------------------------------------------------------------ */

struct fx {
    struct ct_docset *ds, *ads;
    struct ct_diags d;
    struct ct_asyncapi *api;
    struct ct_dialogue_set *s;
    struct ct_dialogue_conn *c;
    struct ct_arena a;
    const struct ct_dlg_action *act;
    size_t n;
};

static const char mini_asyncapi[] =
    "asyncapi: 3.0.0\n"
    "info: {title: mini, version: '1'}\n"
    "channels:\n"
    "  chat:\n"
    "    address: /ws/{room}\n"
    "    messages:\n"
    "      hello: {$ref: '#/components/messages/Hello'}\n"
    "      reply: {$ref: '#/components/messages/Reply'}\n"
    "      count: {$ref: '#/components/messages/Count'}\n"
    "    x-close-codes:\n"
    "      - {code: 1000, name: normal_closure}\n"
    "      - {code: 4001, name: auth_failed}\n"
    "operations:\n"
    "  receiveHello:\n"
    "    action: receive\n"
    "    channel: {$ref: '#/channels/chat'}\n"
    "    messages: [{$ref: '#/channels/chat/messages/hello'}]\n"
    "  sendReply:\n"
    "    action: send\n"
    "    channel: {$ref: '#/channels/chat'}\n"
    "    messages: [{$ref: '#/channels/chat/messages/reply'}, "
    "{$ref: '#/channels/chat/messages/count'}]\n"
    "components:\n"
    "  messages:\n"
    "    Hello:\n"
    "      name: hello\n"
    "      payload:\n"
    "        type: object\n"
    "        additionalProperties: false\n"
    "        required: [type, name]\n"
    "        properties:\n"
    "          type: {const: hello}\n"
    "          name: {type: string, minLength: 1}\n"
    "    Reply:\n"
    "      name: reply\n"
    "      payload:\n"
    "        type: object\n"
    "        additionalProperties: false\n"
    "        required: [type, text]\n"
    "        properties:\n"
    "          type: {const: reply}\n"
    "          text: {type: string, maxLength: 12}\n"
    "    Count:\n"
    "      name: count\n"
    "      payload:\n"
    "        type: object\n"
    "        required: [type, n]\n"
    "        properties:\n"
    "          type: {const: count}\n"
    "          n: {type: integer, maximum: 9007199254740991}\n";

static void render(const struct ct_diags *d)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_diags_render(d, &b, false);
    /* As TAP comments, so the protocol stays clean. */
    for (const char *p = ct_buf_cstr(&b); *p;) {
        const char *nl = strchr(p, '\n');
        int l = nl ? (int)(nl - p) : (int)strlen(p);
        print_message("# %.*s\n", l, p);
        p = nl ? nl + 1 : p + l;
    }
    ct_buf_deinit(&b);
}

/* Load one script (with the mini AsyncAPI when `with_api`) and open a connection. */
static void load(struct fx *f, const char *yaml, bool with_api)
{
    memset(f, 0, sizeof(*f));
    ct_diags_init(&f->d);
    ct_arena_init(&f->a, 1024);
    f->ds = ct_docset_new(NULL);
    struct ct_dialogue_env env = {0};
    if (with_api) {
        f->ads = ct_docset_new(NULL);
        const struct ct_node *r = ct_docset_load_text(f->ads, "mini.asyncapi.yaml", mini_asyncapi,
                                                      strlen(mini_asyncapi), &f->d);
        f->api = ct_asyncapi_build(f->ads, r, NULL, &f->d);
        assert_non_null(f->api);
        env.api = f->api;
    }
    const struct ct_node *root = ct_docset_load_text(f->ds, "t.yaml", yaml, strlen(yaml), &f->d);
    f->s = ct_dialogue_set_build(f->ds, &root, 1, &env, &f->d);
    render(&f->d);
    assert_non_null(f->s);
    struct ct_dialogue_ctx ctx = {.channel = with_api ? "/ws/lobby" : "chat",
                                  .sub = "u_1",
                                  .role = "user",
                                  .session_id = "sess_test",
                                  .seed = 7,
                                  .now_ms = 1000000};
    f->c = ct_dialogue_conn_new(f->s, &ctx);
}

static void done(struct fx *f)
{
    ct_dialogue_conn_free(f->c);
    ct_dialogue_set_free(f->s);
    ct_docset_free(f->ds);
    ct_asyncapi_free(f->api);
    ct_docset_free(f->ads);
    ct_diags_deinit(&f->d);
    ct_arena_deinit(&f->a);
}

static size_t say(struct fx *f, const char *text, int64_t now)
{
    f->n = ct_dialogue_on_text(f->c, text, strlen(text), now, &f->act);
    render(ct_dialogue_conn_diags(f->c));
    return f->n;
}

static const char *rule(const struct fx *f)
{
    const char *r = ct_dialogue_conn_rule(f->c);
    return r ? r : "(none)";
}

/* The value at `ptr` in frame i, as JSON text (in the fixture's arena). */
static const char *at(struct fx *f, size_t i, const char *ptr)
{
    assert_true(i < f->n);
    struct ct_source *src = ct_arena_zalloc(&f->a, sizeof(*src));
    src->name = "<frame>";
    src->text = f->act[i].text;
    src->len = f->act[i].len;
    const struct ct_node *n = ct_json_parse(&f->a, src, NULL, NULL);
    assert_non_null(n);
    const struct ct_node *v = ct_pointer_get(n, ptr, strlen(ptr), false);
    if (!v)
        return "(absent)";
    struct ct_buf b;
    ct_buf_init(&b, 0);
    if (v->kind == CT_STRING)
        ct_buf_add(&b, v->u.str, v->len);
    else
        ct_json_emit(v, &b, false);
    const char *s = ct_arena_strdup(&f->a, ct_buf_cstr(&b));
    ct_buf_deinit(&b);
    return s;
}

/* --- matching ----------------------------------------------------------------------------------- */

static void test_rules_are_tried_by_priority_then_order_with_fallbacks_last(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: order\n"
         "rules:\n"
         "  - name: catch-all\n"
         "    fallback: true\n"
         "    do: [{send: {n: fallback}}]\n"
         "  - name: first\n"
         "    when: {type: a}\n"
         "    do: [{send: {n: first}}]\n"
         "  - name: second\n"
         "    when: {type: [a, b]}\n"
         "    do: [{send: {n: second}}]\n",
         false);
    say(&f, "{\"type\":\"a\"}", 1);
    assert_string_equal(rule(&f), "order/first");
    say(&f, "{\"type\":\"b\"}", 2);
    assert_string_equal(rule(&f), "order/second");
    say(&f, "{\"type\":\"c\"}", 3);
    assert_string_equal(rule(&f), "order/catch-all");
    assert_string_equal(at(&f, 0, "/n"), "fallback");
    done(&f);
}

static void test_match_by_agent_mode_language_and_text(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: m\n"
         "rules:\n"
         "  - name: zh\n"
         "    when: {agent: pe_engineer, mode: [create, optimize], lang: zh}\n"
         "    do: [{send: {r: zh}}]\n"
         "  - name: hello\n"
         "    when: {agent: pe_engineer, text: '(?i)^hello\\b'}\n"
         "    do: [{send: {r: hello}}]\n"
         "  - name: en\n"
         "    when: {agent: pe_engineer, lang: en}\n"
         "    do: [{send: {r: en}}]\n",
         false);
    say(&f, "{\"data\":{\"agent\":\"pe_engineer\",\"mode\":\"create\",\"message\":\"你好\"}}", 1);
    assert_string_equal(rule(&f), "m/zh");
    say(&f, "{\"data\":{\"agent\":\"pe_engineer\",\"mode\":\"quality_check\",\"message\":\"你好\"}}",
        2);
    assert_string_equal(rule(&f), "(none)"); /* zh, but mode does not match and it is not en */
    say(&f, "{\"data\":{\"agent\":\"pe_engineer\",\"mode\":\"create\",\"message\":\"HELLO there\"}}",
        3);
    assert_string_equal(rule(&f), "m/hello");
    say(&f, "{\"data\":{\"agent\":\"pe_engineer\",\"mode\":\"create\",\"message\":\"hi\"}}", 4);
    assert_string_equal(rule(&f), "m/en");
    say(&f, "{\"data\":{\"agent\":\"peqa\",\"mode\":\"create\",\"message\":\"hi\"}}", 5);
    assert_int_equal(f.n, 0);
    done(&f);
}

static void test_match_fields_state_and_vars_with_matchers(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: fields\n"
         "rules:\n"
         "  - name: exists\n"
         "    when:\n"
         "      fields: {/data/promptId: {exists: true}, .data.n: {gte: 10, lt: 20}}\n"
         "    do: [{send: {r: 1}}]\n"
         "  - name: one-of\n"
         "    when:\n"
         "      fields: {'.data.tags[-1]': {one_of: [x, y]}, /data/who: {not_equals: bob}}\n"
         "    do: [{send: {r: 2}}]\n"
         "  - name: vars\n"
         "    when:\n"
         "      vars: {conn.role: user, 'message.data.text | len': {gt: 3}, conn.turn: {lte: 9}}\n"
         "    do: [{send: {r: 3}}]\n",
         false);
    say(&f, "{\"data\":{\"promptId\":\"p\",\"n\":12}}", 1);
    assert_string_equal(rule(&f), "fields/exists");
    say(&f, "{\"data\":{\"promptId\":\"p\",\"n\":20}}", 2);
    assert_string_equal(rule(&f), "(none)");
    say(&f, "{\"data\":{\"tags\":[\"a\",\"y\"],\"who\":\"ann\"}}", 3);
    assert_string_equal(rule(&f), "fields/one-of");
    say(&f, "{\"data\":{\"tags\":[\"a\",\"y\"],\"who\":\"bob\"}}", 4);
    assert_string_equal(rule(&f), "(none)");
    say(&f, "{\"data\":{\"text\":\"four\"}}", 5);
    assert_string_equal(rule(&f), "fields/vars");
    say(&f, "{\"data\":{\"text\":\"abc\"}}", 6);
    assert_string_equal(rule(&f), "(none)");
    done(&f);
}

/* --- templates ---------------------------------------------------------------------------------- */

static void test_templates_take_ids_from_message_and_connection(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: t\n"
         "rules:\n"
         "  - do:\n"
         "      - send:\n"
         "          replyTo: '{{message.data.messageId}}'\n"
         "          session: '{{message.data.sessionId | default session.id}}'\n"
         "          sub: '{{conn.sub}}'\n"
         "          email: '{{conn.email?}}'\n"
         "          at: '{{now}}'\n"
         "          line: 'turn {{conn.turn}} for {{conn.sub}} at {{now_s}}'\n"
         "          iso: '{{now_iso}}'\n",
         false);
    say(&f, "{\"data\":{\"messageId\":\"c_9\"}}", 1758961925123);
    assert_int_equal(f.n, 1);
    assert_string_equal(at(&f, 0, "/replyTo"), "c_9");
    assert_string_equal(at(&f, 0, "/session"), "sess_test");
    assert_string_equal(at(&f, 0, "/sub"), "u_1");
    assert_string_equal(at(&f, 0, "/email"), "(absent)"); /* `?`: undefined drops the member */
    assert_string_equal(at(&f, 0, "/at"), "1758961925123");
    assert_string_equal(at(&f, 0, "/line"), "turn 1 for u_1 at 1758961925");
    assert_string_equal(at(&f, 0, "/iso"), "2025-09-27T08:32:05.123Z");
    say(&f, "{\"data\":{\"messageId\":\"c_10\",\"sessionId\":\"sess_other\"}}", 2);
    assert_string_equal(at(&f, 0, "/session"), "sess_other");
    done(&f);
}

static void test_random_ids_repeat_with_the_seed_and_session_is_made_when_absent(void **state)
{
    struct fx f;
    load(&f, "dialogue: ids\nrules:\n  - do: [{send: {id: '{{id}}', u: '{{uuid}}', t: '{{turn.id}}'}}]\n",
         false);
    say(&f, "{}", 1);
    char first[128];
    snprintf(first, sizeof(first), "%s %s %s", at(&f, 0, "/id"), at(&f, 0, "/u"),
             at(&f, 0, "/t"));
    assert_int_equal(strlen(at(&f, 0, "/u")), 36);
    assert_int_equal(at(&f, 0, "/u")[14], '4');
    assert_memory_equal(at(&f, 0, "/t"), "s_", 2);
    /* A second connection with the same seed draws the same ids. */
    struct ct_dialogue_ctx ctx = {.channel = "chat", .seed = 7, .session_id = "sess_test"};
    struct ct_dialogue_conn *c2 = ct_dialogue_conn_new(f.s, &ctx);
    ct_dialogue_conn_free(f.c);
    f.c = c2;
    say(&f, "{}", 1);
    char second[128];
    snprintf(second, sizeof(second), "%s %s %s", at(&f, 0, "/id"), at(&f, 0, "/u"),
             at(&f, 0, "/t"));
    assert_string_equal(first, second);
    /* Without a session id, one is made. */
    struct ct_dialogue_ctx ctx3 = {.channel = "chat", .seed = 1};
    struct ct_dialogue_conn *c3 = ct_dialogue_conn_new(f.s, &ctx3);
    assert_memory_equal(ct_dialogue_conn_session(c3), "sess_", 5);
    assert_int_equal(strlen(ct_dialogue_conn_session(c3)), 15);
    ct_dialogue_conn_free(c3);
    done(&f);
}

static void test_filters_count_code_points(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: filters\n"
         "rules:\n"
         "  - do:\n"
         "      - send:\n"
         "          cut: '{{message.s | truncate 3}}'\n"
         "          n: '{{message.s | len}}'\n"
         "          sum: '{{message.s | len | plus 10}}'\n"
         "          dflt: \"{{message.none | default 'x'}}\"\n"
         "          json: '{{message.o | json}}'\n"
         "          up: '{{message.w | upper}}'\n"
         "          low: '{{message.w | lower}}'\n"
         "          items: ['{{message.none?}}', '{{message.o.k}}']\n"
         "          lit: \"{{'{{'}}\"\n",
         false);
    say(&f, "{\"s\":\"提示词工程\",\"o\":{\"k\":true},\"w\":\"MiXed\"}", 1);
    assert_string_equal(at(&f, 0, "/cut"), "提示词");
    assert_string_equal(at(&f, 0, "/n"), "5");
    assert_string_equal(at(&f, 0, "/sum"), "15");
    assert_string_equal(at(&f, 0, "/dflt"), "x");
    assert_string_equal(at(&f, 0, "/json"), "{\"k\":true}");
    assert_string_equal(at(&f, 0, "/up"), "MIXED");
    assert_string_equal(at(&f, 0, "/low"), "mixed");
    assert_string_equal(at(&f, 0, "/items"), "[true]"); /* the optional item is dropped */
    assert_string_equal(at(&f, 0, "/lit"), "{{");
    done(&f);
}

static void test_whole_expressions_keep_their_type_and_interpolation_makes_text(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: types\n"
         "rules:\n"
         "  - do:\n"
         "      - send: {n: '{{message.n}}', b: '{{message.b}}', o: '{{message.o}}',\n"
         "               s: 'n={{message.n}} b={{message.b}} o={{message.o}}',\n"
         "               m: '{{message.i | plus -1234567890123}}', z: '{{message.i | plus -1}}',\n"
         "               t: '{{now}}'}\n",
         false);
    say(&f, "{\"n\":12345678901234567890,\"b\":false,\"o\":{\"a\":[1]},\"i\":1}", 1700000000123);
    assert_string_equal(at(&f, 0, "/n"), "12345678901234567890"); /* exact: the literal kept */
    assert_string_equal(at(&f, 0, "/m"), "-1234567890122");
    assert_string_equal(at(&f, 0, "/z"), "0");
    assert_string_equal(at(&f, 0, "/t"), "1700000000123");
    assert_string_equal(at(&f, 0, "/b"), "false");
    assert_string_equal(at(&f, 0, "/o"), "{\"a\":[1]}");
    assert_string_equal(at(&f, 0, "/s"), "n=12345678901234567890 b=false o={\"a\":[1]}");
    done(&f);
}

static void test_undefined_values_are_reported_not_silently_emptied(void **state)
{
    struct fx f;
    load(&f, "dialogue: u\nrules:\n  - do: [{send: {a: '{{message.nope}}', b: 'x{{message.nope}}y'}}]\n",
         false);
    say(&f, "{}", 1);
    assert_string_equal(at(&f, 0, "/a"), "null");
    assert_string_equal(at(&f, 0, "/b"), "xy");
    const struct ct_diags *d = ct_dialogue_conn_diags(f.c);
    assert_int_equal(d->n, 2);
    assert_non_null(strstr(d->v[0].msg, "'message.nope' is undefined"));
    assert_int_equal(d->v[0].line, 3);
    done(&f);
}

/* --- streams ------------------------------------------------------------------------------------ */

/* Concatenate field `ptr` over frames [from, to). */
static void concat(struct fx *f, size_t from, size_t to, const char *ptr, struct ct_buf *out)
{
    for (size_t i = from; i < to; i++)
        ct_buf_adds(out, at(f, i, ptr));
}

static void test_stream_in_n_chunks_partitions_the_text(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: s\n"
         "rules:\n"
         "  - do:\n"
         "      - stream:\n"
         "          text: 'abcdefghij'\n"
         "          chunks: 3\n"
         "          frame: {i: '{{chunk.index}}', d: '{{chunk.delta}}', f: '{{chunk.final}}',\n"
         "                  c: '{{chunk.count}}'}\n"
         "          then: {all: '{{stream.text}}', n: '{{stream.chunks}}'}\n",
         false);
    say(&f, "{}", 1);
    assert_int_equal(f.n, 4);
    assert_string_equal(at(&f, 0, "/d"), "abc");
    assert_string_equal(at(&f, 1, "/d"), "def");
    assert_string_equal(at(&f, 2, "/d"), "ghij");
    assert_string_equal(at(&f, 2, "/i"), "2");
    assert_string_equal(at(&f, 1, "/f"), "false");
    assert_string_equal(at(&f, 2, "/f"), "true");
    assert_string_equal(at(&f, 0, "/c"), "3");
    assert_string_equal(at(&f, 3, "/all"), "abcdefghij");
    assert_string_equal(at(&f, 3, "/n"), "3");
    done(&f);
}

static void test_chunk_size_counts_code_points_and_never_splits_utf8(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: s\n"
         "rules:\n"
         "  - do:\n"
         "      - stream: {text: '你好，世界🌏！提示词', chunk_size: 4, frame: {d: '{{chunk.delta}}'}}\n",
         false);
    say(&f, "{}", 1);
    assert_int_equal(f.n, 3);
    assert_string_equal(at(&f, 0, "/d"), "你好，世");
    assert_string_equal(at(&f, 1, "/d"), "界🌏！提");
    assert_string_equal(at(&f, 2, "/d"), "示词");
    struct ct_buf b;
    ct_buf_init(&b, 0);
    concat(&f, 0, 3, "/d", &b);
    assert_string_equal(ct_buf_cstr(&b), "你好，世界🌏！提示词");
    ct_buf_deinit(&b);
    done(&f);
}

static void test_final_empty_chunk_and_cut_after(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: s\n"
         "rules:\n"
         "  - when: {type: empty}\n"
         "    do:\n"
         "      - stream: {text: abcd, chunks: 2, final: empty, frame: {d: '{{chunk.delta}}', "
         "f: '{{chunk.final}}'}, last_frame: {last: '{{chunk.index}}'}}\n"
         "  - when: {type: cut}\n"
         "    do:\n"
         "      - stream: {text: abcdef, chunks: 3, cut_after: 2, typing: [s, e], then: {x: 1}}\n"
         "      - drop: true\n"
         "frames:\n"
         "  s: {typing: start}\n"
         "  e: {typing: stop}\n"
         "  chunk: {d: '{{chunk.delta}}'}\n",
         false);
    say(&f, "{\"type\":\"empty\"}", 1);
    assert_int_equal(f.n, 3);
    assert_string_equal(at(&f, 1, "/f"), "false");
    assert_string_equal(at(&f, 2, "/last"), "2"); /* the extra, empty, final chunk */
    say(&f, "{\"type\":\"cut\"}", 2);
    /* typing start, two chunks, then the drop: no third chunk, no typing stop, no `then`. */
    assert_int_equal(f.n, 4);
    assert_string_equal(at(&f, 0, "/typing"), "start");
    assert_string_equal(at(&f, 2, "/d"), "cd");
    assert_int_equal(f.act[3].kind, CT_DLG_DROP);
    done(&f);
}

static void test_stream_pacing_think_every_and_cps(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: s\n"
         "frames:\n"
         "  typing_start: {t: start, at: '{{now}}'}\n"
         "  typing_stop: {t: stop, at: '{{now}}'}\n"
         "rules:\n"
         "  - when: {type: every}\n"
         "    do:\n"
         "      - stream: {text: abcdef, chunks: 3, every: 100ms, think: 1.5s, typing: true, "
         "frame: {d: '{{chunk.delta}}', at: '{{now}}', e: '{{turn.elapsed}}'}}\n"
         "        after: 50\n"
         "  - when: {type: cps}\n"
         "    do:\n"
         "      - stream: {text: abcdefghij, chunk_size: 4, cps: 20, frame: {d: '{{chunk.delta}}'}}\n",
         false);
    say(&f, "{\"type\":\"every\"}", 10000);
    assert_int_equal(f.n, 5);
    assert_int_equal(f.act[0].delay_ms, 50);   /* typing_start after `after` */
    assert_int_equal(f.act[1].delay_ms, 1500); /* think */
    assert_int_equal(f.act[2].delay_ms, 100);
    assert_int_equal(f.act[3].delay_ms, 100);
    assert_int_equal(f.act[4].delay_ms, 0);    /* typing_stop right after the last chunk */
    assert_string_equal(at(&f, 3, "/at"), "11750");
    assert_string_equal(at(&f, 3, "/e"), "1750");
    assert_string_equal(at(&f, 4, "/t"), "stop");
    /* The first turn ended at 11750: this one starts at once. */
    say(&f, "{\"type\":\"cps\"}", 20000);
    assert_int_equal(f.n, 3);
    assert_int_equal(f.act[0].delay_ms, 0);
    assert_int_equal(f.act[1].delay_ms, 200); /* 4 characters at 20 per second */
    assert_int_equal(f.act[2].delay_ms, 100); /* the last 2 */
    done(&f);
}

static void test_after_wait_and_pace_scale_delays(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: d\n"
         "rules:\n"
         "  - when: {type: slow}\n"
         "    do: [{pace: 3}, {send: {a: 1}, after: 100ms}, {wait: 1s}, {send: {b: 1}}]\n"
         "  - when: {type: normal}\n"
         "    do: [{pace: 1}, {send: {a: 1}, after: 2m}]\n",
         false);
    say(&f, "{\"type\":\"slow\"}", 0);
    assert_int_equal(f.act[0].delay_ms, 300);
    assert_int_equal(f.act[1].delay_ms, 3000);
    say(&f, "{\"type\":\"normal\"}", 100000);
    assert_int_equal(f.act[0].delay_ms, 120000);
    done(&f);
}

static void test_turns_queue_but_instant_answers_do_not(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: q\n"
         "rules:\n"
         "  - when: {type: ping}\n"
         "    do: [{send: {pong: '{{now}}', waiting: '{{conn.waiting}}'}}]\n"
         "  - when: {type: ask}\n"
         "    do: [{send: {answer: '{{now}}'}, after: 1s}]\n",
         false);
    say(&f, "{\"type\":\"ask\"}", 1000);
    assert_int_equal(f.act[0].delay_ms, 1000);
    say(&f, "{\"type\":\"ask\"}", 1200);
    assert_int_equal(f.act[0].delay_ms, 1800); /* starts when the first turn ends (2000) */
    assert_string_equal(at(&f, 0, "/answer"), "3000");
    say(&f, "{\"type\":\"ping\"}", 1300);
    assert_int_equal(f.act[0].delay_ms, 0);
    assert_string_equal(at(&f, 0, "/waiting"), "2");
    say(&f, "{\"type\":\"ping\"}", 5000);
    assert_string_equal(at(&f, 0, "/waiting"), "0");
    done(&f);
}

/* --- state, let, open, close -------------------------------------------------------------------- */

static void test_state_carries_a_multi_turn_conversation(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: flow\n"
         "state: {step: start, count: 0}\n"
         "rules:\n"
         "  - name: ask\n"
         "    when: {state: {step: start}}\n"
         "    do: [{send: {q: 'what for?'}}]\n"
         "    set: {step: asked, original: '{{message.text}}'}\n"
         "  - name: answer\n"
         "    when: {state: {step: asked}}\n"
         "    do: [{send: {a: '{{state.original}} for {{message.text}}'}}]\n"
         "    set: {step: start, original: null}\n",
         false);
    say(&f, "{\"text\":\"a prompt\"}", 1);
    assert_string_equal(rule(&f), "flow/ask");
    say(&f, "{\"text\":\"kids\"}", 2);
    assert_string_equal(rule(&f), "flow/answer");
    assert_string_equal(at(&f, 0, "/a"), "a prompt for kids");
    say(&f, "{\"text\":\"again\"}", 3);
    assert_string_equal(rule(&f), "flow/ask");
    done(&f);
}

static void test_let_values_are_computed_once_and_may_use_earlier_ones(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: lets\n"
         "rules:\n"
         "  - let:\n"
         "      who: '{{message.name | upper}}'\n"
         "      greeting: 'Hello {{who}}'\n"
         "      obj: {n: '{{message.name | len}}'}\n"
         "    do:\n"
         "      - send: {g: '{{greeting}}', n: '{{obj.n}}'}\n",
         false);
    say(&f, "{\"name\":\"ada\"}", 1);
    assert_string_equal(at(&f, 0, "/g"), "Hello ADA");
    assert_string_equal(at(&f, 0, "/n"), "3");
    done(&f);
}

static void test_open_rules_see_the_query_and_close_ends_the_connection(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: life\n"
         "rules:\n"
         "  - 'on': open\n"
         "    when: {vars: {query.sessionId: {exists: true}}}\n"
         "    do: [{send: {event: resumed, id: '{{query.sessionId}}'}}]\n"
         "  - 'on': open\n"
         "    do: [{send: {event: welcome}}]\n"
         "  - when: {type: bye}\n"
         "    do: [{send: {bye: 1}}, {close: {code: 4001, reason: logged out}}, {send: {never: 1}}]\n",
         false);
    f.n = ct_dialogue_on_open(f.c, 0, &f.act);
    assert_string_equal(at(&f, 0, "/event"), "welcome");
    struct ct_arena a;
    ct_arena_init(&a, 256);
    struct ct_source src = {"<q>", "{\"sessionId\":\"sess_9\"}", 22};
    struct ct_dialogue_ctx ctx = {.channel = "chat", .query = ct_json_parse(&a, &src, NULL, NULL)};
    struct ct_dialogue_conn *c2 = ct_dialogue_conn_new(f.s, &ctx);
    ct_arena_deinit(&a); /* the connection keeps its own copy of the query */
    ct_dialogue_conn_free(f.c);
    f.c = c2;
    f.n = ct_dialogue_on_open(f.c, 0, &f.act);
    assert_string_equal(at(&f, 0, "/id"), "sess_9");
    say(&f, "{\"type\":\"bye\"}", 1);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.act[1].kind, CT_DLG_CLOSE);
    assert_int_equal(f.act[1].close_code, 4001);
    assert_string_equal(f.act[1].close_reason, "logged out");
    assert_int_equal(say(&f, "{\"type\":\"bye\"}", 2), 0);
    done(&f);
}

static void test_upgrade_is_refused_only_when_a_rule_says_so(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: up\n"
         "rules:\n"
         "  - name: viewers\n"
         "    'on': upgrade\n"
         "    when: {vars: {conn.role: viewer}}\n"
         "    refuse: 403\n",
         false);
    struct ct_dialogue_ctx ctx = {.channel = "chat", .role = "viewer"};
    const char *why = NULL;
    assert_int_equal(ct_dialogue_upgrade_status(f.s, &ctx, &why), 403);
    assert_string_equal(why, "up/viewers");
    ctx.role = "user";
    assert_int_equal(ct_dialogue_upgrade_status(f.s, &ctx, &why), 0);
    assert_null(why);
    done(&f);
}

/* --- invalid frames and the contract ------------------------------------------------------------ */

static void test_invalid_frames_go_to_invalid_rules_with_a_reason(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: inv\n"
         "channel: chat\n"
         "rules:\n"
         "  - 'on': invalid\n"
         "    when: {vars: {conn.invalid_streak: {gte: 4}}}\n"
         "    do: [{close: auth_failed}]\n"
         "  - 'on': invalid\n"
         "    do: [{send: {type: reply, text: '{{invalid.reason}}'}}]\n"
         "  - when: {type: hello}\n"
         "    do: [{send: {type: reply, text: 'hi {{message.name}}'}}]\n",
         true);
    say(&f, "{\"type\":\"hello\",\"name\":\"ann\"}", 1);
    assert_string_equal(at(&f, 0, "/text"), "hi ann");
    say(&f, "{oops", 2);
    assert_string_equal(at(&f, 0, "/text"), "json");
    say(&f, "{\"type\":\"bye\"}", 3);
    assert_string_equal(at(&f, 0, "/text"), "unknown_type");
    say(&f, "{\"type\":\"hello\"}", 4);
    assert_string_equal(at(&f, 0, "/text"), "schema");
    assert_int_equal(f.act[0].kind, CT_DLG_SEND);
    say(&f, "{\"type\":\"hello\",\"name\":\"\"}", 5);
    assert_int_equal(f.act[0].kind, CT_DLG_CLOSE); /* the fourth invalid frame in a row */
    assert_int_equal(f.act[0].close_code, 4001);
    done(&f);
}

static void test_the_invalid_message_names_what_was_expected(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: inv\n"
         "rules:\n"
         "  - 'on': invalid\n"
         "    do: [{send: {type: reply, text: x}, invalid: true}, {raw: '{{invalid.message}}', "
         "invalid: true}]\n",
         true);
    say(&f, "{\"type\":\"hello\",\"name\":3}", 1);
    assert_int_equal(f.n, 2);
    assert_string_equal(f.act[1].text, "at /name: expected string, got integer 3");
    assert_true(f.act[0].invalid_on_purpose);
    done(&f);
}

static void test_a_frame_that_breaks_the_contract_is_withheld_unless_marked(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: guard\n"
         "rules:\n"
         "  - name: long\n"
         "    when: {type: hello}\n"
         "    do:\n"
         "      - send: {type: reply, text: '{{message.name}}'}\n"
         "      - send: {type: reply, text: '{{message.name}}'}\n"
         "        invalid: true\n",
         true);
    say(&f, "{\"type\":\"hello\",\"name\":\"short\"}", 1);
    assert_int_equal(f.n, 2);
    say(&f, "{\"type\":\"hello\",\"name\":\"far too long for twelve\"}", 2);
    assert_int_equal(f.n, 1); /* the first was withheld */
    assert_true(f.act[0].invalid_on_purpose);
    const struct ct_diags *d = ct_dialogue_conn_diags(f.c);
    assert_int_equal(d->n, 1);
    assert_int_equal(d->v[0].code, CT_E_CONTRACT);
    assert_int_equal(d->v[0].line, 6);
    assert_non_null(strstr(d->v[0].msg, "withheld a frame that breaks the contract: at /text: "
                                        "expected at most 12 characters"));
    done(&f);
}

/* Frames are validated as the nodes they were written from, unless parsing their text might not
 * give those nodes back: then the text itself is parsed and validated, as a client reads it. */
static void test_a_frame_is_judged_by_its_text(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: text\n"
         "rules:\n"
         "  - when: {type: hello, vars: {message.name: sub}}\n"
         "    do: [{send: {type: reply, text: '{{conn.sub}}'}}]\n"
         "  - when: {type: hello, vars: {message.name: hex}}\n"
         "    do: [{send: {type: count, n: 0x1FFFFFFFFFFFFF}}]\n"
         "  - when: {type: hello, vars: {message.name: big}}\n"
         "    do: [{send: {type: count, n: '{{message.name | len | plus 9007199254740989}}'}}]\n",
         true);
    /* A claim that is not UTF-8 (the transport copies claims as they come): the text would
     * not parse as JSON. */
    struct ct_dialogue_ctx ctx = {.channel = "/ws/lobby", .sub = "ab\xff", .seed = 7};
    ct_dialogue_conn_free(f.c);
    f.c = ct_dialogue_conn_new(f.s, &ctx);
    assert_int_equal(say(&f, "{\"type\":\"hello\",\"name\":\"sub\"}", 1), 0);
    const struct ct_diags *d = ct_dialogue_conn_diags(f.c);
    assert_int_equal(d->n, 1);
    assert_non_null(strstr(d->v[0].msg, "withheld a frame that breaks the contract: "
                                        "invalid UTF-8 in string"));
    /* 2^53 - 1 written in hex: YAML calls it exact, the JSON text's 16 digits are not read
     * as exact; either way it is within the maximum. 2^53 (computed) is not. */
    assert_int_equal(say(&f, "{\"type\":\"hello\",\"name\":\"hex\"}", 2), 1);
    assert_string_equal(f.act[0].text, "{\"type\":\"count\",\"n\":9007199254740991}");
    assert_int_equal(say(&f, "{\"type\":\"hello\",\"name\":\"big\"}", 3), 0);
    d = ct_dialogue_conn_diags(f.c);
    assert_int_equal(d->n, 1);
    assert_non_null(strstr(d->v[0].msg, "withheld a frame that breaks the contract: at /n: "));
    done(&f);
}

/* --- SSE ---------------------------------------------------------------------------------------- */

static void test_sse_rules_answer_by_operation_with_fields_and_done(void **state)
{
    struct fx f;
    load(&f,
         "dialogue: sse\n"
         "rules:\n"
         "  - 'on': sse\n"
         "    operation: chat\n"
         "    when: {lang: zh}\n"
         "    do:\n"
         "      - stream: {text: '{{text}}', chunks: 2, frame: {c: '{{chunk.delta}}'}, "
         "event: delta}\n"
         "      - send: {end: true}\n"
         "        event: summary\n"
         "        id: '{{turn.id}}'\n"
         "      - done: true\n"
         "  - 'on': sse\n"
         "    operation: chat\n"
         "    do: [{raw: \"line one\\nline two\"}, {drop: true}]\n",
         false);
    assert_true(ct_dialogue_has_sse(f.s, "chat"));
    assert_false(ct_dialogue_has_sse(f.s, "other"));
    static const char b1[] = "{\"messages\":[\"x\",\"你好\"]}";
    struct ct_source src = {"<body>", b1, sizeof(b1) - 1};
    const struct ct_node *body = ct_json_parse(&f.a, &src, NULL, NULL);
    f.n = ct_dialogue_sse(f.c, "chat", body, 1, &f.act);
    assert_int_equal(f.n, 4);
    assert_string_equal(at(&f, 0, "/c"), "你");
    assert_string_equal(f.act[0].event, "delta");
    assert_string_equal(f.act[2].event, "summary");
    assert_memory_equal(f.act[2].id, "s_", 2);
    assert_true(f.act[3].done);
    assert_string_equal(f.act[3].text, "[DONE]");
    static const char b2[] = "{\"messages\":[\"hi\"]}";
    struct ct_source src2 = {"<body>", b2, sizeof(b2) - 1};
    body = ct_json_parse(&f.a, &src2, NULL, NULL);
    f.n = ct_dialogue_sse(f.c, "chat", body, 1, &f.act);
    assert_int_equal(f.n, 2);
    assert_string_equal(f.act[0].text, "line one\nline two");
    assert_int_equal(f.act[1].kind, CT_DLG_DROP);
    assert_int_equal(ct_dialogue_sse(f.c, "other", body, 1, &f.act), 0);
    done(&f);
}

static void test_sse_example_text_becomes_timed_records(void **state)
{
    struct fx f;
    load(&f, "dialogue: none\n", false);
    static const char ex[] = ": keep-alive\n"
                             "data: {\"a\":1}\n\n"
                             "event: note\r\nid: 7\r\ndata: two\r\ndata: lines\r\n\r\n"
                             "data: [DONE]";
    f.n = ct_dialogue_sse_example(f.c, ex, sizeof(ex) - 1, 250, "[DONE]", &f.act);
    assert_int_equal(f.n, 3);
    assert_string_equal(f.act[0].text, "{\"a\":1}");
    assert_int_equal(f.act[0].delay_ms, 0);
    assert_string_equal(f.act[1].text, "two\nlines");
    assert_string_equal(f.act[1].event, "note");
    assert_string_equal(f.act[1].id, "7");
    assert_int_equal(f.act[1].delay_ms, 250);
    assert_true(f.act[2].done);
    assert_false(f.act[1].done);
    done(&f);
}

/* --- loading ------------------------------------------------------------------------------------ */

static void test_frames_are_shared_across_scripts_and_extended_with_use(void **state)
{
    struct ct_diags d;
    ct_diags_init(&d);
    struct ct_docset *ds = ct_docset_new(NULL);
    static const char a[] = "dialogue: a\n"
                            "frames:\n"
                            "  base: {kind: base, data: {x: 1, y: '{{now}}'}}\n";
    static const char b[] = "dialogue: b\n"
                            "rules:\n"
                            "  - do: [{send: {$use: base, data: {y: 2, z: 3}}}]\n";
    const struct ct_node *roots[2] = {
        ct_docset_load_text(ds, "a.yaml", a, sizeof(a) - 1, &d),
        ct_docset_load_text(ds, "b.yaml", b, sizeof(b) - 1, &d),
    };
    struct ct_dialogue_set *s = ct_dialogue_set_build(ds, roots, 2, NULL, &d);
    render(&d);
    assert_non_null(s);
    struct ct_dialogue_stats st;
    ct_dialogue_set_stats(s, &st);
    assert_int_equal(st.scripts, 2);
    assert_int_equal(st.frames, 1);
    assert_int_equal(st.rules, 1);
    struct ct_dialogue_ctx ctx = {.channel = "x"};
    struct ct_dialogue_conn *c = ct_dialogue_conn_new(s, &ctx);
    const struct ct_dlg_action *act;
    assert_int_equal(ct_dialogue_on_text(c, "{}", 2, 5, &act), 1);
    assert_string_equal(act[0].text, "{\"kind\":\"base\",\"data\":{\"x\":1,\"y\":2,\"z\":3}}");
    ct_dialogue_conn_free(c);
    ct_dialogue_set_free(s);
    ct_docset_free(ds);
    ct_diags_deinit(&d);
}

static void test_a_set_with_errors_in_two_files_reports_both(void **state)
{
    struct ct_diags d;
    ct_diags_init(&d);
    struct ct_docset *ds = ct_docset_new(NULL);
    static const char a[] = "dialogue: a\nrules: [{do: [{sned: 1}]}]\n";
    static const char b[] = "dialogue: b\nrules: [{do: [{send: nothing}]}]\n";
    const struct ct_node *roots[2] = {
        ct_docset_load_text(ds, "a.yaml", a, sizeof(a) - 1, &d),
        ct_docset_load_text(ds, "b.yaml", b, sizeof(b) - 1, &d),
    };
    assert_null(ct_dialogue_set_build(ds, roots, 2, NULL, &d));
    assert_int_equal(d.nerrors, 2);
    assert_string_equal(d.v[0].src->name, "a.yaml");
    assert_string_equal(d.v[1].src->name, "b.yaml");
    assert_non_null(strstr(d.v[1].msg, "unknown frame 'nothing'"));
    ct_docset_free(ds);
    ct_diags_deinit(&d);
}

static void test_the_embedded_schema_is_a_json_schema(void **state)
{
    const char *t = ct_dialogue_schema_text();
    assert_non_null(strstr(t, "$schema: https://json-schema.org/draft/2020-12/schema"));
    assert_non_null(strstr(t, "title: mockd dialogue script"));
}

int main(void)
{
    tu_use_cmocka_alloc();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_are_tried_by_priority_then_order_with_fallbacks_last),
        cmocka_unit_test(test_match_by_agent_mode_language_and_text),
        cmocka_unit_test(test_match_fields_state_and_vars_with_matchers),
        cmocka_unit_test(test_templates_take_ids_from_message_and_connection),
        cmocka_unit_test(test_random_ids_repeat_with_the_seed_and_session_is_made_when_absent),
        cmocka_unit_test(test_filters_count_code_points),
        cmocka_unit_test(test_whole_expressions_keep_their_type_and_interpolation_makes_text),
        cmocka_unit_test(test_undefined_values_are_reported_not_silently_emptied),
        cmocka_unit_test(test_stream_in_n_chunks_partitions_the_text),
        cmocka_unit_test(test_chunk_size_counts_code_points_and_never_splits_utf8),
        cmocka_unit_test(test_final_empty_chunk_and_cut_after),
        cmocka_unit_test(test_stream_pacing_think_every_and_cps),
        cmocka_unit_test(test_after_wait_and_pace_scale_delays),
        cmocka_unit_test(test_turns_queue_but_instant_answers_do_not),
        cmocka_unit_test(test_state_carries_a_multi_turn_conversation),
        cmocka_unit_test(test_let_values_are_computed_once_and_may_use_earlier_ones),
        cmocka_unit_test(test_open_rules_see_the_query_and_close_ends_the_connection),
        cmocka_unit_test(test_upgrade_is_refused_only_when_a_rule_says_so),
        cmocka_unit_test(test_invalid_frames_go_to_invalid_rules_with_a_reason),
        cmocka_unit_test(test_the_invalid_message_names_what_was_expected),
        cmocka_unit_test(test_a_frame_that_breaks_the_contract_is_withheld_unless_marked),
        cmocka_unit_test(test_a_frame_is_judged_by_its_text),
        cmocka_unit_test(test_sse_rules_answer_by_operation_with_fields_and_done),
        cmocka_unit_test(test_sse_example_text_becomes_timed_records),
        cmocka_unit_test(test_frames_are_shared_across_scripts_and_extended_with_use),
        cmocka_unit_test(test_a_set_with_errors_in_two_files_reports_both),
        cmocka_unit_test(test_the_embedded_schema_is_a_json_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
