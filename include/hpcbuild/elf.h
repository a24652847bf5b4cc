/* elf.h — reading ELF shared objects and executables (our own code: 32/64-bit, both endians).
 *
 * hb_elf_read parses one file: its class, machine, DT_NEEDED entries (in order), DT_SONAME,
 * DT_RPATH and DT_RUNPATH (as written, ':'-separated strings kept whole), and the versioned symbol
 * requirements (.gnu.version_r: per needed file, the version names such as GLIBC_2.17,
 * GLIBCXX_3.4.21).  A file that is not ELF is HB_EINVAL "not an ELF file" (callers skip those);
 * a truncated or inconsistent ELF is an error naming the file and what is wrong; nothing is
 * trusted: every offset and size is checked against the file.
 *
 * hb_elf_resolve finds each needed library the way the dynamic loader would for this file:
 * DT_RPATH (only when there is no DT_RUNPATH) with $ORIGIN/$LIB/$PLATFORM expanded, then
 * LD_LIBRARY_PATH (the value passed in), then DT_RUNPATH, then /etc/ld.so.cache (parsed by us,
 * the new format), then the default directories (/lib, /usr/lib and the multiarch ones for the
 * machine).  A library that is not found has path NULL.
 */
#ifndef HPCBUILD_ELF_H
#define HPCBUILD_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpcbuild/error.h"

typedef struct hb_elf_verneed {
    char *file;          /* the needed file the versions come from, e.g. "libc.so.6" */
    char **versions;     /* NULL-terminated, e.g. {"GLIBC_2.2.5", "GLIBC_2.17"} */
    size_t nversions;
} hb_elf_verneed;

typedef struct hb_elf {
    bool is64, big_endian;
    uint16_t type;       /* ET_EXEC, ET_DYN, ... */
    uint16_t machine;    /* EM_X86_64, EM_AARCH64, ... */
    char **needed;       /* NULL-terminated */
    size_t nneeded;
    char *soname;        /* or NULL */
    char *rpath, *runpath;   /* or NULL */
    hb_elf_verneed *verneed;
    size_t nverneed;
    bool has_dynamic;    /* a PT_DYNAMIC segment (static executables have none) */
} hb_elf;

int hb_elf_read(hb_elf *e, const char *path, hb_error *err);
/* The same from memory (len bytes); what names the data in errors. */
int hb_elf_parse(hb_elf *e, const unsigned char *data, size_t len, const char *what, hb_error *err);
void hb_elf_free(hb_elf *e);

typedef struct hb_elf_resolved {
    char *name;          /* the DT_NEEDED entry */
    char *path;          /* where the loader would find it, or NULL */
    const char *via;     /* "rpath", "LD_LIBRARY_PATH", "runpath", "ld.so.cache", "default", "direct"
                            (a name with a slash, used as is), or NULL */
} hb_elf_resolved;

/* file: the ELF's own path ($ORIGIN); ld_library_path may be NULL.  *out has e->nneeded entries. */
int hb_elf_resolve(const hb_elf *e, const char *file, const char *ld_library_path, hb_elf_resolved **out,
                   hb_error *err);
void hb_elf_resolved_free(hb_elf_resolved *r, size_t n);

/* The highest version of a family required (e.g. family "GLIBC" -> "2.17"), compared numerically;
 * NULL when none.  Borrowed from e. */
const char *hb_elf_max_version(const hb_elf *e, const char *family);

#endif
