#!/usr/bin/env sh
# Runs the parser+unwrapper fuzz target briefly (CI). Usage: fuzz/run-brief.sh [SECONDS]
#
# With cargo-fuzz and a nightly toolchain: libFuzzer for SECONDS (default 30).
# Otherwise (stable only, as on the build machine): the deterministic stable smoke fuzzer
# `rules::tests::fuzz_smoke` in the already-built debug test binary, scaled to roughly SECONDS
# with OVERWATCH_FUZZ_CASES and a time-based seed (printed, to reproduce a failure).
# Either way a panic or a violated invariant fails the script.
set -eu
secs="${1:-30}"
cd "$(dirname "$0")/.."
if command -v cargo-fuzz >/dev/null 2>&1 && rustup toolchain list 2>/dev/null | grep -q nightly; then
    exec cargo +nightly fuzz run parse_unwrap -- -max_total_time="$secs" -max_len=4096
fi
echo "cargo-fuzz/nightly not available: running the stable smoke fuzzer (~${secs}s)" >&2
# About 600 inputs per second in a debug build on the 2-core build machine (measured).
cases=$((secs * 600))
seed="$(date +%s)"
echo "seed $seed, $cases inputs (reproduce: OVERWATCH_FUZZ_SEED=$seed OVERWATCH_FUZZ_CASES=$cases)" >&2
OVERWATCH_FUZZ_SEED="$seed" OVERWATCH_FUZZ_CASES="$cases" \
    cargo test --lib rules::tests::fuzz_smoke -- --exact
