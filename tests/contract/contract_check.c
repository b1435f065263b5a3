/* contract_check.c - the contract checks itself: loads an OpenAPI document (and optionally an
 * AsyncAPI document) with the project's own loader, validates the OpenAPI document against the
 * official OAS document schema (when ../shared is there), and validates every example against
 * its schema with the project's validator. Output is TAP, one line per check.
 *
 * usage: contract_check OPENAPI [--asyncapi FILE] [--oas-schema FILE]
 * A broken example makes it fail (tests/data/contract/ has such a document: the test that runs
 * on it expects failure). */
#include "core/alloc.h"
#include "core/fs.h"
#include "openapi/model.h"
#include "schema/schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int n, failed;

static void tap(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(bool ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s %d - ", ok ? "ok" : "not ok", ++n);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!ok)
        failed++;
}

static void print_diags(const struct ct_diags *d)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_diags_render(d, &b, false);
    for (char *line = b.ptr; line && *line;) {
        char *nl = strchr(line, '\n');
        printf("# %.*s\n", (int)(nl ? nl - line : (long)strlen(line)), line);
        line = nl ? nl + 1 : NULL;
    }
    ct_buf_deinit(&b);
}

/* Validate one example value against a schema node. */
static void check_example(struct ct_schema_set *set, const struct ct_node *schema,
                          const struct ct_node *value, enum ct_direction dir, const char *what)
{
    struct ct_diags d;
    ct_diags_init(&d);
    const struct ct_schema *s = ct_schema_set_get(set, schema, &d);
    bool ok = false;
    if (s) {
        struct ct_vopts vo = {.direction = dir, .all_errors = true};
        ok = ct_schema_validate_opts(s, NULL, value, &vo, &d);
    }
    tap(ok, "%s (line %u) matches its schema", what, value->line);
    if (!ok)
        print_diags(&d);
    ct_diags_deinit(&d);
}

static void check_media(struct ct_docset *ds, struct ct_schema_set *set,
                        const struct ct_oas_media *m, enum ct_direction dir, const char *where)
{
    if (!m->schema)
        return;
    char what[512];
    if (m->example) {
        snprintf(what, sizeof(what), "%s %s example", where, m->type);
        check_example(set, m->schema, m->example, dir, what);
    }
    for (uint32_t i = 0; m->examples && i < m->examples->len; i++) {
        const struct ct_node *ex = ct_docset_deref(ds, m->examples->u.members[i].val, NULL);
        const struct ct_node *v = ct_obj_get(ex, "value");
        if (!v)
            continue;
        snprintf(what, sizeof(what), "%s %s example '%s'", where, m->type,
                 m->examples->u.members[i].key->u.str);
        check_example(set, m->schema, v, dir, what);
    }
}

static void check_openapi(const char *path, const char *oas_schema)
{
    struct ct_diags d;
    ct_diags_init(&d);
    struct ct_docset *ds = NULL;
    struct ct_oas *oas = ct_oas_load(path, NULL, &ds, &d);
    tap(oas != NULL, "%s loads with the project's loader", path);
    if (!oas) {
        print_diags(&d);
        ct_diags_deinit(&d);
        ct_docset_free(ds);
        return;
    }
    if (oas_schema) {
        if (access(oas_schema, R_OK) != 0) {
            printf("ok %d - # SKIP %s absent: document schema check skipped\n", ++n, oas_schema);
        } else {
            struct ct_diags sd;
            ct_diags_init(&sd);
            struct ct_node *sroot = ct_docset_load(ds, oas_schema, &sd);
            struct ct_schema_opts so = {.dialect = CT_DIALECT_2020_12, .all_errors = true};
            struct ct_schema *s = sroot ? ct_schema_compile(ds, sroot, &so, &sd) : NULL;
            bool ok = s && ct_schema_validate(s, oas->root, &sd);
            tap(ok, "%s validates against the official OAS document schema", path);
            if (!ok)
                print_diags(&sd);
            ct_schema_free(s);
            ct_diags_deinit(&sd);
        }
    }
    struct ct_schema_opts so = {.dialect = oas->minor == 0 ? CT_DIALECT_OAS30 : CT_DIALECT_OAS31,
                                .format_assert = true,
                                .all_errors = true};
    struct ct_schema_set *set = ct_schema_set_new(ds, &so);
    for (unsigned i = 0; i < oas->nops; i++) {
        const struct ct_oas_op *op = &oas->ops[i];
        char where[300];
        for (unsigned k = 0; k < op->nbody; k++) {
            snprintf(where, sizeof(where), "%s request", op->operation_id ? op->operation_id : op->path);
            check_media(ds, set, &op->body[k], CT_DIR_REQUEST, where);
        }
        for (unsigned r = 0; r < op->nresponses; r++)
            for (unsigned k = 0; k < op->responses[r].nmedia; k++) {
                snprintf(where, sizeof(where), "%s %s", op->operation_id ? op->operation_id : op->path,
                         op->responses[r].status);
                check_media(ds, set, &op->responses[r].media[k], CT_DIR_RESPONSE, where);
            }
        for (unsigned p = 0; p < op->nparams; p++) {
            const struct ct_node *ex = ct_obj_get(op->params[p].node, "example");
            if (ex && op->params[p].schema) {
                snprintf(where, sizeof(where), "%s parameter '%s' example",
                         op->operation_id ? op->operation_id : op->path, op->params[p].name);
                check_example(set, op->params[p].schema, ex, CT_DIR_REQUEST, where);
            }
        }
    }
    ct_schema_set_free(set);
    ct_diags_deinit(&d);
    ct_docset_free(ds);
}

static void check_asyncapi(const char *path)
{
    struct ct_diags d;
    ct_diags_init(&d);
    struct ct_docset *ds = ct_docset_new(NULL);
    struct ct_node *root = ct_docset_load(ds, path, &d);
    bool ok = root && ct_docset_check_refs(ds, root, &d) == 0;
    const char *ver = ct_obj_str(root, "asyncapi");
    tap(ok && ver && !strncmp(ver, "3.", 2), "%s loads as AsyncAPI 3.x with every $ref resolved",
        path);
    if (!ok) {
        print_diags(&d);
        goto out;
    }
    struct ct_schema_opts so = {.dialect = CT_DIALECT_2020_12, .format_assert = true,
                                .all_errors = true};
    struct ct_schema_set *set = ct_schema_set_new(ds, &so);
    const struct ct_node *msgs = ct_pointer_get(root, "/components/messages", 20, false);
    unsigned nmsg = 0;
    for (uint32_t i = 0; msgs && i < msgs->len; i++) {
        const struct ct_node *msg = ct_docset_deref(ds, msgs->u.members[i].val, &d);
        const struct ct_node *payload = ct_obj_get(msg, "payload");
        const struct ct_node *exs = ct_obj_get(msg, "examples");
        nmsg++;
        tap(payload != NULL, "message '%s' has a payload schema", msgs->u.members[i].key->u.str);
        tap(exs && exs->kind == CT_ARRAY && exs->len > 0, "message '%s' has examples",
            msgs->u.members[i].key->u.str);
        for (uint32_t k = 0; payload && exs && exs->kind == CT_ARRAY && k < exs->len; k++) {
            const struct ct_node *v = ct_obj_get(exs->u.items[k], "payload");
            if (!v)
                continue;
            char what[300];
            snprintf(what, sizeof(what), "message '%s' example %u", msgs->u.members[i].key->u.str,
                     k + 1);
            check_example(set, payload, v, CT_DIR_NONE, what);
        }
    }
    tap(nmsg > 0, "%s defines messages (%u)", path, nmsg);
    ct_schema_set_free(set);
out:
    ct_diags_deinit(&d);
    ct_docset_free(ds);
}

int main(int argc, char **argv)
{
    const char *openapi = NULL, *asyncapi = NULL, *oas_schema = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--asyncapi") && i + 1 < argc)
            asyncapi = argv[++i];
        else if (!strcmp(argv[i], "--oas-schema") && i + 1 < argc)
            oas_schema = argv[++i];
        else
            openapi = argv[i];
    }
    if (!openapi) {
        fprintf(stderr, "usage: contract_check OPENAPI [--asyncapi FILE] [--oas-schema FILE]\n");
        return 2;
    }
    check_openapi(openapi, oas_schema);
    if (asyncapi)
        check_asyncapi(asyncapi);
    printf("1..%d\n", n);
    return failed ? 1 : 0;
}
