#!/usr/bin/env bash
# Print a markdown table of each go-baseline mirror beside upstream's own benchmark of the same name, from one
# `scripts/go-bench.sh` output file (default: the newest reports/results/go-bench-*.txt). Cells are the median
# ns/op over the run's -count repetitions (and the count); the last column is mirror ÷ upstream. Benchmarks with no
# upstream counterpart in the file (integration, payload) are listed with the upstream cell empty.
#
#   scripts/go-mirror-table.sh [reports/results/go-bench-<date>.txt]
set -euo pipefail
cd "$(dirname "$0")/.."

file="${1:-$(ls -t reports/results/go-bench-*.txt 2>/dev/null | head -n 1)}"
if [ -z "$file" ] || [ ! -f "$file" ]; then
    echo "go-mirror-table: no go-bench output (run scripts/go-bench.sh first)" >&2
    exit 1
fi

echo "Go mirrors beside upstream's own benchmarks — \`$file\` ($(sed -n 's/^date: //p' "$file" | head -n 1), \
$(sed -n 's/^go-version: //p' "$file" | head -n 1), -cpu $(sed -n 's/^bench-cpu: //p' "$file" | head -n 1))"
echo
echo "| benchmark | mirror package | upstream ns/op | mirror ns/op | mirror ÷ upstream |"
echo "|---|---|---:|---:|---:|"

# 1. one line per measurement: <side> <name> <package> <ns/op>; the -<GOMAXPROCS> suffix is dropped.
awk '
    /^pkg: / { pkg = $2; next }
    /^Benchmark/ && $4 == "ns/op" {
        name = $1; sub(/-[0-9]+$/, "", name)
        side = (pkg ~ /^github\.com\/godaddy\//) ? "upstream" : "mirror"
        short = pkg; sub(/^asherahlab\/go-baseline\//, "./", short)
        print side, name, short, $3
    }
' "$file" | sort -k1,1 -k2,2 -k4,4g |
# 2. the median per (side, name), then one row per mirrored name, sorted by package and name.
awk '
    function flush() {
        if (key == "") return
        n = count
        med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        median[key] = med; runs[key] = n
    }
    {
        k = $1 " " $2
        if (k != key) { flush(); key = k; count = 0 }
        v[++count] = $4
        if ($1 == "mirror") { pkgof[$2] = $3; if (!($2 in seen)) { seen[$2] = 1; order[++names] = $2 } }
    }
    END {
        flush()
        for (i = 1; i <= names; i++) {
            nm = order[i]; m = "mirror " nm; u = "upstream " nm
            up = (u in median) ? sprintf("%.0f (n=%d)", median[u], runs[u]) : ""
            ratio = (u in median && median[u] > 0) ? sprintf("%.2f", median[m] / median[u]) : ""
            printf "| `%s` | `%s` | %s | %.0f (n=%d) | %s |\n", nm, pkgof[nm], up, median[m], runs[m], ratio
        }
    }
' | sort -t'|' -k3,3 -k2,2
