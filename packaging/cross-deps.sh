#!/bin/sh
# Get what `make cross ARCH=...` needs: Debian's cross compiler and
# qemu-user-static on this machine, and a sysroot holding the target's
# variants of the libraries marked "lib" in packaging/debian-deps.txt.
#
#   sh packaging/cross-deps.sh ARCH TRIPLET SYSROOT
#   sh packaging/cross-deps.sh arm64 aarch64-linux-gnu build/sysroot-arm64
#
# Why a sysroot and not multiarch (apt-get install libsdl2-dev:arm64): on
# Debian 12 that does not leave the host's packages alone.  libwolfssl-dev
# is not "Multi-Arch: same", so its arm64 variant replaces the amd64 one,
# and every "Multi-Arch: same" package must have one version on both
# architectures, so installing the arm64 ones upgrades or downgrades host
# packages.  Instead apt resolves the libraries' dependencies as if this
# were an arm64 machine with nothing installed (a private, empty dpkg
# status), downloads them into apt's own cache (kept across `make clean`
# and fresh clones) and dpkg-deb unpacks them under SYSROOT.  Nothing is
# installed for the target architecture; dpkg only learns that it exists,
# so that `apt-get update` fetches its package lists.
set -eu
arch=$1
triplet=$2
sysroot=$3
here=$(cd "$(dirname "$0")" && pwd)
list="$here/debian-deps.txt"

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# Other apt users on the machine: wait for their lock instead of failing.
apt_get() {
	$SUDO apt-get -q -o DPkg::Lock::Timeout=600 "$@"
}

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

updated=
update() {
	[ -n "$updated" ] && return 0
	apt_get update
	updated=1
}

# 1. The target architecture's package lists.
if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
	echo "cross-deps: dpkg --add-architecture $arch"
	$SUDO dpkg --add-architecture "$arch"
	update
elif ! ls /var/lib/apt/lists/*_binary-"${arch}"_Packages* >/dev/null 2>&1; then
	update
fi

# 2. Tools that run here: the cross compiler and the emulator for tests.
tools="gcc-$triplet libc6-dev-$arch-cross qemu-user-static file"
missing=
for pkg in $tools; do
	installed "$pkg" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
	echo "cross-deps: installing:$missing"
	update
	# shellcheck disable=SC2086
	apt_get install -y --no-install-recommends $missing
fi

# 3. The sysroot.  Its stamp holds the package list it was made from.
libs=$(awk '!/^#/ && $2 == "lib" { print $1 }' "$list" | xargs)
stamp="$sysroot/.cross-deps"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$libs" ]; then
	echo "cross-deps: $sysroot is up to date ($(echo "$libs" | wc -w) libraries)"
	exit 0
fi
echo "cross-deps: unpacking the $arch variants of $libs into $sysroot"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: > "$tmp/status"
as_target="-o Dir::State::status=$tmp/status -o APT::Architecture=$arch -o APT::Architectures::=$arch"
# shellcheck disable=SC2086
fetch() {
	apt_get -s $as_target install --no-install-recommends $libs > "$tmp/plan" 2>&1 &&
		apt_get -d -y $as_target install --no-install-recommends $libs > "$tmp/log" 2>&1
}
# Package lists older than the archive name files it no longer has.
if ! fetch; then
	[ -z "$updated" ] || { cat "$tmp/plan" "$tmp/log" 2>/dev/null; exit 1; }
	update
	fetch || { cat "$tmp/plan" "$tmp/log" 2>/dev/null; exit 1; }
fi
# "Inst libfoo1 (1:2.3-4 Debian:12.15/oldstable [arm64])" names the file
# apt keeps: libfoo1_1%3a2.3-4_arm64.deb.
debs=$(sed -nE 's/^Inst ([^ ]+) \(([^ ]+) .*\[([a-z0-9]+)\].*/\1_\2_\3.deb/p' "$tmp/plan" |
	sed 's/:/%3a/g')
cache=$(apt-config shell c Dir::Cache::archives/d | sed -E "s/^c='(.*)'$/\1/")
rm -rf "${sysroot:?}"
mkdir -p "$sysroot"
n=0
for deb in $debs; do
	dpkg-deb -x "$cache/$deb" "$sysroot"
	n=$((n + 1))
done
# Only libraries and headers are wanted: the target's programs would only
# confuse (qemu -L looks for any absolute path in the sysroot first).
(cd "$sysroot" && rm -rf bin sbin usr/bin usr/sbin usr/share/doc usr/share/man usr/share/locale)
# Absolute symlinks (libfoo.so -> /lib/...) must point into the sysroot for
# the cross linker; make them relative.
find "$sysroot" -type l -lname '/*' | while read -r link; do
	target=$(readlink "$link")
	ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$sysroot$target")" "$link"
done
echo "$libs" > "$stamp"
echo "cross-deps: $n packages in $sysroot ($(du -sh "$sysroot" | cut -f1))"
