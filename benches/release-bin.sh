#!/bin/sh
# Prints the path of the release `overwatch` binary. `.cargo/config.toml` builds for the host
# tuple explicitly (so the binary can be linked statically without touching proc-macros), which
# puts artifacts under target/<host tuple>/ rather than target/. Honours CARGO_TARGET_DIR.
# Usage: benches/release-bin.sh   (run from anywhere; prints an absolute path, builds nothing)
set -eu
cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
echo "$(realpath -m "${CARGO_TARGET_DIR:-target}")/$host/release/overwatch"
