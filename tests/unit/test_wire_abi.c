// SPDX-License-Identifier: GPL-2.0-only
/*
 * The wire ABI header stands alone in userspace (it is the first include
 * here), states its version, and lays its structs out where peers built
 * by other compilers expect them: offsets of the fields a peer reads
 * first are pinned, not only sizes.
 */
#include <paradice/pd_wire.h>

#include <stddef.h>

#include "tap.h"

static void test_version(void)
{
	CHECK_EQ(PD_WIRE_VERSION_MAJOR, 1);
	CHECK_EQ(PD_WIRE_VERSION_MINOR, 8);
	printf("# wire ABI %d.%d\n", PD_WIRE_VERSION_MAJOR,
	       PD_WIRE_VERSION_MINOR);
}

static void test_header_layout(void)
{
	CHECK_EQ(sizeof(struct pd_wire_hdr), 32);
	CHECK_EQ(offsetof(struct pd_wire_hdr, id), 0);
	CHECK_EQ(offsetof(struct pd_wire_hdr, op), 8);
	CHECK_EQ(offsetof(struct pd_wire_hdr, flags), 10);
	CHECK_EQ(offsetof(struct pd_wire_hdr, handle), 12);
	CHECK_EQ(offsetof(struct pd_wire_hdr, len), 16);
	CHECK_EQ(offsetof(struct pd_wire_hdr, result), 24);
}

static void test_ioctl_layout(void)
{
	CHECK_EQ(offsetof(struct pd_wire_ioctl_req, cmd), 0);
	CHECK_EQ(offsetof(struct pd_wire_ioctl_req, nbufs), 4);
	CHECK_EQ(offsetof(struct pd_wire_ioctl_req, arg), 8);
	CHECK_EQ(offsetof(struct pd_wire_ioctl_req, data_len), 16);
	CHECK_EQ(offsetof(struct pd_wire_buf, offset), 0);
	CHECK_EQ(offsetof(struct pd_wire_buf, len), 4);
	CHECK_EQ(offsetof(struct pd_wire_buf, flags), 8);
	CHECK_EQ(offsetof(struct pd_wire_newfd, handle), 0);
	CHECK_EQ(offsetof(struct pd_wire_newfd, offset), 8);
	CHECK_EQ(offsetof(struct pd_wire_connect, features), 8);
}

static void test_opcodes_and_limits(void)
{
	/* events and requests never share a number */
	CHECK(PD_OP_CANCEL < 0x80);
	CHECK(PD_EV_POLL > 0x80 && PD_EV_REVOKE > 0x80 && PD_EV_UNMAP > 0x80 &&
	      PD_EV_DATA > 0x80);
	CHECK_EQ(PD_WIRE_FEAT_ALL, 0x3fff);
	/* a push fits the smallest event buffer (Xen's, 128 bytes) */
	CHECK(sizeof(struct pd_wire_hdr) + sizeof(struct pd_wire_data_ev) +
	      PD_WIRE_EV_DATA_MAX <= 128);
	CHECK(PD_WIRE_IOCTL_MAX_DATA + sizeof(struct pd_wire_hdr) +
	      sizeof(struct pd_wire_ioctl_req) +
	      PD_WIRE_IOCTL_MAX_BUFS * sizeof(struct pd_wire_buf) <=
	      PD_WIRE_MAX_MSG);
	CHECK(PD_WIRE_HANDLE_NONE == (__u32)-1);
	/* a named handle is never a slot handle (gen 0xfff unused) */
	CHECK(PD_WIRE_HANDLE_NAMED_MIN == 0xfff00000u);
}

int main(void)
{
	RUN(test_version);
	RUN(test_header_layout);
	RUN(test_ioctl_layout);
	RUN(test_opcodes_and_limits);
	return tap_done();
}
