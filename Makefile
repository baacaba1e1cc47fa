# SPDX-License-Identifier: GPL-2.0-only
# Paradice: the two commands of the README, and the steps they are made of.
#   make demo    run the appliance end to end in the emulated machine
#   make demo-game  the same with the virgl virtio-gpu as the screen: a game
#                in one guest, a pattern in the other, switched by hostd
#   make check   run every test; ends with "N passed, N failed"
#   make fuzz    every fuzz target of tests/fuzz for 10M executions each,
#                one at a time at low priority: executions, coverage and
#                crashes per target (about an hour on 2 cores)
# Both install the Debian packages they need (scripts/debian-packages.txt).

BUILD     := build
MESON_DIR := $(BUILD)/meson
SAN_DIR   := $(BUILD)/meson-san

.PHONY: all deps build userspace kernel check check-pvh unit fuzz vmtest demo demo-game bench debs debs-check clean

all: build

deps:
	@scripts/install-deps

build: deps userspace kernel

# Programs that go into the emulated machines: built without sanitizers,
# since the machines do not carry the sanitizer runtimes.
userspace:
	@test -f $(MESON_DIR)/build.ninja || meson setup $(MESON_DIR) --buildtype=debugoptimized >/dev/null
	ninja -C $(MESON_DIR)

# Unit tests run under AddressSanitizer and UndefinedBehaviorSanitizer.
$(SAN_DIR)/build.ninja:
	CC=clang meson setup $(SAN_DIR) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

# The guest frontend (pdfront) and the driver domain's grant helper
# (pdgrant): two modules, each its own Kbuild tree.
kernel:
	$(MAKE) -C kernel
	$(MAKE) -C kernel/dom0

# The emulated machines' images take the project's files from the Debian
# packages: tests/run-all (and every boot of the appliance) builds them
# first when the source changed since build/debs/ was made (about 15 s).
check: build $(SAN_DIR)/build.ninja
	@tests/run-all

unit: $(SAN_DIR)/build.ninja
	@tests/run-all --only unit

# The fuzz targets' long runs (tests/fuzz/meson.build lists them); the log
# of each is in $(SAN_DIR)/tests/fuzz/work/, a finding next to it.
FUZZ_RUNS ?= 10000000
fuzz: $(SAN_DIR)/build.ninja
	ninja -C $(SAN_DIR)
	@FUZZ_RUNS=$(FUZZ_RUNS) nice -n 10 meson test -C $(SAN_DIR) \
		--suite fuzz --num-processes 1 -t 0 --no-rebuild --verbose \
		> $(SAN_DIR)/fuzz.log 2>&1; rc=$$?; \
	 grep -E '^fuzz |^--- |^(==|SUMMARY)' $(SAN_DIR)/fuzz.log; \
	 echo "make fuzz: exit $$rc"; exit $$rc

vmtest: build
	@tests/run-all --only vm

# PVH guests, opt-in while they still die at random under TCG
# (docs/testing.md): the PVH checks, then the xen suite with guest2 PVH
check-pvh: build
	@tests/run-all --only vm --opt-in pvh -k pvh/ && \
	 tests/run-all --only vm -k xen/ --guest-type pv,pvh

demo: build
	@tests/vm/demo

demo-game: build
	@tests/vm/demo --game

bench: build
	@bench/run

# dpkg-buildpackage builds from a clean copy of the source (build/debs/)
debs: deps
	@packaging/build-debs

# install/upgrade/remove/purge in a clean Debian 12 chroot (slow: minutes)
debs-check: deps
	@packaging/test-install

clean:
	rm -rf $(BUILD)
	$(MAKE) -C kernel clean
	$(MAKE) -C kernel/dom0 clean
