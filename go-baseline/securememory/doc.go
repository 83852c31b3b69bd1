// Package securememory holds only benchmarks (secret_bench_test.go): mirrors of upstream's securememory
// benchmarks (docs/compatibility.md#go-benchmarks-mirrored) for both secret factories, protectedmemory and memguard,
// under upstream's exact names. Upstream's own versions run in place from the module cache (scripts/go-bench.sh);
// these mirrors exist so that the lab's mirror set is complete in one module and runs with a plain `go test -bench .
// ./...`:
//
//	go test ./securememory -run '^$' -bench . -benchmem -cpu=$(nproc)
//
// Differences from upstream, all deliberate: contents are compared with bytes.Equal and failures reported with
// b.Error (upstream uses testify's assert inside the loop, which adds a reflective check per op; the Rust benches
// compare with a plain slice comparison); the two *ConcurrentClose benchmarks are not behind the `race_tests` build
// tag, so `go test -bench .` runs them without extra flags.
//
// calibration_test.go adds BenchmarkCalibrationNoop, which mirrors nothing: scripts/go-mprotect-count.sh counts its
// mprotect calls (the Go runtime's own) and subtracts them from each mirror's.
package securememory
