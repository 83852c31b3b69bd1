//go:build tools

// Package gobaseline holds no code of its own. This file only exists so that `go mod tidy` keeps the test-only
// dependencies of the upstream packages whose benchmarks we run in place from the module cache
// (`go test github.com/godaddy/asherah/go/...`): testify is imported by their _test.go files, and Go's module graph
// pruning would otherwise drop it from go.mod/go.sum (tests of dependencies are outside `all`). The `tools` build tag
// is never set, so nothing here is ever compiled.
package gobaseline

import (
	// The packages whose benchmarks scripts/go-bench.sh runs (kept as direct, pinned requirements).
	_ "github.com/godaddy/asherah/go/appencryption"
	_ "github.com/godaddy/asherah/go/securememory/memguard"
	_ "github.com/godaddy/asherah/go/securememory/protectedmemory"

	// Test-only imports of those packages' _test.go files.
	_ "github.com/stretchr/testify/assert"
	_ "github.com/stretchr/testify/mock"
	_ "github.com/stretchr/testify/require"
	_ "github.com/stretchr/testify/suite"
)
