#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# /init of every emulated machine. The kernel command line says which one:
#   pd.role=plain   one Linux VM with the real drivers (loop transport tests)
#   pd.role=dom0    Xen's driver domain: drivers + Xen toolstack; starts
#                   pd.guests=N guests (guest1..guestN)
#   pd.role=guest   a Xen guest (PV or PVH); pd.name=NAME
# and for plain and dom0:
#   pd.virgl=1      the machine has a virtio-gpu with virgl 3D: load its
#                   driver after the others (bochs stays card0)
#   pd.guest_mem=M  (dom0) give the guests M MiB instead of the config's
#   pd.guest_types=T1:T2...  (dom0) guest1's xl type, guest2's...: pv (the
#                   config's, and the default for guests not named) or pvh
# It prints "PD-READY <name>" on the console once the test agent serves.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/xen-4.17/bin
export HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run/lock /var/log /tmp
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /run/lock
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

arg() {
	sed -n "s/.*\\<$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline
}
role=$(arg pd.role)
name=$(arg pd.name)
[ -n "$name" ] || name=$role
hostname "$name"
echo "pd-init: $name starting (role $role, kernel $(uname -r))" >/dev/console

# The real drivers whose device files Paradice forwards, and what the
# emulated machine itself needs.
# Progress on the console, with the kernel's uptime, to see where boot time goes.
mark() {
	read -r up _ </proc/uptime
	echo "pd-init: [$up] $*" >/dev/console
}

# snd-aloop's cards: 1 (id Loopback, 8 substreams), the card the tests
# without hostd forward whole; 2-4 for dom0's mix (docs/audio.md), one
# substream each: PdSpeakers stands for the physical card (pd-mixer plays
# on its device 0, a test records its device 1, and plays the microphone
# on device 1 for pd-mixer to capture on 0), PdGuest1 and PdGuest2 are
# guest1's and guest2's own cards.
ALOOP_OPTS="enable=1,1,1,1 index=1,2,3,4 id=Loopback,PdSpeakers,PdGuest1,PdGuest2 pcm_substreams=8,1,1,1"

load() {
	for m in "$@"; do
		opts=""
		[ "$m" = snd-aloop ] && opts=$ALOOP_OPTS
		modprobe "$m" $opts >/dev/null 2>&1 || echo "pd-init: modprobe $m failed" >/dev/console
	done
}

# udev gives devices the properties libinput and friends look for. It takes
# 10-20 s to settle under TCG, so it runs beside the agent: a test that needs
# it runs `udevadm settle` (or waits for /run/pd-udev-settled).
start_udev() {
	[ -x /usr/lib/systemd/systemd-udevd ] || return 0
	(
		/usr/lib/systemd/systemd-udevd --daemon --resolve-names=never
		udevadm trigger --action=add --type=subsystems
		udevadm trigger --action=add --type=devices
		udevadm settle --timeout=60
		touch /run/pd-udev-settled
		mark "udev settled"
	) &
}

agent_port() {
	for d in /sys/class/virtio-ports/*; do
		[ "$(cat "$d/name" 2>/dev/null)" = org.paradice.agent ] && {
			echo "/dev/${d##*/}"
			return
		}
	done
}

serve_port() {
	load virtio_pci virtio_console
	t=0
	while [ -z "$(agent_port)" ] && [ $t -lt 100 ]; do
		sleep 0.1
		t=$((t + 1))
	done
	port=$(agent_port)
	if [ -z "$port" ]; then
		echo "pd-init: no virtio port org.paradice.agent" >/dev/console
		return 1
	fi
	(while true; do pd-vmagent serve-port "$port"; sleep 1; done) \
		>>/var/log/pd-vmagent.log 2>&1 &
}

# The system bus, for hostd's D-Bus service: Debian's own, started as
# Debian's init script without systemd starts it (/etc/init.d/dbus): its
# config (/usr/share/dbus-1/system.conf) makes it run as messagebus and
# start a service that a call names (hostd, org.paradice.Switcher1) through
# the setuid dbus-daemon-launch-helper, from the activation file in
# /usr/share/dbus-1/system-services.
start_dbus() {
	[ -x /usr/bin/dbus-daemon ] || return 0
	mkdir -p /run/dbus
	[ -s /etc/machine-id ] || echo 5044706172616469636500000000000a >/etc/machine-id
	dbus-daemon --system ||
		echo "pd-init: dbus-daemon failed" >/dev/console
}

# The session manager, where the image has one (the guests' desktop layer,
# tests/vm/profiles/desktop.txt): elogind, started as Debian's init
# script starts it on a system whose init is not systemd (after the system
# bus it serves on). It makes seat0 from udev's tagged devices and opens a
# session for each PAM login (pam_elogind).
start_logind() {
	[ -x /usr/lib/elogind/elogind ] || return 0
	# the cgroup hierarchy elogind puts each session's processes in (it
	# finds a process's session from its cgroup)
	mountpoint -q /sys/fs/cgroup ||
		mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
	/usr/lib/elogind/elogind --daemon ||
		echo "pd-init: elogind failed" >/dev/console
	mark "elogind started"
}

drivers="bochs vgem vivid snd-dummy snd-aloop uinput evdev psmouse"
# virtio-gpu is probed through virtio_pci; loaded after bochs and vgem, it
# gets the next card and render node numbers.
[ "$(arg pd.virgl)" = 1 ] && drivers="$drivers virtio_pci virtio_gpu"
xen_mods="xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd"

start_xen_toolstack() {
	mount -t xenfs xenfs /proc/xen
	mkdir -p /var/run/xen /var/lib/xen /var/log/xen/console /run/xenstored
	/usr/lib/xen-4.17/bin/xenstored --pid-file /run/xenstored.pid
	/usr/lib/xen-4.17/bin/xen-init-dom0 >/var/log/xen/init-dom0.log 2>&1
	/usr/lib/xen-4.17/bin/xenconsoled --pid-file=/run/xenconsoled.pid \
		--log=guest --log-dir=/var/log/xen/console
}

# Guests are created one after the other in the background: the test side
# waits for each one's agent with its own deadline.
start_guests() {
	n=$1
	i=1
	while [ "$i" -le "$n" ]; do
		g=guest$i
		extra=""
		case ",$(arg pd.break)," in *",$g,"*) extra="pd.break=1" ;; esac
		mem=$(arg pd.guest_mem)
		type=$(arg pd.guest_types | cut -d: -f"$i")
		sed -e "s/@NAME@/$g/g" -e "s/@EXTRA@/$extra/" \
			-e "${mem:+s/^memory = .*/memory = $mem/}" \
			-e "${type:+s/^type = .*/type = \"$type\"/}" \
			/etc/xen/pd-test-guest.cfg >/etc/xen/$g.cfg
		# A PVH guest runs in an HVM container, where Xen intercepts
		# RDTSC when the CPU has no invariant TSC (qemu64 has none) and
		# emulates it: under QEMU's emulated SVM such guests died of a
		# triple fault right after an emulated RDTSC, at random, within
		# seconds to minutes. Native TSC reads take no intercept.
		[ "$type" = pvh ] && echo 'tsc_mode = "native"' >>/etc/xen/$g.cfg
		mark "xl create $g (${type:-pv})"
		xl create /etc/xen/$g.cfg >/var/log/xen/create-$g.log 2>&1 ||
			echo "pd-init: xl create $g failed: $(tail -n 3 /var/log/xen/create-$g.log)" >/dev/console
		mark "xl create $g done"
		i=$((i + 1))
	done
}

case "$role" in
plain)
	load $drivers
	mark "drivers loaded"
	start_dbus
	start_udev
	serve_port
	;;
dom0)
	load $drivers $xen_mods
	# the driver domain's grant helper (kernel/dom0/pd_grant.c), as the
	# packaged dom0 loads it at boot: backends grant mmap'ed pages with it
	# (built from paradice-dom0-dkms' DKMS tree, where DKMS installs it)
	insmod /lib/modules/$(uname -r)/updates/dkms/pdgrant.ko ||
		echo "pd-init: insmod pdgrant failed" >/dev/console
	mark "drivers loaded"
	start_xen_toolstack
	mark "xen toolstack up"
	guests=$(arg pd.guests)
	[ -n "$guests" ] && (start_guests "$guests" &)
	start_dbus
	serve_port
	start_udev
	;;
guest)
	if [ "$(arg pd.break)" = 1 ]; then
		# For the harness's own test: a guest that never becomes ready.
		echo "pd-init: $name broken on purpose, no agent" >/dev/console
		while true; do sleep 3600; done
	fi
	load xen-evtchn xen-gntdev xen-gntalloc evdev uinput
	mark "modules loaded"
	# a guest's own system bus, where its image has one (the switcher
	# layer: tests/vm/profiles/switcher.txt)
	start_dbus
	start_logind
	start_udev
	(while true; do pd-vmagent serve-vchan; sleep 1; done) \
		>>/var/log/pd-vmagent.log 2>&1 &
	;;
*)
	echo "pd-init: unknown role '$role'" >/dev/console
	;;
esac

mark "ready"
echo "PD-READY $name" >/dev/console
while true; do
	wait
	sleep 60
done
