// Package integration holds only benchmarks (integration_bench_test.go): our mirror of the upstream integration
// benchmarks (module github.com/godaddy/asherah/go/appencryption/integrationtest, which is untagged and so cannot be
// required from the module proxy), written from docs/compatibility.md#go-benchmarks-mirrored. The payload-size
// series is in ../payload.
//
//	go test ./integration -run '^$' -bench . -benchmem -cpu=$(nproc)
package integration
