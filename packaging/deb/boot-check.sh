#!/bin/sh
# packaging/deb/boot-check.sh DEB - run the package's systemd units under a
# real systemd: boot a container (systemd-nspawn) made of an overlay of this
# machine with DEB installed, start the units there with their whole
# sandbox, and check what they do (packaging/deb/boot-probe.sh, inside).
#
# Needs root, overlayfs and systemd-nspawn (systemd-container); nothing
# reaches this machine: the overlay lives in a mount namespace of its own
# and the container has a network of its own.  Not part of `make
# deb-check`, since not every machine can boot a container; run it with
# `make deb-boot-check`.  The last line is "deb-boot-check: PASS/FAIL ...".
set -u
deb=${1:?usage: boot-check.sh DEB}
here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" -ne 0 ] || ! command -v systemd-nspawn > /dev/null; then
	echo "deb-boot-check: needs root and systemd-nspawn (apt-get install systemd-container)"
	echo "deb-boot-check: FAIL (cannot run here)"
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/upper" "$tmp/work" "$tmp/merged"
cp "$deb" "$tmp/pkg.deb"
cp "$here/boot-probe.sh" "$tmp/boot-probe.sh"

# shellcheck disable=SC2016 # expanded by the inner shell
timeout 300 unshare -m sh -c '
	set -e
	t=$1
	m=$t/merged
	mount -t overlay overlay -o "lowerdir=/,upperdir=$t/upper,workdir=$t/work" "$m"
	# nspawn removes its own directory under /run/systemd/nspawn when done:
	# give it one it may remove, whatever /run is here.
	mkdir -p /run/systemd/nspawn
	mount -t tmpfs tmpfs /run/systemd/nspawn

	systemd-id128 new > "$m/etc/machine-id"
	cp "$t/pkg.deb" "$m/root/pkg.deb"
	cp "$t/boot-probe.sh" "$m/root/boot-probe.sh"
	mount --bind /proc "$m/proc"
	mount --bind /dev "$m/dev"
	mount -t tmpfs tmpfs "$m/run"
	chroot "$m" dpkg -i /root/pkg.deb > "$t/dpkg.log" 2>&1
	umount "$m/run" "$m/dev" "$m/proc"

	# Boot into a target of our own: the probe, and what it needs.
	cat > "$m/etc/systemd/system/probe.target" <<-EOF
	[Unit]
	Description=ledgerchat package probe
	Requires=basic.target probe.service
	After=basic.target
	AllowIsolate=yes
	EOF
	cat > "$m/etc/systemd/system/probe.service" <<-EOF
	[Unit]
	Description=ledgerchat package probe
	After=basic.target
	[Service]
	Type=oneshot
	ExecStart=/bin/sh /root/boot-probe.sh
	ExecStopPost=/bin/systemctl --no-block poweroff
	EOF
	systemd-nspawn -q -D "$m" --private-network --register=no --keep-unit \
		--link-journal=no --console=pipe --boot -- systemd.unit=probe.target \
		> "$t/boot.log" 2>&1 < /dev/null || true
' sh "$tmp"
rc=$?

log=$tmp/upper/root/probe.log
if [ ! -s "$log" ]; then
	echo "deb-boot-check: the container did not run the probe (exit $rc)"
	sed 's/^/  /' "$tmp/dpkg.log" "$tmp/boot.log" 2> /dev/null | tail -n 30
	echo "deb-boot-check: FAIL (no result)"
	exit 1
fi
sed 's/^/  /' "$log"
n=$(grep -c '^ok ' "$log")
f=$(grep -c '^FAIL ' "$log")
if [ "$f" -eq 0 ] && [ "$n" -gt 0 ]; then
	echo "deb-boot-check: PASS ($n checks)"
else
	echo "deb-boot-check: FAIL ($f of $((n + f)) checks failed)"
	exit 1
fi
