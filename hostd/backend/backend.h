/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pd-backend: serves one guest (one connection) from the real device
 * files it was given. Everything the guest sends is untrusted: headers and
 * fixed bodies are checked in ops.c, ioctl bodies by decode.c.
 *
 *   main.c        command line, setup, the reader loop, CANCEL
 *   exports.c     what a device file is (class, driver, node name)
 *   handles.c     the guest's open files: handle -> real descriptor
 *   ops.c         one function per request
 *   pool.c        worker threads: a blocking request never delays another
 *   events.c      poll readiness and SIGIO as events, cancel delivery
 *   transport_loop.c  the loop transport (/dev/paradice-loop)
 *   transport_xen.c   the Xen transport (rings, grants, XenStore)
 */
#ifndef PD_BACKEND_H
#define PD_BACKEND_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <paradice/pd_wire.h>
#include "pd_ioctl.h"

/* ---------------------------------------------------------------- */
/* Transports: a small table chosen by name.                         */

struct be_transport;
struct be;

struct be_transport_impl {
	const char *name;
	/* Features this transport carries (PD_WIRE_FEAT_*). */
	uint64_t features;
	/* One whole request into buf (cap >= PD_WIRE_MAX_MSG); its length,
	 * 0 at the end of the connection, -1 with errno on error. */
	ssize_t (*recv)(struct be_transport *t, void *buf, size_t cap);
	/* One whole reply or event; 0 or -1 with errno. Thread-safe. */
	int (*send)(struct be_transport *t, const void *msg, size_t len);
	/* Optional: the real file behind a handle, before its reply. */
	int (*attach)(struct be_transport *t, uint32_t handle, int fd);
	void (*destroy)(struct be_transport *t);
};

struct be_transport {
	const struct be_transport_impl *impl;
	int fd;
};

struct be_transport *be_loop_create(const char *path);
/* transport_xen.c: forks a monitor; returns in the server process.
 * The guest gets the devices of its config section, then extra[0..nextra)
 * (hostd's virtual keyboard and pointer for that guest). */
struct be_transport *be_xen_create(struct be *be, const char *domain,
				   const char *config_path, char **extra,
				   unsigned int nextra);
struct pd_loop_node;
int be_loop_nodes(struct be_transport *t, struct pd_loop_node *nodes,
		  unsigned int count, int *status);

/* ---------------------------------------------------------------- */

struct be_export {
	char path[256];
	struct pd_wire_export info;
};

int be_export_describe(const char *path, struct be_export *e);

struct be_handle {
	uint32_t handle;
	int fd;
	uint16_t dev_class;
	uint16_t driver;
	int refs;			/* under be.lock */
	bool gone;			/* released by the guest */
	/* Serialises stateful ioctls and the file's O_NONBLOCK flag. */
	pthread_mutex_t lock;
	struct pd_ioc_state st;
	bool nonblock;			/* current O_NONBLOCK of fd */
	uint32_t poll_seq;
};

struct be_job {
	struct be_job *next;		/* pool queue / running list */
	struct pd_wire_hdr hdr;
	uint8_t *body;			/* hdr.len bytes, untrusted */
	pthread_t thread;		/* worker running it */
	atomic_bool running;
	atomic_bool cancel;
};

struct be {
	struct be_transport *tp;
	const char *name;		/* for the log: the guest */
	struct be_export *exports;
	uint32_t nexports;
	uint64_t features;		/* agreed at CONNECT */
	atomic_bool connected;

	/* Handles and the running jobs. */
	pthread_mutex_t lock;
	struct be_handle **handles;
	uint32_t nhandles;		/* slots in handles */
	uint32_t next_handle;
	struct be_job *running;

	int epfd;			/* poll interest */
	int wakefd;			/* eventfd: cancels pending */
	int sigfd;			/* signalfd: SIGIO of fasync files */
	atomic_int cancels;
	int verbose;
};

#define BE_SIG_CANCEL	SIGUSR1
#define BE_SIG_IO	(SIGRTMIN + 1)

void be_log(struct be *be, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* handles.c */
struct be_handle *be_handle_new(struct be *be, int fd, uint16_t dev_class,
				uint16_t driver);
struct be_handle *be_handle_get(struct be *be, uint32_t handle);
struct be_handle *be_handle_by_fd(struct be *be, int fd);
void be_handle_put(struct be *be, struct be_handle *h);
int be_handle_release(struct be *be, uint32_t handle);
void be_handles_finish(struct be *be);

/* ops.c */
void be_run_job(struct be *be, struct be_job *job);
int be_reply(struct be *be, const struct pd_wire_hdr *req, int64_t result,
	     const void *body, size_t len);
int be_send_event(struct be *be, uint16_t op, uint32_t handle,
		  const void *body, size_t len);

/* pool.c */
int be_pool_start(struct be *be);
void be_pool_submit(struct be *be, struct be_job *job);
void be_job_free(struct be_job *job);

/* events.c */
int be_events_start(struct be *be);
int be_poll_arm(struct be *be, struct be_handle *h, uint32_t events);
void be_cancel(struct be *be, uint64_t target, int64_t *result);

#endif /* PD_BACKEND_H */
