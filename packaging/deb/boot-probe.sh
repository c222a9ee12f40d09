#!/bin/sh
# packaging/deb/boot-probe.sh - inside the container of boot-check.sh, as a
# unit under systemd: start the package's units and check them.  Writes
# "ok ..." / "FAIL ..." / "note ..." lines to /root/probe.log.
set -u
exec > /root/probe.log 2>&1
ok() { echo "ok    $*"; }
no() { echo "FAIL  $*"; }
ctl() { runuser -u ledgerchat -- /usr/bin/ledgerchat ctl --data-dir /var/lib/ledgerchat "$@"; }
# wait_for SECONDS COMMAND...: COMMAND until it succeeds or the deadline.
wait_for() {
	deadline=$(($(date +%s) + $1))
	shift
	until "$@" > /dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

# A network interface besides loopback, so the address the node publishes
# (found through netlink, which the sandbox must allow) is a real one.
# A dummy interface, or an empty bridge where the kernel lacks dummy.
addr=
for type in dummy bridge; do
	if ip link add probe0 type "$type" 2> /dev/null; then
		ip addr add 192.0.2.10/24 dev probe0 && ip link set probe0 up && addr=192.0.2.10
		break
	fi
done
[ -n "$addr" ] || echo "note  no interface could be made here: the published address is not checked"

echo "== ledgerchat-node.service"
systemctl start ledgerchat-node.service
if wait_for 20 ctl status; then ok "the node answers ctl as the user ledgerchat"; else no "the node does not answer ctl"; fi
ctl status > /root/status.txt 2>&1
if [ -n "$addr" ]; then
	if grep -q "^address: *$addr:47701\$" /root/status.txt; then
		ok "it publishes $addr:47701 (netlink works in the sandbox)"
	else
		no "it publishes $(sed -n 's/^address: *//p' /root/status.txt), not $addr:47701"
	fi
fi
if ctl register probe > /dev/null 2>&1; then ok "ctl register: the node takes a registration"; else no "ctl register"; fi
if wait_for 120 sh -c "runuser -u ledgerchat -- /usr/bin/ledgerchat ctl --data-dir /var/lib/ledgerchat status | grep -q '^registered: *yes'"; then
	ok "its record is mined (the miner runs in the sandbox)"
else
	no "its record was not mined in 120 s"
fi
if [ "$(stat -c '%a %U' /var/lib/ledgerchat)" = "700 ledgerchat" ]; then ok "/var/lib/ledgerchat is 700 ledgerchat"; else no "/var/lib/ledgerchat is $(stat -c '%a %U' /var/lib/ledgerchat)"; fi
if [ "$(stat -c '%a %U' /var/lib/ledgerchat/identity.key)" = "600 ledgerchat" ]; then ok "identity.key is 600 ledgerchat"; else no "identity.key"; fi
systemctl stop ledgerchat-node.service
if [ "$(systemctl show -P Result ledgerchat-node.service)" = success ]; then
	ok "it stops cleanly on SIGTERM"
else
	no "stop: $(systemctl show -P Result ledgerchat-node.service)"
fi
journalctl -q -u ledgerchat-node.service --no-pager | grep -iE 'denied|not permitted|seccomp|error' | sed 's/^/note  /'

echo "== ledgerchat-kiosk.service"
# There is no tty1 and no display here: the kiosk can only get as far as
# SDL saying so.  The groups input and render come with udev, which a
# container may lack; the console settings are dropped for this test.
for g in input render; do
	getent group "$g" > /dev/null || { groupadd -r "$g"; echo "note  made the group $g (no udev here)"; }
done
mkdir -p /run/systemd/system/ledgerchat-kiosk.service.d
printf '[Service]\nStandardInput=null\nTTYReset=no\nTTYVHangup=no\nTTYVTDisallocate=no\nRestart=no\n' \
	> /run/systemd/system/ledgerchat-kiosk.service.d/probe.conf
systemctl daemon-reload
systemctl start ledgerchat-node.service
systemctl start ledgerchat-kiosk.service
wait_for 20 sh -c '! systemctl is-active -q ledgerchat-kiosk.service'
if systemctl is-active -q ledgerchat-node.service; then no "the node still runs beside the kiosk"; else ok "starting the kiosk stops the node (Conflicts=)"; fi
if journalctl -q -u ledgerchat-kiosk.service --no-pager | grep -qE 'ledgerchat: (cannot open a display|no display found)'; then
	ok "the kiosk starts in its sandbox and says it has no display"
else
	no "the kiosk did not reach SDL:"
	journalctl -q -u ledgerchat-kiosk.service --no-pager | tail -n 8 | sed 's/^/note  /'
fi
echo "== done"
