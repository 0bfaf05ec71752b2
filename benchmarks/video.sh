#!/usr/bin/env bash
# Video fan-out: Roomcast (`roomcast serve`) and GStreamer's RTSP server (gst_rtsp_server.py)
# serving the same 640x480@25 picture as RTP/JPEG at quality 80, measured one after the other
# by `roomcast-bench video` for each transport and viewer count.
#
# Usage: benchmarks/video.sh OUT.jsonl
#   Appends one JSON object per line to OUT.jsonl: first a {"bench":"video-meta",…} line about
#   the run, then one `roomcast-bench video --json` result per point ("label" is the server:
#   roomcast or gstreamer; "transport", "viewers", "multicast_sockets" name the point). A point
#   that could not run gives {"bench":"video","label":…,"transport":…,"viewers":…,"error":"…"}.
#
# Environment (all optional):
#   VIEWERS="1 10 50 100 200"  TRANSPORTS="udp tcp multicast"  SERVERS="roomcast gstreamer"
#   DURATION=10s  WARMUP=2s    measurement and warm-up per point
#   MULTICAST_ONE="1 100"      extra multicast points where only one socket receives for all viewers
#                              (the server's cost without the kernel's loopback fan-out); "" for none
#   ROOMCAST_BIN, BENCH_BIN    prebuilt release binaries; otherwise both are built with
#                              swift build -c release --scratch-path "${SCRATCH_PATH:-.build}"
#   NETNS=auto|yes|no          run everything inside `unshare --net` with only lo up (auto: when
#                              root and unshare works). Without it, GStreamer's multicast is skipped.
#
# Safety: multicast never leaves this machine. Roomcast always gets --multicast-interface
# 127.0.0.1; GStreamer multicast runs only inside the private network namespace.
# Needs python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-good (jpegenc, rtpjpegpay).
set -euo pipefail

OUT=${1:?usage: benchmarks/video.sh OUT.jsonl}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
VIEWERS=${VIEWERS:-"1 10 50 100 200"}
TRANSPORTS=${TRANSPORTS:-"udp tcp multicast"}
SERVERS=${SERVERS:-"roomcast gstreamer"}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
MULTICAST_ONE=${MULTICAST_ONE-"1 100"}
NETNS=${NETNS:-auto}

log() { echo "video.sh: $*" >&2; }

if [[ -z "${VIDEO_SH_INSIDE:-}" ]]; then
    if [[ -z "${ROOMCAST_BIN:-}" || -z "${BENCH_BIN:-}" ]]; then
        SCRATCH=${SCRATCH_PATH:-.build}
        log "building release binaries (scratch path $SCRATCH)"
        (cd "$ROOT" && swift build -c release --scratch-path "$SCRATCH" --product roomcast >&2 \
            && swift build -c release --scratch-path "$SCRATCH" --product roomcast-bench >&2)
        BIN=$(cd "$ROOT" && swift build -c release --scratch-path "$SCRATCH" --show-bin-path)
        ROOMCAST_BIN=${ROOMCAST_BIN:-$BIN/roomcast}
        BENCH_BIN=${BENCH_BIN:-$BIN/roomcast-bench}
    fi
    export ROOMCAST_BIN BENCH_BIN VIEWERS TRANSPORTS SERVERS DURATION WARMUP MULTICAST_ONE
    use_netns=no
    if [[ "$NETNS" == yes ]] || { [[ "$NETNS" == auto ]] && [[ $(id -u) == 0 ]] && unshare --net true 2>/dev/null; }; then
        use_netns=yes
    fi
    if [[ "$use_netns" == yes ]]; then
        log "running inside a private network namespace (only lo)"
        exec unshare --net -- env VIDEO_SH_INSIDE=netns bash "${BASH_SOURCE[0]}" "$OUT"
    fi
    export VIDEO_SH_INSIDE=host
fi

if [[ "$VIDEO_SH_INSIDE" == netns ]]; then
    ip link set lo up
    ip link set lo multicast on
    ip route add 239.0.0.0/8 dev lo
fi

WORK=$(mktemp -d /tmp/roomcast-video-bench.XXXXXX)
SERVER_PID=""
stop_server() {   # TERM, up to 10 s to stop cleanly, then KILL: a stuck server never hangs the run
    [[ -n $SERVER_PID ]] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
cleanup() {
    stop_server
    rm -rf "$WORK"
}
trap cleanup EXIT

# The picture GStreamer loops: Roomcast's pattern scene, 2 s of it.
"$BENCH_BIN" jpeg --write-i420 "$WORK/frames" --scenes pattern --sizes 640x480 --frames 50 >/dev/null

free_port() {   # a port free for TCP and UDP; with "even", an even one whose next port is free too
    /usr/bin/python3 - "$1" <<'EOF'
import random, socket, sys
even = sys.argv[1] == "even"
for _ in range(1000):
    port = random.randrange(20000, 60000) & ~1
    held = []
    try:
        for p in ([port, port + 1] if even else [port]):
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                s = socket.socket(socket.AF_INET, kind)
                held.append(s)
                s.bind(("0.0.0.0", p))
    except OSError:
        continue
    finally:
        for s in held:
            s.close()
    print(port)
    sys.exit(0)
sys.exit("no free port")
EOF
}

wait_for_port() {   # wait_for_port PORT PID
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

start_server() {   # start_server roomcast|gstreamer → sets SERVER_PID, PORT
    # `|| return 1`: called from `if !`, where set -e is off, a failed lookup must still fail.
    PORT=$(free_port any) || return 1
    local rtp mport
    rtp=$(free_port even) || return 1
    mport=$(free_port even) || return 1
    case "$1" in
    roomcast)
        rm -rf "$WORK/data"
        "$ROOMCAST_BIN" serve --host 127.0.0.1 --data "$WORK/data" --chat-port 0 --http-port 0 \
            --rtsp-port "$PORT" --rtp-port "$rtp" --camera cam=pattern:640x480@25 --jpeg-quality 80 \
            --multicast-interface 127.0.0.1 --multicast-port "$mport" --max-viewers 1000 --log-level warning \
            >"$WORK/server.log" 2>&1 &
        SERVER_PID=$!
        ;;
    gstreamer)
        local iface=lo
        /usr/bin/python3 "$HERE/gst_rtsp_server.py" --port "$PORT" --mount /cam --width 640 --height 480 --fps 25 \
            --quality 80 --frames "$WORK/frames" --multicast-port "$mport" --multicast-iface "$iface" --ignore-stdin \
            >"$WORK/server.log" 2>&1 &
        SERVER_PID=$!
        ;;
    esac
    wait_for_port "$PORT" "$SERVER_PID"
}

error_line() {   # error_line SERVER TRANSPORT VIEWERS SOCKETS MESSAGE
    /usr/bin/python3 -c 'import json,sys; print(json.dumps({"bench":"video","label":sys.argv[1],"transport":sys.argv[2],"viewers":int(sys.argv[3]),"multicast_sockets":sys.argv[4] or None,"error":sys.argv[5]}))' "$@"
}

point() {   # point SERVER TRANSPORT VIEWERS [SOCKETS]
    local server=$1 transport=$2 viewers=$3 sockets=${4:-}
    if [[ "$server" == gstreamer && "$transport" == multicast ]]; then
        # gst-rtsp-server (1.22) binds the group's ports itself, without SO_REUSEADDR, so no other
        # socket on the same host can bind them to receive the group.
        error_line "$server" "$transport" "$viewers" "$sockets" "skipped: gst-rtsp-server binds the multicast port without SO_REUSEADDR, so no receiver on the same host can bind it" >>"$OUT"
        return
    fi
    log "$server $transport ${sockets:+($sockets sockets) }$viewers viewers"
    if ! start_server "$server"; then
        error_line "$server" "$transport" "$viewers" "$sockets" "server did not start: $(tail -c 300 "$WORK/server.log" | tr '\n' ' ')" >>"$OUT"
        stop_server
        return
    fi
    local extra=()
    [[ -n "$sockets" ]] && extra=(--multicast-sockets "$sockets")
    if "$BENCH_BIN" video --url "rtsp://127.0.0.1:$PORT/cam" --server-pid "$SERVER_PID" --viewers "$viewers" \
        --transport "$transport" --duration "$DURATION" --warmup "$WARMUP" --label "$server" --json "${extra[@]}" \
        >"$WORK/result.json" 2>"$WORK/bench.log"; then
        cat "$WORK/result.json" >>"$OUT"
    else
        error_line "$server" "$transport" "$viewers" "$sockets" "$(tail -c 300 "$WORK/bench.log" | tr '\n' ' ')" >>"$OUT"
    fi
    stop_server
}

/usr/bin/python3 -c 'import json,sys,os,time; print(json.dumps({"bench":"video-meta","time":time.strftime("%Y-%m-%dT%H:%M:%SZ",time.gmtime()),"netns":sys.argv[1]=="netns","duration":sys.argv[2],"warmup":sys.argv[3],"cores":os.cpu_count(),"picture":"roomcast pattern 640x480@25, JPEG quality 80; GStreamer loops the same frames through jpegenc"}))' \
    "$VIDEO_SH_INSIDE" "$DURATION" "$WARMUP" >>"$OUT"

for transport in $TRANSPORTS; do
    for viewers in $VIEWERS; do
        for server in $SERVERS; do
            point "$server" "$transport" "$viewers"
        done
    done
    if [[ "$transport" == multicast ]]; then
        for viewers in $MULTICAST_ONE; do
            for server in $SERVERS; do
                point "$server" multicast "$viewers" one
            done
        done
    fi
done
log "done: $OUT"
