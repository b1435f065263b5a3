/* golden.c - golden tests for located diagnostics: load each broken document and compare the
 * rendered diagnostics with the .expected file beside it, byte for byte.
 *
 * usage: golden [--update] DIR CASE...
 * Runs from DIR so that file names in messages are stable. --update rewrites the .expected
 * files for review; it is never used in CI. */
#include "core/alloc.h"
#include "core/fs.h"
#include "openapi/model.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char *render_case(const char *name)
{
    struct ct_diags diags;
    ct_diags_init(&diags);
    struct ct_docset *ds = NULL;
    struct ct_oas *oas = ct_oas_load(name, NULL, &ds, &diags);
    struct ct_buf out;
    ct_buf_init(&out, 0);
    ct_diags_render(&diags, &out, false);
    if (oas)
        ct_buf_adds(&out, "(no diagnostics: the document loaded)\n");
    ct_diags_deinit(&diags);
    ct_docset_free(ds);
    return ct_buf_steal(&out, NULL);
}

int main(int argc, char **argv)
{
    int i = 1;
    bool update = false;
    if (i < argc && !strcmp(argv[i], "--update")) {
        update = true;
        i++;
    }
    if (i >= argc || chdir(argv[i]) != 0) {
        fprintf(stderr, "usage: golden [--update] DIR CASE...\n");
        return 2;
    }
    int failed = 0;
    for (i++; i < argc; i++) {
        char *got = render_case(argv[i]);
        char *expected_path = ct_xasprintf("%s.expected", argv[i]);
        if (update) {
            FILE *f = fopen(expected_path, "wb");
            if (f) {
                fputs(got, f);
                fclose(f);
            }
            printf("updated %s\n", expected_path);
        } else {
            char *want = NULL;
            size_t wl = 0;
            if (ct_fs_read(expected_path, 0, &want, &wl) != 0) {
                printf("FAIL %s: no %s (run with --update to create it)\n", argv[i],
                       expected_path);
                failed++;
            } else if (strcmp(want, got) != 0) {
                printf("FAIL %s\n--- expected\n%s--- got\n%s", argv[i], want, got);
                failed++;
            } else {
                printf("ok %s\n", argv[i]);
            }
            ct_free(want);
        }
        ct_free(expected_path);
        ct_free(got);
    }
    return failed ? 1 : 0;
}
