// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's open files. A handle is a slot of this guest's table (low
 * HANDLE_SLOT_BITS bits) and the slot's generation (the bits above): a
 * released slot is reused by the next open, with its generation bumped,
 * so open/close churn does not grow the table and a stale or forged
 * handle names nothing rather than someone else's file (until one slot
 * was reused HANDLE_GENS times). The guest may hold at most max.handles
 * open at once (paradice.conf max_handles): more get EMFILE and a log
 * line. Requests hold a reference while they use a handle's descriptor:
 * a RELEASE closes the descriptor only after the last request on it
 * finished.
 *
 * Besides the table, handles the guest names itself (pd_wire.h 1.8, at
 * or above PD_WIRE_HANDLE_NAMED_MIN, a generation no slot handle has):
 * the file a submission makes without a wait (a fence). Such a handle is
 * reserved when the submission arrives (request.c), an entry with no
 * descriptor that only the order it waits in can find (be_handle_get()
 * does not), given its file when the ioctl made it, and dropped if it made
 * none. They live in a short unsorted list (the guest's fences in
 * flight), bounded by max_handles with the table's.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"

#define HANDLE_SLOT_BITS	20
#define HANDLE_SLOTS		(1u << HANDLE_SLOT_BITS)
/* generations 0 .. HANDLE_GENS - 1: never PD_WIRE_HANDLE_NONE */
#define HANDLE_GENS		((1u << (32 - HANDLE_SLOT_BITS)) - 1)

static uint32_t slot_of(uint32_t handle)
{
	return handle & (HANDLE_SLOTS - 1);
}

static uint32_t max_handles(const struct be *be)
{
	uint32_t max = be->max.handles ? be->max.handles :
					  HOSTD_DEFAULT_MAX_HANDLES;

	return max < HANDLE_SLOTS ? max : HANDLE_SLOTS;
}

/* With be->lock: a free slot, the table grown if all were used once. */
static int take_slot(struct be *be, uint32_t *slot)
{
	struct be_handle **grown;
	uint16_t *gens;
	uint32_t *free_slots, n;

	if (be->nfree) {
		*slot = be->free_slots[--be->nfree];
		return 0;
	}
	if (be->next_handle < be->nhandles) {
		*slot = be->next_handle++;
		return 0;
	}
	n = be->nhandles ? be->nhandles * 2 : 64;
	if (n > HANDLE_SLOTS)
		return -EMFILE;
	grown = realloc(be->handles, n * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	be->handles = grown;
	gens = realloc(be->handle_gens, n * sizeof(*gens));
	if (!gens)
		return -ENOMEM;
	be->handle_gens = gens;
	free_slots = realloc(be->free_slots, n * sizeof(*free_slots));
	if (!free_slots)
		return -ENOMEM;
	be->free_slots = free_slots;
	for (uint32_t i = be->nhandles; i < n; i++) {
		grown[i] = NULL;
		gens[i] = 0;
	}
	be->nhandles = n;
	be_log(be, "handle table: %u slots", n);
	*slot = be->next_handle++;
	return 0;
}

struct be_handle *be_handle_new(struct be *be, int fd, uint16_t dev_class,
				uint16_t driver)
{
	struct be_handle *h = calloc(1, sizeof(*h));
	uint32_t slot;
	int err;

	if (!h)
		return NULL;
	h->fd = fd;
	h->dev_class = dev_class;
	h->driver = driver;
	h->refs = 1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->read_lock, NULL);
	pthread_mutex_lock(&be->lock);
	if (be->open_handles >= max_handles(be)) {
		pthread_mutex_unlock(&be->lock);
		be_log(be, "open refused: %u files open, the limit is %u "
		       "(max_handles)", be->open_handles, max_handles(be));
		pthread_mutex_destroy(&h->lock);
		pthread_mutex_destroy(&h->read_lock);
		free(h);
		errno = EMFILE;
		return NULL;
	}
	err = take_slot(be, &slot);
	if (err) {
		pthread_mutex_unlock(&be->lock);
		pthread_mutex_destroy(&h->lock);
		pthread_mutex_destroy(&h->read_lock);
		free(h);
		errno = -err;
		return NULL;
	}
	h->handle = slot | (uint32_t)be->handle_gens[slot] << HANDLE_SLOT_BITS;
	be->handles[slot] = h;
	be->open_handles++;
	h->refs++;		/* the table's */
	pthread_mutex_unlock(&be->lock);
	return h;
}

static bool handle_named(uint32_t handle)
{
	return handle >= PD_WIRE_HANDLE_NAMED_MIN &&
	       handle != PD_WIRE_HANDLE_NONE;
}

/* With be->lock: where in be->named this handle is, or -1. */
static int named_find(const struct be *be, uint32_t handle)
{
	for (uint32_t i = 0; i < be->nnamed; i++)
		if (be->named[i]->handle == handle)
			return (int)i;
	return -1;
}

/* With be->lock: where in be->named this handle waits for its file
 * (reserved, not made yet), or -1. */
static int reserved_find(const struct be *be, uint32_t handle)
{
	int i = handle_named(handle) ? named_find(be, handle) : -1;

	return i >= 0 && be->named[i]->awaits ? i : -1;
}

/* With be->lock: out of the list (the caller owns the table's ref). */
static void named_remove(struct be *be, int i)
{
	be->named[i] = be->named[--be->nnamed];
	be->open_handles--;
}

/* With be->lock: the live entry this exact handle names, or NULL. */
static struct be_handle *lookup(struct be *be, uint32_t handle)
{
	uint32_t slot = slot_of(handle);
	struct be_handle *h;
	int i;

	if (handle_named(handle)) {
		i = named_find(be, handle);
		h = i < 0 ? NULL : be->named[i];
		return h && !h->gone && !h->awaits ? h : NULL;
	}
	if (slot >= be->nhandles)
		return NULL;
	h = be->handles[slot];
	return h && !h->gone && h->handle == handle ? h : NULL;
}

/* The handle's file with a reference, or NULL (errno EBADF). */
struct be_handle *be_handle_get(struct be *be, uint32_t handle)
{
	struct be_handle *h;

	pthread_mutex_lock(&be->lock);
	h = lookup(be, handle);
	if (h)
		h->refs++;
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
	for (uint32_t i = 0; i < be->nnamed && !h; i++)
		if (!be->named[i]->awaits && be->named[i]->fd == fd) {
			h = be->named[i];
			h->refs++;
		}
	pthread_mutex_unlock(&be->lock);
	return h;
}

/* The last reference closes the file, which frees the objects the guest
 * made on it (ops.c counts them). */
void be_handle_put(struct be *be, struct be_handle *h)
{
	bool last;

	if (!h)
		return;
	pthread_mutex_lock(&be->lock);
	last = --h->refs == 0;
	if (last)
		be->objects -= h->objects;
	pthread_mutex_unlock(&be->lock);
	if (!last)
		return;
	if (h->fd >= 0)
		close(h->fd);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->read_lock);
	free(h);
}

/* The guest's last close: forget the handle (its slot is free for the
 * next open, with a new generation), close when unused. */
int be_handle_release(struct be *be, uint32_t handle)
{
	struct be_handle *h;

	pthread_mutex_lock(&be->lock);
	h = lookup(be, handle);
	if (h && handle_named(handle)) {
		h->gone = true;
		named_remove(be, named_find(be, handle));
	} else if (h) {
		uint32_t slot = slot_of(handle);

		h->gone = true;
		be->handles[slot] = NULL;
		be->handle_gens[slot] = (uint16_t)((be->handle_gens[slot] + 1) %
						   HANDLE_GENS);
		be->free_slots[be->nfree++] = slot;
		be->open_handles--;
	}
	pthread_mutex_unlock(&be->lock);
	if (!h)
		return -EBADF;
	be_handle_put(be, h);	/* the table's reference */
	return 0;
}

/* A new entry for a handle the guest named, waiting for maker's file. */
int be_handle_reserve(struct be *be, uint32_t handle, struct be_handle *maker)
{
	struct be_handle *h, **grown;
	int err = 0;

	if (!handle_named(handle)) {
		be_log(be, "new_handle 0x%08x refused: not a named handle",
		       handle);
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = -1;
	h->handle = handle;
	h->dev_class = PD_WIRE_CLASS_NONE;
	h->driver = PD_WIRE_DRIVER_NONE;
	h->refs = 1;		/* the list's */
	h->awaits = maker;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->read_lock, NULL);
	pthread_mutex_lock(&be->lock);
	if (named_find(be, handle) >= 0) {
		err = -EBUSY;
	} else if (be->open_handles >= max_handles(be)) {
		err = -EMFILE;
	} else if (be->nnamed == be->named_cap) {
		uint32_t cap = be->named_cap ? be->named_cap * 2 : 8;

		grown = realloc(be->named, cap * sizeof(*grown));
		if (grown) {
			be->named = grown;
			be->named_cap = cap;
		} else {
			err = -ENOMEM;
		}
	}
	if (!err) {
		be->named[be->nnamed++] = h;
		be->open_handles++;
		maker->refs++;		/* h->awaits' */
	}
	pthread_mutex_unlock(&be->lock);
	if (err) {
		be_log(be, "named handle 0x%08x refused: %s", handle,
		       err == -EBUSY ? "still open" :
		       err == -EMFILE ? "max_handles files open" :
					"no memory");
		pthread_mutex_destroy(&h->lock);
		pthread_mutex_destroy(&h->read_lock);
		free(h);
	}
	return err;
}

/*
 * The ordered ioctl that reserved handle is done with it: with fd, the
 * handle names that file (returned with a reference); with -1, nothing
 * (requests about it get EBADF). NULL if it was not reserved (the caller
 * of a bind closes fd).
 */
static struct be_handle *settle(struct be *be, uint32_t handle, int fd)
{
	struct be_handle *h = NULL, *maker = NULL;
	int i;

	pthread_mutex_lock(&be->lock);
	i = reserved_find(be, handle);
	if (i >= 0) {
		h = be->named[i];
		maker = h->awaits;
		h->awaits = NULL;
		h->fd = fd;
		if (fd >= 0) {
			h->refs++;	/* the caller's */
		} else {
			h->gone = true;
			named_remove(be, i);	/* the list's ref is ours */
		}
	}
	pthread_mutex_unlock(&be->lock);
	be_handle_put(be, maker);
	if (fd >= 0)
		return h;
	be_handle_put(be, h);
	return NULL;
}

struct be_handle *be_handle_bind(struct be *be, uint32_t handle, int fd)
{
	return settle(be, handle, fd);
}

void be_handle_unreserve(struct be *be, uint32_t handle)
{
	settle(be, handle, -1);
}

/* The file whose ordered ioctl will give handle its file, with a
 * reference, or NULL. */
struct be_handle *be_handle_awaited(struct be *be, uint32_t handle)
{
	struct be_handle *maker = NULL;
	int i;

	if (!handle_named(handle))
		return NULL;	/* no lock for the common case */
	pthread_mutex_lock(&be->lock);
	i = reserved_find(be, handle);
	if (i >= 0) {
		maker = be->named[i]->awaits;
		maker->refs++;
	}
	pthread_mutex_unlock(&be->lock);
	return maker;
}

/* The connection is over: release every handle and free the table.
 * The mappings hold their files: end them first (be_maps_finish()). */
void be_handles_finish(struct be *be)
{
	while (be->nnamed) {
		uint32_t handle = be->named[be->nnamed - 1]->handle;

		be_handle_unreserve(be, handle);
		be_handle_release(be, handle);
	}
	free(be->named);
	be->named = NULL;
	be->named_cap = 0;
	for (uint32_t i = 0; i < be->next_handle; i++)
		if (be->handles[i])
			be_handle_release(be, be->handles[i]->handle);
	free(be->handles);
	free(be->handle_gens);
	free(be->free_slots);
	be->handles = NULL;
	be->handle_gens = NULL;
	be->free_slots = NULL;
	be->nhandles = 0;
	be->next_handle = 0;
	be->nfree = 0;
}
