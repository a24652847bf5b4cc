/* link_mode.c — the link modes of txn.h. */
#include <string.h>

#include "hpcbuild/txn.h"

int hb_link_mode_parse(const char *s, enum hb_link_mode *out, hb_error *err)
{
    if (strcmp(s, "hardlink") == 0)
        *out = HB_LINK_HARDLINK;
    else if (strcmp(s, "copy") == 0)
        *out = HB_LINK_COPY;
    else if (strcmp(s, "symlink") == 0 || strcmp(s, "softlink") == 0)
        *out = HB_LINK_SYMLINK;
    else
        return hb_error_set(err, HB_EINVAL, "invalid link mode '%s': expected hardlink, copy or symlink", s);
    return 0;
}
