/* elf.c — ELF headers, the dynamic segment and .gnu.version_r, read without trusting the file.
 *
 * The dynamic segment (PT_DYNAMIC) is what the loader reads: its DT_STRTAB and DT_VERNEED are
 * virtual addresses, mapped to file offsets through the PT_LOAD segments.  Files without program
 * headers (or whose addresses map nowhere) fall back to the section headers (SHT_DYNAMIC, its
 * sh_link string table, SHT_GNU_verneed).  Every read goes through elf_reader, which checks the
 * range first. */
#include "hpcbuild/elf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"

enum {
    PT_LOAD_ = 1, PT_DYNAMIC_ = 2,
    SHT_DYNAMIC_ = 6, SHT_GNU_VERNEED_ = 0x6ffffffe,
    DT_NULL_ = 0, DT_NEEDED_ = 1, DT_STRTAB_ = 5, DT_STRSZ_ = 10, DT_SONAME_ = 14, DT_RPATH_ = 15,
    DT_RUNPATH_ = 29,
};
#define DT_VERNEED_ 0x6ffffffeu
#define DT_VERNEEDNUM_ 0x6fffffffu

typedef struct elf_reader {
    const unsigned char *data;
    size_t len;
    bool is64, be;
    const char *what;
    hb_error *err;
} elf_reader;

/* A file region: [off, off + size). */
typedef struct region {
    uint64_t off, size;
    bool found;
} region;

static bool in_file(const elf_reader *r, uint64_t off, uint64_t size)
{
    return off <= r->len && size <= r->len - off;
}

static uint64_t get_uint(const elf_reader *r, uint64_t off, unsigned width)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++) {
        unsigned shift = r->be ? 8 * (width - 1 - i) : 8 * i;
        v |= (uint64_t)r->data[off + i] << shift;
    }
    return v;
}

/* Reads an unsigned field of width bytes at off, or fails naming it. */
static int rd(const elf_reader *r, uint64_t off, unsigned width, const char *field, uint64_t *out)
{
    if (!in_file(r, off, width))
        return hb_error_set(r->err, HB_EINVAL, "%s: truncated ELF file: %s at offset %llu is past the end (%zu bytes)",
                            r->what, field, (unsigned long long)off, r->len);
    *out = get_uint(r, off, width);
    return 0;
}

static unsigned word(const elf_reader *r) { return r->is64 ? 8 : 4; }

typedef struct segment {
    uint64_t type, offset, vaddr, filesz;
} segment;

typedef struct section {
    uint64_t type, offset, size, link, info;
} section;

typedef struct elf_layout {
    segment *phdrs;
    size_t nphdrs;
    section *shdrs;
    size_t nshdrs;
} elf_layout;

static int read_phdrs(const elf_reader *r, uint64_t phoff, uint64_t entsize, uint64_t num, elf_layout *l)
{
    if (num == 0)
        return 0;
    uint64_t need = r->is64 ? 56 : 32;
    if (entsize < need)
        return hb_error_set(r->err, HB_EINVAL, "%s: e_phentsize %llu is smaller than a program header (%llu)", r->what,
                            (unsigned long long)entsize, (unsigned long long)need);
    if (num > r->len / entsize || !in_file(r, phoff, num * entsize))
        return hb_error_set(r->err, HB_EINVAL, "%s: program headers (%llu at offset %llu) run past the end of the file",
                            r->what, (unsigned long long)num, (unsigned long long)phoff);
    l->phdrs = hb_calloc(num, sizeof *l->phdrs);
    l->nphdrs = num;
    for (uint64_t i = 0; i < num; i++) {
        uint64_t p = phoff + i * entsize;
        segment *s = &l->phdrs[i];
        s->type = get_uint(r, p, 4);
        if (r->is64) {
            s->offset = get_uint(r, p + 8, 8);
            s->vaddr = get_uint(r, p + 16, 8);
            s->filesz = get_uint(r, p + 32, 8);
        } else {
            s->offset = get_uint(r, p + 4, 4);
            s->vaddr = get_uint(r, p + 8, 4);
            s->filesz = get_uint(r, p + 16, 4);
        }
    }
    return 0;
}

static int read_shdrs(const elf_reader *r, uint64_t shoff, uint64_t entsize, uint64_t num, elf_layout *l)
{
    if (num == 0 || shoff == 0)
        return 0;
    uint64_t need = r->is64 ? 64 : 40;
    /* Section headers are only a fallback: unusable ones are ignored, not fatal. */
    if (entsize < need || num > r->len / entsize || !in_file(r, shoff, num * entsize))
        return 0;
    l->shdrs = hb_calloc(num, sizeof *l->shdrs);
    l->nshdrs = num;
    for (uint64_t i = 0; i < num; i++) {
        uint64_t p = shoff + i * entsize;
        section *s = &l->shdrs[i];
        s->type = get_uint(r, p + 4, 4);
        if (r->is64) {
            s->offset = get_uint(r, p + 24, 8);
            s->size = get_uint(r, p + 32, 8);
            s->link = get_uint(r, p + 40, 4);
            s->info = get_uint(r, p + 44, 4);
        } else {
            s->offset = get_uint(r, p + 16, 4);
            s->size = get_uint(r, p + 20, 4);
            s->link = get_uint(r, p + 24, 4);
            s->info = get_uint(r, p + 28, 4);
        }
    }
    return 0;
}

/* The file offset of virtual address addr, through the PT_LOAD segments. */
static bool vaddr_to_offset(const elf_layout *l, uint64_t addr, uint64_t *off)
{
    for (size_t i = 0; i < l->nphdrs; i++) {
        const segment *s = &l->phdrs[i];
        if (s->type == PT_LOAD_ && addr >= s->vaddr && addr - s->vaddr < s->filesz) {
            *off = s->offset + (addr - s->vaddr);
            return true;
        }
    }
    return false;
}

static const section *find_section(const elf_layout *l, uint64_t type)
{
    for (size_t i = 0; i < l->nshdrs; i++)
        if (l->shdrs[i].type == type)
            return &l->shdrs[i];
    return NULL;
}

static region section_region(const elf_layout *l, uint64_t index)
{
    region g = {0, 0, false};
    if (index < l->nshdrs && index != 0) {
        g.off = l->shdrs[index].offset;
        g.size = l->shdrs[index].size;
        g.found = true;
    }
    return g;
}

/* A NUL-terminated string at offset idx of the string table; a copy. */
static int strtab_get(const elf_reader *r, region tab, uint64_t idx, const char *field, char **out)
{
    if (tab.off >= r->len)
        return hb_error_set(r->err, HB_EINVAL, "%s: the string table (offset %llu) for %s is past the end of the file",
                            r->what, (unsigned long long)tab.off, field);
    uint64_t end = tab.size <= r->len - tab.off ? tab.off + tab.size : r->len;
    if (idx >= end - tab.off)
        return hb_error_set(r->err, HB_EINVAL, "%s: %s string offset %llu is outside the string table", r->what, field,
                            (unsigned long long)idx);
    const char *s = (const char *)r->data + tab.off + idx;
    const char *nul = memchr(s, '\0', end - tab.off - idx);
    if (!nul)
        return hb_error_set(r->err, HB_EINVAL, "%s: %s string at offset %llu is not NUL-terminated", r->what, field,
                            (unsigned long long)idx);
    *out = hb_strndup(s, (size_t)(nul - s));
    return 0;
}

/* The dynamic entries we use; the string fields are string table offsets. */
typedef struct dyn_info {
    uint64_t *needed;
    size_t nneeded;
    bool has_strtab, has_strsz, has_soname, has_rpath, has_runpath, has_verneed;
    uint64_t strtab, strsz, soname, rpath, runpath, verneed, verneednum;
} dyn_info;

static int read_dynamic(const elf_reader *r, region dyn, dyn_info *d)
{
    unsigned w = word(r);
    uint64_t n = dyn.size / (2 * w);
    if (!in_file(r, dyn.off, n * 2 * w))
        return hb_error_set(r->err, HB_EINVAL, "%s: the dynamic section (offset %llu, %llu bytes) runs past the end of the file",
                            r->what, (unsigned long long)dyn.off, (unsigned long long)dyn.size);
    size_t cap = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t p = dyn.off + i * 2 * w;
        uint64_t tag = get_uint(r, p, w), val = get_uint(r, p + w, w);
        if (tag == DT_NULL_)
            break;
        switch (tag) {
        case DT_NEEDED_:
            if (d->nneeded == cap) {
                cap = cap ? 2 * cap : 8;
                d->needed = hb_reallocarray(d->needed, cap, sizeof *d->needed);
            }
            d->needed[d->nneeded++] = val;
            break;
        case DT_STRTAB_: d->has_strtab = true, d->strtab = val; break;
        case DT_STRSZ_: d->has_strsz = true, d->strsz = val; break;
        case DT_SONAME_: d->has_soname = true, d->soname = val; break;
        case DT_RPATH_: d->has_rpath = true, d->rpath = val; break;
        case DT_RUNPATH_: d->has_runpath = true, d->runpath = val; break;
        case DT_VERNEED_: d->has_verneed = true, d->verneed = val; break;
        case DT_VERNEEDNUM_: d->verneednum = val; break;
        default: break;
        }
    }
    return 0;
}

/* Walks Elf_Verneed records at off (count of them) and their Elf_Vernaux entries. */
static int read_verneed(const elf_reader *r, region strtab, uint64_t off, uint64_t count, hb_elf *e)
{
    /* Each record takes 16 distinct bytes, so a valid count is bounded by the file size. */
    if (count > r->len / 16)
        return hb_error_set(r->err, HB_EINVAL, "%s: version needs count %llu is larger than the file allows", r->what,
                            (unsigned long long)count);
    e->verneed = hb_calloc(count ? count : 1, sizeof *e->verneed);
    for (uint64_t i = 0; i < count; i++) {
        uint64_t vn_cnt, vn_file, vn_aux, vn_next;
        if (rd(r, off + 2, 2, "vn_cnt", &vn_cnt) || rd(r, off + 4, 4, "vn_file", &vn_file) ||
            rd(r, off + 8, 4, "vn_aux", &vn_aux) || rd(r, off + 12, 4, "vn_next", &vn_next))
            return -1;
        hb_elf_verneed *v = &e->verneed[e->nverneed++];
        if (strtab_get(r, strtab, vn_file, "vn_file", &v->file))
            return -1;
        v->versions = hb_calloc(vn_cnt + 1, sizeof *v->versions);
        uint64_t a = off + vn_aux;
        for (uint64_t j = 0; j < vn_cnt; j++) {
            uint64_t vna_name, vna_next;
            if (rd(r, a + 8, 4, "vna_name", &vna_name) || rd(r, a + 12, 4, "vna_next", &vna_next))
                return -1;
            if (strtab_get(r, strtab, vna_name, "vna_name", &v->versions[v->nversions]))
                return -1;
            v->nversions++;
            if (vna_next == 0)
                break;
            a += vna_next;
        }
        if (vn_next == 0)
            break;
        off += vn_next;
    }
    return 0;
}

static char **strv_from_needed(const elf_reader *r, region strtab, const dyn_info *d, size_t *n)
{
    char **v = hb_calloc(d->nneeded + 1, sizeof *v);
    for (*n = 0; *n < d->nneeded; (*n)++)
        if (strtab_get(r, strtab, d->needed[*n], "DT_NEEDED", &v[*n]))
            break;
    return v;
}

static int read_dynamic_info(const elf_reader *r, const elf_layout *l, hb_elf *e)
{
    region dyn = {0, 0, false};
    const section *dynsec = find_section(l, SHT_DYNAMIC_);
    for (size_t i = 0; i < l->nphdrs; i++)
        if (l->phdrs[i].type == PT_DYNAMIC_) {
            dyn = (region){l->phdrs[i].offset, l->phdrs[i].filesz, true};
            e->has_dynamic = true;
            break;
        }
    if (!dyn.found && dynsec)
        dyn = (region){dynsec->offset, dynsec->size, true};
    if (!dyn.found)
        return 0;

    dyn_info d = {0};
    int rc = -1;
    if (read_dynamic(r, dyn, &d))
        goto out;
    region strtab = {0, 0, false};
    if (d.has_strtab && vaddr_to_offset(l, d.strtab, &strtab.off)) {
        strtab.size = d.has_strsz ? d.strsz : r->len - strtab.off;
        strtab.found = true;
    } else if (dynsec) {
        strtab = section_region(l, dynsec->link);
    }
    bool uses_strings = d.nneeded || d.has_soname || d.has_rpath || d.has_runpath || d.has_verneed;
    if (!strtab.found && uses_strings) {
        hb_error_set(r->err, HB_EINVAL, "%s: the dynamic section has %s no usable DT_STRTAB", r->what,
                     d.has_strtab ? "a DT_STRTAB address that maps to no PT_LOAD segment and" : "string entries but");
        goto out;
    }
    e->needed = strv_from_needed(r, strtab, &d, &e->nneeded);
    if (e->nneeded < d.nneeded)
        goto out;
    if ((d.has_soname && strtab_get(r, strtab, d.soname, "DT_SONAME", &e->soname)) ||
        (d.has_rpath && strtab_get(r, strtab, d.rpath, "DT_RPATH", &e->rpath)) ||
        (d.has_runpath && strtab_get(r, strtab, d.runpath, "DT_RUNPATH", &e->runpath)))
        goto out;
    uint64_t vn_off;
    const section *vnsec = find_section(l, SHT_GNU_VERNEED_);
    if (d.has_verneed && d.verneednum && vaddr_to_offset(l, d.verneed, &vn_off))
        rc = read_verneed(r, strtab, vn_off, d.verneednum, e);
    else if (vnsec)
        rc = read_verneed(r, d.has_strtab ? strtab : section_region(l, vnsec->link), vnsec->offset, vnsec->info, e);
    else if (d.has_verneed && d.verneednum)
        rc = hb_error_set(r->err, HB_EINVAL, "%s: DT_VERNEED address 0x%llx maps to no PT_LOAD segment", r->what,
                          (unsigned long long)d.verneed);
    else
        rc = 0;
out:
    free(d.needed);
    return rc;
}

int hb_elf_parse(hb_elf *e, const unsigned char *data, size_t len, const char *what, hb_error *err)
{
    memset(e, 0, sizeof *e);
    if (len < 4 || memcmp(data, "\177ELF", 4) != 0)
        return hb_error_set(err, HB_EINVAL, "%s: not an ELF file", what);
    if (len < 16)
        return hb_error_set(err, HB_EINVAL, "%s: truncated ELF file: %zu bytes is shorter than the ELF header", what, len);
    elf_reader r = {data, len, false, false, what, err};
    if (data[4] != 1 && data[4] != 2)
        return hb_error_set(err, HB_EINVAL, "%s: ELF class %u is neither ELFCLASS32 nor ELFCLASS64", what, data[4]);
    if (data[5] != 1 && data[5] != 2)
        return hb_error_set(err, HB_EINVAL, "%s: ELF data encoding %u is neither little nor big endian", what, data[5]);
    r.is64 = e->is64 = data[4] == 2;
    r.be = e->big_endian = data[5] == 2;
    if (len < (r.is64 ? 64u : 52u))
        return hb_error_set(err, HB_EINVAL, "%s: truncated ELF file: %zu bytes is shorter than the ELF header", what, len);
    e->type = (uint16_t)get_uint(&r, 16, 2);
    e->machine = (uint16_t)get_uint(&r, 18, 2);
    unsigned w = word(&r);
    uint64_t phoff = get_uint(&r, 24 + w, w), shoff = get_uint(&r, 24 + 2 * w, w);
    uint64_t h = 24 + 3 * w + 4; /* e_ehsize */
    uint64_t phentsize = get_uint(&r, h + 2, 2), phnum = get_uint(&r, h + 4, 2);
    uint64_t shentsize = get_uint(&r, h + 6, 2), shnum = get_uint(&r, h + 8, 2);

    elf_layout l = {0};
    int rc = read_phdrs(&r, phoff, phentsize, phnum, &l);
    if (rc == 0)
        rc = read_shdrs(&r, shoff, shentsize, shnum, &l);
    if (rc == 0)
        rc = read_dynamic_info(&r, &l, e);
    free(l.phdrs);
    free(l.shdrs);
    if (rc != 0) {
        hb_elf_free(e);
        return -1;
    }
    e->needed = e->needed ? e->needed : hb_calloc(1, sizeof *e->needed);
    return 0;
}

int hb_elf_read(hb_elf *e, const char *path, hb_error *err)
{
    memset(e, 0, sizeof *e);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hb_error_set(err, HB_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return hb_error_set(err, HB_EINVAL, "%s: not an ELF file (not a regular file)", path);
    }
    size_t len = (size_t)st.st_size;
    if (len == 0) {
        close(fd);
        return hb_error_set(err, HB_EINVAL, "%s: not an ELF file", path);
    }
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return hb_error_set(err, HB_EIO, "%s: cannot map: %s", path, strerror(errno));
    int rc = hb_elf_parse(e, map, len, path, err);
    munmap(map, len);
    return rc;
}

void hb_elf_free(hb_elf *e)
{
    if (!e)
        return;
    hb_strv_free(e->needed);
    free(e->soname);
    free(e->rpath);
    free(e->runpath);
    for (size_t i = 0; i < e->nverneed; i++) {
        free(e->verneed[i].file);
        hb_strv_free(e->verneed[i].versions);
    }
    free(e->verneed);
    memset(e, 0, sizeof *e);
}

/* Compares dotted numeric versions "2.17" and "2.2.5" component by component. */
static int compare_dotted(const char *a, const char *b)
{
    while (*a || *b) {
        unsigned long long x = 0, y = 0;
        while (*a >= '0' && *a <= '9')
            x = x * 10 + (unsigned)(*a++ - '0');
        while (*b >= '0' && *b <= '9')
            y = y * 10 + (unsigned)(*b++ - '0');
        if (x != y)
            return x < y ? -1 : 1;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
    }
    return 0;
}

static bool is_dotted_number(const char *s)
{
    if (!(*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s == '.' && s[1] >= '0' && s[1] <= '9')))
            return false;
    return true;
}

const char *hb_elf_max_version(const hb_elf *e, const char *family)
{
    size_t fl = strlen(family);
    const char *best = NULL;
    for (size_t i = 0; i < e->nverneed; i++)
        for (size_t j = 0; j < e->verneed[i].nversions; j++) {
            const char *v = e->verneed[i].versions[j];
            if (strncmp(v, family, fl) != 0 || v[fl] != '_' || !is_dotted_number(v + fl + 1))
                continue;
            if (!best || compare_dotted(v + fl + 1, best) > 0)
                best = v + fl + 1;
        }
    return best;
}
