# Helpers the benchmark scripts share; sourced by chat.sh, video.sh and jpeg.sh, which set
# ROOT (the repository) and define log() first.
#
# Binaries: ROOMCAST and ROOMCAST_BENCH name prebuilt release binaries; what is missing is built
# with `swift build -c release --scratch-path $SCRATCH_PATH` (default .build).

# need_binaries roomcast|bench... : sets ROOMCAST and/or ROOMCAST_BENCH, building what is unset.
need_binaries() {
    local want missing=() product bin
    for want in "$@"; do
        case $want in
        roomcast) [[ -n ${ROOMCAST:-} ]] || missing+=(roomcast) ;;
        bench) [[ -n ${ROOMCAST_BENCH:-} ]] || missing+=(roomcast-bench) ;;
        esac
    done
    [[ ${#missing[@]} -gt 0 ]] || return 0
    local scratch=${SCRATCH_PATH:-.build}
    log "building ${missing[*]} (release, --scratch-path $scratch)"
    for product in "${missing[@]}"; do
        (cd "$ROOT" && swift build -c release --scratch-path "$scratch" --product "$product" >&2)
    done
    bin=$(cd "$ROOT" && swift build -c release --scratch-path "$scratch" --show-bin-path)
    for product in "${missing[@]}"; do
        case $product in
        roomcast) ROOMCAST=$bin/roomcast ;;
        roomcast-bench) ROOMCAST_BENCH=$bin/roomcast-bench ;;
        esac
    done
}

# free_port [even]: a loopback port free for TCP and UDP; with "even", an even one whose next
# port is free too (an RTP/RTCP pair).
free_port() {
    python3 - "${1:-}" <<'PY'
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
PY
}

# wait_for_port PORT PID: until something listens on 127.0.0.1:PORT (10 s at most); fails at
# once if PID has exited.
wait_for_port() {
    local i
    for ((i = 0; i < 200; i++)); do
        kill -0 "$2" 2>/dev/null || return 1
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    return 1
}

# stop_server: stops SERVER_PID (if set) with TERM, up to 10 s to stop cleanly, then KILL, so a
# stuck server never hangs the run.
stop_server() {
    [[ -n ${SERVER_PID:-} ]] || return 0
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
