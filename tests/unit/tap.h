/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A tiny assert harness printing TAP: one "ok"/"not ok" line per test
 * function, a diagnostic line per failed check, the plan at the end.
 *
 *	static void test_x(void) { CHECK(a == b); CHECK_EQ(x, 3); }
 *	int main(void) { RUN(test_x); return tap_done(); }
 */
#ifndef PARADICE_TAP_H
#define PARADICE_TAP_H

#include <inttypes.h>
#include <stdio.h>

static int tap_tests, tap_failed_tests, tap_checks, tap_cur_failed;

static inline void tap_check(int ok, const char *file, int line,
			     const char *what)
{
	tap_checks++;
	if (!ok) {
		tap_cur_failed++;
		printf("#   %s:%d: check failed: %s\n", file, line, what);
	}
}

static inline void tap_check_eq(long long a, long long b, const char *file,
				int line, const char *what)
{
	tap_checks++;
	if (a != b) {
		tap_cur_failed++;
		printf("#   %s:%d: %s: got %lld, want %lld\n", file, line, what,
		       a, b);
	}
}

#define CHECK(c) tap_check(!!(c), __FILE__, __LINE__, #c)
#define CHECK_EQ(a, b) \
	tap_check_eq((long long)(a), (long long)(b), __FILE__, __LINE__, \
		     #a " == " #b)

static inline void tap_run(const char *name, void (*fn)(void))
{
	tap_cur_failed = 0;
	fn();
	tap_tests++;
	if (tap_cur_failed)
		tap_failed_tests++;
	printf("%s %d - %s\n", tap_cur_failed ? "not ok" : "ok", tap_tests,
	       name);
	fflush(stdout);
}

#define RUN(fn) tap_run(#fn, fn)

static inline int tap_done(void)
{
	printf("1..%d\n# %d checks, %d of %d tests failed\n", tap_tests,
	       tap_checks, tap_failed_tests, tap_tests);
	return tap_failed_tests ? 1 : 0;
}

#endif /* PARADICE_TAP_H */
