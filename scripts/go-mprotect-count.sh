#!/usr/bin/env bash
# Count the mprotect calls of Go's securememory mirrors (go-baseline/securememory): the Go half of the
# "protection changes per 1,000 ops" column of `lab securememory`. Each mirror benchmark runs once per -cpu value
# with a fixed number of ops (-benchtime=<OPS>x) under `strace -f -c -e trace=mprotect`, and so does
# BenchmarkCalibrationNoop (an empty RunParallel loop in the same test binary) at the same -cpu and ops: the
# mprotect calls that the Go runtime and the testing package make by themselves. `lab securememory` parses the
# file this writes (harness/src/securememory/mprotect.rs) and subtracts the no-op's count.
#
# What is left after the subtraction is the benchmark's own calls: OPS + 1 ops (Go runs every benchmark once with
# b.N = 1 before the timed run), plus the secret's creation and one untimed check — a handful of calls, under
# 1 per 1,000 ops at the default OPS. strace stops the thread at every traced call, which makes each mprotect
# slower than it is: an access window stays open longer, more workers join it, and so with more than one worker
# the count can come out lower than without strace.
#
#   scripts/go-mprotect-count.sh            → reports/results/go-mprotect-<UTC>.txt (about a minute on 2 cores)
#
# Environment:
#   OPS=20000      ops per benchmark run (-benchtime=<OPS>x)
#   CPU=1,2,4      -cpu values, one strace'd run each
#   BENCH=.        extended regexp (grep -E) selecting the mirror benchmarks to count
#   OUT=<file>     where to write (default reports/results/go-mprotect-<UTC>.txt)
#
# Needs Go and strace (scripts/setup.sh installs strace).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

OPS="${OPS:-20000}"
CPU="${CPU:-1,2,4}"
BENCH="${BENCH:-.}"
out="${OUT:-reports/results/go-mprotect-$(date -u +%Y%m%dT%H%M%SZ).txt}"
case "$out" in /*) ;; *) out="$root/$out" ;; esac

for tool in go strace; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "go-mprotect-count: $tool is required (scripts/setup.sh installs strace)" >&2
        exit 1
    fi
done

# The same memlock limit as the timed runs of `lab securememory`: unlimited when it can be raised, else as is.
limits=()
memlock_note="unlimited"
if prlimit --memlock=unlimited true 2>/dev/null; then
    limits=(prlimit --memlock=unlimited)
else
    memlock_note="$(ulimit -l) KiB (could not raise it to unlimited)"
fi
# Fewer stops when strace can filter in the kernel (strace ≥ 5.3).
strace_args=(-f -c -e trace=mprotect)
if strace --seccomp-bpf -f -c -e trace=mprotect -o /dev/null true 2>/dev/null; then
    strace_args=(--seccomp-bpf "${strace_args[@]}")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
exe="$work/securememory.test"
(cd go-baseline && go test -c --tags=race_tests -o "$exe" ./securememory)

names=$("$exe" -test.list '^Benchmark' | grep -v '^BenchmarkCalibrationNoop$' | grep -E "$BENCH" || true)
if [ -z "$names" ]; then
    echo "go-mprotect-count: BENCH='$BENCH' selects no benchmark" >&2
    exit 2
fi

mkdir -p "$(dirname "$out")"
{
    echo "lab-runner: scripts/go-mprotect-count.sh"
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "go-version: $(go env GOVERSION)"
    echo "strace: $(strace -V | head -n 1)"
    echo "ops: $OPS"
    echo "memlock: $memlock_note"
    echo
} > "$out"

cd go-baseline/securememory
for cpu in ${CPU//,/ }; do
    for name in BenchmarkCalibrationNoop $names; do
        # prlimit outside strace, so its own calls are not counted.
        if ! "${limits[@]}" strace "${strace_args[@]}" -o "$work/strace.txt" "$exe" -test.run '^$' \
            -test.bench "^${name}\$" -test.benchtime "${OPS}x" -test.cpu "$cpu" -test.count 1 \
            >"$work/bench.txt" 2>&1; then
            echo "go-mprotect-count: $name -cpu $cpu failed:" >&2
            tail -n 15 "$work/bench.txt" >&2
            exit 1
        fi
        {
            echo "== $name cpu=$cpu ops=$OPS"
            cat "$work/strace.txt"
            echo
        } >> "$out"
    done
done
echo "go-mprotect-count: wrote ${out#"$root"/}"
