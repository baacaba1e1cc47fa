// SPDX-License-Identifier: GPL-2.0-only
/* The wire ABI header stands alone in userspace and states its version. */
#include <stdio.h>

#include <paradice/pd_wire.h>

int main(void)
{
	int failed = 0;

	if (PD_WIRE_VERSION_MAJOR < 0 || PD_WIRE_VERSION_MINOR < 0) {
		fprintf(stderr, "bad version\n");
		failed = 1;
	}
	printf("wire ABI %d.%d\n", PD_WIRE_VERSION_MAJOR, PD_WIRE_VERSION_MINOR);
	return failed;
}
