/* hpcbuild elf FILE... [--resolve] [--json]: what the ELF reader sees in each file (debugging). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/elf.h"
#include "hpcbuild/json.h"
#include "hpcbuild/strbuf.h"

static const char elf_help[] =
    "usage: hpcbuild elf FILE... [--resolve] [--json]\n\n"
    "Prints each ELF file's class, byte order, type, machine, DT_SONAME, DT_RPATH, DT_RUNPATH,\n"
    "DT_NEEDED entries and version needs (.gnu.version_r), as the repair step reads them.\n"
    "--resolve  also where the loader would find each needed library (DT_RPATH, LD_LIBRARY_PATH\n"
    "           from the environment, DT_RUNPATH, /etc/ld.so.cache, default directories)\n"
    "--json     one JSON object a line\n"
    "A file that cannot be read or is not ELF prints one line on stderr; the exit status is then 2.\n\n"
    "Example: hpcbuild elf --resolve /usr/bin/ls\n";

static void write_json(strbuf *out, const char *file, const hb_elf *e, const hb_elf_resolved *r)
{
    hb_json_writer w;
    hb_json_writer_init(&w, out, 0);
    hb_json_begin_object(&w);
    hb_json_key(&w, "file");
    hb_json_string(&w, file);
    hb_json_key(&w, "class");
    hb_json_int64(&w, e->is64 ? 64 : 32);
    hb_json_key(&w, "big_endian");
    hb_json_bool(&w, e->big_endian);
    hb_json_key(&w, "type");
    hb_json_int64(&w, e->type);
    hb_json_key(&w, "machine");
    hb_json_int64(&w, e->machine);
    hb_json_key(&w, "has_dynamic");
    hb_json_bool(&w, e->has_dynamic);
    hb_json_member(&w, "soname", e->soname);
    hb_json_member(&w, "rpath", e->rpath);
    hb_json_member(&w, "runpath", e->runpath);
    hb_json_key(&w, "needed");
    hb_json_string_list(&w, e->needed);
    hb_json_key(&w, "verneed");
    hb_json_begin_array(&w);
    for (size_t i = 0; i < e->nverneed; i++) {
        hb_json_begin_object(&w);
        hb_json_key(&w, "file");
        hb_json_string(&w, e->verneed[i].file);
        hb_json_key(&w, "versions");
        hb_json_string_list(&w, e->verneed[i].versions);
        hb_json_end_object(&w);
    }
    hb_json_end_array(&w);
    if (r) {
        hb_json_key(&w, "resolved");
        hb_json_begin_array(&w);
        for (size_t i = 0; i < e->nneeded; i++) {
            hb_json_begin_object(&w);
            hb_json_key(&w, "name");
            hb_json_string(&w, r[i].name);
            hb_json_member(&w, "path", r[i].path);
            hb_json_member(&w, "via", r[i].via);
            hb_json_end_object(&w);
        }
        hb_json_end_array(&w);
    }
    hb_json_end_object(&w);
    strbuf_putc(out, '\n');
}

static void write_text(strbuf *out, const char *file, const hb_elf *e, const hb_elf_resolved *r)
{
    strbuf_printf(out, "%s: ELF%d %s-endian type %u machine %u%s\n", file, e->is64 ? 64 : 32,
                  e->big_endian ? "big" : "little", e->type, e->machine, e->has_dynamic ? "" : " (no PT_DYNAMIC)");
    if (e->soname)
        strbuf_printf(out, "  soname %s\n", e->soname);
    if (e->rpath)
        strbuf_printf(out, "  rpath %s\n", e->rpath);
    if (e->runpath)
        strbuf_printf(out, "  runpath %s\n", e->runpath);
    for (size_t i = 0; i < e->nneeded; i++) {
        strbuf_printf(out, "  needed %s", e->needed[i]);
        if (r)
            strbuf_printf(out, " => %s (%s)", r[i].path ? r[i].path : "not found", r[i].via ? r[i].via : "-");
        strbuf_putc(out, '\n');
    }
    for (size_t i = 0; i < e->nverneed; i++) {
        strbuf_printf(out, "  versions from %s:", e->verneed[i].file);
        for (size_t j = 0; j < e->verneed[i].nversions; j++)
            strbuf_printf(out, " %s", e->verneed[i].versions[j]);
        strbuf_putc(out, '\n');
    }
}

/* Reads one file and appends its report; false (with a message on stderr) when it cannot. */
static bool report_file(strbuf *out, const char *file, bool resolve, bool json)
{
    hb_elf e;
    hb_error err;
    hb_elf_resolved *r = NULL;
    if (hb_elf_read(&e, file, &err) != 0) {
        fprintf(stderr, "hpcbuild: %s\n", err.msg);
        return false;
    }
    if (resolve && hb_elf_resolve(&e, file, getenv("LD_LIBRARY_PATH"), &r, &err) != 0) {
        fprintf(stderr, "hpcbuild: %s\n", err.msg);
        hb_elf_free(&e);
        return false;
    }
    (json ? write_json : write_text)(out, file, &e, r);
    hb_elf_resolved_free(r, e.nneeded);
    hb_elf_free(&e);
    return true;
}

int cmd_elf(int argc, char **argv)
{
    bool resolve = false, json = false, options = true;
    int nfiles = 0, status = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            fputs(elf_help, stdout);
            return 0;
        }
        if (options && strcmp(a, "--") == 0)
            options = false;
        else if (options && strcmp(a, "--resolve") == 0)
            resolve = true;
        else if (options && strcmp(a, "--json") == 0)
            json = true;
        else if (options && a[0] == '-' && a[1])
            return cli_fail(CLI_USAGE, "elf: unknown option '%s' (expected --resolve or --json)", a);
        else
            nfiles++;
    }
    if (nfiles == 0)
        return cli_fail(CLI_USAGE, "elf: expected at least one FILE (see hpcbuild elf --help)");
    options = true;
    for (int i = 1; i < argc; i++) {
        if (options && strcmp(argv[i], "--") == 0) {
            options = false;
            continue;
        }
        if (options && argv[i][0] == '-' && argv[i][1])
            continue;
        strbuf out = STRBUF_INIT;
        if (!report_file(&out, argv[i], resolve, json))
            status = 2;
        fputs(strbuf_str(&out), stdout);
        strbuf_free(&out);
    }
    return status;
}
