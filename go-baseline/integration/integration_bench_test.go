package integration

// Mirrors of the upstream integration benchmarks one-to-one (docs/compatibility.md#go-benchmarks-mirrored): same
// names, same constants, same work inside the timed loop, through the pinned appencryption v0.9.0 public API. (The
// payload-size series lives in ../payload.) Every benchmark checks one full round trip before b.ResetTimer, so a
// broken setup fails instead of timing an error path.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	mathrand "math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	"asherahlab/go-baseline/internal/benchkit"
	"github.com/godaddy/asherah/go/appencryption"
	"github.com/godaddy/asherah/go/appencryption/pkg/persistence"
)

const (
	payloadSizeBytes = 100

	// Zipf parameters for partition draws: P(k) ∝ (v + k)^-s for k in [0, imax], imax = 32 × the default session
	// cache capacity (1000).
	zipfS    = 1.0001
	zipfV    = 10.0
	zipfIMax = 32 * appencryption.DefaultSessionCacheMaxSize
)

var (
	// One metastore and one default-policy config shared by every benchmark in the process, as upstream does: keys
	// created by one benchmark are reused by the next.
	sharedMetastore = persistence.NewMemoryMetastore()
	sharedConfig    = &appencryption.Config{
		Service: benchkit.Service,
		Product: benchkit.Product,
		Policy:  appencryption.NewCryptoPolicy(),
	}
	// Seed of every Zipf generator. Upstream uses the process start time in ns; ZIPF_SEED pins it so a Rust run can
	// replay the same partition sequence.
	zipfSeed = seedFromEnv()
)

func seedFromEnv() int64 {
	if s := os.Getenv("ZIPF_SEED"); s != "" {
		seed, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			panic(fmt.Sprintf("ZIPF_SEED=%q is not an int64: %v", s, err))
		}

		return seed
	}

	return time.Now().UnixNano()
}

func TestMain(m *testing.M) {
	// A `key: value` line is a configuration line in Go's benchmark format, so the seed travels with the results.
	fmt.Printf("zipf-seed: %d\n", zipfSeed)
	os.Exit(m.Run())
}

// newZipf returns a fresh partition-number generator. Every caller (one per RunParallel goroutine) starts from the
// same seed, so all goroutines draw the same sequence.
func newZipf() func() uint64 {
	return mathrand.NewZipf(mathrand.New(mathrand.NewSource(zipfSeed)), zipfS, zipfV, zipfIMax).Uint64
}

func sessionCacheConfig(opts ...appencryption.PolicyOption) *appencryption.Config {
	return &appencryption.Config{
		Service: benchkit.Service,
		Product: benchkit.Product,
		Policy:  appencryption.NewCryptoPolicy(append([]appencryption.PolicyOption{appencryption.WithSessionCache()}, opts...)...),
	}
}

// encryptDecrypt is the body every EncryptDecrypt benchmark times: session → Encrypt → Decrypt → compare → close.
func encryptDecrypt(ctx context.Context, f *appencryption.SessionFactory, partition string, payload []byte) error {
	sess, err := f.GetSession(partition)
	if err != nil {
		return err
	}
	defer sess.Close()

	drr, err := sess.Encrypt(ctx, payload)
	if err != nil {
		return err
	}

	got, err := sess.Decrypt(ctx, *drr)
	if err != nil {
		return err
	}

	if !bytes.Equal(got, payload) {
		return errors.New("decrypted payload differs from the original")
	}

	return nil
}

// newFactoryEncryptDecrypt is the multi-factory body: a brand-new factory (cold SK cache) per operation.
func newFactoryEncryptDecrypt(ctx context.Context, km appencryption.KeyManagementService, partition string, payload []byte) error {
	f := benchkit.NewFactory(sharedConfig, sharedMetastore, km)
	opErr := encryptDecrypt(ctx, f, partition, payload)

	return errors.Join(opErr, f.Close())
}

// verify runs one operation untimed; a failure stops the benchmark before anything is measured.
func verify(b *testing.B, op func() error) {
	b.Helper()

	if err := op(); err != nil {
		b.Fatalf("round trip before timing: %v", err)
	}
}

// Benchmark_Encrypt: sequential, one factory, one session; b.N payloads generated before the timer; Encrypt only.
func Benchmark_Encrypt(b *testing.B) {
	ctx := context.Background()
	km := benchkit.NewStaticKMS(b)
	f := benchkit.NewFactory(sharedConfig, sharedMetastore, km)
	benchkit.CloseFactory(b, f)

	verify(b, func() error {
		return encryptDecrypt(ctx, f, benchkit.PartitionID, benchkit.RandomPayload(payloadSizeBytes))
	})

	payloads := make([][]byte, b.N)
	for i := range payloads {
		payloads[i] = benchkit.RandomPayload(payloadSizeBytes)
	}

	sess, err := f.GetSession(benchkit.PartitionID)
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()

	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		if _, err := sess.Encrypt(ctx, payloads[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// Benchmark_EncryptDecrypt_MultiFactorySamePartition: parallel; every op builds a new factory for partition 123456.
func Benchmark_EncryptDecrypt_MultiFactorySamePartition(b *testing.B) {
	ctx := context.Background()
	km := benchkit.NewStaticKMS(b)

	verify(b, func() error {
		return newFactoryEncryptDecrypt(ctx, km, benchkit.PartitionID, benchkit.RandomPayload(payloadSizeBytes))
	})
	b.ResetTimer()

	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := newFactoryEncryptDecrypt(ctx, km, benchkit.PartitionID, benchkit.RandomPayload(payloadSizeBytes)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// Benchmark_EncryptDecrypt_MultiFactoryUniquePartition: parallel; every op builds a new factory for partition
// 123456_<zipf>. Like upstream, each goroutine also stops after b.N of its own iterations.
func Benchmark_EncryptDecrypt_MultiFactoryUniquePartition(b *testing.B) {
	ctx := context.Background()
	km := benchkit.NewStaticKMS(b)

	verify(b, func() error {
		return newFactoryEncryptDecrypt(ctx, km, fmt.Sprintf("%s_%d", benchkit.PartitionID, newZipf()()), benchkit.RandomPayload(payloadSizeBytes))
	})
	b.ResetTimer()

	b.RunParallel(func(pb *testing.PB) {
		zipf := newZipf()

		for i := 0; i < b.N && pb.Next(); i++ {
			partition := fmt.Sprintf("%s_%d", benchkit.PartitionID, zipf())
			if err := newFactoryEncryptDecrypt(ctx, km, partition, benchkit.RandomPayload(payloadSizeBytes)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// Benchmark_EncryptDecrypt_SameFactoryUniquePartition: parallel; one factory over a private, fresh metastore;
// partition 123456_<zipf> per op.
func Benchmark_EncryptDecrypt_SameFactoryUniquePartition(b *testing.B) {
	ctx := context.Background()
	km := benchkit.NewStaticKMS(b)
	f := benchkit.NewFactory(sharedConfig, persistence.NewMemoryMetastore(), km)
	benchkit.CloseFactory(b, f)

	verify(b, func() error {
		return encryptDecrypt(ctx, f, fmt.Sprintf("%s_%d", benchkit.PartitionID, newZipf()()), benchkit.RandomPayload(payloadSizeBytes))
	})
	b.ResetTimer()

	b.RunParallel(func(pb *testing.PB) {
		zipf := newZipf()

		for pb.Next() {
			partition := fmt.Sprintf("%s_%d", benchkit.PartitionID, zipf())
			if err := encryptDecrypt(ctx, f, partition, benchkit.RandomPayload(payloadSizeBytes)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// Benchmark_EncryptDecrypt_SameFactoryUniquePartition_WithSessionCache: parallel; one factory with the session
// cache on (capacity 1000, default 2 h expiry, default slru policy) over the shared metastore; partition <zipf>.
func Benchmark_EncryptDecrypt_SameFactoryUniquePartition_WithSessionCache(b *testing.B) {
	ctx := context.Background()
	km := benchkit.NewStaticKMS(b)
	f := benchkit.NewFactory(sessionCacheConfig(appencryption.WithSessionCacheMaxSize(1000)), sharedMetastore, km)
	benchkit.CloseFactory(b, f)

	verify(b, func() error {
		return encryptDecrypt(ctx, f, strconv.FormatUint(newZipf()(), 10), benchkit.RandomPayload(payloadSizeBytes))
	})
	b.ResetTimer()

	b.RunParallel(func(pb *testing.PB) {
		zipf := newZipf()

		for pb.Next() {
			if err := encryptDecrypt(ctx, f, strconv.FormatUint(zipf(), 10), benchkit.RandomPayload(payloadSizeBytes)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// Benchmark_EncryptDecrypt_SameFactorySamePartition: parallel; one default-policy factory, partition 123456.
func Benchmark_EncryptDecrypt_SameFactorySamePartition(b *testing.B) {
	benchSameFactorySamePartition(b, sharedConfig)
}

// Benchmark_EncryptDecrypt_SameFactorySamePartition_WithSessionCache: as above with the session cache (defaults).
func Benchmark_EncryptDecrypt_SameFactorySamePartition_WithSessionCache(b *testing.B) {
	benchSameFactorySamePartition(b, sessionCacheConfig())
}

func benchSameFactorySamePartition(b *testing.B, config *appencryption.Config) {
	ctx := context.Background()
	km := benchkit.NewStaticKMS(b)
	f := benchkit.NewFactory(config, sharedMetastore, km)
	benchkit.CloseFactory(b, f)

	verify(b, func() error {
		return encryptDecrypt(ctx, f, benchkit.PartitionID, benchkit.RandomPayload(payloadSizeBytes))
	})
	b.ResetTimer()

	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := encryptDecrypt(ctx, f, benchkit.PartitionID, benchkit.RandomPayload(payloadSizeBytes)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
