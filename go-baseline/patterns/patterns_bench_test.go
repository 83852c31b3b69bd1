// Package patterns holds the Go side of the performance analysis's code-pattern and "advantages" comparisons
// (REPORT.md tables 3 and 4). Upstream has no benchmark for these, so each is written here against the public API
// of the pinned upstream modules (no upstream source is copied). The Rust side of each pair is named in
// scenarios/patterns.toml and scenarios/advantages.toml.
//
// Common setup: service `asherah`, product `enclibrary`, partition `123456`, static KMS key
// `thisIsAStaticMasterKeyForTesting`, AES-256-GCM, a private in-memory metastore per benchmark, the default policy
// unless noted. Every benchmark checks the operation it times once before b.ResetTimer, so a broken setup fails
// instead of timing an error path.
package patterns

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"asherahlab/go-baseline/internal/benchkit"
	"github.com/godaddy/asherah/go/appencryption"
	"github.com/godaddy/asherah/go/appencryption/pkg/cache"
	"github.com/godaddy/asherah/go/appencryption/pkg/kms"
	"github.com/godaddy/asherah/go/appencryption/pkg/persistence"
)

const (
	// lruCapacity is the key and session caches' default capacity.
	lruCapacity = 1000
	// recordPayloadSize is the payload size of the records the serialization and size benchmarks use.
	recordPayloadSize = 1024
)

// newFactory builds a factory over a private in-memory metastore; closed when the benchmark ends.
func newFactory(b *testing.B, opts ...appencryption.PolicyOption) *appencryption.SessionFactory {
	b.Helper()

	km, err := kms.NewStatic(benchkit.StaticKey, benchkit.Crypto)
	if err != nil {
		b.Fatal(err)
	}

	config := &appencryption.Config{
		Service: benchkit.Service,
		Product: benchkit.Product,
		Policy:  appencryption.NewCryptoPolicy(opts...),
	}
	f := appencryption.NewSessionFactory(config, persistence.NewMemoryMetastore(), km, benchkit.Crypto)
	b.Cleanup(func() {
		if err := f.Close(); err != nil {
			b.Error(err)
		}
		km.Close()
	})

	return f
}

// BenchmarkSessionCacheGet: GetSession + Close of a partition already in the session cache (the analysis's
// "session-cache lookup"). Rust: patterns/session_cache_get.
func BenchmarkSessionCacheGet(b *testing.B) {
	getAndCloseSessions(b, newFactory(b, appencryption.WithSessionCache()))
}

// BenchmarkGetSessionNoCache: GetSession + Close without a session cache on a warm factory: builds the partition's
// key id strings and a session each time (the analysis's "partition-id strings"). Rust: partition/build_session.
func BenchmarkGetSessionNoCache(b *testing.B) {
	getAndCloseSessions(b, newFactory(b))
}

// getAndCloseSessions times GetSession + Close of benchkit.PartitionID on f, after a warm-up session.
func getAndCloseSessions(b *testing.B, f *appencryption.SessionFactory) {
	benchkit.WarmSession(b, f, benchkit.RandomPayload(64))

	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		s, err := f.GetSession(benchkit.PartitionID)
		if err != nil {
			b.Fatal(err)
		}

		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLRUGet: Get hits on a full LRU cache of 1000 uint64 entries, keys cycling (the analysis's "LRU get").
// Rust: bounded_cache/get_hit/lru/1000.
func BenchmarkLRUGet(b *testing.B) {
	c := cache.New[uint64, uint64](lruCapacity).LRU().Synchronous().Build()
	b.Cleanup(func() { _ = c.Close() })

	for k := uint64(0); k < lruCapacity; k++ {
		c.Set(k, k)
	}

	for k := uint64(0); k < lruCapacity; k++ {
		if v, ok := c.Get(k); !ok || v != k {
			b.Fatalf("warm cache must hit key %d", k)
		}
	}

	b.ResetTimer()

	k := uint64(0)
	for i := 0; i < b.N; i++ {
		k = (k + 1) % lruCapacity
		if _, ok := c.Get(k); !ok {
			b.Fatal("miss on a full cache")
		}
	}
	b.StopTimer()

	if c.Len() != lruCapacity {
		b.Fatalf("hits evicted: %d entries", c.Len())
	}
}

// BenchmarkEncrypt/<size>: Encrypt of a fixed payload on a warm session, sequential (the analysis's "async encrypt"
// pair: Go's Encrypt is a plain call; Rust's encrypt_async is a future). Rust: patterns/encrypt_async/<size> and
// hot_encrypt/stack_drk/<size>. Its allocs/op and B/op are the "memory allocation" row.
func BenchmarkEncrypt(b *testing.B) {
	for _, size := range []int{64, recordPayloadSize} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			ctx := context.Background()
			payload := benchkit.RandomPayload(size)
			sess, _ := benchkit.WarmSession(b, newFactory(b), payload)

			b.ReportAllocs()
			b.ResetTimer()

			for i := 0; i < b.N; i++ {
				if _, err := sess.Encrypt(ctx, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecrypt/<size>: Decrypt of one pre-made record on a warm session, sequential (allocs/op for the
// "memory allocation" rows). Rust: hot_decrypt/stack_drk/<size>.
func BenchmarkDecrypt(b *testing.B) {
	for _, size := range []int{64, recordPayloadSize} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			ctx := context.Background()
			payload := benchkit.RandomPayload(size)
			sess, drr := benchkit.WarmSession(b, newFactory(b), payload)

			b.ReportAllocs()
			b.ResetTimer()

			for i := 0; i < b.N; i++ {
				if _, err := sess.Decrypt(ctx, *drr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSharedSessionEncrypt: RunParallel Encrypt of 64 bytes on ONE session shared by every goroutine (its
// keys cached): the analysis's "lock contention" on shared key access. Run with -cpu 1,2,4 for the scaling chart.
// Rust: patterns/shared_session_encrypt/<threads>.
func BenchmarkSharedSessionEncrypt(b *testing.B) {
	payload := benchkit.RandomPayload(64)
	sess, _ := benchkit.WarmSession(b, newFactory(b), payload)

	b.ResetTimer()

	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := sess.Encrypt(ctx, payload); err != nil {
				b.Error(err)

				return
			}
		}
	})
}

// BenchmarkDecryptTampered: Decrypt of a record whose ciphertext has one flipped bit; every op must fail (the
// analysis's "error path"). Rust: patterns/decrypt_tampered/64.
func BenchmarkDecryptTampered(b *testing.B) {
	ctx := context.Background()
	sess, drr := benchkit.WarmSession(b, newFactory(b), benchkit.RandomPayload(64))

	tampered := *drr
	tampered.Data = append([]byte(nil), drr.Data...)
	tampered.Data[0] ^= 1

	if _, err := sess.Decrypt(ctx, tampered); err == nil {
		b.Fatal("a tampered record decrypted")
	}

	b.ReportAllocs()
	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		if _, err := sess.Decrypt(ctx, tampered); err == nil {
			b.Fatal("a tampered record decrypted")
		}
	}
}

// drrOf returns a real record of a recordPayloadSize payload.
func drrOf(b *testing.B) *appencryption.DataRowRecord {
	b.Helper()

	_, drr := benchkit.WarmSession(b, newFactory(b), benchkit.RandomPayload(recordPayloadSize))

	return drr
}

// BenchmarkDRRSerialize: encoding/json Marshal of a DRR of a 1 KiB payload; reports the JSON size as B/record (the
// analysis's "record layout/size"). Rust: drr_json/serialize/to_json/1024.
func BenchmarkDRRSerialize(b *testing.B) {
	drr := drrOf(b)

	encoded, err := json.Marshal(drr)
	if err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		if _, err := json.Marshal(drr); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(encoded)), "B/record")
}

// BenchmarkDRRParse: encoding/json Unmarshal of that DRR's JSON. Rust: drr_json/parse/from_json/1024.
func BenchmarkDRRParse(b *testing.B) {
	encoded, err := json.Marshal(drrOf(b))
	if err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		var d appencryption.DataRowRecord
		if err := json.Unmarshal(encoded, &d); err != nil {
			b.Fatal(err)
		}
	}
}

// ekr returns an intermediate-key-shaped record (encrypted key of the AEAD's size, a parent key meta), as the
// metastore stores it.
func ekr(b *testing.B) *appencryption.EnvelopeKeyRecord {
	b.Helper()

	drr := drrOf(b)

	return &appencryption.EnvelopeKeyRecord{
		ID:            "_IK_" + benchkit.PartitionID + "_" + benchkit.Service + "_" + benchkit.Product,
		Created:       drr.Key.Created,
		EncryptedKey:  drr.Key.EncryptedKey,
		ParentKeyMeta: &appencryption.KeyMeta{ID: "_SK_" + benchkit.Service + "_" + benchkit.Product, Created: drr.Key.Created},
	}
}

// BenchmarkEKRSerialize: encoding/json Marshal of an intermediate key's EnvelopeKeyRecord (the analysis's "EKR
// serialization"). Rust: patterns/ekr_json/serialize.
func BenchmarkEKRSerialize(b *testing.B) {
	e := ekr(b)

	b.ReportAllocs()
	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		if _, err := json.Marshal(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEKRParse: encoding/json Unmarshal of that record's JSON. Rust: patterns/ekr_json/parse.
func BenchmarkEKRParse(b *testing.B) {
	encoded, err := json.Marshal(ekr(b))
	if err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		var e appencryption.EnvelopeKeyRecord
		if err := json.Unmarshal(encoded, &e); err != nil {
			b.Fatal(err)
		}
	}
}
