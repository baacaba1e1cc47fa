// SPDX-License-Identifier: GPL-2.0-only
/*
 * The backend's log: one line on stderr per event, naming the guest, so
 * that the lines of several backends (one per guest, all writing to the
 * journal of hostd's unit) can be told apart. The ground floor of the
 * backend: it calls nothing of the backend's own.
 */
#include <stdarg.h>
#include <stdio.h>

#include "backend.h"

void be_log(struct be *be, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "pd-backend[%s]: %s\n", be->name, line);
}
