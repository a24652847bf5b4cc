/* libFuzzer harness for the TOML reader: any bytes must parse or fail
 * cleanly; on success every accessor is exercised and the tree's invariants
 * checked (keys found again through the hash index, date-times splittable,
 * positions set); on failure the message must be "SOURCE:LINE:COL: ...". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const toml_value *v, strbuf *path)
{
    if (toml_line(v) == 0 || toml_column(v) == 0)
        abort();
    strbuf_truncate(path, 0);
    toml_path(v, path);
    int64_t i;
    double f;
    bool b;
    toml_datetime dt;
    size_t len;
    switch (toml_type_of(v)) {
    case TOML_TABLE:
        for (size_t k = 0; k < toml_table_size(v); k++) {
            const char *key = toml_table_key(v, k, &len);
            const toml_value *child = toml_table_value(v, k);
            if (!key || !child || toml_table_getn(v, key, len) != child)
                abort();
            walk(child, path);
        }
        break;
    case TOML_ARRAY:
        for (size_t k = 0; k < toml_array_size(v); k++)
            walk(toml_array_at(v, k), path);
        break;
    case TOML_STRING: {
        const char *s = toml_string(v, &len);
        if (!s || s[len] != '\0')
            abort();
        break;
    }
    case TOML_INTEGER:
        if (toml_integer(v, &i) != 0)
            abort();
        break;
    case TOML_FLOAT:
        if (toml_float(v, &f) != 0)
            abort();
        break;
    case TOML_BOOLEAN:
        if (toml_boolean(v, &b) != 0)
            abort();
        break;
    case TOML_DATETIME:
    case TOML_DATETIME_LOCAL:
    case TOML_DATE_LOCAL:
    case TOML_TIME_LOCAL:
        if (!toml_datetime_text(v) || toml_datetime_fields(v, &dt) != 0)
            abort();
        if (dt.has_offset != (toml_type_of(v) == TOML_DATETIME))
            abort();
        break;
    case TOML_NONE:
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hb_error err = {0};
    toml_value *root = toml_parse((const char *)data, size, "<fuzz>", &err);
    if (!root) {
        if (err.code != HB_EINVAL || strncmp(err.msg, "<fuzz>:", 7) != 0)
            abort();
        const char *p = err.msg + 7;
        char *end;
        if (strtoul(p, &end, 10) == 0 || *end != ':' || strtoul(end + 1, &end, 10) == 0 ||
            strncmp(end, ": ", 2) != 0)
            abort();
        return 0;
    }
    strbuf path = STRBUF_INIT;
    walk(root, &path);
    strbuf_free(&path);
    /* the input as a lookup path */
    char *s = hb_strndup((const char *)data, size < 256 ? size : 256);
    (void)toml_lookup(root, s);
    free(s);
    toml_free(root);
    return 0;
}
