package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type encryptedItem struct {
	Partition string `json:"partition"`
	DRR       string `json:"drr"`
}

type decryptedItem struct {
	Partition string  `json:"partition"`
	Payload   *[]byte `json:"payload"`
	Error     string  `json:"error"`
}

func encryptBatchCLI(t *testing.T, items []batchItem, args ...string) []encryptedItem {
	t.Helper()

	in, err := json.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}

	var out []encryptedItem
	if err := json.Unmarshal(mustRun(t, in, append([]string{"encrypt-batch"}, args...)...), &out); err != nil {
		t.Fatal(err)
	}

	if len(out) != len(items) {
		t.Fatalf("encrypt-batch returned %d items for %d", len(out), len(items))
	}

	return out
}

func decryptBatchCLI(t *testing.T, items []encryptedItem, args ...string) []decryptedItem {
	t.Helper()

	in, err := json.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}

	var out []decryptedItem
	if err := json.Unmarshal(mustRun(t, in, append([]string{"decrypt-batch"}, args...)...), &out); err != nil {
		t.Fatal(err)
	}

	if len(out) != len(items) {
		t.Fatalf("decrypt-batch returned %d items for %d", len(out), len(items))
	}

	return out
}

// batchPayloads are the edge cases of the cross-language suite: empty, one byte, non-UTF-8, 64 KiB.
func batchPayloads() []batchItem {
	big := make([]byte, 64*1024)
	for i := range big {
		big[i] = byte(i * 7)
	}

	return []batchItem{
		{Payload: []byte{}},
		{Payload: []byte{0}},
		{Partition: "other", Payload: []byte{0xff, 0xfe, 0x80, 0xc3}},
		{Partition: "p<&>\u2028", Payload: big},
	}
}

func checkDecrypted(t *testing.T, in []batchItem, out []decryptedItem, defaultPartition string) {
	t.Helper()

	for i, got := range out {
		want := in[i]
		if got.Error != "" || got.Payload == nil {
			t.Fatalf("item %d: error %q, payload present %v", i, got.Error, got.Payload != nil)
		}

		if !bytes.Equal(*got.Payload, want.Payload) {
			t.Fatalf("item %d: payload differs (%d bytes, want %d)", i, len(*got.Payload), len(want.Payload))
		}

		wantPartition := want.Partition
		if wantPartition == "" {
			wantPartition = defaultPartition
		}

		if got.Partition != wantPartition {
			t.Fatalf("item %d: partition %q, want %q", i, got.Partition, wantPartition)
		}
	}
}

func TestBatchRoundTripEveryMetastore(t *testing.T) {
	dir := t.TempDir()

	for _, ms := range []string{"json:" + filepath.Join(dir, "m.json"), "sqlite:" + filepath.Join(dir, "m.db")} {
		t.Run(strings.SplitN(ms, ":", 2)[0], func(t *testing.T) {
			in := batchPayloads()
			enc := encryptBatchCLI(t, in, "--metastore", ms)

			for i, item := range enc {
				decodeTransport(t, []byte(item.DRR))

				if i > 0 && item.DRR == enc[i-1].DRR {
					t.Fatalf("items %d and %d encrypt to the same record", i-1, i)
				}
			}

			checkDecrypted(t, in, decryptBatchCLI(t, enc, "--metastore", ms), "partition")
		})
	}
}

func TestDecryptBatchReportsBadItemsAndGoesOn(t *testing.T) {
	ms := "json:" + filepath.Join(t.TempDir(), "m.json")
	enc := encryptBatchCLI(t, []batchItem{{Payload: []byte("one")}, {Payload: []byte("two")}}, "--metastore", ms)

	drrJSON, err := base64.StdEncoding.DecodeString(enc[0].DRR)
	if err != nil {
		t.Fatal(err)
	}

	var drr struct {
		Key  json.RawMessage
		Data []byte
	}
	if err := json.Unmarshal(drrJSON, &drr); err != nil {
		t.Fatal(err)
	}

	drr.Data[0] ^= 1

	tampered, err := json.Marshal(drr)
	if err != nil {
		t.Fatal(err)
	}

	items := []encryptedItem{
		{DRR: base64.StdEncoding.EncodeToString(tampered)},
		{DRR: "not base64!"},
		{Partition: "elsewhere", DRR: enc[1].DRR},
		enc[1],
	}
	out := decryptBatchCLI(t, items, "--metastore", ms)

	for i := 0; i < 3; i++ {
		if out[i].Error == "" || out[i].Payload != nil {
			t.Fatalf("item %d decrypted: %+v", i, out[i])
		}
	}

	if out[3].Error != "" || out[3].Payload == nil || string(*out[3].Payload) != "two" {
		t.Fatalf("good item after bad ones: %+v", out[3])
	}
}

func TestRegionSuffix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.json")
	ms := "json:" + path

	west := mustRun(t, []byte("from the west"), "encrypt", "--metastore", ms, "--region-suffix", "us-west-2")
	plain := mustRun(t, []byte("from no region"), "encrypt", "--metastore", ms)

	var rows []jsonRow

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatal(err)
	}

	ids := map[string]bool{}
	for _, r := range rows {
		ids[r.ID] = true
	}

	for _, id := range []string{
		"_SK_service_product_us-west-2", "_IK_partition_service_product_us-west-2",
		"_SK_service_product", "_IK_partition_service_product",
	} {
		if !ids[id] {
			t.Fatalf("no row %s in %v", id, ids)
		}
	}

	// A suffixed session of another region decrypts both (prefix rule,
	// docs/compatibility.md#partitions-and-region-suffixes); an unsuffixed one rejects the suffixed record.
	for transport, want := range map[string]string{string(west): "from the west", string(plain): "from no region"} {
		got := mustRun(t, []byte(transport), "decrypt", "--metastore", ms, "--region-suffix", "eu-west-1")
		if string(got) != want {
			t.Fatalf("eu-west-1 decrypt: %q, want %q", got, want)
		}
	}

	if _, err := runCLI(t, west, "decrypt", "--metastore", ms); err == nil {
		t.Fatal("an unsuffixed session decrypted a suffixed record")
	}
}

// TestMySQLMetastore runs against a real MySQL/MariaDB when ASHERAH_TEST_MYSQL_URL is set
// (mysql://user:pass@host:port/db, as scripts/services.sh exports it).
func TestMySQLMetastore(t *testing.T) {
	url := os.Getenv("ASHERAH_TEST_MYSQL_URL")
	if url == "" {
		fmt.Fprintln(os.Stderr, "!!! TestMySQLMetastore SKIPPED: ASHERAH_TEST_MYSQL_URL is not set (scripts/services.sh start mysql)")
		t.Skip("ASHERAH_TEST_MYSQL_URL is not set")
	}

	ms := "mysql:" + strings.TrimPrefix(url, "mysql:")
	// A partition of its own per run, so reruns on a long-lived database start from no IK.
	partition := fmt.Sprintf("interop-go-%d", os.Getpid())

	in := batchPayloads()
	for i := range in {
		if in[i].Partition != "" {
			in[i].Partition = partition + "-" + in[i].Partition
		}
	}

	enc := encryptBatchCLI(t, in, "--metastore", ms, "--partition", partition)
	checkDecrypted(t, in, decryptBatchCLI(t, enc, "--metastore", ms, "--partition", partition), partition)

	// The docs/compatibility.md#cross-language-suite flow: encrypt and decrypt in separate processes (here: calls), one
	// payload.
	transport := mustRun(t, []byte("mySuperSecretPayload"), "encrypt", "--metastore", ms, "--partition", partition)
	if got := mustRun(t, transport, "decrypt", "--metastore", ms, "--partition", partition); string(got) != "mySuperSecretPayload" {
		t.Fatalf("decrypt: %q", got)
	}
}
