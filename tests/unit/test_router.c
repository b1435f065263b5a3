/* Unit tests for lib/openapi/router: literal before template, base paths, 404 vs 405. */
#include "test_util.h"

#include "openapi/router.h"

struct fx {
    struct ct_docset *ds;
    struct ct_diags dg;
    struct ct_oas *oas;
    struct ct_router *r;
};

static const char *const spec =
    "openapi: 3.1.0\ninfo: {title: T, version: '1'}\n"
    "servers: [{url: 'http://example.com/api/v1'}, {url: /v2}]\n"
    "paths:\n"
    "  /prompts:\n    get: {operationId: list, responses: {'200': {description: ok}}}\n"
    "    post: {operationId: create, responses: {'201': {description: ok}}}\n"
    "  /prompts/popular:\n    get: {operationId: popular, responses: {'200': {description: ok}}}\n"
    "  /prompts/{id}:\n    parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n"
    "    get: {operationId: get, responses: {'200': {description: ok}}}\n"
    "    delete: {operationId: del, responses: {'204': {description: ok}}}\n"
    "  /prompts/{promptId}/versions/{v}:\n"
    "    parameters: [{name: promptId, in: path, required: true, schema: {type: string}},\n"
    "                 {name: v, in: path, required: true, schema: {type: integer}}]\n"
    "    get: {operationId: version, responses: {'200': {description: ok}}}\n"
    "  /files/{name}.{ext}:\n"
    "    parameters: [{name: name, in: path, required: true, schema: {type: string}},\n"
    "                 {name: ext, in: path, required: true, schema: {type: string}}]\n"
    "    get: {operationId: file, responses: {'200': {description: ok}}}\n"
    "  /:\n    get: {operationId: root, responses: {'200': {description: ok}}}\n"
    "  /d/{disputeId}/attachments:\n"
    "    parameters: [{name: disputeId, in: path, required: true, schema: {type: string}}]\n"
    "    get: {operationId: attachments, responses: {'200': {description: ok}}}\n"
    "  /d/{id}:\n"
    "    parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n"
    "    get: {operationId: dispute, responses: {'200': {description: ok}}}\n";

static void setup(struct fx *f)
{
    f->ds = ct_docset_new(NULL);
    ct_diags_init(&f->dg);
    struct ct_node *root = ct_docset_load_text(f->ds, "r.yaml", spec, strlen(spec), &f->dg);
    assert_non_null(root);
    f->oas = ct_oas_build(f->ds, root, &f->dg);
    assert_non_null(f->oas);
    f->r = ct_router_new(f->oas);
}

static void teardown(struct fx *f)
{
    ct_router_free(f->r);
    ct_diags_deinit(&f->dg);
    ct_docset_free(f->ds);
}

static int match(struct fx *f, enum ct_http_method m, const char *path, struct ct_route_match *out)
{
    return ct_router_match(f->r, m, path, strlen(path), out);
}

static void test_router_prefers_literal_segment_over_template(void **state)
{
    struct fx f;
    setup(&f);
    struct ct_route_match m;
    assert_int_equal(match(&f, CT_GET, "/api/v1/prompts/popular", &m), 1);
    assert_string_equal(m.op->operation_id, "popular");
    assert_int_equal(m.nparams, 0);
    assert_int_equal(match(&f, CT_GET, "/api/v1/prompts/42", &m), 1);
    assert_string_equal(m.op->operation_id, "get");
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0].name, "id");
    assert_int_equal(m.params[0].len, 2);
    assert_memory_equal(m.params[0].value, "42", 2);
    teardown(&f);
}

static void test_router_backtracks_between_templates_with_different_names(void **state)
{
    struct fx f;
    setup(&f);
    struct ct_route_match m;
    assert_int_equal(match(&f, CT_GET, "/v2/prompts/abc/versions/3", &m), 1);
    assert_string_equal(m.op->operation_id, "version");
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[0].name, "promptId");
    assert_string_equal(m.params[1].name, "v");
    teardown(&f);
}

static void test_router_backtracks_when_a_template_branch_has_no_operation(void **state)
{
    struct fx f;
    setup(&f);
    struct ct_route_match m;
    assert_int_equal(match(&f, CT_GET, "/v2/d/planet", &m), 1);
    assert_string_equal(m.op->operation_id, "dispute");
    assert_string_equal(m.params[0].name, "id");
    assert_int_equal(match(&f, CT_GET, "/v2/d/planet/attachments", &m), 1);
    assert_string_equal(m.params[0].name, "disputeId");
    teardown(&f);
}

static void test_router_matches_mixed_segments(void **state)
{
    struct fx f;
    setup(&f);
    struct ct_route_match m;
    assert_int_equal(match(&f, CT_GET, "/api/v1/files/report.final.pdf", &m), 1);
    assert_string_equal(m.op->operation_id, "file");
    assert_int_equal(m.params[0].len, 6);
    assert_memory_equal(m.params[0].value, "report", 6);
    assert_memory_equal(m.params[1].value, "final.pdf", 9);
    assert_int_equal(match(&f, CT_GET, "/api/v1/files/noext", &m), -1);
    teardown(&f);
}

static void test_router_answers_405_with_allowed_methods(void **state)
{
    struct fx f;
    setup(&f);
    struct ct_route_match m;
    assert_int_equal(match(&f, CT_PUT, "/api/v1/prompts/7", &m), 0);
    assert_null(m.op);
    assert_int_equal(m.allowed, (1u << CT_GET) | (1u << CT_DELETE));
    teardown(&f);
}

static void test_router_requires_a_server_base_path(void **state)
{
    struct fx f;
    setup(&f);
    struct ct_route_match m;
    assert_int_equal(match(&f, CT_GET, "/prompts", &m), -1);
    assert_string_equal(ct_router_near(f.r, "/prompts", 8), "/api/v1");
    assert_int_equal(match(&f, CT_GET, "/api/v1x/prompts", &m), -1);
    teardown(&f);
}

static void test_router_trailing_slash_is_significant_and_hinted(void **state)
{
    struct fx f;
    setup(&f);
    struct ct_route_match m;
    assert_int_equal(match(&f, CT_GET, "/api/v1/prompts/", &m), -1);
    assert_string_equal(ct_router_near(f.r, "/api/v1/prompts/", 16), "/prompts");
    teardown(&f);
}

static void test_router_root_path_under_base(void **state)
{
    struct fx f;
    setup(&f);
    struct ct_route_match m;
    assert_int_equal(match(&f, CT_GET, "/api/v1/", &m), 1);
    assert_string_equal(m.op->operation_id, "root");
    assert_int_equal(match(&f, CT_GET, "/api/v1", &m), 1);
    teardown(&f);
}

static void test_router_empty_segment_never_fills_a_variable(void **state)
{
    struct fx f;
    setup(&f);
    struct ct_route_match m;
    assert_int_equal(match(&f, CT_GET, "/api/v1/prompts//versions/1", &m), -1);
    teardown(&f);
}

int main(void)
{
    tu_use_cmocka_alloc();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router_prefers_literal_segment_over_template),
        cmocka_unit_test(test_router_backtracks_between_templates_with_different_names),
        cmocka_unit_test(test_router_backtracks_when_a_template_branch_has_no_operation),
        cmocka_unit_test(test_router_matches_mixed_segments),
        cmocka_unit_test(test_router_answers_405_with_allowed_methods),
        cmocka_unit_test(test_router_requires_a_server_base_path),
        cmocka_unit_test(test_router_trailing_slash_is_significant_and_hinted),
        cmocka_unit_test(test_router_root_path_under_base),
        cmocka_unit_test(test_router_empty_segment_never_fills_a_variable),
    };
    return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
