# Shared by benches/passthrough.sh and benches/record_overhead.sh (source it; bash only): times
# `cat` of a file inside a pane of a fresh private tmux server, COLS x ROWS, so each case sees
# the same terminal.

# bench_init NAME: resolves the overwatch binary ($OVERWATCH_BIN, default
# benches/release-bin.sh) into $BIN, checks for tmux, makes the temp dir $work and kills every
# tmux server listed in $sockets at exit. Exits 2 when something is missing.
bench_init() {
    local name=$1
    BIN=${OVERWATCH_BIN:-$("$(dirname "${BASH_SOURCE[0]}")/release-bin.sh")}
    if [[ ! -x $BIN ]]; then
        echo "$name: $BIN not found; build it first (cargo build --release) or set OVERWATCH_BIN" >&2
        exit 2
    fi
    BIN=$(realpath "$BIN")
    command -v tmux >/dev/null || { echo "$name: tmux is required" >&2; exit 2; }
    work=$(mktemp -d)
    sockets=()
    trap bench_cleanup EXIT
}

bench_cleanup() {
    for s in "${sockets[@]}"; do tmux -L "$s" kill-server 2>/dev/null || true; done
    rm -rf "$work"
}

# timed_cat NAME SOCK DATA DONE_FILE HOLD WRAPPER…: runs `WRAPPER… bash -c 'cat DATA'` in a new
# tmux server SOCK, waits (up to $TIMEOUT_S seconds) until the cat's wall time in nanoseconds is
# in DONE_FILE and prints nothing. HOLD is a shell command the pane runs afterwards ("sleep 30"
# keeps its processes alive for reading their peak RSS; "true" lets it exit). Returns 1 on timeout
# with the pane's screen on stderr.
timed_cat() {
    local name=$1 sock=$2 data=$3 done_file=$4 hold=$5; shift 5
    sockets+=("$sock")
    local inner="s=\$(date +%s%N); cat '$data'; e=\$(date +%s%N); echo \$((e - s)) > '$done_file.tmp'; mv '$done_file.tmp' '$done_file'; $hold"
    local cmd
    cmd="exec $(printf '%q ' "$@") bash -c $(printf '%q' "$inner")"
    tmux -L "$sock" -f /dev/null new-session -d -x "$COLS" -y "$ROWS" -s bench "$cmd"
    local waited=0
    while [[ ! -f $done_file ]]; do
        sleep 0.2
        waited=$((waited + 1))
        if ((waited > TIMEOUT_S * 5)); then
            echo "$name did not finish in ${TIMEOUT_S}s" >&2
            tmux -L "$sock" capture-pane -p -t bench >&2 || true
            return 1
        fi
    done
}
