/* dlgbench.c - the dialogue engine alone on the WebSocket benchmark's turn: the user message of
 * ws.sh through ct_dialogue_on_text, N times, on one connection with a shared work area (as
 * mockd's service thread runs it), trimming after each call as mockd does. Prints CPU time per
 * turn; under valgrind --tool=callgrind, the instruction count per turn is a figure that does not
 * depend on how busy the machine is.
 *
 * usage: dlgbench ROOT [TURNS=100000]   (ROOT: the source tree, for specs/ and bench/ws/) */
#include "core/alloc.h"
#include "dialogue/dialogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: dlgbench ROOT [TURNS]\n");
        return 2;
    }
    long turns = argc > 2 ? strtol(argv[2], NULL, 10) : 100000;
    struct ct_diags d;
    ct_diags_init(&d);
    char *ap = ct_xasprintf("%s/specs/prompt-sphere.asyncapi.yaml", argv[1]);
    char *op = ct_xasprintf("%s/specs/prompt-sphere.yaml", argv[1]);
    char *common = ct_xasprintf("%s/specs/dialogues/common.yaml", argv[1]);
    char *bench = ct_xasprintf("%s/bench/ws/bench.yaml", argv[1]);
    const char *paths[] = {common, bench};
    struct ct_docset *ads = ct_docset_new(NULL), *ods = NULL, *ds = ct_docset_new(NULL);
    struct ct_asyncapi *api = ct_asyncapi_load(ads, ap, NULL, &d);
    struct ct_oas *oas = ct_oas_load(op, NULL, &ods, &d);
    struct ct_dialogue_env env = {api, oas};
    struct ct_dialogue_set *set = api && oas ? ct_dialogue_set_load(ds, paths, 2, &env, &d) : NULL;
    if (!set) {
        struct ct_buf b;
        ct_buf_init(&b, 0);
        ct_diags_render(&d, &b, false);
        fprintf(stderr, "dlgbench: cannot load the benchmark's dialogues:\n%s", ct_buf_cstr(&b));
        return 1;
    }
    struct ct_dialogue_work *work = ct_dialogue_work_new();
    struct ct_dialogue_ctx ctx = {.channel = "/api/v1/ws/chat", .seed = 1,
                                  .now_ms = 1700000000000, .work = work};
    struct ct_dialogue_conn *c = ct_dialogue_conn_new(set, &ctx);
    const struct ct_dlg_action *a;
    ct_dialogue_on_open(c, ctx.now_ms, &a);
    static const char msg[] =
        "{\"type\":\"user_message\",\"data\":{\"messageId\":\"m1\",\"message\":\"Write a system "
        "prompt for a patient math tutor\",\"agent\":\"pe_engineer\",\"mode\":\"create\","
        "\"timestamp\":1700000000000}}";
    size_t frames = 0;
    double t0 = cpu_s();
    for (long i = 0; i < turns; i++) {
        frames += ct_dialogue_on_text(c, msg, sizeof(msg) - 1, ctx.now_ms + i, &a);
        ct_dialogue_conn_trim(c);
    }
    double el = cpu_s() - t0;
    printf("%ld turns, %zu frames: %.2f us CPU per turn\n", turns, frames,
           turns ? el * 1e6 / (double)turns : 0.0);
    ct_dialogue_conn_free(c);
    ct_dialogue_work_free(work);
    ct_dialogue_set_free(set);
    ct_docset_free(ds);
    ct_docset_free(ods);
    ct_asyncapi_free(api);
    ct_docset_free(ads);
    ct_diags_deinit(&d);
    ct_free(ap);
    ct_free(op);
    ct_free(common);
    ct_free(bench);
    return 0;
}
