// Package payload holds only benchmarks (payload_bench_test.go): the hot-path payload-size series of the Rust lab
// (no upstream counterpart), written against upstream's public API: Encrypt / Decrypt on one warm session at 64 B,
// 1 KiB and 16 KiB, struct to struct (DataRowRecord in, DataRowRecord out) and JSON to JSON (payload → DRR JSON
// bytes, DRR JSON bytes → payload), and encoding/json of a DRR alone.
//
//	go test ./payload -run '^$' -bench . -benchmem
package payload
