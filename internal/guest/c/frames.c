// Keeps its state in static data, set up by a constructor, and works in a frame on
// the C stack (a local array), which a call that breaks off (a limit, a trap, a
// host function's error, a recursion past the stack) leaves behind: for tests
// that such calls do not walk the stack over the state, that the constructor
// runs once, and that a C function returns a JSON document as (ptr, len). Built
// by clang with no libc (scripts/build-guests.sh).

#define EXPORT __attribute__((visibility("default")))

__attribute__((import_module("host"), import_name("fail"))) void host_fail(int);

static struct {
	int hp;
	int items[63];
} state = {0, {7}};

// setup gives the state its hit points: run once, as the module starts. (From a
// volatile, which the compiler cannot read ahead and fold into the data.)
static volatile int start = 100;
__attribute__((constructor)) static void setup(void) { state.hp = start; }

// fill writes n over a frame of 64 ints, which the stack holds.
static void fill(volatile int *frame, int n) {
	for (int i = 0; i < 64; i++) {
		frame[i] = n;
	}
}

// work takes one hit point, in a frame of its own: how it ends depends on how:
// 0 returns, 1 spins until a limit stops it, 2 traps, 3 calls host.fail, whose
// error breaks it off.
EXPORT int work(int how) {
	volatile int frame[64];
	fill(frame, 0x55555555);
	state.hp -= 1;
	switch (how) {
	case 1:
		for (volatile int i = 0; i >= 0; i++) {
		}
		break;
	case 2:
		__builtin_trap();
	case 3:
		host_fail(how);
		break;
	}
	return state.hp + frame[how & 63] * 0;
}

// dive recurses n deep, a frame of 64 ints each: past the stack's 64 KiB it
// traps, below the static data, which the stack does not reach.
EXPORT int dive(int n) {
	volatile int frame[64];
	fill(frame, 0x55555555);
	return n <= 0 ? 0 : dive(n - 1) + frame[n & 63];
}

EXPORT int hp(void) { return state.hp; }

EXPORT int item(int i) { return state.items[i & 63]; }

// doc is a JSON document of the state, {"hp":N}, returned as (ptr, len).
struct doc {
	const char *ptr;
	int len;
};

EXPORT struct doc doc(void) {
	static char buf[32] = "{\"hp\":";
	int n = 6, v = state.hp;
	char digits[12];
	int d = 0;
	if (v < 0) {
		buf[n++] = '-';
		v = -v;
	}
	do {
		digits[d++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (d > 0) {
		buf[n++] = digits[--d];
	}
	buf[n++] = '}';
	struct doc r = {buf, n};
	return r;
}
