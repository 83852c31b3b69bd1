package keycache

// Test doubles for the public-path mirrors: each implements one of upstream's public interfaces
// (securememory.SecretFactory, appencryption.AEAD, appencryption.Metastore) so that a session's encrypt/decrypt
// costs little besides the key cache it goes through.

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/godaddy/asherah/go/appencryption"
	"github.com/godaddy/asherah/go/appencryption/pkg/persistence"
	"github.com/godaddy/asherah/go/securememory"
)

// ---------------------------------------------------------------------------------------------------------------
// "Test keys": secrets in ordinary heap memory. Upstream's key-cache benchmarks use internal.NewCryptoKeyForTest
// (a CryptoKey without secret memory) for most cases; a session can only get keys from its SecretFactory, so this
// factory is the public-API stand-in. Never use it for real keys.
// ---------------------------------------------------------------------------------------------------------------

type heapSecretFactory struct{}

var _ securememory.SecretFactory = heapSecretFactory{}

func (heapSecretFactory) New(b []byte) (securememory.Secret, error) {
	s := &heapSecret{bytes: append([]byte(nil), b...)}

	for i := range b {
		b[i] = 0
	}

	return s, nil
}

func (heapSecretFactory) CreateRandom(size int) (securememory.Secret, error) {
	s := &heapSecret{bytes: make([]byte, size)}
	_, _ = rand.Read(s.bytes)

	return s, nil
}

var errSecretClosed = errors.New("secret has already been destroyed")

type heapSecret struct {
	mu     sync.RWMutex
	bytes  []byte
	closed bool
}

func (s *heapSecret) WithBytes(action func([]byte) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()

	if s.closed {
		return errSecretClosed
	}

	return action(s.bytes)
}

func (s *heapSecret) WithBytesFunc(action func([]byte) ([]byte, error)) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()

	if s.closed {
		return nil, errSecretClosed
	}

	return action(s.bytes)
}

func (s *heapSecret) IsClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()

	return s.closed
}

func (s *heapSecret) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()

	for i := range s.bytes {
		s.bytes[i] = 0
	}

	s.closed = true

	return nil
}

func (s *heapSecret) NewReader() io.Reader {
	var out []byte

	_ = s.WithBytes(func(b []byte) error {
		out = append(out, b...)
		return nil
	})

	return strings.NewReader(string(out))
}

// ---------------------------------------------------------------------------------------------------------------
// A pass-through AEAD: the key cache benchmarks measure the cache, not AES-GCM (upstream's never encrypt at all).
// ---------------------------------------------------------------------------------------------------------------

type passThroughAEAD struct{}

var _ appencryption.AEAD = passThroughAEAD{}

func (passThroughAEAD) Encrypt(data, _ []byte) ([]byte, error) {
	return append([]byte(nil), data...), nil
}
func (passThroughAEAD) Decrypt(data, _ []byte) ([]byte, error) {
	return append([]byte(nil), data...), nil
}

// ---------------------------------------------------------------------------------------------------------------
// A counting metastore over upstream's MemoryMetastore, with the knobs the mirrors need.
// ---------------------------------------------------------------------------------------------------------------

type countingMetastore struct {
	*persistence.MemoryMetastore

	// suffix, when non-empty, is returned by GetRegionSuffix: the factory then builds suffixed partitions, whose
	// sessions accept any IK id that starts with the unsuffixed IK id
	// (docs/compatibility.md#partitions-and-region-suffixes). The unique-key mirrors use that to send one session's
	// decrypts to many distinct IK ids.
	suffix string
	// synthesizeIK, when set, answers Load of an absent `_IK_…` id with a record made from the template (its id
	// and created replaced): many distinct IKs without storing them first.
	synthesizeIK *appencryption.EnvelopeKeyRecord
	// revokeIKs marks every IK record read back as revoked and rejects every IK store (as a duplicate would be).
	revokeIKs bool

	loads, loadLatests, stores, ikLoads, ikLoadLatests, ikStores, synthesized atomic.Int64
}

var _ appencryption.Metastore = (*countingMetastore)(nil)

func newCountingMetastore() *countingMetastore {
	return &countingMetastore{MemoryMetastore: persistence.NewMemoryMetastore()}
}

func isIK(id string) bool { return strings.HasPrefix(id, "_IK_") }

func (m *countingMetastore) GetRegionSuffix() string { return m.suffix }

func (m *countingMetastore) adjust(id string, rec *appencryption.EnvelopeKeyRecord) *appencryption.EnvelopeKeyRecord {
	if rec == nil || !m.revokeIKs || !isIK(id) {
		return rec
	}

	revoked := *rec
	revoked.Revoked = true

	return &revoked
}

func (m *countingMetastore) Load(ctx context.Context, id string, created int64) (*appencryption.EnvelopeKeyRecord, error) {
	m.loads.Add(1)

	if isIK(id) {
		m.ikLoads.Add(1)
	}

	rec, err := m.MemoryMetastore.Load(ctx, id, created)
	if err != nil {
		return nil, err
	}

	if rec == nil && m.synthesizeIK != nil && isIK(id) {
		m.synthesized.Add(1)

		made := *m.synthesizeIK
		made.ID = id
		made.Created = created

		return &made, nil
	}

	return m.adjust(id, rec), nil
}

func (m *countingMetastore) LoadLatest(ctx context.Context, id string) (*appencryption.EnvelopeKeyRecord, error) {
	m.loadLatests.Add(1)

	if isIK(id) {
		m.ikLoadLatests.Add(1)
	}

	rec, err := m.MemoryMetastore.LoadLatest(ctx, id)
	if err != nil {
		return nil, err
	}

	return m.adjust(id, rec), nil
}

func (m *countingMetastore) Store(ctx context.Context, id string, created int64, rec *appencryption.EnvelopeKeyRecord) (bool, error) {
	m.stores.Add(1)

	if isIK(id) {
		m.ikStores.Add(1)

		if m.revokeIKs {
			return false, nil
		}
	}

	return m.MemoryMetastore.Store(ctx, id, created, rec)
}
