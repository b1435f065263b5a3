/* test_gen.c - lib/gen through its public API: one behaviour per test, every generated instance
 * validated with the project's validator (formats asserted), allocations through cmocka so that
 * leaks fail the test. */
#include "core/alloc.h"
#include "core/err.h"
#include "gen/gen.h"
#include "openapi/docset.h"
#include "schema/schema.h"

#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

/* --- fixture --------------------------------------------------------------------------------- */

static void *tu_malloc(size_t n)
{
    return test_malloc(n);
}
static void *tu_realloc(void *p, size_t n)
{
    return test_realloc(p, n);
}
static void tu_free(void *p)
{
    test_free(p);
}
static const struct ct_allocator cmocka_alloc = {tu_malloc, tu_realloc, tu_free};

struct fx {
    struct ct_docset *ds;
    struct ct_node *root;
    struct ct_schema_set *set;
    struct ct_arena arena;
    struct ct_diags diags;
    bool oas30;
    char *json; /* last instance as JSON, for messages */
};

static struct fx F;

static int setup(void **state)
{
    (void)state;
    ct_alloc_set(&cmocka_alloc);
    memset(&F, 0, sizeof F);
    ct_arena_init(&F.arena, 4096);
    ct_diags_init(&F.diags);
    return 0;
}

/* cmocka counts blocks per test function: each test frees what it allocated by calling done()
 * last. teardown calls it again for a test that failed half-way. */
static void done(void)
{
    ct_schema_set_free(F.set);
    ct_docset_free(F.ds);
    F.set = NULL;
    F.ds = NULL;
    ct_arena_deinit(&F.arena);
    ct_diags_deinit(&F.diags);
    ct_free(F.json);
    F.json = NULL;
}

static int teardown(void **state)
{
    (void)state;
    done();
    ct_alloc_set(NULL);
    return 0;
}

/* Load a YAML document holding the schemas; oas30 picks the dialect. */
static void load(const char *yaml, bool oas30)
{
    F.oas30 = oas30;
    F.ds = ct_docset_new(NULL);
    F.root = ct_docset_load_text(F.ds, "test.yaml", yaml, strlen(yaml), &F.diags);
    assert_non_null(F.root);
    struct ct_schema_opts so = {.dialect = oas30 ? CT_DIALECT_OAS30 : CT_DIALECT_OAS31,
                                .format_assert = true};
    F.set = ct_schema_set_new(F.ds, &so);
}

static const struct ct_node *schema_at(const char *ptr)
{
    const struct ct_node *s = ct_pointer_get(F.root, ptr, strlen(ptr), false);
    assert_non_null(s);
    return s;
}

static const char *emit(const struct ct_node *n)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_json_emit(n, &b, false);
    ct_free(F.json);
    F.json = ct_buf_steal(&b, NULL);
    return F.json ? F.json : "";
}

static bool valid(const struct ct_node *schema, const struct ct_node *inst, enum ct_direction dir)
{
    struct ct_diags d;
    ct_diags_init(&d);
    const struct ct_schema *s = ct_schema_set_get(F.set, schema, &d);
    assert_non_null(s);
    struct ct_vopts vo = {.direction = dir};
    bool ok = ct_schema_validate_opts(s, NULL, inst, &vo, &d);
    if (!ok) {
        struct ct_buf b;
        ct_buf_init(&b, 0);
        ct_diags_render(&d, &b, false);
        print_message("instance %s is invalid:\n%s", emit(inst), ct_buf_cstr(&b));
        ct_buf_deinit(&b);
    }
    ct_diags_deinit(&d);
    return ok;
}

/* Generate with a seed and direction, assert success and validity. */
static const struct ct_node *gen_dir(const char *ptr, uint64_t seed, enum ct_direction dir)
{
    const struct ct_node *s = schema_at(ptr);
    struct ct_gen_opts o = {.seed = seed, .direction = dir, .oas30 = F.oas30};
    const struct ct_node *inst = ct_gen_instance(F.ds, s, &o, &F.arena, &F.diags);
    if (!inst) {
        struct ct_buf b;
        ct_buf_init(&b, 0);
        ct_diags_render(&F.diags, &b, false);
        print_message("generation failed:\n%s", ct_buf_cstr(&b));
        ct_buf_deinit(&b);
    }
    assert_non_null(inst);
    assert_true(valid(s, inst, dir));
    return inst;
}

static const struct ct_node *gen(const char *ptr, uint64_t seed)
{
    return gen_dir(ptr, seed, CT_DIR_RESPONSE);
}

/* Expect failure: NULL and one error diagnostic; returns the first diagnostic. */
static const struct ct_diag *gen_fails(const char *ptr)
{
    struct ct_gen_opts o = {.seed = 1, .oas30 = F.oas30};
    const struct ct_node *inst = ct_gen_instance(F.ds, schema_at(ptr), &o, &F.arena, &F.diags);
    if (inst) print_message("unexpected instance %s\n", emit(inst));
    assert_null(inst);
    assert_true(F.diags.nerrors >= 1);
    return &F.diags.v[0];
}

static const struct ct_node *get(const struct ct_node *obj, const char *key)
{
    return ct_obj_get(obj, key);
}

/* --- determinism ----------------------------------------------------------------------------- */

static const char *PERSON = "components:\n"
                            "  schemas:\n"
                            "    Person:\n"
                            "      type: object\n"
                            "      required: [id, name, email, createdAt]\n"
                            "      properties:\n"
                            "        id: {type: string, format: uuid, readOnly: true}\n"
                            "        name: {type: string, minLength: 1, maxLength: 40}\n"
                            "        email: {type: string, format: email}\n"
                            "        password: {type: string, writeOnly: true, minLength: 8}\n"
                            "        createdAt: {type: string, format: date-time, readOnly: true}\n"
                            "        age: {type: integer, minimum: 0, maximum: 150}\n"
                            "        tags: {type: array, items: {type: string}, maxItems: 5}\n";

static void test_gen_same_seed_same_output(void **state)
{
    (void)state;
    load(PERSON, false);
    char *a = ct_xstrdup(emit(gen("/components/schemas/Person", 42)));
    for (int i = 0; i < 5; i++)
        assert_string_equal(a, emit(gen("/components/schemas/Person", 42)));
    ct_free(a);
    done();
}

static void test_gen_different_seeds_give_different_instances(void **state)
{
    (void)state;
    load(PERSON, false);
    char *a = ct_xstrdup(emit(gen("/components/schemas/Person", 1)));
    bool differ = false;
    for (uint64_t s = 2; s < 8 && !differ; s++)
        differ = strcmp(a, emit(gen("/components/schemas/Person", s))) != 0;
    ct_free(a);
    assert_true(differ);
    done();
}

static void test_gen_cache_does_not_change_output(void **state)
{
    (void)state;
    load("components: {schemas: {S: {type: string, pattern: '^[A-Z]{2}[0-9a-f]{8}$'}}}", false);
    struct ct_gen_cache *cache = ct_gen_cache_new();
    for (uint64_t seed = 0; seed < 10; seed++) {
        struct ct_gen_opts o = {.seed = seed};
        char *a = ct_xstrdup(emit(
            ct_gen_instance(F.ds, schema_at("/components/schemas/S"), &o, &F.arena, &F.diags)));
        o.cache = cache;
        assert_string_equal(a, emit(ct_gen_instance(F.ds, schema_at("/components/schemas/S"), &o,
                                                    &F.arena, &F.diags)));
        ct_free(a);
    }
    ct_gen_cache_free(cache);
    ct_gen_cache_free(NULL);
    done();
}

static void test_gen_harness_validator_rejects_a_wrong_instance(void **state)
{
    (void)state;
    /* The tests below lean on the validator: make sure it is not vacuous here. */
    load(PERSON, false);
    struct ct_diags d;
    ct_diags_init(&d);
    const struct ct_node *wrong = ct_docset_load_text(F.ds, "wrong.json", "{\"id\": 5}", 9, &d);
    assert_non_null(wrong);
    assert_false(valid(schema_at("/components/schemas/Person"), wrong, CT_DIR_RESPONSE));
    ct_diags_deinit(&d);
    done();
}

/* --- direction ------------------------------------------------------------------------------- */

static void test_gen_omits_writeonly_in_responses(void **state)
{
    (void)state;
    load(PERSON, false);
    for (uint64_t seed = 0; seed < 20; seed++) {
        const struct ct_node *p = gen_dir("/components/schemas/Person", seed, CT_DIR_RESPONSE);
        assert_null(get(p, "password"));
        assert_non_null(get(p, "id"));
    }
    done();
}

static void test_gen_omits_readonly_in_requests_even_when_required(void **state)
{
    (void)state;
    load(PERSON, false);
    for (uint64_t seed = 0; seed < 20; seed++) {
        const struct ct_node *p = gen_dir("/components/schemas/Person", seed, CT_DIR_REQUEST);
        assert_null(get(p, "id"));
        assert_null(get(p, "createdAt"));
        assert_non_null(get(p, "email"));
    }
    done();
}

static void test_gen_readonly_through_ref_is_omitted_in_requests(void **state)
{
    (void)state;
    load("components:\n"
         "  schemas:\n"
         "    Id: {type: integer, readOnly: true}\n"
         "    T:\n"
         "      type: object\n"
         "      required: [id, name]\n"
         "      properties: {id: {$ref: '#/components/schemas/Id'}, name: {type: string}}\n",
         false);
    const struct ct_node *t = gen_dir("/components/schemas/T", 3, CT_DIR_REQUEST);
    assert_null(get(t, "id"));
    assert_non_null(get(t, "name"));
    done();
}

/* --- numbers --------------------------------------------------------------------------------- */

static void test_gen_respects_exclusive_minimum_draft4_boolean(void **state)
{
    (void)state;
    load("components: {schemas: {N: {type: integer, minimum: 5, exclusiveMinimum: true, "
         "maximum: 6}}}",
         true);
    for (uint64_t seed = 0; seed < 20; seed++)
        assert_int_equal(6, (int)gen("/components/schemas/N", seed)->num);
    done();
}

static void test_gen_respects_exclusive_bounds_numeric(void **state)
{
    (void)state;
    load("components: {schemas: {N: {type: integer, exclusiveMinimum: 5, exclusiveMaximum: 7}}}",
         false);
    for (uint64_t seed = 0; seed < 20; seed++)
        assert_int_equal(6, (int)gen("/components/schemas/N", seed)->num);
    done();
}

static void test_gen_multiple_of_decimal_is_exact(void **state)
{
    (void)state;
    load("components: {schemas: {P: {type: number, multipleOf: 0.01, minimum: 0.015, "
         "maximum: 0.035}}}",
         false);
    for (uint64_t seed = 0; seed < 20; seed++) {
        const struct ct_node *n = gen("/components/schemas/P", seed);
        assert_true(!strcmp(n->u.text, "0.02") || !strcmp(n->u.text, "0.03"));
    }
    done();
}

static void test_gen_combines_several_multiple_of(void **state)
{
    (void)state;
    load("components: {schemas: {M: {allOf: [{type: integer, multipleOf: 4}, {multipleOf: 6}], "
         "minimum: 1, maximum: 30}}}",
         false);
    for (uint64_t seed = 0; seed < 10; seed++) {
        double v = gen("/components/schemas/M", seed)->num;
        assert_true(v == 12 || v == 24); /* the multiples of lcm(4, 6) in [1, 30] */
    }
    done();
}

static void test_gen_integer_format_int32_stays_in_range(void **state)
{
    (void)state;
    load("components: {schemas: {I: {type: integer, format: int32, minimum: 2147483600}}}", false);
    for (uint64_t seed = 0; seed < 10; seed++) {
        const struct ct_node *n = gen("/components/schemas/I", seed);
        assert_true(n->num >= 2147483600.0 && n->num <= 2147483647.0);
        assert_true(n->flags & CT_NF_INT);
    }
    done();
}

static void test_gen_number_uses_name_hint_range(void **state)
{
    (void)state;
    load("components: {schemas: {O: {type: object, required: [age, latitude], properties: "
         "{age: {type: integer}, latitude: {type: number}}}}}",
         false);
    const struct ct_node *o = gen("/components/schemas/O", 9);
    assert_true(get(o, "age")->num >= 18 && get(o, "age")->num <= 80);
    assert_true(fabs(get(o, "latitude")->num) <= 90);
    done();
}

static void test_gen_huge_bounds_are_met_exactly(void **state)
{
    (void)state;
    load("components: {schemas: {B: {type: integer, minimum: 100000000000000000000}, "
         "S: {type: number, minimum: 0.125, maximum: 0.125}}}",
         false);
    assert_string_equal("100000000000000000000", gen("/components/schemas/B", 1)->u.text);
    assert_string_equal("0.125", gen("/components/schemas/S", 1)->u.text);
    done();
}

static void test_gen_edge_cases_of_strings_and_objects(void **state)
{
    (void)state;
    load("components: {schemas: {E: {type: string, maxLength: 0}, O: {type: object, "
         "properties: {}, additionalProperties: false}, A: {type: array, maxItems: 0}}}",
         false);
    assert_int_equal(0, gen("/components/schemas/E", 1)->len);
    assert_int_equal(0, gen("/components/schemas/O", 1)->len);
    assert_int_equal(0, gen("/components/schemas/A", 1)->len);
    done();
}

static void test_gen_conflicting_types_report_a_diagnostic(void **state)
{
    (void)state;
    load("components:\n  schemas:\n    T:\n      allOf: [{type: string}, {type: integer}]\n",
         false);
    assert_non_null(strstr(gen_fails("/components/schemas/T")->msg, "type"));
    done();
}

static void test_gen_contradictory_bounds_report_the_schema(void **state)
{
    (void)state;
    load("components:\n  schemas:\n    N: {type: integer, minimum: 10, maximum: 3}\n", false);
    const struct ct_diag *d = gen_fails("/components/schemas/N");
    assert_int_equal(CT_E_SCHEMA, d->code);
    assert_int_equal(3, d->line);
    assert_non_null(strstr(d->msg, "minimum"));
    done();
}

/* --- strings --------------------------------------------------------------------------------- */

static void test_gen_pattern_result_matches_pattern(void **state)
{
    (void)state;
    static const char *const pats[] = {
        "^[a-z0-9]+(?:-[a-z0-9]+)*$",
        "^[A-Za-z0-9_-]+\\\\.[A-Za-z0-9_-]+\\\\.[A-Za-z0-9_-]+$",
        "^\\\\S(?:.*\\\\S)?$",
        "^#(([0-9a-fA-F]{2}){3}|([0-9a-fA-F]){3})$",
        "^(STOP|START|HELP)\\\\.(ALL|ENGLISH|FRENCH)$",
        "^\\\\d{4}-\\\\d{2}-\\\\d{2}T\\\\d{2}:\\\\d{2}(\\\\.\\\\d{1,6})?(Z|[+-]\\\\d{2}:\\\\d{2})?"
        "$",
        "^[^@\\\\s]+@[^@\\\\s]+\\\\.[a-z]{2,}$",
        "^(0|[1-9][0-9]*)$",
        "^(?<word>[a-z]{3})-\\\\k<word>$",
        "^\\\\u00e9t\\\\u00e9[0-9]?$",
        "US[0-9a-f]{32}",
        "^Bearer ",
    };
    for (size_t i = 0; i < sizeof pats / sizeof *pats; i++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml, "components: {schemas: {S: {type: string, pattern: \"%s\"}}}",
                 pats[i]);
        load(yaml, false);
        for (uint64_t seed = 0; seed < 10; seed++)
            gen("/components/schemas/S", seed);
        ct_schema_set_free(F.set);
        ct_docset_free(F.ds);
        F.set = NULL;
        F.ds = NULL;
    }
    done();
}

static void test_gen_pattern_respects_length_bounds(void **state)
{
    (void)state;
    load("components: {schemas: {J: {type: string, pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$',"
         " minLength: 30, maxLength: 34}}}",
         false);
    for (uint64_t seed = 0; seed < 20; seed++) {
        const struct ct_node *s = gen("/components/schemas/J", seed);
        assert_true(s->len >= 30 && s->len <= 34);
    }
    done();
}

static void test_gen_unanchored_pattern_is_padded_to_min_length(void **state)
{
    (void)state;
    load("components: {schemas: {B: {type: string, pattern: '^Bearer', minLength: 20}}}", false);
    const struct ct_node *s = gen("/components/schemas/B", 1);
    assert_true(s->len >= 20);
    assert_memory_equal(s->u.str, "Bearer", 6);
    done();
}

static void test_gen_unsatisfiable_pattern_reports_diagnostic(void **state)
{
    (void)state;
    load("components:\n  schemas:\n    S:\n      type: string\n      pattern: '^ab$'\n"
         "      minLength: 5\n",
         false);
    const struct ct_diag *d = gen_fails("/components/schemas/S");
    assert_int_equal(CT_E_SCHEMA, d->code);
    assert_int_equal(5, d->line);
    assert_non_null(strstr(d->msg, "pattern"));
    done();
}

static void test_gen_length_counts_code_points(void **state)
{
    (void)state;
    load("components: {schemas: {S: {type: string, pattern: '^[\\u00e9\\u4e2d]+$', "
         "minLength: 4, maxLength: 4}}}",
         false);
    const struct ct_node *s = gen("/components/schemas/S", 5);
    size_t cps = 0;
    for (uint32_t i = 0; i < s->len; i++)
        cps += ((unsigned char)s->u.str[i] & 0xc0) != 0x80;
    assert_int_equal(4, cps);
    assert_true(s->len > 4);
    done();
}

static void test_gen_formats_are_valid(void **state)
{
    (void)state;
    static const char *const fmts[] = {
        "date-time",
        "date",
        "time",
        "duration",
        "email",
        "idn-email",
        "hostname",
        "idn-hostname",
        "ipv4",
        "ipv6",
        "uri",
        "uri-reference",
        "iri",
        "iri-reference",
        "uuid",
        "json-pointer",
        "relative-json-pointer",
        "regex",
        "byte",
        "binary",
        "password",
        "uri-template",
    };
    for (size_t i = 0; i < sizeof fmts / sizeof *fmts; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml, "components: {schemas: {S: {type: string, format: %s}}}",
                 fmts[i]);
        load(yaml, false);
        for (uint64_t seed = 0; seed < 8; seed++) {
            const struct ct_node *s = gen("/components/schemas/S", seed);
            int rc = ct_format_check(fmts[i], s->u.str, s->len);
            if (rc == 0) print_message("format %s: '%s'\n", fmts[i], s->u.str);
            assert_int_not_equal(0, rc);
        }
        ct_schema_set_free(F.set);
        ct_docset_free(F.ds);
        F.set = NULL;
        F.ds = NULL;
    }
    done();
}

static void test_gen_byte_format_is_base64(void **state)
{
    (void)state;
    load("components: {schemas: {S: {type: string, format: byte}}}", false);
    const struct ct_node *s = gen("/components/schemas/S", 2);
    assert_int_equal(0, s->len % 4);
    assert_true(
        strspn(s->u.str, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
        s->len);
    done();
}

static void test_gen_uses_property_names_as_hints(void **state)
{
    (void)state;
    load("components: {schemas: {U: {type: object, required: [email, createdAt, avatarUrl, "
         "title, description, firstName], properties: {email: {type: string}, createdAt: {type: "
         "string}, avatarUrl: {type: string}, title: {type: string}, description: {type: "
         "string}, firstName: {type: string}}}}}",
         false);
    const struct ct_node *u = gen("/components/schemas/U", 4);
    assert_int_equal(1, ct_format_check("email", get(u, "email")->u.str, get(u, "email")->len));
    assert_int_equal(
        1, ct_format_check("date-time", get(u, "createdAt")->u.str, get(u, "createdAt")->len));
    assert_memory_equal("https://", get(u, "avatarUrl")->u.str, 8);
    assert_non_null(strchr(get(u, "description")->u.str, ' ')); /* words, not noise */
    assert_true(get(u, "firstName")->u.str[0] >= 'A' && get(u, "firstName")->u.str[0] <= 'Z');
    done();
}

static void test_gen_plain_strings_are_readable_words(void **state)
{
    (void)state;
    load("components: {schemas: {S: {type: string, minLength: 12, maxLength: 30}}}", false);
    const struct ct_node *s = gen("/components/schemas/S", 8);
    for (uint32_t i = 0; i < s->len; i++)
        assert_true((s->u.str[i] >= 'a' && s->u.str[i] <= 'z') || s->u.str[i] == ' ');
    done();
}

/* --- enum, const, examples ---------------------------------------------------------------------
 */

static void test_gen_enum_value_is_chosen(void **state)
{
    (void)state;
    load("components: {schemas: {E: {type: string, enum: [red, green, blue]}}}", false);
    const struct ct_node *e = gen("/components/schemas/E", 3);
    assert_true(!strcmp(e->u.str, "red") || !strcmp(e->u.str, "green") ||
                !strcmp(e->u.str, "blue"));
    done();
}

static void test_gen_enum_values_filtered_by_other_keywords(void **state)
{
    (void)state;
    load(
        "components: {schemas: {E: {allOf: [{enum: [a, bb, ccc]}, {type: string, minLength: 3}]}}}",
        false);
    for (uint64_t seed = 0; seed < 10; seed++)
        assert_string_equal("ccc", gen("/components/schemas/E", seed)->u.str);
    done();
}

static void test_gen_const_is_used_in_oas31(void **state)
{
    (void)state;
    load("components: {schemas: {C: {const: {kind: fixed, n: 3}}}}", false);
    const struct ct_node *c = gen("/components/schemas/C", 1);
    assert_string_equal("fixed", get(c, "kind")->u.str);
    done();
}

static void test_gen_prefer_examples_uses_a_valid_example(void **state)
{
    (void)state;
    load("components: {schemas: {S: {type: string, example: 'hello world'}}}", false);
    struct ct_gen_opts o = {.seed = 1, .prefer_examples = true};
    const struct ct_node *s =
        ct_gen_instance(F.ds, schema_at("/components/schemas/S"), &o, &F.arena, &F.diags);
    assert_string_equal("hello world", s->u.str);
    done();
}

static void test_gen_prefer_examples_skips_an_invalid_example(void **state)
{
    (void)state;
    load("components: {schemas: {S: {type: string, format: date, example: 'yesterday'}}}", false);
    struct ct_gen_opts o = {.seed = 1, .prefer_examples = true};
    const struct ct_node *s =
        ct_gen_instance(F.ds, schema_at("/components/schemas/S"), &o, &F.arena, &F.diags);
    assert_non_null(s);
    assert_string_not_equal("yesterday", s->u.str);
    assert_int_equal(1, ct_format_check("date", s->u.str, s->len));
    done();
}

/* --- types ------------------------------------------------------------------------------------ */

static void test_gen_type_array_with_null_prefers_the_value(void **state)
{
    (void)state;
    load("components: {schemas: {S: {type: [string, 'null'], minLength: 2}}}", false);
    for (uint64_t seed = 0; seed < 10; seed++)
        assert_int_equal(CT_STRING, gen("/components/schemas/S", seed)->kind);
    done();
}

static void test_gen_nullable_oas30_is_valid(void **state)
{
    (void)state;
    load("components: {schemas: {S: {type: integer, nullable: true, enum: [1, 2]}}}", true);
    for (uint64_t seed = 0; seed < 10; seed++)
        gen("/components/schemas/S", seed);
    done();
}

static void test_gen_true_schema_gives_a_value(void **state)
{
    (void)state;
    load("components: {schemas: {T: true, E: {}}}", false);
    gen("/components/schemas/T", 1);
    gen("/components/schemas/E", 1);
    done();
}

static void test_gen_false_schema_returns_null_with_location(void **state)
{
    (void)state;
    load("components:\n  schemas:\n    F: false\n", false);
    const struct ct_diag *d = gen_fails("/components/schemas/F");
    assert_int_equal(CT_E_SCHEMA, d->code);
    assert_int_equal(3, d->line);
    assert_non_null(strstr(d->msg, "false"));
    done();
}

static void test_gen_broken_ref_reports_diagnostic(void **state)
{
    (void)state;
    load("components:\n  schemas:\n    R: {$ref: '#/components/schemas/Nope'}\n", false);
    const struct ct_diag *d = gen_fails("/components/schemas/R");
    assert_int_equal(3, d->line);
    done();
}

/* --- objects ---------------------------------------------------------------------------------- */

static void test_gen_allof_merges_properties_and_required(void **state)
{
    (void)state;
    load("components:\n"
         "  schemas:\n"
         "    Base: {type: object, required: [id], properties: {id: {type: integer}}}\n"
         "    Pet:\n"
         "      allOf:\n"
         "        - $ref: '#/components/schemas/Base'\n"
         "        - type: object\n"
         "          required: [name]\n"
         "          properties: {name: {type: string}, tag: {type: string}}\n",
         false);
    for (uint64_t seed = 0; seed < 10; seed++) {
        const struct ct_node *p = gen("/components/schemas/Pet", seed);
        assert_int_equal(CT_NUMBER, get(p, "id")->kind);
        assert_int_equal(CT_STRING, get(p, "name")->kind);
    }
    done();
}

static void test_gen_additional_properties_false_in_one_allof_branch_is_respected(void **state)
{
    (void)state;
    load("components: {schemas: {S: {allOf: [{type: object, additionalProperties: false, "
         "properties: {a: {type: string}}}, {properties: {b: {type: string}}}]}}}",
         false);
    for (uint64_t seed = 0; seed < 10; seed++)
        assert_null(get(gen("/components/schemas/S", seed), "b"));
    done();
}

static void test_gen_required_property_forbidden_by_additional_properties_fails(void **state)
{
    (void)state;
    load("components:\n  schemas:\n    S:\n      type: object\n      additionalProperties: false\n"
         "      required: [x]\n",
         false);
    const struct ct_diag *d = gen_fails("/components/schemas/S");
    assert_non_null(strstr(d->msg, "'x'"));
    done();
}

static void test_gen_min_properties_adds_map_entries(void **state)
{
    (void)state;
    load("components: {schemas: {M: {type: object, minProperties: 3, maxProperties: 4, "
         "additionalProperties: {type: integer}}}}",
         false);
    for (uint64_t seed = 0; seed < 10; seed++) {
        const struct ct_node *m = gen("/components/schemas/M", seed);
        assert_true(m->len >= 3 && m->len <= 4);
    }
    done();
}

static void test_gen_max_properties_drops_optional_ones(void **state)
{
    (void)state;
    load("components: {schemas: {M: {type: object, maxProperties: 2, required: [a], properties: "
         "{a: {type: integer}, b: {type: integer}, c: {type: integer}, d: {type: integer}}}}}",
         false);
    for (uint64_t seed = 0; seed < 10; seed++) {
        const struct ct_node *m = gen("/components/schemas/M", seed);
        assert_true(m->len <= 2);
        assert_non_null(get(m, "a"));
    }
    done();
}

static void test_gen_pattern_properties_keys_match(void **state)
{
    (void)state;
    load("components: {schemas: {M: {type: object, minProperties: 2, additionalProperties: false,"
         " patternProperties: {'^x-[a-z]+$': {type: boolean}}}}}",
         false);
    for (uint64_t seed = 0; seed < 10; seed++) {
        const struct ct_node *m = gen("/components/schemas/M", seed);
        assert_true(m->len >= 2);
        for (uint32_t i = 0; i < m->len; i++)
            assert_memory_equal("x-", m->u.members[i].key->u.str, 2);
    }
    done();
}

static void test_gen_property_names_are_respected(void **state)
{
    (void)state;
    load("components: {schemas: {M: {type: object, minProperties: 2, propertyNames: {pattern: "
         "'^[A-Z]{3}$'}, additionalProperties: {type: number}}}}",
         false);
    for (uint64_t seed = 0; seed < 10; seed++)
        assert_true(gen("/components/schemas/M", seed)->len >= 2);
    done();
}

static void test_gen_dependent_required_adds_the_dependency(void **state)
{
    (void)state;
    load("components: {schemas: {D: {type: object, required: [card], properties: {card: {type: "
         "string}, billing: {type: string}}, dependentRequired: {card: [billing]}}}}",
         false);
    for (uint64_t seed = 0; seed < 10; seed++)
        assert_non_null(get(gen("/components/schemas/D", seed), "billing"));
    done();
}

/* --- arrays ----------------------------------------------------------------------------------- */

static void test_gen_unique_items_are_distinct(void **state)
{
    (void)state;
    load("components: {schemas: {A: {type: array, minItems: 3, uniqueItems: true, items: {enum: "
         "[a, b, c]}}}}",
         false);
    for (uint64_t seed = 0; seed < 10; seed++)
        assert_int_equal(3, gen("/components/schemas/A", seed)->len);
    done();
}

static void test_gen_min_items_raises_the_count(void **state)
{
    (void)state;
    load("components: {schemas: {A: {type: array, minItems: 7, items: {type: integer}}}}", false);
    assert_true(gen("/components/schemas/A", 1)->len >= 7);
    done();
}

static void test_gen_contains_is_satisfied(void **state)
{
    (void)state;
    load("components: {schemas: {A: {type: array, items: {type: integer}, contains: {minimum: "
         "100}, minContains: 2}}}",
         false);
    for (uint64_t seed = 0; seed < 10; seed++)
        gen("/components/schemas/A", seed);
    done();
}

static void test_gen_prefix_items_give_a_tuple(void **state)
{
    (void)state;
    load("components: {schemas: {T: {type: array, minItems: 2, prefixItems: [{type: string}, "
         "{type: integer}], items: false}}}",
         false);
    const struct ct_node *t = gen("/components/schemas/T", 1);
    assert_int_equal(2, t->len);
    assert_int_equal(CT_STRING, t->u.items[0]->kind);
    assert_int_equal(CT_NUMBER, t->u.items[1]->kind);
    done();
}

/* --- combinators ------------------------------------------------------------------------------ */

static const char *PETS = "components:\n"
                          "  schemas:\n"
                          "    Cat: {type: object, required: [petType, meow], properties: "
                          "{petType: {type: string}, meow: {type: boolean}}}\n"
                          "    Dog: {type: object, required: [petType, bark], properties: "
                          "{petType: {type: string}, bark: {type: string}}}\n"
                          "    Pet:\n"
                          "      oneOf:\n"
                          "        - $ref: '#/components/schemas/Cat'\n"
                          "        - $ref: '#/components/schemas/Dog'\n"
                          "      discriminator:\n"
                          "        propertyName: petType\n"
                          "        mapping: {kitty: '#/components/schemas/Cat'}\n";

static void test_gen_discriminator_sets_mapping_key(void **state)
{
    (void)state;
    load(PETS, false);
    bool saw_cat = false, saw_dog = false;
    for (uint64_t seed = 0; seed < 20; seed++) {
        const struct ct_node *p = gen("/components/schemas/Pet", seed);
        const char *t = get(p, "petType")->u.str;
        if (get(p, "meow")) {
            assert_string_equal("kitty", t);
            saw_cat = true;
        } else {
            assert_string_equal("Dog", t); /* implicit: the schema name */
            saw_dog = true;
        }
    }
    assert_true(saw_cat && saw_dog);
    done();
}

static void test_gen_discriminator_on_allof_base_names_the_child(void **state)
{
    (void)state;
    load("components:\n"
         "  schemas:\n"
         "    Pet: {type: object, required: [petType], properties: {petType: {type: string}}, "
         "discriminator: {propertyName: petType}}\n"
         "    Cat: {allOf: [{$ref: '#/components/schemas/Pet'}, {properties: {meow: {type: "
         "boolean}}}]}\n"
         "    Use: {$ref: '#/components/schemas/Cat'}\n",
         false);
    assert_string_equal("Cat", get(gen("/components/schemas/Use", 1), "petType")->u.str);
    done();
}

static void test_gen_oneof_instance_matches_exactly_one_branch(void **state)
{
    (void)state;
    /* Every integer is a number: the number branch must get a fraction. */
    load("components: {schemas: {O: {oneOf: [{type: number}, {type: integer}]}}}", false);
    for (uint64_t seed = 0; seed < 20; seed++)
        gen("/components/schemas/O", seed);
    done();
}

static void test_gen_oneof_of_objects_avoids_matching_two_branches(void **state)
{
    (void)state;
    load("components: {schemas: {O: {type: object, properties: {a: {type: string}, b: {type: "
         "string}}, oneOf: [{required: [a]}, {required: [b]}]}}}",
         false);
    for (uint64_t seed = 0; seed < 20; seed++)
        gen("/components/schemas/O", seed);
    done();
}

static void test_gen_anyof_picks_a_valid_branch(void **state)
{
    (void)state;
    load("components: {schemas: {A: {anyOf: [{type: string, format: email}, {type: integer, "
         "minimum: 10}]}}}",
         false);
    for (uint64_t seed = 0; seed < 10; seed++)
        gen("/components/schemas/A", seed);
    done();
}

static void test_gen_not_excludes_values(void **state)
{
    (void)state;
    load("components: {schemas: {N: {type: string, enum: [a, b, c], not: {enum: [a, b]}}, T: "
         "{not: {type: string}}}}",
         false);
    for (uint64_t seed = 0; seed < 10; seed++) {
        assert_string_equal("c", gen("/components/schemas/N", seed)->u.str);
        assert_int_not_equal(CT_STRING, gen("/components/schemas/T", seed)->kind);
    }
    done();
}

static void test_gen_if_then_else_is_valid(void **state)
{
    (void)state;
    load("components: {schemas: {C: {type: object, required: [country, code], properties: "
         "{country: {enum: [US, CA]}, code: {type: string}}, if: {properties: {country: {const: "
         "US}}}, then: {properties: {code: {pattern: '^[0-9]{5}$'}}}, else: {properties: {code: "
         "{pattern: '^[A-Z][0-9][A-Z] [0-9][A-Z][0-9]$'}}}}}}",
         false);
    for (uint64_t seed = 0; seed < 20; seed++)
        gen("/components/schemas/C", seed);
    done();
}

/* --- recursion -------------------------------------------------------------------------------- */

static unsigned depth_of(const struct ct_node *n)
{
    unsigned d = 0;
    if (n->kind == CT_OBJECT)
        for (uint32_t i = 0; i < n->len; i++) {
            unsigned x = depth_of(n->u.members[i].val);
            d = x > d ? x : d;
        }
    if (n->kind == CT_ARRAY)
        for (uint32_t i = 0; i < n->len; i++) {
            unsigned x = depth_of(n->u.items[i]);
            d = x > d ? x : d;
        }
    return n->kind == CT_OBJECT || n->kind == CT_ARRAY ? d + 1 : d;
}

static void test_gen_recursive_schema_stops_at_max_depth(void **state)
{
    (void)state;
    load("components:\n"
         "  schemas:\n"
         "    Node:\n"
         "      type: object\n"
         "      required: [name, children]\n"
         "      properties:\n"
         "        name: {type: string}\n"
         "        parent: {$ref: '#/components/schemas/Node'}\n"
         "        children: {type: array, items: {$ref: '#/components/schemas/Node'}}\n",
         false);
    for (uint64_t seed = 0; seed < 10; seed++) {
        struct ct_gen_opts o = {.seed = seed, .max_depth = 4};
        const struct ct_node *s = schema_at("/components/schemas/Node");
        const struct ct_node *n = ct_gen_instance(F.ds, s, &o, &F.arena, &F.diags);
        assert_non_null(n);
        assert_true(valid(s, n, CT_DIR_NONE));
        assert_true(depth_of(n) <= 2 * 4 + 2);
    }
    done();
}

static void test_gen_required_self_reference_fails_with_diagnostic(void **state)
{
    (void)state;
    load("components:\n"
         "  schemas:\n"
         "    Loop:\n"
         "      type: object\n"
         "      required: [next]\n"
         "      properties: {next: {$ref: '#/components/schemas/Loop'}}\n",
         false);
    const struct ct_diag *d = gen_fails("/components/schemas/Loop");
    assert_non_null(strstr(d->msg, "recursion"));
    done();
}

static void test_gen_impossible_recursion_through_oneof_fails_quickly(void **state)
{
    (void)state;
    /* Every branch recurses: the call must give up with a diagnostic, not retry
     * exponentially (this took seconds before the work limit and the early unwinding). */
    load("components:\n"
         "  schemas:\n"
         "    R:\n"
         "      type: object\n"
         "      required: [a, b]\n"
         "      properties:\n"
         "        a: {$ref: '#/components/schemas/R'}\n"
         "        b: {oneOf: [{$ref: '#/components/schemas/R'}, {type: object, required: [x], "
         "properties: {x: {$ref: '#/components/schemas/R'}}}]}\n",
         false);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const struct ct_diag *d = gen_fails("/components/schemas/R");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_non_null(strstr(d->msg, "recursion"));
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms < 2000); /* generous: sanitizers and valgrind run this too */
    done();
}

static void test_gen_nullable_recursion_ends_with_null(void **state)
{
    (void)state;
    load("components:\n"
         "  schemas:\n"
         "    L:\n"
         "      type: object\n"
         "      required: [next]\n"
         "      properties:\n"
         "        next: {oneOf: [{type: 'null'}, {$ref: '#/components/schemas/L'}]}\n",
         false);
    for (uint64_t seed = 0; seed < 5; seed++)
        gen("/components/schemas/L", seed);
    done();
}

/* --- threads ---------------------------------------------------------------------------------- */

struct job {
    const struct ct_node *schema;
    char *out[16];
};

static void *worker(void *arg)
{
    struct job *j = arg;
    struct ct_arena a;
    ct_arena_init(&a, 4096);
    struct ct_gen_cache *cache = ct_gen_cache_new();
    for (int i = 0; i < 16; i++) {
        struct ct_gen_opts o = {.seed = (uint64_t)i, .direction = CT_DIR_RESPONSE, .cache = cache};
        struct ct_diags d;
        ct_diags_init(&d);
        const struct ct_node *n = ct_gen_instance(F.ds, j->schema, &o, &a, &d);
        struct ct_buf b;
        ct_buf_init(&b, 0);
        ct_json_emit(n, &b, false);
        j->out[i] = ct_buf_steal(&b, NULL);
        ct_diags_deinit(&d);
    }
    ct_gen_cache_free(cache);
    ct_arena_deinit(&a);
    return NULL;
}

static void test_gen_concurrent_calls_give_the_same_instances(void **state)
{
    (void)state;
    /* cmocka's allocator is not thread-safe: use libc's for this test. */
    ct_alloc_set(NULL);
    load(PERSON, false);
    struct job jobs[4];
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        jobs[t].schema = schema_at("/components/schemas/Person");
        assert_int_equal(0, pthread_create(&th[t], NULL, worker, &jobs[t]));
    }
    for (int t = 0; t < 4; t++)
        pthread_join(th[t], NULL);
    for (int i = 0; i < 16; i++)
        for (int t = 1; t < 4; t++)
            assert_string_equal(jobs[0].out[i], jobs[t].out[i]);
    for (int t = 0; t < 4; t++)
        for (int i = 0; i < 16; i++)
            ct_free(jobs[t].out[i]);
    ct_schema_set_free(F.set);
    ct_docset_free(F.ds);
    F.set = NULL;
    F.ds = NULL;
    done();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_gen_harness_validator_rejects_a_wrong_instance),
        T(test_gen_same_seed_same_output),
        T(test_gen_different_seeds_give_different_instances),
        T(test_gen_cache_does_not_change_output),
        T(test_gen_omits_writeonly_in_responses),
        T(test_gen_omits_readonly_in_requests_even_when_required),
        T(test_gen_readonly_through_ref_is_omitted_in_requests),
        T(test_gen_respects_exclusive_minimum_draft4_boolean),
        T(test_gen_respects_exclusive_bounds_numeric),
        T(test_gen_multiple_of_decimal_is_exact),
        T(test_gen_combines_several_multiple_of),
        T(test_gen_integer_format_int32_stays_in_range),
        T(test_gen_number_uses_name_hint_range),
        T(test_gen_huge_bounds_are_met_exactly),
        T(test_gen_edge_cases_of_strings_and_objects),
        T(test_gen_conflicting_types_report_a_diagnostic),
        T(test_gen_contradictory_bounds_report_the_schema),
        T(test_gen_pattern_result_matches_pattern),
        T(test_gen_pattern_respects_length_bounds),
        T(test_gen_unanchored_pattern_is_padded_to_min_length),
        T(test_gen_unsatisfiable_pattern_reports_diagnostic),
        T(test_gen_length_counts_code_points),
        T(test_gen_formats_are_valid),
        T(test_gen_byte_format_is_base64),
        T(test_gen_uses_property_names_as_hints),
        T(test_gen_plain_strings_are_readable_words),
        T(test_gen_enum_value_is_chosen),
        T(test_gen_enum_values_filtered_by_other_keywords),
        T(test_gen_const_is_used_in_oas31),
        T(test_gen_prefer_examples_uses_a_valid_example),
        T(test_gen_prefer_examples_skips_an_invalid_example),
        T(test_gen_type_array_with_null_prefers_the_value),
        T(test_gen_nullable_oas30_is_valid),
        T(test_gen_true_schema_gives_a_value),
        T(test_gen_false_schema_returns_null_with_location),
        T(test_gen_broken_ref_reports_diagnostic),
        T(test_gen_allof_merges_properties_and_required),
        T(test_gen_additional_properties_false_in_one_allof_branch_is_respected),
        T(test_gen_required_property_forbidden_by_additional_properties_fails),
        T(test_gen_min_properties_adds_map_entries),
        T(test_gen_max_properties_drops_optional_ones),
        T(test_gen_pattern_properties_keys_match),
        T(test_gen_property_names_are_respected),
        T(test_gen_dependent_required_adds_the_dependency),
        T(test_gen_unique_items_are_distinct),
        T(test_gen_min_items_raises_the_count),
        T(test_gen_contains_is_satisfied),
        T(test_gen_prefix_items_give_a_tuple),
        T(test_gen_discriminator_sets_mapping_key),
        T(test_gen_discriminator_on_allof_base_names_the_child),
        T(test_gen_oneof_instance_matches_exactly_one_branch),
        T(test_gen_oneof_of_objects_avoids_matching_two_branches),
        T(test_gen_anyof_picks_a_valid_branch),
        T(test_gen_not_excludes_values),
        T(test_gen_if_then_else_is_valid),
        T(test_gen_recursive_schema_stops_at_max_depth),
        T(test_gen_required_self_reference_fails_with_diagnostic),
        T(test_gen_impossible_recursion_through_oneof_fails_quickly),
        T(test_gen_nullable_recursion_ends_with_null),
        T(test_gen_concurrent_calls_give_the_same_instances),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
