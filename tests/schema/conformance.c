/* conformance.c - runs the official JSON-Schema-Test-Suite against lib/schema.
 *
 * usage: schema-conformance SUITE_DIR KNOWN_FAILURES [--list-failures] [--only SUBSTRING]
 *
 * Every test of draft4, draft6, draft7, draft2019-09 and draft2020-12 (required, optional, and
 * optional/format with format assertion on) is run; the suite's remotes/ directory is served as
 * http://localhost:1234/ through a remote map. Each schema is re-emitted as its own document so
 * that `#/...` references are relative to it.
 *
 * KNOWN_FAILURES lists test ids ("draft/file | group | test"), each followed by " ## reason".
 * The run fails when a test fails that is not listed, and when a listed test passes (so the list
 * can only shrink). Exit 77 (meson's skip) when SUITE_DIR does not exist. */
#include "core/alloc.h"
#include "core/fs.h"
#include "json/node.h"
#include "openapi/docset.h"
#include "schema/schema.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct known {
    char **ids;
    bool *hit;
    size_t n, cap;
};

static void load_known(struct known *k, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    if (ct_fs_read(path, 0, &text, &len))
        return;
    char *p = text;
    while (p && *p) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        char *hash = strstr(p, " ## ");
        if (hash)
            *hash = 0;
        if (*p && *p != '#') {
            k->ids = ct_xgrow(k->ids, &k->cap, k->n + 1, sizeof(*k->ids));
            k->ids[k->n++] = ct_xstrdup(p);
        }
        p = nl ? nl + 1 : NULL;
    }
    k->hit = ct_xcalloc(k->n + 1, sizeof(bool));
    ct_free(text);
}

static long known_find(const struct known *k, const char *id)
{
    for (size_t i = 0; i < k->n; i++)
        if (!strcmp(k->ids[i], id))
            return (long)i;
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted *.json names in dir; caller frees. */
static char **list_json(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **v = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".json")) {
            v = ct_xgrow(v, &cap, *n + 1, sizeof(*v));
            v[(*n)++] = ct_xstrdup(e->d_name);
        }
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof(*v), cmp_str);
    return v;
}

struct counts {
    unsigned pass, total;
};

struct run {
    const char *suite;
    struct known known;
    bool list_failures;
    const char *only;
    unsigned unexpected, fixed;
};

static enum ct_dialect draft_dialect(const char *draft)
{
    if (!strcmp(draft, "draft4"))
        return CT_DIALECT_DRAFT4;
    if (!strcmp(draft, "draft6"))
        return CT_DIALECT_DRAFT6;
    if (!strcmp(draft, "draft7"))
        return CT_DIALECT_DRAFT7;
    if (!strcmp(draft, "draft2019-09"))
        return CT_DIALECT_2019_09;
    return CT_DIALECT_2020_12;
}

static void run_file(struct run *r, const char *draft, const char *rel, bool format,
                     struct counts *acc)
{
    char *path = ct_xasprintf("%s/tests/%s/%s", r->suite, draft, rel);
    char *text = NULL;
    size_t len = 0;
    if (ct_fs_read(path, 0, &text, &len)) {
        fprintf(stderr, "cannot read %s\n", path);
        ct_free(path);
        r->unexpected++;
        return;
    }
    struct ct_source src = {path, text, len};
    struct ct_arena arena;
    ct_arena_init(&arena, 1 << 16);
    struct ct_diags diags;
    ct_diags_init(&diags);
    struct ct_node *root = ct_json_parse(&arena, &src, NULL, &diags);
    char *remotes_dir = ct_xasprintf("%s/remotes", r->suite);
    struct ct_schema_remote remote = {"http://localhost:1234/", remotes_dir};
    struct counts fc = {0, 0};
    for (uint32_t g = 0; root && g < root->len; g++) {
        const struct ct_node *grp = root->u.items[g];
        const struct ct_node *tests = ct_obj_get(grp, "tests");
        const char *gdesc = ct_obj_str(grp, "description");
        struct ct_docset *ds = ct_docset_new(NULL);
        struct ct_buf sb;
        ct_buf_init(&sb, 0);
        ct_json_emit(ct_obj_get(grp, "schema"), &sb, true);
        char *name = ct_xasprintf("%s/%s.%u.json", draft, rel, g);
        struct ct_diags cd;
        ct_diags_init(&cd);
        const struct ct_node *sch = ct_docset_load_text(ds, name, ct_buf_cstr(&sb), sb.len, &cd);
        struct ct_schema_opts opts = {0};
        opts.dialect = draft_dialect(draft);
        opts.format_assert = format;
        opts.remotes = &remote;
        opts.nremotes = 1;
        struct ct_schema *s = sch ? ct_schema_compile(ds, sch, &opts, &cd) : NULL;
        struct ct_vctx *vc = ct_vctx_new();
        for (uint32_t t = 0; tests && t < tests->len; t++) {
            const struct ct_node *tc = tests->u.items[t];
            char *id = ct_xasprintf("%s/%s | %s | %s", draft, rel, gdesc,
                                    ct_obj_str(tc, "description"));
            if (r->only && !strstr(id, r->only)) {
                ct_free(id);
                continue;
            }
            bool expect = ct_obj_true(tc, "valid");
            bool got = !expect;
            struct ct_diags vd;
            ct_diags_init(&vd);
            if (s)
                got = ct_schema_validate_ex(s, vc, ct_obj_get(tc, "data"), &vd);
            bool pass = s && got == expect;
            long ki = known_find(&r->known, id);
            fc.total++;
            if (pass)
                fc.pass++;
            if (!pass && ki < 0) {
                r->unexpected++;
                printf("FAIL %s (expected %s)\n", id, expect ? "valid" : "invalid");
                if (!s) {
                    struct ct_buf out;
                    ct_buf_init(&out, 0);
                    ct_diags_render(&cd, &out, false);
                    printf("%s", ct_buf_cstr(&out));
                    ct_buf_deinit(&out);
                } else if (r->list_failures && vd.n) {
                    printf("  %s\n", vd.v[0].msg);
                }
            } else if (pass && ki >= 0) {
                r->fixed++;
                printf("NOW PASSES (remove from the known failures) %s\n", id);
            }
            if (ki >= 0)
                r->known.hit[ki] = true;
            ct_diags_deinit(&vd);
            ct_free(id);
        }
        ct_vctx_free(vc);
        ct_schema_free(s);
        ct_diags_deinit(&cd);
        ct_free(name);
        ct_buf_deinit(&sb);
        ct_docset_free(ds);
    }
    if (!root) {
        struct ct_buf out;
        ct_buf_init(&out, 0);
        ct_diags_render(&diags, &out, false);
        fprintf(stderr, "%s", ct_buf_cstr(&out));
        ct_buf_deinit(&out);
        r->unexpected++;
    }
    if (fc.total)
        printf("  %-16s %-48s %4u/%-4u\n", draft, rel, fc.pass, fc.total);
    acc->pass += fc.pass;
    acc->total += fc.total;
    ct_free(remotes_dir);
    ct_diags_deinit(&diags);
    ct_arena_deinit(&arena);
    ct_free(text);
    ct_free(path);
}

static void run_dir(struct run *r, const char *draft, const char *sub, bool format,
                    struct counts *acc)
{
    char *dir = ct_xasprintf("%s/tests/%s%s%s", r->suite, draft, sub[0] ? "/" : "", sub);
    size_t n;
    char **names = list_json(dir, &n);
    for (size_t i = 0; i < n; i++) {
        char *rel = ct_xasprintf("%s%s%s", sub, sub[0] ? "/" : "", names[i]);
        run_file(r, draft, rel, format, acc);
        ct_free(rel);
        ct_free(names[i]);
    }
    ct_free(names);
    ct_free(dir);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s SUITE_DIR KNOWN_FAILURES [--list-failures] [--only S]\n",
                argv[0]);
        return 2;
    }
    struct run r = {0};
    r.suite = argv[1];
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--list-failures"))
            r.list_failures = true;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            r.only = argv[++i];
    }
    struct stat st;
    if (stat(r.suite, &st) || !S_ISDIR(st.st_mode)) {
        printf("SKIP: JSON-Schema-Test-Suite not found at %s\n", r.suite);
        return 77;
    }
    load_known(&r.known, argv[2]);
    static const char *const drafts[] = {"draft4", "draft6", "draft7", "draft2019-09",
                                         "draft2020-12"};
    struct counts sum[5][3];
    memset(sum, 0, sizeof(sum));
    for (size_t d = 0; d < 5; d++) {
        run_dir(&r, drafts[d], "", false, &sum[d][0]);
        run_dir(&r, drafts[d], "optional", false, &sum[d][1]);
        run_dir(&r, drafts[d], "optional/format", true, &sum[d][2]);
    }
    printf("\n%-14s %-16s %-16s %-16s\n", "draft", "required", "optional", "format");
    for (size_t d = 0; d < 5; d++)
        printf("%-14s %6u/%-9u %6u/%-9u %6u/%-9u\n", drafts[d], sum[d][0].pass,
               sum[d][0].total, sum[d][1].pass, sum[d][1].total, sum[d][2].pass,
               sum[d][2].total);
    unsigned stale = 0;
    for (size_t i = 0; i < r.known.n; i++) {
        if (!r.known.hit[i] && !r.only) {
            printf("STALE known failure (no such test): %s\n", r.known.ids[i]);
            stale++;
        }
        ct_free(r.known.ids[i]);
    }
    ct_free(r.known.ids);
    ct_free(r.known.hit);
    printf("%u unexpected failures, %u known failures now pass, %u stale entries\n",
           r.unexpected, r.fixed, stale);
    return r.unexpected || r.fixed || stale ? 1 : 0;
}
