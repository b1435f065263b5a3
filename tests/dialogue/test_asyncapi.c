/* test_asyncapi.c - the AsyncAPI 3.0 model (lib/asyncapi): the real contract, and small documents
 * for the problems the loader reports.
 *
 * usage: test_asyncapi ASYNCAPI_FILE */
#include "../unit/test_util.h"

#include "asyncapi/asyncapi.h"
#include "core/err.h"

#include <stdio.h>

static const char *spec_path;

struct afx {
    struct ct_docset *ds;
    struct ct_diags d;
    struct ct_asyncapi *api;
    const struct ct_asyncapi_channel *ch;
    struct ct_arena a;
};

static void open_spec(struct afx *f)
{
    memset(f, 0, sizeof(*f));
    ct_diags_init(&f->d);
    ct_arena_init(&f->a, 1024);
    f->ds = ct_docset_new(NULL);
    f->api = ct_asyncapi_load(f->ds, spec_path, NULL, &f->d);
    assert_non_null(f->api);
    f->ch = ct_asyncapi_channel(f->api, "chat", 4);
    assert_non_null(f->ch);
}

static void close_spec(struct afx *f)
{
    ct_asyncapi_free(f->api);
    ct_docset_free(f->ds);
    ct_diags_deinit(&f->d);
    ct_arena_deinit(&f->a);
}

static const struct ct_node *frame(struct afx *f, const char *json)
{
    struct ct_source *src = ct_arena_zalloc(&f->a, sizeof(*src));
    src->name = "<frame>";
    src->text = ct_arena_strdup(&f->a, json);
    src->len = strlen(json);
    const struct ct_node *n = ct_json_parse(&f->a, src, NULL, &f->d);
    assert_non_null(n);
    return n;
}

static void test_the_contract_loads_with_directions_from_operations(void **state)
{
    struct afx f;
    open_spec(&f);
    assert_string_equal(f.api->version, "3.0.0");
    assert_int_equal(f.api->nchannels, 1);
    assert_string_equal(f.ch->address, "/api/v1/ws/chat");
    assert_int_equal(f.ch->nmessages, 9);
    assert_string_equal(f.ch->dispatch, "type");
    const struct ct_asyncapi_message *um = ct_asyncapi_message(f.ch, CT_AA_RECEIVE,
                                                               "user_message");
    assert_non_null(um);
    assert_string_equal(um->key, "userMessage");
    assert_int_equal(um->dirs, CT_AA_RECEIVE);
    assert_string_equal(um->correlation_ptr, "/data/messageId");
    assert_non_null(um->schema);
    assert_null(ct_asyncapi_message(f.ch, CT_AA_SEND, "user_message"));
    const struct ct_asyncapi_message *pong = ct_asyncapi_message(f.ch, CT_AA_SEND, "pong");
    assert_non_null(pong);
    assert_int_equal(pong->dirs, CT_AA_SEND);
    /* Reply messages of a receive operation travel from the server. */
    assert_non_null(ct_asyncapi_message(f.ch, CT_AA_SEND, "agent_response_chunk"));
    close_spec(&f);
}

static void test_close_codes_token_and_query_binding(void **state)
{
    struct afx f;
    open_spec(&f);
    assert_int_equal(f.ch->ncloses, 11);
    assert_int_equal(ct_asyncapi_close_code(f.ch, "auth_failed"), 4001);
    assert_int_equal(ct_asyncapi_close_code(f.ch, "going_away"), 1001);
    assert_int_equal(ct_asyncapi_close_code(f.ch, "nope"), -1);
    assert_true(f.ch->closes[1].reconnect);
    assert_string_equal(f.ch->token_param, "token");
    assert_non_null(f.ch->query_schema);
    assert_true(ct_schema_validate(f.ch->query_schema,
                                   frame(&f, "{\"token\":\"aaaaaaaa.bbbbbbbb.cccccccc\"}"), NULL));
    assert_false(ct_schema_validate(f.ch->query_schema, frame(&f, "{\"tok\":\"x\"}"), NULL));
    assert_ptr_equal(ct_asyncapi_channel(f.api, "/api/v1/ws/chat", 15), f.ch);
    assert_null(ct_asyncapi_channel(f.api, "/api/v1/ws/chat/x", 17));
    close_spec(&f);
}

static void test_every_example_matches_its_message_in_its_direction(void **state)
{
    struct afx f;
    open_spec(&f);
    unsigned n = 0;
    for (unsigned i = 0; i < f.ch->nmessages; i++) {
        const struct ct_asyncapi_message *m = &f.ch->messages[i];
        for (uint32_t k = 0; m->examples && k < m->examples->len; k++) {
            const struct ct_node *pl = ct_obj_get(m->examples->u.items[k], "payload");
            unsigned dir = (m->dirs & CT_AA_SEND) ? CT_AA_SEND : CT_AA_RECEIVE;
            assert_ptr_equal(ct_asyncapi_match(f.api, f.ch, dir, pl, NULL, &f.d), m);
            n++;
        }
    }
    assert_int_equal(f.d.nerrors, 0);
    assert_true(n >= 15);
    close_spec(&f);
}

static void test_a_bad_frame_is_reported_against_the_right_message(void **state)
{
    struct afx f;
    open_spec(&f);
    const struct ct_node *fr = frame(&f, "{\"type\":\"agent_response_chunk\",\"data\":{"
                                         "\"messageId\":\"s_1\",\"replyTo\":\"c_1\",\"agent\":"
                                         "\"pe_engineer\",\"mode\":\"create\",\"index\":\"1\","
                                         "\"delta\":\"x\",\"final\":false,\"timestamp\":1}}");
    assert_null(ct_asyncapi_match(f.api, f.ch, CT_AA_SEND, fr, NULL, &f.d));
    assert_int_equal(f.d.nerrors, 1);
    assert_string_equal(f.d.v[0].instance_ptr, "/data/index");
    assert_non_null(strstr(f.d.v[0].msg, "expected integer, got string '1'"));
    assert_non_null(strstr(f.d.v[0].keyword_ptr, "AgentResponseChunk"));
    close_spec(&f);
}

static void test_unknown_and_wrong_way_types_say_what_was_expected(void **state)
{
    struct afx f;
    open_spec(&f);
    assert_null(ct_asyncapi_match(f.api, f.ch, CT_AA_RECEIVE, frame(&f, "{\"type\":\"user_mesage\"}"),
                                  NULL, &f.d));
    assert_int_equal(f.d.v[0].code, CT_E_CONTRACT);
    assert_string_equal(f.d.v[0].msg, "unknown message type 'user_mesage': expected one of "
                                      "'user_message', 'ping'");
    assert_string_equal(f.d.v[0].hint, "did you mean 'user_message'?");
    assert_int_equal(f.d.v[0].col, 9);
    ct_diags_clear(&f.d);
    assert_null(ct_asyncapi_match(f.api, f.ch, CT_AA_RECEIVE, frame(&f, "{\"type\":\"pong\"}"),
                                  NULL, &f.d));
    assert_non_null(strstr(f.d.v[0].msg, "message 'pong' travels from the server to the client"));
    ct_diags_clear(&f.d);
    assert_null(ct_asyncapi_match(f.api, f.ch, CT_AA_RECEIVE, frame(&f, "{\"data\":{}}"), NULL,
                                  &f.d));
    assert_string_equal(f.d.v[0].msg, "expected an object whose 'type' is one of 'user_message', "
                                      "'ping', got no 'type'");
    close_spec(&f);
}

/* --- small documents -------------------------------------------------------------------------- */

/* A docset loads each name once: every document gets its own. */
static struct ct_asyncapi *build(struct ct_docset *ds, const char *name, const char *text,
                                 struct ct_diags *d)
{
    const struct ct_node *root = ct_docset_load_text(ds, name, text, strlen(text), d);
    return root ? ct_asyncapi_build(ds, root, NULL, d) : NULL;
}

static void test_version_2_is_refused_with_a_hint(void **state)
{
    struct ct_docset *ds = ct_docset_new(NULL);
    struct ct_diags d;
    ct_diags_init(&d);
    assert_null(build(ds, "v2.yaml", "asyncapi: 2.6.0\ninfo: {title: t, version: '1'}\n", &d));
    assert_int_equal(d.v[0].code, CT_E_VERSION);
    assert_int_equal(d.v[0].line, 1);
    assert_int_equal(d.v[0].col, 11);
    assert_non_null(strstr(d.v[0].hint, "asyncapi convert"));
    ct_diags_clear(&d);
    assert_null(build(ds, "v30.yaml", "asyncapi: 3.0\ninfo: {title: t, version: '1'}\n", &d));
    assert_string_equal(d.v[0].hint, "quote the version: asyncapi: \"3.0\"");
    ct_diags_deinit(&d);
    ct_docset_free(ds);
}

static void test_structure_problems_are_located_with_did_you_mean(void **state)
{
    struct ct_docset *ds = ct_docset_new(NULL);
    struct ct_diags d;
    ct_diags_init(&d);
    assert_null(build(ds, "doc.yaml",
                      "asyncapi: 3.0.0\n"
                      "info: {title: t, version: '1'}\n"
                      "channels:\n"
                      "  a:\n"
                      "    adress: /a\n"
                      "    messages:\n"
                      "      m: {payload: {type: object}}\n"
                      "  b:\n"
                      "    address: /b\n"
                      "    messages:\n"
                      "      n: {payload: {type: strin}}\n"
                      "    x-close-codes: [{code: 99, name: tiny}]\n"
                      "operations:\n"
                      "  op:\n"
                      "    action: recieve\n"
                      "    channel: {$ref: '#/channels/a'}\n"
                      "  op2:\n"
                      "    action: send\n"
                      "    channel: {$ref: '#/channels/a'}\n"
                      "    messages: [{$ref: '#/channels/b/messages/n'}]\n",
                      &d));
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_diags_render(&d, &b, false);
    const char *out = ct_buf_cstr(&b);
    assert_non_null(strstr(out, "doc.yaml:5:5: error: unknown field 'adress' in Channel Object"));
    assert_non_null(strstr(out, "hint: did you mean 'address'?"));
    assert_non_null(strstr(out, "doc.yaml:12:28: error: close code 99: expected an integer from "
                                "1000 to 4999"));
    assert_non_null(strstr(out, "doc.yaml:15:13: error: action 'recieve' of operation 'op': "
                                "expected 'send' or 'receive'"));
    assert_non_null(strstr(out, "doc.yaml:20:16: error: operation 'op2': expected a message of "
                                "channel 'a'"));
    assert_non_null(strstr(out, "doc.yaml:11:27:")); /* the schema's bad type, by the compiler */
    ct_buf_deinit(&b);
    ct_diags_deinit(&d);
    ct_docset_free(ds);
}

static void test_schema_formats_and_address_templates(void **state)
{
    struct ct_docset *ds = ct_docset_new(NULL);
    struct ct_diags d;
    ct_diags_init(&d);
    struct ct_asyncapi *api = build(
        ds, "rooms.yaml",
        "asyncapi: 3.0.0\n"
        "info: {title: t, version: '1'}\n"
        "channels:\n"
        "  room:\n"
        "    address: /rooms/{id}/ws\n"
        "    messages:\n"
        "      m:\n"
        "        payload:\n"
        "          schemaFormat: application/schema+json;version=draft-07\n"
        "          schema: {type: object, properties: {kind: {enum: [m]}}, required: [kind]}\n"
        "      free: {name: free}\n",
        &d);
    assert_non_null(api);
    const struct ct_asyncapi_channel *ch = ct_asyncapi_channel(api, "/rooms/7/ws", 11);
    assert_non_null(ch);
    assert_null(ct_asyncapi_channel(api, "/rooms//ws", 10));
    assert_int_equal(ch->messages[0].dirs, CT_AA_RECEIVE | CT_AA_SEND); /* no operations */
    assert_string_equal(ch->dispatch, "kind"); /* a one-value enum pins it; `free` has no payload */
    assert_string_equal(ch->messages[0].type_const, "m");
    ct_asyncapi_free(api);
    ct_diags_clear(&d);
    assert_null(build(ds, "avro.yaml",
                      "asyncapi: 3.0.0\n"
                      "info: {title: t, version: '1'}\n"
                      "channels:\n"
                      "  c:\n"
                      "    address: /c\n"
                      "    messages:\n"
                      "      m: {payload: {schemaFormat: application/vnd.apache.avro;version=1.9.0,"
                      " schema: {type: record}}}\n",
                      &d));
    assert_non_null(strstr(d.v[0].msg, "unsupported schemaFormat"));
    ct_diags_deinit(&d);
    ct_docset_free(ds);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s ASYNCAPI_FILE\n", argv[0]);
        return 2;
    }
    spec_path = argv[1];
    tu_use_cmocka_alloc();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_contract_loads_with_directions_from_operations),
        cmocka_unit_test(test_close_codes_token_and_query_binding),
        cmocka_unit_test(test_every_example_matches_its_message_in_its_direction),
        cmocka_unit_test(test_a_bad_frame_is_reported_against_the_right_message),
        cmocka_unit_test(test_unknown_and_wrong_way_types_say_what_was_expected),
        cmocka_unit_test(test_version_2_is_refused_with_a_hint),
        cmocka_unit_test(test_structure_problems_are_located_with_did_you_mean),
        cmocka_unit_test(test_schema_formats_and_address_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
