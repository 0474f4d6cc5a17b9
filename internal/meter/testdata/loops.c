// Loops and recursion as clang emits them.
#define EXPORT(name) __attribute__((export_name(name)))

static int data[256];

EXPORT("fill") void fill(int seed) {
	unsigned x = (unsigned)seed * 2654435761u + 1;
	for (int i = 0; i < 256; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		data[i] = (int)(x % 1000);
	}
}

EXPORT("sum_array") long long sum_array(int n) {
	long long s = 0;
	n &= 255;
	for (int i = 0; i < n; i++)
		s += data[i];
	return s;
}

EXPORT("fib") int fib(int n) {
	n &= 15;
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

EXPORT("collatz") int collatz(int n) {
	unsigned x = ((unsigned)n & 1023) + 1;
	int steps = 0;
	while (x != 1) {
		x = (x & 1) ? 3 * x + 1 : x / 2;
		steps++;
	}
	return steps;
}

static int m[8][8], r[8][8];

EXPORT("matmul") int matmul(int k) {
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++)
			m[i][j] = (i * 8 + j + k) % 17;
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++) {
			int s = 0;
			for (int t = 0; t < 8; t++)
				s += m[i][t] * m[t][j];
			r[i][j] = s;
		}
	return r[k & 7][(k >> 3) & 7];
}

EXPORT("sort") int sort(int n) {
	n &= 63;
	for (int i = 0; i < n; i++)
		for (int j = 0; j + 1 < n - i; j++)
			if (data[j] > data[j + 1]) {
				int t = data[j];
				data[j] = data[j + 1];
				data[j + 1] = t;
			}
	return n ? data[n / 2] : -1;
}
