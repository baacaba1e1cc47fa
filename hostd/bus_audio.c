// SPDX-License-Identifier: GPL-2.0-only
/*
 * A VM's sound on the bus (bus_audio.h): its properties and the checks of
 * a Set, apart from bus.c so that the service's file stays one reading.
 */
#include <string.h>

#include "audio.h"
#include "bus_audio.h"
#include "introspect.h"

#define ERR_NOT_AVAILABLE "org.paradice.Switcher1.Error.NotAvailable"

static bool append(DBusMessageIter *it, int type, const char *sig,
		   const void *value)
{
	DBusMessageIter v;

	return dbus_message_iter_open_container(it, DBUS_TYPE_VARIANT, sig, &v) &&
	       dbus_message_iter_append_basic(&v, type, value) &&
	       dbus_message_iter_close_container(it, &v);
}

bool hostd_bus_audio_property(const struct hostd_audio *a, bool host,
			      unsigned int index, const char *name,
			      DBusMessageIter *it)
{
	dbus_bool_t b = FALSE;
	dbus_uint32_t v = 100;

	if (strcmp(name, "Volume") == 0) {
		if (!host)
			v = hostd_audio_volume(a, index);
		return append(it, DBUS_TYPE_UINT32, "u", &v);
	}
	if (strcmp(name, "Audio") == 0) {
		b = !host && hostd_audio_has(a, index);
		return append(it, DBUS_TYPE_BOOLEAN, "b", &b);
	}
	if (strcmp(name, "Muted") == 0) {
		b = !host && hostd_audio_muted(a, index);
		return append(it, DBUS_TYPE_BOOLEAN, "b", &b);
	}
	return false;
}

DBusMessage *hostd_bus_audio_args(DBusMessage *msg, bool host, int *volume,
				  int *muted)
{
	const char *iface = "", *name = "";
	DBusMessageIter it, v;
	dbus_uint32_t u = 0;
	dbus_bool_t m = FALSE;
	bool is_volume;

	*volume = *muted = -1;
	if (dbus_message_iter_init(msg, &it) &&
	    dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_STRING) {
		dbus_message_iter_get_basic(&it, &iface);
		if (dbus_message_iter_next(&it) &&
		    dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_STRING)
			dbus_message_iter_get_basic(&it, &name);
	}
	is_volume = strcmp(name, "Volume") == 0;
	if (strcmp(iface, HOSTD_XML_VM_NAME) != 0 ||
	    (!is_volume && strcmp(name, "Muted") != 0))
		return dbus_message_new_error(msg, DBUS_ERROR_PROPERTY_READ_ONLY,
					      "only a VM's Volume and Muted "
					      "may be set");
	if (host)
		return dbus_message_new_error(msg, ERR_NOT_AVAILABLE,
					      "host (dom0) has no volume of "
					      "hostd's: its sound is its own");
	if (!dbus_message_iter_next(&it) ||
	    dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_VARIANT)
		return dbus_message_new_error(msg, DBUS_ERROR_INVALID_ARGS,
					      "no value");
	dbus_message_iter_recurse(&it, &v);
	if (dbus_message_iter_get_arg_type(&v) !=
	    (is_volume ? DBUS_TYPE_UINT32 : DBUS_TYPE_BOOLEAN))
		return dbus_message_new_error(msg, DBUS_ERROR_INVALID_ARGS,
					      is_volume ? "Volume is a u (0-100)"
							: "Muted is a b");
	if (is_volume) {
		dbus_message_iter_get_basic(&v, &u);
		if (u > 100)
			return dbus_message_new_error(msg, DBUS_ERROR_INVALID_ARGS,
						      "Volume goes from 0 to 100");
		*volume = (int)u;
	} else {
		dbus_message_iter_get_basic(&v, &m);
		*muted = !!m;
	}
	return NULL;
}
