// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtual KMS object (vkms.h): its life, the switch that sends each
 * display ioctl of a guest's card file to the file that answers it, the
 * class hooks the backend's dispatcher calls (struct be_class_hooks), and
 * DRM master of the guest's files.
 *
 * DRM master: hostd is master of the real card, and the backend's files
 * never are (vkms_not_master()); a guest's compositor still asks for
 * master (Xorg: drmSetMaster()) and must get the answers a card gives its
 * clients, as Linux 6.1's drm_auth.c gives them, with the guest's files
 * standing for the card's: the first file opened while none is master
 * becomes master (drm_master_open()); SET_MASTER by the master: 0; while
 * another file is master: EBUSY; otherwise the file becomes master.
 * DROP_MASTER by a file that is not master: EINVAL; by the master: 0, and
 * no file is master until one sets it or opens. The master's last close
 * leaves none. drm_master_check_perm()'s EACCES (neither CAP_SYS_ADMIN nor
 * the opener that was master) is not made here: the guest's credentials
 * are not known to the backend. Render nodes are never master (EACCES,
 * as drm_ioctl_permit()).
 *
 * Magics (DRI2 authentication, and libdrm's drmIsMaster(), which asks
 * AUTH_MAGIC(0) and takes anything but EACCES for "master"): one
 * namespace per guest, as 6.1's master's magic_map (6.1 starts a new map
 * for a master that is not the first; a guest keeps one). GET_MAGIC gives
 * a file its magic, the lowest free from 1 (idr_alloc()), the same one
 * again until its last close; render nodes: EACCES. AUTH_MAGIC by a file
 * that is not master: EACCES (the ioctl is DRM_MASTER); by the master:
 * 0 for a magic of one of the guest's files not used before, then it
 * names nothing (EINVAL again), EINVAL for 0 and any other. Neither
 * reaches the card: a magic there would be a name in hostd's namespace.
 * The files of the guest all are authenticated on the card (the backend
 * opens them), so AUTH_MAGIC changes nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "priv.h"

/* A render node (minor 128 and up) has no master. */
static bool render_node(const struct be_handle *h)
{
	struct stat st;

	return !fstat(h->fd, &st) && S_ISCHR(st.st_mode) &&
	       minor(st.st_rdev) >= 128;
}

/* SET_MASTER and DROP_MASTER of the guest's file h (see above). */
static int master_ioctl(struct vkms *v, struct be_handle *h, unsigned int cmd)
{
	int r = 0;

	if (render_node(h))
		return -EACCES;
	pthread_mutex_lock(&v->lock);
	if (cmd == DRM_IOCTL_SET_MASTER) {
		if (v->master && v->master != h->handle)
			r = -EBUSY;
		else
			v->master = h->handle;
	} else {
		if (v->master != h->handle)
			r = -EINVAL;
		else
			v->master = 0;
	}
	pthread_mutex_unlock(&v->lock);
	return r;
}

/* Under lock: the slot of handle's magic, VKMS_MAX_MAGICS: none. */
static unsigned int magic_slot(struct vkms *v, uint32_t handle)
{
	for (unsigned int i = 0; i < v->nmagics; i++)
		if (v->magics[i].handle == handle)
			return i;
	return VKMS_MAX_MAGICS;
}

/* Under lock: has a file of the guest magic m? */
static bool magic_taken(struct vkms *v, uint32_t m)
{
	for (unsigned int i = 0; i < v->nmagics; i++)
		if (v->magics[i].magic == m)
			return true;
	return false;
}

/* GET_MAGIC and AUTH_MAGIC of the guest's file h (see above). */
static int magic_ioctl(struct vkms *v, struct be_handle *h, unsigned int cmd,
		       struct drm_auth *a)
{
	unsigned int i;
	int r = -EINVAL;

	if (render_node(h))
		return -EACCES;
	pthread_mutex_lock(&v->lock);
	if (cmd == DRM_IOCTL_GET_MAGIC) {
		i = magic_slot(v, h->handle);
		if (i == VKMS_MAX_MAGICS) {
			uint32_t m = 1;

			if (v->nmagics == VKMS_MAX_MAGICS) {
				r = -ENOMEM;	/* as idr_alloc() */
				goto out;
			}
			while (magic_taken(v, m))	/* the lowest free */
				m++;
			i = v->nmagics++;
			v->magics[i].handle = h->handle;
			v->magics[i].magic = m;
			v->magics[i].authed = false;
		}
		a->magic = v->magics[i].magic;
		r = 0;
	} else if (v->master != h->handle) {
		r = -EACCES;
	} else {
		for (i = 0; i < v->nmagics; i++) {
			if (!a->magic || v->magics[i].magic != a->magic ||
			    v->magics[i].authed)
				continue;
			v->magics[i].authed = true;
			r = 0;
		}
	}
out:
	pthread_mutex_unlock(&v->lock);
	return r;
}

/* Names of caps for the log of what a guest asked (drm.h). */
static const char *const caps[] = {
	[DRM_CAP_DUMB_BUFFER] = "DUMB_BUFFER",
	[DRM_CAP_VBLANK_HIGH_CRTC] = "VBLANK_HIGH_CRTC",
	[DRM_CAP_DUMB_PREFERRED_DEPTH] = "DUMB_PREFERRED_DEPTH",
	[DRM_CAP_DUMB_PREFER_SHADOW] = "DUMB_PREFER_SHADOW",
	[DRM_CAP_PRIME] = "PRIME",
	[DRM_CAP_TIMESTAMP_MONOTONIC] = "TIMESTAMP_MONOTONIC",
	[DRM_CAP_ASYNC_PAGE_FLIP] = "ASYNC_PAGE_FLIP",
	[DRM_CAP_CURSOR_WIDTH] = "CURSOR_WIDTH",
	[DRM_CAP_CURSOR_HEIGHT] = "CURSOR_HEIGHT",
	[DRM_CAP_ADDFB2_MODIFIERS] = "ADDFB2_MODIFIERS",
	[DRM_CAP_PAGE_FLIP_TARGET] = "PAGE_FLIP_TARGET",
	[DRM_CAP_CRTC_IN_VBLANK_EVENT] = "CRTC_IN_VBLANK_EVENT",
	[DRM_CAP_SYNCOBJ] = "SYNCOBJ",
	[DRM_CAP_SYNCOBJ_TIMELINE] = "SYNCOBJ_TIMELINE",
};
static const char *const client_caps[] = {
	[DRM_CLIENT_CAP_STEREO_3D] = "STEREO_3D",
	[DRM_CLIENT_CAP_UNIVERSAL_PLANES] = "UNIVERSAL_PLANES",
	[DRM_CLIENT_CAP_ATOMIC] = "ATOMIC",
	[DRM_CLIENT_CAP_ASPECT_RATIO] = "ASPECT_RATIO",
	[DRM_CLIENT_CAP_WRITEBACK_CONNECTORS] = "WRITEBACK_CONNECTORS",
};
#define NCAPS(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, uint64_t i)
{
	static __thread char num[24];

	if (i < n && names[i])
		return names[i];
	snprintf(num, sizeof(num), "0x%llx", (unsigned long long)i);
	return num;
}

/*
 * A display ioctl of the guest on h, its argument already rebuilt in our
 * memory by decode.c. Returns true if it was answered here (*ret as from
 * ioctl(2), errno set on -1); false: run it on the real file.
 */
static bool card_ioctl(void *data, struct be_handle *h, unsigned int cmd,
		       void *arg, int *ret)
{
	struct vkms *v = data;
	bool answered = true;
	int r;

	switch (cmd) {
	case DRM_IOCTL_MODE_ADDFB:
	case DRM_IOCTL_MODE_ADDFB2:
		r = vkms_addfb(v, h, cmd, arg);
		break;
	case DRM_IOCTL_MODE_RMFB:
		r = vkms_rmfb(v, h, arg);
		break;
	case DRM_IOCTL_MODE_GETPLANE:
		r = vkms_getplane(v, h, arg);
		break;
	case DRM_IOCTL_MODE_GETPLANERESOURCES:
		r = vkms_getplaneres(v, h, arg);
		break;
	case DRM_IOCTL_MODE_OBJ_GETPROPERTIES:
		if (!vkms_obj_getproperties(v, h, arg, &r))
			return false;	/* not a CRTC, plane or connector */
		break;
	case DRM_IOCTL_MODE_OBJ_SETPROPERTY:
		r = vkms_obj_setproperty(v, h, arg);
		break;
	case DRM_IOCTL_MODE_ATOMIC:
		r = vkms_atomic(v, h, arg);
		break;
	case DRM_IOCTL_MODE_CREATEPROPBLOB:
		r = vkms_createblob(v, h, arg);
		break;
	case DRM_IOCTL_MODE_DESTROYPROPBLOB:
		r = vkms_destroyblob(v, h, arg);
		break;
	case DRM_IOCTL_MODE_GETPROPBLOB:
		r = vkms_getblob(v, h, arg);
		break;
	case DRM_IOCTL_WAIT_VBLANK:
		r = vkms_wait_vblank(v, h, arg);
		break;
	case DRM_IOCTL_CRTC_GET_SEQUENCE:
	case DRM_IOCTL_CRTC_QUEUE_SEQUENCE:
		r = vkms_crtc_sequence(v, h, cmd, arg);
		break;
	case DRM_IOCTL_SET_CLIENT_CAP: {
		const struct drm_set_client_cap *c = arg;

		r = vkms_client_cap(v, h, arg);
		vkms_asked(v, "SET_CLIENT_CAP %s = %llu: %s",
			   name_of(client_caps, NCAPS(client_caps),
				   c->capability),
			   (unsigned long long)c->value,
			   r ? strerror(-r) : "0");
		break;
	}
	case DRM_IOCTL_SET_MASTER:
	case DRM_IOCTL_DROP_MASTER:
		r = master_ioctl(v, h, cmd);
		break;
	case DRM_IOCTL_GET_MAGIC:
	case DRM_IOCTL_AUTH_MAGIC:
		r = magic_ioctl(v, h, cmd, arg);
		break;
	case DRM_IOCTL_GET_CAP: {
		struct drm_get_cap *c = arg;

		r = vkms_prime_cap(v, h, arg, &answered);
		if (!answered)	/* the card's answer, asked here for the log */
			r = ioctl(h->fd, DRM_IOCTL_GET_CAP, c) ? -errno : 0;
		if (r)
			vkms_asked(v, "GET_CAP %s: %s%s",
				   name_of(caps, NCAPS(caps), c->capability),
				   strerror(-r), answered ? "" : " (the card's)");
		else
			vkms_asked(v, "GET_CAP %s: %llu%s",
				   name_of(caps, NCAPS(caps), c->capability),
				   (unsigned long long)c->value,
				   answered ? "" : " (the card's)");
		break;
	}
	case DRM_IOCTL_PRIME_HANDLE_TO_FD:
		r = vkms_prime_export(v, h, arg, &answered);
		if (!answered)
			return false;
		break;
	case DRM_IOCTL_MODE_CREATE_LEASE:
		r = vkms_create_lease(arg);
		break;
	case DRM_IOCTL_PRIME_FD_TO_HANDLE:
		r = vkms_prime_import(v, h, arg, &answered);
		if (!answered)
			return false;
		break;
	default:
		r = vkms_legacy_ioctl(v, h, cmd, arg, &answered);
		if (!answered)
			return false;	/* reads of the real card: resources */
		break;
	}
	if (r < 0 && cmd != DRM_IOCTL_GET_CAP &&
	    cmd != DRM_IOCTL_SET_CLIENT_CAP)
		vkms_asked(v, "ioctl 0x%02x: %s", _IOC_NR(cmd), strerror(-r));
	*ret = r < 0 ? -1 : r;
	errno = r < 0 ? -r : 0;
	return true;
}

/* The guest opened its card: our file is not master of the real card;
 * the guest's is of the virtual one if none is. */
static void card_opened(void *data, struct be_handle *h)
{
	struct vkms *v = data;

	vkms_not_master(h->fd);
	pthread_mutex_lock(&v->lock);
	v->nfiles++;
	if (!v->master && !render_node(h))
		v->master = h->handle;
	pthread_mutex_unlock(&v->lock);
}

/* The vkms answers every screened ioctl (atomic, OBJ_SETPROPERTY). */
static bool card_screens(void *data, const struct be_handle *h)
{
	(void)data;
	(void)h;
	return true;
}

static bool card_read(void *data, struct be_handle *h, void *buf,
		      size_t count, bool nonblock, uint32_t seen, ssize_t *n)
{
	return vkms_events_read(data, h, buf, count, nonblock, seen, n);
}

static uint32_t card_poll(void *data, struct be_handle *h)
{
	return vkms_events_poll(data, h);
}

/* The guest's last close of h: its framebuffers go with the real file
 * (off the screen first), its events and blobs, its mastership. */
static void card_release(void *data, struct be_handle *h)
{
	struct vkms *v = data;
	bool last;
	unsigned int i;

	pthread_mutex_lock(&v->lock);
	last = v->nfiles && !--v->nfiles;
	vkms_objects_release(v, h->handle);
	vkms_events_release(v, h->handle);
	if (v->master == h->handle)
		v->master = 0;
	i = magic_slot(v, h->handle);
	if (i < VKMS_MAX_MAGICS)
		v->magics[i] = v->magics[--v->nmagics];
	pthread_mutex_unlock(&v->lock);
	if (last)
		vkms_asked_forget(v);	/* the next session is logged whole */
}

const struct be_class_hooks vkms_card_hooks = {
	.opened = card_opened,
	.screens = card_screens,
	.ioctl = card_ioctl,
	.read = card_read,
	.poll = card_poll,
	.release = card_release,
};

struct vkms *vkms_create(struct be *be, const struct vkms_config *cfg)
{
	struct vkms *v = calloc(1, sizeof(*v));
	int e;

	if (!v)
		return NULL;
	v->be = be;
	v->sock = cfg->sock;
	v->wake = v->gone = -1;
	snprintf(v->socket_path, sizeof(v->socket_path), "%s",
		 cfg->socket_path ? cfg->socket_path : PD_DISPLAY_SOCKET);
	v->reattach_s = cfg->reattach_s ? cfg->reattach_s :
					  PD_DISPLAY_REATTACH_S;
	v->dirtyfb = cfg->dirtyfb;
	for (unsigned int i = 0; i < cfg->ninput &&
	     i < PD_DISPLAY_MAX_INPUT; i++)
		v->input[v->ninput++] = cfg->input[i];
	pthread_mutex_init(&v->lock, NULL);
	pthread_mutex_init(&v->learn_lock, NULL);
	pthread_mutex_init(&v->asked_lock, NULL);
	pthread_cond_init(&v->flipped, NULL);
	pthread_mutex_init(&v->open_lock, NULL);
	{
		pthread_condattr_t a;

		pthread_condattr_init(&a);
		pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
		pthread_cond_init(&v->opened, &a);
		pthread_condattr_destroy(&a);
	}
	v->open_fd = -1;
	vkms_objects_init(v);
	v->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	v->gone = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->wake < 0 || v->gone < 0)
		goto fail;
	fcntl(v->sock, F_SETFD, FD_CLOEXEC);
	if (vkms_events_start(v))
		goto fail;
	if (vkms_link_start(v)) {
		e = errno;
		pthread_mutex_lock(&v->lock);
		v->stopping = true;
		pthread_mutex_unlock(&v->lock);
		vkms_events_stop(v);
		errno = e;
		goto fail;
	}
	be_log(be, "display: virtual, shown by hostd");
	return v;
fail:
	e = errno;
	if (v->wake >= 0)
		close(v->wake);
	if (v->gone >= 0)
		close(v->gone);
	pthread_cond_destroy(&v->flipped);
	pthread_cond_destroy(&v->opened);
	pthread_mutex_destroy(&v->open_lock);
	pthread_mutex_destroy(&v->asked_lock);
	pthread_mutex_destroy(&v->learn_lock);
	pthread_mutex_destroy(&v->lock);
	free(v);
	errno = e;
	return NULL;
}

void vkms_destroy(struct vkms *v)
{
	if (!v)
		return;
	pthread_mutex_lock(&v->lock);
	v->stopping = true;
	pthread_mutex_unlock(&v->lock);
	vkms_link_stop(v);
	vkms_events_stop(v);
	if (v->sock >= 0)
		close(v->sock);
	for (unsigned int i = 0; i < v->ninput; i++)
		close(v->input[i]);
	if (v->qfd >= 0)
		close(v->qfd);
	vkms_prime_finish(v);
	close(v->wake);
	close(v->gone);
	pthread_cond_destroy(&v->flipped);
	pthread_cond_destroy(&v->opened);
	pthread_mutex_destroy(&v->open_lock);
	pthread_mutex_destroy(&v->asked_lock);
	pthread_mutex_destroy(&v->learn_lock);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

int vkms_gone_fd(const struct vkms *v)
{
	return v->gone;
}
