// Command interop encrypts and decrypts with the upstream Go Asherah (appencryption v0.9.0) so the Rust
// implementation can be tested against it across processes (spec §12, architecture decision 4).
//
//	interop encrypt [flags] < payload      > base64(DRR JSON)
//	interop decrypt [flags] < base64(DRR JSON) > payload
//
// Flags (both subcommands):
//
//	--service, --product, --partition   key identity (defaults: the cross-language suite's service/product/partition)
//	--metastore sqlite:<path>           SQL metastore on a SQLite file (created with the spec §8.3 table if missing)
//	--metastore json:<path>             in-memory metastore loaded from <path> (missing file = empty) and, after
//	                                    encrypt, written back: [{"id":…,"created":…,"key_record":{EKR JSON}}, …]
//	--static-key                        static KMS master key (32 bytes; default the canonical test key)
//
// The ciphertext is the cross-language transport form: standard base64 of the DRR's encoding/json bytes, written
// without a trailing newline. decrypt ignores surrounding whitespace in its input and writes the payload bytes
// exactly. Exit status: 0 on success, 1 on failure, 2 on a usage error.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/godaddy/asherah/go/appencryption"
	"github.com/godaddy/asherah/go/appencryption/pkg/crypto/aead"
	"github.com/godaddy/asherah/go/appencryption/pkg/kms"
)

// canonicalStaticKey is the static KMS master key used by every Asherah test suite (spec §9.2).
const canonicalStaticKey = "thisIsAStaticMasterKeyForTesting"

//nolint:gochecknoinits // the zone must be fixed before any time value is created.
func init() {
	// Go's SQL metastore binds `created` as time.Unix(created, 0), a time in the process-local zone, and the SQLite
	// driver writes that time as text with the zone's offset. Running in UTC makes the column read
	// `YYYY-MM-DD HH:MM:SS+00:00` whatever TZ says, which is what the Rust SQLite metastore binds (spec §8.3:
	// `created` as UTC with second precision), so both can look up each other's rows.
	time.Local = time.UTC
}

// errUsage marks command-line mistakes (exit status 2).
var errUsage = errors.New("usage error")

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "interop: %v\n", err)

		if errors.Is(err, errUsage) {
			os.Exit(2)
		}

		os.Exit(1)
	}
}

// options are the parsed flags of one subcommand.
type options struct {
	service, product, partition string
	metastore                   string
	staticKey                   string
}

func parseFlags(name string, args []string) (options, error) {
	var o options

	fs := flag.NewFlagSet("interop "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.service, "service", "service", "service name")
	fs.StringVar(&o.product, "product", "product", "product name")
	fs.StringVar(&o.partition, "partition", "partition", "partition ID")
	fs.StringVar(&o.metastore, "metastore", "", "sqlite:<path> or json:<path> (required)")
	fs.StringVar(&o.staticKey, "static-key", canonicalStaticKey, "static KMS master key (32 bytes)")

	if err := fs.Parse(args); err != nil {
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}

	if fs.NArg() != 0 {
		return o, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}

	if o.metastore == "" {
		return o, fmt.Errorf("%w: --metastore is required (sqlite:<path> or json:<path>)", errUsage)
	}

	return o, nil
}

// run executes one command line (without the program name).
func run(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: interop encrypt|decrypt --metastore sqlite:<path>|json:<path> [--service S] "+
			"[--product P] [--partition ID] [--static-key K]", errUsage)
	}

	cmd := args[0]
	if cmd != "encrypt" && cmd != "decrypt" {
		return fmt.Errorf("%w: unknown subcommand %q (want encrypt or decrypt)", errUsage, cmd)
	}

	o, err := parseFlags(cmd, args[1:])
	if err != nil {
		return err
	}

	input, err := io.ReadAll(stdin)
	if err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}

	ms, err := openMetastore(o.metastore)
	if err != nil {
		return err
	}

	var output []byte

	opErr := withSession(o, ms, func(ctx context.Context, sess *appencryption.Session) error {
		var err error
		if cmd == "encrypt" {
			output, err = encrypt(ctx, sess, input)
		} else {
			output, err = decrypt(ctx, sess, input)
		}

		return err
	})

	// Only encrypt can add keys; a failed encrypt saves nothing.
	if opErr == nil && cmd == "encrypt" {
		opErr = ms.save()
	}

	if err := errors.Join(opErr, ms.close()); err != nil {
		return err
	}

	if _, err := stdout.Write(output); err != nil {
		return fmt.Errorf("writing stdout: %w", err)
	}

	return nil
}

// withSession builds a static KMS, a session factory with the library defaults (memguard secrets, default policy)
// and a session for o.partition, runs fn, and closes everything.
func withSession(o options, ms *metastore, fn func(context.Context, *appencryption.Session) error) error {
	crypto := aead.NewAES256GCM()

	km, err := kms.NewStatic(o.staticKey, crypto)
	if err != nil {
		return fmt.Errorf("static KMS: %w", err)
	}
	defer km.Close()

	factory := appencryption.NewSessionFactory(&appencryption.Config{
		Service: o.service,
		Product: o.product,
		Policy:  appencryption.NewCryptoPolicy(),
	}, ms.Metastore, km, crypto)

	sess, err := factory.GetSession(o.partition)
	if err != nil {
		return errors.Join(fmt.Errorf("session: %w", err), factory.Close())
	}

	fnErr := fn(context.Background(), sess)

	return errors.Join(fnErr, sess.Close(), factory.Close())
}

// encrypt returns base64(json(Encrypt(payload))).
func encrypt(ctx context.Context, sess *appencryption.Session, payload []byte) ([]byte, error) {
	drr, err := sess.Encrypt(ctx, payload)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}

	drrJSON, err := json.Marshal(drr)
	if err != nil {
		return nil, fmt.Errorf("encoding DRR: %w", err)
	}

	out := make([]byte, base64.StdEncoding.EncodedLen(len(drrJSON)))
	base64.StdEncoding.Encode(out, drrJSON)

	return out, nil
}

// decrypt reverses encrypt: base64 → DRR JSON → Decrypt.
func decrypt(ctx context.Context, sess *appencryption.Session, transport []byte) ([]byte, error) {
	transport = bytes.TrimSpace(transport)

	drrJSON := make([]byte, base64.StdEncoding.DecodedLen(len(transport)))

	n, err := base64.StdEncoding.Decode(drrJSON, transport)
	if err != nil {
		return nil, fmt.Errorf("input is not standard base64: %w", err)
	}

	var drr appencryption.DataRowRecord
	if err := json.Unmarshal(drrJSON[:n], &drr); err != nil {
		return nil, fmt.Errorf("input is not a DRR: %w", err)
	}

	if drr.Key == nil {
		return nil, errors.New("input is not a DRR: no Key")
	}

	payload, err := sess.Decrypt(ctx, drr)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}

	return payload, nil
}
