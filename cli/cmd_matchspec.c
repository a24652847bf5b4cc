/* hpcbuild matchspec — stub until its area lands. */
#include "cli.h"

int cmd_matchspec(int argc, char **argv)
{
    (void)argc; (void)argv;
    return cli_fail(CLI_FAILED, "'matchspec' is not implemented yet");
}
