// SPDX-License-Identifier: GPL-2.0-only
/*
 * PRIME between the guest's own card files, on a card without PRIME.
 *
 * wlroots (0.15, Debian 12's cage and sway) refuses a card whose
 * DRM_CAP_PRIME lacks IMPORT, and its dumb-buffer allocator exports every
 * buffer it makes (PRIME_HANDLE_TO_FD, on a second file of the card that
 * it opened and authenticated) for the DRM backend to import again
 * (PRIME_FD_TO_HANDLE on the compositor's file) before ADDFB2. bochs in
 * Linux 6.1 has no PRIME at all (DRM_GEM_VRAM_DRIVER sets no prime
 * hooks: the cap is 0, both ioctls ENOSYS), so no wlroots compositor runs
 * on it, in a guest or natively.
 *
 * What a guest gets on its card file (never on a render node, whose PRIME
 * is the driver's, nor where the card answers the ioctl itself):
 *  - GET_CAP(DRM_CAP_PRIME): the card's value with IMPORT and EXPORT.
 *  - PRIME_HANDLE_TO_FD where the card says ENOSYS: the buffer gets a
 *    GEM flink name on the backend's file that made it (the name lives
 *    as long as the buffer; the guest cannot use flink names, the tables
 *    refuse GEM_FLINK/GEM_OPEN), and the guest a new file standing for
 *    it: an empty memfd that the backend adopts like any file a driver
 *    makes. Nothing can be mapped or shared through it but the name.
 *  - PRIME_FD_TO_HANDLE of such a file, on any card file of the same
 *    guest: GEM_OPEN of the name on that file, a new handle (6.1's PRIME
 *    import would give the same handle again for the same buffer; a
 *    client closes each handle it got, so both work). A file of another
 *    guest is not in this guest's table, so it goes to the card (ENOSYS).
 * wlroots 0.15 makes that second file with an empty lease first
 * (CREATE_LEASE of no objects) and falls back to open() + AUTH_MAGIC
 * only on EINVAL or EOPNOTSUPP: the guest gets 6.1's EINVAL for an empty
 * lease and EOPNOTSUPP for any other (no leases of the real card's
 * objects: hostd shows what a guest's CRTC holds). The object list is
 * never read.
 *
 * The table keeps the newest VKMS_MAX_PRIME exports (a compositor makes
 * 2 to 4 buffers per output); each entry keeps its memfd open so that no
 * other file takes its inode while the entry is there.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "priv.h"

static bool card_node(const struct be_handle *h)
{
	struct stat st;

	return !fstat(h->fd, &st) && S_ISCHR(st.st_mode) &&
	       minor(st.st_rdev) < 128;
}

int vkms_prime_cap(struct vkms *v, struct be_handle *h,
		   struct drm_get_cap *c, bool *answered)
{
	(void)v;
	*answered = c->capability == DRM_CAP_PRIME && card_node(h);
	if (!*answered)
		return 0;
	if (ioctl(h->fd, DRM_IOCTL_GET_CAP, c))
		return -errno;
	c->value |= DRM_PRIME_CAP_IMPORT | DRM_PRIME_CAP_EXPORT;
	return 0;
}

int vkms_prime_export(struct vkms *v, struct be_handle *h,
		      struct drm_prime_handle *p, bool *answered)
{
	struct drm_gem_flink flink = { .handle = p->handle };
	struct vprime *e;
	struct stat st;
	int fd;

	*answered = card_node(h);
	if (!*answered)
		return 0;
	if (!ioctl(h->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, p))
		return 0;
	if (errno != ENOSYS)
		return -errno;
	if (ioctl(h->fd, DRM_IOCTL_GEM_FLINK, &flink))
		return -errno;
	fd = memfd_create("paradice-prime", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	pthread_mutex_lock(&v->lock);
	e = &v->primes[v->nextprime++ % VKMS_MAX_PRIME];
	if (e->fd > 0)
		close(e->fd);
	e->fd = dup(fd);	/* pins the inode; -1: the entry names none */
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->name = flink.name;
	pthread_mutex_unlock(&v->lock);
	p->fd = fd;		/* adopted as a new file of the guest */
	return 0;
}

int vkms_prime_import(struct vkms *v, struct be_handle *h,
		      struct drm_prime_handle *p, bool *answered)
{
	struct drm_gem_open open_arg = { 0 };
	struct stat st;
	unsigned int i;

	*answered = false;
	if (!card_node(h) || fstat(p->fd, &st))
		return 0;
	pthread_mutex_lock(&v->lock);
	for (i = 0; i < VKMS_MAX_PRIME; i++) {
		const struct vprime *e = &v->primes[i];

		if (e->fd > 0 && e->dev == st.st_dev && e->ino == st.st_ino) {
			open_arg.name = e->name;
			break;
		}
	}
	pthread_mutex_unlock(&v->lock);
	if (!open_arg.name)
		return 0;	/* not ours: the card answers */
	*answered = true;
	if (ioctl(h->fd, DRM_IOCTL_GEM_OPEN, &open_arg))
		return -errno;
	p->handle = open_arg.handle;
	return 0;
}

void vkms_prime_finish(struct vkms *v)
{
	unsigned int i;

	for (i = 0; i < VKMS_MAX_PRIME; i++)
		if (v->primes[i].fd > 0)
			close(v->primes[i].fd);
}

int vkms_create_lease(const struct drm_mode_create_lease *l)
{
	return l->object_count ? -EOPNOTSUPP : -EINVAL;
}
