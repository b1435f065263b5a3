/* Fuzz target: the dialogue script loader (format schema, semantic checks, templates) and, when
 * a script loads, the engine on a few events. Input: a script, optionally followed by a NUL byte
 * and a client frame to feed it. Any input must give a set or located diagnostics, never a crash,
 * leak or hang. */
#include "core/alloc.h"
#include "core/err.h"
#include "dialogue/dialogue.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int no_files(void *ud, const char *path, char **text, size_t *len)
{
    return CT_E_NOTFOUND; /* the fuzzer never reads the file system */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, 0, size);
    size_t slen = nul ? (size_t)(nul - text) : size;
    struct ct_docset_opts o = {.read = no_files, .limits = {.max_depth = 64, .max_nodes = 100000}};
    struct ct_docset *ds = ct_docset_new(&o);
    struct ct_diags diags;
    ct_diags_init(&diags);
    const struct ct_node *root = ct_docset_load_text(ds, "fuzz", text, slen, &diags);
    struct ct_dialogue_set *s = root ? ct_dialogue_set_build(ds, &root, 1, NULL, &diags) : NULL;
    if (s) {
        struct ct_dialogue_ctx ctx = {.channel = "chat", .seed = 1, .now_ms = 1};
        const struct ct_dlg_action *a;
        (void)ct_dialogue_upgrade_status(s, &ctx, NULL);
        struct ct_dialogue_conn *c = ct_dialogue_conn_new(s, &ctx);
        ct_dialogue_on_open(c, 1, &a);
        static const char frame[] = "{\"type\":\"user_message\",\"data\":{\"messageId\":\"c_1\","
                                    "\"message\":\"你好 hello\",\"agent\":\"pe_engineer\","
                                    "\"mode\":\"create\"},\"messages\":[\"x\"]}";
        ct_dialogue_on_text(c, frame, sizeof(frame) - 1, 2, &a);
        if (nul)
            ct_dialogue_on_text(c, nul + 1, size - slen - 1, 3, &a);
        ct_dialogue_on_text(c, "{", 1, 4, &a);
        struct ct_source src = {"<body>", frame, sizeof(frame) - 1};
        struct ct_arena arena;
        ct_arena_init(&arena, 1024);
        const struct ct_node *body = ct_json_parse(&arena, &src, NULL, NULL);
        for (size_t i = 0; i < 4; i++) {
            const char *r = ct_dialogue_rule_name(s, i);
            (void)r;
        }
        ct_dialogue_sse(c, "op", body, 5, &a);
        ct_arena_deinit(&arena);
        ct_dialogue_conn_free(c);
        ct_dialogue_set_free(s);
    }
    struct ct_buf out;
    ct_buf_init(&out, 0);
    ct_diags_render(&diags, &out, false);
    ct_buf_deinit(&out);
    ct_diags_deinit(&diags);
    ct_docset_free(ds);
    return 0;
}
