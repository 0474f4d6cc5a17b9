// A switch of 2,000 cases with different work in each, as an interpreter's
// dispatch: clang makes it one br_table into 2,500 nested blocks, which
// Scan must accept (see TestFlowRealCode).
#define EXPORT(name) __attribute__((export_name(name)))

__attribute__((noinline)) static int g(int x) { return x * 31 + 7; }
__attribute__((noinline)) static int h(int x, int y) { return (x ^ y) - (y >> 3); }

#define A(n) case n: x = g(x + n); if (x > n) x = h(x, n); break;
#define B(n) case n: x = h(x, n * 7) ^ n; break;
#define C(n) case n: while (x > n) x = g(x) - n; break;
#define D(n) case n: x = x * n + g(n); break;
#define T(n) A(n##0) B(n##1) C(n##2) D(n##3) A(n##4) B(n##5) C(n##6) D(n##7) A(n##8) B(n##9)
#define H(n) T(n##0) T(n##1) T(n##2) T(n##3) T(n##4) T(n##5) T(n##6) T(n##7) T(n##8) T(n##9)
#define K(n) H(n##0) H(n##1) H(n##2) H(n##3) H(n##4) H(n##5) H(n##6) H(n##7) H(n##8) H(n##9)

EXPORT("dispatch") int dispatch(int op, int x) {
	switch (op) {
	K(1) K(2) // cases 1000 to 2999
	}
	return x;
}
