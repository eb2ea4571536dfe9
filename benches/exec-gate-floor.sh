#!/usr/bin/env bash
# The floor under `cargo bench --bench exec_gate`: a bare seccomp user-notification supervisor
# (poll, receive, answer CONTINUE; nothing read, nothing decided) on the same /bin/true loop.
# What is left of the exec gate's added time per exec once overwatch's own work is zero.
# Usage: benches/exec-gate-floor.sh [EXECS [ROUNDS]]   (Linux >= 5.6, x86_64, a C compiler)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(mktemp -d)/exec-gate-floor
trap 'rm -rf "$(dirname "$bin")"' EXIT
cc -O2 -Wall -o "$bin" "$here/exec-gate-floor.c"
"$bin" "${1:-1000}" "${2:-9}"
