package main

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runAsCLI makes the test binary behave as the interop command, so TestBinary checks the real process: stdin,
// stdout, exit status and the TZ independence of the SQLite rows.
const runAsCLI = "INTEROP_TEST_RUN_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(runAsCLI) == "1" {
		main()
		os.Exit(0)
	}

	os.Exit(m.Run())
}

// specVectors is testdata/spec-2.8-vectors.json.
type specVectors struct {
	Service             string            `json:"service"`
	Product             string            `json:"product"`
	Partition           string            `json:"partition"`
	StaticMasterKey     string            `json:"static_master_key"`
	Payload             string            `json:"payload"`
	SQLiteCreatedColumn map[string]string `json:"sqlite_created_column"`
	DRRJSON             string            `json:"drr_json"`
	DRRTransportBase64  string            `json:"drr_transport_base64"`
}

func loadVectors(t *testing.T) specVectors {
	t.Helper()

	var v specVectors

	data, err := os.ReadFile("../../testdata/spec-2.8-vectors.json")
	if err != nil {
		t.Fatal(err)
	}

	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}

	return v
}

func loadSpecRows(t *testing.T) []jsonRow {
	t.Helper()

	data, err := os.ReadFile("../../testdata/spec-2.8-metastore.json")
	if err != nil {
		t.Fatal(err)
	}

	var rows []jsonRow
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatal(err)
	}

	if len(rows) != 2 {
		t.Fatalf("spec-2.8-metastore.json: want 2 rows, got %d", len(rows))
	}

	return rows
}

func runCLI(t *testing.T, stdin []byte, args ...string) ([]byte, error) {
	t.Helper()

	var out bytes.Buffer
	err := run(args, bytes.NewReader(stdin), &out)

	return out.Bytes(), err
}

func mustRun(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()

	out, err := runCLI(t, stdin, args...)
	if err != nil {
		t.Fatalf("interop %s: %v", strings.Join(args, " "), err)
	}

	return out
}

// decodeTransport checks the transport form (standard padded base64, no newline) and returns the DRR JSON object.
func decodeTransport(t *testing.T, transport []byte) map[string]json.RawMessage {
	t.Helper()

	if bytes.ContainsAny(transport, "\r\n \t") {
		t.Fatalf("transport string contains whitespace: %q", transport)
	}

	drrJSON, err := base64.StdEncoding.Strict().DecodeString(string(transport))
	if err != nil {
		t.Fatalf("not standard base64: %v", err)
	}

	var drr map[string]json.RawMessage
	if err := json.Unmarshal(drrJSON, &drr); err != nil {
		t.Fatalf("not a JSON object: %v", err)
	}

	if _, ok := drr["Key"]; !ok {
		t.Fatalf("DRR without Key: %s", drrJSON)
	}

	if _, ok := drr["Data"]; !ok {
		t.Fatalf("DRR without Data: %s", drrJSON)
	}

	return drr
}

func TestRoundTripJSONMetastore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metastore.json")
	ms := "--metastore=json:" + path
	payload := []byte("mySuperSecretPayload")

	transport := mustRun(t, payload, "encrypt", ms)
	decodeTransport(t, transport)

	if got := mustRun(t, transport, "decrypt", ms); !bytes.Equal(got, payload) {
		t.Fatalf("decrypt: got %q, want %q", got, payload)
	}

	// The file holds exactly the SK and the IK, SK without and IK with ParentKeyMeta.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	var rows []jsonRow
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatalf("metastore file: %v\n%s", err, data)
	}

	if len(rows) != 2 || rows[0].ID != "_IK_partition_service_product" || rows[1].ID != "_SK_service_product" {
		t.Fatalf("want the IK and SK rows, got %s", data)
	}

	for _, row := range rows {
		var record map[string]json.RawMessage
		if err := json.Unmarshal(row.KeyRecord, &record); err != nil {
			t.Fatalf("key_record of %s is not an object: %s", row.ID, row.KeyRecord)
		}

		_, hasParent := record["ParentKeyMeta"]
		if hasParent != strings.HasPrefix(row.ID, "_IK_") {
			t.Errorf("%s: ParentKeyMeta present = %v", row.ID, hasParent)
		}

		if string(record["Created"]) != jsonInt(row.Created) {
			t.Errorf("%s: row created %d, key_record Created %s", row.ID, row.Created, record["Created"])
		}
	}

	// A second encrypt reuses both keys: the file is unchanged.
	mustRun(t, []byte("again"), "encrypt", ms)

	again, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	if !bytes.Equal(again, data) {
		t.Fatalf("second encrypt changed the metastore:\n%s\n%s", data, again)
	}
}

func TestRoundTripSQLiteMetastore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metastore.db")
	ms := "--metastore=sqlite:" + path
	payload := []byte{0, 1, 2, 0xff, '\n'} // binary-safe: bytes in, same bytes out
	ident := []string{"--service=svc", "--product=prod", "--partition=p1"}

	transport := mustRun(t, payload, append([]string{"encrypt", ms}, ident...)...)
	decodeTransport(t, transport)

	if got := mustRun(t, transport, append([]string{"decrypt", ms}, ident...)...); !bytes.Equal(got, payload) {
		t.Fatalf("decrypt: got %q, want %q", got, payload)
	}

	// Another partition of the same service/product cannot open it.
	if _, err := runCLI(t, transport, "decrypt", ms, "--service=svc", "--product=prod", "--partition=p2"); err == nil {
		t.Fatal("decrypt with another partition succeeded")
	}

	rows := sqliteRows(t, path)
	if len(rows) != 2 {
		t.Fatalf("want 2 rows, got %v", rows)
	}

	utcSecond := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00$`)

	for id, row := range rows {
		if !utcSecond.MatchString(row.created) {
			t.Errorf("%s: created column %q is not UTC `YYYY-MM-DD HH:MM:SS+00:00`", id, row.created)
		}

		var record struct{ Created int64 }
		if err := json.Unmarshal([]byte(row.keyRecord), &record); err != nil {
			t.Fatalf("%s: key_record %q: %v", id, row.keyRecord, err)
		}

		if want := time.Unix(record.Created, 0).UTC().Format("2006-01-02 15:04:05+00:00"); row.created != want {
			t.Errorf("%s: created column %q, key_record Created %d = %q", id, row.created, record.Created, want)
		}
	}
}

func TestDecryptSpecVectorsJSONMetastore(t *testing.T) {
	v := loadVectors(t)
	path := filepath.Join(t.TempDir(), "metastore.json")

	data, err := os.ReadFile("../../testdata/spec-2.8-metastore.json")
	if err != nil {
		t.Fatal(err)
	}

	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	got := mustRun(t, []byte(v.DRRTransportBase64+"\n"), "decrypt", "--metastore=json:"+path,
		"--service="+v.Service, "--product="+v.Product, "--partition="+v.Partition, "--static-key="+v.StaticMasterKey)
	if string(got) != v.Payload {
		t.Fatalf("got %q, want %q", got, v.Payload)
	}
}

func TestDecryptSpecVectorsSQLiteMetastore(t *testing.T) {
	v := loadVectors(t)
	path := filepath.Join(t.TempDir(), "metastore.db")
	insertSpecRows(t, path, v)

	got := mustRun(t, []byte(v.DRRTransportBase64), "decrypt", "--metastore=sqlite:"+path,
		"--service="+v.Service, "--product="+v.Product, "--partition="+v.Partition)
	if string(got) != v.Payload {
		t.Fatalf("got %q, want %q", got, v.Payload)
	}
}

// TestDecryptToleratesForeignJSON: the docs/compatibility.md#test-vectors DRR re-encoded the way other producers
// write it (the Python sidecar's spaces and Data-first order, lowercase keys) still decrypts
// (docs/compatibility.md#json-encoding-and-decoding decoding rules, docs/compatibility.md#cross-language-suite).
func TestDecryptToleratesForeignJSON(t *testing.T) {
	v := loadVectors(t)
	path := filepath.Join(t.TempDir(), "metastore.db")
	insertSpecRows(t, path, v)

	var drr struct {
		Key struct {
			Created       int64
			Key           string
			ParentKeyMeta struct {
				KeyID   string `json:"KeyId"`
				Created int64
			}
		}
		Data string
	}
	if err := json.Unmarshal([]byte(v.DRRJSON), &drr); err != nil {
		t.Fatal(err)
	}

	foreign := `{"data": "` + drr.Data + `", "key": {"parentKeyMeta": {"keyId": "` + drr.Key.ParentKeyMeta.KeyID +
		`", "created": ` + jsonInt(drr.Key.ParentKeyMeta.Created) + `}, "key": "` + drr.Key.Key + `", "created": ` +
		jsonInt(drr.Key.Created) + `, "Revoked": false}}`

	got := mustRun(t, []byte(base64.StdEncoding.EncodeToString([]byte(foreign))), "decrypt",
		"--metastore=sqlite:"+path, "--service="+v.Service, "--product="+v.Product, "--partition="+v.Partition)
	if string(got) != v.Payload {
		t.Fatalf("got %q, want %q", got, v.Payload)
	}
}

func TestDecryptRejectsWrongKeyAndBadInput(t *testing.T) {
	v := loadVectors(t)
	path := filepath.Join(t.TempDir(), "metastore.db")
	insertSpecRows(t, path, v)
	base := []string{"decrypt", "--metastore=sqlite:" + path, "--service=" + v.Service, "--product=" + v.Product,
		"--partition=" + v.Partition}

	cases := map[string]struct {
		stdin string
		extra []string
	}{
		"wrong static key": {v.DRRTransportBase64, []string{"--static-key=" + strings.Repeat("k", 32)}},
		"short static key": {v.DRRTransportBase64, []string{"--static-key=short"}},
		"not base64":       {"{not base64}", nil},
		"not a DRR":        {base64.StdEncoding.EncodeToString([]byte(`{"Data":"AAAA"}`)), nil},
	}

	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := runCLI(t, []byte(c.stdin), append(append([]string{}, base...), c.extra...)...)
			if err == nil {
				t.Fatalf("succeeded with output %q", out)
			}

			if len(out) != 0 {
				t.Fatalf("wrote %q on failure", out)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"no subcommand":     nil,
		"unknown":           {"rotate", "--metastore=json:x"},
		"missing metastore": {"encrypt"},
		"bad metastore":     {"encrypt", "--metastore=postgres:x"},
		"bad MySQL DSN":     {"encrypt", "--metastore=mysql:dsn"},
		"unknown flag":      {"encrypt", "--metastore=json:x", "--nope"},
		"extra argument":    {"encrypt", "--metastore=json:x", "extra"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := runCLI(t, nil, args...); !errors.Is(err, errUsage) {
				t.Fatalf("want a usage error, got %v", err)
			}
		})
	}
}

// TestBinary runs the test binary as the command: payload through stdin/stdout, exit statuses, and a SQLite row
// written under a non-UTC TZ still stores UTC.
func TestBinary(t *testing.T) {
	dir := t.TempDir()
	ms := "--metastore=sqlite:" + filepath.Join(dir, "m.db")
	payload := []byte("payload through a real process")

	cli := func(stdin []byte, args ...string) ([]byte, int) {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), runAsCLI+"=1", "TZ=Asia/Kolkata")
		cmd.Stdin = bytes.NewReader(stdin)

		var stderr bytes.Buffer
		cmd.Stderr = &stderr

		out, err := cmd.Output()

		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Logf("interop %v: exit %d: %s", args, exit.ExitCode(), stderr.String())
			return out, exit.ExitCode()
		}

		if err != nil {
			t.Fatal(err)
		}

		return out, 0
	}

	transport, code := cli(payload, "encrypt", ms)
	if code != 0 {
		t.Fatalf("encrypt exited %d", code)
	}

	decodeTransport(t, transport)

	if got, code := cli(transport, "decrypt", ms); code != 0 || !bytes.Equal(got, payload) {
		t.Fatalf("decrypt: exit %d, got %q", code, got)
	}

	if _, code := cli(transport, "decrypt", ms, "--partition=other"); code != 1 {
		t.Fatalf("decrypt with another partition: exit %d, want 1", code)
	}

	if _, code := cli(nil, "encrypt"); code != 2 {
		t.Fatalf("missing --metastore: exit %d, want 2", code)
	}

	for id, row := range sqliteRows(t, filepath.Join(dir, "m.db")) {
		if !strings.HasSuffix(row.created, "+00:00") {
			t.Errorf("%s: created %q written under TZ=Asia/Kolkata is not UTC", id, row.created)
		}
	}
}

type sqliteRow struct{ created, keyRecord string }

func sqliteRows(t *testing.T, path string) map[string]sqliteRow {
	t.Helper()

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	rs, err := db.Query("SELECT id, CAST(created AS TEXT), key_record FROM encryption_key")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()

	rows := map[string]sqliteRow{}

	for rs.Next() {
		var id string

		var row sqliteRow
		if err := rs.Scan(&id, &row.created, &row.keyRecord); err != nil {
			t.Fatal(err)
		}

		rows[id] = row
	}

	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}

	return rows
}

// insertSpecRows writes the docs/compatibility.md#test-vectors rows into a new SQLite metastore with plain SQL,
// `created` as the text the Rust SQLite metastore binds, so the Go decrypt below proves the two agree on the column
// format.
func insertSpecRows(t *testing.T, path string, v specVectors) {
	t.Helper()

	m, err := openSQLite(path) // creates the table
	if err != nil {
		t.Fatal(err)
	}

	if err := m.close(); err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	for _, row := range loadSpecRows(t) {
		created, ok := v.SQLiteCreatedColumn[row.ID]
		if !ok {
			t.Fatalf("no sqlite_created_column for %s", row.ID)
		}

		if want := time.Unix(row.Created, 0).UTC().Format("2006-01-02 15:04:05+00:00"); created != want {
			t.Fatalf("%s: sqlite_created_column %q, want %q", row.ID, created, want)
		}

		if _, err := db.Exec("INSERT INTO encryption_key (id, created, key_record) VALUES (?, ?, ?)",
			row.ID, created, string(row.KeyRecord)); err != nil {
			t.Fatal(err)
		}
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
