// SPDX-License-Identifier: GPL-2.0-only
/*
 * LD_PRELOAD shim for the audio test (tests/xen/test_xen_audio.py):
 * PulseAudio's timer-based scheduling in a virtual machine. PulseAudio 16
 * turns tsched off by itself when it finds a hypervisor
 * (pa_alsa_may_tsched() asks pa_running_in_vm(), in libpulsecommon,
 * whatever module-alsa-sink's tsched=1 says), since a VM's timers may
 * be late. A Paradice guest is such a VM, and the test is there to run
 * the timer-driven, mmap path of a desktop's server through the
 * forwarding, so the question gets "no": libalsa-util.so calls it
 * across libraries, through the PLT, where a preloaded definition wins.
 */
#include <stdbool.h>

bool pa_running_in_vm(void);

bool pa_running_in_vm(void)
{
	return false;
}
