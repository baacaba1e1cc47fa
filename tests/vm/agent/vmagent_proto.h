/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The test channel into each emulated machine: a tiny framed protocol that
 * the test side (tests/vm/pdvm/agent.py, or pd-vmagent's client in dom0)
 * speaks to pd-vmagent in the machine, over a virtio-serial port (plain VM,
 * dom0) or a vchan (a Xen guest, reached from dom0).
 *
 * Every frame is a header followed by len payload bytes. The client picks an
 * id per request; every reply frame carries it, so a client ignores frames
 * left over from an earlier, interrupted request.
 *
 *   REQ_PING                               -> RESP_DONE
 *   REQ_EXEC  u32 timeout_s, shell command -> RESP_OUT/RESP_ERR..., RESP_EXIT
 *   REQ_PUT   u32 mode, path, NUL, data    -> RESP_DONE | RESP_FAIL
 *   REQ_GET   path                         -> RESP_DATA... RESP_DONE | RESP_FAIL
 *
 * RESP_EXIT carries an i32: the exit code, or 128 + signal number, or 124
 * when the agent killed the command at its timeout. RESP_FAIL carries a
 * message. All integers are little-endian.
 */
#ifndef PD_VMAGENT_PROTO_H
#define PD_VMAGENT_PROTO_H

#include <stdint.h>

#define VMA_MAGIC 0x41564450u /* "PDVA" */
#define VMA_MAX_PAYLOAD (512u << 20)

enum vma_type {
	VMA_REQ_PING = 1,
	VMA_REQ_EXEC = 2,
	VMA_REQ_PUT = 3,
	VMA_REQ_GET = 4,
	VMA_RESP_OUT = 0x81,
	VMA_RESP_ERR = 0x82,
	VMA_RESP_EXIT = 0x83,
	VMA_RESP_FAIL = 0x84,
	VMA_RESP_DATA = 0x85,
	VMA_RESP_DONE = 0x86,
};

struct vma_hdr {
	uint32_t magic;
	uint32_t type;
	uint32_t id;
	uint32_t len;
};

#endif /* PD_VMAGENT_PROTO_H */
