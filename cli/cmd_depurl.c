/* hpcbuild depurl — stub until its area lands. */
#include "cli.h"

int cmd_depurl(int argc, char **argv)
{
    (void)argc; (void)argv;
    return cli_fail(CLI_FAILED, "'depurl' is not implemented yet");
}
