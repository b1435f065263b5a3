/* cli_main.c - a stand-alone `runner validate` for the tests, until runner/main.c dispatches to
 * runner_cmd_validate. */
#include "validate.h"

int main(int argc, char **argv)
{
    return runner_cmd_validate(argc - 1, argv + 1);
}
