/* msgpack.h — a small, strict MessagePack reader (into a node tape).
 *
 * msgpack_parse reads one whole document into an array of 16-byte nodes in
 * document order, like json.h: a container's subtree is the nodes that follow
 * it; a map's children are key, value, key, value, ...  The input is not
 * copied: it must outlive the document.  Strict: every format of the spec is
 * read (nil, bool, ints, float32/64, str, bin, array, map, ext), but 0xc1, a
 * str that is not valid UTF-8, truncated input, trailing bytes and nesting
 * deeper than MSGPACK_MAX_DEPTH are errors: "NAME: byte B: expected ..., found ...".
 * msgpack_to_json writes a value as JSON (bin as a lower-case hex string),
 * so the JSON-based readers can take msgpack documents (CEP 16 shards).
 * Accessors take NULL (a missing key) as "no value".
 */
#ifndef HPCBUILD_MSGPACK_H
#define HPCBUILD_MSGPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

#define MSGPACK_MAX_DEPTH 512

enum msgpack_type {
    MSGPACK_NONE = 0,   /* no value (a NULL node) */
    MSGPACK_NIL,
    MSGPACK_BOOL,
    MSGPACK_INT,        /* an integer; see msgpack_get_int64 / msgpack_get_uint64 */
    MSGPACK_FLOAT,
    MSGPACK_STR,
    MSGPACK_BIN,
    MSGPACK_ARRAY,
    MSGPACK_MAP,
    MSGPACK_EXT,
};

typedef struct msgpack_node {
    uint32_t info;   /* type (low 4 bits), flags, ext type (bits 8..15) */
    uint32_t len;    /* str/bin/ext: bytes; array: elements; map: pairs */
    uint64_t u;      /* str/bin/ext: input offset; container: subtree size; int: value; float: bits */
} msgpack_node;

typedef struct msgpack_doc msgpack_doc;

msgpack_doc *msgpack_parse(const void *data, size_t len, const char *name, hb_error *err);
void msgpack_free(msgpack_doc *doc);

const msgpack_node *msgpack_root(const msgpack_doc *doc);
enum msgpack_type msgpack_type(const msgpack_node *v);
const char *msgpack_type_name(enum msgpack_type t);
/* Elements of an array, pairs of a map, 0 otherwise. */
size_t msgpack_count(const msgpack_node *v);
/* Bytes of a str, bin or ext (NOT NUL-terminated), or NULL. */
const char *msgpack_bytes(const msgpack_doc *doc, const msgpack_node *v, size_t *len);
/* The ext type code of an ext value. */
int msgpack_ext_type(const msgpack_node *v);
/* Value getters: false when v is not of that type or out of range. */
bool msgpack_get_int64(const msgpack_node *v, int64_t *out);
bool msgpack_get_uint64(const msgpack_node *v, uint64_t *out);
bool msgpack_get_double(const msgpack_node *v, double *out);   /* floats only */
bool msgpack_get_bool(const msgpack_node *v, bool *out);
bool msgpack_str_equals(const msgpack_doc *doc, const msgpack_node *v, const char *s, size_t len);

/* Map value for a str key (the last one if repeated), or NULL. */
const msgpack_node *msgpack_map_get(const msgpack_doc *doc, const msgpack_node *map, const char *key);

/* The node after v's subtree. */
const msgpack_node *msgpack_skip(const msgpack_node *v);
typedef struct msgpack_iter {
    const msgpack_node *cur, *end;
} msgpack_iter;
msgpack_iter msgpack_iter_init(const msgpack_node *container);
bool msgpack_array_next(msgpack_iter *it, const msgpack_node **elem);
bool msgpack_map_next(msgpack_iter *it, const msgpack_node **key, const msgpack_node **value);

/* Appends v as JSON.  bin becomes a lower-case hex string; ext, non-finite
 * floats and map keys that are not str are errors naming the value. */
int msgpack_to_json(const msgpack_doc *doc, const msgpack_node *v, strbuf *out, hb_error *err);

#endif
