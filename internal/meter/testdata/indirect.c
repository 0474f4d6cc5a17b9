// Calls through function pointers become call_indirect over a table.
#define EXPORT(name) __attribute__((export_name(name)))

typedef int (*op)(int, int);

static int add(int a, int b) { return a + b; }
static int sub(int a, int b) { return a - b; }
static int mul(int a, int b) { return a * b; }
static int mod(int a, int b) { return b ? a % b : 0; }

static op ops[4] = {add, sub, mul, mod};

EXPORT("apply") int apply(int which, int a, int b) { return ops[which & 3](a, b); }

// A fold whose step is chosen per element.
EXPORT("fold") int fold(int n) {
	int acc = 1;
	n &= 63;
	for (int i = 1; i <= n; i++)
		acc = ops[i & 3](acc, i);
	return acc;
}

static int cmp_up(int a, int b) { return a - b; }
static int cmp_down(int a, int b) { return b - a; }

static int vals[16];

EXPORT("isort") int isort(int dir) {
	int (*cmp)(int, int) = (dir & 1) ? cmp_down : cmp_up;
	for (int i = 0; i < 16; i++)
		vals[i] = (i * 7 + dir) % 16;
	for (int i = 1; i < 16; i++) {
		int v = vals[i], j = i - 1;
		while (j >= 0 && cmp(vals[j], v) > 0) {
			vals[j + 1] = vals[j];
			j--;
		}
		vals[j + 1] = v;
	}
	return vals[0] * 100 + vals[15];
}
