/* Unit tests for lib/scenario: templates, variable references, paths, the parser's model and
 * its diagnostics, and the checks against an OpenAPI model. The allocator is cmocka's, so a
 * leak fails the test. */
#include "../unit/test_util.h"

#include "core/err.h"
#include "openapi/model.h"
#include "openapi/router.h"
#include "scenario/scenario.h"

#include <stdio.h>

/* --- fixtures ------------------------------------------------------------------------------- */

struct fx {
    struct ct_arena arena;
    struct ct_diags diags;
    struct ct_source src;
    char *text;
    struct ct_scen *s;
};

static struct ct_scen *parse(struct fx *f, const char *text)
{
    ct_arena_init(&f->arena, 4096);
    ct_diags_init(&f->diags);
    f->text = ct_xstrdup(text);
    f->src.name = "s.yaml";
    f->src.text = f->text;
    f->src.len = strlen(text);
    f->s = ct_scen_parse_text(&f->arena, &f->src, &f->diags);
    return f->s;
}

static void done(struct fx *f)
{
    ct_arena_deinit(&f->arena);
    ct_diags_deinit(&f->diags);
    ct_free(f->text);
}

/* The rendered diagnostics (caller frees). */
static char *render(const struct ct_diags *d)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_diags_render(d, &b, false);
    return ct_buf_steal(&b, NULL);
}

static const char SPEC[] = "openapi: 3.1.0\n"
                           "info: {title: t, version: '1'}\n"
                           "paths:\n"
                           "  /items/{id}:\n"
                           "    get:\n"
                           "      operationId: getItem\n"
                           "      parameters:\n"
                           "        - {name: id, in: path, required: true, schema: {type: string}}\n"
                           "        - {name: verbose, in: query, schema: {type: boolean}}\n"
                           "      responses: {'200': {description: ok}}\n"
                           "  /items:\n"
                           "    post:\n"
                           "      operationId: createItem\n"
                           "      requestBody:\n"
                           "        required: true\n"
                           "        content: {application/json: {schema: {type: object}}}\n"
                           "      responses: {'201': {description: created}}\n";

struct oasfx {
    struct ct_docset *ds;
    struct ct_oas *oas;
    struct ct_router *router;
    struct ct_diags diags;
};

static void load_spec(struct oasfx *o)
{
    ct_diags_init(&o->diags);
    o->ds = ct_docset_new(NULL);
    const struct ct_node *root = ct_docset_load_text(o->ds, "spec.yaml", SPEC, strlen(SPEC),
                                                     &o->diags);
    assert_non_null(root);
    o->oas = ct_oas_build(o->ds, root, &o->diags);
    assert_non_null(o->oas);
    o->router = ct_router_new(o->oas);
}

static void unload_spec(struct oasfx *o)
{
    ct_router_free(o->router);
    ct_docset_free(o->ds);
    ct_diags_deinit(&o->diags);
}

static size_t check_with_spec(struct fx *f, const char *text, struct oasfx *o)
{
    assert_non_null(parse(f, text));
    assert_false(f->s->broken);
    struct ct_scen_env env = {.oas = o->oas, .router = o->router};
    return ct_scen_check(f->s, &env, &f->diags);
}

/* --- templates and references --------------------------------------------------------------- */

static void test_template_splits_literals_and_references(void **state)
{
    const char *s = "a ${x} b $${y} ${env.HOME:-/}";
    size_t pos = 0, len = strlen(s);
    struct ct_tpl_part p;
    const char *want[] = {"a ", "x", " b ", "${", "y} ", "env.HOME:-/"};
    bool var[] = {false, true, false, false, false, true};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(ct_tpl_next(s, len, &pos, &p), 1);
        assert_int_equal(p.var, var[i]);
        assert_int_equal(p.len, strlen(want[i]));
        assert_memory_equal(p.ptr, want[i], p.len);
    }
    assert_int_equal(ct_tpl_next(s, len, &pos, &p), 0);
}

static void test_template_unterminated_reference_is_an_error_at_its_offset(void **state)
{
    const char *s = "ab${cd";
    size_t pos = 0;
    struct ct_tpl_part p;
    assert_int_equal(ct_tpl_next(s, strlen(s), &pos, &p), 1);
    assert_int_equal(ct_tpl_next(s, strlen(s), &pos, &p), -1);
    assert_int_equal(p.off, 2);
    assert_true(ct_tpl_has_vars("${}", 3)); /* an error counts: the string is no literal */
    assert_false(ct_tpl_has_vars("$5 and $${x}", 12));
}

static void test_var_ref_reads_namespaces_paths_and_defaults(void **state)
{
    struct ct_var_ref r;
    const char *err = NULL;
    assert_true(ct_var_ref_parse("user.items[0].id", 16, &r, &err));
    assert_int_equal(r.ns, CT_VAR_USER);
    assert_int_equal(r.namelen, 4);
    assert_memory_equal(r.path, ".items[0].id", r.pathlen);
    assert_true(ct_var_ref_parse(" env.HOME:-/root ", 17, &r, &err));
    assert_int_equal(r.ns, CT_VAR_ENV);
    assert_memory_equal(r.name, "HOME", r.namelen);
    assert_true(r.has_default);
    assert_memory_equal(r.def, "/root", r.deflen);
    assert_true(ct_var_ref_parse("run.uuid", 8, &r, &err));
    assert_int_equal(r.ns, CT_VAR_RUN);
    assert_false(ct_var_ref_parse("9lives", 6, &r, &err));
    assert_false(ct_var_ref_parse("run.id.x", 8, &r, &err));
    assert_false(ct_var_ref_parse("env.X:default", 13, &r, &err));
    assert_false(ct_var_ref_parse("a b", 3, &r, &err));
}

static void expect_path(const char *in, const char *want)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    const char *err = NULL;
    size_t off = 0;
    assert_true(ct_scen_path_parse(in, strlen(in), &b, &err, &off));
    assert_string_equal(ct_buf_cstr(&b), want);
    ct_buf_deinit(&b);
}

static void test_paths_become_json_pointers(void **state)
{
    expect_path(".data.items[0].id", "/data/items/0/id");
    expect_path(".", "");
    expect_path("", "");
    expect_path("/a~1b/0", "/a~1b/0");
    expect_path(".tags[-1]", "/tags/-1");
    expect_path(".['a.b'][\"c/d\"]", "/a.b/c~1d");
    expect_path("[2]", "/2");
}

static void test_bad_paths_say_where(void **state)
{
    const char *bad[] = {"data.id", ".a..b", ".a[x]", ".a[1", "/a~2", ".a['b]"};
    size_t offs[] = {0, 3, 3, 4, 2, 3};
    for (size_t i = 0; i < 6; i++) {
        struct ct_buf b;
        ct_buf_init(&b, 0);
        const char *err = NULL;
        size_t off = 99;
        assert_false(ct_scen_path_parse(bad[i], strlen(bad[i]), &b, &err, &off));
        assert_non_null(err);
        assert_int_equal(off, offs[i]);
        ct_buf_deinit(&b);
    }
}

/* --- the parser ----------------------------------------------------------------------------- */

static void test_parse_builds_the_model_of_a_full_scenario(void **state)
{
    struct fx f;
    struct ct_scen *s = parse(&f, "name: full\n"
                                  "tags: [a, b]\n"
                                  "vars: {x: 1}\n"
                                  "defaults: {auth: '${x}', headers: {X-A: b}}\n"
                                  "timeout: 2s\n"
                                  "setup:\n"
                                  "  - op: login\n"
                                  "    json: {u: a}\n"
                                  "    capture: {t: .data.token, h: header Location, s: status}\n"
                                  "steps:\n"
                                  "  - name: poll\n"
                                  "    method: get\n"
                                  "    path: /items/${t}\n"
                                  "    repeat: {until: {status: 200}, max: 5, delay: 250ms}\n"
                                  "    expect:\n"
                                  "      status: [200, 4XX]\n"
                                  "      headers: {ETag: {exists: true}}\n"
                                  "      body: {.a: {type: [string, 'null'], min_length: 1}}\n"
                                  "      text: {contains: ok}\n"
                                  "      max_time: 1.5s\n"
                                  "  - group: g\n"
                                  "    tags: slow\n"
                                  "    steps: [{op: x, skip: later}]\n"
                                  "teardown:\n"
                                  "  - {op: y, if_set: t, auth: false}\n");
    assert_non_null(s);
    assert_false(s->broken);
    assert_int_equal(f.diags.n, 0);
    assert_string_equal(s->name, "full");
    assert_int_equal(s->ntags, 2);
    assert_int_equal(s->timeout_ms, 2000);
    assert_int_equal(s->setup.n, 1);
    const struct ct_scen_http *login = &s->setup.v[0].http;
    assert_string_equal(login->op_id, "login");
    assert_int_equal(login->body_kind, CT_BODY_JSON);
    assert_int_equal(login->ncaptures, 3);
    assert_int_equal(login->captures[0].src.kind, CT_SRC_BODY);
    assert_string_equal(login->captures[0].src.arg, "/data/token");
    assert_int_equal(login->captures[1].src.kind, CT_SRC_HEADER);
    assert_string_equal(login->captures[1].src.arg, "Location");
    assert_int_equal(login->captures[2].src.kind, CT_SRC_STATUS);
    const struct ct_scen_step *poll = &s->steps.v[0];
    assert_string_equal(poll->label, "poll");
    assert_int_equal(poll->http.method, CT_GET);
    assert_true(poll->repeat.poll);
    assert_int_equal(poll->repeat.max, 5);
    assert_int_equal(poll->repeat.delay_ms, 250);
    const struct ct_scen_expect *e = &poll->http.expect;
    assert_int_equal(e->nstatus, 2);
    assert_int_equal(e->status[1].lo, 400);
    assert_int_equal(e->status[1].hi, 499);
    assert_int_equal(e->nchecks, 3);
    assert_int_equal(e->checks[1].nm, 2);
    assert_int_equal(e->checks[1].m[0].types, CT_T_STRING | CT_T_NULL);
    assert_int_equal(e->max_time_ms, 1500);
    const struct ct_scen_step *g = &s->steps.v[1];
    assert_int_equal(g->kind, CT_STEP_GROUP);
    assert_string_equal(g->label, "g");
    assert_string_equal(g->group.v[0].skip, "later");
    assert_true(s->teardown.v[0].http.no_auth);
    assert_non_null(s->teardown.v[0].if_set);
    assert_true(ct_scen_has_tag(s, "slow"));
    assert_false(ct_scen_has_tag(s, "fast"));
    done(&f);
}

static void test_parse_labels_steps_without_names(void **state)
{
    struct fx f;
    struct ct_scen *s = parse(&f, "name: n\nsteps:\n  - op: getItem\n  - method: delete\n"
                                  "    path: /items/1\n  - ws: {channel: chat, do: [{wait: 1s}]}\n");
    assert_non_null(s);
    assert_string_equal(s->steps.v[0].label, "getItem");
    assert_string_equal(s->steps.v[1].label, "DELETE /items/1");
    assert_string_equal(s->steps.v[2].label, "ws chat");
    assert_int_equal(s->steps.v[2].ws.actions[0].kind, CT_WS_WAIT);
    assert_int_equal(s->steps.v[2].ws.actions[0].ms, 1000);
    done(&f);
}

static void test_parse_reports_every_problem_with_positions(void **state)
{
    struct fx f;
    struct ct_scen *s = parse(&f, "name: n\n"
                                  "step: []\n"
                                  "steps:\n"
                                  "  - op: a\n"
                                  "    expct: {}\n"
                                  "  - op: b\n"
                                  "    timeout: soon\n");
    assert_non_null(s);
    assert_true(s->broken);
    assert_int_equal(f.diags.nerrors, 3);
    assert_int_equal(f.diags.v[0].line, 2);
    assert_int_equal(f.diags.v[0].code, CT_E_SCENARIO);
    assert_string_equal(f.diags.v[0].hint, "did you mean 'steps'?");
    assert_int_equal(f.diags.v[1].line, 5);
    assert_int_equal(f.diags.v[1].col, 5);
    assert_string_equal(f.diags.v[1].hint, "did you mean 'expect'?");
    assert_int_equal(f.diags.v[2].line, 7);
    assert_non_null(strstr(f.diags.v[2].msg, "got a string 'soon'"));
    done(&f);
}

static void test_parse_points_the_caret_inside_a_template(void **state)
{
    struct fx f;
    parse(&f, "name: n\nsteps:\n  - op: a\n    headers: {X: \"ab ${run.id\"}\n");
    assert_int_equal(f.diags.nerrors, 1);
    /* The quote is at column 18, "ab " follows: the '$' sits at column 22. */
    assert_int_equal(f.diags.v[0].line, 4);
    assert_int_equal(f.diags.v[0].col, 22);
    char *out = render(&f.diags);
    assert_non_null(strstr(out, "unterminated or empty '${'"));
    ct_free(out);
    done(&f);
}

static void test_parse_matcher_mapping_needs_known_keys(void **state)
{
    struct fx f;
    parse(&f, "name: n\nsteps:\n  - op: a\n    expect:\n      body:\n"
              "        .x: {gte: 1, lenght: 2}\n        .y: {}\n        .z: {type: dict}\n");
    assert_int_equal(f.diags.nerrors, 3);
    assert_string_equal(f.diags.v[0].hint, "did you mean 'length'?");
    assert_non_null(strstr(f.diags.v[1].hint, "{equals: {}}"));
    assert_string_equal(f.diags.v[2].hint, "did you mean 'object'?");
    done(&f);
}

static void test_parse_refuses_a_document_that_is_not_a_mapping(void **state)
{
    struct fx f;
    assert_null(parse(&f, "[1, 2]\n"));
    assert_int_equal(f.diags.nerrors, 1);
    assert_non_null(strstr(f.diags.v[0].msg, "got a list"));
    done(&f);
}

/* --- checks --------------------------------------------------------------------------------- */

static void test_check_suggests_the_closest_operation_id(void **state)
{
    struct oasfx o;
    load_spec(&o);
    struct fx f;
    size_t n = check_with_spec(&f, "name: n\nsteps:\n  - op: getItme\n", &o);
    assert_int_equal(n, 1);
    assert_string_equal(f.diags.v[0].hint, "did you mean 'getItem'?");
    assert_int_equal(f.diags.v[0].col, 9);
    done(&f);
    unload_spec(&o);
}

static void test_check_knows_parameters_and_required_ones(void **state)
{
    struct oasfx o;
    load_spec(&o);
    struct fx f;
    size_t n = check_with_spec(&f, "name: n\nsteps:\n  - op: getItem\n    params: {ID: 1}\n", &o);
    assert_int_equal(n, 2); /* 'ID' is unknown, and 'id' is missing */
    assert_string_equal(f.diags.v[0].hint, "did you mean 'id'?");
    assert_non_null(strstr(f.diags.v[1].msg, "needs the path parameter 'id'"));
    done(&f);
    n = check_with_spec(&f, "name: n\nsteps:\n  - op: getItem\n    send_invalid: true\n", &o);
    assert_int_equal(n, 0);
    done(&f);
    unload_spec(&o);
}

static void test_check_bodies_against_the_operation(void **state)
{
    struct oasfx o;
    load_spec(&o);
    struct fx f;
    size_t n = check_with_spec(&f, "name: n\nsteps:\n  - op: createItem\n  - op: createItem\n"
                                   "    form: {a: b}\n  - op: getItem\n    params: {id: 1}\n"
                                   "    json: {}\n",
                               &o);
    assert_int_equal(n, 3);
    assert_non_null(strstr(f.diags.v[0].msg, "needs a request body"));
    assert_non_null(strstr(f.diags.v[1].msg, "takes application/json, not a 'form' body"));
    assert_non_null(strstr(f.diags.v[2].msg, "takes no request body"));
    done(&f);
    unload_spec(&o);
}

static void test_check_matches_method_and_path_with_variables_as_segments(void **state)
{
    struct oasfx o;
    load_spec(&o);
    struct fx f;
    size_t n = check_with_spec(&f, "name: n\nvars: {i: 1}\nsteps:\n  - method: GET\n"
                                   "    path: /items/${i}?verbose=true\n  - method: PUT\n"
                                   "    path: /items/${i}\n  - method: GET\n    path: /itemz\n",
                               &o);
    assert_int_equal(n, 2);
    assert_non_null(strstr(f.diags.v[0].msg, "no put operation"));
    assert_non_null(strstr(f.diags.v[1].msg, "no operation of the contract matches '/itemz'"));
    done(&f);
    unload_spec(&o);
}

static void test_check_variables_in_execution_order(void **state)
{
    struct fx f;
    assert_non_null(parse(&f, "name: n\n"
                              "vars: {a: '${b}', b: 1}\n"
                              "steps:\n"
                              "  - op: x\n"
                              "    headers: {X: '${tok}'}\n"
                              "    capture: {tok: .t}\n"
                              "    expect: {body: {.t: '${tok}'}}\n"
                              "  - op: y\n"
                              "    headers: {X: '${tok} ${env.ANY} ${run.uuid} ${extra}'}\n"));
    const char *extra[] = {"extra"};
    struct ct_scen_env env = {.extra_vars = extra, .nextra = 1};
    size_t n = ct_scen_check(f.s, &env, &f.diags);
    /* 'b' is defined after 'a' uses it; 'tok' is used in its own step's request. */
    assert_int_equal(n, 2);
    assert_int_equal(f.diags.v[0].line, 2);
    assert_int_equal(f.diags.v[1].line, 5);
    assert_non_null(strstr(f.diags.v[1].hint, "captured later, at line 6"));
    done(&f);
}

static bool refuse_regex(void *ud, const char *re, size_t len, char **msg, size_t *off)
{
    (void)ud;
    if (memchr(re, '(', len) == NULL)
        return true;
    *msg = ct_xstrdup("missing )");
    *off = len;
    return false;
}

static void test_check_compiles_regular_expressions_through_the_callback(void **state)
{
    struct fx f;
    assert_non_null(parse(&f, "name: n\nsteps:\n  - op: x\n    expect: {body: {.a: {matches: '(a'}}}\n"
                              "    capture: {v: {from: .a, match: 'ok'}}\n"));
    struct ct_scen_env env = {.regex_check = refuse_regex};
    assert_int_equal(ct_scen_check(f.s, &env, &f.diags), 1);
    assert_non_null(strstr(f.diags.v[0].msg, "missing )"));
    done(&f);
}

int main(void)
{
    tu_use_cmocka_alloc();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_splits_literals_and_references),
        cmocka_unit_test(test_template_unterminated_reference_is_an_error_at_its_offset),
        cmocka_unit_test(test_var_ref_reads_namespaces_paths_and_defaults),
        cmocka_unit_test(test_paths_become_json_pointers),
        cmocka_unit_test(test_bad_paths_say_where),
        cmocka_unit_test(test_parse_builds_the_model_of_a_full_scenario),
        cmocka_unit_test(test_parse_labels_steps_without_names),
        cmocka_unit_test(test_parse_reports_every_problem_with_positions),
        cmocka_unit_test(test_parse_points_the_caret_inside_a_template),
        cmocka_unit_test(test_parse_matcher_mapping_needs_known_keys),
        cmocka_unit_test(test_parse_refuses_a_document_that_is_not_a_mapping),
        cmocka_unit_test(test_check_suggests_the_closest_operation_id),
        cmocka_unit_test(test_check_knows_parameters_and_required_ones),
        cmocka_unit_test(test_check_bodies_against_the_operation),
        cmocka_unit_test(test_check_matches_method_and_path_with_variables_as_segments),
        cmocka_unit_test(test_check_variables_in_execution_order),
        cmocka_unit_test(test_check_compiles_regular_expressions_through_the_callback),
    };
    return cmocka_run_group_tests_name("scenario", tests, NULL, NULL);
}
