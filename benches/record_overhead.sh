#!/usr/bin/env bash
# Recording overhead on PTY throughput, as a user feels it: how long `cat` of a large agent-like
# file (default 200 MB: coloured status lines, code, diffs, CR-redrawn progress bars, unicode and a
# planted token every ~100 KB so redaction does real work) takes inside `overwatch run` with the
# default recording versus `--no-record`. Each run is a fresh private tmux server with a 120x40
# pane; the two cases alternate (so load drifts hit both), RUNS times each; prints every run and
# the median and worst of each case, the CPU the overwatch process used (all its threads, from
# /proc/PID/task/*/stat a second after the cat ends) and its recording thread's share, and the
# cast size against the raw output. On this shared VM the wall time swings ±30 % from run to run;
# the CPU figures are the steadier measure of what recording costs.
#
# Usage: benches/record_overhead.sh            (uses benches/release-bin.sh, builds nothing)
#        OVERWATCH_BIN=path SIZE_MB=200 RUNS=5 benches/record_overhead.sh
# Needs: tmux, awk, a built overwatch. Recordings go to a temp XDG_STATE_HOME, removed at exit.
#
# Target (issue 8): overhead ≤ 10 %. Measured 2026-11-21 (release, 2 cores shared with other builds,
# load 3–7, so single runs vary 7–18 s): +19 % and +22 % (medians of 5 runs each); before the
# recording thread batched its wake-ups and the redactor's visible view got cheaper, +17 %, +28 %
# and +40 %. The cost is CPU: redaction and asciicast encoding on 2 busy cores. Later the same day,
# after cutting recording from 55 to 41 instructions per byte (benches/record.rs): +13.2 % (load
# 1.8–4.4) vs +1.3 % for the previous build right after (load 4.4–4.9), noise; at lower load
# (2.3–2.8) +32.2 % vs +41.7 %, with recorded runs equally long (7.2 s, 7.1 s).
#
# 2026-11-21 17:31–17:41 UTC, load 2.6–5.8, this build (d6d438a: 31.3 instructions per recorded
# byte) and the previous one (cb78856) alternating, 5 runs each per pass:
#   this build:     wall −14.3 % and −3.1 %; process CPU +24.7 % and +25.9 %, the recording
#                   thread 1.24 s and 1.31 s per 200 MB (+23.2 %, +21.3 % of the unrecorded CPU);
#   previous build: wall +22.3 % and +7.9 %; process CPU +36.7 % and +26.6 %, the recording
#                   thread 1.59 s and 1.62 s (+30.4 %, +27.6 %).
# Per-thread CPU (threads of the process, /proc) shows where the extra time goes: the main loop
# (terminal model, UI) and the PTY reader use the same CPU recorded or not (4.6–5.0 s and 1.6–1.7 s
# per 200 MB in 4 interleaved rounds), the channel send and the recording thread's wake-ups (~3 000
# per 200 MB, batched every 2 ms) cost nothing measurable; the extra is the recording thread's
# own redaction and encoding. Wall overhead was ≤ 10 % in both passes of this build, but the
# noise is larger than the effect, and recording still costs ~22 % more CPU: where no core is
# spare it would cost about that much wall time.
#
# 2026-11-22 00:51–01:15 UTC, load 1.0–2.6 (quieter), 5–9 runs per case: wall +6 to +34 %
# (median of seven passes +23 %), process CPU +16 to +35 %, recording thread 1.1–1.3 s. A build
# with the recording thread at nice +10 did no better (−0.4, +15.1, +19.0, +16.3 %). So the
# ≤ 10 % is not met by wall time either once the machine is quiet enough to see it. The binary
# must be named `overwatch` (under another name it runs as a shim).
#
# 2026-11-22 03:05–03:10 UTC, RUNS=9: wall +29.5 % (medians 5.70 s → 7.38 s), CPU +30 %. With a
# CPU burner beside it (`nice -n 19 sh -c 'while :; do :; done'`, or `chrt -i 0` for SCHED_IDLE),
# the unrecorded case went from ~5.5 s to 9.1 s and 8.2 s: any busy thread on the other vCPU slows
# this wake-up-bound pipeline, whatever its priority, so lowering the recording thread's priority
# cannot hide its CPU; only less CPU per byte can.
#
# 2026-11-22 05:07–06:08 UTC, RUNS=9 (one pass 15), each run isolated (see run_case), after the
# recorder went from 21.7 to 14.6 instructions per byte (AVX2 keyword bitmap, SSE2 JSON escaping,
# simdutf8, view parts only around keywords): wall +7.0, +8.7, +10.6, +4.9, +10.3 %; with
# ANTHROPIC_API_KEY set (an env literal) +12.9, +12.4 %; recording thread 0.5–0.9 s, 12–15 % of
# the unrecorded CPU every time. The previous build (cb78856) with the same script: +28.0 %,
# 1.64 s. At the target, not reliably under it.
set -euo pipefail

SIZE_MB=${SIZE_MB:-200}
RUNS=${RUNS:-5}
COLS=120
ROWS=40
TIMEOUT_S=${TIMEOUT_S:-900}

# shellcheck source=benches/tmux-cat.sh
source "$(dirname "$0")/tmux-cat.sh"
bench_init record_overhead

data=$work/agent.txt
LC_ALL=C awk -v bytes=$((SIZE_MB * 1000 * 1000)) 'BEGIN {
    n = 0; i = 0
    while (n < bytes) {
        i++; k = i % 8
        if (k == 0)      s = sprintf("\033[1;32m✓\033[0m \033[2mtest\033[0m module_%d::parses_config ... \033[32mok\033[0m\r\n", i)
        else if (k == 1) s = sprintf("    let value = config.get(\"key_%d\").map(|v| v.trim()).unwrap_or_default();\r\n", i)
        else if (k == 2) s = sprintf("\033[31m-    old_line_%d();\033[0m\r\n\033[32m+    new_line_%d(&ctx);\033[0m\r\n", i, i)
        else if (k == 3) { s = ""; for (p = 0; p <= 100; p += 25) s = s sprintf("\r\033[KDownloading crate %d [%-20s] %d%%", i, substr("====================", 1, p / 5), p); s = s "\r\n" }
        else if (k == 4) s = "⏺ Read(src/main.rs) — 120 lines · 日本語のコメント\r\n"
        else if (i % 1600 == 5) s = "export GITHUB_TOKEN=ghp_Zx81kQwe77pLmnb2Zx81kQwe77pLmnb2Ab12\r\n"
        else s = sprintf("\033[38;5;245m[%6d]\033[0m compiling overwatch v0.1.0 (/work/main) step %d\r\n", i, i)
        printf "%s", s
        n += length(s)
    }
}' >"$data"
bytes=$(stat -c %s "$data")

# cpu_of PID [COMM]: CPU seconds (user + system) the threads of PID have used, all of them or
# only those named COMM (/proc/PID/task/*/stat fields 14 and 15, in clock ticks).
cpu_of() {
    local pid=$1 comm=${2:-} ticks=0 t
    for t in /proc/"$pid"/task/*; do
        [[ -z $comm || $(cat "$t/comm" 2>/dev/null) == "$comm" ]] || continue
        ticks=$((ticks + $(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{ print $12 + $13 }')))
    done
    awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

# run_case NAME RUN FLAGS… : one `cat` inside `overwatch run FLAGS…` in a fresh tmux server;
# appends "NAME seconds process-cpu recorder-cpu" to $work/times. The pane holds overwatch
# open for a moment after the cat so its threads' CPU can be read.
run_case() {
    local name=$1 run=$2; shift 2
    local sock="ow-rec-$$-$name-$run" done_file="$work/$name-$run.ns"
    timed_cat "record_overhead: $name" "$sock" "$data" "$done_file" "sleep 2" \
        env XDG_STATE_HOME="$work/state" XDG_CONFIG_HOME="$work/config" \
        "$BIN" run --exit-with-agent "$@" -- || return 1
    local pid cpu rec_cpu
    pid=$(tmux -L "$sock" list-panes -F '#{pane_pid}' 2>/dev/null | head -1)
    # Output still queued when the cat ends is being drawn and recorded: wait for it.
    sleep 1
    cpu=$(cpu_of "$pid") rec_cpu=$(cpu_of "$pid" overwatch-recor)
    # Let overwatch finish the cast (flush, fsync, meta.json) before the next run starts.
    while tmux -L "$sock" has-session 2>/dev/null; do sleep 0.2; done
    # Each run starts with nothing of an earlier one left to write back: keep the cast's size
    # (for the size ratio), remove the session, and sync, outside the timed part. Keeping every
    # 240 MB cast made later runs write while the kernel flushed gigabytes of earlier ones, which
    # doubled the recording thread's CPU from the fourth run on (2026-11-22).
    find "$work/state" -name '*.cast' -printf '%s\n' >>"$work/cast-sizes"
    rm -rf "$work/state"/overwatch/sessions/*
    sync
    echo "$name $(awk -v ns="$(cat "$done_file")" 'BEGIN { printf "%.3f", ns / 1e9 }') $cpu $rec_cpu" >>"$work/times"
    printf '%-10s run %d: %s s, overwatch CPU %s s (recording thread %s s)\n' "$name" "$run" \
        "$(tail -1 "$work/times" | cut -d' ' -f2)" "$cpu" "$rec_cpu"
}

mkdir -p "$work/state" "$work/config"
echo "record_overhead: ${COLS}x${ROWS}, $((bytes / 1000000)) MB agent-like file, $RUNS runs each, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
for run in $(seq 1 "$RUNS"); do
    run_case no-record "$run" --no-record
    run_case record "$run"
done
cast=$(sort -n "$work/cast-sizes" 2>/dev/null | tail -1)
awk -v b="$bytes" -v cast="${cast:-0}" '
    { n[$1]++; t[$1, n[$1]] = $2; c[$1, n[$1]] = $3; r[$1, n[$1]] = $4 }
    # median(name, column): the median of that column (t, c or r) of the runs of `name`; sets
    # worst[name] for column t.
    function median(name, col,   m, i, j, x, a) {
        m = n[name]
        for (i = 1; i <= m; i++) a[i] = col == "t" ? t[name, i] : col == "c" ? c[name, i] : r[name, i]
        for (i = 2; i <= m; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
        if (col == "t") worst[name] = a[m]
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    END {
        off = median("no-record", "t"); on = median("record", "t")
        offc = median("no-record", "c"); onc = median("record", "c"); rec = median("record", "r")
        printf "no-record: median %.2f s (%.1f MB/s), worst %.2f s; overwatch CPU %.2f s\n", off, b / 1e6 / off, worst["no-record"], offc
        printf "record:    median %.2f s (%.1f MB/s), worst %.2f s; overwatch CPU %.2f s, recording thread %.2f s\n", on, b / 1e6 / on, worst["record"], onc, rec
        printf "overhead:  %+.1f %% wall (medians); %+.1f %% CPU (medians; the recording thread alone %+.1f %%); cast %.2fx the raw output\n", (on / off - 1) * 100, (onc / offc - 1) * 100, rec / offc * 100, cast / b
    }' "$work/times"
echo "load at end $(cut -d' ' -f1 /proc/loadavg)"
