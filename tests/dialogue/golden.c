/* golden.c - exact rendered diagnostics for broken dialogue scripts.
 *
 * usage: dialogue-golden CASES_DIR ASYNCAPI OPENAPI [--update-golden]
 *
 * Each case is CASES_DIR/<name>.yaml, loaded alone with both contracts as its environment; the
 * diagnostics are rendered as mockd prints them (no colour), followed by a verdict line, and
 * compared with CASES_DIR/<name>.expected. Run from the directory above CASES_DIR so that file
 * names in the diagnostics are short and stable. --update-golden rewrites the expected files for
 * review; CI never passes it. Output is TAP, one line per case. */
#include "core/alloc.h"
#include "core/fs.h"
#include "dialogue/dialogue.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_case(const char *path, const struct ct_dialogue_env *env, struct ct_buf *out)
{
    struct ct_diags d;
    ct_diags_init(&d);
    struct ct_docset *ds = ct_docset_new(NULL);
    struct ct_dialogue_set *s = ct_dialogue_set_load(ds, &path, 1, env, &d);
    ct_diags_render(&d, out, false);
    ct_buf_printf(out, "verdict: %s\n", s ? "loads" : "fails");
    ct_dialogue_set_free(s);
    ct_docset_free(ds);
    ct_diags_deinit(&d);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s CASES_DIR ASYNCAPI OPENAPI [--update-golden]\n", argv[0]);
        return 2;
    }
    bool update = argc > 4 && !strcmp(argv[4], "--update-golden");
    struct ct_diags cd;
    ct_diags_init(&cd);
    struct ct_docset *ads = ct_docset_new(NULL), *ods = NULL;
    struct ct_asyncapi *api = ct_asyncapi_load(ads, argv[2], NULL, &cd);
    struct ct_oas *oas = ct_oas_load(argv[3], NULL, &ods, &cd);
    if (!api || !oas) {
        struct ct_buf b;
        ct_buf_init(&b, 0);
        ct_diags_render(&cd, &b, false);
        fprintf(stderr, "cannot load the contracts:\n%s", ct_buf_cstr(&b));
        return 1;
    }
    struct ct_dialogue_env env = {api, oas};
    DIR *dh = opendir(argv[1]);
    if (!dh) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dh))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 5, ".yaml") != 0)
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
        char *path = ct_xasprintf("%s/%s", argv[1], names[i]);
        struct ct_buf out;
        ct_buf_init(&out, 0);
        run_case(path, &env, &out);
        char *exp_path = ct_xasprintf("%s/%.*s.expected", argv[1], (int)(strlen(names[i]) - 5),
                                      names[i]);
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
                   have ? exp : "(missing .expected)\n", ct_buf_cstr(&out));
        }
        ct_free(exp);
        ct_free(exp_path);
        ct_free(path);
        ct_buf_deinit(&out);
        ct_free(names[i]);
    }
    ct_free(names);
    ct_asyncapi_free(api);
    ct_docset_free(ads);
    ct_docset_free(ods);
    ct_diags_deinit(&cd);
    return failed ? 1 : 0;
}
