/* libFuzzer harness: PEP 508 requirements.  Parse; on success write str() and
 * check that it parses again to an equal requirement with the same str()
 * (skipped when a marker value holds a backslash or line break, which
 * packaging's str() writes unescaped, so it cannot round-trip), and that the
 * specifier string is what the pep440 module makes of it. */
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/pep440.h"
#include "hpcbuild/pep508.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    hb_error err;
    pep508_requirement req;
    if (pep508_requirement_parse(&req, (const char *)data, size, &err) != 0)
        return 0;
    strbuf s = STRBUF_INIT;
    if (pep508_requirement_format(&req, &s, &err) == 0 &&
        !memchr(s.buf, '\\', s.len) && !memchr(s.buf, '\n', s.len) && !memchr(s.buf, '\r', s.len) &&
        !memchr(s.buf, '\0', s.len)) {
        pep508_requirement again;
        if (pep508_requirement_parse(&again, s.buf, s.len, &err) != 0)
            abort();   /* str() must parse */
        strbuf s2 = STRBUF_INIT;
        if (pep508_requirement_format(&again, &s2, &err) != 0 || s2.len != s.len ||
            memcmp(s.buf, s2.buf, s.len) != 0 || !pep508_requirement_equal(&req, &again))
            abort();   /* and be a fixed point */
        strbuf_free(&s2);
        pep508_requirement_free(&again);
    }
    /* the specifier string agrees with the pep440 module's SpecifierSet */
    pep440_specset set;
    if (pep440_specset_parse(&set, req.specifier, strlen(req.specifier), &err) != 0)
        abort();
    strbuf f = STRBUF_INIT;
    pep440_specset_format(&set, &f);
    if (strcmp(strbuf_str(&f), req.specifier) != 0)
        abort();
    strbuf_free(&f);
    pep440_specset_free(&set);
    if (req.marker) {
        marker_env env = MARKER_ENV_INIT;
        for (size_t i = 0; marker_default_variables[i]; i++)
            marker_env_set(&env, marker_default_variables[i], i % 2 ? "3.12.1" : "linux");
        marker_env_set(&env, "extra", "Test_Suite");
        bool r;
        marker_evaluate(req.marker, &env, &r, &err);
        marker_env_free(&env);
    }
    strbuf_free(&s);
    pep508_requirement_free(&req);
    return 0;
}
