/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cli.c: switcher-ui --list, --switch NAME, --next, --previous; each
 * returns the exit status, having said what went wrong on stderr.
 */
#ifndef SWITCHER_UI_CLI_H
#define SWITCHER_UI_CLI_H

#include <gio/gio.h>

/* The bus at address, or the system bus (NULL). */
GDBusConnection *cli_connect(const char *address, GError **err);
/* Print "NAME DOMID STATE [active]" per VM, "NAME - off" per guest off. */
int cli_list(GDBusConnection *bus);
/* Switch to name, or (name NULL) to the next (step 1) or previous VM. */
int cli_switch(GDBusConnection *bus, const char *name, int step);

#endif
