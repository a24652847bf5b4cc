/* Unit tests: RECORD as CSV and its hashes, entry_points.txt, shebangs and wrappers
 * (wheel_record.h, wheel_scripts.h), and a small install/uninstall round trip (wheel_install.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "hpcbuild/alloc.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/wheel_install.h"
#include "hpcbuild/wheel_record.h"
#include "hpcbuild/wheel_scripts.h"

static void test_record_csv(void)
{
    hb_record_row *r;
    size_t n;
    hb_error err;
    const char *text = "a.py,sha256=x,3\r\n"
                       "\"b,c.py\",sha256=y,\"4\"\n"
                       "\n"
                       "\"q\"\"uote\nd.py\",,\r"
                       "pkg-1.0.dist-info/RECORD,,";
    CHECK(hb_record_parse(text, strlen(text), "RECORD", &r, &n, &err) == 0);
    CHECK_INT(n, 4);
    if (n == 4) {
        CHECK_STR(r[0].path, "a.py");
        CHECK_STR(r[0].hash, "sha256=x");
        CHECK_STR(r[0].size, "3");
        CHECK_STR(r[1].path, "b,c.py");
        CHECK_STR(r[1].size, "4");
        CHECK_STR(r[2].path, "q\"uote\nd.py");
        CHECK_STR(r[2].hash, "");
        CHECK_INT(r[2].line, 4);
        CHECK_STR(r[3].path, "pkg-1.0.dist-info/RECORD");
        CHECK_INT(r[3].line, 6);
    }
    hb_record_rows_free(r, n);

    const char *two = "a.py,sha256=x\n";
    CHECK(hb_record_parse(two, strlen(two), "X/RECORD", &r, &n, &err) == -1);
    CHECK_STR(err.msg, "X/RECORD line 1: expected 3 fields (path,hash,size), got 2");
    const char *open_quote = "a.py,,\n\"b.py,,\n";
    CHECK(hb_record_parse(open_quote, strlen(open_quote), "RECORD", &r, &n, &err) == -1);
    CHECK(strstr(err.msg, "line 2: unexpected end of data") != NULL);
    CHECK(hb_record_parse("", 0, "RECORD", &r, &n, &err) == 0 && n == 0);
    hb_record_rows_free(r, n);
}

static void test_record_write(void)
{
    strbuf sb = STRBUF_INIT;
    hb_record_put_row(&sb, "a,b\"c.py", "sha256=x", 12);
    hb_record_put_row(&sb, "../../../bin/tool", NULL, -1);
    CHECK_STR(strbuf_str(&sb), "\"a,b\"\"c.py\",sha256=x,12\n../../../bin/tool,,\n");
    /* what we write reads back */
    hb_record_row *r;
    size_t n;
    CHECK(hb_record_parse(sb.buf, sb.len, "RECORD", &r, &n, NULL) == 0 && n == 2);
    if (n == 2)
        CHECK_STR(r[0].path, "a,b\"c.py");
    hb_record_rows_free(r, n);
    strbuf_free(&sb);
}

static void test_record_hashes(void)
{
    hb_error err;
    char *h = hb_record_sha256("hello\n", 6);
    /* python3 -c 'import base64,hashlib;print(base64.urlsafe_b64encode(hashlib.sha256(b"hello\n").digest()))' */
    CHECK_STR(h, "sha256=WJG1tSLV3whtD_CxEPvZ0hu0_HFjrzTQgoai6Eb2vgM");
    CHECK(hb_record_hash_check("a", h, "hello\n", 6, &err) == 0);
    CHECK(hb_record_hash_check("a", "sha256=WJG1tSLV3whtD_CxEPvZ0hu0_HFjrzTQgoai6Eb2vgM=", "hello\n", 6,
                               &err) == 0);
    CHECK(hb_record_hash_check("pkg/a.py", h, "hellO\n", 6, &err) == -1);
    CHECK(strstr(err.msg, "'pkg/a.py' has sha256=WJG1") != NULL);
    CHECK(hb_record_hash_check("a", "sha512=58IrmUxZ2c8rSOVJseJGZmNgRZMNPafBrLKZ0cO3-TH5Sq5B7dosKyB6NuEPi8uNRSI-"
                                    "VIePWzFufOO2vAGWKQ", "hello\n", 6, &err) == 0);
    CHECK(hb_record_hash_check("a", "md5=sZRqySSS0jR8YjW00mERhA", "hello\n", 6, &err) == -1);
    CHECK(strstr(err.msg, "hashed with 'md5': expected sha256 or stronger") != NULL);
    CHECK(hb_record_hash_check("a", "sha1=8cXzQ3pnFw1N1sxCB2YIEgLK5nI", "hello\n", 6, &err) == -1);
    CHECK(hb_record_hash_check("a", "", "hello\n", 6, &err) == -1);
    CHECK(strstr(err.msg, "'a' has no hash") != NULL);
    free(h);
}

static void test_entry_points(void)
{
    hb_entry_point *e;
    size_t n;
    hb_error err;
    const char *text = "# comment\n"
                       "[console_scripts]\n"
                       "Foo-Bar = pkg.cli:main\n"
                       "foo-bar=pkg.cli : Main.run [fast, color]\n"
                       "; another comment\n"
                       "\n"
                       "[gui_scripts]\r\n"
                       "gui = pkg.gui:start\r\n"
                       "  \r\n"
                       "[other.group]\n"
                       "plugin = pkg.plugins\n"
                       "wrapped =\n"
                       "    pkg.wrapped:fn\n";
    CHECK(hb_entry_points_parse(text, strlen(text), "entry_points.txt", &e, &n, &err) == 0);
    CHECK_INT(n, 5);
    if (n == 5) {
        CHECK_STR(e[0].group, "console_scripts");
        CHECK_STR(e[0].name, "Foo-Bar");
        CHECK_STR(e[0].module, "pkg.cli");
        CHECK_STR(e[0].attr, "main");
        CHECK(e[0].extras && !e[0].extras[0]);
        CHECK_STR(e[1].name, "foo-bar");   /* keys are case-sensitive: a second entry */
        CHECK_STR(e[1].attr, "Main.run");
        CHECK(e[1].extras && e[1].extras[0] && e[1].extras[1] && !e[1].extras[2]);
        if (e[1].extras && e[1].extras[0] && e[1].extras[1]) {
            CHECK_STR(e[1].extras[0], "fast");
            CHECK_STR(e[1].extras[1], "color");
        }
        CHECK_STR(e[2].group, "gui_scripts");
        CHECK_INT(e[2].line, 8);
        CHECK_STR(e[3].module, "pkg.plugins");
        CHECK(e[3].attr == NULL);
        CHECK_STR(e[4].module, "pkg.wrapped");
        CHECK_STR(e[4].attr, "fn");
    }
    hb_entry_points_free(e, n);

    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"x = a:b\n", "E line 1: 'x = a:b' comes before any [section]"},
        {"[s]\nx = a:b\nx = c:d\n", "E line 3: entry point 'x' already defined in [s]"},
        {"[s]\n[s]\n", "E line 2: section [s] already defined"},
        {"[s]\nx = a:\n", "E line 2: entry point 'x' in [s] is 'a:': expected 'module:attr [extras]'"},
        {"[s]\nx = a b\n", "E line 2: entry point 'x' in [s] is 'a b': expected 'module:attr [extras]'"},
        {"[s]\njust a line\n", "E line 2: 'just a line': expected 'name = value'"},
        {"[s]\n = a:b\n", "E line 2: '= a:b': expected 'name = value'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_MSG(hb_entry_points_parse(bad[i].text, strlen(bad[i].text), "E", &e, &n, &err) == -1, "%s",
                  bad[i].text);
        CHECK_STR(err.msg, bad[i].msg);
        CHECK(e == NULL && n == 0);
    }
}

static void test_shebangs(void)
{
    strbuf sb = STRBUF_INIT;
    hb_script_shebang(&sb, "/usr/bin/python3");
    CHECK_STR(strbuf_str(&sb), "#!/usr/bin/python3\n");
    strbuf_truncate(&sb, 0);
    hb_script_shebang(&sb, "/opt/my envs/bin/python");
    CHECK_STR(strbuf_str(&sb), "#!/bin/sh\n'''exec' '/opt/my envs/bin/python' \"$0\" \"$@\"\n' '''\n");
    strbuf_truncate(&sb, 0);
    hb_script_shebang(&sb, "/it's/python");   /* quotes alone do not need the trampoline */
    CHECK_STR(strbuf_str(&sb), "#!/it's/python\n");
    strbuf_truncate(&sb, 0);
    hb_script_shebang(&sb, "/it's a/python");
    CHECK_STR(strbuf_str(&sb), "#!/bin/sh\n'''exec' '/it'\"'\"'s a/python' \"$0\" \"$@\"\n' '''\n");

    /* "#!" + path + "\n" of exactly 127 bytes is kept; 128 takes the trampoline */
    char path[130];
    memset(path, 'p', sizeof path);
    path[0] = '/';
    path[124] = '\0';
    strbuf_truncate(&sb, 0);
    hb_script_shebang(&sb, path);
    CHECK(strncmp(strbuf_str(&sb), "#!/ppp", 6) == 0 && sb.len == 127);
    path[124] = 'p';
    path[125] = '\0';
    strbuf_truncate(&sb, 0);
    hb_script_shebang(&sb, path);
    CHECK(strncmp(strbuf_str(&sb), "#!/bin/sh\n'''exec' /ppp", 23) == 0);

    strbuf_truncate(&sb, 0);
    hb_script_entry_point(&sb, "/usr/bin/python3", "pkg.cli", "Main.run");
    CHECK_STR(strbuf_str(&sb), "#!/usr/bin/python3\n"
                               "# -*- coding: utf-8 -*-\n"
                               "import re\n"
                               "import sys\n"
                               "from pkg.cli import Main\n"
                               "if __name__ == \"__main__\":\n"
                               "    sys.argv[0] = re.sub(r\"(-script\\.pyw|\\.exe)?$\", \"\", sys.argv[0])\n"
                               "    sys.exit(Main.run())\n");

    static const char script[] = "#!python -u\nprint(1)\n";
    strbuf_truncate(&sb, 0);
    CHECK(hb_script_fix_shebang(&sb, script, strlen(script), "/usr/bin/python3"));
    CHECK_STR(strbuf_str(&sb), "#!/usr/bin/python3\nprint(1)\n");
    strbuf_truncate(&sb, 0);
    CHECK(hb_script_fix_shebang(&sb, "#!pythonw", 9, "/a b/python"));
    CHECK_STR(strbuf_str(&sb), "#!/bin/sh\n'''exec' '/a b/python' \"$0\" \"$@\"\n' '''\n");
    strbuf_truncate(&sb, 0);
    CHECK(!hb_script_fix_shebang(&sb, "#!/bin/sh\necho\n", 15, "/usr/bin/python3") && sb.len == 0);
    CHECK(!hb_script_fix_shebang(&sb, "#!pyth", 6, "/usr/bin/python3") && sb.len == 0);
    strbuf_free(&sb);
}

/* ---- a round trip through a temporary prefix ---- */

static void write_file(const char *dir, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    mkdir(dir, 0755);
    for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static bool exists(const char *dir, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    struct stat st;
    return lstat(path, &st) == 0;
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

/* A wheel of one module and one script whose RECORD is `record`. */
static void make_wheel(const char *dir, const char *record)
{
    write_file(dir, "Mod_X-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: Mod.X\nVersion: 1.0\n");
    write_file(dir, "Mod_X-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n");
    write_file(dir, "Mod_X-1.0.dist-info/RECORD", record);
    write_file(dir, "modx.py", "hello\n");
}

static int install(const char *prefix, const char *wheel, hb_error *err)
{
    hb_txn *t;
    if (hb_txn_begin(&t, prefix, 0, err) != 0)
        return -1;
    hb_wheel_install_opts o = {"/usr/bin/python3",
                               {"lib/site-packages", "lib/site-packages", "bin", "", "include/modx"},
                               "mod-x", true, "{}", HB_LINK_COPY, NULL};
    char **files;
    size_t n;
    if (hb_wheel_install(t, wheel, &o, &files, &n, err) != 0) {
        hb_txn_abort(t);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
    return hb_txn_commit(t, err);
}

static void test_round_trip(void)
{
    char tmp[] = "/tmp/hb-wheelinst-XXXXXX";
    if (!mkdtemp(tmp)) {
        CHECK(!"mkdtemp");
        return;
    }
    char wheel[300], prefix[300];
    snprintf(wheel, sizeof wheel, "%s/wheel", tmp);
    snprintf(prefix, sizeof prefix, "%s/prefix", tmp);
    const char *good = "modx.py,sha256=WJG1tSLV3whtD_CxEPvZ0hu0_HFjrzTQgoai6Eb2vgM,6\n"
                       "Mod_X-1.0.dist-info/METADATA,sha256=tkSWF8dly2VSDQexkPkB0EuxtOSaBw6dmnTY_YKV-yE,\n"
                       "Mod_X-1.0.dist-info/WHEEL,sha256=pOC2U1k6hCf_vkZe7h2snGRWx-C20Xjuc3a02KQn2OY,41\n"
                       "Mod_X-1.0.dist-info/RECORD,,\n";
    hb_error err;
    /* a wrong size is refused, naming the file */
    char *bad = hb_strdup(good);
    bad[strstr(bad, ",6\n") - bad + 1] = '7';
    make_wheel(wheel, bad);
    free(bad);
    CHECK(install(prefix, wheel, &err) == -1);
    CHECK(strstr(err.msg, "'modx.py' has size '7', but the file has 6 bytes") != NULL);
    CHECK(!exists(prefix, "lib/site-packages/modx.py"));

    make_wheel(wheel, good);
    CHECK_MSG(install(prefix, wheel, &err) == 0, "%s", err.msg);
    CHECK(exists(prefix, "lib/site-packages/modx.py"));
    CHECK(exists(prefix, "lib/site-packages/Mod_X-1.0.dist-info/REQUESTED"));
    CHECK(exists(prefix, "lib/site-packages/Mod_X-1.0.dist-info/direct_url.json"));
    write_file(prefix, "lib/site-packages/__pycache__/modx.cpython-311.pyc", "x");
    write_file(prefix, "lib/site-packages/__pycache__/modx.cpython-311.opt-1.pyc", "x");
    write_file(prefix, "lib/site-packages/__pycache__/modx.other.cpython-311.pyc", "x");
    write_file(prefix, "lib/site-packages/__pycache__/modx.pyc", "x");
    write_file(prefix, "lib/site-packages/modx.pyc", "x");

    hb_installed_dist *d;
    size_t n;
    CHECK(hb_wheel_list(prefix, "lib/site-packages", &d, &n, &err) == 0 && n == 1);
    if (n == 1) {
        CHECK_STR(d[0].name, "Mod.X");
        CHECK_STR(d[0].version, "1.0");
        CHECK_STR(d[0].installer, "hpcbuild");
        CHECK_STR(d[0].dist_info, "lib/site-packages/Mod_X-1.0.dist-info");
    }
    hb_installed_dists_free(d, n);

    hb_txn *t;
    CHECK(hb_txn_begin(&t, prefix, 0, &err) == 0);
    CHECK(hb_wheel_uninstall(t, "lib/site-packages", "MOD_x", &err) == 0);
    CHECK(hb_txn_commit(t, &err) == 0);
    CHECK(!exists(prefix, "lib/site-packages/modx.py"));
    CHECK(!exists(prefix, "lib/site-packages/Mod_X-1.0.dist-info"));
    CHECK(!exists(prefix, "lib/site-packages/__pycache__/modx.cpython-311.pyc"));
    CHECK(!exists(prefix, "lib/site-packages/__pycache__/modx.cpython-311.opt-1.pyc"));
    CHECK(exists(prefix, "lib/site-packages/__pycache__/modx.other.cpython-311.pyc"));
    CHECK(exists(prefix, "lib/site-packages/__pycache__/modx.pyc"));
    CHECK(!exists(prefix, "lib/site-packages/modx.pyc"));

    /* without RECORD: refused, naming the installer */
    write_file(prefix, "lib/site-packages/conda_thing-2.0.dist-info/METADATA",
               "Metadata-Version: 2.1\nName: conda-thing\nVersion: 2.0\n");
    write_file(prefix, "lib/site-packages/conda_thing-2.0.dist-info/INSTALLER", "conda\n");
    CHECK(hb_txn_begin(&t, prefix, 0, &err) == 0);
    CHECK(hb_wheel_uninstall(t, "lib/site-packages", "conda-thing", &err) == -1);
    CHECK_STR(err.msg, "'lib/site-packages/conda_thing-2.0.dist-info' has no RECORD: refusing to "
                       "uninstall conda-thing (installed by conda)");
    hb_txn_abort(t);
    rm_rf(tmp);
}

int main(void)
{
    test_record_csv();
    test_record_write();
    test_record_hashes();
    test_entry_points();
    test_shebangs();
    test_round_trip();
    return check_finish();
}
