package payload

// The Rust lab's hot-path series (harness/benches/appencryption.rs hot_encrypt, hot_decrypt, hot_encrypt_json,
// hot_decrypt_json at 64 / 1024 / 16384 bytes; DRR JSON serialize/parse) on the upstream Go library: one factory
// over a private in-memory metastore with the default policy, static KMS, AES-256-GCM, memguard secrets (the
// library's defaults), one warm session (SK and IK cached), sequential, a fixed random payload. b.SetBytes is the
// payload size, so Go also prints MB/s. Every benchmark checks a round trip before b.ResetTimer.

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"asherahlab/go-baseline/internal/benchkit"
	"github.com/godaddy/asherah/go/appencryption"
	"github.com/godaddy/asherah/go/appencryption/pkg/persistence"
)

// warmSession returns a warm session (benchkit.WarmSession) of a factory over a private in-memory metastore, both
// closed when the benchmark ends.
func warmSession(b *testing.B, payload []byte) (*appencryption.Session, *appencryption.DataRowRecord) {
	b.Helper()

	config := &appencryption.Config{Service: benchkit.Service, Product: benchkit.Product, Policy: appencryption.NewCryptoPolicy()}
	f := benchkit.NewFactory(config, persistence.NewMemoryMetastore(), benchkit.NewStaticKMS(b))
	benchkit.CloseFactory(b, f)

	return benchkit.WarmSession(b, f, payload)
}

// hotPayloadSizes are the payload sizes (bytes) of the hot-path series; sub-benchmark names are the sizes.
var hotPayloadSizes = []int{64, 1024, 16384}

// hotSeries runs one sub-benchmark per hot payload size on a warm session. prepare does the untimed set-up and
// returns the body of one timed iteration.
func hotSeries(b *testing.B, prepare func(b *testing.B, sess *appencryption.Session, payload []byte, drr *appencryption.DataRowRecord) func() error) {
	for _, size := range hotPayloadSizes {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			payload := benchkit.RandomPayload(size)
			sess, drr := warmSession(b, payload)
			op := prepare(b, sess, payload, drr)

			b.SetBytes(int64(size))
			b.ResetTimer()

			for i := 0; i < b.N; i++ {
				if err := op(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHotEncrypt/<size>: struct to struct: Encrypt of a fixed random payload on a warm session (the DRK path only).
func BenchmarkHotEncrypt(b *testing.B) {
	hotSeries(b, func(_ *testing.B, sess *appencryption.Session, payload []byte, _ *appencryption.DataRowRecord) func() error {
		ctx := context.Background()

		return func() error {
			_, err := sess.Encrypt(ctx, payload)
			return err
		}
	})
}

// BenchmarkHotDecrypt/<size>: struct to struct: Decrypt of one pre-made DRR on a warm session.
func BenchmarkHotDecrypt(b *testing.B) {
	hotSeries(b, func(_ *testing.B, sess *appencryption.Session, _ []byte, drr *appencryption.DataRowRecord) func() error {
		ctx := context.Background()

		return func() error {
			_, err := sess.Decrypt(ctx, *drr)
			return err
		}
	})
}

// drrJSONPayloadSize is the payload size of the DRR the JSON benchmarks (de)serialize.
const drrJSONPayloadSize = 1024

// BenchmarkDRRJSON/{serialize,parse}: encoding/json Marshal / Unmarshal of a DRR holding a 1024-byte payload.
func BenchmarkDRRJSON(b *testing.B) {
	ctx := context.Background()
	payload := benchkit.RandomPayload(drrJSONPayloadSize)
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
	hotSeries(b, func(_ *testing.B, sess *appencryption.Session, payload []byte, _ *appencryption.DataRowRecord) func() error {
		ctx := context.Background()

		return func() error {
			drr, err := sess.Encrypt(ctx, payload)
			if err != nil {
				return err
			}

			_, err = json.Marshal(drr)

			return err
		}
	})
}

// BenchmarkHotDecryptJSON/<size>: JSON to JSON: json.Unmarshal of one pre-made DRR's JSON, then Decrypt on a warm
// session.
func BenchmarkHotDecryptJSON(b *testing.B) {
	hotSeries(b, func(b *testing.B, sess *appencryption.Session, _ []byte, drr *appencryption.DataRowRecord) func() error {
		ctx := context.Background()

		encoded, err := json.Marshal(drr)
		if err != nil {
			b.Fatal(err)
		}

		return func() error {
			var in appencryption.DataRowRecord
			if err := json.Unmarshal(encoded, &in); err != nil {
				return err
			}

			_, err := sess.Decrypt(ctx, in)

			return err
		}
	})
}
