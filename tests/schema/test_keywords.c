/* test_keywords.c - keyword edge cases, the OpenAPI 3.0 dialect, error messages and schema sets,
 * through the public API of lib/schema. */
#include "core/alloc.h"
#include "core/err.h"
#include "openapi/docset.h"
#include "schema/schema.h"
#include "schema/schema_impl.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* --- helpers ------------------------------------------------------------------------------- */

/* In-memory files for the docset: remote documents in tests. */
static int mem_read(void *ud, const char *path, char **text, size_t *len)
{
    const char *const *files = ud;
    for (size_t i = 0; files && files[i]; i += 2) {
        if (!strcmp(files[i], path)) {
            *len = strlen(files[i + 1]);
            *text = ct_xstrndup(files[i + 1], *len);
            return 0;
        }
    }
    return CT_E_NOTFOUND;
}

struct fx {
    struct ct_docset *ds;
    struct ct_schema *s;
    struct ct_diags d;
};

static void fx_compile(struct fx *f, const char *schema, const struct ct_schema_opts *opts,
                       const char *const *files)
{
    struct ct_docset_opts dopts = {0};
    dopts.read = mem_read;
    dopts.ud = (void *)files;
    f->ds = ct_docset_new(&dopts);
    ct_diags_init(&f->d);
    const struct ct_node *n = ct_docset_load_text(f->ds, "schema.json", schema, strlen(schema),
                                                  &f->d);
    assert_non_null(n);
    f->s = ct_schema_compile(f->ds, n, opts, &f->d);
}

static bool fx_check(struct fx *f, const char *instance)
{
    char name[32];
    static unsigned seq;
    snprintf(name, sizeof(name), "instance%u.json", seq++);
    const struct ct_node *n = ct_docset_load_text(f->ds, name, instance, strlen(instance), &f->d);
    assert_non_null(n);
    ct_diags_clear(&f->d);
    return ct_schema_validate(f->s, n, &f->d);
}

static void fx_done(struct fx *f)
{
    ct_schema_free(f->s);
    ct_docset_free(f->ds);
    ct_diags_deinit(&f->d);
}

static bool valid(const char *schema, const char *instance)
{
    struct fx f;
    fx_compile(&f, schema, NULL, NULL);
    assert_non_null(f.s);
    bool ok = fx_check(&f, instance);
    fx_done(&f);
    return ok;
}

static const struct ct_schema_opts OAS30_REQ = {.dialect = CT_DIALECT_OAS30,
                                                .direction = CT_DIR_REQUEST};
static const struct ct_schema_opts OAS30_RESP = {.dialect = CT_DIALECT_OAS30,
                                                 .direction = CT_DIR_RESPONSE};

static bool valid_opts(const char *schema, const struct ct_schema_opts *o, const char *instance)
{
    struct fx f;
    fx_compile(&f, schema, o, NULL);
    assert_non_null(f.s);
    bool ok = fx_check(&f, instance);
    fx_done(&f);
    return ok;
}

/* --- numbers and strings --------------------------------------------------------------------- */

static void test_integer_type_accepts_1_0_and_1e2(void **state)
{
    (void)state;
    assert_true(valid("{\"type\":\"integer\"}", "1.0"));
    assert_true(valid("{\"type\":\"integer\"}", "1e2"));
    assert_false(valid("{\"type\":\"integer\"}", "1.5"));
}

static void test_big_integers_compare_exactly(void **state)
{
    (void)state;
    const char *s = "{\"maximum\": 9007199254740993}";
    assert_true(valid(s, "9007199254740993"));
    assert_false(valid(s, "9007199254740994"));
    assert_false(valid("{\"minimum\": 100000000000000000000000000001}",
                       "100000000000000000000000000000"));
}

static void test_multipleof_is_exact_on_decimals(void **state)
{
    (void)state;
    assert_true(valid("{\"multipleOf\": 0.0001}", "0.0075"));
    assert_false(valid("{\"multipleOf\": 0.0001}", "0.00751"));
    assert_true(valid("{\"multipleOf\": 0.01}", "19.99"));
    assert_true(valid("{\"multipleOf\": 0.5}", "1e308"));
}

static void test_string_length_counts_code_points(void **state)
{
    (void)state;
    assert_true(valid("{\"maxLength\": 3}", "\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\""));
    assert_false(valid("{\"minLength\": 4}", "\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\""));
    assert_true(valid("{\"maxLength\": 1}", "\"\xf0\x9f\x9a\x80\""));
}

static void test_enum_and_unique_items_compare_objects_structurally(void **state)
{
    (void)state;
    assert_true(valid("{\"enum\": [{\"a\": 1, \"b\": [1.0]}]}", "{\"b\": [1], \"a\": 1.0}"));
    assert_false(valid("{\"uniqueItems\": true}", "[{\"a\": 1, \"b\": 2}, {\"b\": 2, \"a\": 1}]"));
    assert_true(valid("{\"uniqueItems\": true}", "[1, true, \"1\"]"));
}

static void test_pattern_digit_class_is_ascii_only(void **state)
{
    (void)state;
    assert_true(valid("{\"pattern\": \"^\\\\d+$\"}", "\"42\""));
    assert_false(valid("{\"pattern\": \"^\\\\d+$\"}", "\"\xd9\xa3\""));
    assert_true(valid("{\"pattern\": \"^\\\\p{Letter}+$\"}", "\"\xc3\xa9t\xc3\xa9\""));
}

static void test_hostile_pattern_gives_up_instead_of_hanging(void **state)
{
    (void)state;
    struct fx f;
    fx_compile(&f, "{\"pattern\": \"^(a|a)*$\"}", NULL, NULL);
    assert_non_null(f.s);
    assert_false(fx_check(&f, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\""));
    assert_int_equal(f.d.nerrors, 1);
    assert_non_null(strstr(f.d.v[0].msg, "gave up"));
    fx_done(&f);
}

static void test_format_is_an_annotation_unless_asserted(void **state)
{
    (void)state;
    assert_true(valid("{\"format\": \"email\"}", "\"nope\""));
    struct ct_schema_opts o = {.format_assert = true};
    assert_false(valid_opts("{\"format\": \"email\"}", &o, "\"nope\""));
    assert_true(valid_opts("{\"format\": \"x-unknown\"}", &o, "\"anything\""));
    assert_int_equal(ct_format_check("date-time", "2024-02-29T12:00:00Z", 20), 1);
    assert_int_equal(ct_format_check("date-time", "2023-02-29T12:00:00Z", 20), 0);
}

/* --- OpenAPI 3.0 ----------------------------------------------------------------------------- */

static void test_oas30_nullable_allows_null(void **state)
{
    (void)state;
    const char *s = "{\"type\": \"string\", \"nullable\": true, \"enum\": [\"a\"]}";
    assert_true(valid_opts(s, &OAS30_REQ, "null"));
    assert_true(valid_opts(s, &OAS30_REQ, "\"a\""));
    assert_false(valid_opts("{\"type\": \"string\"}", &OAS30_REQ, "null"));
}

static void test_oas30_boolean_exclusive_minimum(void **state)
{
    (void)state;
    const char *s = "{\"minimum\": 0, \"exclusiveMinimum\": true}";
    assert_false(valid_opts(s, &OAS30_REQ, "0"));
    assert_true(valid_opts(s, &OAS30_REQ, "0.1"));
    assert_true(valid_opts("{\"minimum\": 0, \"exclusiveMinimum\": false}", &OAS30_REQ, "0"));
}

static const char *RW_SCHEMA =
    "{\"type\": \"object\", \"required\": [\"id\", \"password\"], \"properties\": {"
    "\"id\": {\"type\": \"integer\", \"readOnly\": true},"
    "\"password\": {\"type\": \"string\", \"writeOnly\": true}}}";

static void test_oas30_readonly_rejected_in_requests_only(void **state)
{
    (void)state;
    assert_false(valid_opts(RW_SCHEMA, &OAS30_REQ, "{\"id\": 1, \"password\": \"x\"}"));
    assert_true(valid_opts(RW_SCHEMA, &OAS30_REQ, "{\"password\": \"x\"}"));
    assert_true(valid_opts(RW_SCHEMA, &OAS30_RESP, "{\"id\": 1}"));
}

static void test_oas30_writeonly_rejected_in_responses_only(void **state)
{
    (void)state;
    assert_false(valid_opts(RW_SCHEMA, &OAS30_RESP, "{\"id\": 1, \"password\": \"x\"}"));
    assert_false(valid_opts(RW_SCHEMA, &OAS30_RESP, "{\"password\": \"x\"}"));
}

/* `required` over declared properties takes a one-pass path (bits per property); names of
 * every length class of the hash (0, 1-3, 4-7, 8-16, longer) and repeated names must agree with
 * the one-lookup-per-name check, and a missing name must still be reported by name. */
static void test_required_fast_path_agrees_on_every_name_length(void **state)
{
    (void)state;
    const char *s =
        "{\"type\": \"object\", \"required\": [\"\", \"a\", \"abc\", \"abcd\", \"abcdefg\","
        " \"abcdefgh\", \"abcdefghijklmnop\", \"abcdefghijklmnopq\", \"a\"],"
        " \"properties\": {\"\": {}, \"a\": {}, \"abc\": {}, \"abcd\": {}, \"abcdefg\": {},"
        " \"abcdefgh\": {}, \"abcdefghijklmnop\": {}, \"abcdefghijklmnopq\": {},"
        " \"abcdefghijklmnopX\": {}, \"b\": {}}}";
    const char *all = "{\"\": 0, \"a\": 1, \"abc\": 2, \"abcd\": 3, \"abcdefg\": 4, "
                      "\"abcdefgh\": 5, \"abcdefghijklmnop\": 6, \"abcdefghijklmnopq\": 7}";
    assert_true(valid(s, all));
    /* each one missing in turn, the others present (a same-length look-alike does not count) */
    const char *names[] = {"", "a", "abc", "abcd", "abcdefg", "abcdefgh", "abcdefghijklmnop",
                           "abcdefghijklmnopq"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        char inst[512] = "{";
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            const char *nm = names[i];
            if (i == k)
                nm = i == 7 ? "abcdefghijklmnopX" : "b";
            snprintf(inst + strlen(inst), sizeof(inst) - strlen(inst), "%s\"%s\": %zu",
                     i ? ", " : "", nm, i);
        }
        strcat(inst, "}");
        struct fx f;
        fx_compile(&f, s, NULL, NULL);
        assert_false(fx_check(&f, inst));
        char want[64];
        snprintf(want, sizeof(want), "missing required property '%s'", names[k]);
        assert_non_null(strstr(f.d.v[0].msg, want));
        fx_done(&f);
    }
}

/* The fast path leaves readOnly names out of requests and writeOnly names out of responses,
 * and a required name without a property (or more than 64 names) uses the general check. */
static void test_required_fast_path_respects_direction_and_falls_back(void **state)
{
    (void)state;
    assert_true(valid_opts(RW_SCHEMA, &OAS30_REQ, "{\"password\": \"x\"}"));
    assert_false(valid_opts(RW_SCHEMA, &OAS30_REQ, "{}"));
    assert_true(valid_opts(RW_SCHEMA, &OAS30_RESP, "{\"id\": 1}"));
    assert_false(valid_opts(RW_SCHEMA, &OAS30_RESP, "{}"));
    const char *undeclared = "{\"required\": [\"a\", \"z\"], \"properties\": {\"a\": {}}}";
    assert_true(valid(undeclared, "{\"a\": 1, \"z\": 2}"));
    assert_false(valid(undeclared, "{\"a\": 1}"));
    char big[4096] = "{\"required\": [", props[4096] = "";
    for (int i = 0; i < 70; i++) {
        snprintf(big + strlen(big), sizeof(big) - strlen(big), "%s\"p%d\"", i ? "," : "", i);
        snprintf(props + strlen(props), sizeof(props) - strlen(props), "%s\"p%d\": {}",
                 i ? "," : "", i);
    }
    snprintf(big + strlen(big), sizeof(big) - strlen(big), "], \"properties\": {%s}}", props);
    char inst[4096] = "{";
    for (int i = 0; i < 70; i++)
        snprintf(inst + strlen(inst), sizeof(inst) - strlen(inst), "%s\"p%d\": %d",
                 i ? "," : "", i, i);
    strcat(inst, "}");
    assert_true(valid(big, inst));
    inst[strlen(inst) - 1] = 0;
    *strrchr(inst, ',') = 0;
    strcat(inst, "}");
    assert_false(valid(big, inst));
}

/* The uuid check looks at 16 bytes at a time: every byte value at every position must get the
 * verdict of the plain rule (hex digits, dashes at 8, 13, 18 and 23). */
static void test_uuid_format_agrees_with_the_rule_for_every_byte_at_every_position(void **state)
{
    (void)state;
    const char *good = "3fa85f64-5717-4562-B3FC-2c963f66afa6";
    assert_int_equal(ct_format_check("uuid", good, 36), 1);
    char u[37];
    for (int pos = 0; pos < 36; pos++) {
        for (int b = 0; b < 256; b++) {
            memcpy(u, good, 37);
            u[pos] = (char)b;
            bool dash = pos == 8 || pos == 13 || pos == 18 || pos == 23;
            bool hex = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
            int want = dash ? b == '-' : hex;
            if (ct_format_check("uuid", u, 36) != want)
                fail_msg("uuid with byte 0x%02x at %d: expected %d", b, pos, want);
        }
    }
    assert_int_equal(ct_format_check("uuid", good, 35), 0);
}

static const char *PETS =
    "{\"oneOf\": [{\"$ref\": \"#/components/schemas/Cat\"}, {\"$ref\": \"#/components/schemas/Dog\"}],"
    " \"discriminator\": {\"propertyName\": \"kind\", \"mapping\": {\"dog\": \"Dog\"}},"
    " \"components\": {\"schemas\": {"
    "  \"Cat\": {\"type\": \"object\", \"properties\": {\"lives\": {\"type\": \"integer\"}}},"
    "  \"Dog\": {\"type\": \"object\", \"properties\": {\"bark\": {\"type\": \"boolean\"}}}}}}";

static void test_oas30_discriminator_picks_the_mapped_schema(void **state)
{
    (void)state;
    assert_true(valid_opts(PETS, &OAS30_REQ, "{\"kind\": \"Cat\", \"lives\": 9}"));
    assert_true(valid_opts(PETS, &OAS30_REQ, "{\"kind\": \"dog\", \"bark\": true}"));
    assert_false(valid_opts(PETS, &OAS30_REQ, "{\"kind\": \"dog\", \"bark\": 1}"));
    struct fx f;
    fx_compile(&f, PETS, &OAS30_REQ, NULL);
    assert_false(fx_check(&f, "{\"kind\": \"Lizard\"}"));
    assert_non_null(strstr(f.d.v[0].msg, "expected one of 'dog', 'Cat', 'Dog', got 'Lizard'"));
    assert_false(fx_check(&f, "{\"lives\": 1}"));
    assert_non_null(strstr(f.d.v[0].msg, "missing discriminator property 'kind'"));
    fx_done(&f);
}

/* --- errors ---------------------------------------------------------------------------------- */

static void test_error_names_instance_and_keyword_locations(void **state)
{
    (void)state;
    struct fx f;
    fx_compile(&f, "{\n  \"properties\": {\n    \"a\": {\"items\": {\"maxLength\": 2}}\n  }\n}",
               NULL, NULL);
    assert_false(fx_check(&f, "{\"a\": [\"ok\", \"long\"]}"));
    assert_int_equal(f.d.n, 1);
    const struct ct_diag *g = &f.d.v[0];
    assert_string_equal(g->instance_ptr, "/a/1");
    assert_string_equal(g->keyword_ptr, "#/properties/a/items/maxLength");
    assert_int_equal(g->line, 3);
    assert_int_equal(g->col, 21);
    assert_int_equal(g->code, CT_E_INVALID);
    assert_string_equal(g->msg, "at /a/1: expected at most 2 characters, got 4 "
                                "(keyword #/properties/a/items/maxLength)");
    fx_done(&f);
}

static void test_first_error_mode_stops_and_all_errors_mode_collects(void **state)
{
    (void)state;
    const char *s = "{\"properties\": {\"a\": {\"type\": \"string\"}, \"b\": {\"type\": \"string\"}}}";
    struct fx f;
    fx_compile(&f, s, NULL, NULL);
    assert_false(fx_check(&f, "{\"a\": 1, \"b\": 2}"));
    assert_int_equal(f.d.nerrors, 1);
    fx_done(&f);
    struct ct_schema_opts all = {.all_errors = true};
    fx_compile(&f, s, &all, NULL);
    assert_false(fx_check(&f, "{\"a\": 1, \"b\": 2}"));
    assert_int_equal(f.d.nerrors, 2);
    fx_done(&f);
}

static void test_unknown_type_is_a_compile_error_with_hint(void **state)
{
    (void)state;
    struct fx f;
    fx_compile(&f, "{\"type\": \"strng\"}", NULL, NULL);
    assert_null(f.s);
    assert_int_equal(f.d.nerrors, 1);
    assert_int_equal(f.d.v[0].code, CT_E_SCHEMA);
    assert_string_equal(f.d.v[0].hint, "did you mean 'string'?");
    fx_done(&f);
}

/* --- references and sets -------------------------------------------------------------------- */

static void test_remote_map_serves_references_from_a_directory(void **state)
{
    (void)state;
    static const char *const files[] = {"remotes/int.json", "{\"type\": \"integer\"}", NULL};
    static const struct ct_schema_remote map = {"http://example.com/schemas/", "remotes"};
    struct ct_schema_opts o = {.remotes = &map, .nremotes = 1};
    struct fx f;
    fx_compile(&f, "{\"$ref\": \"http://example.com/schemas/int.json\"}", &o, files);
    assert_non_null(f.s);
    assert_true(fx_check(&f, "3"));
    assert_false(fx_check(&f, "\"3\""));
    fx_done(&f);
}

static void test_schema_set_compiles_a_shared_component_once(void **state)
{
    (void)state;
    const char *doc = "{\"components\": {\"schemas\": {"
                      "\"Id\": {\"type\": \"integer\"},"
                      "\"A\": {\"properties\": {\"id\": {\"$ref\": \"#/components/schemas/Id\"}}},"
                      "\"B\": {\"items\": {\"$ref\": \"#/components/schemas/Id\"}}}}}";
    struct ct_diags d;
    ct_diags_init(&d);
    struct ct_docset *ds = ct_docset_new(NULL);
    const struct ct_node *root = ct_docset_load_text(ds, "api.json", doc, strlen(doc), &d);
    struct ct_schema_opts o = {.dialect = CT_DIALECT_OAS30};
    struct ct_schema_set *set = ct_schema_set_new(ds, &o);
    const struct ct_node *a = ct_pointer_get(root, "/components/schemas/A", 21, false);
    const struct ct_node *b = ct_pointer_get(root, "/components/schemas/B", 21, false);
    const struct ct_schema *sa = ct_schema_set_get(set, a, &d);
    const struct ct_schema *sb = ct_schema_set_get(set, b, &d);
    assert_non_null(sa);
    assert_non_null(sb);
    assert_ptr_equal(ct_schema_set_get(set, a, &d), sa);
    /* A.properties.id -> $ref -> Id and B.items -> $ref -> Id end at the same compiled node. */
    const struct ct_snode *ida = sa->root->kw[0].u.props->props[0].sub->kw[0].u.sub;
    const struct ct_snode *idb = sb->root->kw[0].u.items.rest->kw[0].u.sub;
    assert_ptr_equal(ida, idb);
    ct_schema_set_free(set);
    ct_docset_free(ds);
    ct_diags_deinit(&d);
}

static void test_ref_loop_without_progress_fails_instead_of_overflowing(void **state)
{
    (void)state;
    struct fx f;
    fx_compile(&f, "{\"$defs\": {\"a\": {\"allOf\": [{\"$ref\": \"#/$defs/a\"}]}}, "
                   "\"$ref\": \"#/$defs/a\"}",
               NULL, NULL);
    assert_non_null(f.s);
    assert_false(fx_check(&f, "1"));
    assert_non_null(strstr(f.d.v[0].msg, "nested more than"));
    fx_done(&f);
}

/* Leaks and double frees fail the test through cmocka's allocator. */
static void *t_malloc(size_t n)
{
    return test_malloc(n);
}
static void *t_realloc(void *p, size_t n)
{
    return test_realloc(p, n);
}
static void t_free(void *p)
{
    test_free(p);
}

int main(void)
{
    static const struct ct_allocator a = {t_malloc, t_realloc, t_free};
    ct_alloc_set(&a);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integer_type_accepts_1_0_and_1e2),
        cmocka_unit_test(test_big_integers_compare_exactly),
        cmocka_unit_test(test_multipleof_is_exact_on_decimals),
        cmocka_unit_test(test_string_length_counts_code_points),
        cmocka_unit_test(test_enum_and_unique_items_compare_objects_structurally),
        cmocka_unit_test(test_pattern_digit_class_is_ascii_only),
        cmocka_unit_test(test_hostile_pattern_gives_up_instead_of_hanging),
        cmocka_unit_test(test_format_is_an_annotation_unless_asserted),
        cmocka_unit_test(test_oas30_nullable_allows_null),
        cmocka_unit_test(test_oas30_boolean_exclusive_minimum),
        cmocka_unit_test(test_oas30_readonly_rejected_in_requests_only),
        cmocka_unit_test(test_oas30_writeonly_rejected_in_responses_only),
        cmocka_unit_test(test_oas30_discriminator_picks_the_mapped_schema),
        cmocka_unit_test(test_required_fast_path_agrees_on_every_name_length),
        cmocka_unit_test(test_uuid_format_agrees_with_the_rule_for_every_byte_at_every_position),
        cmocka_unit_test(test_required_fast_path_respects_direction_and_falls_back),
        cmocka_unit_test(test_error_names_instance_and_keyword_locations),
        cmocka_unit_test(test_first_error_mode_stops_and_all_errors_mode_collects),
        cmocka_unit_test(test_unknown_type_is_a_compile_error_with_hint),
        cmocka_unit_test(test_remote_map_serves_references_from_a_directory),
        cmocka_unit_test(test_schema_set_compiles_a_shared_component_once),
        cmocka_unit_test(test_ref_loop_without_progress_fails_instead_of_overflowing),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ct_alloc_set(NULL);
    return rc;
}
