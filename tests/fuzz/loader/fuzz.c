/* Fuzz target: the document loader (JSON and YAML parsers, then the OpenAPI model and $ref
 * checks). Any input must give a tree or located diagnostics, never a crash, leak or hang. */
#include "core/alloc.h"
#include "core/err.h"
#include "openapi/model.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int no_files(void *ud, const char *path, char **text, size_t *len)
{
    return CT_E_NOTFOUND; /* the fuzzer never reads the file system */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ct_docset_opts o = {.read = no_files, .limits = {.max_depth = 64, .max_nodes = 100000}};
    struct ct_docset *ds = ct_docset_new(&o);
    struct ct_diags diags;
    ct_diags_init(&diags);
    struct ct_node *root = ct_docset_load_text(ds, "fuzz", (const char *)data, size, &diags);
    if (root) {
        ct_docset_check_refs(ds, root, &diags);
        struct ct_oas *oas = ct_oas_build(ds, root, &diags);
        struct ct_buf b;
        ct_buf_init(&b, 0);
        ct_json_emit(root, &b, false);
        ct_yaml_emit(root, &b);
        (void)oas;
        ct_buf_deinit(&b);
    }
    struct ct_buf out;
    ct_buf_init(&out, 0);
    ct_diags_render(&diags, &out, false);
    ct_buf_deinit(&out);
    ct_diags_deinit(&diags);
    ct_docset_free(ds);
    return 0;
}
