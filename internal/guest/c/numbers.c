// Functions over every numeric wasm type, for CallJSON's number conversion tests.
// Built by clang with no libc (scripts/build-guests.sh); EXPORT marks the
// functions the module exports under their C names.

#define EXPORT __attribute__((visibility("default")))

EXPORT long long add64(long long a, long long b) { return a + b; }

EXPORT float addf32(float a, float b) { return a + b; }

EXPORT double addf64(double a, double b) { return a + b; }

EXPORT int neg(int a) { return -a; }

// id32 and id64 return their argument: they show how CallJSON maps Go numbers
// outside the signed range (a uint32 above 2^31-1 comes back negative).
EXPORT int id32(int a) { return a; }

EXPORT long long id64(long long a) { return a; }

EXPORT float idf32(float a) { return a; }

EXPORT double divf64(double a, double b) { return a / b; }

EXPORT void nothing(void) {}

// mix takes one parameter of each type and returns their sum as a double.
EXPORT double mix(int a, long long b, float c, double d) {
	return (double)a + (double)b + (double)c + d;
}
