// Keeps its state in static data and works in a frame on the C stack (a local
// array), which a call that breaks off (a limit, a trap, a host function's
// error) leaves behind: for tests that such calls do not walk the stack over the
// state. Built by clang with no libc (scripts/build-guests.sh).

#define EXPORT __attribute__((visibility("default")))

__attribute__((import_module("host"), import_name("fail"))) void host_fail(int);

static struct {
	int hp;
	int items[63];
} state = {100, {7}};

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

EXPORT int hp(void) { return state.hp; }

EXPORT int item(int i) { return state.items[i & 63]; }
