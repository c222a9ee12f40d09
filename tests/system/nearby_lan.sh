#!/bin/sh
# tests/system/nearby_lan.sh: a LAN of network namespaces for test_nearby.
#
#   nearby_lan.sh up LAN              namespace LAN-br holding bridge br0
#   nearby_lan.sh node LAN I DIR [--no-avahi] -- COMMAND...
#       namespace LAN-I joined to the bridge by a veth, address
#       198.18.0.I/24 on eth0; then, in new mount, UTS and PID namespaces,
#       a private /run (tmpfs: /run/dbus, /run/avahi-daemon), its own
#       dbus-daemon and avahi-daemon (unless --no-avahi), and COMMAND as
#       the namespace's last word: when COMMAND ends, the PID namespace
#       ends, and both daemons with it.  Their logs go to DIR.
#   nearby_lan.sh down LAN            delete every namespace of LAN
#   nearby_lan.sh check               exit 0 when namespaces can be made
#
# LAN must start with "nearby" (the machine is shared: helpers' namespaces
# are told apart by name) and addresses are from 198.18.0.0/15 only.
set -eu
cmd=${1:?usage}
shift

case "$cmd" in
check)
	ns="nearby-check-$$"
	ip netns add "$ns" 2>/dev/null || exit 1
	ok=0
	ip netns exec "$ns" unshare -m -u -p -f true 2>/dev/null || ok=1
	ip netns del "$ns"
	for t in dbus-daemon avahi-daemon; do
		command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || ok=1
	done
	exit $ok
	;;
up)
	lan=$1
	case "$lan" in nearby*) ;; *) echo "nearby_lan: $lan: not a nearby* name" >&2; exit 2;; esac
	ip netns add "$lan-br"
	ip -n "$lan-br" link set lo up
	ip -n "$lan-br" link add br0 type bridge
	ip -n "$lan-br" link set br0 up
	;;
node)
	lan=$1 i=$2 dir=$3
	shift 3
	avahi=1
	if [ "${1:-}" = "--no-avahi" ]; then avahi=0; shift; fi
	[ "${1:-}" = "--" ] && shift
	ns="$lan-$i"
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip link add "nb$$x$i" type veth peer name "nb$$y$i"
	ip link set "nb$$x$i" netns "$lan-br"
	ip link set "nb$$y$i" netns "$ns"
	ip -n "$lan-br" link set "nb$$x$i" master br0 up
	ip -n "$ns" link set "nb$$y$i" name eth0
	ip -n "$ns" addr add "198.18.0.$i/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add 224.0.0.0/4 dev eth0
	mkdir -p "$dir"
	export NEARBY_AVAHI=$avahi NEARBY_DIR=$dir NEARBY_HOST="$lan-$i"
	exec ip netns exec "$ns" unshare -m -u -p -f --kill-child --propagation private sh -c '
		set -e
		hostname "$NEARBY_HOST"
		# A private /run: this namespace'"'"'s own D-Bus socket and avahi
		# files, the machine'"'"'s never touched.
		mount -t tmpfs -o mode=0755 tmpfs /run
		mkdir -p /run/dbus /run/avahi-daemon
		if [ "$NEARBY_AVAHI" = 1 ]; then
			dbus-daemon --system --fork --nopidfile >"$NEARBY_DIR/dbus.log" 2>&1
			/usr/sbin/avahi-daemon --no-chroot --no-rlimits --no-proc-title \
				>"$NEARBY_DIR/avahi.log" 2>&1 &
		fi
		exec "$@"' sh "$@"
	;;
down)
	lan=$1
	case "$lan" in nearby*) ;; *) exit 2;; esac
	for ns in $(ip netns list | awk '{print $1}' | grep "^$lan-" || true); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$ns"
	done
	;;
*)
	echo "nearby_lan: unknown command $cmd" >&2
	exit 2
	;;
esac
