/* Test-driver commands of the pep440 area (stub until the area lands). */
#include "driver.h"

int driver_pep440(const char *cmd, const driver_args *args, strbuf *out)
{
    (void)cmd; (void)args; (void)out;
    return 0;
}
