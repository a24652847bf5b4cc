/* wheel_scripts.h — the scripts a wheel installs (SPECS §5.3 steps 5 and 6).
 *
 * hb_entry_points_parse reads entry_points.txt as configparser (delimiters "=", case-sensitive
 * keys) does: [section] headers, "name = value" lines (name and value stripped), lines starting
 * with '#' or ';' and blank lines ignored, indented lines continuing the value; duplicate
 * sections and duplicate names in a section are errors.  A value is
 * "module[:attr.attr] [extra, ...]" (spaces allowed around ':' and '['); module and attr are
 * dotted identifiers.  Errors name the file (what), the line and the entry.
 * hb_script_shebang appends "#!<python>\n", or the /bin/sh trampoline (python shell-quoted as
 * shlex.quote does) when python contains a space or "#!" + python + "\n" passes 127 bytes.
 * hb_script_entry_point appends the wrapper script of a console or GUI entry point.
 * hb_script_fix_shebang: when data starts with "#!python" (so also "#!pythonw"), appends data
 * with its first line replaced by hb_script_shebang's and returns true; else appends nothing.
 */
#ifndef HPCBUILD_WHEEL_SCRIPTS_H
#define HPCBUILD_WHEEL_SCRIPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

typedef struct hb_entry_point {
    char *group;      /* the section, e.g. "console_scripts" */
    char *name;       /* as written (case kept) */
    char *module;
    char *attr;       /* "a.b", or NULL for "name = module" */
    char **extras;    /* NULL-terminated (parsed, then unused by installers) */
    size_t line;
} hb_entry_point;

int hb_entry_points_parse(const char *data, size_t len, const char *what, hb_entry_point **eps,
                          size_t *n, hb_error *err);
void hb_entry_points_free(hb_entry_point *eps, size_t n);

void hb_script_shebang(strbuf *out, const char *python);
/* attr must not be NULL (a script needs a callable). */
void hb_script_entry_point(strbuf *out, const char *python, const char *module, const char *attr);
bool hb_script_fix_shebang(strbuf *out, const char *data, size_t len, const char *python);

/* Appends s quoted for /bin/sh as Python's shlex.quote does: unchanged when only
 * [A-Za-z0-9@%_+=:,./-], else in '...' with each ' written as '"'"'. */
void hb_shell_quote(strbuf *out, const char *s);

#endif
