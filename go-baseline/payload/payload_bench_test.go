package payload

// The Rust lab's hot-path series (harness/benches/appencryption.rs hot_encrypt, hot_decrypt, hot_encrypt_json,
// hot_decrypt_json at 64 / 1024 / 16384 bytes; DRR JSON serialize/parse) on the upstream Go library: one factory
// over a private in-memory metastore with the default policy, static KMS, AES-256-GCM, memguard secrets (the
// library's defaults), one warm session (SK and IK cached), sequential, a fixed random payload. b.SetBytes is the
// payload size, so Go also prints MB/s. Every benchmark checks a round trip before b.ResetTimer.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/godaddy/asherah/go/appencryption"
	"github.com/godaddy/asherah/go/appencryption/pkg/crypto/aead"
	"github.com/godaddy/asherah/go/appencryption/pkg/kms"
	"github.com/godaddy/asherah/go/appencryption/pkg/persistence"
)

const (
	product     = "enclibrary"
	service     = "asherah"
	partitionID = "123456"
	staticKey   = "thisIsAStaticMasterKeyForTesting"
)

var crypto = aead.NewAES256GCM()

func randomPayload(n int) []byte {
	buf := make([]byte, n)
	_, _ = rand.Read(buf) // crypto/rand.Read never returns an error (Go ≥ 1.24); it aborts the process instead.

	return buf
}

func newStaticKMS(b *testing.B) *kms.StaticKMS {
	b.Helper()

	km, err := kms.NewStatic(staticKey, crypto)
	if err != nil {
		b.Fatal(err)
	}

	b.Cleanup(km.Close)

	return km
}

func newFactory(config *appencryption.Config, ms appencryption.Metastore, km appencryption.KeyManagementService) *appencryption.SessionFactory {
	return appencryption.NewSessionFactory(config, ms, km, crypto)
}

func closeFactory(b *testing.B, f *appencryption.SessionFactory) {
	b.Helper()
	b.Cleanup(func() {
		if err := f.Close(); err != nil {
			b.Error(err)
		}
	})
}

// hotPayloadSizes are the payload sizes (bytes) of the hot-path series; sub-benchmark names are the sizes.
var hotPayloadSizes = []int{64, 1024, 16384}

// warmSession returns a session whose SK and IK are cached (one encrypt/decrypt round trip done) on a private
// metastore, closed when the benchmark ends.
func warmSession(b *testing.B, payload []byte) (*appencryption.Session, *appencryption.DataRowRecord) {
	b.Helper()

	ctx := context.Background()
	km := newStaticKMS(b)
	f := newFactory(&appencryption.Config{Service: service, Product: product, Policy: appencryption.NewCryptoPolicy()},
		persistence.NewMemoryMetastore(), km)
	closeFactory(b, f)

	sess, err := f.GetSession(partitionID)
	if err != nil {
		b.Fatal(err)
	}

	b.Cleanup(func() { _ = sess.Close() })

	drr, err := sess.Encrypt(ctx, payload)
	if err != nil {
		b.Fatal(err)
	}

	got, err := sess.Decrypt(ctx, *drr)
	if err != nil {
		b.Fatal(err)
	}

	if !bytes.Equal(got, payload) {
		b.Fatal("round trip before timing: decrypted payload differs from the original")
	}

	return sess, drr
}

// BenchmarkHotEncrypt/<size>: struct to struct: Encrypt of a fixed random payload on a warm session (the DRK path only).
func BenchmarkHotEncrypt(b *testing.B) {
	for _, size := range hotPayloadSizes {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			ctx := context.Background()
			payload := randomPayload(size)
			sess, _ := warmSession(b, payload)

			b.SetBytes(int64(size))
			b.ResetTimer()

			for i := 0; i < b.N; i++ {
				if _, err := sess.Encrypt(ctx, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHotDecrypt/<size>: struct to struct: Decrypt of one pre-made DRR on a warm session.
func BenchmarkHotDecrypt(b *testing.B) {
	for _, size := range hotPayloadSizes {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			ctx := context.Background()
			payload := randomPayload(size)
			sess, drr := warmSession(b, payload)

			b.SetBytes(int64(size))
			b.ResetTimer()

			for i := 0; i < b.N; i++ {
				if _, err := sess.Decrypt(ctx, *drr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// drrJSONPayloadSize is the payload size of the DRR the JSON benchmarks (de)serialize.
const drrJSONPayloadSize = 1024

// BenchmarkDRRJSON/{serialize,parse}: encoding/json Marshal / Unmarshal of a DRR holding a 1024-byte payload.
func BenchmarkDRRJSON(b *testing.B) {
	ctx := context.Background()
	payload := randomPayload(drrJSONPayloadSize)
	sess, drr := warmSession(b, payload)

	encoded, err := json.Marshal(drr)
	if err != nil {
		b.Fatal(err)
	}

	var decoded appencryption.DataRowRecord
	if err := json.Unmarshal(encoded, &decoded); err != nil {
		b.Fatal(err)
	}

	if got, err := sess.Decrypt(ctx, decoded); err != nil || !bytes.Equal(got, payload) {
		b.Fatalf("JSON round trip before timing: err=%v, payload equal=%v", err, bytes.Equal(got, payload))
	}

	b.Run("serialize", func(b *testing.B) {
		b.SetBytes(int64(len(encoded)))

		for i := 0; i < b.N; i++ {
			if _, err := json.Marshal(drr); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("parse", func(b *testing.B) {
		b.SetBytes(int64(len(encoded)))

		for i := 0; i < b.N; i++ {
			var out appencryption.DataRowRecord
			if err := json.Unmarshal(encoded, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHotEncryptJSON/<size>: JSON to JSON: Encrypt of a fixed random payload on a warm session, then
// json.Marshal of the DRR (what a caller stores).
func BenchmarkHotEncryptJSON(b *testing.B) {
	for _, size := range hotPayloadSizes {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			ctx := context.Background()
			payload := randomPayload(size)
			sess, _ := warmSession(b, payload)

			b.SetBytes(int64(size))
			b.ResetTimer()

			for i := 0; i < b.N; i++ {
				drr, err := sess.Encrypt(ctx, payload)
				if err != nil {
					b.Fatal(err)
				}

				if _, err := json.Marshal(drr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHotDecryptJSON/<size>: JSON to JSON: json.Unmarshal of one pre-made DRR's JSON, then Decrypt on a warm
// session.
func BenchmarkHotDecryptJSON(b *testing.B) {
	for _, size := range hotPayloadSizes {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			ctx := context.Background()
			payload := randomPayload(size)
			sess, drr := warmSession(b, payload)

			encoded, err := json.Marshal(drr)
			if err != nil {
				b.Fatal(err)
			}

			b.SetBytes(int64(size))
			b.ResetTimer()

			for i := 0; i < b.N; i++ {
				var in appencryption.DataRowRecord
				if err := json.Unmarshal(encoded, &in); err != nil {
					b.Fatal(err)
				}

				if _, err := sess.Decrypt(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
