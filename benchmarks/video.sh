#!/usr/bin/env bash
# Video fan-out: Roomcast (`roomcast serve`) and GStreamer's RTSP server (gst_rtsp_server.py)
# serving the same 640x480@25 picture as RTP/JPEG at quality 80, measured one after the other
# by `roomcast-bench video` for each transport and viewer count.
#
# Usage: benchmarks/video.sh OUT.jsonl
#   Appends one JSON object per line to OUT.jsonl: first a {"bench":"video-meta",…} line about
#   the run, then one `roomcast-bench video --json` result per point (per window for the
#   one-socket multicast points, see MULTICAST_ONE) ("label" is the server:
#   roomcast or gstreamer; "transport", "viewers", "multicast_sockets" name the point). A point
#   that could not run gives {"bench":"video","label":…,"transport":…,"viewers":…,"error":"…"}.
#
# Environment (all optional):
#   VIEWERS="1 10 50 100 200"  TRANSPORTS="udp tcp multicast"  SERVERS="roomcast gstreamer"
#   DURATION=10s  WARMUP=2s    measurement and warm-up per point
#   MULTICAST_ONE="1 100"      extra multicast points where only one socket receives for all viewers
#                              (the server's cost without the kernel's loopback fan-out); "" for none.
#                              Measured on one running server, alternating: MULTICAST_ROUNDS (3)
#                              times through the list, then its first count again (1 100 1 100 1 100 1);
#                              each window is a line of its own, and the report averages them
#   ROOMCAST, ROOMCAST_BENCH   prebuilt release binaries; otherwise what is missing is built
#                              with swift build -c release --scratch-path "${SCRATCH_PATH:-.build}"
#   NETNS=auto|yes|no          run everything inside `unshare --net` with only lo up (auto: when
#                              root and unshare works), so no multicast can leave the machine.
#
# Safety: multicast never leaves this machine. Roomcast always gets --multicast-interface
# 127.0.0.1. GStreamer's multicast is always skipped: gst-rtsp-server binds the group's port
# without SO_REUSEADDR, so no receiver on the same host can bind it.
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
MULTICAST_ROUNDS=${MULTICAST_ROUNDS:-3}
[[ $MULTICAST_ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "video.sh: MULTICAST_ROUNDS must be a whole number from 1" >&2; exit 2; }
NETNS=${NETNS:-auto}

log() { echo "video.sh: $*" >&2; }
# shellcheck source=benchmarks/lib.sh
source "$HERE/lib.sh"

if [[ -z "${VIDEO_SH_INSIDE:-}" ]]; then
    need_binaries roomcast bench
    export ROOMCAST ROOMCAST_BENCH VIEWERS TRANSPORTS SERVERS DURATION WARMUP MULTICAST_ONE MULTICAST_ROUNDS
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
cleanup() {
    stop_server
    rm -rf "$WORK"
}
trap cleanup EXIT

# The picture GStreamer loops: Roomcast's pattern scene, 2 s of it.
"$ROOMCAST_BENCH" jpeg --write-i420 "$WORK/frames" --scenes pattern --sizes 640x480 --frames 50 >/dev/null

start_server() {   # start_server roomcast|gstreamer → sets SERVER_PID, PORT
    # `|| return 1`: called from `if !`, where set -e is off, a failed lookup must still fail.
    PORT=$(free_port any) || return 1
    local rtp mport
    rtp=$(free_port even) || return 1
    mport=$(free_port even) || return 1
    case "$1" in
    roomcast)
        rm -rf "$WORK/data"
        "$ROOMCAST" serve --host 127.0.0.1 --data "$WORK/data" --chat-port 0 --http-port 0 \
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

# gst-rtsp-server (1.22) binds the group's ports itself, without SO_REUSEADDR, so no other socket
# on the same host can bind them to receive the group.
GST_MULTICAST_SKIPPED="skipped: gst-rtsp-server binds the multicast port without SO_REUSEADDR, so no receiver on the same host can bind it"

started() {   # started SERVER TRANSPORT SOCKETS VIEWERS...: starts SERVER, or writes why not for each point and fails
    local server=$1 transport=$2 sockets=$3 why="" viewers
    shift 3
    if [[ "$server" == gstreamer && "$transport" == multicast ]]; then
        why=$GST_MULTICAST_SKIPPED
    elif ! start_server "$server"; then
        why="server did not start: $(tail -c 300 "$WORK/server.log" | tr '\n' ' ')"
        stop_server
    fi
    [[ -z "$why" ]] && return 0
    for viewers in "$@"; do error_line "$server" "$transport" "$viewers" "$sockets" "$why" >>"$OUT"; done
    return 1
}

measure() {   # measure SERVER TRANSPORT VIEWERS [SOCKETS]: one window against the running server
    local server=$1 transport=$2 viewers=$3 sockets=${4:-}
    log "$server $transport ${sockets:+($sockets sockets) }$viewers viewers"
    local extra=()
    [[ -n "$sockets" ]] && extra=(--multicast-sockets "$sockets")
    if "$ROOMCAST_BENCH" video --url "rtsp://127.0.0.1:$PORT/cam" --server-pid "$SERVER_PID" --viewers "$viewers" \
        --transport "$transport" --duration "$DURATION" --warmup "$WARMUP" --label "$server" --json "${extra[@]}" \
        >"$WORK/result.json" 2>"$WORK/bench.log"; then
        cat "$WORK/result.json" >>"$OUT"
    else
        error_line "$server" "$transport" "$viewers" "$sockets" "$(tail -c 300 "$WORK/bench.log" | tr '\n' ' ')" >>"$OUT"
    fi
}

point() {   # point SERVER TRANSPORT VIEWERS: a freshly started server, one window
    started "$1" "$2" "" "$3" || return 0
    measure "$1" "$2" "$3"
    stop_server
}

# The one-socket multicast points, alternating on one running server (A B A B A B A): the
# difference they measure (a fraction of a percent of a core) is smaller than the server's CPU
# varies from one start to the next, so a fresh server per point could not show it.
alternating_points() {   # alternating_points SERVER COUNT...
    local server=$1 first=$2 round viewers
    shift
    started "$server" multicast one "$@" || return 0
    for ((round = 0; round < MULTICAST_ROUNDS; round++)); do
        for viewers in "$@"; do measure "$server" multicast "$viewers" one; done
    done
    measure "$server" multicast "$first" one
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
    if [[ "$transport" == multicast && -n "${MULTICAST_ONE// /}" ]]; then
        for server in $SERVERS; do
            # shellcheck disable=SC2086
            alternating_points "$server" $MULTICAST_ONE
        done
    fi
done
log "done: $OUT"
