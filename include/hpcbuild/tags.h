/* tags.h — the wheel tags a target interpreter supports, best first, and their ranks.
 *
 * A hb_python_target describes an interpreter on a platform: either asked from a real
 * interpreter (run once: sys.implementation, sysconfig, os.confstr or the musl loader,
 * as SPECS §5.5 says) or filled for CPython X.Y on this machine without running
 * anything.  hb_tag_set_new lists the tags in packaging 26.3's sys_tags() order:
 *   CPython: cpXY-<abi>-P (a debug "d" ABI is followed by the plain one), cpXY-abi3-P
 *     (abi3t when free-threaded), cpXY-none-P, then cpXW-abi3-P for W = Y-1 .. 2;
 *   others: <impl>XY-<abi>-P, <impl>XY-none-P;
 *   then pyXY-none-P, py3-none-P, pyXW-none-P (W = Y-1 .. 0), the interpreter's own
 *   "-none-any" (cpXY, or pp3 for PyPy), pyXY-none-any, py3-none-any, ... py30-none-any;
 * where P runs over the platforms: on Linux the native linux_ARCH FIRST (26.3's order),
 * then manylinux_X_Y_ARCH from the target's glibc down to 2.5 (x86_64, i686) or 2.17
 * (others), each legacy alias (manylinux2014/2010/1) right after its 2_17/2_12/2_5 tag,
 * or musllinux_1_Y_ARCH from the target's musl down to 1_0; a 32-bit ARM target on
 * aarch64 (armv8l) also gets the armv7l platforms.  Other systems get the one platform.
 * Not modelled: the _manylinux module override, macOS/iOS/Android platform ladders.
 * A tag set is immutable after creation; ranks come from a hash table (O(1) average).
 */
#ifndef HPCBUILD_TAGS_H
#define HPCBUILD_TAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/distname.h"
#include "hpcbuild/error.h"

enum hb_libc { HB_LIBC_NONE, HB_LIBC_GLIBC, HB_LIBC_MUSL };

typedef struct hb_python_target {
    char impl[8];          /* interpreter tag prefix: "cp", "pp", ... */
    int py_major, py_minor;
    char abi[32];          /* the interpreter's own ABI tag: "cp311", "cp313t", "pypy310_pp73" */
    bool free_threaded;    /* Py_GIL_DISABLED */
    char platform[64];     /* sysconfig.get_platform() with '-' and '.' -> '_', e.g. "linux_x86_64" */
    char arch[32];         /* "x86_64", "aarch64", "i686", ... (for manylinux/musllinux) */
    enum hb_libc libc;     /* HB_LIBC_NONE also when the interpreter's ELF ABI cannot load
                              manylinux wheels (x32 on x86_64, soft-float ARM) */
    int libc_major, libc_minor;   /* glibc 2.36, musl 1.2 */
} hb_python_target;

/* Asks an interpreter (a path, or a name searched on PATH) for its target, running it
 * once.  An interpreter that cannot run, or prints something else, is an error naming it. */
int hb_python_target_from_python(hb_python_target *t, const char *python, hb_error *err);
/* Fills a target for CPython X.Y on this machine's platform without running anything
 * (glibc from confstr(_CS_GNU_LIBC_VERSION); HB_LIBC_NONE when that is not available). */
int hb_python_target_native(hb_python_target *t, int py_major, int py_minor, hb_error *err);

typedef struct hb_tag_set hb_tag_set;   /* opaque: ordered tags + a hash for lookup */

/* The tags the target supports, most preferred first (see above). */
hb_tag_set *hb_tag_set_new(const hb_python_target *t);
void hb_tag_set_free(hb_tag_set *ts);
size_t hb_tag_set_count(const hb_tag_set *ts);
const char *hb_tag_set_get(const hb_tag_set *ts, size_t i);     /* "cp311-cp311-linux_x86_64" */
/* The position of one "py-abi-plat" tag (0 = best; ASCII case ignored), or -1 when
 * unsupported.  A tag listed twice ranks where it first appears. */
long hb_tag_set_rank(const hb_tag_set *ts, const char *tag);
/* The best (lowest) rank among a wheel's expanded tags, or -1 when none is supported. */
long hb_tag_set_rank_wheel(const hb_tag_set *ts, const hb_distname *wheel);

#endif
