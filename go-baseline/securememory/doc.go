// Package securememory holds only benchmarks (secret_bench_test.go): mirrors of upstream's securememory
// benchmarks (spec §11.2) for both secret factories, protectedmemory and memguard, under upstream's exact names.
// Upstream's own versions run in place from the module cache (scripts/go-bench.sh); these mirrors exist so that the
// lab's mirror set is complete in one module and runs with a plain `go test -bench . ./...`:
//
//	go test ./securememory -run '^$' -bench . -benchmem -cpu=$(nproc)
//
// Differences from upstream, all deliberate: contents are compared with bytes.Equal and failures reported with
// b.Error (upstream uses testify's assert inside the loop, which adds a reflective check per op; the Rust benches
// compare with a plain slice comparison); the two *ConcurrentClose benchmarks are not behind the `race_tests` build
// tag, so `go test -bench .` runs them without extra flags.
package securememory
