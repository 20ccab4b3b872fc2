#!/bin/sh
# SPDX-License-Identifier: MIT
# Install every Debian package smrbench uses (the allocators -P alloc= preloads
# included: libjemalloc2, libmimalloc2.0, libtcmalloc-minimal4; and the peers'
# toolchains, harness/peers.c: a JDK for jvm, cargo and Debian's crossbeam-epoch
# crate for crossbeam-epoch, which cargo builds offline from /usr/share/cargo/registry).  Idempotent: packages already
# installed are left as they are.  Run as root (or with sudo available).
set -eu
PACKAGES="build-essential autoconf automake libtool pkg-config
	libhwloc-dev hwloc libpapi-dev papi-tools liburcu-dev libck-dev
	gnuplot-nox python3 python3-matplotlib git
	libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4
	default-jdk-headless cargo librust-crossbeam-epoch-dev"
missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "setup: every package is installed"
	exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "setup: installing$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
