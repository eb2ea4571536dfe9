#!/usr/bin/env sh
# Runs the parser+unwrapper fuzz target briefly (CI). Usage: fuzz/run-brief.sh [SECONDS]
#
# With cargo-fuzz and a nightly toolchain: libFuzzer for SECONDS (default 60).
# Otherwise (stable only, as on the build machine): the deterministic stable smoke run
# `fuzz_smoke`, scaled to roughly SECONDS with OVERWATCH_FUZZ_CASES and a time-based seed.
# Either way a panic or violated invariant fails the script.
set -eu
secs="${1:-60}"
cd "$(dirname "$0")/.."
if command -v cargo-fuzz >/dev/null 2>&1 && rustup toolchain list 2>/dev/null | grep -q nightly; then
    exec cargo +nightly fuzz run parse_unwrap -- -max_total_time="$secs" -max_len=4096
fi
echo "cargo-fuzz/nightly not available: running the stable smoke fuzzer (~${secs}s)" >&2
# About 1,500 inputs per second in a release build (measured); the seed varies per run.
cases=$((secs * 1500))
seed="$(date +%s)"
echo "seed $seed, $cases inputs (reproduce: OVERWATCH_FUZZ_SEED=$seed OVERWATCH_FUZZ_CASES=$cases)" >&2
OVERWATCH_FUZZ_SEED="$seed" OVERWATCH_FUZZ_CASES="$cases" \
    cargo test --release --bin overwatch rules::tests::fuzz_smoke -- --exact
