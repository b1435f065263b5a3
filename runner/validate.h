/* validate.h - `runner validate`: check instance documents against a JSON Schema. */
#pragma once

/** Run `runner validate` with the arguments after the command name (argv[0] is the first
 * option). Prints results to stdout and diagnostics to stderr. Returns the runner exit code:
 * 0 all instances valid, 1 an instance is invalid, 2 usage error, 3 broken schema or input. */
int runner_cmd_validate(int argc, char **argv);
