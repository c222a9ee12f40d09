#!/bin/sh
# Run every test program of a build (tests/run.sh build/release), two at a
# time, and tests/layers.sh, then print one closing line for CI: "N passed,
# N failed".  The programs are those of tests/unit (in-process) and
# tests/system (they start the real binary), both built into BUILD/tests,
# and the fuzz corpus replays; run from the top of the source tree.
set -u
build=${1:-build/release}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export LEDGERCHAT_BIN="$PWD/$build/ledgerchat"
# LC_TEST_EXEC runs the programs of a build this machine cannot run by
# itself (make cross-test: qemu-aarch64-static).  The tests start ledgerchat
# through a script that does the same.
if [ -n "${LC_TEST_EXEC:-}" ]; then
	printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$LC_TEST_EXEC" "$LEDGERCHAT_BIN" > "$out/ledgerchat"
	chmod +x "$out/ledgerchat"
	export LEDGERCHAT_BIN="$out/ledgerchat"
fi
# A failed huge allocation is a tested path (LC_ERR_NOMEM), not a crash.
export ASAN_OPTIONS="${ASAN_OPTIONS:-allocator_may_return_null=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-allocator_may_return_null=1:suppressions=$PWD/tests/tsan.supp}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

ls "$build"/tests/replay_* 2>/dev/null | grep -v '\.[od]$' > "$out/list"
# A program whose source is there but which was not built fails below
# ("did not finish"), rather than being skipped.
for src in tests/unit/test_*.c tests/system/test_*.c; do
	[ -e "$src" ] && echo "$build/tests/$(basename "$src" .c)"
done | sort >> "$out/list"
if [ ! -s "$out/list" ]; then
	echo "no test programs in $build/tests"
	echo "0 passed, 1 failed"
	exit 1
fi
# Checks of the source tree that print the same closing line as a program
# (tests/layers.sh: no folder includes one above it).
echo "$(dirname "$0")/layers.sh" >> "$out/list"
# The system tests put nodes on fixed loopback addresses (127.0.X.Y) and
# ports, and two programs running at once must not meet there.  Where this
# machine can (root, as in CI), each program gets a network namespace of its
# own with only its loopback up; elsewhere they share the host's loopback,
# and the programs run one at a time unless JOBS says otherwise.
if unshare -n ip link set lo up 2>/dev/null; then
	isolate=yes
else
	isolate=no
	jobs=${JOBS:-1}
	echo "note: no network namespaces here (unshare -n), so the test programs run one at a time"
fi
# Each program's output goes to its own file, shown whole when it finishes.
xargs -P "$jobs" -I{} sh -c '
	name=$(basename "$1")
	case $1 in
	*.sh) sh "$1" > "$2/$name.log" 2>&1 ;;
	*) if [ "$3" = yes ]; then
		unshare -n sh -c "ip link set lo up && exec \${LC_TEST_EXEC:-} \"\$0\"" "$1"
	   else
		${LC_TEST_EXEC:-} "$1"
	   fi > "$2/$name.log" 2>&1 ;;
	esac
	echo $? > "$2/$name.rc"
	cat "$2/$name.log"
' sh {} "$out" "$isolate" < "$out/list"

passed=0
failed=0
skipped=0
for bin in $(cat "$out/list"); do
	name=$(basename "$bin")
	line=$(grep -E '^[a-z_]+: [0-9]+ passed, [0-9]+ failed$' "$out/$name.log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "$name: did not finish (exit $(cat "$out/$name.rc" 2>/dev/null))"
		failed=$((failed + 1))
		continue
	fi
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.*, ([0-9]+) failed$/\1/')
	passed=$((passed + p))
	failed=$((failed + f))
	s=$(grep -E '^[a-z_]+: [0-9]+ skipped$' "$out/$name.log" | tail -n 1 |
		sed -E 's/.*: ([0-9]+) skipped$/\1/')
	skipped=$((skipped + ${s:-0}))
done
# Skipped tests (a machine without network namespaces, say) are counted
# apart, never as passed; their SKIP lines above say why.
[ "$skipped" -eq 0 ] || echo "$skipped skipped (see the SKIP lines above)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
