/* validate.c - `runner validate`: compile one schema and validate instance files against it.
 *
 *   runner validate [options] (--schema FILE | --spec SPEC --ref POINTER) INSTANCE...
 *
 * The schema comes from a schema file (dialect from `$schema`, else --dialect, else 2020-12) or
 * from a node inside an OpenAPI document (3.0 documents use the OpenAPI 3.0 dialect, 3.1 ones
 * 2020-12 or their `jsonSchemaDialect`). Every error is reported with the schema keyword's
 * file:line:col and a note at the instance value's own file:line:col. */
#include "validate.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/diag.h"
#include "core/err.h"
#include "json/node.h"
#include "openapi/docset.h"
#include "schema/schema.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_VALID = 0, EXIT_INVALID = 1, EXIT_USAGE = 2, EXIT_BROKEN = 3 };

#define MAX_REMOTES 16

static void usage(FILE *f)
{
    fprintf(f,
            "usage: runner validate [options] (--schema FILE | --spec SPEC --ref POINTER) "
            "INSTANCE...\n"
            "\n"
            "options:\n"
            "  --schema FILE         the JSON Schema (JSON or YAML)\n"
            "  --spec SPEC           an OpenAPI document holding the schema\n"
            "  --ref POINTER         the schema's JSON Pointer in SPEC, e.g.\n"
            "                        '#/components/schemas/Pet'\n"
            "  --dialect D           draft4, draft6, draft7, 2019-09, 2020-12, oas30, oas31\n"
            "                        (default: from $schema or the OpenAPI version, else "
            "2020-12)\n"
            "  --direction D         request or response: readOnly/writeOnly checks\n"
            "  --first-error         stop at the first error (default: report all)\n"
            "  --no-format-assert    treat 'format' as an annotation (default: assert)\n"
            "  --remote URL=DIR      load $ref URLs starting with URL from DIR (repeatable)\n"
            "\n"
            "exit status: 0 all valid, 1 an instance is invalid, 2 usage, 3 broken schema or "
            "input\n");
}

static void flush_diags(struct ct_diags *d)
{
    struct ct_buf out;
    ct_buf_init(&out, 0);
    ct_diags_render(d, &out, isatty(2));
    fputs(ct_buf_cstr(&out), stderr);
    ct_buf_deinit(&out);
    ct_diags_clear(d);
}

/* The dialect an OpenAPI document implies for its schemas. */
static enum ct_dialect spec_dialect(const struct ct_node *root)
{
    const char *v = ct_obj_str(root, "openapi");
    if (v && !strncmp(v, "3.0", 3))
        return CT_DIALECT_OAS30;
    const char *jd = ct_obj_str(root, "jsonSchemaDialect");
    if (jd && strstr(jd, "draft/2019-09"))
        return CT_DIALECT_2019_09;
    if (jd && strstr(jd, "draft-07"))
        return CT_DIALECT_DRAFT7;
    return CT_DIALECT_OAS31;
}

int runner_cmd_validate(int argc, char **argv)
{
    const char *schema_path = NULL, *spec_path = NULL, *ref = NULL;
    struct ct_schema_opts opts = {0};
    opts.all_errors = true;
    opts.format_assert = true;
    opts.instance_notes = true;
    bool dialect_given = false;
    struct ct_schema_remote remotes[MAX_REMOTES];
    char *remote_bufs[MAX_REMOTES] = {0};
    size_t nremotes = 0;
    int first_instance = argc;
    int rc = EXIT_VALID;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            rc = EXIT_VALID;
            goto out;
        } else if (!strcmp(a, "--schema") && val) {
            schema_path = val;
            i++;
        } else if (!strcmp(a, "--spec") && val) {
            spec_path = val;
            i++;
        } else if (!strcmp(a, "--ref") && val) {
            ref = val;
            i++;
        } else if (!strcmp(a, "--dialect") && val) {
            if (!ct_dialect_parse(val, &opts.dialect)) {
                fprintf(stderr, "runner validate: unknown dialect '%s': expected draft4, draft6, "
                                "draft7, 2019-09, 2020-12, oas30 or oas31\n",
                        val);
                rc = EXIT_USAGE;
                goto out;
            }
            dialect_given = true;
            i++;
        } else if (!strcmp(a, "--direction") && val) {
            if (!strcmp(val, "request")) {
                opts.direction = CT_DIR_REQUEST;
            } else if (!strcmp(val, "response")) {
                opts.direction = CT_DIR_RESPONSE;
            } else {
                fprintf(stderr, "runner validate: --direction expects 'request' or 'response', "
                                "got '%s'\n",
                        val);
                rc = EXIT_USAGE;
                goto out;
            }
            i++;
        } else if (!strcmp(a, "--first-error")) {
            opts.all_errors = false;
        } else if (!strcmp(a, "--no-format-assert")) {
            opts.format_assert = false;
        } else if (!strcmp(a, "--remote") && val) {
            const char *eq = strchr(val, '=');
            if (!eq || eq == val || !eq[1] || nremotes == MAX_REMOTES) {
                fprintf(stderr, "runner validate: --remote expects URL=DIR (at most %d), got "
                                "'%s'\n",
                        MAX_REMOTES, val);
                rc = EXIT_USAGE;
                goto out;
            }
            remote_bufs[nremotes] = ct_xstrdup(val);
            remote_bufs[nremotes][eq - val] = 0;
            remotes[nremotes].prefix = remote_bufs[nremotes];
            remotes[nremotes].dir = remote_bufs[nremotes] + (eq - val) + 1;
            nremotes++;
            i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "runner validate: unknown option '%s' (or missing argument)\n", a);
            usage(stderr);
            rc = EXIT_USAGE;
            goto out;
        } else {
            first_instance = i;
            break;
        }
    }
    if (!!schema_path == !!spec_path || (spec_path && !ref) || first_instance >= argc) {
        fprintf(stderr, "runner validate: expected --schema FILE or --spec SPEC --ref POINTER, "
                        "and at least one INSTANCE\n");
        usage(stderr);
        rc = EXIT_USAGE;
        goto out;
    }
    opts.remotes = remotes;
    opts.nremotes = nremotes;

    struct ct_diags diags;
    ct_diags_init(&diags);
    struct ct_docset *ds = ct_docset_new(NULL);
    struct ct_docset *ids = ct_docset_new(NULL);
    struct ct_schema *schema = NULL;
    const struct ct_node *root = ct_docset_load(ds, schema_path ? schema_path : spec_path, &diags);
    const struct ct_node *node = root;
    if (root && spec_path) {
        if (!dialect_given)
            opts.dialect = spec_dialect(root);
        const char *p = ref[0] == '#' ? ref + 1 : ref;
        node = ct_pointer_get(root, p, strlen(p), true);
        if (!node)
            ct_diags_add(&diags, CT_SEV_ERROR, CT_E_REF, root->src, root->line, root->col,
                         "--ref '%s': no such node in %s", ref, spec_path);
    }
    if (node)
        schema = ct_schema_compile(ds, node, &opts, &diags);
    if (!schema) {
        flush_diags(&diags);
        rc = EXIT_BROKEN;
        goto done;
    }
    flush_diags(&diags); /* warnings */
    struct ct_vctx *vc = ct_vctx_new();
    for (int i = first_instance; i < argc; i++) {
        const struct ct_node *in = ct_docset_load(ids, argv[i], &diags);
        if (!in) {
            flush_diags(&diags);
            printf("%s: broken input\n", argv[i]);
            rc = EXIT_BROKEN;
            continue;
        }
        if (ct_schema_validate_ex(schema, vc, in, &diags)) {
            printf("%s: valid\n", argv[i]);
        } else {
            size_t n = diags.nerrors;
            flush_diags(&diags);
            printf("%s: invalid (%zu error%s)\n", argv[i], n, n == 1 ? "" : "s");
            if (rc == EXIT_VALID)
                rc = EXIT_INVALID;
        }
    }
    ct_vctx_free(vc);
done:
    ct_schema_free(schema);
    ct_docset_free(ids);
    ct_docset_free(ds);
    ct_diags_deinit(&diags);
out:
    for (size_t i = 0; i < nremotes; i++)
        ct_free(remote_bufs[i]);
    return rc;
}
