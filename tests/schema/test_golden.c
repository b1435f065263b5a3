/* test_golden.c - exact rendered diagnostics for schema compile errors and validation errors.
 *
 * usage: schema-golden CASES_DIR [--update-golden]
 *
 * Each case is a directory with schema.json or schema.yaml, instance.json, an optional
 * `options` file (lines "dialect D", "direction request|response", "first-error") and
 * expected.txt: the diagnostics as `runner validate` renders them (no colour), then a verdict
 * line. --update-golden rewrites expected.txt for review; CI never passes it. */
#include "core/alloc.h"
#include "core/fs.h"
#include "openapi/docset.h"
#include "schema/schema.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const struct ct_node *load(struct ct_docset *ds, const char *dir, const char *cname,
                                  const char *file, struct ct_diags *d)
{
    char *path = ct_xasprintf("%s/%s/%s", dir, cname, file);
    char *text = NULL;
    size_t len = 0;
    const struct ct_node *n = NULL;
    if (!ct_fs_read(path, 0, &text, &len)) {
        char *name = ct_xasprintf("%s/%s", cname, file);
        n = ct_docset_load_text(ds, name, text, len, d);
        ct_free(name);
        ct_free(text);
    }
    ct_free(path);
    return n;
}

static void run_case(const char *dir, const char *cname, struct ct_buf *out)
{
    struct ct_schema_opts opts = {0};
    opts.all_errors = true;
    opts.format_assert = true;
    char *optpath = ct_xasprintf("%s/%s/options", dir, cname);
    char *otext = NULL;
    size_t olen;
    if (!ct_fs_read(optpath, 0, &otext, &olen)) {
        for (char *line = otext; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = 0;
            if (!strncmp(line, "dialect ", 8))
                ct_dialect_parse(line + 8, &opts.dialect);
            else if (!strcmp(line, "direction request"))
                opts.direction = CT_DIR_REQUEST;
            else if (!strcmp(line, "direction response"))
                opts.direction = CT_DIR_RESPONSE;
            else if (!strcmp(line, "first-error"))
                opts.all_errors = false;
            line = nl ? nl + 1 : NULL;
        }
        ct_free(otext);
    }
    ct_free(optpath);
    struct ct_diags d;
    ct_diags_init(&d);
    struct ct_docset *ds = ct_docset_new(NULL);
    const struct ct_node *sch = load(ds, dir, cname, "schema.json", &d);
    if (!sch)
        sch = load(ds, dir, cname, "schema.yaml", &d);
    const struct ct_node *in = load(ds, dir, cname, "instance.json", &d);
    struct ct_schema *s = sch ? ct_schema_compile(ds, sch, &opts, &d) : NULL;
    const char *verdict = "broken schema";
    if (s && in)
        verdict = ct_schema_validate(s, in, &d) ? "valid" : "invalid";
    ct_diags_render(&d, out, false);
    ct_buf_printf(out, "verdict: %s\n", verdict);
    ct_schema_free(s);
    ct_docset_free(ds);
    ct_diags_deinit(&d);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CASES_DIR [--update-golden]\n", argv[0]);
        return 2;
    }
    bool update = argc > 2 && !strcmp(argv[2], "--update-golden");
    DIR *dh = opendir(argv[1]);
    if (!dh) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dh))) {
        if (e->d_name[0] == '.')
            continue;
        names = ct_xgrow(names, &cap, n + 1, sizeof(*names));
        names[n++] = ct_xstrdup(e->d_name);
    }
    closedir(dh);
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    int failed = 0;
    printf("1..%zu\n", n);
    for (size_t i = 0; i < n; i++) {
        struct ct_buf out;
        ct_buf_init(&out, 0);
        run_case(argv[1], names[i], &out);
        char *exp_path = ct_xasprintf("%s/%s/expected.txt", argv[1], names[i]);
        char *exp = NULL;
        size_t elen = 0;
        bool have = !ct_fs_read(exp_path, 0, &exp, &elen);
        bool same = have && elen == out.len && !memcmp(exp, ct_buf_cstr(&out), elen);
        if (update && !same) {
            FILE *f = fopen(exp_path, "w");
            if (f) {
                fwrite(ct_buf_cstr(&out), 1, out.len, f);
                fclose(f);
            }
            same = true;
        }
        if (same) {
            printf("ok %zu - %s\n", i + 1, names[i]);
        } else {
            failed++;
            printf("not ok %zu - %s\n# expected:\n%s# got:\n%s", i + 1, names[i],
                   have ? exp : "(missing expected.txt)\n", ct_buf_cstr(&out));
        }
        ct_free(exp);
        ct_free(exp_path);
        ct_buf_deinit(&out);
        ct_free(names[i]);
    }
    ct_free(names);
    return failed ? 1 : 0;
}
