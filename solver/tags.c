/* Supported wheel tags of a target interpreter, in packaging 26.3's order; see tags.h. */
#include "hpcbuild/tags.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/process.h"
#include "hpcbuild/strbuf.h"

/* ---- targets --------------------------------------------------------------------- */

/* Run by the target interpreter: prints key=value lines.  It follows packaging 26.3's
 * tags.py (_cpython_abis, _generic_abi, _linux_platforms), _manylinux.py (glibc and the
 * ELF ABI check for i686/armv7l) and _musllinux.py (PT_INTERP, run the loader). */
static const char target_script[] =
    "import os, re, struct, subprocess, sys, sysconfig\n"
    "cv = sysconfig.get_config_var\n"
    "def norm(s): return s.replace('.', '_').replace('-', '_').replace(' ', '_')\n"
    "name = sys.implementation.name\n"
    "impl = {'python': 'py', 'cpython': 'cp', 'pypy': 'pp', 'ironpython': 'ip',\n"
    "        'jython': 'jy'}.get(name, name)\n"
    "ma, mi = sys.version_info[:2]\n"
    "ft = (ma, mi) >= (3, 13) and bool(cv('Py_GIL_DISABLED'))\n"
    "if impl == 'cp':\n"
    "    fl = 't' if ft else ''\n"
    "    dbg = cv('Py_DEBUG')\n"
    "    if dbg or (dbg is None and hasattr(sys, 'gettotalrefcount')): fl += 'd'\n"
    "    if (ma, mi) < (3, 8):\n"
    "        pm = cv('WITH_PYMALLOC')\n"
    "        if pm or pm is None: fl += 'm'\n"
    "        us = cv('Py_UNICODE_SIZE')\n"
    "        if (ma, mi) < (3, 3) and (us == 4 or (us is None and sys.maxunicode == 0x10FFFF)): fl += 'u'\n"
    "    abi = 'cp%d%d%s' % (ma, mi, fl)\n"
    "else:\n"
    "    parts = (cv('EXT_SUFFIX') or '').split('.')\n"
    "    so = parts[1] if len(parts) >= 3 else ''\n"
    "    if so.startswith('cpython'): abi = 'cp' + so.split('-')[1]\n"
    "    elif so.startswith('cp'): abi = so.split('-')[0]\n"
    "    elif so.startswith('pypy'): abi = '-'.join(so.split('-')[:2])\n"
    "    elif so.startswith('graalpy'): abi = '-'.join(so.split('-')[:3])\n"
    "    else: abi = so\n"
    "    abi = norm(abi)\n"
    "plat = norm(sysconfig.get_platform())\n"
    "if plat.startswith('linux_') and struct.calcsize('P') == 4:\n"
    "    plat = {'linux_x86_64': 'linux_i686', 'linux_aarch64': 'linux_armv8l'}.get(plat, plat)\n"
    "arch = plat.split('_', 1)[1] if plat.startswith('linux_') else ''\n"
    "def elf(path):\n"
    "    try:\n"
    "        with open(path, 'rb') as f: data = f.read(1 << 16)\n"
    "        if data[:4] != b'\\x7fELF': return None\n"
    "        c64, end = data[4] == 2, '<' if data[5] == 1 else '>'\n"
    "        u = lambda fmt, off: struct.unpack_from(end + fmt, data, off)[0]\n"
    "        h = dict(c64=c64, lsb=data[5] == 1, machine=u('H', 18), flags=u('I', 48 if c64 else 36))\n"
    "        phoff, phsz, phn = (u('Q', 32), u('H', 54), u('H', 56)) if c64 else (u('I', 28), u('H', 42), u('H', 44))\n"
    "        h['interp'] = None\n"
    "        with open(path, 'rb') as f:\n"
    "            for i in range(phn):\n"
    "                f.seek(phoff + i * phsz); ph = f.read(phsz)\n"
    "                if struct.unpack_from(end + 'I', ph, 0)[0] != 3: continue\n"
    "                off, sz = struct.unpack_from(end + ('QQQQ' if c64 else 'IIII'), ph, 8 if c64 else 4)[0::3]\n"
    "                f.seek(off); h['interp'] = f.read(sz).strip(b'\\0').decode()\n"
    "        return h\n"
    "    except (OSError, ValueError, struct.error, IndexError, UnicodeDecodeError):\n"
    "        return None\n"
    "libc, ver = 'none', (0, 0)\n"
    "try: gv = os.confstr('CS_GNU_LIBC_VERSION').rsplit()[1]\n"
    "except (AttributeError, OSError, ValueError, IndexError): gv = None\n"
    "if not gv:\n"
    "    try:\n"
    "        import ctypes\n"
    "        f = ctypes.CDLL(None).gnu_get_libc_version\n"
    "        f.restype = ctypes.c_char_p\n"
    "        gv = f().decode('ascii')\n"
    "    except (ImportError, OSError, AttributeError): gv = None\n"
    "m = re.match(r'([0-9]+)\\.([0-9]+)', gv or '')\n"
    "if m:\n"
    "    libc, ver = 'glibc', (int(m.group(1)), int(m.group(2)))\n"
    "    h = elf(sys.executable)\n"
    "    archs = ['armv8l', 'armv7l'] if arch == 'armv8l' else [arch]\n"
    "    if 'armv7l' in archs:\n"
    "        ok = h and not h['c64'] and h['lsb'] and h['machine'] == 40 and \\\n"
    "            h['flags'] & 0xFF000000 == 0x05000000 and h['flags'] & 0x400\n"
    "        if not ok: libc = 'none'\n"
    "    elif 'i686' in archs:\n"
    "        if not (h and not h['c64'] and h['lsb'] and h['machine'] == 3): libc = 'none'\n"
    "elif plat.startswith('linux_'):\n"
    "    h = elf(sys.executable)\n"
    "    ld = h and h['interp']\n"
    "    if ld and 'musl' in ld:\n"
    "        try: err = subprocess.run([ld], stderr=subprocess.PIPE, universal_newlines=True).stderr\n"
    "        except OSError: err = ''\n"
    "        lines = [n for n in (n.strip() for n in err.splitlines()) if n]\n"
    "        m = len(lines) >= 2 and lines[0][:4] == 'musl' and re.match(r'Version (\\d+)\\.(\\d+)', lines[1])\n"
    "        if m: libc, ver = 'musl', (int(m.group(1)), int(m.group(2)))\n"
    "print('impl=%s\\nmajor=%d\\nminor=%d\\nabi=%s\\nfree_threaded=%d\\nplatform=%s\\narch=%s\\n'\n"
    "      'libc=%s\\nlibc_major=%d\\nlibc_minor=%d' % (impl, ma, mi, abi, ft, plat, arch, libc, ver[0], ver[1]))\n";

/* Copies value into a fixed field; false when it does not fit. */
static bool set_field(char *field, size_t size, const char *value, size_t len)
{
    if (len >= size)
        return false;
    memcpy(field, value, len);
    field[len] = '\0';
    return true;
}

static bool set_int(int *field, const char *value)
{
    char *end;
    long v = strtol(value, &end, 10);
    if (end == value || *end || v < -1 || v > 100000)
        return false;
    *field = (int)v;
    return true;
}

/* One "key=value" line of the script's answer into t; false when malformed. */
static bool read_target_line(hb_python_target *t, const char *line, size_t len, unsigned *seen)
{
    const char *eq = memchr(line, '=', len);
    if (!eq)
        return false;
    char key[16], value[128];
    if (!set_field(key, sizeof key, line, (size_t)(eq - line)) ||
        !set_field(value, sizeof value, eq + 1, len - (size_t)(eq - line) - 1))
        return false;
    static const char *const keys[] = {"impl", "major", "minor", "abi", "free_threaded", "platform",
                                       "arch", "libc", "libc_major", "libc_minor", NULL};
    size_t k = 0;
    while (keys[k] && strcmp(keys[k], key) != 0)
        k++;
    size_t vlen = strlen(value);
    int flag = 0;
    bool ok;
    switch (k) {
    case 0: ok = set_field(t->impl, sizeof t->impl, value, vlen); break;
    case 1: ok = set_int(&t->py_major, value); break;
    case 2: ok = set_int(&t->py_minor, value); break;
    case 3: ok = set_field(t->abi, sizeof t->abi, value, vlen); break;
    case 4: ok = set_int(&flag, value); t->free_threaded = flag != 0; break;
    case 5: ok = set_field(t->platform, sizeof t->platform, value, vlen); break;
    case 6: ok = set_field(t->arch, sizeof t->arch, value, vlen); break;
    case 7:
        ok = true;
        if (strcmp(value, "glibc") == 0)
            t->libc = HB_LIBC_GLIBC;
        else if (strcmp(value, "musl") == 0)
            t->libc = HB_LIBC_MUSL;
        else
            ok = strcmp(value, "none") == 0;
        break;
    case 8: ok = set_int(&t->libc_major, value); break;
    case 9: ok = set_int(&t->libc_minor, value); break;
    default: return false;
    }
    *seen |= 1u << k;
    return ok;
}

/* The last non-empty line of a child's stderr (a traceback's error), cut to 200 bytes. */
static void last_line(const char *text, const char **line, int *len)
{
    const char *last = text;
    for (const char *p = text; *p; p++)
        if (p[0] == '\n' && p[1] && p[1] != '\n')
            last = p + 1;
    size_t n = strcspn(last, "\n");
    *line = last;
    *len = (int)(n > 200 ? 200 : n);
}

int hb_python_target_from_python(hb_python_target *t, const char *python, hb_error *err)
{
    memset(t, 0, sizeof *t);
    const char *argv[] = {python, "-c", target_script, NULL};
    process_result r;
    if (process_run(argv, &r, err) != 0)
        return hb_error_prefix(err, "cannot ask the interpreter '%s' for its wheel tags", python);
    int rc = 0;
    if (r.exit_status != 0) {
        const char *line;
        int n;
        last_line(r.err ? r.err : "", &line, &n);
        rc = hb_error_set(err, HB_ESYS, "interpreter '%s' failed to report its wheel tag target "
                          "(exit status %d)%s%.*s", python, r.exit_status, n ? ": " : "", n, line);
        goto done;
    }
    unsigned seen = 0;
    for (const char *p = r.out; p < r.out + r.out_len;) {
        size_t n = strcspn(p, "\n");
        if (n && !read_target_line(t, p, n, &seen)) {
            rc = hb_error_set(err, HB_ESYS, "interpreter '%s' printed a malformed wheel tag target line "
                              "'%.*s'", python, (int)(n > 100 ? 100 : n), p);
            goto done;
        }
        p += n + (p[n] == '\n');
    }
    if (seen != (1u << 10) - 1)
        rc = hb_error_set(err, HB_ESYS, "interpreter '%s' printed an incomplete wheel tag target", python);
done:
    process_result_free(&r);
    if (rc != 0)
        memset(t, 0, sizeof *t);
    return rc;
}

int hb_python_target_native(hb_python_target *t, int py_major, int py_minor, hb_error *err)
{
    memset(t, 0, sizeof *t);
    if (py_major < 2 || py_major > 99 || py_minor < 0 || py_minor > 999)
        return hb_error_set(err, HB_EINVAL, "invalid Python version %d.%d: expected 3.X", py_major, py_minor);
    struct utsname u;
    if (uname(&u) != 0)
        return hb_error_set(err, HB_ESYS, "uname() failed: cannot tell this machine's platform");
    strcpy(t->impl, "cp");
    t->py_major = py_major;
    t->py_minor = py_minor;
    snprintf(t->abi, sizeof t->abi, "cp%d%d", py_major, py_minor);
    char sys[32];
    size_t i = 0;
    for (; u.sysname[i] && i + 1 < sizeof sys; i++)
        sys[i] = (u.sysname[i] >= 'A' && u.sysname[i] <= 'Z') ? (char)(u.sysname[i] - 'A' + 'a') : u.sysname[i];
    sys[i] = '\0';
    if (!set_field(t->arch, sizeof t->arch, u.machine, strlen(u.machine)))
        return hb_error_set(err, HB_ESYS, "machine name '%s' is too long", u.machine);
    snprintf(t->platform, sizeof t->platform, "%s_%s", sys, t->arch);
    for (char *p = t->platform; *p; p++)
        if (*p == '-' || *p == '.' || *p == ' ')
            *p = '_';
    if (strcmp(sys, "linux") != 0)
        t->arch[0] = '\0';
#ifdef _CS_GNU_LIBC_VERSION
    char libc[64];
    size_t n = confstr(_CS_GNU_LIBC_VERSION, libc, sizeof libc);
    const char *space = n && n <= sizeof libc ? strrchr(libc, ' ') : NULL;
    int major, minor;
    if (space && sscanf(space + 1, "%d.%d", &major, &minor) == 2) {
        t->libc = HB_LIBC_GLIBC;
        t->libc_major = major;
        t->libc_minor = minor;
    }
#endif
    return 0;
}

/* ---- tag sets -------------------------------------------------------------------- */

struct hb_tag_set {
    char **tags;
    size_t n, cap;
    size_t *slots;      /* open addressing: index + 1 into tags, 0 = empty */
    size_t mask;
};

typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

static void strlist_push(strlist *l, char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = hb_reallocarray(l->v, l->cap, sizeof *l->v);
    }
    l->v[l->n++] = s;
}

__attribute__((format(printf, 2, 3))) static void strlist_printf(strlist *l, const char *fmt, ...)
{
    strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    strlist_push(l, strbuf_detach(&sb));
}

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static bool in(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* _manylinux.platform_tags for archs, glibc major.minor. */
static void manylinux_platforms(strlist *out, const char *const *archs, size_t narchs, int major, int minor)
{
    static const char *const allowed[] = {"x86_64", "aarch64", "ppc64", "ppc64le", "s390x", "loongarch64",
                                          "riscv64", "i686", "armv7l", NULL};
    bool ok = false, x86 = false;
    for (size_t a = 0; a < narchs; a++) {
        ok |= in(archs[a], allowed);
        x86 |= strcmp(archs[a], "x86_64") == 0 || strcmp(archs[a], "i686") == 0;
    }
    if (!ok || major < 2)
        return;
    int oldest_minor = x86 ? 5 : 17;   /* on glibc 2.x; other majors go down to x.0 */
    for (size_t a = 0; a < narchs; a++)
        for (int ma = major; ma >= 2; ma--) {
            int top = ma == major ? minor : 50;   /* packaging's _LAST_GLIBC_MINOR guess */
            for (int mi = top; mi >= (ma == 2 ? oldest_minor : 0); mi--) {
                strlist_printf(out, "manylinux_%d_%d_%s", ma, mi, archs[a]);
                const char *legacy = ma != 2 ? NULL : mi == 17 ? "manylinux2014" : mi == 12 ? "manylinux2010"
                                                              : mi == 5 ? "manylinux1" : NULL;
                if (legacy)
                    strlist_printf(out, "%s_%s", legacy, archs[a]);
            }
        }
}

/* packaging's platform_tags() for the target. */
static void target_platforms(const hb_python_target *t, strlist *out)
{
    if (strncmp(t->platform, "linux_", 6) != 0) {
        strlist_push(out, hb_strdup(t->platform));
        return;
    }
    const char *arch = t->arch[0] ? t->arch : t->platform + 6;
    const char *archs[2] = {arch, "armv7l"};
    size_t narchs = strcmp(arch, "armv8l") == 0 ? 2 : 1;
    for (size_t a = 0; a < narchs; a++)
        strlist_printf(out, "linux_%s", archs[a]);
    if (t->libc == HB_LIBC_GLIBC)
        manylinux_platforms(out, archs, narchs, t->libc_major, t->libc_minor);
    if (t->libc == HB_LIBC_MUSL)
        for (size_t a = 0; a < narchs; a++)
            for (int mi = t->libc_minor; mi >= 0; mi--)
                strlist_printf(out, "musllinux_%d_%d_%s", t->libc_major, mi, archs[a]);
}

static void add_row(strlist *tags, const char *interp, const char *abi, const strlist *plats)
{
    for (size_t i = 0; i < plats->n; i++)
        strlist_printf(tags, "%s-%s-%s", interp, abi, plats->v[i]);
}

/* cpython_tags(): the interpreter's ABIs, the stable ABI, none, older stable ABIs. */
static void cpython_tags(strlist *tags, const hb_python_target *t, const char *nodot, const strlist *plats)
{
    char interp[40], plain[48];
    snprintf(interp, sizeof interp, "cp%s", nodot);
    const char *flags = t->abi + strspn(t->abi, "cp0123456789");
    bool threading = t->free_threaded || (strncmp(t->abi, "cp", 2) == 0 && strchr(flags, 't'));
    const char *skip[] = {"abi3", "none", threading ? "abi3t" : NULL, NULL};
    if (t->abi[0] && !in(t->abi, skip))
        add_row(tags, interp, t->abi, plats);
    /* A debug build also loads the plain (threading-flagged) ABI's extensions. */
    snprintf(plain, sizeof plain, "cp%s%s", nodot, threading ? "t" : "");
    if (strncmp(t->abi, "cp", 2) == 0 && strchr(flags, 'd') && (t->py_major > 3 || (t->py_major == 3 && t->py_minor >= 8)))
        add_row(tags, interp, plain, plats);
    bool stable = t->py_major > 3 || (t->py_major == 3 && t->py_minor >= 2);
    const char *stable_abi = threading ? "abi3t" : "abi3";
    if (stable)
        add_row(tags, interp, stable_abi, plats);
    add_row(tags, interp, "none", plats);
    if (stable)
        for (int mi = t->py_minor - 1; mi >= 2; mi--) {
            snprintf(interp, sizeof interp, "cp%d%d", t->py_major, mi);
            add_row(tags, interp, stable_abi, plats);
        }
}

/* compatible_tags(): pyXY, pyX, pyXW... on each platform, then on "any". */
static void compatible_tags(strlist *tags, const hb_python_target *t, const char *nodot, const strlist *plats)
{
    strlist range = {0};
    strlist_printf(&range, "py%s", nodot);
    strlist_printf(&range, "py%d", t->py_major);
    for (int mi = t->py_minor - 1; mi >= 0; mi--)
        strlist_printf(&range, "py%d%d", t->py_major, mi);
    for (size_t i = 0; i < range.n; i++)
        add_row(tags, range.v[i], "none", plats);
    if (strcmp(t->impl, "cp") == 0)
        strlist_printf(tags, "cp%s-none-any", nodot);
    else if (strcmp(t->impl, "pp") == 0)
        strlist_push(tags, hb_strdup("pp3-none-any"));
    for (size_t i = 0; i < range.n; i++)
        strlist_printf(tags, "%s-none-any", range.v[i]);
    strlist_free(&range);
}

static uint64_t hash_tag(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32u : c)) * 1099511628211ull;
    }
    return h;
}

static bool same_tag(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

hb_tag_set *hb_tag_set_new(const hb_python_target *t)
{
    strlist plats = {0}, tags = {0};
    target_platforms(t, &plats);
    char nodot[24];
    snprintf(nodot, sizeof nodot, "%d%d", t->py_major, t->py_minor);
    if (strcmp(t->impl, "cp") == 0) {
        cpython_tags(&tags, t, nodot, &plats);
    } else {
        char interp[48];
        snprintf(interp, sizeof interp, "%s%s", t->impl, nodot);
        if (t->abi[0] && strcmp(t->abi, "none") != 0)
            add_row(&tags, interp, t->abi, &plats);
        add_row(&tags, interp, "none", &plats);
    }
    compatible_tags(&tags, t, nodot, &plats);
    strlist_free(&plats);

    hb_tag_set *ts = hb_calloc(1, sizeof *ts);
    ts->tags = tags.v;
    ts->n = tags.n;
    ts->cap = tags.cap;
    size_t size = 16;
    while (size < ts->n * 2)
        size *= 2;
    ts->slots = hb_calloc(size, sizeof *ts->slots);
    ts->mask = size - 1;
    for (size_t i = 0; i < ts->n; i++) {
        size_t s = (size_t)hash_tag(ts->tags[i]) & ts->mask;
        while (ts->slots[s] && !same_tag(ts->tags[ts->slots[s] - 1], ts->tags[i]))
            s = (s + 1) & ts->mask;
        if (!ts->slots[s])
            ts->slots[s] = i + 1;   /* a duplicate keeps its first position */
    }
    return ts;
}

void hb_tag_set_free(hb_tag_set *ts)
{
    if (!ts)
        return;
    for (size_t i = 0; i < ts->n; i++)
        free(ts->tags[i]);
    free(ts->tags);
    free(ts->slots);
    free(ts);
}

size_t hb_tag_set_count(const hb_tag_set *ts)
{
    return ts->n;
}

const char *hb_tag_set_get(const hb_tag_set *ts, size_t i)
{
    return i < ts->n ? ts->tags[i] : NULL;
}

long hb_tag_set_rank(const hb_tag_set *ts, const char *tag)
{
    for (size_t s = (size_t)hash_tag(tag) & ts->mask; ts->slots[s]; s = (s + 1) & ts->mask)
        if (same_tag(ts->tags[ts->slots[s] - 1], tag))
            return (long)(ts->slots[s] - 1);
    return -1;
}

long hb_tag_set_rank_wheel(const hb_tag_set *ts, const hb_distname *wheel)
{
    long best = -1;
    for (size_t i = 0; i < wheel->ntags; i++) {
        long r = hb_tag_set_rank(ts, wheel->tags[i]);
        if (r >= 0 && (best < 0 || r < best))
            best = r;
    }
    return best;
}
