// SPDX-License-Identifier: GPL-2.0-only
/* hostd's log and clock (log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

/*
 * One write(2) per line: the backends hostd starts write their own lines
 * to the same stderr, and a line written in pieces could be cut by one of
 * theirs.
 */
void hostd_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line + 7, sizeof(line) - 8, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 9)
		n = (int)(sizeof(line) - 9);
	memcpy(line, "hostd: ", 7);
	line[7 + n] = '\n';
	fwrite(line, 1, (size_t)n + 8, stderr);
	fflush(stderr);
}

uint64_t hostd_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
