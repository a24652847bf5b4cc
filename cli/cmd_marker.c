/* hpcbuild marker — stub until its area lands. */
#include "cli.h"

int cmd_marker(int argc, char **argv)
{
    (void)argc; (void)argv;
    return cli_fail(CLI_FAILED, "'marker' is not implemented yet");
}
