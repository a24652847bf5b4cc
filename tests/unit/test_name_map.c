/* Unit tests for name_map.h: both directions, the shipped file, validation, paths, refresh. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "hpcbuild/name_map.h"

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/hb-test-names-XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_small(void)
{
    char *path = write_temp("{\"numpy\": \"numpy\", \"_openmp_mutex\": null, \"matplotlib-base\": \"matplotlib\","
                            " \"matplotlib\": \"matplotlib\", \"msgpack-python\": \"msgpack\","
                            " \"zope.interface\": \"Zope.Interface\", \"x\": \"a\", \"x\": \"b\"}");
    hb_name_map *m;
    hb_error err;
    CHECK_MSG(hb_name_map_load(&m, path, &err) == 0, "%s", err.msg);
    CHECK_INT(hb_name_map_size(m), 7);
    bool known;
    CHECK_STR(hb_name_map_pypi(m, "msgpack-python", &known), "msgpack");
    CHECK(known);
    CHECK(hb_name_map_pypi(m, "_openmp_mutex", &known) == NULL && known);
    CHECK(hb_name_map_pypi(m, "nope", &known) == NULL && !known);
    CHECK_STR(hb_name_map_pypi(m, "x", &known), "b");   /* the last duplicate wins */
    const char *const *names;
    size_t n;
    hb_name_map_conda(m, "matplotlib", &names, &n);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(names[0], "matplotlib-base");
        CHECK_STR(names[1], "matplotlib");
    }
    hb_name_map_conda(m, "zope_interface", &names, &n);
    CHECK(n == 1 && strcmp(names[0], "zope.interface") == 0);
    hb_name_map_conda(m, "a", &names, &n);
    CHECK_INT(n, 0);
    hb_name_map_conda(m, "nothing", &names, &n);
    CHECK(n == 0 && names == NULL);
    hb_name_map_free(m);
    unlink(path);
    free(path);
}

static void expect_bad(const char *text, const char *want)
{
    char *path = write_temp(text);
    hb_name_map *m = (hb_name_map *)1;
    hb_error err = {0};
    CHECK_INT(hb_name_map_load(&m, path, &err), -1);
    CHECK(m == NULL);
    CHECK_MSG(strstr(err.msg, want) != NULL, "got '%s', want '%s'", err.msg, want);
    unlink(path);
    free(path);
}

static void test_invalid(void)
{
    expect_bad("[]", "expected a JSON object");
    expect_bad("{\"a\": 1}", "key 'a': expected a PyPI name or null, found number");
    expect_bad("{\"a\\u0000\": \"b\"}", "may not contain NUL");
    expect_bad("{\"a\": ", "expected");
}

static void test_shipped(void)
{
    hb_name_map *m;
    hb_error err;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_MSG(hb_name_map_load(&m, "data/name-mapping/compressed_mapping.json", &err) == 0, "%s", err.msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("loaded %zu names in %.1f ms\n", hb_name_map_size(m), ms);
    CHECK(hb_name_map_size(m) > 20000);
    bool known;
    CHECK_STR(hb_name_map_pypi(m, "numpy", &known), "numpy");
    CHECK_STR(hb_name_map_pypi(m, "airflow", &known), "apache-airflow");
    CHECK(hb_name_map_pypi(m, "_openmp_mutex", &known) == NULL && known);
    const char *const *names;
    size_t n;
    hb_name_map_conda(m, "Matplotlib", &names, &n);
    CHECK(n >= 2);
    hb_name_map_free(m);
}

static void test_paths_and_refresh(void)
{
    char root[] = "/tmp/hb-test-cache-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char *p = hb_name_map_path(root, "/data");
    CHECK_STR(p, "/data/name-mapping/compressed_mapping.json");
    free(p);
    p = hb_name_map_path(NULL, "/data");
    CHECK_STR(p, "/data/name-mapping/compressed_mapping.json");
    free(p);

    char nested[128];
    snprintf(nested, sizeof nested, "%s/deeper/cache", root);
    char *bad = write_temp("{\"a\": 2}");
    hb_error err;
    size_t n = 0;
    CHECK_INT(hb_name_map_refresh(nested, bad, &n, &err), -1);
    CHECK_MSG(strstr(err.msg, "not replacing") != NULL, "%s", err.msg);
    char *good = write_temp("{\"numpy\": \"numpy\", \"libzlib\": null}");
    CHECK_MSG(hb_name_map_refresh(nested, good, &n, &err) == 0, "%s", err.msg);
    CHECK_INT(n, 2);
    p = hb_name_map_path(nested, "/data");
    char want[256];
    snprintf(want, sizeof want, "%s/mapping/compressed_mapping.json", nested);
    CHECK_STR(p, want);
    /* a failed refresh keeps the good copy */
    CHECK_INT(hb_name_map_refresh(nested, bad, &n, &err), -1);
    hb_name_map *m;
    CHECK(hb_name_map_load(&m, p, &err) == 0 && hb_name_map_size(m) == 2);
    hb_name_map_free(m);
    unlink(p);
    free(p);
    snprintf(want, sizeof want, "%s/mapping", nested);
    rmdir(want);
    rmdir(nested);
    snprintf(want, sizeof want, "%s/deeper", root);
    rmdir(want);
    rmdir(root);
    unlink(bad);
    unlink(good);
    free(bad);
    free(good);
}

int main(void)
{
    test_small();
    test_invalid();
    test_shipped();
    test_paths_and_refresh();
    return check_finish();
}
