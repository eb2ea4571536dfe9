#!/usr/bin/env bash
# Memory bound of `overwatch run`: 1 GiB of output (150-column lines) through a release build in a
# 160x45 tmux pane; prints overwatch's peak RSS (VmHWM) and the wall time. Target: ≤ 60 MB (the
# scrollback is bounded, the PTY channel is bounded). Usage: benches/rss_1g.sh  (needs tmux)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="$(benches/release-bin.sh)"
sock="ow-rss-$$"
tmux -L "$sock" new-session -d -x 160 -y 45 \
  "$bin run --no-record --no-exec-gate --exit-with-agent -- bash -c 'head -c 1073741824 /dev/zero | tr \"\\\\0\" x | fold -w 150'; sleep 5"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true' EXIT
sleep 1
pid=$(pgrep -n -x overwatch)
start=$(date +%s.%N)
peak=""
while kill -0 "$pid" 2>/dev/null; do
  h=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$h" ] && peak=$h
  sleep 1
done
end=$(date +%s.%N)
echo "1 GiB through overwatch run: peak RSS ${peak} kB, $(echo "$end - $start" | bc) s"
