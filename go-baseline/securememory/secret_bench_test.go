package securememory

// Mirrors of github.com/godaddy/asherah/go/securememory@v0.1.7 {protectedmemory,memguard}/secret_benchmark_test.go
// and secret_race_test.go (docs/compatibility.md#go-benchmarks-mirrored), written against the public API. Each
// benchmark shares one secret holding the 32-byte value below between RunParallel goroutines (GOMAXPROCS of them),
// exactly as upstream does.

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/godaddy/asherah/go/securememory"
	"github.com/godaddy/asherah/go/securememory/memguard"
	"github.com/godaddy/asherah/go/securememory/protectedmemory"
)

// secretValue is upstream's secret in every securememory benchmark.
const secretValue = "thisismy32bytesecretthatiwilluse"

// destroyedMessage is the only error the concurrent-close benchmarks accept (upstream's assertion).
const destroyedMessage = "secret has already been destroyed"

var (
	protectedFactory securememory.SecretFactory = new(protectedmemory.SecretFactory)
	memguardFactory  securememory.SecretFactory = new(memguard.SecretFactory)
)

// newSecret makes a secret from a fresh copy of secretValue (the factory wipes its input) and closes it when the
// benchmark ends.
func newSecret(b *testing.B, f securememory.SecretFactory) securememory.Secret {
	b.Helper()

	s, err := f.New([]byte(secretValue))
	if err != nil {
		b.Fatal(err)
	}

	b.Cleanup(func() { _ = s.Close() })

	return s
}

// checkOnce runs op once untimed, so a broken setup fails before anything is measured.
func checkOnce(b *testing.B, op func() error) {
	b.Helper()

	if err := op(); err != nil {
		b.Fatalf("before timing: %v", err)
	}
}

var errMismatch = errors.New("secret contents differ from the original")

func equalOrErr(got []byte) error {
	if !bytes.Equal(got, []byte(secretValue)) {
		return errMismatch
	}

	return nil
}

// parallel times op under RunParallel; the first failure is reported and stops that goroutine.
func parallel(b *testing.B, op func() error) {
	b.Helper()
	checkOnce(b, op)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// withBytes: one WithBytes + compare.
func withBytes(b *testing.B, f securememory.SecretFactory) {
	s := newSecret(b, f)
	parallel(b, func() error {
		return s.WithBytes(equalOrErr)
	})
}

// withBytesFunc: one WithBytesFunc returning the slice + compare.
func withBytesFunc(b *testing.B, f securememory.SecretFactory) {
	s := newSecret(b, f)
	parallel(b, func() error {
		var cmpErr error

		_, err := s.WithBytesFunc(func(bs []byte) ([]byte, error) {
			cmpErr = equalOrErr(bs)
			return bs, nil
		})

		return errors.Join(err, cmpErr)
	})
}

// readerReadAll: new reader + io.ReadAll + compare.
func readerReadAll(b *testing.B, f securememory.SecretFactory) {
	s := newSecret(b, f)
	parallel(b, func() error {
		got, err := io.ReadAll(s.NewReader())
		if err != nil {
			return err
		}

		return equalOrErr(got)
	})
}

// readerReadFull: new reader + io.ReadFull into a per-goroutine 32-byte buffer + compare.
func readerReadFull(b *testing.B, f securememory.SecretFactory) {
	s := newSecret(b, f)
	op := func(buf []byte) error {
		if _, err := io.ReadFull(s.NewReader(), buf); err != nil {
			return err
		}

		return equalOrErr(buf)
	}

	checkOnce(b, func() error { return op(make([]byte, len(secretValue))) })
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, len(secretValue))

		for pb.Next() {
			if err := op(buf); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// readerRead: new reader, Read into a 32-byte buffer until EOF, reassemble, compare (two buffers per op, as
// upstream allocates them inside the loop).
func readerRead(b *testing.B, f securememory.SecretFactory) {
	s := newSecret(b, f)
	parallel(b, func() error {
		r := s.NewReader()
		buf := make([]byte, len(secretValue))
		actual := make([]byte, len(secretValue))

		for i := 0; ; {
			n, err := r.Read(buf)
			copy(actual[i:], buf[:n])
			i += n

			if errors.Is(err, io.EOF) {
				break
			}

			if err != nil {
				return err
			}
		}

		return equalOrErr(actual)
	})
}

// concurrentClose is upstream's runRaceTest ("havoc"): every worker loops op on one secret while a watcher closes
// the secret once at least GOMAXPROCS/2 workers have started. op may fail only with "secret has already been
// destroyed"; at the end the secret must report closed.
func concurrentClose(b *testing.B, f securememory.SecretFactory, op func(securememory.Secret) error) {
	s, err := f.New([]byte(secretValue))
	if err != nil {
		b.Fatal(err)
	}

	checkOnce(b, func() error { return op(s) })

	ready := make(chan struct{})
	done := make(chan struct{})
	watcherDone := make(chan struct{})

	var closeErr atomic.Value

	go func() {
		defer close(watcherDone)

		started, closed := 0, false

		for {
			select {
			case <-ready:
				started++
			case <-done:
				return
			}

			if !closed && started >= runtime.GOMAXPROCS(0)/2 {
				closed = true

				if err := s.Close(); err != nil {
					closeErr.Store(err)
				}
			}
		}
	}()

	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ready <- struct{}{}

		for pb.Next() {
			if err := op(s); err != nil && err.Error() != destroyedMessage {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	close(done)
	<-watcherDone

	if err, ok := closeErr.Load().(error); ok {
		b.Fatalf("Close: %v", err)
	}

	// With GOMAXPROCS = 1 the threshold is 0 and the watcher closes on the first worker; with more workers it
	// may not have fired when every worker finishes quickly, so close here as upstream's deferred Close does.
	if !s.IsClosed() {
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}

	if !s.IsClosed() {
		b.Fatal("secret does not report closed after Close")
	}
}

func withBytesConcurrentClose(b *testing.B, f securememory.SecretFactory) {
	concurrentClose(b, f, func(s securememory.Secret) error {
		var cmpErr error

		err := s.WithBytes(func(bs []byte) error {
			cmpErr = equalOrErr(bs)
			return nil
		})
		if err != nil {
			return err
		}

		return cmpErr
	})
}

func readerConcurrentClose(b *testing.B, f securememory.SecretFactory) {
	concurrentClose(b, f, func(s securememory.Secret) error {
		got, err := io.ReadAll(s.NewReader())
		if err != nil {
			return err
		}

		return equalOrErr(got)
	})
}

// protectedmemory factory.

func BenchmarkProtectedMemorySecret_WithBytes(b *testing.B)     { withBytes(b, protectedFactory) }
func BenchmarkProtectedMemorySecret_WithBytesFunc(b *testing.B) { withBytesFunc(b, protectedFactory) }
func BenchmarkProtectedMemoryReader_ReadAll(b *testing.B)       { readerReadAll(b, protectedFactory) }
func BenchmarkProtectedMemoryReader_ReadFull(b *testing.B)      { readerReadFull(b, protectedFactory) }
func BenchmarkProtectedMemoryReader_Read(b *testing.B)          { readerRead(b, protectedFactory) }

func BenchmarkProtectedMemorySecret_WithBytesConcurrentClose(b *testing.B) {
	withBytesConcurrentClose(b, protectedFactory)
}

func BenchmarkProtectedMemorySecret_ReaderConcurrentClose(b *testing.B) {
	readerConcurrentClose(b, protectedFactory)
}

// memguard factory (the library default).

func BenchmarkMemguardSecret_WithBytes(b *testing.B)     { withBytes(b, memguardFactory) }
func BenchmarkMemguardSecret_WithBytesFunc(b *testing.B) { withBytesFunc(b, memguardFactory) }
func BenchmarkMemguardReader_ReadAll(b *testing.B)       { readerReadAll(b, memguardFactory) }
func BenchmarkMemguardReader_ReadFull(b *testing.B)      { readerReadFull(b, memguardFactory) }
func BenchmarkMemguardReader_Read(b *testing.B)          { readerRead(b, memguardFactory) }

func BenchmarkMemguardSecret_WithBytesConcurrentClose(b *testing.B) {
	withBytesConcurrentClose(b, memguardFactory)
}

func BenchmarkMemguardSecret_ReaderConcurrentClose(b *testing.B) {
	readerConcurrentClose(b, memguardFactory)
}
