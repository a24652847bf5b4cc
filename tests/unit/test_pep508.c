/* Unit tests of pyname, marker, pep508 and process that the vector tests do
 * not reach: escapes, both-quote values, nesting limits, environments, errors,
 * child processes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/marker.h"
#include "hpcbuild/pep508.h"
#include "hpcbuild/process.h"
#include "hpcbuild/pyname.h"

#include "check.h"

static void test_pyname(void)
{
    static const struct { const char *in, *canon, *wheel; bool valid, normalized; } cases[] = {
        {"Friendly.Bard", "friendly-bard", "friendly_bard", true, false},
        {"friendly_bard", "friendly-bard", "friendly_bard", true, false},
        {"FRIENDLY--BARD", "friendly-bard", "friendly_bard", true, false},
        {"friendly-bard", "friendly-bard", "friendly_bard", true, true},
        {"zope.interface", "zope-interface", "zope_interface", true, false},
        {"a", "a", "a", true, true},
        {"a_", "a-", "a_", false, false},
        {"-a", "-a", "_a", false, false},
        {"a b", "a b", "a b", false, false},
        {"", "", "", false, false},
        {"A1._-B2", "a1-b2", "a1_b2", true, false},
        {"a--b", "a-b", "a_b", true, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *in = cases[i].in;
        char *c = pyname_canonicalize(in, strlen(in)), *w = pyname_wheel_escape(in, strlen(in));
        CHECK_MSG(strcmp(c, cases[i].canon) == 0, "canonicalize(%s) = %s", in, c);
        CHECK_MSG(strcmp(w, cases[i].wheel) == 0, "wheel(%s) = %s", in, w);
        CHECK_MSG(pyname_is_valid(in, strlen(in)) == cases[i].valid, "valid(%s)", in);
        CHECK_MSG(pyname_is_normalized(in, strlen(in)) == cases[i].normalized, "normalized(%s)", in);
        CHECK_MSG(pyname_equal(in, strlen(in), cases[i].canon, strlen(cases[i].canon)), "equal(%s)", in);
        free(c);
        free(w);
    }
    CHECK_MSG(!pyname_equal("ab", 2, "a-b", 3), "ab != a-b");
    CHECK_MSG(!pyname_is_valid("a\n", 2), "trailing newline is invalid (\\Z, not $)");
}

static char *marker_str(const char *s, hb_error *err)
{
    marker *m = marker_parse(s, strlen(s), err);
    if (!m)
        return NULL;
    strbuf sb = STRBUF_INIT;
    int rc = marker_format(m, &sb, err);
    marker_free(m);
    if (rc != 0) {
        strbuf_free(&sb);
        return NULL;
    }
    return strbuf_detach(&sb);
}

static void test_marker_strings(void)
{
    static const struct { const char *in, *out; } cases[] = {
        {"os_name == 'a\\tb'", "os_name == \"a\tb\""},
        {"os_name == 'a\\x41\\101\\u00e9'", "os_name == \"aAA\xc3\xa9\""},
        {"os_name == '\\U0001F600'", "os_name == \"\xf0\x9f\x98\x80\""},
        {"os_name == 'a\\qb'", "os_name == \"a\\qb\""},
        {"os_name == \"it's\"", "os_name == \"it's\""},
        {"os_name == 'say \"hi\"'", "os_name == 'say \"hi\"'"},
        {"os_name == 'a\\\\b'", "os_name == \"a\\b\""},
        {"extra == 'Foo.Bar'", "extra == \"foo-bar\""},
        {"'Foo.Bar' in extras", "\"foo-bar\" in extras"},
        {"((os_name == 'a'))", "os_name == \"a\""},
        {"os_name == 'a' and ((os_name == 'b' or os_name == 'c'))",
         "os_name == \"a\" and (os_name == \"b\" or os_name == \"c\")"},
        {"os_name=='a'or(os_name=='b')", "os_name == \"a\" or os_name == \"b\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        hb_error err;
        char *s = marker_str(cases[i].in, &err);
        CHECK_MSG(s && strcmp(s, cases[i].out) == 0, "%s -> %s", cases[i].in, s ? s : err.msg);
        free(s);
    }
    static const char *const bad[] = {
        "os_name == 'a", "os_name == 'a\\'", "os_name == '\\x4'", "os_name == '\\u12'",
        "os_name == '\\U00110000'", "os_name == '\\N{DASH}'", "os_name == 'a\nb'", "os_name = 'a'",
        "os_name == 'a' and", "os_name == 'a' xor os_name == 'b'", "(os_name == 'a'", "os_name == 'a')",
        "os_namex == 'a'", "os_name not  'a'", "os_name notin 'a'", "", "   ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hb_error err;
        marker *m = marker_parse(bad[i], strlen(bad[i]), &err);
        CHECK_MSG(!m && strstr(err.msg, "invalid marker") && strstr(err.msg, "at position"),
              "%s: %s", bad[i], m ? "accepted" : err.msg);
        marker_free(m);
    }
    /* a value holding both quote characters parses but cannot be written */
    hb_error err;
    marker *m = marker_parse("os_name == 'a\"b\\x27c'", 21, &err);
    CHECK_MSG(m != NULL, "both quotes parse: %s", m ? "" : err.msg);
    if (m) {
        strbuf sb = STRBUF_INIT;
        CHECK_MSG(marker_format(m, &sb, &err) != 0 && sb.len == 0, "both quotes cannot be written");
        strbuf_free(&sb);
        marker_free(m);
    }
    /* deep nesting is an error, not a stack overflow */
    strbuf deep = STRBUF_INIT;
    for (int i = 0; i < 100000; i++)
        strbuf_putc(&deep, '(');
    m = marker_parse(deep.buf, deep.len, &err);
    CHECK_MSG(!m && strstr(err.msg, "nested"), "deep nesting: %s", m ? "accepted" : err.msg);
    strbuf_free(&deep);
    /* error messages escape control bytes and stay one line */
    m = marker_parse("os_name == 'a'\n", 15, &err);
    CHECK_MSG(!m && !strchr(err.msg, '\n') && strstr(err.msg, "\\n") && strstr(err.msg, "position 14"),
          "line break: %s", err.msg);
}

static bool eval(const char *s, const marker_env *env, int *rc, hb_error *err)
{
    marker *m = marker_parse(s, strlen(s), err);
    bool r = false;
    *rc = m ? marker_evaluate(m, env, &r, err) : -2;
    marker_free(m);
    return r;
}

static void test_marker_eval(void)
{
    marker_env env = MARKER_ENV_INIT;
    marker_env_set(&env, "os_name", "posix");
    marker_env_set(&env, "sys_platform", "linux");
    marker_env_set(&env, "extra", "Foo_Bar");
    marker_env_set(&env, "os_name", "nt");   /* replaces */
    const char *groups[] = {"Test_Suite", "docs"};
    marker_env_set_items(&env, "dependency_groups", groups, 2);
    static const struct { const char *m; int want; } cases[] = {
        {"os_name == 'nt'", 1}, {"os_name == 'posix'", 0}, {"'n' in os_name", 1},
        {"'x' not in os_name", 1}, {"os_name >= 'nt'", 1}, {"os_name > 'a'", 0}, {"os_name < 'z'", 0},
        {"os_name <= 'nu'", 0}, {"os_name != 'nt' or sys_platform == 'linux'", 1},
        {"os_name == 'nt' and sys_platform == 'win32'", 0}, {"extra == 'foo.bar'", 1},
        {"extra != 'FOO-BAR'", 0}, {"'test-suite' in dependency_groups", 1},
        {"'docs' not in dependency_groups", 0}, {"'Docs' in dependency_groups", 1},
        {"os_name == 'nt' or os_name == 'x' and sys_platform == 'y'", 1},
        {"(os_name == 'nt' or os_name == 'x') and sys_platform == 'y'", 0},
        {"extra == os_name", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int rc;
        hb_error err;
        bool r = eval(cases[i].m, &env, &rc, &err);
        CHECK_MSG(rc == 0 && r == (cases[i].want == 1), "%s: rc=%d r=%d %s", cases[i].m, rc, r,
              rc ? err.msg : "");
    }
    static const char *const errors[] = {
        "python_version == '3'", "os_name ~= '1.0'", "os_name === 'nt'", "dependency_groups == 'x'",
        "'a' ~= dependency_groups", "'a' == 'b'", "os_name == 'nt' or python_version > '3'",
    };
    for (size_t i = 0; i < sizeof errors / sizeof *errors; i++) {
        int rc;
        hb_error err;
        eval(errors[i], &env, &rc, &err);
        CHECK_MSG(rc == -1, "%s should fail to evaluate (rc=%d)", errors[i], rc);
    }
    /* valid for packaging, but beyond uint64_t: an error, not a string comparison */
    marker_env_set(&env, "python_version", "3.12");
    int rc;
    hb_error err;
    eval("python_version < '3.99999999999999999999999'", &env, &rc, &err);
    CHECK_MSG(rc == -1 && strstr(err.msg, "too large"), "huge version: rc=%d %s", rc, err.msg);
    bool r = eval("python_version < '3.13' and python_version == 'dog'", &env, &rc, &err);
    CHECK_MSG(rc == 0 && !r, "string fallback for a non-version");
    marker_env_set(&env, "python_version", "3.12");
    eval("os_name ~= 'a\\nb'", &env, &rc, &err);
    CHECK_MSG(rc == -1 && !strchr(err.msg, '\n') && strstr(err.msg, "a\\nb"), "one line: %s", err.msg);
    eval("'x' == 'line\\nbreak'", &env, &rc, &err);
    CHECK_MSG(rc == -1 && !strchr(err.msg, '\n'), "one line: %s", err.msg);
    strbuf longin = STRBUF_INIT;
    for (int k = 0; k < 300; k++)
        strbuf_puts(&longin, "\x01");
    strbuf_puts(&longin, " ==");
    marker *lm = marker_parse(longin.buf, longin.len, &err);
    CHECK_MSG(!lm && strstr(err.msg, "...' at position 0: expected"), "long input keeps the reason: %s", err.msg);
    strbuf_free(&longin);
    const marker_env_var *v = marker_env_get(&env, "os_name", 7);
    CHECK_MSG(v && strcmp(v->value, "nt") == 0 && env.n == 5, "env replaced os_name, has 5 vars");
    marker_env_free(&env);
}

static void note(const char *name, void *ctx)
{
    strbuf *sb = ctx;
    strbuf_puts(sb, name);
    strbuf_putc(sb, ' ');
}

static void test_each_variable(void)
{
    hb_error err;
    const char *s = "os.name == 'a' and ('b' in python_implementation or extra == 'c')";
    marker *m = marker_parse(s, strlen(s), &err);
    strbuf sb = STRBUF_INIT;
    if (m)
        marker_each_variable(m, note, &sb);
    CHECK_MSG(m && strcmp(strbuf_str(&sb), "os_name platform_python_implementation extra ") == 0, "%s",
          strbuf_str(&sb));
    strbuf_free(&sb);
    marker_free(m);
}

static void test_requirements(void)
{
    hb_error err;
    pep508_requirement r;
    const char *s = "Foo.Bar [b, A, b] ( >=1.0 , <2 , ) ; extra == 'X_Y'";
    CHECK_MSG(pep508_requirement_parse(&r, s, strlen(s), &err) == 0, "%s", err.msg);
    strbuf sb = STRBUF_INIT;
    pep508_requirement_format(&r, &sb, &err);
    CHECK_MSG(strcmp(strbuf_str(&sb), "Foo.Bar[A,b]<2,>=1.0; extra == \"x-y\"") == 0, "%s", strbuf_str(&sb));
    CHECK_MSG(r.nextras == 2 && strcmp(r.extras[0], "A") == 0 && r.url == NULL, "fields");
    strbuf_free(&sb);
    pep508_requirement q;
    const char *s2 = "foo-bar[a,B]<2,>=1.0;extra=='x.y'";
    CHECK_MSG(pep508_requirement_parse(&q, s2, strlen(s2), &err) == 0, "%s", err.msg);
    CHECK_MSG(pep508_requirement_equal(&r, &q), "equal after normalization");
    pep508_requirement_free(&q);
    pep508_requirement_free(&r);

    /* URL: ';' without a space belongs to the URL */
    s = "pkg @ https://h/x.whl;python_version>'3'";
    CHECK_MSG(pep508_requirement_parse(&r, s, strlen(s), &err) == 0 && strcmp(r.url, "https://h/x.whl;python_version>'3'") == 0 &&
          !r.marker, "url keeps ;");
    pep508_requirement_free(&r);

    static const struct { const char *in; size_t pos; } bad[] = {
        {"", 0}, {"-foo", 0}, {"foo-", 3}, {"foo[", 4}, {"foo[a b]", 6}, {"foo>=1.0+x", 8},
        {"foo==1.0.post1.*", 15}, {"foo>=1.*", 7}, {"foo (>=1", 8}, {"foo @", 5},
        {"foo @ u ;x", 9}, {"foo>=1 x", 7}, {"foo; os_name == 'a' )", 20}, {"foo ~=1", 4},
        {"foo===x,y", 3}, {"foo~=1.6.54444444444444444444444444444444a5", 3},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char want[32];
        snprintf(want, sizeof want, "at position %zu:", bad[i].pos);
        int rc = pep508_requirement_parse(&r, bad[i].in, strlen(bad[i].in), &err);
        CHECK_MSG(rc != 0 && strstr(err.msg, want) && strstr(err.msg, "invalid requirement"), "%s: %s",
              bad[i].in, rc ? err.msg : "accepted");
        if (rc == 0)
            pep508_requirement_free(&r);
    }
}

static void test_process(void)
{
    hb_error err;
    process_result r;
    const char *echo[] = {"sh", "-c", "printf 'a\\0b'; echo oops >&2; exit 3", NULL};
    CHECK_MSG(process_run(echo, &r, &err) == 0, "%s", err.msg);
    CHECK_MSG(r.exit_status == 3 && r.out_len == 3 && memcmp(r.out, "a\0b", 3) == 0 &&
          strcmp(r.err, "oops\n") == 0, "status %d out %zu err %s", r.exit_status, r.out_len, r.err);
    process_result_free(&r);
    const char *missing[] = {"/nonexistent/program", NULL};
    CHECK_MSG(process_run(missing, &r, &err) != 0 && strstr(err.msg, "/nonexistent/program"), "missing");
    const char *killed[] = {"sh", "-c", "kill -9 $$", NULL};
    CHECK_MSG(process_run(killed, &r, &err) == 0 && r.exit_status == -1 && r.term_signal == 9, "signal");
    process_result_free(&r);
    marker_env env = MARKER_ENV_INIT;
    marker_env_set(&env, "os_name", "custom");
    CHECK_MSG(marker_env_from_python(&env, "/bin/false", &err) != 0 && strstr(err.msg, "exit status 1"),
          "%s", err.msg);
    marker_env_free(&env);
}

int main(void)
{
    test_pyname();
    test_marker_strings();
    test_marker_eval();
    test_each_variable();
    test_requirements();
    test_process();
    return check_finish();
}
