// A dense switch with different work per case becomes br_table.
#define EXPORT(name) __attribute__((export_name(name)))

static volatile int sink;

EXPORT("dispatch") int dispatch(int op, int x) {
	switch (op) {
	case 0: return x + 1;
	case 1: return x * 3;
	case 2: sink = x; return x ^ 0x55;
	case 3: return x << 2;
	case 4: return x / 7;
	case 5: return -x;
	case 6: sink = x + 1; return x % 13;
	case 7: return x & 0xff;
	default: return op;
	}
}

// A small interpreter: a loop around a switch.
EXPORT("run") int run(int seed) {
	int acc = seed, pc = 0;
	static const unsigned char prog[] = {0, 1, 3, 2, 5, 6, 4, 7, 1, 0, 9};
	while (pc < (int)sizeof prog) {
		switch (prog[pc]) {
		case 0: acc += 3; break;
		case 1: acc *= 5; break;
		case 2: acc -= 7; break;
		case 3: acc ^= 0x3c; break;
		case 4: acc >>= 1; break;
		case 5: acc = acc % 1000; break;
		case 6: acc <<= 2; break;
		case 7: acc |= 1; break;
		default: return acc;
		}
		pc++;
	}
	return acc;
}
