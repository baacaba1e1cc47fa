// SPDX-License-Identifier: GPL-2.0-only
/* hostd's log and clock (log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

void hostd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("hostd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

uint64_t hostd_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
