#!/usr/bin/env bash
# Roomcast against its peers in one go, on this machine over loopback: chat against ngIRCd
# (benchmarks/chat.sh), video against GStreamer's RTSP server (benchmarks/video.sh), JPEG encoding
# against libjpeg-turbo (benchmarks/jpeg.sh); then BENCHMARKS.md from the results
# (benchmarks/report.py: machine, date, commands, the targets with ratios and verdicts, raw figures).
#
# Usage: benchmarks/compare.sh [--only chat,video,jpeg] [--out DIR] [--report FILE] [--no-install]
#        benchmarks/compare.sh --report-only --out DIR [--only LIST] [--report FILE]
#
#   --only LIST     parts to run, comma-separated (default: chat,video,jpeg); the report says
#                   "not run" for the others
#   --out DIR       results folder (default: benchmarks/results/<UTC time>, git-ignored): chat.jsonl,
#                   video.jsonl, jpeg.jsonl, each script's log (PART.log) and the run records
#                   (run.json, PART.run.json). A part run again replaces its results in DIR.
#   --report FILE   the report (default: BENCHMARKS.md at the repository root). The raw results it
#                   links are copied to benchmarks/results-latest/ beside it: commit both.
#   --no-install    install nothing: only say which peers are missing (their points are then
#                   skipped or fail)
#   --report-only   run nothing: rewrite the report from DIR, e.g. after editing
#                   benchmarks/ANALYSIS.md (copied verbatim into the report's Analysis section)
#   -h, --help      this text
#
# Peers, installed from Debian with apt-get when missing (as root; otherwise the script stops and
# names them): chat: ngircd; video: gstreamer1.0-plugins-good gir1.2-gst-rtsp-server-1.0
# python3-gi (and iproute2 for the private network namespace video.sh uses as root);
# jpeg: libjpeg-turbo-progs.
#
# Binaries: roomcast and roomcast-bench are built once, `swift build -c release --scratch-path
# $SCRATCH_PATH` (default .build), and handed to the three scripts. ROOMCAST and ROOMCAST_BENCH
# name prebuilt ones instead (no build): handy under sudo, which would leave root-owned build files.
#
# Environment: the scripts' settings pass through (see their headers): DURATION WARMUP (chat and
# video); WORKLOADS RAMP_START RAMP_STEP RAMP_MAX RAMP_DURATION NGIRCD KEEP_LOGS (chat); VIEWERS
# TRANSPORTS MULTICAST_ONE MULTICAST_ROUNDS NETNS (video); SECONDS_PER_CASE QUALITY SCENES SIZES (jpeg). A CHAT_,
# VIDEO_ or JPEG_ prefix sets one for that part only: CHAT_DURATION=30s, VIDEO_SERVERS=roomcast.
# (SERVERS means different servers to chat.sh and video.sh, so it is accepted only with a prefix.)
#
# The CPU figures are only as good as the machine is quiet: run it with nothing else running.
# Example: sudo benchmarks/compare.sh && git add BENCHMARKS.md benchmarks/results-latest
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//; /^set -euo/d'; }
log() { printf 'compare.sh: %s\n' "$*" >&2; }
die() { printf 'compare.sh: %s\n' "$*" >&2; exit 1; }
abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ALL_PARTS="chat video jpeg"
ORIGINAL_ARGS=("$@")

ONLY="" OUT_DIR="" REPORT="$ROOT/BENCHMARKS.md" INSTALL=yes REPORT_ONLY=no
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --only) [[ $# -ge 2 ]] || die "--only needs a list, e.g. --only chat,jpeg"; ONLY=$2; shift 2 ;;
    --only=*) ONLY=${1#*=}; shift ;;
    --out) [[ $# -ge 2 ]] || die "--out needs a folder"; OUT_DIR=$(abspath "$2"); shift 2 ;;
    --out=*) OUT_DIR=$(abspath "${1#*=}"); shift ;;
    --report) [[ $# -ge 2 ]] || die "--report needs a file"; REPORT=$(abspath "$2"); shift 2 ;;
    --report=*) REPORT=$(abspath "${1#*=}"); shift ;;
    --no-install) INSTALL=no; shift ;;
    --report-only) REPORT_ONLY=yes; shift ;;
    *) usage >&2; die "unknown argument '$1'" ;;
    esac
done

PARTS=""
for part in ${ONLY//,/ }; do
    [[ " $ALL_PARTS " == *" $part "* ]] || die "unknown part '$part' in --only (known: ${ALL_PARTS// /,})"
    [[ " $PARTS " == *" $part "* ]] || PARTS="$PARTS $part"
done
# Always in the same order: chat, video, jpeg.
if [[ -n $ONLY ]]; then
    ordered=""
    for part in $ALL_PARTS; do [[ " $PARTS " == *" $part "* ]] && ordered="$ordered $part"; done
    PARTS=${ordered# }
    [[ -n $PARTS ]] || die "--only names no part"
else
    PARTS=$ALL_PARTS
fi
PARTS_CSV=${PARTS// /,}
selected() { [[ " $PARTS " == *" $1 "* ]]; }

cd "$ROOT"
rel() {  # a path as seen from the repository root
    case $1 in "$ROOT") printf '.\n' ;; "$ROOT"/*) printf '%s\n' "${1#"$ROOT"/}" ;; *) printf '%s\n' "$1" ;; esac
}
shq() {  # a word as the shell would need it
    if [[ $1 =~ ^[A-Za-z0-9_./:,=+@%-]+$ ]]; then printf '%s' "$1"; else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}
exported() { [[ $(declare -p "$1" 2>/dev/null) == "declare -"*x*" $1="* ]]; }

report() {
    local args=(--results "$OUT_DIR" --out "$REPORT")
    [[ -z $ONLY ]] || args+=(--parts "$PARTS_CSV")
    python3 "$HERE/report.py" "${args[@]}"
}

if [[ $REPORT_ONLY == yes ]]; then
    [[ -n $OUT_DIR ]] || die "--report-only needs --out DIR, the results folder to report on"
    [[ -d $OUT_DIR ]] || die "no results folder $OUT_DIR"
    report
    exit 0
fi

if exported SERVERS; then
    die "SERVERS means ngIRCd or GStreamer depending on the script: set CHAT_SERVERS or VIDEO_SERVERS instead"
fi
OUT_DIR=${OUT_DIR:-$ROOT/benchmarks/results/$(date -u +%Y%m%dT%H%M%SZ)}
REPORT_COMMAND="python3 benchmarks/report.py --results $(shq "$(rel "$OUT_DIR")") --out $(shq "$(rel "$REPORT")")${ONLY:+ --parts $PARTS_CSV}"
command -v python3 >/dev/null || die "python3 is needed (the scripts and the report use it)"

# ---------------------------------------------------------------------------------------------
# Peers

IS_ROOT=no
[[ $(id -u) == 0 ]] && IS_ROOT=yes
packages_of() {
    case $1 in
    chat) echo ngircd ;;
    video)
        echo gstreamer1.0-plugins-good gir1.2-gst-rtsp-server-1.0 python3-gi
        # video.sh runs in a private network namespace when root (NETNS=auto), set up with `ip`.
        local netns=${VIDEO_NETNS:-${NETNS:-auto}}
        if [[ $netns == yes || ($netns == auto && $IS_ROOT == yes) ]]; then echo iproute2; fi
        ;;
    jpeg) echo libjpeg-turbo-progs ;;
    esac
}
peer_works() {  # part: whether what the part's script needs is there (any system)
    case $1 in
    chat) [[ -x ${CHAT_NGIRCD:-${NGIRCD:-/nonexistent}} ]] || command -v ngircd >/dev/null || [[ -x /usr/sbin/ngircd ]] ;;
    video)
        [[ -x /usr/bin/python3 ]] && /usr/bin/python3 - 2>/dev/null <<'EOF'
import sys, gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer
Gst.init(None)
sys.exit(0 if Gst.ElementFactory.find("jpegenc") and Gst.ElementFactory.find("rtpjpegpay") else 1)
EOF
        ;;
    jpeg) command -v tjbench >/dev/null ;;
    esac
}

ALL_PACKAGES=""
for part in $PARTS; do ALL_PACKAGES="$ALL_PACKAGES $(packages_of "$part" | tr '\n' ' ')"; done
INSTALLED_NOW=""
if command -v dpkg-query >/dev/null; then
    missing=""
    for pkg in $ALL_PACKAGES; do
        [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) == "install ok installed" ]] || missing="$missing $pkg"
    done
    missing=${missing# }
    if [[ -n $missing ]]; then
        if [[ $INSTALL == no ]]; then
            log "missing Debian packages (not installing, --no-install): $missing"
        elif [[ $IS_ROOT != yes ]]; then
            die "missing Debian packages: $missing
  Install them as root:  sudo apt-get install --no-install-recommends $missing
  or run this script as root, or leave their part out with --only."
        else
            log "installing from Debian: $missing"
            # shellcheck disable=SC2086
            if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >&2; then
                log "apt-get install failed; updating the package lists and trying again"
                # shellcheck disable=SC2086
                apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >&2 \
                    || die "could not install: $missing"
            fi
            INSTALLED_NOW=$missing
        fi
    fi
fi
# Debian's ngircd package may start the system service (default config, no --config): harmless to
# the runs, which use their own on a free port, but not a quiet machine.
if selected chat && command -v pgrep >/dev/null && pgrep -a -x ngircd 2>/dev/null | grep -qv -e '--config'; then
    log "note: a system ngIRCd is running (Debian's service?); for a quiet machine stop it: service ngircd stop"
fi
for part in $PARTS; do
    if ! peer_works "$part"; then
        if ! command -v dpkg-query >/dev/null && [[ $INSTALL == yes ]]; then
            die "$part: its peer is missing and this is not a Debian system (no dpkg-query): install the equivalent of: $(packages_of "$part" | tr '\n' ' ')"
        fi
        log "warning: $part: its peer does not work as expected ($(packages_of "$part" | tr '\n' ' ')); its points may be skipped or fail"
    fi
done

# ---------------------------------------------------------------------------------------------
# Binaries

ROOMCAST=${ROOMCAST:-}
ROOMCAST_BENCH=${ROOMCAST_BENCH:-}
NEED_ROOMCAST=no
if selected chat || selected video; then NEED_ROOMCAST=yes; fi
BUILT=no
if [[ -z $ROOMCAST_BENCH || ($NEED_ROOMCAST == yes && -z $ROOMCAST) ]]; then
    command -v swift >/dev/null || die "swift is needed to build roomcast and roomcast-bench (or set ROOMCAST and ROOMCAST_BENCH)"
    SCRATCH_PATH=${SCRATCH_PATH:-.build}
    products=(roomcast-bench)
    [[ $NEED_ROOMCAST == yes ]] && products=(roomcast roomcast-bench)
    for product in "${products[@]}"; do
        log "building $product (swift build -c release --scratch-path $SCRATCH_PATH)"
        swift build -c release --scratch-path "$SCRATCH_PATH" --product "$product" >&2
    done
    BIN=$(swift build -c release --scratch-path "$SCRATCH_PATH" --show-bin-path)
    [[ $NEED_ROOMCAST == yes ]] && ROOMCAST=${ROOMCAST:-$BIN/roomcast}
    ROOMCAST_BENCH=${ROOMCAST_BENCH:-$BIN/roomcast-bench}
    BUILT=yes
fi
ROOMCAST_BENCH=$(abspath "$ROOMCAST_BENCH")
[[ -x $ROOMCAST_BENCH ]] || die "no roomcast-bench binary at $ROOMCAST_BENCH"
if [[ $NEED_ROOMCAST == yes ]]; then
    ROOMCAST=$(abspath "$ROOMCAST")
    [[ -x $ROOMCAST ]] || die "no roomcast binary at $ROOMCAST"
fi

# ---------------------------------------------------------------------------------------------
# Run records

write_json() {  # FILE key=value ... (key:=JSON for numbers)
    python3 - "$@" <<'EOF'
import json, sys
path, obj = sys.argv[1], {}
for arg in sys.argv[2:]:
    key, _, value = arg.partition("=")
    if key.endswith(":"):
        obj[key[:-1]] = json.loads(value)
    else:
        obj[key] = value
with open(path, "w", encoding="utf-8") as f:
    json.dump(obj, f, indent=1, ensure_ascii=False)
    f.write("\n")
EOF
}

compare_command() {  # this script's command line, with the settings from the environment that reach the parts
    local words=() name
    for name in SCRATCH_PATH ROOMCAST ROOMCAST_BENCH DURATION WARMUP WORKLOADS RAMP_START RAMP_STEP RAMP_MAX \
        RAMP_DURATION NGIRCD KEEP_LOGS VIEWERS TRANSPORTS MULTICAST_ONE MULTICAST_ROUNDS NETNS SECONDS_PER_CASE QUALITY SCENES SIZES \
        $(compgen -e | grep -E '^(CHAT|VIDEO|JPEG)_.' | grep -v '^VIDEO_SH_INSIDE$' || true); do
        if exported "$name"; then
            case $name in ROOMCAST | ROOMCAST_BENCH) words+=("$name=$(shq "$(rel "${!name}")")") ;; *) words+=("$name=$(shq "${!name}")") ;; esac
        fi
    done
    words+=(benchmarks/compare.sh)
    local arg
    for arg in ${ORIGINAL_ARGS[@]+"${ORIGINAL_ARGS[@]}"}; do words+=("$(shq "$arg")"); done
    printf '%s' "${words[*]}"
}

write_run() {  # FINISHED-TIME: run.json, what the report says about the machine and the run
    local gst="" packages="" swift_version=""
    if selected video && [[ -x /usr/bin/python3 ]]; then
        gst=$(/usr/bin/python3 -c 'import gi; gi.require_version("Gst", "1.0"); from gi.repository import Gst; print(Gst.version_string())' 2>/dev/null || true)
    fi
    if command -v dpkg-query >/dev/null; then
        packages=$(for pkg in $ALL_PACKAGES; do dpkg-query -W -f='${Package}\t${Version}\n' "$pkg" 2>/dev/null || true; done)
    fi
    if [[ $BUILT == yes ]]; then swift_version=$(swift --version 2>/dev/null | head -1 || true); fi
    RUN_COMMAND=$(compare_command) RUN_REPORT_COMMAND=$REPORT_COMMAND RUN_PARTS=$PARTS_CSV RUN_STARTED=$STARTED \
    RUN_FINISHED=$1 RUN_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown) \
    RUN_DIRTY=$(git status --porcelain --untracked-files=no 2>/dev/null | wc -l | tr -d ' ') \
    RUN_SWIFT=$swift_version RUN_PACKAGES=$packages RUN_GST=$gst RUN_INSTALLED=$INSTALLED_NOW \
    RUN_ROOMCAST=$(rel "${ROOMCAST:-}") RUN_BENCH=$(rel "$ROOMCAST_BENCH") RUN_BUILT=$BUILT \
        python3 - "$OUT_DIR/run.json" <<'EOF'
import json, os, platform, sys
e = os.environ
def field(path, key, sep):
    try:
        for line in open(path, encoding="utf-8", errors="replace"):
            k, s, v = line.partition(sep)
            if s and k.strip() == key:
                return v.strip().strip('"')
    except OSError:
        pass
    return ""
mem = field("/proc/meminfo", "MemTotal", ":").split()
run = {
    "command": e["RUN_COMMAND"],
    "report_command": e["RUN_REPORT_COMMAND"],
    "parts": e["RUN_PARTS"],
    "started": e["RUN_STARTED"],
    "finished": e["RUN_FINISHED"],
    "commit": e["RUN_COMMIT"],
    "uncommitted_files": int(e["RUN_DIRTY"] or 0),
    "machine": {
        "cores": os.cpu_count(),
        "cpu_model": field("/proc/cpuinfo", "model name", ":"),
        "memory": "%.1f GiB" % (int(mem[0]) / 1048576) if mem else "",
        "kernel": platform.release(),
        "os": field("/etc/os-release", "PRETTY_NAME", "="),
    },
    "swift": e["RUN_SWIFT"],
    "packages": dict(l.split("\t", 1) for l in e["RUN_PACKAGES"].splitlines() if "\t" in l and l.split("\t", 1)[1]),
    "gstreamer": e["RUN_GST"],
    "installed": e["RUN_INSTALLED"],
    "binaries": {"roomcast": e["RUN_ROOMCAST"], "roomcast_bench": e["RUN_BENCH"], "built_by_this_run": e["RUN_BUILT"]},
}
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(run, f, indent=1, ensure_ascii=False)
    f.write("\n")
EOF
}

# ---------------------------------------------------------------------------------------------
# Parts

PART_ENV=()
part_env() {  # part → PART_ENV: the binaries, then NAME=value for every exported PART_NAME
    local part=$1 prefix var
    prefix=$(printf '%s' "$part" | tr '[:lower:]' '[:upper:]')_
    case $part in
    chat | video) PART_ENV=("ROOMCAST=$ROOMCAST" "ROOMCAST_BENCH=$ROOMCAST_BENCH") ;;
    jpeg) PART_ENV=("ROOMCAST_BENCH=$ROOMCAST_BENCH") ;;
    esac
    for var in $(compgen -e); do
        [[ $var == "$prefix"?* && $var != VIDEO_SH_INSIDE ]] || continue
        PART_ENV+=("${var#"$prefix"}=${!var}")
    done
}

part_command() {  # part out → the script's command line with every setting that reaches it
    local part=$1 out=$2 names=() words=() name entry value found
    case $part in
    chat) names=(WORKLOADS SERVERS DURATION WARMUP RAMP_START RAMP_STEP RAMP_MAX RAMP_DURATION NGIRCD KEEP_LOGS ROOMCAST ROOMCAST_BENCH) ;;
    video) names=(VIEWERS TRANSPORTS SERVERS DURATION WARMUP MULTICAST_ONE MULTICAST_ROUNDS NETNS ROOMCAST ROOMCAST_BENCH) ;;
    jpeg) names=(SECONDS_PER_CASE QUALITY SCENES SIZES ROOMCAST_BENCH) ;;
    esac
    for name in "${names[@]}"; do
        found=no
        for entry in "${PART_ENV[@]}"; do
            if [[ $entry == "$name="* ]]; then value=${entry#*=}; found=yes; fi
        done
        if [[ $found == no ]] && exported "$name"; then value=${!name}; found=yes; fi
        if [[ $found == yes ]]; then
            [[ $name == ROOMCAST* ]] && value=$(rel "$value")
            words+=("$name=$(shq "$value")")
        fi
    done
    words+=("benchmarks/$part.sh" "$(shq "$(rel "$out")")")
    printf '%s' "${words[*]}"
}

FAILED=()
run_part() {
    local part=$1 out="$OUT_DIR/$1.jsonl" log="$OUT_DIR/$1.log" cmd started load_before load_after rc
    rm -f "$out" "$log" "$OUT_DIR/$part.run.json"
    part_env "$part"
    cmd=$(part_command "$part" "$out")
    load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "")
    log "$part: $cmd"
    if awk -v l="${load_before%% *}" 'BEGIN { exit !(l > 0.5) }' 2>/dev/null; then
        log "warning: load average ${load_before%% *} before $part: other work on this machine will distort the figures"
    fi
    started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    set +e
    (env -u VIDEO_SH_INSIDE "${PART_ENV[@]}" bash "$HERE/$part.sh" "$out" 2>&1 >/dev/null) | tee "$log" >&2
    rc=${PIPESTATUS[0]}
    set -e
    load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "")
    write_json "$OUT_DIR/$part.run.json" part="$part" command="$cmd" started="$started" \
        finished="$(date -u +%Y-%m-%dT%H:%M:%SZ)" exit:="$rc" loadavg_before="$load_before" \
        loadavg_after="$load_after" log="$(rel "$log")"
    if [[ $rc != 0 ]]; then
        log "$part: benchmarks/$part.sh exited with status $rc (log: $(rel "$log"))"
        FAILED+=("$part")
    fi
}

trap 'log "interrupted"; exit 130' INT TERM
mkdir -p "$OUT_DIR"
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
write_run ""
log "parts: $PARTS; results in $(rel "$OUT_DIR")"
for part in $PARTS; do
    run_part "$part"
done
write_run "$(date -u +%Y-%m-%dT%H:%M:%SZ)"

report
log "results in $(rel "$OUT_DIR"); report in $(rel "$REPORT") with the raw results in $(rel "$(dirname "$REPORT")")/benchmarks/results-latest/"
if [[ ${#FAILED[@]} -gt 0 ]]; then
    die "failed: ${FAILED[*]} (see their logs in $(rel "$OUT_DIR"))"
fi
