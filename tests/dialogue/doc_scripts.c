/* doc_scripts.c - the scripts in docs/dialogues.md load (or fail exactly as the page shows).
 *
 * usage: dialogue-doc-scripts DOC SPECS_DIR
 *
 * A ```yaml block right after `<!-- dialogue: NAME -->` must load, as NAME, together with
 * SPECS_DIR/dialogues/common.yaml (whose frames the examples use) and both contracts. A block
 * after `<!-- dialogue fails: NAME -->` must fail, and the next fenced block must be exactly the
 * rendered diagnostics. The `first` example is also run, to hold the timeline the page draws.
 * Output is TAP. */
#include "core/alloc.h"
#include "core/fs.h"
#include "dialogue/dialogue.h"

#include <stdio.h>
#include <string.h>

struct ctx {
    struct ct_asyncapi *api;
    struct ct_oas *oas;
    const char *common;
    int n, failed;
};

/* The text of the fenced block starting at or after *p (its first line is the fence); advances
 * *p past it. Caller owns. */
static char *next_block(const char **p)
{
    const char *f = strstr(*p, "\n```");
    if (!f)
        return NULL;
    const char *body = strchr(f + 1, '\n');
    if (!body)
        return NULL;
    body++;
    const char *end = strstr(body, "```");
    if (!end)
        return NULL;
    *p = end + 3;
    return ct_xstrndup(body, (size_t)(end - body));
}

static void report(struct ctx *C, bool ok, const char *name, const char *why)
{
    C->n++;
    printf("%s %d - %s\n", ok ? "ok" : "not ok", C->n, name);
    if (!ok) {
        C->failed++;
        for (const char *p = why; p && *p;) {
            const char *nl = strchr(p, '\n');
            int l = nl ? (int)(nl - p) : (int)strlen(p);
            printf("# %.*s\n", l, p);
            p = nl ? nl + 1 : NULL;
        }
    }
}

/* The page's timeline of the first example: delays and deltas. */
static void run_first(struct ctx *C, struct ct_dialogue_set *s, struct ct_buf *why)
{
    struct ct_dialogue_ctx cx = {.channel = "/api/v1/ws/chat", .seed = 1};
    struct ct_dialogue_conn *c = ct_dialogue_conn_new(s, &cx);
    static const char msg[] = "{\"type\":\"user_message\",\"data\":{\"messageId\":\"c_1\","
                              "\"message\":\"hello there\",\"agent\":\"pe_engineer\","
                              "\"mode\":\"create\",\"timestamp\":1}}";
    const struct ct_dlg_action *a;
    size_t n = ct_dialogue_on_text(c, msg, sizeof(msg) - 1, 0, &a);
    static const unsigned delays[] = {0, 80, 80, 80, 80, 0, 0};
    if (n != 7)
        ct_buf_printf(why, "first: expected 7 frames, got %zu\n", n);
    for (size_t i = 0; i < n && i < 7; i++)
        if (a[i].delay_ms != delays[i])
            ct_buf_printf(why, "first: frame %zu after %u ms, the page says %u\n", i, a[i].delay_ms,
                          delays[i]);
    if (n == 7 && !strstr(a[3].text, "\"delta\":\"d do and I will draf\""))
        ct_buf_printf(why, "first: chunk 2 is %s\n", a[3].text);
    ct_dialogue_conn_free(c);
}

static void check(struct ctx *C, const char *name, const char *yaml, const char *expected)
{
    struct ct_diags d;
    ct_diags_init(&d);
    struct ct_docset *ds = ct_docset_new(NULL);
    const struct ct_node *roots[2];
    roots[0] = ct_docset_load(ds, C->common, &d);
    roots[1] = ct_docset_load_text(ds, name, yaml, strlen(yaml), &d);
    struct ct_dialogue_env env = {C->api, C->oas};
    struct ct_dialogue_set *s =
        roots[0] && roots[1] ? ct_dialogue_set_build(ds, roots, 2, &env, &d) : NULL;
    struct ct_buf out, why;
    ct_buf_init(&out, 0);
    ct_buf_init(&why, 0);
    ct_diags_render(&d, &out, false);
    if (!expected && !s)
        ct_buf_printf(&why, "%s does not load:\n%s", name, ct_buf_cstr(&out));
    if (expected && s)
        ct_buf_printf(&why, "%s loads, but the page says it fails\n", name);
    if (expected && !s && strcmp(ct_buf_cstr(&out), expected) != 0)
        ct_buf_printf(&why, "the page shows:\n%sbut mockd says:\n%s", expected, ct_buf_cstr(&out));
    if (s && !strcmp(name, "first.yaml"))
        run_first(C, s, &why);
    report(C, why.len == 0, name, ct_buf_cstr(&why));
    ct_buf_deinit(&out);
    ct_buf_deinit(&why);
    ct_dialogue_set_free(s);
    ct_docset_free(ds);
    ct_diags_deinit(&d);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s DOC SPECS_DIR\n", argv[0]);
        return 2;
    }
    struct ctx C = {0};
    struct ct_diags d;
    ct_diags_init(&d);
    char *ap = ct_xasprintf("%s/prompt-sphere.asyncapi.yaml", argv[2]);
    char *op = ct_xasprintf("%s/prompt-sphere.yaml", argv[2]);
    char *common = ct_xasprintf("%s/dialogues/common.yaml", argv[2]);
    C.common = common;
    struct ct_docset *ads = ct_docset_new(NULL), *ods = NULL;
    C.api = ct_asyncapi_load(ads, ap, NULL, &d);
    C.oas = ct_oas_load(op, NULL, &ods, &d);
    char *doc = NULL;
    size_t len;
    if (!C.api || !C.oas || ct_fs_read(argv[1], 0, &doc, &len) != 0) {
        printf("1..1\nnot ok 1 - load the contracts and %s\n", argv[1]);
        return 1;
    }
    int blocks = 0;
    for (const char *p = doc; (p = strstr(p, "<!-- dialogue"));) {
        bool fails = !strncmp(p, "<!-- dialogue fails: ", 21);
        const char *ns = p + (fails ? 21 : 15);
        const char *ne = strstr(ns, " -->");
        if (!ne || (!fails && strncmp(p, "<!-- dialogue: ", 15) != 0)) {
            p += 4;
            continue;
        }
        char *name = ct_xstrndup(ns, (size_t)(ne - ns));
        p = ne;
        char *yaml = next_block(&p);
        char *expected = fails && yaml ? next_block(&p) : NULL;
        if (yaml)
            check(&C, name, yaml, fails ? (expected ? expected : "") : NULL);
        blocks++;
        ct_free(name);
        ct_free(yaml);
        ct_free(expected);
    }
    report(&C, blocks >= 8, "the page has its example scripts", "fewer than 8 marked blocks\n");
    printf("1..%d\n", C.n);
    ct_free(doc);
    ct_asyncapi_free(C.api);
    ct_docset_free(ads);
    ct_docset_free(ods);
    ct_diags_deinit(&d);
    ct_free(ap);
    ct_free(op);
    ct_free(common);
    return C.failed ? 1 : 0;
}
