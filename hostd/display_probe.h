/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * display_probe.c: what hostd learns of the card once, as its master.
 */
#ifndef HOSTD_DISPLAY_PROBE_H
#define HOSTD_DISPLAY_PROBE_H

#include <stdint.h>

void hostd_card_gamma_sizes(int card, const uint32_t *crtc_ids,
			    unsigned int n, uint32_t *sizes);
uint32_t hostd_card_dpms_prop(int card, uint32_t conn_id);
/* 0 or -ENOSYS, as the card answers DIRTYFB of a framebuffer */
int hostd_card_dirtyfb(int card);

#endif /* HOSTD_DISPLAY_PROBE_H */
