// Package benchkit holds what the benchmark packages of go-baseline share:
// docs/compatibility.md#go-benchmarks-mirrored's identities, the AEAD, the static KMS, factory set-up and tear-down,
// and a checked warm-up round trip. Written against the public API of the pinned upstream appencryption module; no
// upstream code is copied.
package benchkit

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"

	"github.com/godaddy/asherah/go/appencryption"
	"github.com/godaddy/asherah/go/appencryption/pkg/crypto/aead"
	"github.com/godaddy/asherah/go/appencryption/pkg/kms"
)

// The identities of the upstream benchmarks (docs/compatibility.md#go-benchmarks-mirrored).
const (
	Product     = "enclibrary"
	Service     = "asherah"
	PartitionID = "123456"
	StaticKey   = "thisIsAStaticMasterKeyForTesting"
)

// Crypto is the AEAD every factory uses.
var Crypto = aead.NewAES256GCM()

// RandomPayload returns n random bytes.
func RandomPayload(n int) []byte {
	buf := make([]byte, n)
	_, _ = rand.Read(buf) // crypto/rand.Read never returns an error (Go ≥ 1.24); it aborts the process instead.

	return buf
}

// NewStaticKMS returns the static KMS of the benchmarks, closed when tb ends.
func NewStaticKMS(tb testing.TB) *kms.StaticKMS {
	tb.Helper()

	km, err := kms.NewStatic(StaticKey, Crypto)
	if err != nil {
		tb.Fatal(err)
	}

	tb.Cleanup(km.Close)

	return km
}

// NewFactory builds a session factory with Crypto.
func NewFactory(config *appencryption.Config, ms appencryption.Metastore, km appencryption.KeyManagementService) *appencryption.SessionFactory {
	return appencryption.NewSessionFactory(config, ms, km, Crypto)
}

// CloseFactory closes f when tb ends and reports a failed close.
func CloseFactory(tb testing.TB, f *appencryption.SessionFactory) {
	tb.Helper()
	tb.Cleanup(func() {
		if err := f.Close(); err != nil {
			tb.Error(err)
		}
	})
}

// WarmSession returns f's session of PartitionID (closed when tb ends) after one checked Encrypt/Decrypt round
// trip of payload, so its system and intermediate keys are cached; and the record of that round trip.
func WarmSession(tb testing.TB, f *appencryption.SessionFactory, payload []byte) (*appencryption.Session, *appencryption.DataRowRecord) {
	tb.Helper()

	ctx := context.Background()

	sess, err := f.GetSession(PartitionID)
	if err != nil {
		tb.Fatal(err)
	}

	tb.Cleanup(func() { _ = sess.Close() })

	drr, err := sess.Encrypt(ctx, payload)
	if err != nil {
		tb.Fatal(err)
	}

	got, err := sess.Decrypt(ctx, *drr)
	if err != nil {
		tb.Fatal(err)
	}

	if !bytes.Equal(got, payload) {
		tb.Fatal("round trip before timing: decrypted payload differs from the original")
	}

	return sess, drr
}
