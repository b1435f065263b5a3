/* Fuzz target: the instance generator over fuzzed schemas. The input is a schema document; the
 * sum of its bytes also picks the options (OpenAPI 3.0 or 3.1 rules, direction, seed, examples).
 * Any schema must give an instance or a located diagnostic, never a crash, leak or hang, and an
 * instance the validator (same dialect, formats asserted) rejects is a bug: the target traps. */
#include "core/alloc.h"
#include "core/err.h"
#include "gen/gen.h"
#include "openapi/docset.h"
#include "schema/schema.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int no_files(void *ud, const char *path, char **text, size_t *len)
{
    return CT_E_NOTFOUND; /* the fuzzer never reads the file system */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384) return 0;
    struct ct_docset_opts o = {.read = no_files, .limits = {.max_depth = 64, .max_nodes = 100000}};
    struct ct_docset *ds = ct_docset_new(&o);
    struct ct_diags diags;
    ct_diags_init(&diags);
    const struct ct_node *sch =
        ct_docset_load_text(ds, "schema.json", (const char *)data, size, &diags);
    /* Options from the sum of the bytes: a JSON text always starts with the same few bytes,
     * and whitespace lets the fuzzer (and the corpus) reach every combination. */
    uint8_t b0 = 0;
    for (size_t i = 0; i < size; i++)
        b0 = (uint8_t)(b0 + data[i]);
    bool oas30 = b0 & 1;
    struct ct_schema_opts so = {.dialect = oas30 ? CT_DIALECT_OAS30 : CT_DIALECT_OAS31,
                                .format_assert = true};
    struct ct_schema *s = sch ? ct_schema_compile(ds, sch, &so, &diags) : NULL;
    if (s) {
        struct ct_arena arena;
        ct_arena_init(&arena, 4096);
        struct ct_gen_opts go = {.seed = b0 >> 3,
                                 .direction = (enum ct_direction)((b0 >> 1) % 3),
                                 .oas30 = oas30,
                                 .prefer_examples = (b0 >> 7) & 1};
        const struct ct_node *inst = ct_gen_instance(ds, sch, &go, &arena, &diags);
        if (inst) {
            struct ct_vopts vo = {.direction = go.direction, .all_errors = true};
            size_t before = diags.n;
            if (!ct_schema_validate_opts(s, NULL, inst, &vo, &diags)) {
                /* A pattern that reaches the validator's backtracking limit fails every match
                 * it gives up on (a documented limit, not a wrong instance); anything else is
                 * the generator's one promise broken. */
                bool only_limits = diags.n > before;
                for (size_t i = before; i < diags.n; i++)
                    if (diags.v[i].sev == CT_SEV_ERROR &&
                        !strstr(diags.v[i].msg, "(match limit reached)"))
                        only_limits = false;
                if (!only_limits)
                    __builtin_trap();
            }
        }
        ct_arena_deinit(&arena);
    }
    ct_schema_free(s);
    ct_diags_deinit(&diags);
    ct_docset_free(ds);
    return 0;
}
