#!/bin/sh
# Gate measures (issue 5): whole-process hook decision in a session and standalone (median and p90
# over 200 runs), peak RSS of the hook process (/usr/bin/time -v), and the PATH shim's overhead on
# an allowed exec compared with exec-ing /bin/true directly in the same run.
#
# The hook and shim run from the release binary; the gate server runs in-process in the test
# harness (src/gate/e2e_tests.rs::bench_hook_and_shim), as it runs inside `overwatch run`. The
# harness is built in release too: a debug server would add its own slowness to every answer.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --bin overwatch
OVERWATCH_BENCH_BIN="$(benches/release-bin.sh)" \
    cargo test --release --lib gate::e2e_tests::bench_hook_and_shim -- --ignored --nocapture \
    | grep -v '^test \|^running\|^$\|test result'
