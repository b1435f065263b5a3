/* Fuzz target: the scenario parser and checker (YAML/JSON text -> nodes -> scenario model ->
 * checks against a small built-in contract), plus the template, variable and path languages on
 * every string. Any input must give a model or located diagnostics, never a crash, leak or
 * hang. */
#include "core/alloc.h"
#include "core/err.h"
#include "openapi/model.h"
#include "openapi/router.h"
#include "scenario/scenario.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char SPEC[] = "openapi: 3.1.0\n"
                           "info: {title: fuzz, version: '1'}\n"
                           "paths:\n"
                           "  /items/{id}:\n"
                           "    get:\n"
                           "      operationId: getItem\n"
                           "      parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n"
                           "      responses: {'200': {description: ok}}\n"
                           "  /items:\n"
                           "    post:\n"
                           "      operationId: createItem\n"
                           "      requestBody: {content: {application/json: {schema: {type: object}}}}\n"
                           "      responses: {'201': {description: created}}\n";

static bool any_regex(void *ud, const char *re, size_t len, char **msg, size_t *off)
{
    (void)ud;
    (void)re;
    (void)len;
    (void)msg;
    (void)off;
    return true;
}

/* The small languages inside strings, on every string of the document. */
static void walk(const struct ct_node *n)
{
    if (n->kind == CT_STRING) {
        size_t pos = 0;
        struct ct_tpl_part p;
        while (ct_tpl_next(n->u.str, n->len, &pos, &p) > 0) {
            struct ct_var_ref r;
            const char *e;
            if (p.var)
                ct_var_ref_parse(p.ptr, p.len, &r, &e);
        }
        struct ct_buf b;
        ct_buf_init(&b, 0);
        size_t off;
        const char *e;
        ct_scen_path_parse(n->u.str, n->len, &b, &e, &off);
        ct_buf_deinit(&b);
    } else if (n->kind == CT_ARRAY) {
        for (uint32_t i = 0; i < n->len; i++)
            walk(n->u.items[i]);
    } else if (n->kind == CT_OBJECT) {
        for (uint32_t i = 0; i < n->len; i++) {
            walk(n->u.members[i].key);
            walk(n->u.members[i].val);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ct_docset *ds;
    static struct ct_oas *oas;
    static struct ct_router *router;
    if (!ds) {
        /* The contract is built once and kept: the target fuzzes scenarios, not specs. */
        struct ct_diags d;
        ct_diags_init(&d);
        ds = ct_docset_new(NULL);
        const struct ct_node *root = ct_docset_load_text(ds, "spec.yaml", SPEC, strlen(SPEC), &d);
        oas = root ? ct_oas_build(ds, root, &d) : NULL;
        router = oas ? ct_router_new(oas) : NULL;
        ct_diags_deinit(&d);
    }
    struct ct_arena a;
    ct_arena_init(&a, 4096);
    struct ct_diags diags;
    ct_diags_init(&diags);
    /* The parsers read the text up to a terminating NUL, as every caller of lib/ gives them. */
    char *text = ct_xstrndup((const char *)data, size);
    struct ct_source src = {.name = "fuzz.yaml", .text = text, .len = size};
    struct ct_scen *s = ct_scen_parse_text(&a, &src, &diags);
    if (s) {
        walk(s->root);
        struct ct_scen_env env = {.oas = oas, .router = router, .regex_check = any_regex};
        ct_scen_check(s, &env, &diags);
        ct_scen_has_tag(s, "x");
    }
    struct ct_buf out;
    ct_buf_init(&out, 0);
    ct_diags_render(&diags, &out, false);
    ct_buf_deinit(&out);
    ct_diags_deinit(&diags);
    ct_arena_deinit(&a);
    ct_free(text);
    return 0;
}
