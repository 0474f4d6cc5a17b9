#!/usr/bin/env bash
# internal/gopherlua is gopher-lua at the version go.mod requires, with the
# changes listed in internal/gopherlua/upstream.diff (see its README.md).
# This script makes that diff from the module cache:
#   scripts/gopherlua-diff.sh          rewrites internal/gopherlua/upstream.diff
#   scripts/gopherlua-diff.sh --check  fails if the copy differs from upstream
#                                      by anything the committed diff does not show
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(go list -m -f '{{.Version}}' github.com/yuin/gopher-lua)
upstream=$(go mod download -json "github.com/yuin/gopher-lua@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[ -d "$upstream" ] || { echo "gopher-lua $version not found in the module cache" >&2; exit 1; }

# The copy holds upstream's package sources (tests, the generator inputs
# _state.go and _vm.go, cmd and _tools left out), under our import path; the
# diff compares only Go sources and LICENSE, not our own tests of the copy
# (*_test.go, testdata), its README, or what a build leaves there.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for d in . ast parse pm; do
	mkdir -p "$work/a/$d"
	for f in "$upstream/$d"/*.go; do
		case ${f##*/} in *_test.go | _*) continue ;; esac
		sed 's#"github.com/yuin/gopher-lua/#"github.com/hotscript/hotscript/internal/gopherlua/#' "$f" >"$work/a/$d/${f##*/}"
	done
done
cp "$upstream/LICENSE" "$work/a/"
mkdir -p "$work/b"
(cd internal/gopherlua && find . -name '*.go' ! -name '*_test.go' ! -path './testdata/*' -print0 | tar cf - --null -T - LICENSE) | (cd "$work/b" && tar xf -)

got=$( (cd "$work" && diff -ruN a b) | sed -E "s/^((---|\+\+\+) [^\t]*)\t.*/\1/" || true)
if [ "${1:-}" = --check ]; then
	if ! diff -u internal/gopherlua/upstream.diff <(printf '%s\n' "$got") >"$work/out"; then
		echo "internal/gopherlua differs from gopher-lua $version by more or less than upstream.diff shows:" >&2
		head -100 "$work/out" >&2
		exit 1
	fi
	echo "internal/gopherlua is gopher-lua $version plus upstream.diff"
else
	printf '%s\n' "$got" >internal/gopherlua/upstream.diff
fi
