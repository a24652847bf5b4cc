/* Test-driver commands of the depurl area (stub until the area lands). */
#include "driver.h"

int driver_depurl(const char *cmd, const driver_args *args, strbuf *out)
{
    (void)cmd; (void)args; (void)out;
    return 0;
}
