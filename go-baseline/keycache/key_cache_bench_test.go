package keycache

// Public-path mirrors of upstream's key-cache benchmarks (appencryption@v0.9.0 key_cache_benchmark_test.go,
// docs/compatibility.md#go-benchmarks-mirrored). Upstream's benchmarks call the unexported keyCache directly
// (newKeyCache, GetOrLoad, GetOrLoadLatest with a loader closure, c.keys.Set to plant entries); none of that is
// reachable from another module. A session reaches the same cache only through Decrypt (IK GetOrLoad of the record's
// parent key) and Encrypt (IK GetOrLoadLatest), so each mirror drives the cache state upstream sets up through a
// session and times the session call:
//
//   - one factory with a shared IK cache (WithSharedIntermediateKeyCache): one keyCache for every session, with the
//     default policy's "simple" engine (unbounded map, 60 min revoke check, 90 day expiry), as upstream's `c`;
//   - "test keys" (upstream: internal.NewCryptoKeyForTest, no secret memory) are keys from heapSecretFactory;
//     "real keys" (upstream: a memguard secret holding "testing") are keys from memguard's factory;
//   - a pass-through AEAD, so no AES-GCM runs (upstream's benchmarks encrypt nothing);
//   - the loader upstream passes is, here, the session's own loader reading a countingMetastore, whose counters
//     replace upstream's "loader must never run" panics and reload counts.
//
// So each op also pays for the session's own work around the cache: Decrypt makes one IK access plus two
// pass-through AEAD copies; Encrypt additionally generates a data-row key from the factory (heap or memguard) and
// builds the DataRowRecord. Compare these with upstream's own figures (scripts/go-bench.sh runs them in place from
// the module cache) to see that overhead; the Rust key-cache benches (harness/benches/key_cache.rs) mirror
// upstream's direct calls, so their Go reference is upstream's own run, not this package.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/godaddy/asherah/go/appencryption"
	"github.com/godaddy/asherah/go/appencryption/pkg/crypto/aead"
	"github.com/godaddy/asherah/go/appencryption/pkg/kms"
	"github.com/godaddy/asherah/go/securememory"
	"github.com/godaddy/asherah/go/securememory/memguard"
)

const (
	service   = "service"
	product   = "product"
	testKey   = "TestKey" // upstream's key id; here the partition whose IK the cache holds
	staticKey = "thisIsAStaticMasterKeyForTesting"
	suffix    = "bench"
	// uniqueReadKeys is upstream's pre-populated key count (DefaultKeyCacheMaxSize).
	uniqueReadKeys = appencryption.DefaultKeyCacheMaxSize
)

var (
	testKeys securememory.SecretFactory = heapSecretFactory{}
	realKeys securememory.SecretFactory = new(memguard.SecretFactory)
	payload                             = []byte("testing")
)

// newFactory builds a factory with a shared IK cache over ms; closed when the benchmark ends.
func newFactory(b *testing.B, ms appencryption.Metastore, secrets securememory.SecretFactory) *appencryption.SessionFactory {
	b.Helper()

	km, err := kms.NewStatic(staticKey, aead.NewAES256GCM())
	if err != nil {
		b.Fatal(err)
	}

	f := appencryption.NewSessionFactory(&appencryption.Config{
		Service: service,
		Product: product,
		Policy:  appencryption.NewCryptoPolicy(appencryption.WithSharedIntermediateKeyCache(appencryption.DefaultKeyCacheMaxSize)),
	}, ms, km, passThroughAEAD{}, appencryption.WithSecretFactory(secrets))

	b.Cleanup(func() {
		_ = f.Close()

		km.Close()
	})

	return f
}

func session(b *testing.B, f *appencryption.SessionFactory, partition string) *appencryption.Session {
	b.Helper()

	s, err := f.GetSession(partition)
	if err != nil {
		b.Fatal(err)
	}

	b.Cleanup(func() { _ = s.Close() })

	return s
}

// seed encrypts once through a throw-away factory over ms (creating the SK and the partition's IK) and returns the
// record: the state upstream plants with c.keys.Set, made the public way.
func seed(b *testing.B, ms appencryption.Metastore, partition string) *appencryption.DataRowRecord {
	b.Helper()

	f := newFactory(b, ms, testKeys)
	s := session(b, f, partition)

	drr, err := s.Encrypt(context.Background(), payload)
	if err != nil {
		b.Fatal(err)
	}

	return drr
}

var errMismatch = errors.New("decrypted payload differs")

func decrypt(s *appencryption.Session, drr *appencryption.DataRowRecord) error {
	got, err := s.Decrypt(context.Background(), *drr)
	if err != nil {
		return err
	}

	if !bytes.Equal(got, payload) {
		return errMismatch
	}

	return nil
}

func encrypt(s *appencryption.Session) error {
	_, err := s.Encrypt(context.Background(), payload)
	return err
}

// parallel times op under RunParallel (GOMAXPROCS goroutines), reporting the first failure of each goroutine.
func parallel(b *testing.B, op func() error) {
	b.Helper()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
}

func expectCount(b *testing.B, what string, got, want int64) {
	b.Helper()

	if got != want {
		b.Fatalf("%s: got %d, want %d", what, got, want)
	}
}

// uniqueIKRecord returns a DataRowRecord whose parent IK id is `_IK_TestKey_service_product-<n>`: accepted by a
// suffixed TestKey session (prefix rule of docs/compatibility.md#partitions-and-region-suffixes) and absent from the
// cache, so Decrypt loads it.
func uniqueIKRecord(n int64, created int64) *appencryption.DataRowRecord {
	return &appencryption.DataRowRecord{
		Key: &appencryption.EnvelopeKeyRecord{
			Created:       created,
			EncryptedKey:  make([]byte, 32),
			ParentKeyMeta: &appencryption.KeyMeta{ID: fmt.Sprintf("_IK_%s_%s_%s-%d", testKey, service, product, n), Created: created},
		},
		Data: payload,
	}
}

// uniqueIKSetup returns a metastore that synthesizes an IK record for any absent IK id (parented by the real SK
// that seeding created) and a factory and suffixed TestKey session over it.
func uniqueIKSetup(b *testing.B) (*countingMetastore, *appencryption.Session, int64) {
	b.Helper()

	ms := newCountingMetastore()
	ms.suffix = suffix
	seeded := seed(b, ms, testKey)

	sk, err := ms.MemoryMetastore.LoadLatest(context.Background(), fmt.Sprintf("_SK_%s_%s_%s", service, product, suffix))
	if err != nil || sk == nil {
		b.Fatalf("seeded SK missing: %v", err)
	}

	ms.synthesizeIK = &appencryption.EnvelopeKeyRecord{
		EncryptedKey:  make([]byte, 32),
		ParentKeyMeta: &appencryption.KeyMeta{ID: sk.ID, Created: sk.Created},
	}

	s := session(b, newFactory(b, ms, testKeys), testKey)

	return ms, s, seeded.Key.Created
}

// ---------------------------------------------------------------------------------------------------------------
// GetOrLoad (Session.Decrypt → IK cache GetOrLoad of the record's parent key)
// ---------------------------------------------------------------------------------------------------------------

// BenchmarkKeyCache_GetOrLoad_MultipleThreadsReadExistingKey: IK cached and fresh; every op hits; the loader never
// runs (no IK load during timing).
func BenchmarkKeyCache_GetOrLoad_MultipleThreadsReadExistingKey(b *testing.B) {
	ms := newCountingMetastore()
	drr := seed(b, ms, testKey)
	s := session(b, newFactory(b, ms, testKeys), testKey)

	if err := decrypt(s, drr); err != nil { // plants the entry
		b.Fatal(err)
	}

	before := ms.ikLoads.Load()

	parallel(b, func() error { return decrypt(s, drr) })
	expectCount(b, "IK loads while timing", ms.ikLoads.Load()-before, 0)
}

// BenchmarkKeyCache_GetOrLoad_MultipleThreadsWriteSameKey: empty cache; the first op loads the key, every later op
// hits it.
func BenchmarkKeyCache_GetOrLoad_MultipleThreadsWriteSameKey(b *testing.B) {
	ms := newCountingMetastore()
	drr := seed(b, ms, testKey)
	s := session(b, newFactory(b, ms, testKeys), testKey)

	parallel(b, func() error { return decrypt(s, drr) })
	expectCount(b, "IK loads", ms.ikLoads.Load(), 1)
}

// BenchmarkKeyCache_GetOrLoad_MultipleThreadsWriteUniqueKeys: every op loads a key id never seen before
// (`…-<n>`, n from a shared atomic counter). Upstream then also calls GetOrLoadLatest on the same id, which no
// public call can do for a foreign id; here the op is the miss + load + insert alone. At the end the number of
// keys loaded must equal the number of ops.
func BenchmarkKeyCache_GetOrLoad_MultipleThreadsWriteUniqueKeys(b *testing.B) {
	ms, s, created := uniqueIKSetup(b)

	var n atomic.Int64

	parallel(b, func() error { return decrypt(s, uniqueIKRecord(n.Add(1)-1, created)) })
	expectCount(b, "IK keys loaded", ms.synthesized.Load(), n.Load())
}

// BenchmarkKeyCache_GetOrLoad_MultipleThreadsReadRevokedKey: real key; the metastore reports the IK revoked, so the
// first op loads a revoked key and, revoked keys never being re-checked, every later op hits it.
func BenchmarkKeyCache_GetOrLoad_MultipleThreadsReadRevokedKey(b *testing.B) {
	ms := newCountingMetastore()
	drr := seed(b, ms, testKey)
	ms.revokeIKs = true
	s := session(b, newFactory(b, ms, realKeys), testKey)

	parallel(b, func() error { return decrypt(s, drr) })
	expectCount(b, "IK loads", ms.ikLoads.Load(), 1)
}

// BenchmarkKeyCache_GetOrLoad_MultipleThreadsRead_NeedReloadKey: real key created 100 minutes ago, not yet in the
// cache (upstream: in the cache but loaded 100 minutes ago, i.e. due for a reload); the first op (re)loads it,
// later ops hit the fresh entry.
func BenchmarkKeyCache_GetOrLoad_MultipleThreadsRead_NeedReloadKey(b *testing.B) {
	ms := newCountingMetastore()
	drr := seed(b, ms, testKey)
	drr = backdateIK(b, ms, drr, 100*time.Minute, false)
	s := session(b, newFactory(b, ms, realKeys), testKey)

	parallel(b, func() error { return decrypt(s, drr) })
	expectCount(b, "IK loads", ms.ikLoads.Load(), 1)
}

// BenchmarkKeyCache_GetOrLoad_MultipleThreadsReadUniqueKeys: min(b.N, 1000) keys loaded before timing; op n reads
// key n mod 1000; the loader never runs while timing.
func BenchmarkKeyCache_GetOrLoad_MultipleThreadsReadUniqueKeys(b *testing.B) {
	ms, s, created := uniqueIKSetup(b)

	records := make([]*appencryption.DataRowRecord, min(b.N, uniqueReadKeys))
	for i := range records {
		records[i] = uniqueIKRecord(int64(i), created)
		if err := decrypt(s, records[i]); err != nil {
			b.Fatal(err)
		}
	}

	before := ms.ikLoads.Load()

	var n atomic.Int64

	parallel(b, func() error { return decrypt(s, records[(n.Add(1)-1)%uniqueReadKeys]) })
	expectCount(b, "IK loads while timing", ms.ikLoads.Load()-before, 0)
}

// backdateIK moves the seeded IK record `age` into the past (optionally revoked) and returns a record of the same
// payload parented by it.
func backdateIK(b *testing.B, ms *countingMetastore, drr *appencryption.DataRowRecord, age time.Duration, revoked bool) *appencryption.DataRowRecord {
	b.Helper()

	meta := drr.Key.ParentKeyMeta
	envelopes := ms.Envelopes[meta.ID]
	rec := *envelopes[meta.Created]
	delete(envelopes, meta.Created)

	rec.Created = meta.Created - int64(age/time.Second)
	rec.Revoked = revoked
	envelopes[rec.Created] = &rec

	moved := *drr
	key := *drr.Key
	key.ParentKeyMeta = &appencryption.KeyMeta{ID: meta.ID, Created: rec.Created}
	moved.Key = &key

	return &moved
}

// ---------------------------------------------------------------------------------------------------------------
// GetOrLoadLatest (Session.Encrypt → IK cache GetOrLoadLatest of the session's IK id)
// ---------------------------------------------------------------------------------------------------------------

// BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsReadExistingKey: latest IK cached and fresh; every op hits.
func BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsReadExistingKey(b *testing.B) {
	ms := newCountingMetastore()
	seed(b, ms, testKey)
	s := session(b, newFactory(b, ms, testKeys), testKey)

	if err := encrypt(s); err != nil { // plants the entry
		b.Fatal(err)
	}

	before := ms.ikLoadLatests.Load()

	parallel(b, func() error { return encrypt(s) })
	expectCount(b, "IK latest loads while timing", ms.ikLoadLatests.Load()-before, 0)
}

// BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsWriteSameKey: empty cache; the first op loads the latest key,
// later ops hit.
func BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsWriteSameKey(b *testing.B) {
	ms := newCountingMetastore()
	seed(b, ms, testKey)
	s := session(b, newFactory(b, ms, testKeys), testKey)
	before := ms.ikLoadLatests.Load()

	parallel(b, func() error { return encrypt(s) })
	expectCount(b, "IK latest loads", ms.ikLoadLatests.Load()-before, 1)
}

// BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsWriteUniqueKey: every op asks for the latest key of a new id
// (upstream: cacheKey("TestKey", n) = "TestKey<n>"; here the session of partition TestKey<n>, whose IK is created
// by the loader). At the end the number of keys created must equal the number of ops.
func BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsWriteUniqueKey(b *testing.B) {
	ms := newCountingMetastore()
	seed(b, ms, testKey)
	f := newFactory(b, ms, testKeys)
	storesBefore := ms.ikStores.Load()

	var n atomic.Int64

	parallel(b, func() error {
		s, err := f.GetSession(fmt.Sprintf("%s%d", testKey, n.Add(1)-1))
		if err != nil {
			return err
		}

		return errors.Join(encrypt(s), s.Close())
	})
	expectCount(b, "IK keys created", ms.ikStores.Load()-storesBefore, n.Load())
}

// BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsReadStaleRevokedKey: real keys; every IK the metastore returns
// is revoked (and no new IK can be stored), so every op finds its cached latest key invalid and runs the loader
// again: the invalid → reload path on every op, as upstream.
func BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsReadStaleRevokedKey(b *testing.B) {
	ms := newCountingMetastore()
	seed(b, ms, testKey)
	ms.revokeIKs = true
	s := session(b, newFactory(b, ms, realKeys), testKey)

	if err := encrypt(s); err != nil {
		b.Fatal(err)
	}

	// One IK creation attempt per loader run: the first op's miss runs the loader twice (load, then reload of
	// the invalid result); every other op once.
	before := ms.ikStores.Load()

	var ops atomic.Int64

	parallel(b, func() error {
		ops.Add(1)
		return encrypt(s)
	})
	expectCount(b, "IK reloads", ms.ikStores.Load()-before, ops.Load())
}

// BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsReadRevokedKey: real keys; the only IK in the metastore is
// revoked, so the first op replaces it with a new valid key and every later op hits that one.
func BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsReadRevokedKey(b *testing.B) {
	ms := newCountingMetastore()
	drr := seed(b, ms, testKey)
	// Two minutes back, so the replacement key (created at this minute) does not collide with it.
	backdateIK(b, ms, drr, 2*time.Minute, true)
	s := session(b, newFactory(b, ms, realKeys), testKey)

	parallel(b, func() error { return encrypt(s) })
	expectCount(b, "IK keys created", ms.ikStores.Load()-1, 1)
}

// BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsReadUniqueKeys: min(b.N, 1000) partitions' latest keys cached
// before timing; op n encrypts with the session of partition n mod 1000; the loader never runs while timing.
func BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsReadUniqueKeys(b *testing.B) {
	ms := newCountingMetastore()
	seed(b, ms, testKey)
	f := newFactory(b, ms, testKeys)

	sessions := make([]*appencryption.Session, min(b.N, uniqueReadKeys))
	for i := range sessions {
		sessions[i] = session(b, f, fmt.Sprintf("%s-%d", testKey, i))
		if err := encrypt(sessions[i]); err != nil {
			b.Fatal(err)
		}
	}

	before := ms.ikLoadLatests.Load()

	var n atomic.Int64

	parallel(b, func() error { return encrypt(sessions[(n.Add(1)-1)%uniqueReadKeys]) })
	expectCount(b, "IK latest loads while timing", ms.ikLoadLatests.Load()-before, 0)
}
