/* Fuzz target: the schema compiler and validator over (schema, instance) pairs. The input is a
 * schema document, a NUL byte, then an instance document (no NUL: the instance is `null`).
 * Any input must give a verdict or located diagnostics, never a crash, leak or hang; it runs
 * once in first-error mode and once collecting all errors. */
#include "core/alloc.h"
#include "core/err.h"
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
    if (size > 16384)
        return 0;
    const char *text = (const char *)data;
    const char *nul = memchr(text, 0, size);
    size_t slen = nul ? (size_t)(nul - text) : size;
    const char *inst = nul ? nul + 1 : "null";
    size_t ilen = nul ? size - slen - 1 : 4;
    struct ct_docset_opts o = {.read = no_files, .limits = {.max_depth = 64, .max_nodes = 100000}};
    struct ct_docset *ds = ct_docset_new(&o);
    struct ct_diags diags;
    ct_diags_init(&diags);
    const struct ct_node *sch = ct_docset_load_text(ds, "schema.json", text, slen, &diags);
    const struct ct_node *in = ct_docset_load_text(ds, "instance.json", inst, ilen, &diags);
    static const struct ct_schema_remote remote = {"http://localhost:1234/", "remotes"};
    /* The first byte picks the dialect, so the corpus covers all of them. */
    struct ct_schema_opts opts = {.dialect = (enum ct_dialect)(size ? data[0] % 8 : 0),
                                  .format_assert = true, .remotes = &remote, .nremotes = 1};
    struct ct_schema *s = sch ? ct_schema_compile(ds, sch, &opts, &diags) : NULL;
    if (s && in) {
        struct ct_vctx *vc = ct_vctx_new();
        struct ct_vopts first = {CT_DIR_REQUEST, false, true};
        struct ct_vopts all = {CT_DIR_RESPONSE, true, false};
        bool a = ct_schema_validate_opts(s, vc, in, &first, &diags);
        bool b = ct_schema_validate_opts(s, vc, in, &all, &diags);
        (void)a;
        (void)b;
        ct_vctx_free(vc);
    }
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_diags_render(&diags, &b, false);
    ct_buf_deinit(&b);
    ct_schema_free(s);
    ct_diags_deinit(&diags);
    ct_docset_free(ds);
    return 0;
}
