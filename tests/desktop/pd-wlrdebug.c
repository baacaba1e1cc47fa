// SPDX-License-Identifier: GPL-2.0-only
/*
 * LD_PRELOAD shim for the desktop tests: wlroots' log at debug level in a
 * compositor built to log errors only (Debian's cage 0.1.4 calls
 * wlr_log_init(WLR_ERROR, NULL)). wlroots says why it refuses a commit
 * (an atomic test that failed, a frame still pending ...) only at debug
 * level; the test prints that log when cage does not show its client.
 */
#include <dlfcn.h>

#define WLR_DEBUG 3	/* enum wlr_log_importance, wlroots 0.15 */

void wlr_log_init(int verbosity, void *callback);

void wlr_log_init(int verbosity, void *callback)
{
	void (*real)(int, void *) =
		(void (*)(int, void *))dlsym(RTLD_NEXT, "wlr_log_init");

	(void)verbosity;
	if (real)
		real(WLR_DEBUG, callback);
}
