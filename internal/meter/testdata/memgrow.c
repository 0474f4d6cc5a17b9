// memory.grow and memory.size through clang's builtins.
#define EXPORT(name) __attribute__((export_name(name)))

EXPORT("pages") int pages(void) { return (int)__builtin_wasm_memory_size(0); }

EXPORT("grow") int grow(int n) { return (int)__builtin_wasm_memory_grow(0, (unsigned)n & 7); }

// Touches the last byte of memory: out of bounds traps before a grow.
EXPORT("touch_end") int touch_end(int v) {
	unsigned long size = __builtin_wasm_memory_size(0) * 65536ul;
	volatile unsigned char *p = (unsigned char *)(size - 1);
	*p = (unsigned char)v;
	return *p;
}
