/* Unit tests for lib/openapi/params: styles, percent-decoding and coercion. */
#include "test_util.h"

#include "openapi/params.h"

struct fx {
    struct ct_docset *ds;
    struct ct_diags dg;
    struct ct_oas *oas;
    struct ct_arena a;
};

static const char *const spec =
    "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths:\n  /p/{id}/{tags}/{m}/{l}:\n    get:\n"
    "      parameters:\n"
    "        - {name: id, in: path, required: true, schema: {type: integer}}\n"
    "        - {name: tags, in: path, required: true, schema: {type: array, items: {type: integer}}}\n"
    "        - {name: m, in: path, required: true, style: matrix, schema: {type: string}}\n"
    "        - {name: l, in: path, required: true, style: label, explode: true, schema: {type: array, items: {type: string}}}\n"
    "        - {name: page, in: query, schema: {type: integer}}\n"
    "        - {name: ids, in: query, schema: {type: array, items: {type: integer}}}\n"
    "        - {name: csv, in: query, explode: false, schema: {type: array, items: {type: string}}}\n"
    "        - {name: pipes, in: query, style: pipeDelimited, explode: false, schema: {type: array, items: {type: string}}}\n"
    "        - {name: filter, in: query, style: deepObject, schema: {type: object, properties: {min: {type: number}, q: {type: string}}}}\n"
    "        - {name: flag, in: query, schema: {$ref: '#/components/schemas/Flag'}}\n"
    "        - {name: q, in: query, schema: {type: string}}\n"
    "        - {name: X-Count, in: header, schema: {type: integer}}\n"
    "      responses: {'200': {description: ok}}\n"
    "components:\n  schemas:\n    Flag: {type: boolean}\n";

static void setup(struct fx *f)
{
    f->ds = ct_docset_new(NULL);
    ct_diags_init(&f->dg);
    struct ct_node *root = ct_docset_load_text(f->ds, "p.yaml", spec, strlen(spec), &f->dg);
    f->oas = ct_oas_build(f->ds, root, &f->dg);
    assert_non_null(f->oas);
    ct_arena_init(&f->a, 4096);
}

static void teardown(struct fx *f)
{
    ct_arena_deinit(&f->a);
    ct_diags_deinit(&f->dg);
    ct_docset_free(f->ds);
}

static const struct ct_oas_param *param(struct fx *f, const char *name)
{
    for (unsigned i = 0; i < f->oas->ops[0].nparams; i++)
        if (!strcmp(f->oas->ops[0].params[i].name, name))
            return &f->oas->ops[0].params[i];
    fail();
    return NULL;
}

static struct ct_node *query(struct fx *f, const char *name, const char *qs)
{
    struct ct_kv kv[32];
    struct ct_param_src src = {.query = kv, .nquery = ct_query_split(qs, strlen(qs), kv, 32)};
    return ct_param_decode(f->ds, param(f, name), &src, &f->a, &f->dg);
}

static struct ct_node *path(struct fx *f, const char *name, const char *v)
{
    struct ct_param_src src = {.path_value = v, .path_len = strlen(v)};
    return ct_param_decode(f->ds, param(f, name), &src, &f->a, &f->dg);
}

static void test_params_path_integer_is_coerced(void **state)
{
    struct fx f;
    setup(&f);
    struct ct_node *n = path(&f, "id", "42");
    assert_int_equal(n->kind, CT_NUMBER);
    assert_true(n->num == 42);
    /* Text that is not a number stays a string for the validator to report. */
    n = path(&f, "id", "4x2");
    assert_int_equal(n->kind, CT_STRING);
    assert_string_equal(n->u.str, "4x2");
    teardown(&f);
}

static void test_params_path_simple_array_and_matrix_and_label(void **state)
{
    struct fx f;
    setup(&f);
    struct ct_node *n = path(&f, "tags", "1,2,3");
    assert_int_equal(n->kind, CT_ARRAY);
    assert_int_equal(n->len, 3);
    assert_true(n->u.items[2]->num == 3);
    n = path(&f, "m", ";m=hello%20world");
    assert_string_equal(n->u.str, "hello world");
    n = path(&f, "l", ".a.b");
    assert_int_equal(n->len, 2);
    assert_string_equal(n->u.items[1]->u.str, "b");
    teardown(&f);
}

static void test_params_query_form_explode_collects_repeats(void **state)
{
    struct fx f;
    setup(&f);
    struct ct_node *n = query(&f, "ids", "ids=1&page=2&ids=3");
    assert_int_equal(n->kind, CT_ARRAY);
    assert_int_equal(n->len, 2);
    assert_true(n->u.items[1]->num == 3);
    n = query(&f, "page", "ids=1&page=2&ids=3");
    assert_true(n->num == 2);
    teardown(&f);
}

static void test_params_query_csv_and_pipe_delimited(void **state)
{
    struct fx f;
    setup(&f);
    struct ct_node *n = query(&f, "csv", "csv=a,b%2Cc");
    /* The comma inside %2C is data, but OpenAPI's csv form splits after decoding. */
    assert_int_equal(n->len, 3);
    n = query(&f, "pipes", "pipes=x|y");
    assert_int_equal(n->len, 2);
    assert_string_equal(n->u.items[1]->u.str, "y");
    teardown(&f);
}

static void test_params_query_deep_object(void **state)
{
    struct fx f;
    setup(&f);
    struct ct_node *n = query(&f, "filter", "filter%5Bmin%5D=1.5&filter[q]=a+b&other=1");
    assert_int_equal(n->kind, CT_OBJECT);
    assert_int_equal(n->len, 2);
    assert_true(ct_obj_get(n, "min")->num == 1.5);
    assert_string_equal(ct_obj_get(n, "q")->u.str, "a b");
    teardown(&f);
}

static void test_params_boolean_through_ref(void **state)
{
    struct fx f;
    setup(&f);
    struct ct_node *n = query(&f, "flag", "flag=true");
    assert_int_equal(n->kind, CT_BOOL);
    assert_true(n->flags & CT_NF_TRUE);
    teardown(&f);
}

static void test_params_absent_is_null_and_plus_is_space(void **state)
{
    struct fx f;
    setup(&f);
    assert_null(query(&f, "page", "q=1"));
    struct ct_node *n = query(&f, "q", "q=%E5%86%99+prompt");
    assert_string_equal(n->u.str, "写 prompt");
    teardown(&f);
}

static void test_params_bad_percent_escape_is_reported(void **state)
{
    struct fx f;
    setup(&f);
    assert_null(query(&f, "q", "q=%ZZ"));
    assert_int_equal(f.dg.n, 1);
    assert_non_null(strstr(f.dg.v[0].msg, "percent-encoding"));
    teardown(&f);
}

static void test_params_header_integer(void **state)
{
    struct fx f;
    setup(&f);
    struct ct_param_src src = {.header = "17", .header_len = 2};
    struct ct_node *n = ct_param_decode(f.ds, param(&f, "X-Count"), &src, &f.a, &f.dg);
    assert_true(n->num == 17);
    teardown(&f);
}

int main(void)
{
    tu_use_cmocka_alloc();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_path_integer_is_coerced),
        cmocka_unit_test(test_params_path_simple_array_and_matrix_and_label),
        cmocka_unit_test(test_params_query_form_explode_collects_repeats),
        cmocka_unit_test(test_params_query_csv_and_pipe_delimited),
        cmocka_unit_test(test_params_query_deep_object),
        cmocka_unit_test(test_params_boolean_through_ref),
        cmocka_unit_test(test_params_absent_is_null_and_plus_is_space),
        cmocka_unit_test(test_params_bad_percent_escape_is_reported),
        cmocka_unit_test(test_params_header_integer),
    };
    return cmocka_run_group_tests_name("params", tests, NULL, NULL);
}
