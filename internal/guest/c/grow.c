// Grows its linear memory on request, for memory limit tests. Built by clang with no
// libc (scripts/build-guests.sh); EXPORT marks the functions the module exports.

#define EXPORT __attribute__((visibility("default")))

// grow adds n pages of 64 KiB and returns the previous size in pages, or -1 when the
// runtime refuses (the wasm memory.grow contract).
EXPORT int grow(int n) { return __builtin_wasm_memory_grow(0, n); }

// pages returns the current memory size in pages.
EXPORT int pages(void) { return __builtin_wasm_memory_size(0); }

// grow_forever grows one page at a time and traps when growth is refused, which is
// what a guest allocator does when it runs out of memory.
EXPORT void grow_forever(void) {
	for (;;) {
		if (__builtin_wasm_memory_grow(0, 1) == (__SIZE_TYPE__)-1) {
			__builtin_trap();
		}
	}
}

// touch writes one byte in every page, so the memory is really used.
EXPORT int touch(void) {
	int n = __builtin_wasm_memory_size(0);
	for (int i = 0; i < n; i++) {
		((volatile char *)0)[i * 65536 + 1] = 1;
	}
	return n;
}

// fail traps for a reason that has nothing to do with memory.
EXPORT void fail(void) { __builtin_trap(); }
