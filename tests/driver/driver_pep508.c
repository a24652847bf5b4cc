/* Test-driver commands of the pep508 area:
 *   pep508.requirement REQ        -> ok STR NAME EXTRAS(comma-joined) SPECIFIER URL MARKER
 *   pep508.requirement_equal A B  -> true | false
 *   pep508.marker M               -> ok STR
 *   pep508.marker_eval M VAR...   -> true | false   (VAR: NAME=VALUE, NAME[]=ITEM, NAME[])
 *   pep508.default_env PYTHON     -> ok NAME=VALUE...
 *   pyname.canonicalize S | pyname.wheel S | pyname.valid S | pyname.normalized S
 * Failures answer "error" and the message. */
#include "driver.h"

#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/marker.h"
#include "hpcbuild/pep508.h"
#include "hpcbuild/pyname.h"

static void requirement(const driver_args *a, strbuf *out)
{
    hb_error err;
    pep508_requirement req;
    if (pep508_requirement_parse(&req, a->v[0], a->len[0], &err) != 0) {
        driver_error(out, err.msg);
        return;
    }
    strbuf s = STRBUF_INIT;
    if (pep508_requirement_format(&req, &s, &err) != 0) {
        driver_error(out, err.msg);
    } else {
        driver_puts(out, "ok");
        driver_put(out, strbuf_str(&s), s.len);
        driver_puts(out, req.name);
        strbuf ex = STRBUF_INIT;
        for (size_t i = 0; i < req.nextras; i++) {
            if (i)
                strbuf_putc(&ex, ',');
            strbuf_puts(&ex, req.extras[i]);
        }
        driver_put(out, strbuf_str(&ex), ex.len);
        strbuf_free(&ex);
        driver_puts(out, req.specifier);
        driver_puts(out, req.url ? req.url : "");
        strbuf m = STRBUF_INIT;
        if (req.marker)
            marker_format(req.marker, &m, NULL);
        driver_put(out, strbuf_str(&m), m.len);
        strbuf_free(&m);
    }
    strbuf_free(&s);
    pep508_requirement_free(&req);
}

static void requirement_equal(const driver_args *a, strbuf *out)
{
    hb_error err;
    pep508_requirement x, y;
    if (pep508_requirement_parse(&x, a->v[0], a->len[0], &err) != 0) {
        driver_error(out, err.msg);
        return;
    }
    if (pep508_requirement_parse(&y, a->v[1], a->len[1], &err) != 0) {
        driver_error(out, err.msg);
        pep508_requirement_free(&x);
        return;
    }
    driver_puts(out, pep508_requirement_equal(&x, &y) ? "true" : "false");
    pep508_requirement_free(&x);
    pep508_requirement_free(&y);
}

static void marker_str(const driver_args *a, strbuf *out)
{
    hb_error err;
    marker *m = marker_parse(a->v[0], a->len[0], &err);
    if (!m) {
        driver_error(out, err.msg);
        return;
    }
    strbuf s = STRBUF_INIT;
    if (marker_format(m, &s, &err) != 0) {
        driver_error(out, err.msg);
    } else {
        driver_puts(out, "ok");
        driver_put(out, strbuf_str(&s), s.len);
    }
    strbuf_free(&s);
    marker_free(m);
}

static void marker_eval(const driver_args *a, strbuf *out)
{
    hb_error err;
    marker *m = marker_parse(a->v[0], a->len[0], &err);
    if (!m) {
        driver_error(out, err.msg);
        return;
    }
    marker_env env = MARKER_ENV_INIT;
    for (size_t i = 1; i < a->n; i++) {
        char *f = a->v[i];
        char *eq = strchr(f, '=');
        char *br = strstr(f, "[]");
        if (br && (!eq || br < eq)) {
            char *name = hb_strndup(f, (size_t)(br - f));
            const marker_env_var *old = marker_env_get(&env, name, strlen(name));
            size_t n = old && !old->value ? old->nitems : 0;
            const char **items = hb_calloc(n + 1, sizeof *items);
            char **copies = hb_calloc(n + 1, sizeof *copies);
            for (size_t k = 0; k < n; k++)
                items[k] = copies[k] = hb_strdup(old->items[k]);
            if (eq)
                items[n++] = eq + 1;
            marker_env_set_items(&env, name, items, n);
            for (size_t k = 0; k < n; k++)
                free(copies[k]);
            free(copies);
            free(items);
            free(name);
        } else if (eq) {
            *eq = '\0';
            marker_env_set(&env, f, eq + 1);
            *eq = '=';
        }
    }
    bool r;
    if (marker_evaluate(m, &env, &r, &err) != 0)
        driver_error(out, err.msg);
    else
        driver_puts(out, r ? "true" : "false");
    marker_env_free(&env);
    marker_free(m);
}

static void default_env(const driver_args *a, strbuf *out)
{
    hb_error err;
    marker_env env = MARKER_ENV_INIT;
    if (marker_env_from_python(&env, a->v[0], &err) != 0) {
        driver_error(out, err.msg);
    } else {
        driver_puts(out, "ok");
        for (size_t i = 0; i < env.n; i++) {
            strbuf kv = STRBUF_INIT;
            strbuf_printf(&kv, "%s=%s", env.vars[i].name, env.vars[i].value);
            driver_put(out, strbuf_str(&kv), kv.len);
            strbuf_free(&kv);
        }
    }
    marker_env_free(&env);
}

int driver_pep508(const char *cmd, const driver_args *args, strbuf *out)
{
    static const struct { const char *name; size_t nargs; } arity[] = {
        {"pep508.requirement", 1}, {"pep508.requirement_equal", 2}, {"pep508.marker", 1},
        {"pep508.marker_eval", 1}, {"pep508.default_env", 1}, {"pyname.canonicalize", 1},
        {"pyname.wheel", 1}, {"pyname.valid", 1}, {"pyname.normalized", 1},
    };
    size_t k = 0;
    while (k < sizeof arity / sizeof *arity && strcmp(cmd, arity[k].name) != 0)
        k++;
    if (k == sizeof arity / sizeof *arity)
        return 0;
    if (args->n < arity[k].nargs) {
        return driver_error(out, "missing arguments");
    }
    const char *s = args->v[0];
    size_t n = args->len[0];
    if (strcmp(cmd, "pep508.requirement") == 0) {
        requirement(args, out);
    } else if (strcmp(cmd, "pep508.requirement_equal") == 0) {
        requirement_equal(args, out);
    } else if (strcmp(cmd, "pep508.marker") == 0) {
        marker_str(args, out);
    } else if (strcmp(cmd, "pep508.marker_eval") == 0) {
        marker_eval(args, out);
    } else if (strcmp(cmd, "pep508.default_env") == 0) {
        default_env(args, out);
    } else if (strcmp(cmd, "pyname.valid") == 0) {
        driver_puts(out, pyname_is_valid(s, n) ? "true" : "false");
    } else if (strcmp(cmd, "pyname.normalized") == 0) {
        driver_puts(out, pyname_is_normalized(s, n) ? "true" : "false");
    } else {
        char *c = strcmp(cmd, "pyname.wheel") == 0 ? pyname_wheel_escape(s, n) : pyname_canonicalize(s, n);
        driver_puts(out, c);
        free(c);
    }
    return 1;
}
