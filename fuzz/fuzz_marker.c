/* libFuzzer harness: PEP 508 markers.  Parse, write str(), re-parse it (it
 * must give the same str(), except where a value holds a backslash or a line
 * break), and evaluate against a fixed environment with sets. */
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/marker.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    hb_error err;
    marker *m = marker_parse((const char *)data, size, &err);
    if (!m)
        return 0;
    strbuf s = STRBUF_INIT;
    if (marker_format(m, &s, &err) == 0 && !memchr(s.buf, '\\', s.len) && !memchr(s.buf, '\n', s.len) &&
        !memchr(s.buf, '\r', s.len) && !memchr(s.buf, '\0', s.len)) {
        marker *again = marker_parse(s.buf, s.len, &err);
        if (!again)
            abort();
        strbuf s2 = STRBUF_INIT;
        if (marker_format(again, &s2, &err) != 0 || s2.len != s.len || memcmp(s.buf, s2.buf, s.len) != 0)
            abort();
        strbuf_free(&s2);
        marker_free(again);
    }
    marker_env env = MARKER_ENV_INIT;
    static const char *const values[] = {"posix", "3.12.1", "x86_64", "3.13.0rc1", "6.1.0+", "Linux"};
    for (size_t i = 0; marker_default_variables[i]; i++)
        marker_env_set(&env, marker_default_variables[i], values[i % 6]);
    marker_env_set(&env, "python_full_version", "3.15.0+");
    marker_env_set(&env, "extra", "");
    const char *items[] = {"foo", "Bar_Baz"};
    marker_env_set_items(&env, "extras", items, 2);
    marker_env_set_items(&env, "dependency_groups", items, 0);
    bool r;
    marker_evaluate(m, &env, &r, &err);
    marker_env_free(&env);
    strbuf_free(&s);
    marker_free(m);
    return 0;
}
