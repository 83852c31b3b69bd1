#!/usr/bin/env bash
# Install what the lab needs, idempotently: the pinned Rust toolchain (rust-toolchain.toml) with rustfmt and
# clippy, the few system tools the tests call (setpriv and prlimit from util-linux), and the regression gate's
# instruction counter (valgrind and gungraun-runner, at the version of the workspace's `gungraun`).
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
