#!/usr/bin/env bash
# Chat benchmarks: Roomcast and ngIRCd, one after the other in the same run, on loopback.
#
#   benchmarks/chat.sh RESULTS.jsonl
#
# Writes one JSON object per line to RESULTS.jsonl (replacing it) and echoes each to stdout;
# progress goes to stderr. The first line has "mode":"environment" (machine, versions, server
# flags); every other line is one `roomcast-bench chat --json` result with
# "labels":{"server":"roomcast"|"ngircd","workload":NAME,"flags":SERVER FLAGS}. Workloads:
#
#   fanout100  100 clients, 10 senders, 500 msg/s in total   ("mode":"chat")
#   fanout500  500 clients,  5 senders, 100 msg/s in total   ("mode":"chat")
#   idle2000   2,000 registered idle connections              ("mode":"idle")
#   ramp100    100 clients, 10 senders, rising rates          ("mode":"ramp")
#
# Every workload gets a freshly started server (fresh history database for Roomcast), so CPU
# and memory figures do not carry over from one workload to the next.
#
# Environment (all optional):
#   WORKLOADS       workloads to run, in order (default: "fanout100 fanout500 idle2000 ramp100")
#   SERVERS         servers to run, in order (default: "roomcast ngircd")
#   DURATION        measured window of the fan-out runs (default: 10s); WARMUP (default: 2s)
#   RAMP_START RAMP_STEP RAMP_MAX RAMP_DURATION   ramp settings (defaults: 500 500 30000 4s)
#   ROOMCAST, ROOMCAST_BENCH   prebuilt release binaries; otherwise what is missing is built
#                   with `swift build -c release --scratch-path $SCRATCH_PATH` (default .build)
#   NGIRCD          the ngIRCd binary (default: ngircd on PATH, else /usr/sbin/ngircd; without
#                   it the ngircd runs are skipped with a notice)
#   KEEP_LOGS=1     keep the servers' logs and data in the temporary folder (its path is printed)
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//; /^set -euo/d' >&2; exit 2; }
[[ $# -eq 1 && $1 != -* ]] || usage
OUT=$1

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
WORKLOADS=${WORKLOADS:-"fanout100 fanout500 idle2000 ramp100"}
SERVERS=${SERVERS:-"roomcast ngircd"}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
RAMP_START=${RAMP_START:-500}
RAMP_STEP=${RAMP_STEP:-500}
RAMP_MAX=${RAMP_MAX:-30000}
RAMP_DURATION=${RAMP_DURATION:-4s}

log() { printf 'chat.sh: %s\n' "$*" >&2; }
# shellcheck source=benchmarks/lib.sh
source "$HERE/lib.sh"

need_binaries roomcast bench
NGIRCD=${NGIRCD:-$(command -v ngircd || echo /usr/sbin/ngircd)}
if [[ ! -x $NGIRCD && " $SERVERS " == *" ngircd "* ]]; then
    log "ngIRCd not found (install it: apt-get install ngircd); skipping its runs"
    SERVERS=${SERVERS//ngircd/}
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/roomcast-chat-bench.XXXXXX")
SERVER_PID=""
cleanup() {
    stop_server
    if [[ ${KEEP_LOGS:-0} == 1 ]]; then log "logs and data kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The generator opens up to 2,000 sockets, the server as many: raise the soft limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

ROOMCAST_FLAGS="--flood-rate 0 --max-connections 100000 --max-connections-per-address 100000 --log-level notice"
NGIRCD_FLAGS="benchmarks/ngircd.conf (MaxConnectionsIP=0 MaxPenaltyTime=0 DNS=no Ident=no)"

start_server() {  # name -> sets SERVER_PID, PORT, FLAGS
    local name=$1
    PORT=$(free_port)
    case $name in
    roomcast)
        # History on (the default), in a fresh data folder; cameras idle (nobody watches);
        # every other listener on a free port.
        local data="$TMP/roomcast-data-$PORT"
        # shellcheck disable=SC2086
        "$ROOMCAST" serve --host 127.0.0.1 --chat-port "$PORT" --http-port 0 --rtsp-port 0 --rtp-port 0 \
            --data "$data" $ROOMCAST_FLAGS >"$TMP/roomcast-$PORT.log" 2>&1 &
        SERVER_PID=$!
        FLAGS="roomcast serve $ROOMCAST_FLAGS (history on)"
        ;;
    ngircd)
        sed "s/^[[:space:]]*Ports = .*/\tPorts = $PORT/" "$HERE/ngircd.conf" >"$TMP/ngircd-$PORT.conf"
        "$NGIRCD" --nodaemon --config "$TMP/ngircd-$PORT.conf" >"$TMP/ngircd-$PORT.log" 2>&1 &
        SERVER_PID=$!
        FLAGS=$NGIRCD_FLAGS
        ;;
    esac
    if ! wait_for_port "$PORT" "$SERVER_PID"; then
        log "$name did not start listening on port $PORT; its log:"
        tail -20 "$TMP/$name-$PORT.log" >&2 || true
        exit 1
    fi
    # Let it finish starting (Roomcast opens its database and cameras around the listener).
    sleep 1
}

bench() {  # server workload args...
    local server=$1 workload=$2
    shift 2
    start_server "$server"
    log "$workload on $server (pid $SERVER_PID, port $PORT)"
    local line
    if line=$("$ROOMCAST_BENCH" chat --server "127.0.0.1:$PORT" --server-pid "$SERVER_PID" --json \
        --label "server=$server" --label "workload=$workload" --label "flags=$FLAGS" "$@"); then
        printf '%s\n' "$line" | tee -a "$OUT"
    else
        log "$workload on $server failed (see above)"
        printf '{"mode":"error","labels":{"server":"%s","workload":"%s"}}\n' "$server" "$workload" | tee -a "$OUT"
    fi
    stop_server
}

# The environment line. The commit is the work tree's HEAD; "roomcast_binary" says which binary
# ran and when it was built (with ROOMCAST given it may come from another tree or commit).
roomcast_commit=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
roomcast_dirty=$(cd "$ROOT" && git status --porcelain --untracked-files=no 2>/dev/null | wc -l | tr -d ' ')
roomcast_binary="$ROOMCAST (built $(date -u -r "$ROOMCAST" +%Y-%m-%dT%H:%M:%SZ))"
ngircd_version=$([[ -x $NGIRCD ]] && "$NGIRCD" --version 2>/dev/null | head -1 || echo none)
python3 - "$roomcast_commit" "$ngircd_version" "$ROOMCAST_FLAGS" "$NGIRCD_FLAGS" "$roomcast_dirty" "$roomcast_binary" >"$OUT" <<'EOF'
import json, os, platform, sys
print(json.dumps({
    "mode": "environment",
    "cores": os.cpu_count(),
    "loadavg_before": os.getloadavg()[0],
    "kernel": platform.release(),
    "roomcast_commit": sys.argv[1],
    "roomcast_uncommitted_files": int(sys.argv[5]),
    "roomcast_binary": sys.argv[6],
    "ngircd_version": sys.argv[2],
    "roomcast_flags": sys.argv[3],
    "ngircd_flags": sys.argv[4],
}, separators=(",", ":")))
EOF
cat "$OUT"
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
    log "warning: load average is $load; other work on this machine will distort the figures"
fi

for workload in $WORKLOADS; do
    for server in $SERVERS; do
        case $workload in
        fanout100) bench "$server" "$workload" --clients 100 --senders 10 --rate 500 --duration "$DURATION" --warmup "$WARMUP" ;;
        fanout500) bench "$server" "$workload" --clients 500 --senders 5 --rate 100 --duration "$DURATION" --warmup "$WARMUP" ;;
        idle2000) bench "$server" "$workload" --idle 2000 ;;
        ramp100) bench "$server" "$workload" --clients 100 --senders 10 --ramp --ramp-start "$RAMP_START" \
            --ramp-step "$RAMP_STEP" --ramp-max "$RAMP_MAX" --ramp-duration "$RAMP_DURATION" ;;
        *) log "unknown workload '$workload'"; exit 2 ;;
        esac
    done
done
log "results in $OUT"
