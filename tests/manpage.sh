#!/bin/sh
# tests/manpage.sh BINARY [MANPAGE]: the man page must not rot.
#
# It must render without a groff warning, carry the binary's version, name
# every option that `BINARY --help` lists in its OPTIONS section, and name
# every ctl command of --help at the start of an entry in CTL COMMANDS.
# The lists come from --help itself, so a new option or command that the
# man page lacks fails here.  Prints "manpage: N passed, N failed".
set -u
bin=${1:?usage: tests/manpage.sh BINARY [MANPAGE]}
man=${2:-packaging/ledgerchat.1}
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "manpage: FAIL: $*"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. groff: no warnings of any kind (-ww), no errors.
if groff -man -Tutf8 -ww -z "$man" > "$tmp/groff" 2>&1 && [ ! -s "$tmp/groff" ]; then
	ok
else
	bad "groff -man -ww says:"; sed 's/^/    /' "$tmp/groff"
fi

# The page as a reader sees it, wide enough that no entry wraps its name.
LC_ALL=C.UTF-8 MANWIDTH=200 groff -man -Tascii -rLL=200n -P-c -P-b -P-u -P-o "$man" \
	2>/dev/null > "$tmp/page"
# Section bodies: from a heading (at column 0) to the next one.
section() { awk -v h="$1" '/^[A-Z]/ { on = ($0 == h); next } on' "$tmp/page"; }
section "OPTIONS" > "$tmp/options"
section "CTL COMMANDS" > "$tmp/commands"

# 2. the version in .TH is the binary's.
version=$("$bin" --version | awk '{ print $2 }')
if grep -q "^\.TH .*\"ledgerchat $version\"" "$man"; then
	ok
else
	bad ".TH does not say \"ledgerchat $version\" (ledgerchat --version)"
fi

"$bin" --help > "$tmp/help" || { bad "$bin --help failed"; exit 1; }

# 3. every option of --help, as a word of the OPTIONS section.
opts=$(grep -oE '^  --[a-z][a-z-]*' "$tmp/help" | sed 's/^ *//' | sort -u)
[ -n "$opts" ] || bad "no options found in --help"
for o in $opts; do
	if grep -qE -- "(^|[^a-z-])$o([^a-z-]|\$)" "$tmp/options"; then
		ok
	else
		bad "OPTIONS does not name $o"
	fi
done

# 4. every ctl command of --help, opening an entry of CTL COMMANDS.
cmds=$(awk '/^Control a running node/ { on = 1; next } on && /^$/ { on = 0 }
	    on && /^  [a-z]/ { print $1 }' "$tmp/help" | sort -u)
[ -n "$cmds" ] || bad "no ctl commands found in --help"
for c in $cmds; do
	if grep -qE "^ +$c( |\$)" "$tmp/commands"; then
		ok
	else
		bad "CTL COMMANDS has no entry for $c"
	fi
done

echo "manpage: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
