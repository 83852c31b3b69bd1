#!/usr/bin/env bash
# Run the Go side of the lab natively (docs/architecture.md#fair-comparison-with-go,
# docs/compatibility.md#go-benchmarks-mirrored): upstream's OWN securememory and appencryption-internal benchmarks
# straight from the module cache (pinned in go-baseline/go.mod; the reference column), then our mirrors
# (go-baseline/{securememory,keycache,integration,payload}, upstream's names). No -race; -benchmem; GOMAXPROCS =
# number of CPUs (RunParallel uses that many goroutines). Raw `go test` output goes to reports/results/go-bench-<UTC
# date>.txt.
#
# Environment:
#   COUNT=5        runs of each benchmark (-count)
#   BENCHTIME=1s   -benchtime per run
#   CPU=<nproc>    -cpu list, e.g. CPU=1,2 for a single-core and a full-width series
#   BENCH=.        -bench regexp, applied to every package
#   SET=all        which packages: `upstream` (upstream's own benchmarks, in place), `mirrors` (go-baseline's), `all`
#   PACKAGES="…"   space-separated packages to run instead of SET (e.g. only the two securememory ones)
#   GOFLAGS etc.   passed through to the go command as usual
#
# Needs only Go (the go command fetches the pinned modules); installs nothing outside the Go module/build caches.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

COUNT="${COUNT:-5}"
BENCHTIME="${BENCHTIME:-1s}"
CPU="${CPU:-$(nproc)}"
BENCH="${BENCH:-.}"

if ! command -v go >/dev/null 2>&1; then
    echo "go-bench: the go command is required (https://go.dev/dl/)" >&2
    exit 1
fi

# Upstream packages (run in place from the module cache) first, then our own benchmarks, each mirror package right
# after the upstream one it mirrors where there is one, so machine drift hits both alike.
upstream=(
    github.com/godaddy/asherah/go/securememory/protectedmemory
    github.com/godaddy/asherah/go/securememory/memguard
    github.com/godaddy/asherah/go/appencryption
    github.com/godaddy/asherah/go/appencryption/internal
    github.com/godaddy/asherah/go/appencryption/pkg/cache/internal
)
mirrors=(./securememory ./keycache ./integration ./payload)
case "${SET:-all}" in
    upstream) packages=("${upstream[@]}") ;;
    mirrors) packages=("${mirrors[@]}") ;;
    all) packages=("${upstream[@]:0:2}" ./securememory "${upstream[@]:2}" ./keycache ./integration ./payload) ;;
    *) echo "go-bench: SET must be upstream, mirrors or all (got '$SET')" >&2; exit 2 ;;
esac
if [ -n "${PACKAGES:-}" ]; then
    read -r -a packages <<< "$PACKAGES"
fi

# Secrets are mlocked and core dumps must be off (as upstream's CI does with prlimit). Raising the memlock limit
# needs CAP_SYS_RESOURCE; without it keep the current limit and say so.
limits=()
memlock_note="unlimited"
if command -v prlimit >/dev/null 2>&1; then
    if prlimit --memlock=unlimited --core=0 true 2>/dev/null; then
        limits=(prlimit --memlock=unlimited --core=0)
    else
        limits=(prlimit --core=0)
        memlock_note="$(ulimit -l) KiB (could not raise it to unlimited)"
        echo "go-bench: note: memlock limit stays at $memlock_note" >&2
    fi
else
    memlock_note="$(ulimit -l) KiB (prlimit not found; limits unchanged)"
    echo "go-bench: note: prlimit not found; running with the current limits (memlock $memlock_note)" >&2
fi

mkdir -p reports/results
out="reports/results/go-bench-$(date -u +%Y%m%dT%H%M%SZ).txt"

cd go-baseline
go mod download

{
    # `key: value` lines are configuration lines in Go's benchmark format: they travel with the results.
    echo "lab-runner: scripts/go-bench.sh"
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "go-version: $(go env GOVERSION)"
    echo "lab-commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "host-cpus: $(nproc)"
    echo "bench-count: $COUNT"
    echo "bench-time: $BENCHTIME"
    echo "bench-cpu: $CPU"
    echo "bench-set: ${PACKAGES:+custom}${PACKAGES:-${SET:-all}}"
    echo "memlock: $memlock_note"
    echo
} | tee "$root/$out"

status=0
for pkg in "${packages[@]}"; do
    # One package per `go test` so no two benchmark binaries ever run at the same time.
    if ! "${limits[@]}" go test "$pkg" -run '^$' -bench "$BENCH" -benchmem --tags=race_tests \
        -count="$COUNT" -benchtime="$BENCHTIME" -cpu="$CPU" -timeout=0 2>&1 | tee -a "$root/$out"; then
        status=1
        echo "go-bench: benchmarks of $pkg failed" >&2
    fi
done

echo "go-bench: wrote $out"
exit "$status"
