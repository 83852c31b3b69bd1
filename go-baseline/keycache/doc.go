// Package keycache holds only benchmarks: public-API mirrors of upstream's appencryption-internal benchmarks
// (docs/compatibility.md#go-benchmarks-mirrored: the twelve BenchmarkKeyCache_* benchmarks, BenchmarkGenerateKey,
// BenchmarkCountMinSketchReset) under upstream's exact names. Upstream's own versions use unexported or `internal`
// code that no other module can import; they run in place from the module cache through scripts/go-bench.sh and are
// the reference figures. Each file's header says what the mirror can and cannot reproduce.
//
//	go test ./keycache -run '^$' -bench . -benchmem -cpu=$(nproc)
package keycache
