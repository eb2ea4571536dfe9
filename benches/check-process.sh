#!/usr/bin/env bash
# Whole-process time of `overwatch check` (a new process per command, as a PATH shim or a hook
# adapter would start it): load the embedded packs, detect the context, parse, evaluate, print.
# Target from the rule-engine issue: ≤ 3 ms median. Uses a temp HOME with a production
# kubeconfig so the context probes do real work. Times RUNS runs per command with hyperfine if
# installed, else a bash loop around date +%s%N, and prints the median. Also times `true`
# through the same loop: the process-spawn floor of this machine.
#
# Usage: benches/check-process.sh [path/to/overwatch]   (default: benches/release-bin.sh; build
#        it with `cargo build --release`). RUNS=200 by default.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-$(benches/release-bin.sh)}")
RUNS=${RUNS:-200}
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release)" >&2; exit 2; }

ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/home/.kube" "$ROOT/proj"
cat >"$ROOT/home/.kube/config" <<'K'
apiVersion: v1
kind: Config
current-context: prod-eu
clusters:
- {name: prod-eu, cluster: {server: "https://k8s.prod-eu.example.com"}}
contexts:
- {name: prod-eu, context: {cluster: prod-eu, user: admin, namespace: payments}}
users:
- {name: admin, user: {token: bench-token}}
K
cd "$ROOT/proj"
export HOME="$ROOT/home" XDG_CONFIG_HOME="$ROOT/home/.config" XDG_DATA_HOME="$ROOT/home/.local/share"

median_ms() { # command...
  local i t0 t1 times=()
  for ((i = 0; i < RUNS; i++)); do
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f ms median (p90 %.2f ms, n=%d)\n", a[int((NR+1)/2)]/1000, a[int(NR*0.9)]/1000, NR}'
}

CMDS=("git status" "kubectl delete ns payments" "sudo bash -c 'rm -rf ~/work' && echo cm0gLXJmIH4v | base64 -d | sh")
if command -v hyperfine >/dev/null; then
  # One hyperfine run, the floor (`/bin/true`) and every command interleaved round by round is
  # not possible; running them back to back in one invocation keeps them in the same minute.
  # The target is a median, so report hyperfine's median (CSV column 4), not its mean.
  args=(/bin/true)
  for cmd in "${CMDS[@]}"; do args+=("$BIN check --command \"$cmd\""); done
  hyperfine -N --warmup 20 --runs "$RUNS" -i --export-csv "$ROOT/times.csv" "${args[@]}" >/dev/null 2>&1
  awk -F, 'NR > 1 {c = $1; gsub(/"/, "", c); sub(/.*check --command /, "check ", c); printf "%-70s %.2f ms median (mean %.2f, n='"$RUNS"')\n", c, $4 * 1000, $2 * 1000}' "$ROOT/times.csv"
else
  for cmd in "${CMDS[@]}"; do
    printf '%-70s ' "overwatch check --command '$cmd'"
    median_ms "$BIN" check --command "$cmd"
  done
  printf '%-70s ' "spawn floor: true"
  median_ms true
fi
