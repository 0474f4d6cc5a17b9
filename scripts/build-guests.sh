#!/usr/bin/env bash
# Rebuilds every guest module in the tree from its source, next to the source:
#   X.wat -> X.wasm with wat2wasm
#   X.c   -> X.wasm with clang --target=wasm32 (no libc, every non-static function exported:
#            -fvisibility=default, as clang for wasm32 hides them otherwise), without debug
#            information, except X_debug.c: with it, its paths relative to the repository
# With --check it builds into a temporary directory instead and fails if any committed
# .wasm differs from its rebuild (CI runs it that way).
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
[ "${1:-}" = "--check" ] && check=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The flags of watch.DefaultBuildSteps (see its godoc): no libc, every function
# exported, structs returned as two results, the stack below the static data,
# constructors run once by the runtime.
cflags="-nostdlib -fno-builtin -fvisibility=default -mmultivalue -Xclang -target-abi -Xclang experimental-mv"
ldflags="-Wl,--no-entry -Wl,--export-dynamic -Wl,--stack-first -Wl,--export=__wasm_call_ctors"

build() { # src out
	case "$1" in
	*.wat) wat2wasm --enable-all -o "$2" "$1" ;;
	*_debug.c) clang --target=wasm32 -O2 -gdwarf-4 -fdebug-prefix-map="$PWD"=. $cflags $ldflags -o "$2" "$1" ;;
	*.c) clang --target=wasm32 -O2 $cflags $ldflags -Wl,--strip-debug -o "$2" "$1" ;;
	esac
}

status=0
while IFS= read -r src; do
	want="${src%.*}.wasm"
	if [ "$check" = 1 ]; then
		got="$tmp/$(echo "$src" | tr / _).wasm"
		build "$src" "$got"
		if ! cmp -s "$got" "$want"; then
			echo "stale: $want does not match a rebuild of $src (run scripts/build-guests.sh)" >&2
			status=1
		fi
	else
		build "$src" "$want"
		echo "built $want"
	fi
done < <(git ls-files --cached --others --exclude-standard -- '*.wat' '*.c' | grep -v '^scripts/' | sort)
exit $status
