// Traps at known lines, for stack traces that name their source line with and
// without the metering rewrite that limits bring. Built with debug information
// (scripts/build-guests.sh keeps it for *_debug.c, with paths relative to the
// repository); the tests find the lines by the "at:" comments.

#define EXPORT __attribute__((visibility("default")))
#define NOINLINE __attribute__((noinline))

EXPORT NOINLINE int divide(int a, int b) {
	return a / b; // at: divide
}

EXPORT int crash(int a, int b) {
	return divide(a, b) + 1; // at: crash
}

// fill writes n ints from p on: past the end of memory, it traps.
EXPORT int fill(int *p, int n) {
	for (int i = 0; i < n; i++) {
		p[i] = i; // at: fill
	}
	return n;
}

// spin loops until a limit stops it.
EXPORT int spin(int n) {
	volatile int x = 0;
	for (;;) {
		x += n; // at: spin
	}
}

// steps is a small loop of two lines, which the metering rewrite unrolls.
EXPORT int steps(int n) {
	volatile int a = 0, b = 0;
	for (int i = 0; i < n; i++) {
		a += i; // at: steps a
		b ^= a; // at: steps b
	}
	return b;
}
