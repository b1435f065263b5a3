/* Unit tests for lib/openapi/docset: loading through a callback and resolving $ref. */
#include "test_util.h"

#include "core/err.h"
#include "openapi/docset.h"

/* An in-memory file system: pairs of (path, text). */
static const char *const *mem_files;

static int mem_read(void *ud, const char *path, char **text, size_t *len)
{
    for (const char *const *f = mem_files; *f; f += 2) {
        if (!strcmp(f[0], path)) {
            *text = ct_xstrdup(f[1]);
            *len = strlen(f[1]);
            return 0;
        }
    }
    return CT_E_NOTFOUND;
}

static struct ct_docset *mem_docset(const char *const *files)
{
    mem_files = files;
    struct ct_docset_opts o = {.read = mem_read};
    return ct_docset_new(&o);
}

static void test_ref_resolves_local_pointer_with_escapes(void **state)
{
    static const char *const files[] = {
        "root.yaml",
        "defs:\n  a/b:\n    x: 1\n  c~d: {y: 2}\n  'e f': {z: 3}\n"
        "r1: {$ref: '#/defs/a~1b'}\nr2: {$ref: '#/defs/c~0d'}\nr3: {$ref: '#/defs/e%20f'}\n",
        NULL};
    struct ct_docset *ds = mem_docset(files);
    struct ct_diags dg;
    ct_diags_init(&dg);
    struct ct_node *root = ct_docset_load(ds, "root.yaml", &dg);
    assert_non_null(root);
    assert_int_equal(ct_docset_check_refs(ds, root, &dg), 0);
    assert_non_null(ct_obj_get(ct_docset_deref(ds, ct_obj_get(root, "r1"), &dg), "x"));
    assert_non_null(ct_obj_get(ct_docset_deref(ds, ct_obj_get(root, "r2"), &dg), "y"));
    assert_non_null(ct_obj_get(ct_docset_deref(ds, ct_obj_get(root, "r3"), &dg), "z"));
    assert_int_equal(dg.n, 0);
    ct_diags_deinit(&dg);
    ct_docset_free(ds);
}

static void test_ref_loads_relative_files_once(void **state)
{
    static const char *const files[] = {
        "specs/root.yaml",
        "a: {$ref: 'parts/s.yaml#/S'}\nb: {$ref: './parts/s.yaml#/T'}\n",
        "specs/parts/s.yaml",
        "S: {type: string}\nT: {$ref: '../common.json#/U'}\n",
        "specs/common.json",
        "{\"U\": {\"type\": \"integer\"}}",
        NULL};
    struct ct_docset *ds = mem_docset(files);
    struct ct_diags dg;
    ct_diags_init(&dg);
    struct ct_node *root = ct_docset_load(ds, "specs/root.yaml", &dg);
    assert_int_equal(ct_docset_check_refs(ds, root, &dg), 0);
    struct ct_node *b = ct_docset_deref(ds, ct_obj_get(root, "b"), &dg);
    assert_string_equal(ct_obj_str(b, "type"), "integer");
    assert_string_equal(b->src->name, "specs/common.json");
    unsigned nfiles;
    size_t bytes;
    ct_docset_stats(ds, &nfiles, &bytes);
    assert_int_equal(nfiles, 3);
    ct_diags_deinit(&dg);
    ct_docset_free(ds);
}

static void test_ref_to_itself_loads_without_looping(void **state)
{
    static const char *const files[] = {
        "t.yaml",
        "Node:\n  type: object\n  properties:\n    children:\n      type: array\n"
        "      items: {$ref: '#/Node'}\n",
        NULL};
    struct ct_docset *ds = mem_docset(files);
    struct ct_diags dg;
    ct_diags_init(&dg);
    struct ct_node *root = ct_docset_load(ds, "t.yaml", &dg);
    assert_int_equal(ct_docset_check_refs(ds, root, &dg), 0);
    struct ct_node *items = ct_pointer_get(root, "/Node/properties/children/items", 31, false);
    assert_ptr_equal(ct_docset_deref(ds, items, &dg), ct_obj_get(root, "Node"));
    ct_diags_deinit(&dg);
    ct_docset_free(ds);
}

static void test_ref_chain_cycle_is_an_error(void **state)
{
    static const char *const files[] = {"t.yaml", "a: {$ref: '#/b'}\nb: {$ref: '#/a'}\n", NULL};
    struct ct_docset *ds = mem_docset(files);
    struct ct_diags dg;
    ct_diags_init(&dg);
    struct ct_node *root = ct_docset_load(ds, "t.yaml", &dg);
    assert_null(ct_docset_deref(ds, ct_obj_get(root, "a"), &dg));
    assert_non_null(strstr(dg.v[0].msg, "circular"));
    ct_diags_deinit(&dg);
    ct_docset_free(ds);
}

static void test_unresolvable_ref_is_located_at_the_ref_with_hint(void **state)
{
    static const char *const files[] = {
        "t.yaml",
        "components:\n  schemas:\n    Prompt: {type: object}\nx:\n  $ref: "
        "'#/components/schemas/Promt'\n",
        NULL};
    struct ct_docset *ds = mem_docset(files);
    struct ct_diags dg;
    ct_diags_init(&dg);
    struct ct_node *root = ct_docset_load(ds, "t.yaml", &dg);
    assert_int_equal(ct_docset_check_refs(ds, root, &dg), 1);
    assert_int_equal(dg.v[0].code, CT_E_REF);
    assert_int_equal(dg.v[0].line, 5);
    assert_int_equal(dg.v[0].col, 9);
    assert_non_null(strstr(dg.v[0].msg, "'Promt' not found"));
    assert_string_equal(dg.v[0].hint, "did you mean 'Prompt'?");
    ct_diags_deinit(&dg);
    ct_docset_free(ds);
}

static void test_missing_file_ref_names_the_file(void **state)
{
    static const char *const files[] = {"t.yaml", "x: {$ref: 'nope.yaml#/A'}\n", NULL};
    struct ct_docset *ds = mem_docset(files);
    struct ct_diags dg;
    ct_diags_init(&dg);
    struct ct_node *root = ct_docset_load(ds, "t.yaml", &dg);
    assert_int_equal(ct_docset_check_refs(ds, root, &dg), 1);
    assert_non_null(strstr(dg.v[0].msg, "cannot read 'nope.yaml'"));
    assert_int_equal(dg.v[0].line, 1);
    ct_diags_deinit(&dg);
    ct_docset_free(ds);
}

static void test_refs_inside_examples_and_extensions_are_data(void **state)
{
    static const char *const files[] = {
        "t.yaml",
        "example: {$ref: '#/nowhere'}\nx-tool: {$ref: '#/nowhere'}\nenum: [{$ref: '#/no'}]\n"
        "s: {$ref: '#/s2', description: sibling kept}\ns2: {type: string}\n",
        NULL};
    struct ct_docset *ds = mem_docset(files);
    struct ct_diags dg;
    ct_diags_init(&dg);
    struct ct_node *root = ct_docset_load(ds, "t.yaml", &dg);
    assert_int_equal(ct_docset_check_refs(ds, root, &dg), 0);
    /* A $ref with siblings resolves; the siblings stay on the referring node. */
    assert_string_equal(ct_obj_str(ct_obj_get(root, "s"), "description"), "sibling kept");
    ct_diags_deinit(&dg);
    ct_docset_free(ds);
}

static void test_remote_ref_is_refused_with_hint(void **state)
{
    static const char *const files[] = {"t.yaml", "x: {$ref: 'https://example.com/a.yaml'}\n",
                                        NULL};
    struct ct_docset *ds = mem_docset(files);
    struct ct_diags dg;
    ct_diags_init(&dg);
    struct ct_node *root = ct_docset_load(ds, "t.yaml", &dg);
    assert_null(ct_docset_deref(ds, ct_obj_get(root, "x"), &dg));
    assert_non_null(strstr(dg.v[0].msg, "not fetched"));
    ct_diags_deinit(&dg);
    ct_docset_free(ds);
}

int main(void)
{
    tu_use_cmocka_alloc();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ref_resolves_local_pointer_with_escapes),
        cmocka_unit_test(test_ref_loads_relative_files_once),
        cmocka_unit_test(test_ref_to_itself_loads_without_looping),
        cmocka_unit_test(test_ref_chain_cycle_is_an_error),
        cmocka_unit_test(test_unresolvable_ref_is_located_at_the_ref_with_hint),
        cmocka_unit_test(test_missing_file_ref_names_the_file),
        cmocka_unit_test(test_refs_inside_examples_and_extensions_are_data),
        cmocka_unit_test(test_remote_ref_is_refused_with_hint),
    };
    return cmocka_run_group_tests_name("docset", tests, NULL, NULL);
}
