/* main.c - runner's sub-commands: run, check, lint, validate, version, help.
 *
 * The commands themselves live in run.c (run, check) and validate.c (validate); lint is small
 * enough to stay here. Exit statuses are enum runner_exit, documented in runner(1). */
#include "config.h"
#include "core/alloc.h"
#include "openapi/model.h"
#include "runner.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: runner COMMAND [options]\n"
               "\n"
               "commands:\n"
               "  run PATH...          replay scenarios against --target URL or --mock and check\n"
               "                       every exchange against the contract\n"
               "  check PATH...        check scenarios without running them\n"
               "  lint SPEC...         load OpenAPI documents and report every problem\n"
               "  validate ...         validate JSON/YAML instances against a JSON Schema\n"
               "  help                 show this help ('runner run --help' for options)\n"
               "  version              show the version\n"
               "\n"
               "exit status: 0 passed, 1 a scenario failed, 2 usage, 3 broken input,\n"
               "4 target unreachable, 5 internal error\n");
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
    if (!strcmp(cmd, "run"))
        return runner_cmd_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "check"))
        return runner_cmd_check(argc - 2, argv + 2);
    if (!strcmp(cmd, "lint"))
        return cmd_lint(argc - 2, argv + 2);
    if (!strcmp(cmd, "validate"))
        return runner_cmd_validate(argc - 2, argv + 2);
    static const char *const cmds[] = {"run", "check", "lint", "validate", "help", "version"};
    const char *best = ct_did_you_mean(cmd, cmds, 6);
    fprintf(stderr, "runner: unknown command '%s'", cmd);
    if (best)
        fprintf(stderr, " (did you mean '%s'?)", best);
    fputc('\n', stderr);
    usage(stderr);
    return RUNNER_USAGE;
}
