#!/usr/bin/env bash
# Passthrough benchmark: how long `cat` of a large file (default 200 MB) takes inside
# `overwatch run` versus directly in a tmux pane of the same size (120x40), and the peak RSS (VmHWM
# from /proc) of overwatch and of each tmux server. Both cases run in a fresh private tmux server,
# so the only difference is overwatch's PTY → terminal model → ratatui path in the middle.
#
# Usage: benches/passthrough.sh            (uses benches/release-bin.sh, builds nothing)
#        OVERWATCH_BIN=path SIZE_MB=200 benches/passthrough.sh
# Needs: tmux, base64, a built overwatch with the `run` subcommand.
#
# Measured 2026-11-21 (release build of app-ui's `overwatch run`, 2 shared CPUs at load ~13, so
# absolute numbers are low): 212 MB — tmux alone 27.5 s (7.7 MB/s), inside overwatch 17.6 s
# (12.1 MB/s; overwatch draws at a frame cap so tmux sees far fewer bytes); overwatch peak RSS
# 24 MiB, tmux server 5 MiB. model_feed (criterion) at the same load: 25 MiB/s.
set -euo pipefail

SIZE_MB=${SIZE_MB:-200}
COLS=120
ROWS=40
TIMEOUT_S=${TIMEOUT_S:-600}

# shellcheck source=benches/tmux-cat.sh
source "$(dirname "$0")/tmux-cat.sh"
bench_init passthrough

# Text like a long build log: 76-column lines of base64 (not compressible, no escape sequences).
data=$work/data.txt
head -c $((SIZE_MB * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 >"$data"
bytes=$(stat -c %s "$data")

vmhwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo "?"; }

# run_case NAME WRAPPER… : runs `WRAPPER… bash -c 'time cat'` in a fresh tmux server and prints
# the cat wall time, throughput and peak RSS of the pane's process and the tmux server.
run_case() {
    local name=$1; shift
    local sock="ow-pass-$$-$name" done_file="$work/$name.ns"
    timed_cat "passthrough: $name" "$sock" "$data" "$done_file" "sleep 30" "$@" || return 1
    local pane_pid server_pid
    pane_pid=$(tmux -L "$sock" display -p -t bench '#{pane_pid}')
    server_pid=$(tmux -L "$sock" display -p -t bench '#{pid}')
    local ns pane_rss server_rss
    ns=$(cat "$done_file")
    pane_rss=$(vmhwm_kb "$pane_pid")
    server_rss=$(vmhwm_kb "$server_pid")
    tmux -L "$sock" kill-server 2>/dev/null || true
    awk -v name="$name" -v ns="$ns" -v b="$bytes" -v prss="$pane_rss" -v srss="$server_rss" 'BEGIN {
        s = ns / 1e9
        printf "%-10s cat %.1f MB in %6.2f s = %7.1f MB/s   peak RSS: pane process %s KiB, tmux server %s KiB\n",
            name, b / 1e6, s, b / 1e6 / s, prss, srss
    }'
}

echo "passthrough: ${COLS}x${ROWS}, $((bytes / 1000000)) MB file, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
run_case tmux env
run_case overwatch "$BIN" run --
