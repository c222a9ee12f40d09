#!/bin/sh
# packaging/deb/lifecycle.sh DEB - install, reinstall, remove and purge DEB
# with dpkg, checking what the maintainer scripts promise.
#
# Meant to run as root inside a throwaway copy of a system: check.sh runs
# it chrooted into an overlay of / in a mount namespace of its own, so
# nothing reaches the real machine.  Prints "ok ..." or "FAIL ..." lines.
set -u
deb=${1:?usage: lifecycle.sh DEB}
ok() { echo "ok    $*"; }
no() { echo "FAIL  $*"; }
check() { # check DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@" > /dev/null 2>&1; then ok "$d"; else no "$d"; fi
}
dir_is() { [ "$(stat -c '%a %U:%G' "$1")" = "$2" ]; }
home_is() { [ "$(getent passwd ledgerchat | cut -d: -f6)" = "$1" ]; }

check "dpkg -i" dpkg -i "$deb"
check "system user ledgerchat" getent passwd ledgerchat
check "its home is /var/lib/ledgerchat" home_is /var/lib/ledgerchat
check "/var/lib/ledgerchat is 700 ledgerchat:ledgerchat" dir_is /var/lib/ledgerchat "700 ledgerchat:ledgerchat"
# shellcheck disable=SC2016 # expanded by dpkg-query
check "dpkg knows the conffile" sh -c 'dpkg-query -W -f="\${Conffiles}" ledgerchat | grep -q /etc/ledgerchat/ledgerchat.conf'
check "runs as ledgerchat" runuser -u ledgerchat -- /usr/bin/ledgerchat --version
check "man ledgerchat finds the page" sh -c 'man -w ledgerchat | grep -q /usr/share/man/man1/ledgerchat.1.gz'

echo "key = kept" >> /etc/ledgerchat/ledgerchat.conf
: > /var/lib/ledgerchat/identity.key
chmod 0755 /var/lib/ledgerchat   # as an older package or a person left it
check "dpkg -i again (an upgrade)" dpkg -i --force-confold "$deb"
check "the upgrade closed /var/lib/ledgerchat: 700" dir_is /var/lib/ledgerchat "700 ledgerchat:ledgerchat"
check "the upgrade kept the edited conffile" grep -q '^key = kept' /etc/ledgerchat/ledgerchat.conf
check "dpkg -r" dpkg -r ledgerchat
check "remove keeps the data" test -e /var/lib/ledgerchat/identity.key
check "remove keeps the conffile" test -e /etc/ledgerchat/ledgerchat.conf
check "dpkg -P" dpkg -P ledgerchat
check "purge deletes /var/lib/ledgerchat" test ! -e /var/lib/ledgerchat
check "purge deletes /etc/ledgerchat" test ! -e /etc/ledgerchat
check "purge keeps the system user" getent passwd ledgerchat
check "dpkg -i after purge (user already there)" dpkg -i "$deb"
check "/var/lib/ledgerchat is back" dir_is /var/lib/ledgerchat "700 ledgerchat:ledgerchat"
