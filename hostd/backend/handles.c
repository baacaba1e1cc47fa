// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's open files. A handle is an index into this guest's table,
 * never reused while the connection lives, so a stale or forged handle
 * names nothing rather than someone else's file. Requests hold a
 * reference while they use a handle's descriptor: a RELEASE closes the
 * descriptor only after the last request on it finished.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "backend.h"

struct be_handle *be_handle_new(struct be *be, int fd, uint16_t dev_class,
				uint16_t driver)
{
	struct be_handle *h = calloc(1, sizeof(*h));
	struct be_handle **grown;

	if (!h)
		return NULL;
	h->fd = fd;
	h->dev_class = dev_class;
	h->driver = driver;
	h->refs = 1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_lock(&be->lock);
	if (be->next_handle >= be->nhandles) {
		uint32_t n = be->nhandles ? be->nhandles * 2 : 64;

		if (n > 1u << 24 ||
		    !(grown = realloc(be->handles, n * sizeof(*grown)))) {
			pthread_mutex_unlock(&be->lock);
			free(h);
			errno = EMFILE;
			return NULL;
		}
		for (uint32_t i = be->nhandles; i < n; i++)
			grown[i] = NULL;
		be->handles = grown;
		be->nhandles = n;
	}
	h->handle = be->next_handle++;
	be->handles[h->handle] = h;
	h->refs++;		/* the table's */
	pthread_mutex_unlock(&be->lock);
	return h;
}

/* The handle's file with a reference, or NULL (errno EBADF). */
struct be_handle *be_handle_get(struct be *be, uint32_t handle)
{
	struct be_handle *h = NULL;

	pthread_mutex_lock(&be->lock);
	if (handle < be->nhandles && be->handles[handle] &&
	    !be->handles[handle]->gone) {
		h = be->handles[handle];
		h->refs++;
	}
	pthread_mutex_unlock(&be->lock);
	if (!h)
		errno = EBADF;
	return h;
}

struct be_handle *be_handle_by_fd(struct be *be, int fd)
{
	struct be_handle *h = NULL;

	pthread_mutex_lock(&be->lock);
	for (uint32_t i = 0; i < be->next_handle && !h; i++)
		if (be->handles[i] && !be->handles[i]->gone &&
		    be->handles[i]->fd == fd) {
			h = be->handles[i];
			h->refs++;
		}
	pthread_mutex_unlock(&be->lock);
	return h;
}

void be_handle_put(struct be *be, struct be_handle *h)
{
	bool last;

	if (!h)
		return;
	pthread_mutex_lock(&be->lock);
	last = --h->refs == 0;
	pthread_mutex_unlock(&be->lock);
	if (!last)
		return;
	close(h->fd);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* The guest's last close: forget the handle, close when unused. */
int be_handle_release(struct be *be, uint32_t handle)
{
	struct be_handle *h = NULL;

	pthread_mutex_lock(&be->lock);
	if (handle < be->nhandles && be->handles[handle] &&
	    !be->handles[handle]->gone) {
		h = be->handles[handle];
		h->gone = true;
		be->handles[handle] = NULL;
	}
	pthread_mutex_unlock(&be->lock);
	if (!h)
		return -EBADF;
	be_handle_put(be, h);	/* the table's reference */
	return 0;
}

/* The connection is over: release every handle and free the table.
 * The mappings hold their files: end them first (be_maps_finish()). */
void be_handles_finish(struct be *be)
{
	for (uint32_t i = 0; i < be->next_handle; i++)
		if (be->handles[i])
			be_handle_release(be, i);
	free(be->handles);
	be->handles = NULL;
	be->nhandles = 0;
	be->next_handle = 0;
}
