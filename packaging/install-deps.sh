#!/bin/sh
# Install the Debian packages listed in packaging/debian-deps.txt that are not
# installed yet, saying which; does nothing when all are present.
set -eu
list="$(dirname "$0")/debian-deps.txt"
pkgs=$(awk '!/^#/ && NF { print $1 }' "$list")
missing=""
for pkg in $pkgs; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = installed ] || missing="$missing $pkg"
done
if [ -z "$missing" ]; then
	echo "deps: all $(echo "$pkgs" | wc -w) packages are installed"
	exit 0
fi
echo "deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
