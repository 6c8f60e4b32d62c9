# SPDX-License-Identifier: GPL-2.0
# Settings shared by the rust-tools scripts, the Makefile and vm/run.
#
# Sourced, not executed. Every value can be overridden from the environment.

# The Linux series the test kernel is built from: the one setting to change
# for a newer kernel (Debian's `linux-source-$FOU_KVER` package).
: "${FOU_KVER:=7.2}"

# The Debian suites searched, in order, for `linux-source-$FOU_KVER`. Used
# only for that download, through a private apt state directory.
: "${FOU_KSUITES:=trixie-backports sid}"
: "${FOU_KMIRROR:=http://deb.debian.org/debian}"

# Where built kernels live, outside any clone, so later runs reuse them.
: "${FOU_CACHE:=/var/cache/fou-rs}"

# The bindgen release the module's Kbuild step is tested with.
: "${FOU_BINDGEN_VERSION:=0.71.1}"

# libclang for bindgen: Linux 7.2 refuses anything older than 17.
: "${FOU_LLVM:=19}"
: "${LIBCLANG_PATH:=/usr/lib/llvm-$FOU_LLVM/lib}"
export LIBCLANG_PATH

export PATH="${CARGO_HOME:-${HOME:-/root}/.cargo}/bin:$PATH"

fou_die() {
	echo "fou-rs: error: $*" >&2
	exit 1
}

fou_say() {
	echo "fou-rs: $*" >&2
}

# FOU_KERNEL selects the kernel everything targets: unset, the test kernel
# this project builds (rust-tools/kernel); `debian:RELEASE`, Debian's own
# kernel of that release (rust-tools/debian), e.g. debian:7.2.12+deb13-amd64.
# fou_distro_release prints RELEASE, or nothing when FOU_KERNEL is unset.
fou_distro_release() {
	case "${FOU_KERNEL:-}" in
	"") ;;
	debian:?*)
		local r=${FOU_KERNEL#debian:}
		[[ "$r" =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?\+[a-z0-9.~+-]+$ ]] ||
			fou_die "FOU_KERNEL=$FOU_KERNEL: '$r' is not a Debian kernel release (e.g. debian:7.2.12+deb13-amd64)"
		echo "$r"
		;;
	*) fou_die "FOU_KERNEL=$FOU_KERNEL: expected debian:RELEASE, e.g. debian:7.2.12+deb13-amd64 (or unset for the test kernel)" ;;
	esac
}

# The Debian suite whose toolchain built those kernels (rustc 1.85.1,
# bindgen 0.71.1, gcc-14), and where its kernels come from.
: "${FOU_DEBIAN_SUITE:=trixie}"
: "${FOU_DEBIAN_SUITES:=trixie trixie-backports}"

# fou_in_chroot DIR [PATH[:ro]]... -- CMD...: runs CMD in the chroot DIR with
# /proc, /dev and the host's resolv.conf, and each PATH mounted at the same
# path inside (read-only with :ro), in a clean environment.
# The mounts live in a private mount namespace and vanish with it.
fou_in_chroot() {
	local c=$1
	shift
	unshare --mount --propagation private -- /bin/bash -c '
		set -e
		c=$1
		shift
		mount -t proc proc "$c/proc"
		mount --rbind /dev "$c/dev"
		[ ! -f /etc/resolv.conf ] || [ ! -f "$c/etc/resolv.conf" ] || mount --bind /etc/resolv.conf "$c/etc/resolv.conf"
		while [ "$1" != -- ]; do
			p=${1%:ro}
			mkdir -p "$c$p"
			mount --bind "$p" "$c$p"
			[ "$p" = "$1" ] || mount -o remount,bind,ro "$c$p"
			shift
		done
		shift
		exec chroot "$c" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' fou_in_chroot "$c" "$@"
}

# fou_mmdebstrap DIR LOG [PACKAGE...]: a new Debian $FOU_DEBIAN_SUITE root in
# DIR (apt sources: $FOU_DEBIAN_SUITES), with PACKAGEs and its package lists
# (about a minute). Installs mmdebstrap on this machine first if needed.
fou_mmdebstrap() {
	local dir=$1 log=$2 sources=() s include
	shift 2
	if ! command -v mmdebstrap >/dev/null; then
		fou_say "installing mmdebstrap (to make a Debian $FOU_DEBIAN_SUITE root)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap >"$log" 2>&1 ||
			fou_die "apt-get install mmdebstrap failed (see $log)"
	fi
	for s in $FOU_DEBIAN_SUITES; do
		sources+=("deb $FOU_KMIRROR $s main")
	done
	include=$(IFS=, && echo "$*")
	rm -rf "$dir" "$dir.tmp"
	mmdebstrap --mode=root --variant=apt ${include:+--include="$include"} \
		"$FOU_DEBIAN_SUITE" "$dir.tmp" "${sources[@]}" >"$log" 2>&1 &&
		fou_in_chroot "$dir.tmp" -- apt-get update -q >>"$log" 2>&1 ||
		fou_die "mmdebstrap of Debian $FOU_DEBIAN_SUITE into $dir failed: registry unreachable? (log: $log)"
	mv "$dir.tmp" "$dir"
}
