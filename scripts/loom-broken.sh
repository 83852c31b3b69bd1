#!/usr/bin/env bash
# Show that each securememory loom model catches what it claims to: run every model against a deliberately
# broken variant of the state machine (selected at run time by SECUREMEMORY_LOOM_BROKEN, compiled in under
# --cfg loom only; see `broken` in impl/securememory/src/state.rs) and require it to FAIL. Exits 1 if a model
# passes on a broken variant.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
export RUSTFLAGS="--cfg loom -D warnings" CARGO_TARGET_DIR="$LOOM_TARGET_DIR"

# model (test name) : the variant that breaks the property it checks
pairs=(
    "loom_readers_share_a_window_that_is_readable_exactly_while_in_flight:last-out-keeps-window-open"
    "loom_close_racing_with_accesses_never_touches_freed_memory:close-skips-wait"
    "loom_concurrent_closers_destroy_once_and_both_return:second-close-destroys-again"
    "loom_panicking_accessor_leaves_a_consistent_state:panic-skips-release"
    "loom_grace_of_a_shared_window_ends_shut_and_yields_to_close:grace-expiry-skips-shut"
)
cargo test -p securememory --release --lib --no-run 2>&1 | tail -n 1
failed=0
for pair in "${pairs[@]}"; do
    model="${pair%%:*}"
    variant="${pair##*:}"
    if SECUREMEMORY_LOOM_BROKEN="$variant" cargo test -q -p securememory --release --lib "loom_models::$model" \
        -- --exact >/dev/null 2>&1; then
        echo "loom-broken: $model PASSED on broken variant '$variant': the model does not catch it" >&2
        failed=1
    else
        echo "loom-broken: $model fails on '$variant', as it must"
    fi
done
exit "$failed"
