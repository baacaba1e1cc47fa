/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest's virtual display (display.c): hooks of the request handlers.
 * All of them do nothing unless hostd gave this backend a display
 * connection (PD_DISPLAY_FD): then display ioctls never reach the card.
 */
#ifndef PD_BACKEND_DISPLAY_H
#define PD_BACKEND_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct be;
struct be_handle;

/* Tests: look for a new hostd at path, not PD_DISPLAY_SOCKET. */
void be_display_set_socket(const char *path);
/* After the worker threads exist: connect to hostd (0, or -1). */
int be_display_start(struct be *be);
/* After the open of a guest's real file. */
void be_display_opened(const struct be_handle *h);
/* Does the virtual display answer h's screened ioctls (atomic)? */
bool be_display_screens(const struct be_handle *h);
/* An ioctl answered here (true, *ret and errno as from ioctl(2)) or not. */
bool be_display_ioctl(struct be *be, struct be_handle *h, unsigned int cmd,
		      void *arg, int *ret);
/* A read answered here (true, *n and errno as from read(2)) or not. */
bool be_display_read(struct be *be, struct be_handle *h, void *buf,
		     size_t count, bool nonblock, ssize_t *n);
/* Poll bits to add to the real file's. */
uint32_t be_display_poll(struct be *be, struct be_handle *h);
/* The guest's DPMS of connector conn_id (a connector of the card: the
 * caller checks), for legacy SETPROPERTY and the atomic property ioctls:
 * set (0, or -EINVAL for a value not in the enum; standby and suspend are
 * kept as off, as the atomic helpers do) and read back (0; on if never
 * set). Set also goes to hostd. */
int be_display_dpms_set(uint32_t conn_id, uint64_t v);
int be_display_dpms_get(uint32_t conn_id, uint64_t *v);
/* Before the guest's last close of a handle. */
void be_display_release(struct be *be, uint32_t handle);

#endif /* PD_BACKEND_DISPLAY_H */
