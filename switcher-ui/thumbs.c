// SPDX-License-Identifier: GPL-2.0-only
/*
 * The switcher window's thumbnails (thumbs.h). Once a second while the
 * window is mapped, each guest's button asks hostd for its thumbnail
 * (org.paradice.Switcher1.Thumbnails.GetThumbnail), one call in flight per
 * button, asynchronously: the GTK main loop never waits. The pixels come
 * as XRGB8888 (bytes B, G, R, x) and become an RGB GdkPixbuf on the
 * button (a button gets its picture with its first thumbnail: without
 * one it looks as before). A button whose call is refused (polkit, or a service without the
 * interface: a guest's agent, an older hostd) stops asking until the window
 * is shown again; one whose guest has no frame yet keeps asking.
 */
#include <string.h>

#include "client.h"
#include "thumbs.h"

#define THUMB_W 160
#define THUMB_H 120
#define MAX_W 640	/* hostd's largest */
#define MAX_H 480

struct entry {
	char *name;
	GtkWidget *button;	/* valid until thumbs_clear() */
	GtkWidget *image;	/* the button's, owned by it; NULL until the
				 * first thumbnail came */
	gboolean busy;		/* a call in flight */
	gboolean stop;		/* refused: ask no more */
};

struct thumbs {
	GDBusConnection *bus;
	GtkWidget *window;
	GPtrArray *entries;	/* struct entry * */
	/* cancelled when the buttons go: calls for them must not land */
	GCancellable *cancel;
	guint timer;
};

struct call {
	struct entry *e;
	GCancellable *cancel;
};

static void entry_free(gpointer p)
{
	struct entry *e = p;

	g_free(e->name);
	g_free(e);
}

/* XRGB8888 rows (B, G, R, x) to an RGB pixbuf; NULL if the sizes lie. */
static GdkPixbuf *to_pixbuf(guint32 w, guint32 h, guint32 stride,
			    const guint8 *px, gsize len)
{
	GdkPixbuf *pb;
	guint8 *out;
	int ostride;

	if (!w || !h || w > MAX_W || h > MAX_H || stride < w * 4 ||
	    len < (gsize)stride * h)
		return NULL;
	pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, (int)w, (int)h);
	if (!pb)
		return NULL;
	out = gdk_pixbuf_get_pixels(pb);
	ostride = gdk_pixbuf_get_rowstride(pb);
	for (guint32 y = 0; y < h; y++)
		for (guint32 x = 0; x < w; x++) {
			const guint8 *s = px + (gsize)y * stride + x * 4;
			guint8 *d = out + (gsize)y * (gsize)ostride + x * 3;

			d[0] = s[2];
			d[1] = s[1];
			d[2] = s[0];
		}
	return pb;
}

static void on_thumbnail(GObject *src, GAsyncResult *res, gpointer data)
{
	struct call *c = data;
	GError *err = NULL;
	GVariant *r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res,
						    &err);
	struct entry *e = g_cancellable_is_cancelled(c->cancel) ? NULL : c->e;
	guint32 w, h, stride;
	const char *format;
	GVariant *bytes;
	gsize len;
	const guint8 *px;
	GdkPixbuf *pb = NULL;

	g_object_unref(c->cancel);
	g_free(c);
	if (!e) {
		g_clear_error(&err);
		if (r)
			g_variant_unref(r);
		return;
	}
	e->busy = FALSE;
	if (!r) {
		char *name = g_dbus_error_get_remote_error(err);

		/* no frame yet: asked again; anything else: not again */
		if (!name || strcmp(name, SW_BUS_NAME ".Error.NotAvailable"))
			e->stop = TRUE;
		g_debug("thumbnail of %s: %s", e->name, err->message);
		g_free(name);
		g_error_free(err);
		return;
	}
	g_variant_get(r, "(uuu&s@ay)", &w, &h, &stride, &format, &bytes);
	px = g_variant_get_fixed_array(bytes, &len, 1);
	if (!strcmp(format, "XRGB8888"))
		pb = to_pixbuf(w, h, stride, px, len);
	if (pb && !e->image) {
		e->image = gtk_image_new();
		gtk_button_set_image(GTK_BUTTON(e->button), e->image);
		gtk_button_set_image_position(GTK_BUTTON(e->button), GTK_POS_TOP);
		gtk_button_set_always_show_image(GTK_BUTTON(e->button), TRUE);
	}
	if (pb) {
		gtk_image_set_from_pixbuf(GTK_IMAGE(e->image), pb);
		g_object_unref(pb);
	}
	g_variant_unref(bytes);
	g_variant_unref(r);
}

static void refresh(struct thumbs *t)
{
	for (guint i = 0; i < t->entries->len; i++) {
		struct entry *e = g_ptr_array_index(t->entries, i);
		struct call *c;

		if (e->busy || e->stop)
			continue;
		c = g_new0(struct call, 1);
		c->e = e;
		c->cancel = g_object_ref(t->cancel);
		e->busy = TRUE;
		g_dbus_connection_call(t->bus, SW_BUS_NAME, SW_ROOT_PATH,
				       "org.paradice.Switcher1.Thumbnails",
				       "GetThumbnail",
				       g_variant_new("(suu)", e->name, THUMB_W,
						     THUMB_H),
				       G_VARIANT_TYPE("(uuusay)"),
				       G_DBUS_CALL_FLAGS_NO_AUTO_START, 10000,
				       t->cancel, on_thumbnail, c);
	}
}

static gboolean on_tick(gpointer data)
{
	refresh(data);
	return G_SOURCE_CONTINUE;
}

static void on_map(GtkWidget *w, gpointer data)
{
	struct thumbs *t = data;

	/* shown again: refused ones may ask again (polkit may say yes now) */
	for (guint i = 0; i < t->entries->len; i++)
		((struct entry *)g_ptr_array_index(t->entries, i))->stop = FALSE;
	if (!t->timer)
		t->timer = g_timeout_add_seconds(1, on_tick, t);
	refresh(t);
}

static void on_unmap(GtkWidget *w, gpointer data)
{
	struct thumbs *t = data;

	if (t->timer)
		g_source_remove(t->timer);
	t->timer = 0;
}

struct thumbs *thumbs_create(GDBusConnection *bus, GtkWidget *window)
{
	struct thumbs *t = g_new0(struct thumbs, 1);

	t->bus = g_object_ref(bus);
	t->window = window;
	t->entries = g_ptr_array_new_with_free_func(entry_free);
	t->cancel = g_cancellable_new();
	g_signal_connect(window, "map", G_CALLBACK(on_map), t);
	g_signal_connect(window, "unmap", G_CALLBACK(on_unmap), t);
	if (gtk_widget_get_mapped(window))
		on_map(window, t);
	return t;
}

void thumbs_clear(struct thumbs *t)
{
	if (!t)
		return;
	g_cancellable_cancel(t->cancel);
	g_object_unref(t->cancel);
	t->cancel = g_cancellable_new();
	g_ptr_array_set_size(t->entries, 0);
}

void thumbs_attach(struct thumbs *t, GtkWidget *button, const char *name)
{
	struct entry *e;

	if (!t)
		return;
	e = g_new0(struct entry, 1);
	e->name = g_strdup(name);
	e->button = button;	/* its picture comes with the first thumbnail */
	g_ptr_array_add(t->entries, e);
	if (gtk_widget_get_mapped(t->window))
		refresh(t);
}

void thumbs_destroy(struct thumbs *t)
{
	if (!t)
		return;
	g_signal_handlers_disconnect_by_data(t->window, t);
	on_unmap(t->window, t);
	thumbs_clear(t);
	g_object_unref(t->cancel);
	g_ptr_array_free(t->entries, TRUE);
	g_object_unref(t->bus);
	g_free(t);
}
