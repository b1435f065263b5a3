/* gen_suite.c - the generator against every schema of the official JSON-Schema-Test-Suite.
 *
 * The suite's schemas are small and adversarial (contradictions, unusual keyword mixes), which
 * makes them a good soak for the generator's one promise: whatever it returns is valid. For each
 * test group of draft4 (generated with OpenAPI 3.0 semantics, which are draft 4's plus
 * `nullable`) and draft2020-12 (OpenAPI 3.1 semantics), three seeds are generated and each
 * instance validated with lib/schema. Three outcomes:
 *   valid    - good
 *   refused  - NULL with a diagnostic: fine for a contradictory schema; counted as "missed" when
 *              the suite shows the schema has a valid instance (reported, not a failure)
 *   invalid  - a returned instance the validator rejects: always a failure
 * Groups whose schema the validator cannot compile, or that need remote references (the
 * generator resolves through the docset only), are skipped.
 *
 * usage: gen_suite SUITE_DIR   (TAP; "1..0 # SKIP" when SUITE_DIR is absent) */
#include "core/alloc.h"
#include "core/fs.h"
#include "gen/gen.h"
#include "openapi/docset.h"
#include "schema/schema.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **list_json(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char **v = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".json")) {
            v = ct_xgrow(v, &cap, *n + 1, sizeof(*v));
            v[(*n)++] = ct_xstrdup(e->d_name);
        }
    }
    closedir(d);
    if (*n) qsort(v, *n, sizeof(*v), cmp_str);
    return v;
}

struct tally {
    unsigned groups, skipped, valid, refused, missed, invalid;
};

static bool uses_remote(const char *json)
{
    return strstr(json, "http://localhost:1234") || strstr(json, "$dynamicRef") ||
           strstr(json, "$recursiveRef") || strstr(json, "\"$id\"") || strstr(json, "\"id\"") ||
           strstr(json, "$anchor");
}

static void run_file(const char *suite, const char *draft, const char *file, struct tally *t)
{
    char *path = ct_xasprintf("%s/tests/%s/%s", suite, draft, file);
    char *text = NULL;
    size_t len = 0;
    if (ct_fs_read(path, 0, &text, &len)) {
        ct_free(path);
        return;
    }
    bool oas30 = !strcmp(draft, "draft4");
    struct ct_source src = {path, text, len};
    struct ct_arena arena, out;
    ct_arena_init(&arena, 1 << 16);
    ct_arena_init(&out, 1 << 14);
    struct ct_diags diags;
    ct_diags_init(&diags);
    struct ct_node *root = ct_json_parse(&arena, &src, NULL, &diags);
    for (uint32_t g = 0; root && g < root->len; g++) {
        const struct ct_node *grp = root->u.items[g];
        const struct ct_node *tests = ct_obj_get(grp, "tests");
        struct ct_buf sb;
        ct_buf_init(&sb, 0);
        ct_json_emit(ct_obj_get(grp, "schema"), &sb, true);
        t->groups++;
        if (uses_remote(ct_buf_cstr(&sb))) {
            t->skipped++;
            ct_buf_deinit(&sb);
            continue;
        }
        struct ct_docset *ds = ct_docset_new(NULL);
        char *name = ct_xasprintf("%s/%s.%u.json", draft, file, g);
        struct ct_diags cd;
        ct_diags_init(&cd);
        const struct ct_node *sch = ct_docset_load_text(ds, name, ct_buf_cstr(&sb), sb.len, &cd);
        struct ct_schema_opts opts = {.dialect = oas30 ? CT_DIALECT_DRAFT4 : CT_DIALECT_2020_12,
                                      .format_assert = true};
        struct ct_schema *s = sch ? ct_schema_compile(ds, sch, &opts, &cd) : NULL;
        if (!s) {
            t->skipped++;
        } else {
            bool satisfiable = false;
            for (uint32_t k = 0; tests && k < tests->len; k++)
                satisfiable |= ct_obj_true(tests->u.items[k], "valid");
            for (uint64_t seed = 1; seed <= 3; seed++) {
                struct ct_gen_opts o = {.seed = seed, .oas30 = oas30};
                struct ct_diags gd;
                ct_diags_init(&gd);
                const struct ct_node *inst = ct_gen_instance(ds, sch, &o, &out, &gd);
                if (!inst) {
                    t->refused++;
                    if (satisfiable) {
                        t->missed++;
                        printf("# missed (schema has valid instances): %s | %s: %s\n", draft,
                               ct_obj_str(grp, "description"), gd.n ? gd.v[0].msg : "");
                    }
                } else if (ct_schema_validate(s, inst, &gd)) {
                    t->valid++;
                } else {
                    t->invalid++;
                    struct ct_buf ib;
                    ct_buf_init(&ib, 0);
                    ct_json_emit(inst, &ib, false);
                    printf("# INVALID %s/%s | %s | seed %llu: %.300s\n#   %s\n#   schema: %.400s\n",
                           draft, file, ct_obj_str(grp, "description"), (unsigned long long)seed,
                           ct_buf_cstr(&ib), gd.n ? gd.v[0].msg : "", ct_buf_cstr(&sb));
                    ct_buf_deinit(&ib);
                }
                ct_diags_deinit(&gd);
                ct_arena_reset(&out);
            }
        }
        ct_schema_free(s);
        ct_diags_deinit(&cd);
        ct_free(name);
        ct_buf_deinit(&sb);
        ct_docset_free(ds);
    }
    ct_diags_deinit(&diags);
    ct_arena_deinit(&arena);
    ct_arena_deinit(&out);
    ct_free(text);
    ct_free(path);
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "../shared/JSON-Schema-Test-Suite";
    struct stat st;
    if (stat(suite, &st) || !S_ISDIR(st.st_mode)) {
        printf("1..0 # SKIP JSON-Schema-Test-Suite not found at %s\n", suite);
        return 0;
    }
    static const char *const drafts[] = {"draft4", "draft2020-12"};
    printf("1..2\n");
    int failed = 0;
    for (size_t d = 0; d < 2; d++) {
        struct tally t = {0};
        char *dir = ct_xasprintf("%s/tests/%s", suite, drafts[d]);
        size_t n;
        char **names = list_json(dir, &n);
        for (size_t i = 0; i < n; i++) {
            run_file(suite, drafts[d], names[i], &t);
            ct_free(names[i]);
        }
        ct_free(names);
        ct_free(dir);
        printf("%s %zu - %s: %u groups (%u skipped), %u valid, %u refused (%u of them on "
               "satisfiable schemas), %u invalid\n",
               t.invalid ? "not ok" : "ok", d + 1, drafts[d], t.groups, t.skipped, t.valid,
               t.refused, t.missed, t.invalid);
        failed += t.invalid != 0;
    }
    return failed ? 1 : 0;
}
