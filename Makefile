# SPDX-License-Identifier: GPL-2.0
#
# fou-rs: the two commands are `make check` (build everything, run every
# test in a QEMU guest) and `make demo`. `make` alone builds fou_rs.ko;
# `make stress`, `make check-kasan`, `make check-distro`, `make check-dkms`
# and `make mutants` are the long runs.
#
#   make KDIR=/lib/modules/$(uname -r)/build   build against your own kernel
#   make KMAKE_ARGS=LLVM=-19                    for a clang-built kernel
#   make FOU_KERNEL=debian:7.2.12+deb13-amd64   for Debian's own kernel

SHELL := /bin/bash
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

# The one place the version is written: the DKMS source tree, dkms.conf and
# the Debian package (make install-dkms, make deb) take it from here.
FOU_VERSION := 0.1.0

# The test kernel is built (or found in the cache) only when KDIR is not
# given; `rust-tools/kernel` prints its directory as the last line.
ifeq ($(origin KDIR),undefined)
KDIR = $(eval KDIR := $$(shell $(ROOT)/rust-tools/kernel | tail -1))$(KDIR)
endif
export LIBCLANG_PATH ?= /usr/lib/llvm-19/lib
export PATH := $(HOME)/.cargo/bin:$(PATH)

# FOU_KERNEL=debian:RELEASE targets Debian's own kernel of that release
# instead of the test kernel: `make`, `make demo` and vm/run build for it,
# boot it and load into it (rust-tools/debian).
export FOU_KERNEL
DISTRO_KERNELS ?= debian:7.2.12+deb13-amd64 debian:7.3.4+deb13-amd64

.PHONY: all module install uninstall install-dkms uninstall-dkms deb setup kernel check check-distro check-dkms \
	check-kasan check-noipv6 stress mutants bench profile demo clean

all: module

ifneq ($(FOU_KERNEL),)
module:
	@release=$$(. $(ROOT)/rust-tools/config.sh && fou_distro_release) && \
	$(ROOT)/rust-tools/debian module "$$release"
else
module:
	@test -n "$(KDIR)" || { echo "fou-rs: error: no kernel build directory (see messages above)" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(ROOT) $(KMAKE_ARGS) modules
endif

# The module into /lib/modules/<release>/updates/, depmod, and the modprobe.d
# rule that gives it the C module's names (INSTALL_MOD_PATH or DESTDIR
# prefix them); uninstall removes them again.
install: module
	KDIR=$(if $(FOU_KERNEL),,$(KDIR)) $(ROOT)/rust-tools/install install

uninstall:
	KDIR=$(if $(FOU_KERNEL),,$(KDIR)) $(ROOT)/rust-tools/install uninstall

# The DKMS source tree, /usr/src/fou-rs-$(FOU_VERSION) with its dkms.conf,
# and the modprobe.d rule in /usr/lib/modprobe.d; then `dkms add
# fou-rs/$(FOU_VERSION)`, `dkms build -k RELEASE`, `dkms install -k
# RELEASE`. The fou-rs-dkms package (make deb) installs the same files.
DKMS_SRC = $(DESTDIR)/usr/src/fou-rs-$(FOU_VERSION)
DKMS_TOOLS = rust-tools/config.sh rust-tools/debian-module rust-tools/dkms-build \
	rust-tools/linkcheck rust-tools/module-sources
install-dkms:
	rm -rf $(DKMS_SRC)
	install -d $(DKMS_SRC)
	cd $(ROOT) && rust-tools/module-sources | cpio -pdm --quiet $(DKMS_SRC)
	cd $(ROOT) && cp --parents $(DKMS_TOOLS) $(DKMS_SRC)/
	sed 's/#MODULE_VERSION#/$(FOU_VERSION)/' $(ROOT)/rust-tools/dkms.conf >$(DKMS_SRC)/dkms.conf
	install -D -m 0644 $(ROOT)/rust-tools/fou-rs.modprobe.conf $(DESTDIR)/usr/lib/modprobe.d/fou-rs.conf
	install -D -m 0644 $(ROOT)/src/fou.yaml $(DESTDIR)/usr/share/fou-rs/fou.yaml

uninstall-dkms:
	if [ -z "$(DESTDIR)" ] && dkms status fou-rs/$(FOU_VERSION) 2>/dev/null | grep -q .; then \
		dkms remove fou-rs/$(FOU_VERSION) --all; fi
	rm -rf $(DKMS_SRC) $(DESTDIR)/usr/lib/modprobe.d/fou-rs.conf $(DESTDIR)/usr/share/fou-rs

# fou-rs-dkms_$(FOU_VERSION)_all.deb, built with Debian's dh-dkms in the
# trixie chroot (rust-tools/deb has the packaging).
deb:
	$(ROOT)/rust-tools/debian deb $(FOU_VERSION)

setup:
	$(ROOT)/rust-tools/setup

kernel: setup
	$(ROOT)/rust-tools/kernel

check: setup
	$(ROOT)/tests/run

# The same suite on a clang-built kernel with KASAN (its own cache key).
check-kasan: setup
	FOU_CHECK_FRAGMENTS="rust-tools/kernel.config rust-tools/debug.config rust-tools/kasan.config" \
	FOU_KMAKE_ARGS=LLVM=-19 $(ROOT)/tests/run

# fou_rs on the test kernel built without IPv6 (rust-tools/noipv6.config),
# where the C fou.ko loads too: the module's life cycle, KUnit and IPv4
# tunnels (tests/noipv6.sh); about 10 minutes the first time (the kernel),
# 3 after.
check-noipv6: setup
	FOU_CHECK_FRAGMENTS="rust-tools/kernel.config rust-tools/noipv6.config" \
	FOU_TESTS="noipv6.sh module.sh" $(ROOT)/tests/run

# The suite on Debian's own Rust-enabled kernels, unmodified, one after the
# other (DISTRO_KERNELS): about 10 minutes each once built, 5 more the first
# time.
check-distro: setup
	FOU_KERNELS="$(DISTRO_KERNELS)" $(ROOT)/tests/run

# fou-rs installed from its Debian package on a fresh Debian 13 root, both
# kernels booted from it, then removed (tests/check-dkms; about 12 minutes).
check-dkms: setup
	$(ROOT)/tests/check-dkms

# tests/stress.sh at full scale on the debug kernel: 100,000 netlink
# messages and datagrams, 100 teardown cycles each, 60 s of port churn, in
# two guests at once (the teardown cycles with GRO off in the second; hours
# on the debug kernel under TCG: the timeouts allow 10), and
# tests/differential.sh with 10,000 requests and datagrams per family.
stress: setup
	FOU_STRESS=full FOU_DIFF=full \
	FOU_TESTS="stress.sh:netlink,churn,packets,teardown-gro-on; stress.sh:teardown-gro-off differential.sh" \
	FOU_TEST_TIMEOUT=36000 FOU_VM_TIMEOUT=36500 $(ROOT)/tests/run

# Mutation testing: each deliberate bug of tests/mutants/ built into
# fou_rs.ko and run against the tests that must catch it; prints caught or
# missed per mutation and the score (tests/mutants/run: NAMES=... for some,
# FOU_MUTANTS_KERNEL=plain for the faster kernel without debug checkers).
mutants: setup
	$(ROOT)/tests/mutants/run $(NAMES)

# fou_rs against the kernel's C FOU, same guest, same run. First the exact
# figure: instructions per 64-byte datagram on eight tunnel paths, per MB
# of TCP and per control-plane operation, plain, C and fou_rs alternating
# in one guest on Debian's 7.2.12 (QEMU -icount, tests/icount/run; about
# 17 minutes). Then throughput under TCG, a noisy
# secondary measure: min/median/max and ratios on the test kernel
# (tests/bench.py; FOU_BENCH_REPS, _SECONDS).
bench: setup
	$(ROOT)/tests/icount/run
	$(ROOT)/tests/bench-run

# Where the instructions of each path go: per guest kernel function, C and
# fou_rs side by side (a QEMU TCG plugin, tests/icount/plugin; about 15
# minutes; FOU_ICOUNT_PATHS=ctl for the control plane).
profile: setup
	$(ROOT)/tests/icount/run --profile

demo: setup
	$(MAKE) -C $(ROOT) module
	cd $(ROOT) && vm/run -- tests/demo

clean:
	rm -rf $(ROOT)/tests/out
	@if [ -f $(ROOT)/fou_rs.ko ] || [ -f $(ROOT)/modules.order ]; then $(MAKE) -C $(KDIR) M=$(ROOT) clean; fi
