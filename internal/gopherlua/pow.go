package lua

import (
	"math"
	"math/big"
	"sync"
)

// Pow returns x**y as C99's pow does (special cases per C99 Annex F),
// correctly rounded or nearly. math.Pow is often 1-2 ulp off, which
// scripts notice (100^1.5 printing 1000.0000000000002); C libraries are
// within about half an ulp.
//
// Method: log|x| in double-double (table reduction plus a short series),
// times y, then exp in double-double (2^(j/N) table plus a polynomial),
// rounded once at the end. The relative error before that rounding is
// below 2^-75 (2^-79 seen), so a result is misrounded only if x^y lies
// that close to a midpoint between two doubles. Exact midpoints between two doubles can only arise for
// y = n/2^k with n <= 34 and k <= 5; for such y a result too close to a
// midpoint is settled exactly with math/big.
func Pow(x, y float64) float64 {
	switch {
	case y == 0 || x == 1 || x == 0 || math.IsInf(x, 0) || math.IsInf(y, 0) || math.IsNaN(x) || math.IsNaN(y):
		// math.Pow implements the same special cases as C99 F.9.4.4.
		return math.Pow(x, y)
	case y == 1:
		return x
	case y == -1:
		return 1 / x
	case y == 2:
		return x * x
	}
	neg := false
	if x < 0 {
		if y != math.Trunc(y) {
			return math.NaN()
		}
		neg = math.Abs(y) < 1<<53 && int64(y)&1 == 1
		x = -x
	}
	var r float64
	if y == 0.5 {
		r = math.Sqrt(x)
	} else {
		r = powPositive(x, y)
	}
	if neg {
		return -r
	}
	return r
}

// powPositive returns x**y for finite x > 0 and finite y.
func powPositive(x, y float64) float64 {
	powTablesOnce.Do(initPowTables)
	lh, ll := logDD(x)
	th, tl := twoProd(y, lh)
	switch { // before th can be infinite and tl NaN
	case th > 710: // > log(MaxFloat64) + margin
		return math.Inf(1)
	case th < -746: // < log(SmallestNonzeroFloat64/2) - margin
		return 0
	}
	th, tl = fastTwoSum(th, tl+y*ll)

	// t = k*ln2/N + r, exp(t) = 2^(k/N) * exp(r), |r| <= ln2/(2N).
	k := int(math.Round(th * (expN / math.Ln2)))
	fk := float64(k)
	ph, pl := twoProd(fk, ln2NHi)
	rh, rl := twoSum(th-ph, tl-pl-fk*ln2NLo) // th-ph is exact

	// exp(r) = 1 + r + r^2/2 + r^3*(1/6 + r/24 + ...); only the first
	// three terms need more than double precision.
	qh, ql := twoProd(rh, rh)
	p := ((((1.0/5040*rh+1.0/720)*rh+1.0/120)*rh+1.0/24)*rh + 1.0/6) * (qh * rh)
	eh, el := fastTwoSum(1, rh)
	s, e := twoSum(eh, qh/2)
	eh, el = fastTwoSum(s, e+el+rl+ql/2+rh*rl+p)

	tab := expTab[k&(expN-1)]
	hi, lo := twoProd(tab[0], eh)
	hi, lo = fastTwoSum(hi, lo+tab[0]*el+tab[1]*eh)
	return roundScaled(hi, lo, k>>expBits, x, y)
}

// roundScaled rounds (hi+lo)*2^K to a double, hi in [0.99, 2.01] and
// |lo| <= ulp(hi)/2, with a single rounding also for subnormal results.
func roundScaled(hi, lo float64, K int, x, y float64) float64 {
	e := K + int(math.Float64bits(hi)>>52) - 1023 // exponent of hi*2^K
	if e > 1023 {
		return math.Inf(1)
	}
	a, d := hi, lo  // candidate at the scaled level and what remains
	var gap float64 // distance from a to its neighbour on d's side
	switch {
	case e < -1022:
		// Subnormal: round to a multiple of q = 2^(-1074-K) by adding
		// a constant whose ulp is q; only a tie in hi needs lo.
		q := math.Ldexp(1, -1074-K)
		c := q * (1 << 52)
		a = (c + hi) - c
		if t := hi - a; math.Abs(t) == q/2 && lo != 0 && (lo > 0) == (t > 0) {
			a += 2 * t
		}
		d = (hi - a) + lo
		gap = q
	case d > 0:
		gap = math.Float64frombits(math.Float64bits(a)+1) - a
	case d < 0:
		gap = a - math.Float64frombits(math.Float64bits(a)-1)
	}
	if d != 0 && math.Abs(math.Abs(d)-gap/2) < 0x1p-70 {
		if n, k, ok := midpointExponent(y); ok {
			return math.Ldexp(settleMidpoint(x, n, k, a, math.Copysign(gap, d), K), K)
		}
	}
	if e < -1022 {
		return math.Ldexp(a, K) // exact: a is a multiple of 2^(-1074-K)
	}
	return math.Float64frombits(math.Float64bits(a) + uint64(K)<<52)
}

// midpointExponent reports whether x**y can be a midpoint between two
// doubles: then y = n/2^k with 0 < n <= 34 and k <= 5 (x = odd*2^e, and
// the odd part of the result needs 54 bits, so n <= log3(2^54) and odd
// must be a perfect 2^k-th power below 2^53).
func midpointExponent(y float64) (n int, k uint, ok bool) {
	if y <= 0 || y > 34 || y*32 != math.Trunc(y*32) {
		return 0, 0, false
	}
	n, k = int(y*32), 5
	for k > 0 && n%2 == 0 {
		n, k = n/2, k-1
	}
	return n, k, n <= 34
}

// settleMidpoint decides exactly between the scaled candidates a and
// a+gap (which x^(n/2^k) / 2^K lies near the middle of) by comparing
// x^n with m^(2^k), m = (a + gap/2)*2^K; ties go to even.
func settleMidpoint(x float64, n int, k uint, a, gap float64, K int) float64 {
	const prec = 2048 // x^n has at most 53*34 bits, m^(2^k) 54*32
	b := a + gap
	m := new(big.Float).SetPrec(prec).SetFloat64(a)
	m.Add(m, new(big.Float).SetFloat64(b))
	m.SetMantExp(m, K-1)
	for i := uint(0); i < k; i++ {
		m.Mul(m, m)
	}
	xb := new(big.Float).SetFloat64(x)
	xn := new(big.Float).SetPrec(prec).SetFloat64(1)
	for i := 0; i < n; i++ {
		xn.Mul(xn, xb)
	}
	switch c := xn.Cmp(m); {
	case c == 0 && math.Float64bits(math.Ldexp(a, K))&1 == 1:
		return b
	case c != 0 && (c > 0) == (gap > 0):
		return b
	}
	return a
}

// logDD returns log(x) as a double-double for finite x > 0.
func logDD(x float64) (hi, lo float64) {
	// x = m*2^e with m in [sqrt(1/2), sqrt(2)); m*inv = 1+r exactly in
	// double-double, |r| < 2^-8.5, log(x) = e*ln2 - log(inv) + log1p(r).
	b := math.Float64bits(x)
	e := int(b>>52) - 1023
	if b>>52 == 0 { // subnormal
		b = math.Float64bits(x * 0x1p52)
		e = int(b>>52) - 1023 - 52
	}
	m := math.Float64frombits(b&(1<<52-1) | 1023<<52) // in [1, 2)
	if m >= math.Sqrt2 {
		m, e = m/2, e+1
	}
	t := &logTab[int(m*logN+0.5)-logMinKey]
	ph, pl := twoProd(m, t.inv)
	rh, rl := fastTwoSum(ph-1, pl) // ph-1 is exact (Sterbenz)

	// log1p(r) = r - r^2/2 + r^3*(1/3 - r/4 + r^2*(1/5 - r/6 + ...)).
	qh, ql := twoProd(rh, rh)
	ql += 2 * rh * rl
	c := (((((-1.0/10*rh+1.0/9)*rh-1.0/8)*rh+1.0/7)*rh-1.0/6)*rh + 1.0/5) * qh
	sh, sl := twoSum(thirdHi, -rh/4)
	sl += thirdLo - rl/4 + c
	ch, cl := ddMul(qh, ql, rh, rl)
	ch, cl = ddMul(ch, cl, sh, sl)
	h, l := fastTwoSum(rh, -qh/2)
	h, l2 := fastTwoSum(h, ch)
	l += l2 + rl - ql/2 + cl

	// Add e*ln2 - log(inv); both are zero for x near 1.
	fe := float64(e)
	ah, al := twoProd(fe, ln2Hi)
	al += fe * ln2Lo
	ah, e2 := twoSum(ah, t.logHi)
	al += e2 + t.logLo
	ah, e3 := twoSum(ah, h)
	return fastTwoSum(ah, al+e3+l)
}

const (
	expBits = 7
	expN    = 1 << expBits
	logN    = 256 // log table keys are round(m*logN)

	// Keys for m in [sqrt(1/2), sqrt(2)): 181.02... to 362.04...
	logMinKey = 181
	logMaxKey = 362

	ln2Hi = 0x1.62e42fefa39efp-1
	ln2Lo = math.Ln2 - ln2Hi // exact constant arithmetic, then rounded

	ln2NHi = ln2Hi / expN
	ln2NLo = ln2Lo / expN

	thirdHi = 0x1.5555555555555p-2
	thirdLo = 1.0/3 - thirdHi
)

type logEntry struct {
	inv          float64 // close to logN/key
	logHi, logLo float64 // -log(inv)
}

var (
	expTab [expN][2]float64 // 2^(j/expN) as double-double
	logTab [logMaxKey - logMinKey + 1]logEntry

	// Building the tables takes about 0.2ms; only pay it when used.
	powTablesOnce sync.Once
)

func initPowTables() {
	for j := range expTab {
		h, l := twoProd(float64(j), ln2NHi)
		expTab[j][0], expTab[j][1] = expTaylor(fastTwoSum(h, l+float64(j)*ln2NLo))
	}
	for i := range logTab {
		inv := logN / float64(logMinKey+i)
		// One Newton step from the double log solves exp(L)*inv = 1.
		l0 := -math.Log(inv)
		eh, el := expTaylor(l0, 0)
		ph, pl := twoProd(inv, eh)
		h, l := fastTwoSum(l0, (1-ph)-pl-inv*el)
		logTab[i] = logEntry{inv, h, l}
	}
}

// expTaylor returns exp(a) in double-double for |a| < 1 by its Taylor
// series; slow, only for building tables.
func expTaylor(ah, al float64) (hi, lo float64) {
	hi, lo = 1, 0
	th, tl := 1.0, 0.0
	for n := 1.0; math.Abs(th) > 0x1p-120; n++ {
		th, tl = ddMul(th, tl, ah, al)
		q := th / n
		tl = (math.FMA(-q, n, th) + tl) / n
		th = q
		hi, lo = ddAdd(hi, lo, th, tl)
	}
	return hi, lo
}

// twoSum returns s = fl(a+b) and e with s+e = a+b exactly.
func twoSum(a, b float64) (s, e float64) {
	s = a + b
	bb := s - a
	return s, (a - (s - bb)) + (b - bb)
}

// fastTwoSum is twoSum for |a| >= |b| (or a == 0).
func fastTwoSum(a, b float64) (s, e float64) {
	s = a + b
	return s, b - (s - a)
}

// twoProd returns p = fl(a*b) and e with p+e = a*b exactly.
func twoProd(a, b float64) (p, e float64) {
	p = a * b
	return p, math.FMA(a, b, -p)
}

func ddMul(ah, al, bh, bl float64) (hi, lo float64) {
	p, e := twoProd(ah, bh)
	return fastTwoSum(p, e+ah*bl+al*bh)
}

func ddAdd(ah, al, bh, bl float64) (hi, lo float64) {
	s, e := twoSum(ah, bh)
	t, f := twoSum(al, bl)
	s, e = fastTwoSum(s, e+t)
	return fastTwoSum(s, e+f)
}
