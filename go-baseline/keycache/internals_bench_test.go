package keycache

// Public-path mirrors of the two appencryption-internal benchmarks of docs/compatibility.md#go-benchmarks-mirrored
// whose packages are `internal` to upstream's module (github.com/godaddy/asherah/go/appencryption/internal and
// …/pkg/cache/internal), so no other module can import them.

import (
	"testing"

	"github.com/godaddy/asherah/go/appencryption/pkg/cache"
)

// BenchmarkGenerateKey mirrors internal.BenchmarkGenerateKey: sequentially create a random 32-byte key in a memguard
// secret and close it. Upstream calls internal.GenerateKey(factory, time.Now().Unix(), 32), which is exactly
// factory.CreateRandom(32) wrapped in a small CryptoKey struct (created, revoked); this mirror makes the same
// CreateRandom + Close calls on the public memguard factory and omits only that struct (one small allocation).
func BenchmarkGenerateKey(b *testing.B) {
	b.ReportAllocs()

	for i := 0; i < b.N; i++ {
		key, err := realKeys.CreateRandom(32)
		if err != nil {
			b.Fatal(err)
		}

		if err := key.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// sketchWidth is upstream's CountMinSketch width in BenchmarkCountMinSketchReset (1<<15 - 1).
const sketchWidth = 1<<15 - 1

// BenchmarkCountMinSketchReset mirrors pkg/cache/internal.BenchmarkCountMinSketchReset as far as the public API
// allows, which is not far: upstream times CountMinSketch.Add(0xCAFECAFECAFECAFE) + Reset() (halve every counter)
// on a sketch of width 32767. The only public code that reaches a CountMinSketch is the TinyLFU policy of
// pkg/cache, which sizes its sketch to the cache capacity, adds to it on every access and halves it after
// 8 × capacity accesses. So this benchmark builds a TinyLFU cache of capacity 32767 (upstream's sketch width) holding
// one key and times a Get hit: one sketch Add per op and one Reset every 262136 ops, plus the cache's own lookup,
// lock and list work. It is NOT comparable with upstream's per-op Reset; the reference for the Rust
// count_min_sketch/reset bench is upstream's own benchmark, run in place by scripts/go-bench.sh.
func BenchmarkCountMinSketchReset(b *testing.B) {
	c := cache.New[uint64, struct{}](sketchWidth).TinyLFU().Build()

	b.Cleanup(func() { _ = c.Close() })

	const key = uint64(0xCAFECAFECAFECAFE)

	c.Set(key, struct{}{})

	if _, ok := c.Get(key); !ok {
		b.Fatal("key missing right after Set")
	}

	b.ReportAllocs()
	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		if _, ok := c.Get(key); !ok {
			b.Fatal("key evicted from a cache holding one key")
		}
	}
}
