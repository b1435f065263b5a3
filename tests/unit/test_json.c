/* Unit tests for lib/json: the JSON parser, lookups, pointers, numbers and emitters. */
#include "test_util.h"

#include "core/err.h"
#include "core/ptrmap.h"

#include <stdio.h>

#define TU_AS80 \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void test_json_parses_nested_values_with_positions(void **state)
{
    struct tu_doc d;
    struct ct_node *r = tu_parse(&d, "t.json", "{\n  \"a\": [1, true, null],\n  \"b\": \"x\"\n}", false, NULL);
    assert_non_null(r);
    assert_int_equal(r->kind, CT_OBJECT);
    assert_int_equal(r->len, 2);
    struct ct_node *a = ct_obj_get(r, "a");
    assert_int_equal(a->kind, CT_ARRAY);
    assert_int_equal(a->len, 3);
    assert_int_equal(a->line, 2);
    assert_int_equal(a->col, 8);
    assert_int_equal(a->u.items[1]->kind, CT_BOOL);
    assert_true(a->u.items[1]->flags & CT_NF_TRUE);
    struct ct_node *b = ct_obj_get(r, "b");
    assert_int_equal(b->line, 3);
    assert_int_equal(b->col, 8);
    assert_string_equal(b->u.str, "x");
    tu_done(&d);
}

static void test_json_empty_containers_parse(void **state)
{
    struct tu_doc d;
    struct ct_node *r = tu_parse(&d, "t.json", "[[], {}, [{}], {\"a\": []}]", false, NULL);
    assert_non_null(r);
    assert_int_equal(r->len, 4);
    assert_int_equal(r->u.items[0]->len, 0);
    assert_int_equal(r->u.items[1]->kind, CT_OBJECT);
    assert_int_equal(ct_obj_get(r->u.items[3], "a")->len, 0);
    tu_done(&d);
}

static void test_json_column_counts_characters_not_bytes(void **state)
{
    struct tu_doc d;
    struct ct_node *r = tu_parse(&d, "t.json", "{\"名前\": 1, \"x\": 2}", false, NULL);
    assert_non_null(r);
    /* "名前" is 2 characters but 6 bytes: x's value sits at character column 16. */
    assert_int_equal(ct_obj_get(r, "x")->col, 16);
    tu_done(&d);
}

static void test_json_decodes_escapes_and_surrogate_pairs(void **state)
{
    struct tu_doc d;
    struct ct_node *r = tu_parse(&d, "t.json", "\"a\\n\\u00e9\\ud83d\\ude80\\u0000z\"", false, NULL);
    assert_non_null(r);
    assert_int_equal(r->len, 1 + 1 + 2 + 4 + 1 + 1);
    assert_memory_equal(r->u.str, "a\n\xC3\xA9\xF0\x9F\x9A\x80\0z", r->len);
    tu_done(&d);
}

static void test_json_rejects_lone_surrogate(void **state)
{
    struct tu_doc d;
    assert_null(tu_parse(&d, "t.json", "\"\\ud800x\"", false, NULL));
    assert_int_equal(d.diags.v[0].code, CT_E_ENCODING);
    tu_done(&d);
}

static void test_json_rejects_invalid_utf8(void **state)
{
    struct tu_doc d;
    assert_null(tu_parse(&d, "t.json", "[\"ok\", \"\xC3\x28\"]", false, NULL));
    assert_int_equal(d.diags.v[0].code, CT_E_ENCODING);
    assert_int_equal(d.diags.v[0].col, 9);
    tu_done(&d);
}

/* The string scanner skips 32, 16 and 8 plain bytes at a time: a quote, an escape, a control
 * character or a UTF-8 sequence at every offset across those strides must be seen. */
static void test_json_string_scan_finds_specials_at_every_offset(void **state)
{
    char text[128], want[128];
    for (int k = 0; k < 72; k++) {
        /* an escape at offset k decodes, and the text after it is kept */
        snprintf(text, sizeof(text), "\"%.*s\\n%.*s\"", k, TU_AS80, 5, TU_AS80);
        struct tu_doc d;
        struct ct_node *r = tu_parse(&d, "t.json", text, false, NULL);
        assert_non_null(r);
        snprintf(want, sizeof(want), "%.*s\n%.*s", k, TU_AS80, 5, TU_AS80);
        assert_int_equal(r->len, strlen(want));
        assert_string_equal(r->u.str, want);
        tu_done(&d);
        /* the closing quote at offset k ends the string */
        snprintf(text, sizeof(text), "[\"%.*s\", 1]", k, TU_AS80);
        r = tu_parse(&d, "t.json", text, false, NULL);
        assert_non_null(r);
        assert_int_equal(r->u.items[0]->len, k);
        tu_done(&d);
        /* a UTF-8 character at offset k is copied whole; a raw tab is refused at its column */
        snprintf(text, sizeof(text), "\"%.*s\xC3\xA9%.*s\"", k, TU_AS80, 40, TU_AS80);
        r = tu_parse(&d, "t.json", text, false, NULL);
        assert_non_null(r);
        assert_int_equal(r->len, k + 2 + 40);
        assert_memory_equal(r->u.str + k, "\xC3\xA9", 2);
        tu_done(&d);
        /* 2-, 3- and 4-byte characters inside and across the 32-byte blocks, and the column
         * of the value after them counts characters */
        snprintf(text, sizeof(text), "[\"%.*s\xC3\xA9\xE6\x9D\xB1\xF0\x9F\x9A\x80%.*s\", 7]", k,
                 TU_AS80, 40, TU_AS80);
        r = tu_parse(&d, "t.json", text, false, NULL);
        assert_non_null(r);
        assert_int_equal(r->u.items[0]->len, k + 9 + 40);
        assert_int_equal(r->u.items[1]->col, 2 + k + 3 + 40 + 4); /* `", ` then 7 */
        tu_done(&d);
        /* a truncated sequence, a stray continuation byte and a surrogate are refused where
         * they start */
        static const char *const bad[] = {"\xE6\x9D", "\x80", "\xED\xA0\x80", "\xC0\xAF"};
        for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
            snprintf(text, sizeof(text), "\"%.*s\xC3\xA9%s%.*s\"", k, TU_AS80, bad[b], 40, TU_AS80);
            assert_null(tu_parse(&d, "t.json", text, false, NULL));
            assert_int_equal(d.diags.v[0].code, CT_E_ENCODING);
            assert_int_equal(d.diags.v[0].col, k + 3);
            tu_done(&d);
        }
        snprintf(text, sizeof(text), "\"%.*s\t%.*s\"", k, TU_AS80, 40, TU_AS80);
        assert_null(tu_parse(&d, "t.json", text, false, NULL));
        assert_int_equal(d.diags.v[0].col, k + 2);
        tu_done(&d);
    }
}

/* A plain decoder: the rule the parser's range checks must agree with. */
static int utf8_ref_len(const unsigned char *p, size_t avail)
{
    unsigned c = p[0];
    int n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (!n || avail < (size_t)n)
        return 0;
    uint32_t cp = c & (0xFFu >> (n + 1));
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
    return cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF) ? n : 0;
}

/* Every lead byte with every second byte (and continuation or not after it): the parser
 * accepts exactly the well-formed sequences. */
static void test_json_utf8_check_agrees_with_decoding_for_every_lead_and_second_byte(void **state)
{
    static const unsigned char tails[][2] = {{0x80, 0x80}, {0xBF, 0xBF}, {0x41, 0x80}, {0x80, 0x41}};
    unsigned char text[16];
    for (unsigned c = 0x80; c <= 0xFF; c++) {
        for (unsigned b = 0; b <= 0xFF; b++) {
            for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
                unsigned char seq[4] = {(unsigned char)c, (unsigned char)b, tails[t][0], tails[t][1]};
                int n = utf8_ref_len(seq, 4);
                /* the string is the sequence's n bytes (all four when invalid) */
                size_t len = n ? (size_t)n : 4;
                text[0] = '"';
                memcpy(text + 1, seq, len);
                text[len + 1] = '"';
                text[len + 2] = 0;
                bool refs_ok = n > 0; /* invalid at its first byte: the string is refused */
                struct tu_doc d;
                struct ct_node *r = tu_parse(&d, "t.json", (const char *)text, false, NULL);
                if (refs_ok != (r != NULL))
                    fail_msg("bytes %02x %02x %02x %02x: reference %d, parser %s", c, b,
                             tails[t][0], tails[t][1], n, r ? "accepts" : "refuses");
                tu_done(&d);
            }
        }
    }
}

/* The pointer map behind the generator's, the schema set's and mockd's memos: every key is found
 * with its value across growth, a NULL value counts as present, a put replaces. */
static void test_ptrmap_finds_every_key_across_growth_and_keeps_null_values(void **state)
{
    static char keys[1000];
    struct ct_ptrmap m = {0};
    void *v = (void *)1;
    assert_false(ct_ptrmap_get(&m, &keys[0], &v));
    for (int i = 0; i < 1000; i++)
        ct_ptrmap_put(&m, &keys[i], i % 3 ? &keys[999 - i] : NULL);
    for (int i = 0; i < 1000; i++) {
        assert_true(ct_ptrmap_get(&m, &keys[i], &v));
        assert_ptr_equal(v, i % 3 ? &keys[999 - i] : NULL);
    }
    ct_ptrmap_put(&m, &keys[5], &keys[7]);
    assert_true(ct_ptrmap_get(&m, &keys[5], &v));
    assert_ptr_equal(v, &keys[7]);
    int other;
    assert_false(ct_ptrmap_get(&m, &other, NULL));
    ct_ptrmap_deinit(&m);
    assert_false(ct_ptrmap_get(&m, &keys[5], NULL));
}

static void test_json_duplicate_key_reports_second_occurrence(void **state)
{
    struct tu_doc d;
    assert_null(tu_parse(&d, "t.json", "{\"a\": 1,\n \"b\": 2,\n \"a\": 3}", false, NULL));
    assert_int_equal(d.diags.v[0].code, CT_E_DUPKEY);
    assert_int_equal(d.diags.v[0].line, 3);
    assert_int_equal(d.diags.v[0].col, 2);
    assert_non_null(strstr(d.diags.v[0].hint, "line 1"));
    tu_done(&d);
}

static void test_json_duplicate_key_found_in_large_object(void **state)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_buf_addc(&b, '{');
    for (int i = 0; i < 500; i++)
        ct_buf_printf(&b, "\"k%d\":%d,", i, i);
    ct_buf_adds(&b, "\"k250\":0}");
    struct tu_doc d;
    assert_null(tu_parse(&d, "t.json", ct_buf_cstr(&b), false, NULL));
    assert_int_equal(d.diags.v[0].code, CT_E_DUPKEY);
    assert_non_null(strstr(d.diags.v[0].msg, "'k250'"));
    tu_done(&d);
    ct_buf_deinit(&b);
}

static void test_json_large_object_lookup_finds_every_key(void **state)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_buf_addc(&b, '{');
    for (int i = 0; i < 300; i++)
        ct_buf_printf(&b, "%s\"key%d\":%d", i ? "," : "", i, i);
    ct_buf_addc(&b, '}');
    struct tu_doc d;
    struct ct_node *r = tu_parse(&d, "t.json", ct_buf_cstr(&b), false, NULL);
    assert_non_null(r);
    assert_true(r->flags & CT_NF_INDEXED);
    for (int i = 0; i < 300; i++) {
        char k[16];
        snprintf(k, sizeof(k), "key%d", i);
        struct ct_node *v = ct_obj_get(r, k);
        assert_non_null(v);
        assert_true(v->num == (double)i);
    }
    assert_null(ct_obj_get(r, "key300"));
    assert_null(ct_obj_get(r, "ke"));
    tu_done(&d);
    ct_buf_deinit(&b);
}

static void test_json_keeps_big_integer_text_exactly(void **state)
{
    struct tu_doc d;
    struct ct_node *r = tu_parse(&d, "t.json", "[9007199254740993, 9007199254740992]", false, NULL);
    assert_non_null(r);
    struct ct_node *a = r->u.items[0], *b = r->u.items[1];
    assert_int_equal(a->len, 16);
    assert_memory_equal(a->u.text, "9007199254740993", 16);
    /* The doubles are equal; the numbers are not. */
    assert_true(a->num == b->num);
    assert_int_equal(ct_num_cmp(a, b), 1);
    assert_false(ct_node_equal(a, b));
    tu_done(&d);
}

static void test_json_one_point_zero_is_an_integer(void **state)
{
    struct tu_doc d;
    struct ct_node *r = tu_parse(&d, "t.json", "[1.0, 1e2, 1.5, 12e-1, 120e-1]", false, NULL);
    assert_true(ct_num_is_integer(r->u.items[0]));
    assert_true(ct_num_is_integer(r->u.items[1]));
    assert_false(ct_num_is_integer(r->u.items[2]));
    assert_false(ct_num_is_integer(r->u.items[3]));
    assert_true(ct_num_is_integer(r->u.items[4]));
    assert_string_equal(ct_node_type_name(r->u.items[0]), "integer");
    assert_true(ct_node_equal(r->u.items[0], r->u.items[0]));
    tu_done(&d);
}

static void test_json_equality_is_structural(void **state)
{
    struct tu_doc d;
    struct ct_node *r =
        tu_parse(&d, "t.json", "[{\"a\":1,\"b\":[1,2]}, {\"b\":[1.0,2],\"a\":1.00}, {\"a\":1}]", false, NULL);
    assert_true(ct_node_equal(r->u.items[0], r->u.items[1]));
    assert_false(ct_node_equal(r->u.items[0], r->u.items[2]));
    tu_done(&d);
}

static void test_json_decimal_comparison_is_exact(void **state)
{
    struct tu_doc d;
    struct ct_node *r = tu_parse(&d, "t.json", "[0.1, 0.10000000000000001, 1e-400, 0, -0.0]", false, NULL);
    assert_int_equal(ct_num_cmp(r->u.items[0], r->u.items[1]), -1);
    assert_int_equal(ct_num_cmp(r->u.items[2], r->u.items[3]), 1);
    assert_int_equal(ct_num_cmp(r->u.items[3], r->u.items[4]), 0);
    tu_done(&d);
}

static void test_json_syntax_error_names_expected_and_found(void **state)
{
    struct tu_doc d;
    assert_null(tu_parse(&d, "t.json", "{\"a\": 1,\n  \"b\" 2}", false, NULL));
    assert_int_equal(d.diags.v[0].line, 2);
    assert_int_equal(d.diags.v[0].col, 7);
    assert_string_equal(d.diags.v[0].msg, "expected ':' after the member name, found '2'");
    tu_done(&d);
}

static void test_json_depth_limit_is_enforced(void **state)
{
    char deep[600];
    memset(deep, '[', 300);
    memset(deep + 300, ']', 300);
    deep[599] = 0;
    deep[299] = '1';
    deep[300] = ']';
    struct ct_parse_limits lim = {.max_depth = 64};
    struct tu_doc d;
    assert_null(tu_parse(&d, "t.json", deep, false, &lim));
    assert_int_equal(d.diags.v[0].code, CT_E_DEPTH);
    tu_done(&d);
    struct ct_parse_limits ok = {.max_depth = 400};
    char fine[200];
    memset(fine, '[', 100);
    memset(fine + 100, ']', 99);
    fine[199] = 0;
    fine[99] = '1';
    assert_non_null(tu_parse(&d, "t.json", fine, false, &ok));
    tu_done(&d);
}

static void test_json_size_limit_is_enforced(void **state)
{
    struct ct_parse_limits lim = {.max_bytes = 8};
    struct tu_doc d;
    assert_null(tu_parse(&d, "t.json", "[1,2,3,4,5]", false, &lim));
    assert_int_equal(d.diags.v[0].code, CT_E_TOOBIG);
    tu_done(&d);
}

static void test_json_rejects_trailing_garbage(void **state)
{
    struct tu_doc d;
    assert_null(tu_parse(&d, "t.json", "{} x", false, NULL));
    assert_int_equal(d.diags.v[0].col, 4);
    tu_done(&d);
}

static void test_pointer_decodes_tilde_and_percent(void **state)
{
    struct tu_doc d;
    struct ct_node *r =
        tu_parse(&d, "t.json", "{\"a/b\": {\"c~d\": [10, 20]}, \"e f\": 1, \"%\": 2}", false, NULL);
    struct ct_node *n = ct_pointer_get(r, "/a~1b/c~0d/1", 12, false);
    assert_non_null(n);
    assert_memory_equal(n->u.text, "20", 2);
    assert_non_null(ct_pointer_get(r, "/e%20f", 6, true));
    assert_null(ct_pointer_get(r, "/e%20f", 6, false));
    assert_non_null(ct_pointer_get(r, "/%25", 4, true));
    assert_null(ct_pointer_get(r, "/a~1b/c~0d/01", 13, false));
    assert_null(ct_pointer_get(r, "/a~1b/c~0d/2", 12, false));
    assert_ptr_equal(ct_pointer_get(r, "", 0, false), r);
    tu_done(&d);
}

static void test_pointer_append_escapes_tokens(void **state)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_pointer_append(&b, "a/b~c", 5);
    assert_string_equal(ct_buf_cstr(&b), "/a~1b~0c");
    ct_buf_deinit(&b);
}

static void test_json_emit_round_trips(void **state)
{
    const char *text = "{\"a\":[1,2.50,-3e10,true,false,null],\"b\":\"q\\\"\\n\\u0001\",\"c\":{}}";
    struct tu_doc d;
    struct ct_node *r = tu_parse(&d, "t.json", text, false, NULL);
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_json_emit(r, &b, false);
    assert_string_equal(ct_buf_cstr(&b), text);
    ct_buf_deinit(&b);
    tu_done(&d);
}

static void test_yaml_emit_reads_back_to_same_tree(void **state)
{
    const char *text = "{\"openapi\":\"3.1.0\",\"paths\":{\"/a/{id}\":{\"get\":{\"responses\":{\"200\":"
                       "{\"description\":\"yes\"}}}}},\"list\":[{\"x\":1,\"y\":[]},\"no\",\"\","
                       "\"a: b\",\"#c\",null,true,\"true\",\"12\",1.5,{}],\"multi\":\"l1\\nl2\"}";
    struct tu_doc d;
    struct ct_node *r = tu_parse(&d, "t.json", text, false, NULL);
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_yaml_emit(r, &b);
    struct tu_doc y;
    struct ct_node *back = tu_parse(&y, "t.yaml", ct_buf_cstr(&b), true, NULL);
    assert_non_null(back);
    assert_true(ct_node_equal(r, back));
    ct_buf_deinit(&b);
    tu_done(&y);
    tu_done(&d);
}

static void test_did_you_mean_suggests_close_words_only(void **state)
{
    static const char *const words[] = {"operationId", "parameters", "responses"};
    assert_string_equal(ct_did_you_mean("operationID", words, 3), "operationId");
    assert_string_equal(ct_did_you_mean("respones", words, 3), "responses");
    static const char *const opts[] = {"port", "host", "spec"};
    assert_string_equal(ct_did_you_mean("prot", opts, 3), "port"); /* two letters swapped */
    assert_null(ct_did_you_mean("zzz", words, 3));
}

int main(void)
{
    tu_use_cmocka_alloc();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_parses_nested_values_with_positions),
        cmocka_unit_test(test_json_empty_containers_parse),
        cmocka_unit_test(test_json_column_counts_characters_not_bytes),
        cmocka_unit_test(test_json_decodes_escapes_and_surrogate_pairs),
        cmocka_unit_test(test_json_rejects_lone_surrogate),
        cmocka_unit_test(test_json_rejects_invalid_utf8),
        cmocka_unit_test(test_json_string_scan_finds_specials_at_every_offset),
        cmocka_unit_test(test_ptrmap_finds_every_key_across_growth_and_keeps_null_values),
        cmocka_unit_test(test_json_utf8_check_agrees_with_decoding_for_every_lead_and_second_byte),
        cmocka_unit_test(test_json_duplicate_key_reports_second_occurrence),
        cmocka_unit_test(test_json_duplicate_key_found_in_large_object),
        cmocka_unit_test(test_json_large_object_lookup_finds_every_key),
        cmocka_unit_test(test_json_keeps_big_integer_text_exactly),
        cmocka_unit_test(test_json_one_point_zero_is_an_integer),
        cmocka_unit_test(test_json_equality_is_structural),
        cmocka_unit_test(test_json_decimal_comparison_is_exact),
        cmocka_unit_test(test_json_syntax_error_names_expected_and_found),
        cmocka_unit_test(test_json_depth_limit_is_enforced),
        cmocka_unit_test(test_json_size_limit_is_enforced),
        cmocka_unit_test(test_json_rejects_trailing_garbage),
        cmocka_unit_test(test_pointer_decodes_tilde_and_percent),
        cmocka_unit_test(test_pointer_append_escapes_tokens),
        cmocka_unit_test(test_json_emit_round_trips),
        cmocka_unit_test(test_yaml_emit_reads_back_to_same_tree),
        cmocka_unit_test(test_did_you_mean_suggests_close_words_only),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
