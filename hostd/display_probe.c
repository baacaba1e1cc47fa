// SPDX-License-Identifier: GPL-2.0-only
/*
 * What hostd learns of the card once, as its master (display_probe.h):
 * each CRTC's legacy gamma size, the connectors' DPMS property, and what
 * DIRTYFB answers. Plain ioctls on the master descriptor; no state.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#ifndef __user
#define __user
#endif
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <paradice/pd_display.h>

#include "display_probe.h"

/* GETCRTC's gamma size of each CRTC (0: no legacy gamma, as bochs and
 * virtio-gpu in 6.1; left as it was where GETCRTC fails or the size is
 * beyond what the display protocol carries). */
void hostd_card_gamma_sizes(int card, const uint32_t *crtc_ids,
			    unsigned int n, uint32_t *sizes)
{
	for (unsigned int s = 0; s < n; s++) {
		struct drm_mode_crtc c = { .crtc_id = crtc_ids[s] };

		if (ioctl(card, DRM_IOCTL_MODE_GETCRTC, &c) == 0 &&
		    c.gamma_size <= PD_DISPLAY_MAX_GAMMA)
			sizes[s] = c.gamma_size;
	}
}

/* The id of the DPMS property (one for every connector:
 * mode_config.dpms_property), found by name among a connector's; 0 if
 * none. */
uint32_t hostd_card_dpms_prop(int card, uint32_t conn_id)
{
	uint32_t props[64], id = 0;
	uint64_t values[64];
	struct drm_mode_obj_get_properties op = {
		.obj_id = conn_id, .obj_type = DRM_MODE_OBJECT_CONNECTOR,
		.count_props = 64, .props_ptr = (uintptr_t)props,
		.prop_values_ptr = (uintptr_t)values };

	if (ioctl(card, DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &op))
		return 0;
	for (unsigned int i = 0; i < op.count_props && i < 64; i++) {
		struct drm_mode_get_property p = { .prop_id = props[i] };

		if (ioctl(card, DRM_IOCTL_MODE_GETPROPERTY, &p) == 0 &&
		    !strcmp(p.name, "DPMS"))
			id = props[i];
	}
	return id;
}

/*
 * What the card answers DIRTYFB with, for the backends to give their
 * guests (pd_display.h, PD_DISPLAY_DIRTYFB_ENV): DIRTYFB of a small
 * framebuffer that nothing shows. 6.1: -ENOSYS where the framebuffer has
 * no dirty hook (bochs: drm_gem_fb_create()), 0 where it has one
 * (virtio-gpu: drm_atomic_helper_dirtyfb(), which commits nothing for an
 * fb on no plane). Anything else (no dumb buffers...) counts as 0.
 */
int hostd_card_dirtyfb(int card)
{
	struct drm_mode_create_dumb cd = { .width = 64, .height = 64,
					   .bpp = 32 };
	struct drm_mode_destroy_dumb dd = { 0 };
	struct drm_mode_fb_cmd fb = { 0 };
	int r = 0;

	if (ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &cd))
		return 0;
	fb = (struct drm_mode_fb_cmd){ .width = 64, .height = 64,
				       .pitch = cd.pitch, .bpp = 32,
				       .depth = 24, .handle = cd.handle };
	if (ioctl(card, DRM_IOCTL_MODE_ADDFB, &fb) == 0) {
		struct drm_mode_fb_dirty_cmd dc = { .fb_id = fb.fb_id };

		if (ioctl(card, DRM_IOCTL_MODE_DIRTYFB, &dc) && errno == ENOSYS)
			r = -ENOSYS;
		ioctl(card, DRM_IOCTL_MODE_RMFB, &fb.fb_id);
	}
	dd.handle = cd.handle;
	ioctl(card, DRM_IOCTL_MODE_DESTROY_DUMB, &dd);
	return r;
}
