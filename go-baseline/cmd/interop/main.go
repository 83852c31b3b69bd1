// Command interop encrypts and decrypts with the upstream Go Asherah (appencryption v0.9.0) so the Rust
// implementation can be tested against it across processes (docs/compatibility.md#cross-language-suite,
// docs/architecture.md#interop-tested-against-real-go).
//
//	interop encrypt [flags] < payload      > base64(DRR JSON)
//	interop decrypt [flags] < base64(DRR JSON) > payload
//	interop encrypt-batch [flags] < [{"partition":…,"payload":"<b64>"},…] > [{"partition":…,"drr":"<b64(DRR JSON)>"},…]
//	interop decrypt-batch [flags] < [{"partition":…,"drr":"<b64(DRR JSON)>"},…] > [{"partition":…,"payload":"<b64>"}
//	                                                                              or {"partition":…,"error":"…"},…]
//
// Flags (every subcommand):
//
//	--service, --product, --partition   key identity (defaults: the cross-language suite's service/product/partition;
//	                                    in a batch, an item without "partition" uses --partition)
//	--metastore sqlite:<path>           SQL metastore on a SQLite file (created with the table of
//	                                    docs/compatibility.md#sql-metastore if missing)
//	--metastore json:<path>             in-memory metastore loaded from <path> (missing file = empty) and, after
//	                                    encrypt, written back: [{"id":…,"created":…,"key_record":{EKR JSON}}, …]
//	--metastore mysql://user:pass@host:port/db   SQL metastore on MySQL/MariaDB (go-sql-driver/mysql; table
//	                                    created if missing); mysql:<go DSN> also works
//	--region-suffix S                   make the metastore report region suffix S (as DynamoDB's region-suffix mode
//	                                    does), so keys are `…_S` and records of any region decrypt
//	                                    (docs/compatibility.md#partitions-and-region-suffixes)
//	--static-key                        static KMS master key (32 bytes; default the canonical test key)
//
// The ciphertext is the cross-language transport form: standard base64 of the DRR's encoding/json bytes, written
// without a trailing newline. decrypt ignores surrounding whitespace in its input and writes the payload bytes
// exactly. The batch forms run one factory for every item (one session per partition), so a test can send many
// payloads through one process; JSON []byte fields are standard base64. decrypt-batch reports a failing item in
// its "error" and goes on. Exit status: 0 on success, 1 on failure, 2 on a usage error.
package main

import (
	"bytes"
	"cmp"
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

// canonicalStaticKey is the static KMS master key used by every Asherah test suite
// (docs/compatibility.md#static-kms).
const canonicalStaticKey = "thisIsAStaticMasterKeyForTesting"

//nolint:gochecknoinits // the zone must be fixed before any time value is created.
func init() {
	// Go's SQL metastore binds `created` as time.Unix(created, 0), a time in the process-local zone, and the SQLite
	// driver writes that time as text with the zone's offset. Running in UTC makes the column read
	// `YYYY-MM-DD HH:MM:SS+00:00` whatever TZ says, which is what the Rust SQLite metastore binds
	// (docs/compatibility.md#sql-metastore: `created` as UTC with second precision), so both can look up each other's
	// rows.
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
	regionSuffix                string
	staticKey                   string
}

func parseFlags(name string, args []string) (options, error) {
	var o options

	fs := flag.NewFlagSet("interop "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.service, "service", "service", "service name")
	fs.StringVar(&o.product, "product", "product", "product name")
	fs.StringVar(&o.partition, "partition", "partition", "partition ID")
	fs.StringVar(&o.metastore, "metastore", "", "sqlite:<path>, json:<path> or mysql://… (required)")
	fs.StringVar(&o.regionSuffix, "region-suffix", "", "region suffix the metastore reports (empty: none)")
	fs.StringVar(&o.staticKey, "static-key", canonicalStaticKey, "static KMS master key (32 bytes)")

	if err := fs.Parse(args); err != nil {
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}

	if fs.NArg() != 0 {
		return o, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}

	if o.metastore == "" {
		return o, fmt.Errorf("%w: --metastore is required (sqlite:<path>, json:<path> or mysql://…)", errUsage)
	}

	return o, nil
}

// commands are the subcommands; the bool says whether it may add keys (and so must save a JSON metastore).
var commands = map[string]bool{"encrypt": true, "decrypt": false, "encrypt-batch": true, "decrypt-batch": false}

// run executes one command line (without the program name).
func run(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: interop encrypt|decrypt|encrypt-batch|decrypt-batch --metastore sqlite:<path>|"+
			"json:<path>|mysql://… [--service S] [--product P] [--partition ID] [--region-suffix S] [--static-key K]",
			errUsage)
	}

	cmd := args[0]

	writes, ok := commands[cmd]
	if !ok {
		return fmt.Errorf("%w: unknown subcommand %q (want encrypt, decrypt, encrypt-batch or decrypt-batch)",
			errUsage, cmd)
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

	if o.regionSuffix != "" {
		ms.Metastore = suffixedMetastore{Metastore: ms.Metastore, suffix: o.regionSuffix}
	}

	var output []byte

	opErr := withFactory(o, ms, func(ctx context.Context, sessions *sessions) error {
		var err error

		switch cmd {
		case "encrypt", "decrypt":
			sess, serr := sessions.get(o.partition)
			if serr != nil {
				return serr
			}

			if cmd == "encrypt" {
				output, err = encrypt(ctx, sess, input)
			} else {
				output, err = decrypt(ctx, sess, input)
			}
		case "encrypt-batch":
			output, err = encryptBatch(ctx, sessions, o.partition, input)
		case "decrypt-batch":
			output, err = decryptBatch(ctx, sessions, o.partition, input)
		}

		return err
	})

	// Only encrypt can add keys; a failed encrypt saves nothing.
	if opErr == nil && writes {
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

// suffixedMetastore reports a region suffix, which makes the session factory build suffixed partitions
// (docs/compatibility.md#partitions-and-region-suffixes): upstream only does this for its DynamoDB metastores; the
// wrapper gives any metastore that behaviour.
type suffixedMetastore struct {
	appencryption.Metastore

	suffix string
}

// GetRegionSuffix is the optional method upstream's SessionFactory looks for.
func (m suffixedMetastore) GetRegionSuffix() string { return m.suffix }

// sessions opens one session per partition of one factory and closes them all at the end.
type sessions struct {
	factory *appencryption.SessionFactory
	open    map[string]*appencryption.Session
}

func (s *sessions) get(partition string) (*appencryption.Session, error) {
	if sess, ok := s.open[partition]; ok {
		return sess, nil
	}

	sess, err := s.factory.GetSession(partition)
	if err != nil {
		return nil, fmt.Errorf("session for partition %q: %w", partition, err)
	}

	s.open[partition] = sess

	return sess, nil
}

func (s *sessions) close() error {
	var errs []error
	for _, sess := range s.open {
		errs = append(errs, sess.Close())
	}

	return errors.Join(errs...)
}

// withFactory builds a static KMS and a session factory with the library defaults (memguard secrets, default
// policy), runs fn with a session opener, and closes everything.
func withFactory(o options, ms *metastore, fn func(context.Context, *sessions) error) error {
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

	open := &sessions{factory: factory, open: map[string]*appencryption.Session{}}
	fnErr := fn(context.Background(), open)

	return errors.Join(fnErr, open.close(), factory.Close())
}

// batchItem is one element of a batch's input or output.
type batchItem struct {
	Partition string `json:"partition,omitempty"`
	Payload   []byte `json:"payload,omitempty"`
	DRR       string `json:"drr,omitempty"`
	Error     string `json:"error,omitempty"`
}

func readBatch(input []byte) ([]batchItem, error) {
	var items []batchItem
	if err := json.Unmarshal(input, &items); err != nil {
		return nil, fmt.Errorf("batch input is not a JSON array of items: %w", err)
	}

	return items, nil
}

// writeBatch encodes items as a JSON array, one item per line; payload is always present on successful decrypt
// items (an empty payload is "").
func writeBatch(items []json.RawMessage) []byte {
	var buf bytes.Buffer

	buf.WriteString("[")

	for i, item := range items {
		if i > 0 {
			buf.WriteString(",")
		}

		buf.WriteString("\n")
		buf.Write(item)
	}

	buf.WriteString("\n]\n")

	return buf.Bytes()
}

// encryptBatch encrypts every item's payload with its partition's session; any failure fails the batch.
func encryptBatch(ctx context.Context, open *sessions, defaultPartition string, input []byte) ([]byte, error) {
	items, err := readBatch(input)
	if err != nil {
		return nil, err
	}

	out := make([]json.RawMessage, 0, len(items))

	for i, item := range items {
		partition := cmp.Or(item.Partition, defaultPartition)

		sess, err := open.get(partition)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}

		payload := item.Payload
		if payload == nil {
			payload = []byte{}
		}

		transport, err := encrypt(ctx, sess, payload)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}

		line, err := json.Marshal(batchItem{Partition: partition, DRR: string(transport)})
		if err != nil {
			return nil, err
		}

		out = append(out, line)
	}

	return writeBatch(out), nil
}

// decryptResult is a successful decrypt-batch item: payload always present, even when empty.
type decryptResult struct {
	Partition string `json:"partition"`
	Payload   []byte `json:"payload"`
}

// decryptBatch decrypts every item with its partition's session; a failing item gets an "error" and the batch goes
// on (so one call can check many tampered records).
func decryptBatch(ctx context.Context, open *sessions, defaultPartition string, input []byte) ([]byte, error) {
	items, err := readBatch(input)
	if err != nil {
		return nil, err
	}

	out := make([]json.RawMessage, 0, len(items))

	for _, item := range items {
		partition := cmp.Or(item.Partition, defaultPartition)

		var line []byte

		sess, err := open.get(partition)
		if err == nil {
			var payload []byte

			payload, err = decrypt(ctx, sess, []byte(item.DRR))
			if err == nil {
				if payload == nil {
					payload = []byte{}
				}

				line, err = json.Marshal(decryptResult{Partition: partition, Payload: payload})
				if err != nil {
					return nil, err
				}
			}
		}

		if err != nil {
			line, err = json.Marshal(batchItem{Partition: partition, Error: err.Error()})
			if err != nil {
				return nil, err
			}
		}

		out = append(out, line)
	}

	return writeBatch(out), nil
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
