/* main.c - runner's command line. This version checks specs; scenarios come later. */
#include "config.h"
#include "core/alloc.h"
#include "openapi/model.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum runner_exit { RUNNER_OK = 0, RUNNER_FAILED = 1, RUNNER_USAGE = 2, RUNNER_BROKEN = 3 };

static void usage(FILE *f)
{
    fprintf(f, "usage: runner COMMAND [options]\n"
               "\n"
               "commands:\n"
               "  lint SPEC...     load OpenAPI documents and report every problem\n"
               "  help             show this help\n"
               "  version          show the version\n"
               "\n"
               "exit status: 0 ok, 1 failures, 2 usage, 3 broken input\n");
}

static int cmd_lint(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "runner lint: expected at least one SPEC\n");
        return RUNNER_USAGE;
    }
    int rc = RUNNER_OK;
    for (int i = 0; i < argc; i++) {
        struct ct_diags diags;
        ct_diags_init(&diags);
        struct ct_docset *ds = NULL;
        struct ct_oas *oas = ct_oas_load(argv[i], NULL, &ds, &diags);
        struct ct_buf out;
        ct_buf_init(&out, 0);
        ct_diags_render(&diags, &out, isatty(2));
        fputs(ct_buf_cstr(&out), stderr);
        ct_buf_deinit(&out);
        if (oas)
            printf("%s: OpenAPI %s, %u operations: ok\n", argv[i], oas->version, oas->nops);
        else
            rc = RUNNER_BROKEN;
        ct_diags_deinit(&diags);
        ct_docset_free(ds);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return RUNNER_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("runner %s\n", CT_VERSION);
        return RUNNER_OK;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return RUNNER_OK;
    }
    if (!strcmp(cmd, "lint"))
        return cmd_lint(argc - 2, argv + 2);
    fprintf(stderr, "runner: unknown command '%s'\n", cmd);
    usage(stderr);
    return RUNNER_USAGE;
}
