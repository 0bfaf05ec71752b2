#!/usr/bin/env bash
# JPEG encoding: Roomcast's encoder against libjpeg-turbo on the same frames (the pattern scene
# and uniform noise, 640x480 and 1280x720, quality 80, 4:2:0), with `roomcast-bench jpeg`.
#
# Usage: benchmarks/jpeg.sh OUT.jsonl
#   Appends one JSON object per line to OUT.jsonl, one per scene and size:
#   {"bench":"jpeg","scene":…,"width":…,"height":…,"quality":80,"roomcast":{"megapixels_per_s":…,
#    "bytes_per_frame":…,"psnr_y_db":…,…},"libjpeg_turbo":{…},"speed_ratio":…,"psnr_y_delta_db":…,
#    "tjbench_megapixels_per_s":…}
#
# Environment (all optional):
#   SECONDS_PER_CASE=3   timing per encoder and case (in 3 alternating rounds; the best is the headline)
#   QUALITY=80  SCENES=pattern,noise  SIZES=640x480,1280x720
#   ROOMCAST_BENCH       a prebuilt release roomcast-bench; otherwise built with
#                        swift build -c release --scratch-path "${SCRATCH_PATH:-.build}"
# Needs libjpeg-turbo-progs (libturbojpeg.so.0, tjbench, cjpeg).
set -euo pipefail

OUT=${1:?usage: benchmarks/jpeg.sh OUT.jsonl}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
log() { echo "jpeg.sh: $*" >&2; }
# shellcheck source=benchmarks/lib.sh
source "$HERE/lib.sh"

need_binaries bench
"$ROOMCAST_BENCH" jpeg --json --seconds "${SECONDS_PER_CASE:-3}" --quality "${QUALITY:-80}" \
    --scenes "${SCENES:-pattern,noise}" --sizes "${SIZES:-640x480,1280x720}" >>"$OUT"
log "done: $OUT"
