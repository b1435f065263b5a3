/* Unit tests for lib/openapi/model: building the OpenAPI model and its checks. */
#include "test_util.h"

#include "core/err.h"
#include "openapi/model.h"

struct fixture {
    struct ct_docset *ds;
    struct ct_diags dg;
    struct ct_oas *oas;
};

static struct ct_oas *build(struct fixture *f, const char *text)
{
    f->ds = ct_docset_new(NULL);
    ct_diags_init(&f->dg);
    struct ct_node *root = ct_docset_load_text(f->ds, "api.yaml", text, strlen(text), &f->dg);
    if (!root)
        return f->oas = NULL;
    ct_docset_check_refs(f->ds, root, &f->dg);
    f->oas = ct_oas_build(f->ds, root, &f->dg);
    return f->oas;
}

static void done(struct fixture *f)
{
    ct_diags_deinit(&f->dg);
    ct_docset_free(f->ds);
}

static const char *const good =
    "openapi: 3.1.0\n"
    "info: {title: T, version: '1'}\n"
    "servers: [{url: 'https://{host}/api/v1/', variables: {host: {default: example.com}}}]\n"
    "x-team: platform\n"
    "paths:\n"
    "  /prompts/{id}:\n"
    "    parameters:\n"
    "      - {name: id, in: path, required: true, schema: {type: string}}\n"
    "      - {name: trace, in: header, schema: {type: string}}\n"
    "    get:\n"
    "      operationId: getPrompt\n"
    "      parameters:\n"
    "        - {name: trace, in: header, required: true, schema: {type: integer}}\n"
    "        - {$ref: '#/components/parameters/Lang'}\n"
    "      responses:\n"
    "        200:\n"
    "          description: ok\n"
    "          content: {application/json: {schema: {type: object}, example: {a: 1}}}\n"
    "        '4XX': {$ref: '#/components/responses/Err'}\n"
    "    delete:\n"
    "      operationId: deletePrompt\n"
    "      security: []\n"
    "      responses: {'204': {description: gone}}\n"
    "webhooks:\n"
    "  promptChanged:\n"
    "    post:\n"
    "      requestBody: {required: true, content: {application/json: {schema: {type: object}}}}\n"
    "      responses: {'200': {description: ok}}\n"
    "security: [{bearer: []}]\n"
    "components:\n"
    "  securitySchemes: {bearer: {type: http, scheme: bearer, bearerFormat: JWT}}\n"
    "  parameters:\n"
    "    Lang: {name: lang, in: query, schema: {type: string, enum: [en, zh]}}\n"
    "  responses:\n"
    "    Err: {description: error}\n";

static void test_model_merges_path_and_operation_parameters(void **state)
{
    struct fixture f;
    assert_non_null(build(&f, good));
    const struct ct_oas_op *op = ct_oas_find_op(f.oas, "getPrompt");
    assert_non_null(op);
    assert_int_equal(op->nparams, 3);
    /* The operation's 'trace' overrides the path item's. */
    for (unsigned i = 0; i < op->nparams; i++)
        if (!strcmp(op->params[i].name, "trace"))
            assert_true(op->params[i].required);
    assert_string_equal(op->params[1].name, "lang");
    assert_int_equal(op->params[1].in, CT_IN_QUERY);
    assert_string_equal(op->params[1].style, "form");
    assert_true(op->params[1].explode);
    done(&f);
}

static void test_model_reads_responses_and_follows_refs(void **state)
{
    struct fixture f;
    assert_non_null(build(&f, good));
    const struct ct_oas_op *op = ct_oas_find_op(f.oas, "getPrompt");
    assert_int_equal(op->nresponses, 2);
    assert_string_equal(op->responses[0].status, "200");
    assert_int_equal(op->responses[0].nmedia, 1);
    assert_string_equal(op->responses[0].media[0].type, "application/json");
    assert_non_null(op->responses[0].media[0].example);
    assert_string_equal(op->responses[1].status, "4XX");
    assert_string_equal(op->responses[1].description, "error");
    done(&f);
}

static void test_model_server_base_path_substitutes_defaults(void **state)
{
    struct fixture f;
    assert_non_null(build(&f, good));
    assert_int_equal(f.oas->nservers, 1);
    assert_string_equal(f.oas->servers[0].base_path, "/api/v1");
    done(&f);
}

static void test_model_security_is_inherited_or_overridden(void **state)
{
    struct fixture f;
    assert_non_null(build(&f, good));
    assert_int_equal(ct_oas_find_op(f.oas, "getPrompt")->security->len, 1);
    assert_int_equal(ct_oas_find_op(f.oas, "deletePrompt")->security->len, 0);
    assert_int_equal(f.oas->nschemes, 1);
    assert_string_equal(f.oas->schemes[0].scheme, "bearer");
    done(&f);
}

static void test_model_counts_webhooks_apart_from_paths(void **state)
{
    struct fixture f;
    assert_non_null(build(&f, good));
    assert_int_equal(f.oas->nops, 3);
    assert_int_equal(f.oas->nwebhook, 1);
    assert_true(f.oas->ops[2].webhook);
    assert_true(f.oas->ops[2].body_required);
    done(&f);
}

static void test_model_keeps_extensions_reachable(void **state)
{
    struct fixture f;
    assert_non_null(build(&f, good));
    assert_string_equal(ct_obj_str(f.oas->root, "x-team"), "platform");
    done(&f);
}

static void test_model_refuses_swagger_2(void **state)
{
    struct fixture f;
    assert_null(build(&f, "swagger: '2.0'\ninfo: {title: T, version: '1'}\npaths: {}\n"));
    assert_int_equal(f.dg.v[0].code, CT_E_VERSION);
    assert_non_null(strstr(f.dg.v[0].msg, "Swagger 2.0"));
    done(&f);
}

static void test_model_refuses_unquoted_numeric_version_with_hint(void **state)
{
    struct fixture f;
    assert_null(build(&f, "openapi: 3.0\ninfo: {title: T, version: '1'}\npaths: {}\n"));
    assert_non_null(strstr(f.dg.v[0].hint, "openapi: \"3.0\""));
    done(&f);
}

static void test_model_misspelt_field_gets_did_you_mean(void **state)
{
    struct fixture f;
    assert_null(build(&f, "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n"
                          "    get:\n      operationID: x\n      responses: {'200': {description: "
                          "ok}}\n"));
    assert_int_equal(f.dg.n, 1);
    assert_int_equal(f.dg.v[0].line, 6);
    assert_int_equal(f.dg.v[0].col, 7);
    assert_string_equal(f.dg.v[0].hint, "did you mean 'operationId'?");
    done(&f);
}

static void test_model_template_variable_needs_a_path_parameter(void **state)
{
    struct fixture f;
    assert_null(build(&f, "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths:\n"
                          "  /a/{id}:\n    get:\n      responses: {'200': {description: ok}}\n"));
    assert_non_null(strstr(f.dg.v[0].msg, "'{id}' has no path parameter"));
    done(&f);
}

static void test_model_reports_every_problem_not_only_the_first(void **state)
{
    struct fixture f;
    assert_null(build(&f, "openapi: 3.1.0\ninfo: {title: T}\npaths:\n  a: {}\n  /b:\n    get:\n"
                          "      operationId: x\n      responses: {'600': {description: ok}}\n"
                          "    put:\n      operationId: x\n"));
    /* info.version missing, path 'a', status 600, duplicate operationId. */
    assert_int_equal(f.dg.nerrors, 4);
    done(&f);
}

static void test_model_unknown_security_scheme_is_an_error(void **state)
{
    struct fixture f;
    assert_null(build(&f, "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths: {}\n"
                          "security: [{berer: []}]\ncomponents: {securitySchemes: {bearer: "
                          "{type: http, scheme: bearer}}}\n"));
    assert_string_equal(f.dg.v[0].hint, "did you mean 'bearer'?");
    done(&f);
}

static void test_method_names_parse_case_insensitively(void **state)
{
    assert_int_equal(ct_http_method_parse("GET", 3), CT_GET);
    assert_int_equal(ct_http_method_parse("patch", 5), CT_PATCH);
    assert_int_equal(ct_http_method_parse("BREW", 4), -1);
}

int main(void)
{
    tu_use_cmocka_alloc();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_merges_path_and_operation_parameters),
        cmocka_unit_test(test_model_reads_responses_and_follows_refs),
        cmocka_unit_test(test_model_server_base_path_substitutes_defaults),
        cmocka_unit_test(test_model_security_is_inherited_or_overridden),
        cmocka_unit_test(test_model_counts_webhooks_apart_from_paths),
        cmocka_unit_test(test_model_keeps_extensions_reachable),
        cmocka_unit_test(test_model_refuses_swagger_2),
        cmocka_unit_test(test_model_refuses_unquoted_numeric_version_with_hint),
        cmocka_unit_test(test_model_misspelt_field_gets_did_you_mean),
        cmocka_unit_test(test_model_template_variable_needs_a_path_parameter),
        cmocka_unit_test(test_model_reports_every_problem_not_only_the_first),
        cmocka_unit_test(test_model_unknown_security_scheme_is_an_error),
        cmocka_unit_test(test_method_names_parse_case_insensitively),
    };
    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
