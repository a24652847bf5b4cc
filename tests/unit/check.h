/* Check macros shared by the C unit tests (tests/unit/test_*.c).
 * Each check counts one pass or one failure; a failure prints file:line, the
 * condition and (CHECK_MSG/CHECK_STR/CHECK_INT) the values to stderr and the
 * test goes on.  main() ends with `return check_finish();`, which prints
 * "N passed, N failed" and returns the exit status (0 when nothing failed).
 * One test program is one translation unit, so the counters are static here. */
#ifndef HB_TESTS_UNIT_CHECK_H
#define HB_TESTS_UNIT_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

/* Counts one check; on failure prints "file:line: check failed: expr" and,
 * when fmt is not NULL, ": " and the formatted detail. */
__attribute__((format(printf, 5, 6))) static inline bool
check_record(bool ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
    if (ok) {
        check_passed++;
        return true;
    }
    check_failed++;
    fprintf(stderr, "%s:%d: check failed: %s", file, line, expr);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        fputs(": ", stderr);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
    return false;
}

#define CHECK(cond) ((void)check_record((cond) ? true : false, __FILE__, __LINE__, #cond, NULL))

/* CHECK with a printf-style detail printed on failure. */
#define CHECK_MSG(cond, ...) ((void)check_record((cond) ? true : false, __FILE__, __LINE__, #cond, __VA_ARGS__))

/* Passes when got is not NULL and equals want. */
#define CHECK_STR(got, want)                                                                     \
    do {                                                                                         \
        const char *check_g_ = (got), *check_w_ = (want);                                        \
        check_record(check_g_ && strcmp(check_g_, check_w_) == 0, __FILE__, __LINE__,            \
                     #got " == " #want, "got '%s', want '%s'", check_g_ ? check_g_ : "(null)",   \
                     check_w_);                                                                  \
    } while (0)

#define CHECK_INT(got, want)                                                                     \
    do {                                                                                         \
        long long check_g_ = (long long)(got), check_w_ = (long long)(want);                     \
        check_record(check_g_ == check_w_, __FILE__, __LINE__, #got " == " #want,                \
                     "got %lld, want %lld", check_g_, check_w_);                                 \
    } while (0)

/* Prints the tally to stdout; returns the exit status for main(). */
static inline int check_finish(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
