/* hpcbuild requirement — stub until its area lands. */
#include "cli.h"

int cmd_requirement(int argc, char **argv)
{
    (void)argc; (void)argv;
    return cli_fail(CLI_FAILED, "'requirement' is not implemented yet");
}
