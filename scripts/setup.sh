#!/usr/bin/env bash
# Install what the lab needs, idempotently: the pinned Rust toolchain (rust-toolchain.toml) with rustfmt and
# clippy, and the few system tools the tests call (setpriv and prlimit from util-linux).
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
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq util-linux >/dev/null
    else
        echo "setup: please install util-linux (setpriv, prlimit)" >&2
        exit 1
    fi
fi
mkdir -p "$CARGO_TARGET_DIR" "$LOOM_TARGET_DIR"
