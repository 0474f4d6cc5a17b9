package ecs

import (
	"reflect"
	"testing"
	"time"
)

// Benchmarks compare the World with what a program would write without it:
// a map[Entity]T (the usual hand-rolled component store) and, for
// iteration, a plain slice (the floor). Sub-benchmarks named ecs report
// "x-map", the ratio to the map doing the same work measured right after in
// the same process.

const benchN = 10_000

type (
	benchPos struct{ X, Y, Z float64 }
	benchVel struct{ X, Y, Z float64 }
	benchHP  float64
)

// benchWorld has benchN entities with a benchPos, every other one a
// benchVel and every fourth a benchHP, plus the same positions in a map.
func benchWorld(b *testing.B) (*World, []Entity, map[Entity]benchPos) {
	b.Helper()
	w := NewWorld()
	es := make([]Entity, benchN)
	m := make(map[Entity]benchPos, benchN)
	for i := range es {
		e := w.Spawn()
		es[i] = e
		p := benchPos{X: float64(i)}
		m[e] = p
		if err := Insert(w, e, p); err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			_ = Insert(w, e, benchVel{X: 1})
		}
		if i%4 == 0 {
			_ = Insert(w, e, benchHP(1))
		}
	}
	return w, es, m
}

// vsMap times base(b.N) after the benchmark loop and reports the ratio of
// the loop's time to it.
func vsMap(b *testing.B, base func(n int)) {
	n := b.N
	start := time.Now()
	base(n)
	b.ReportMetric(float64(b.Elapsed())/float64(time.Since(start)), "x-map")
}

var sink float64

func BenchmarkGet(b *testing.B) {
	w, es, m := benchWorld(b)
	mapGet := func(n int) {
		s := 0.0
		for i := range n {
			p := m[es[i%benchN]]
			s += p.X
		}
		sink = s
	}
	b.Run("ecs", func(b *testing.B) {
		b.ReportAllocs()
		s, i := 0.0, 0
		for b.Loop() {
			p, _ := Get[benchPos](w, es[i%benchN])
			s += p.X
			i++
		}
		sink = s
		vsMap(b, mapGet)
	})
	b.Run("ref", func(b *testing.B) {
		b.ReportAllocs()
		s, i := 0.0, 0
		for b.Loop() {
			s += Ref[benchPos](w, es[i%benchN]).X
			i++
		}
		sink = s
		vsMap(b, mapGet)
	})
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		st := StoreOf[benchPos](w)
		s, i := 0.0, 0
		for b.Loop() {
			p, _ := st.Get(es[i%benchN])
			s += p.X
			i++
		}
		sink = s
		vsMap(b, mapGet)
	})
	b.Run("map", func(b *testing.B) {
		b.ReportAllocs()
		s, i := 0.0, 0
		for b.Loop() {
			s += m[es[i%benchN]].X
			i++
		}
		sink = s
	})
}

func BenchmarkInsert(b *testing.B) {
	b.Run("replace/ecs", func(b *testing.B) {
		w, es, m := benchWorld(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = Insert(w, es[i%benchN], benchPos{X: float64(i)})
			i++
		}
		vsMap(b, func(n int) {
			for i := range n {
				m[es[i%benchN]] = benchPos{X: float64(i)}
			}
		})
	})
	b.Run("replace/map", func(b *testing.B) {
		_, es, m := benchWorld(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			m[es[i%benchN]] = benchPos{X: float64(i)}
			i++
		}
	})
	// Adding a component to an entity that lacks one, then removing it.
	b.Run("add-remove/ecs", func(b *testing.B) {
		w, es, _ := benchWorld(b)
		m := map[Entity]benchHP{}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			e := es[(i*4+1)%benchN] // never has a benchHP
			_ = Insert(w, e, benchHP(i))
			Remove[benchHP](w, e)
			i++
		}
		vsMap(b, func(n int) {
			for i := range n {
				e := es[(i*4+1)%benchN]
				m[e] = benchHP(i)
				delete(m, e)
			}
		})
	})
	b.Run("add-remove/map", func(b *testing.B) {
		_, es, _ := benchWorld(b)
		m := map[Entity]benchHP{}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			e := es[(i*4+1)%benchN]
			m[e] = benchHP(i)
			delete(m, e)
			i++
		}
	})
	// Building a world of benchN entities with one component each.
	b.Run("spawn10k/ecs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w := NewWorld()
			for i := range benchN {
				_ = Insert(w, w.Spawn(), benchPos{X: float64(i)})
			}
		}
		vsMap(b, func(n int) {
			for range n {
				m := map[Entity]benchPos{}
				for i := range benchN {
					m[Entity(i)] = benchPos{X: float64(i)}
				}
			}
		})
	})
}

func BenchmarkQuery(b *testing.B) {
	w, _, m := benchWorld(b)
	mapRange := func(n int) {
		for range n {
			for e, p := range m {
				p.X += 1
				m[e] = p
			}
		}
	}
	perEntity := func(b *testing.B, entities int) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(entities), "ns/entity")
	}
	b.Run("Query/ecs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, p := range Query[benchPos](w) {
				p.X += 1
			}
		}
		perEntity(b, benchN)
		vsMap(b, mapRange)
	})
	b.Run("Query/map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			mapRange(1)
		}
		perEntity(b, benchN)
	})
	b.Run("Query/slice", func(b *testing.B) {
		ps := make([]benchPos, benchN)
		b.ReportAllocs()
		for b.Loop() {
			for i := range ps {
				ps[i].X += 1
			}
		}
		perEntity(b, benchN)
	})
	// benchN/2 entities have both; the loop walks the benchVel storage.
	b.Run("Query2/ecs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, c := range Query2[benchPos, benchVel](w) {
				c.A.X += c.B.X
			}
		}
		perEntity(b, benchN/2)
	})
	// benchN/4 entities have all three; the loop walks the benchHP storage.
	b.Run("Query3/ecs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, c := range Query3[benchPos, benchVel, benchHP](w) {
				c.A.X += c.B.X * float64(*c.C)
			}
		}
		perEntity(b, benchN/4)
	})
}

// BenchmarkTypeKey measures the storage lookup by type: the key this
// package uses against keying by reflect.Type.
func BenchmarkTypeKey(b *testing.B) {
	w, _, _ := benchWorld(b)
	byReflect := map[reflect.Type]storage{
		reflect.TypeFor[benchPos](): StoreOf[benchPos](w),
		reflect.TypeFor[benchVel](): StoreOf[benchVel](w),
		reflect.TypeFor[benchHP]():  StoreOf[benchHP](w),
	}
	var found *Store[benchVel]
	b.Run("interface-key", func(b *testing.B) {
		for b.Loop() {
			found = lookup[benchVel](w)
		}
	})
	b.Run("reflect", func(b *testing.B) {
		for b.Loop() {
			found, _ = byReflect[reflect.TypeFor[benchVel]()].(*Store[benchVel])
		}
	})
	_ = found
}
