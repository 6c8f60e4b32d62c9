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
