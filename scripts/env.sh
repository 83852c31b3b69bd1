# Shared settings for the lab's scripts. Source it; don't run it.
# A fixed build cache outside the clone, so repeated runs (and CI on the same machine) reuse builds.
export LAB_CACHE="${LAB_CACHE:-$HOME/.cache/asherah-lab}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$LAB_CACHE/target}"
# loom rebuilds everything with --cfg loom: keep it in its own target dir so it never invalidates the main one.
export LOOM_TARGET_DIR="${LOOM_TARGET_DIR:-$LAB_CACHE/loom-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export PATH="$HOME/.cargo/bin:$PATH"
# Secrets are mlocked: lift the memlock limit where allowed (root may; others keep their limit).
ulimit -l unlimited 2>/dev/null || true
