/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hostd's ground floor: its log and its clock. Every other file of hostd
 * may call these; they call nothing of hostd's.
 */
#ifndef HOSTD_LOG_H
#define HOSTD_LOG_H

#include <stdint.h>

/* One line on stderr, "hostd: " before it (the journal of hostd's unit). */
void hostd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic microseconds. */
uint64_t hostd_now_us(void);

#endif /* HOSTD_LOG_H */
