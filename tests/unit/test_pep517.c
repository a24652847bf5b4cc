/* Unit tests for pep517.h's hook calls with /usr/bin/python3 and in-tree backends
 * (backend-path): the three hooks, the prepare_metadata fallback and the wheel it leaves for
 * build_wheel, config settings, a raising hook (exception, log path, log tail), a backend that
 * cannot be imported, an interpreter that cannot run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "tmptree.h"
#include "hpcbuild/build_fs.h"
#include "hpcbuild/pep517.h"

#define PY "/usr/bin/python3"

/* A backend that writes a one-file wheel and counts its builds in builds.txt (cwd: the tree). */
static const char backend[] =
    "import os, zipfile\n"
    "NAME = 'demo-1.0-py3-none-any.whl'\n"
    "def get_requires_for_build_wheel(config_settings=None):\n"
    "    return ['cython>=3', 'numpy; python_version>\"3\"'] + config_settings.get('extra', [])\n"
    "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n"
    "    with open('builds.txt', 'a') as f:\n"
    "        f.write('build\\n')\n"
    "    if config_settings.get('fail'):\n"
    "        print('compiler says: demo.c:1: error: boom')\n"
    "        raise ValueError('boom')\n"
    "    with zipfile.ZipFile(os.path.join(wheel_directory, NAME), 'w') as z:\n"
    "        z.writestr('demo-1.0.dist-info/METADATA',\n"
    "                   'Metadata-Version: 2.1\\nName: demo\\nVersion: 1.0\\n')\n"
    "        z.writestr('demo-1.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\n')\n"
    "    return NAME\n";

static const char pyproject[] = "[build-system]\nrequires = []\nbuild-backend = \"demo_backend\"\n"
                                "backend-path = [\"backend\"]\n";

static int count_builds(void)
{
    char *t = hb_file_tail(at("tree/builds.txt"), 100);
    int n = 0;
    for (const char *p = t; (p = strstr(p, "build")); p++)
        n++;
    free(t);
    return n;
}

static void test_hooks(void)
{
    write_file("tree/pyproject.toml", pyproject);
    write_file("tree/backend/demo_backend.py", backend);
    const char *cs[] = {"extra=a", "extra=b", NULL};
    hb_pep517_request req = {.source_dir = at("tree"), .python = PY, .config_settings = cs,
                             .log_path = at("build.log")};
    hb_pep517_result res;
    hb_error err;
    CHECK(hb_pep517_hook(HB_HOOK_GET_REQUIRES_FOR_BUILD_WHEEL, &req, &res, &err) == 0);
    CHECK(res.requires && res.requires[0] && strcmp(res.requires[0], "cython>=3") == 0);
    CHECK(res.requires && res.requires[1] && res.requires[2] && res.requires[3] &&
          strcmp(res.requires[3], "b") == 0 && !res.requires[4]);
    hb_pep517_result_free(&res);

    /* no prepare_metadata hook: the wheel is built, its .dist-info extracted */
    req.out_dir = at("meta");
    CHECK(hb_pep517_hook(HB_HOOK_PREPARE_METADATA_FOR_BUILD_WHEEL, &req, &res, &err) == 0);
    CHECK_STR(res.basename, "demo-1.0.dist-info");
    CHECK(access(at("meta/demo-1.0.dist-info/METADATA"), F_OK) == 0);
    CHECK_INT(count_builds(), 1);
    hb_pep517_result_free(&res);
    /* build_wheel with that metadata directory copies the wheel instead of building again */
    req.out_dir = at("wheels");
    req.metadata_dir = at("meta/demo-1.0.dist-info");
    CHECK(hb_pep517_hook(HB_HOOK_BUILD_WHEEL, &req, &res, &err) == 0);
    CHECK_STR(res.basename, "demo-1.0-py3-none-any.whl");
    CHECK(access(at("wheels/demo-1.0-py3-none-any.whl"), F_OK) == 0);
    CHECK_INT(count_builds(), 1);
    hb_pep517_result_free(&res);
    req.metadata_dir = NULL;
    CHECK(hb_pep517_hook(HB_HOOK_BUILD_WHEEL, &req, &res, &err) == 0);
    CHECK_INT(count_builds(), 2);
    hb_pep517_result_free(&res);
    char *log = hb_file_tail(at("build.log"), 100);
    CHECK(strstr(log, "== hpcbuild: build_wheel in ") != NULL);
    free(log);

    /* a raising hook: the exception and the log in the error, the tail in the result */
    const char *fail[] = {"fail=1", NULL};
    req.config_settings = fail;
    CHECK(hb_pep517_hook(HB_HOOK_BUILD_WHEEL, &req, &res, &err) == -1);
    CHECK_INT(err.code, HB_ESYS);
    CHECK_MSG(strstr(err.msg, ": build_wheel failed: ValueError: boom (log: ") &&
                  strstr(err.msg, "build.log)"),
              "%s", err.msg);
    CHECK(res.log_tail && strstr(res.log_tail, "compiler says: demo.c:1: error: boom") &&
          strstr(res.log_tail, "ValueError: boom"));
    hb_pep517_result_free(&res);

    /* a bad config setting */
    const char *bad[] = {"novalue", NULL};
    req.config_settings = bad;
    CHECK(hb_pep517_hook(HB_HOOK_BUILD_WHEEL, &req, &res, &err) == -1);
    CHECK_STR(err.msg, "invalid config setting 'novalue': expected KEY=VALUE");
    hb_pep517_result_free(&res);
}

static void test_failures(void)
{
    hb_pep517_result res;
    hb_error err;
    /* a backend that is not importable */
    write_file("nob/pyproject.toml", "[build-system]\nrequires = []\n"
                                     "build-backend = \"hb_no_such_backend:x\"\n");
    hb_pep517_request req = {.source_dir = at("nob"), .python = PY, .out_dir = at("w"),
                             .log_path = at("nob.log")};
    CHECK(hb_pep517_hook(HB_HOOK_BUILD_WHEEL, &req, &res, &err) == -1);
    CHECK_MSG(strstr(err.msg, "build_wheel failed: cannot import build backend "
                              "hb_no_such_backend:x") != NULL,
              "%s", err.msg);
    hb_pep517_result_free(&res);
    /* the source tree's own modules are not importable as backends (no sys.path entry) */
    write_file("own/pyproject.toml", "[build-system]\nrequires = []\nbuild-backend = \"own\"\n");
    write_file("own/own.py", "def build_wheel(d, c=None, m=None):\n    return 'x.whl'\n");
    req.source_dir = at("own");
    CHECK(hb_pep517_hook(HB_HOOK_BUILD_WHEEL, &req, &res, &err) == -1);
    CHECK_MSG(strstr(err.msg, "cannot import build backend own") != NULL, "%s", err.msg);
    hb_pep517_result_free(&res);
    /* an interpreter that does not exist */
    req.python = at("no-python");
    CHECK(hb_pep517_hook(HB_HOOK_BUILD_WHEEL, &req, &res, &err) == -1);
    CHECK_MSG(strstr(err.msg, "cannot run ") != NULL, "%s", err.msg);
    hb_pep517_result_free(&res);
    /* a log that cannot be written */
    req.python = PY;
    req.log_path = at("no/such/dir/x.log");
    CHECK(hb_pep517_hook(HB_HOOK_BUILD_WHEEL, &req, &res, &err) == -1);
    CHECK_MSG(strstr(err.msg, "cannot open the build log") != NULL, "%s", err.msg);
    hb_pep517_result_free(&res);
}

int main(void)
{
    if (access(PY, X_OK) != 0) {
        printf("SKIP: %s not found\n", PY);
        return 0;
    }
    if (tmptree_init("pep517") != 0)
        return 2;
    test_hooks();
    test_failures();
    tmptree_done();
    return check_finish();
}
