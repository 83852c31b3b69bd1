#!/usr/bin/env bash
# Install what the lab needs, idempotently: the pinned Rust toolchain (rust-toolchain.toml) with rustfmt and
# clippy, the few system tools the tests and the lab call (setpriv and prlimit from util-linux, strace), the
# regression gate's instruction counter (valgrind and gungraun-runner, at the version of the workspace's `gungraun`),
# and the hardening jobs' tools: a nightly toolchain with miri and rust-src (fuzzing, sanitizers, Miri), cargo-fuzz
# and cargo-deny (pinned versions below).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

if ! command -v rustup >/dev/null 2>&1; then
    echo "setup: rustup is required (https://rustup.rs); it is not installed" >&2
    exit 1
fi
toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
if ! rustup run "$toolchain" cargo --version >/dev/null 2>&1; then
    rustup toolchain install "$toolchain" --profile minimal --component rustfmt,clippy
fi
for component in rustfmt clippy; do
    rustup component list --toolchain "$toolchain" --installed | grep -q "^$component" \
        || rustup component add --toolchain "$toolchain" "$component"
done

missing=()
for tool in setpriv prlimit; do
    command -v "$tool" >/dev/null 2>&1 || missing+=(util-linux)
done
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
# scripts/go-mprotect-count.sh counts Go's mprotect calls with `strace -c` (lab securememory's Go column).
command -v strace >/dev/null 2>&1 || missing+=(strace)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "setup: please install ${missing[*]}" >&2
        exit 1
    fi
fi

# gungraun-runner must match the library version exactly (Cargo.toml pins `gungraun = "=X.Y.Z"`).
gungraun_version=$(sed -n 's/^gungraun = "=\(.*\)"/\1/p' Cargo.toml)
if [ -n "$gungraun_version" ] && \
    [ "$(gungraun-runner --version 2>/dev/null | awk '{print $2}')" != "$gungraun_version" ]; then
    cargo install gungraun-runner --version "$gungraun_version" --locked
fi
mkdir -p "$CARGO_TARGET_DIR" "$LOOM_TARGET_DIR"

# Nightly for scripts/fuzz.sh and scripts/sanitize.sh (libFuzzer, -Zsanitizer, -Zbuild-std, Miri). The channel is
# not pinned to a date; override with ASHERAH_NIGHTLY (the scripts read the same variable).
nightly="${ASHERAH_NIGHTLY:-nightly}"
if ! rustup run "$nightly" cargo --version >/dev/null 2>&1; then
    rustup toolchain install "$nightly" --profile minimal --component miri,rust-src
fi
for component in miri rust-src; do
    rustup component list --toolchain "$nightly" --installed | grep -q "^$component" \
        || rustup component add --toolchain "$nightly" "$component"
done

# cargo-fuzz (scripts/fuzz.sh) and cargo-deny (deny.toml), at pinned versions; built with the pinned stable toolchain.
install_pinned() {
    local crate=$1 subcommand=$2 version=$3
    if [ "$(cargo "$subcommand" --version 2>/dev/null | awk '{print $2}')" != "$version" ]; then
        cargo install "$crate" --version "$version" --locked
    fi
}
install_pinned cargo-fuzz fuzz 0.13.2
install_pinned cargo-deny deny 0.20.2
