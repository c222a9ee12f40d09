#!/bin/sh
# packaging/deb/check.sh DEB VERSION - what `make deb-check` proves of DEB:
#
#   lintian          no error and no warning (overrides carry their reason)
#   contents         the program, man page, docs, units, the conffile, Depends
#   scripts          the maintainer scripts parse (and pass shellcheck if here)
#   man page         tests/manpage.sh against the packaged program
#   units            systemd-analyze verify in a throwaway root holding the
#                    extracted package beside this machine's own units
#   run              the packaged program, from that root: --version, --help,
#                    and (where a private network namespace can be had) a
#                    headless node that answers `ctl status` and stops, and
#                    the kiosk (its shared object) drawing one frame offscreen
#   lifecycle        as root where overlayfs can be mounted: dpkg -i, -i
#                    again, -r, -P in an overlay of this machine
#                    (packaging/deb/lifecycle.sh)
#
# Nothing is installed on this machine itself.  The last line is
# "deb-check: PASS ..." or "deb-check: FAIL ...".
set -u
deb=${1:?usage: check.sh DEB VERSION}
version=${2:?usage: check.sh DEB VERSION}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
checks=0
failures=0
pass() { checks=$((checks + 1)); echo "  ok    $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "  FAIL  $*"; }
need() { command -v "$1" > /dev/null || { fail "$1 is not installed (make deps)"; return 1; }; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

echo "== lintian"
if need lintian; then
	lintian --display-info --color never "$deb" > "$tmp/lintian" 2>&1
	rc=$?
	grep -v '^running with root privileges' "$tmp/lintian" | sed 's/^/  /'
	e=$(grep -c '^E: ' "$tmp/lintian")
	w=$(grep -c '^W: ' "$tmp/lintian")
	i=$(grep -c '^I: ' "$tmp/lintian")
	summary="lintian: $e errors, $w warnings, $i info (exit $rc)"
	if [ "$rc" -eq 0 ] && [ "$e" -eq 0 ] && [ "$w" -eq 0 ]; then pass "$summary"; else fail "$summary"; fi
fi

echo "== contents"
dpkg-deb -c "$deb" > "$tmp/list"
dpkg-deb -f "$deb" Depends > "$tmp/depends"
dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles > "$tmp/conffiles" 2> /dev/null
has() { grep -qE " \./$1\$" "$tmp/list"; }
for f in usr/bin/ledgerchat usr/lib/ledgerchat/ledgerchat-ui.so usr/share/man/man1/ledgerchat.1.gz \
	 usr/share/doc/ledgerchat/copyright usr/share/doc/ledgerchat/changelog.Debian.gz \
	 etc/ledgerchat/ledgerchat.conf; do
	if has "$f"; then pass "/$f"; else fail "/$f is not in the package"; fi
done
if grep -qE '^-rwxr-xr-x root/root .* \./usr/bin/ledgerchat$' "$tmp/list"; then
	pass "/usr/bin/ledgerchat is root's, mode 0755"
else
	fail "/usr/bin/ledgerchat is not root's with mode 0755"
fi
# The kiosk's private shared object (src/ui/plugin.h): not executable.
if grep -qE '^-rw-r--r-- root/root .* \./usr/lib/ledgerchat/ledgerchat-ui\.so$' "$tmp/list"; then
	pass "/usr/lib/ledgerchat/ledgerchat-ui.so is root's, mode 0644"
else
	fail "/usr/lib/ledgerchat/ledgerchat-ui.so is not root's with mode 0644"
fi
for u in ledgerchat-node.service ledgerchat-kiosk.service; do
	if has "(usr/)?lib/systemd/system/$u"; then pass "unit $u"; else fail "unit $u is not in the package"; fi
done
if grep -qx /etc/ledgerchat/ledgerchat.conf "$tmp/conffiles"; then
	pass "DEBIAN/conffiles lists /etc/ledgerchat/ledgerchat.conf"
else
	fail "DEBIAN/conffiles does not list /etc/ledgerchat/ledgerchat.conf"
fi
for p in libsdl2-2.0-0 libsdl2-ttf-2.0-0 'libwolfssl[0-9]+' libsqlite3-0 libjansson4 \
	 libqrencode4 libinih1 libfribidi0 libharfbuzz0b fonts-dejavu-core fonts-noto-core fonts-noto-cjk \
	 fonts-noto-color-emoji adduser; do
	if grep -qE "(^|, )$p( |,|\$)" "$tmp/depends"; then
		pass "Depends: $p"
	else
		fail "Depends lacks $p ($(cat "$tmp/depends"))"
	fi
done

echo "== maintainer scripts"
for s in postinst prerm postrm; do
	if sh -n "$here/$s"; then pass "$s parses"; else fail "$s does not parse"; fi
	if command -v shellcheck > /dev/null; then
		if shellcheck -s sh "$here/$s"; then pass "$s: shellcheck"; else fail "$s: shellcheck"; fi
	fi
done

dpkg-deb -x "$deb" "$root"
bin=$root/usr/bin/ledgerchat

echo "== man page"
if gzip -dc "$root/usr/share/man/man1/ledgerchat.1.gz" | cmp -s - "$top/packaging/ledgerchat.1"; then
	pass "the packaged man page is packaging/ledgerchat.1"
else
	fail "the packaged man page differs from packaging/ledgerchat.1"
fi
if sh "$top/tests/manpage.sh" "$bin" "$top/packaging/ledgerchat.1" > "$tmp/man" 2>&1; then
	pass "$(tail -n 1 "$tmp/man")"
else
	sed 's/^/  /' "$tmp/man"
	fail "tests/manpage.sh"
fi

echo "== systemd units"
if need systemd-analyze; then
	# The units' dependencies (sysinit.target, getty@.service, ...) come
	# from this machine; the package's own files win.
	cp -an /usr/lib/systemd/system/. "$root/lib/systemd/system/" 2> /dev/null
	for u in ledgerchat-node.service ledgerchat-kiosk.service; do
		MANPATH=$root/usr/share/man systemd-analyze verify --root="$root" \
			"/lib/systemd/system/$u" > "$tmp/verify" 2>&1
		rc=$?
		if [ "$rc" -eq 0 ] && [ ! -s "$tmp/verify" ]; then
			pass "systemd-analyze verify $u: clean"
		else
			sed 's/^/  /' "$tmp/verify"
			fail "systemd-analyze verify $u (exit $rc)"
		fi
		score=$(systemd-analyze security --offline=yes --root="$root" "$u" 2> /dev/null |
			sed -n 's/^→ Overall exposure level for [^:]*: //p')
		[ -n "$score" ] && echo "  info  systemd-analyze security $u: $score"
	done
fi

echo "== the packaged program"
out=$("$bin" --version 2>&1)
if [ "$out" = "ledgerchat $version" ]; then pass "--version: $out"; else fail "--version said '$out', not 'ledgerchat $version'"; fi
if "$bin" --help > /dev/null 2>&1; then pass "--help"; else fail "--help"; fi
"$bin" ctl --data-dir "$tmp/none" status > /dev/null 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then pass "ctl status without a node exits 1"; else fail "ctl status without a node exited $rc, not 1"; fi

# A real start, in a network namespace of its own so the ports are free.
if unshare -n true 2> /dev/null; then
	data=$tmp/data
	# Polls ctl status against a 10 s deadline while the node lives.
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -n sh -c '
		ip link set lo up
		"$1" --headless --data-dir "$2" --bind 127.0.0.1 --pow-bits 8 --log-level warn &
		pid=$!
		i=0
		until "$1" ctl --data-dir "$2" status > "$2.status" 2>&1; do
			i=$((i + 1))
			[ "$i" -lt 100 ] || { kill $pid; exit 1; }
			kill -0 $pid 2> /dev/null || exit 1
			sleep 0.1
		done
		"$1" ctl --data-dir "$2" stop > /dev/null
		wait $pid
	' sh "$bin" "$data" > "$tmp/node" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && grep -q '^fingerprint:' "$data.status"; then
		pass "a headless node from the package starts, answers ctl status, stops"
	else
		sed 's/^/  /' "$tmp/node" "$data.status" 2> /dev/null
		fail "the packaged headless node (exit $rc)"
	fi
	# The kiosk from the package: the program finds its shared object in
	# ../lib/ledgerchat, draws one frame offscreen, writes it and quits.
	# shellcheck disable=SC2016 # expanded by the inner shell
	SDL_VIDEODRIVER=offscreen SDL_RENDER_DRIVER=software unshare -n sh -c '
		ip link set lo up
		exec timeout 60 "$1" --window 640x400 --screenshot "$2.png" --data-dir "$2.kiosk" \
			--bind 127.0.0.1 --pow-bits 8 --log-level warn
	' sh "$bin" "$data" > "$tmp/kiosk" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && [ -s "$data.png" ]; then
		pass "the packaged kiosk loads /usr/lib/ledgerchat/ledgerchat-ui.so and draws"
	else
		sed 's/^/  /' "$tmp/kiosk"
		fail "the packaged kiosk (exit $rc)"
	fi
else
	echo "  skip  the headless node and the kiosk (no private network namespace here)"
fi

echo "== install, upgrade, remove, purge (dpkg in an overlay of this machine)"
# An overlay of / in a mount namespace of its own, chrooted into: dpkg and
# the maintainer scripts run for real and their changes land in $tmp/ovl.
# /run is empty there, so the scripts see no systemd and call no systemctl.
ovl=$tmp/ovl
mkdir -p "$ovl/upper" "$ovl/work" "$ovl/merged"
cp "$deb" "$ovl/pkg.deb"
cp "$here/lifecycle.sh" "$ovl/lifecycle.sh"
# shellcheck disable=SC2016 # expanded by the inner shell
if [ "$(id -u)" -eq 0 ] && unshare -m sh -c '
	set -e
	mount -t overlay overlay -o "lowerdir=/,upperdir=$1/upper,workdir=$1/work" "$1/merged"
	mount --bind /proc "$1/merged/proc"
	mount --bind /dev "$1/merged/dev"
	mount -t tmpfs tmpfs "$1/merged/run"
	mount -t tmpfs tmpfs "$1/merged/tmp"
	mkdir "$1/merged/tmp/ovl"
	cp "$1/pkg.deb" "$1/lifecycle.sh" "$1/merged/tmp/ovl/"
	chroot "$1/merged" sh /tmp/ovl/lifecycle.sh /tmp/ovl/pkg.deb
' sh "$ovl" > "$tmp/lifecycle" 2> "$tmp/lifecycle.err"; then
	while read -r word rest; do
		case $word in
		ok) pass "$rest" ;;
		FAIL) fail "$rest" ;;
		esac
	done < "$tmp/lifecycle"
	grep -q '^ok ' "$tmp/lifecycle" || fail "lifecycle.sh printed nothing"
else
	echo "  skip  not root, or no overlay mount here: $(tail -n 1 "$tmp/lifecycle.err" 2> /dev/null)"
fi

if [ "$failures" -eq 0 ]; then
	echo "deb-check: PASS ($checks checks) $(basename "$deb")"
else
	echo "deb-check: FAIL ($failures of $checks checks failed) $(basename "$deb")"
	exit 1
fi
