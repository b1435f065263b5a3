/* Unit tests for lib/yaml: YAML 1.2 core schema, positions, anchors, limits. */
#include "test_util.h"

#include "core/err.h"

static void test_yaml_resolves_core_schema_scalars(void **state)
{
    struct tu_doc d;
    struct ct_node *r = tu_parse(&d, "t.yaml",
                                 "a: ~\nb: true\nc: False\nd: 12\ne: -0x1F\nf: 0o17\ng: 1.5e3\n"
                                 "h: .5\ni: yes\nj: '12'\nk: \"true\"\nl: !!str 7\nm:\nn: .inf\n"
                                 "o: 1.\np: +7\n",
                                 true, NULL);
    assert_non_null(r);
    assert_int_equal(ct_obj_get(r, "a")->kind, CT_NULL);
    assert_int_equal(ct_obj_get(r, "b")->kind, CT_BOOL);
    assert_true(ct_obj_get(r, "b")->flags & CT_NF_TRUE);
    assert_false(ct_obj_get(r, "c")->flags & CT_NF_TRUE);
    assert_int_equal(ct_obj_get(r, "d")->kind, CT_NUMBER);
    assert_true(ct_obj_get(r, "e")->num == -31.0);
    assert_memory_equal(ct_obj_get(r, "e")->u.text, "-31", 3);
    assert_true(ct_obj_get(r, "f")->num == 15.0);
    assert_true(ct_obj_get(r, "g")->num == 1500.0);
    assert_memory_equal(ct_obj_get(r, "h")->u.text, "0.5", 3);
    /* YAML 1.2: "yes" is a string, not a boolean. */
    assert_int_equal(ct_obj_get(r, "i")->kind, CT_STRING);
    assert_int_equal(ct_obj_get(r, "j")->kind, CT_STRING);
    assert_int_equal(ct_obj_get(r, "k")->kind, CT_STRING);
    assert_int_equal(ct_obj_get(r, "l")->kind, CT_STRING);
    assert_int_equal(ct_obj_get(r, "m")->kind, CT_NULL);
    assert_int_equal(ct_obj_get(r, "n")->kind, CT_STRING);
    assert_memory_equal(ct_obj_get(r, "o")->u.text, "1.0", 3);
    assert_int_equal(ct_obj_get(r, "p")->len, 1);
    tu_done(&d);
}

static void test_yaml_numeric_keys_become_strings(void **state)
{
    struct tu_doc d;
    struct ct_node *r = tu_parse(&d, "t.yaml", "responses:\n  200:\n    description: ok\n  true: 1\n", true, NULL);
    assert_non_null(r);
    struct ct_node *rs = ct_obj_get(r, "responses");
    assert_non_null(ct_obj_get(rs, "200"));
    assert_non_null(ct_obj_get(rs, "true"));
    assert_int_equal(rs->u.members[0].key->kind, CT_STRING);
    tu_done(&d);
}

static void test_yaml_nodes_carry_line_and_column(void **state)
{
    struct tu_doc d;
    struct ct_node *r = tu_parse(&d, "t.yaml", "info:\n  title: Demo\n  tags:\n    - one\n", true, NULL);
    struct ct_node *info = ct_obj_get(r, "info");
    assert_int_equal(ct_obj_get(info, "title")->line, 2);
    assert_int_equal(ct_obj_get(info, "title")->col, 10);
    assert_int_equal(info->u.members[0].key->col, 3);
    struct ct_node *tags = ct_obj_get(info, "tags");
    assert_int_equal(tags->u.items[0]->line, 4);
    assert_int_equal(tags->u.items[0]->col, 7);
    tu_done(&d);
}

static void test_yaml_alias_shares_the_anchored_node(void **state)
{
    struct tu_doc d;
    struct ct_node *r = tu_parse(&d, "t.yaml", "a: &x {k: 1}\nb: *x\n", true, NULL);
    assert_non_null(r);
    assert_ptr_equal(ct_obj_get(r, "a"), ct_obj_get(r, "b"));
    tu_done(&d);
}

static void test_yaml_alias_bomb_is_refused(void **state)
{
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                       "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
    struct tu_doc d;
    assert_null(tu_parse(&d, "t.yaml", bomb, true, NULL));
    assert_int_equal(d.diags.v[0].code, CT_E_ALIAS);
    assert_int_equal(d.diags.v[0].line, 7);
    tu_done(&d);
}

static void test_yaml_unknown_alias_is_an_error(void **state)
{
    struct tu_doc d;
    assert_null(tu_parse(&d, "t.yaml", "a: *nope\n", true, NULL));
    assert_non_null(strstr(d.diags.v[0].msg, "'*nope'"));
    assert_int_equal(d.diags.v[0].col, 4);
    tu_done(&d);
}

static void test_yaml_duplicate_key_is_an_error(void **state)
{
    struct tu_doc d;
    assert_null(tu_parse(&d, "t.yaml", "paths:\n  /a: {}\n  /b: {}\n  /a: {}\n", true, NULL));
    assert_int_equal(d.diags.v[0].code, CT_E_DUPKEY);
    assert_int_equal(d.diags.v[0].line, 4);
    assert_int_equal(d.diags.v[0].col, 3);
    assert_non_null(strstr(d.diags.v[0].hint, "line 2"));
    tu_done(&d);
}

static void test_yaml_syntax_error_is_located(void **state)
{
    struct tu_doc d;
    assert_null(tu_parse(&d, "t.yaml", "a: 1\nb: [1, 2\nc: 3\n", true, NULL));
    assert_int_equal(d.diags.v[0].code, CT_E_SYNTAX);
    assert_true(d.diags.v[0].line >= 2);
    tu_done(&d);
}

static void test_yaml_second_document_is_refused(void **state)
{
    struct tu_doc d;
    assert_null(tu_parse(&d, "t.yaml", "a: 1\n---\nb: 2\n", true, NULL));
    assert_int_equal(d.diags.v[0].line, 2);
    tu_done(&d);
}

static void test_yaml_depth_limit_is_enforced(void **state)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    for (int i = 0; i < 100; i++)
        ct_buf_addc(&b, '[');
    for (int i = 0; i < 100; i++)
        ct_buf_addc(&b, ']');
    struct ct_parse_limits lim = {.max_depth = 50};
    struct tu_doc d;
    assert_null(tu_parse(&d, "t.yaml", ct_buf_cstr(&b), true, &lim));
    assert_int_equal(d.diags.v[0].code, CT_E_DEPTH);
    tu_done(&d);
    ct_buf_deinit(&b);
}

static void test_yaml_complex_key_is_refused(void **state)
{
    struct tu_doc d;
    assert_null(tu_parse(&d, "t.yaml", "? [a, b]\n: 1\n", true, NULL));
    assert_non_null(strstr(d.diags.v[0].msg, "scalar key"));
    tu_done(&d);
}

static void test_yaml_empty_file_is_an_error(void **state)
{
    struct tu_doc d;
    assert_null(tu_parse(&d, "t.yaml", "# only a comment\n", true, NULL));
    assert_non_null(strstr(d.diags.v[0].msg, "empty document"));
    tu_done(&d);
}

int main(void)
{
    tu_use_cmocka_alloc();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_resolves_core_schema_scalars),
        cmocka_unit_test(test_yaml_numeric_keys_become_strings),
        cmocka_unit_test(test_yaml_nodes_carry_line_and_column),
        cmocka_unit_test(test_yaml_alias_shares_the_anchored_node),
        cmocka_unit_test(test_yaml_alias_bomb_is_refused),
        cmocka_unit_test(test_yaml_unknown_alias_is_an_error),
        cmocka_unit_test(test_yaml_duplicate_key_is_an_error),
        cmocka_unit_test(test_yaml_syntax_error_is_located),
        cmocka_unit_test(test_yaml_second_document_is_refused),
        cmocka_unit_test(test_yaml_depth_limit_is_enforced),
        cmocka_unit_test(test_yaml_complex_key_is_refused),
        cmocka_unit_test(test_yaml_empty_file_is_an_error),
    };
    return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}
