#!/bin/sh
# tests/layers.sh: no folder of src/ includes a folder above it.
#
# The order comes from docs/ARCHITECTURE.md, from its one line
#   Layers, bottom up: util, identity, ..., main. ...
# so the doc and the check cannot drift.  src/main.c is the layer "main";
# every other file belongs to its folder.  A file may include its own folder
# and folders below it; an include of a folder above it, and a folder of
# src/ that the order does not name, fail.  Both #include "dir/x.h" and
# #include <dir/x.h> count when dir is a folder of src/.
#
# Prints each violation, then "layers: 1 passed, 0 failed" (or 0 and 1),
# which tests/run.sh adds to the closing line.  Exit status 1 on failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
doc="$top/docs/ARCHITECTURE.md"

order=$(sed -n 's/^Layers, bottom up: \([^.]*\)\..*/\1/p' "$doc" 2>/dev/null | head -n 1 |
	tr -d ' ' | tr ',' ' ')
if [ -z "$order" ]; then
	echo "layers: no line 'Layers, bottom up: a, b, ....' in docs/ARCHITECTURE.md"
	echo "layers: 0 passed, 1 failed"
	exit 1
fi

folders=$(cd "$top/src" && for d in */; do printf '%s ' "${d%/}"; done)

# One awk over every source file: FILENAME gives the including layer.
cd "$top" || exit 1
find src -name '*.[ch]' | sort | xargs awk -v order="$order" -v folders="$folders" '
BEGIN {
	n = split(order, o, " ")
	for (i = 1; i <= n; i++)
		rank[o[i]] = i
	m = split(folders, f, " ")
	for (i = 1; i <= m; i++) {
		src[f[i]] = 1
		if (!(f[i] in rank)) {
			printf "layers: src/%s/ is not in the layer order of docs/ARCHITECTURE.md\n", f[i]
			bad++
		}
	}
}
FNR == 1 {
	split(FILENAME, p, "/")
	layer = (FILENAME == "src/main.c") ? "main" : p[2]
}
/^[ \t]*#[ \t]*include[ \t]*["<][a-z_0-9]+\// {
	s = $0
	sub(/^[^"<]*["<]/, "", s)
	dir = s
	sub(/\/.*/, "", dir)
	if (!(dir in src) || !(layer in rank))
		next
	if (rank[dir] > rank[layer]) {
		hdr = s
		sub(/[">].*/, "", hdr)
		printf "layers: %s:%d: %s includes %s, but %s is above %s\n",
		       FILENAME, FNR, layer, hdr, dir, layer
		bad++
	}
}
END { exit bad ? 1 : 0 }
'
if [ $? -eq 0 ]; then
	echo "layers: 1 passed, 0 failed"
else
	echo "layers: 0 passed, 1 failed"
	exit 1
fi
