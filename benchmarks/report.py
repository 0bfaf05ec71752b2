#!/usr/bin/env python3
"""Write BENCHMARKS.md from the results of benchmarks/compare.sh (Python 3 standard library only).

    benchmarks/report.py --results DIR [--parts chat,video,jpeg] [--out BENCHMARKS.md]
    benchmarks/report.py [--chat FILE] [--video FILE] [--jpeg FILE] [--run FILE] [--out BENCHMARKS.md]

Reads chat.jsonl (benchmarks/chat.sh), video.jsonl (benchmarks/video.sh) and jpeg.jsonl
(benchmarks/jpeg.sh) from the results folder DIR, with the run records compare.sh leaves beside
them (run.json, chat.run.json, video.run.json, jpeg.run.json), or the files named one by one.
Writes the Markdown report (default: BENCHMARKS.md at the repository root) with
  - the machine, the date, the commit and the exact commands;
  - the Targets table of issue 6 (Roomcast's figure, the peer's, the ratio, met / missed / not measured);
  - "## Analysis": benchmarks/ANALYSIS.md copied in verbatim when it exists (--analysis FILE);
  - per-area tables (chat, idle connections, ramp, video, JPEG), flagged figures marked with ⚠️;
  - links to the raw results, copied to benchmarks/results-latest/{chat,video,jpeg}.jsonl beside the
    report (--raw-dir DIR; --no-raw links the originals instead).
A part with no results says "not run". Exits 0 when the report was written, whatever the verdicts.
"""

import argparse
import datetime
import json
import math
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARTS = ("chat", "video", "jpeg")
NAMES = {"roomcast": "Roomcast", "ngircd": "ngIRCd", "gstreamer": "GStreamer", "libjpeg_turbo": "libjpeg-turbo"}

# The targets of issue 6 (Roomcast with history on).
CHAT_CPU_RATIO = 0.6        # server CPU per delivered message, Roomcast / ngIRCd, on both fan-out workloads
CHAT_P99_MS = 2.0           # p99 latency on the 100-client workload
IDLE_RSS_BYTES = 16_000     # RSS per idle connection (16 KB, taken as 16,000 bytes: the stricter reading)
VIDEO_CPU_RATIO = 0.5       # server CPU per delivered viewer-frame, Roomcast / GStreamer, UDP and TCP
VIDEO_UNICAST_VIEWERS = 200
VIDEO_MIN_FPS = 24.5        # "25 fps": every viewer at least 98% of the camera's 25 fps
VIDEO_MAX_LOSS = 0.1        # percent of packets
MULTICAST_CPU_RATIO = 1.10  # CPU with 100 viewers within 10% of the CPU with 1 viewer
JPEG_SPEED_RATIO = 0.3      # megapixels/s, Roomcast / libjpeg-turbo
JPEG_PSNR_DB = 0.5          # |PSNR-Y difference|

# roomcast-bench's ramp bar (ChatRampConfiguration), quoted in the text.
RAMP_MIN_DELIVERY = 0.99
RAMP_MAX_P99_MS = 100
# A video point is marked noisy when the host's CPU exceeds server + load generator by this much
# (percent of one core): other processes ran, or kernel work was charged to neither.
HOST_EXTRA_PERCENT = 25
LOAD_WARNING = 0.5

MET, MISSED, UNMEASURED = "✅ met", "❌ missed", "➖ not measured"
WARN = "⚠️"


# --------------------------------------------------------------------------------------------
# Formatting


def sig(x, n=3):
    """x with n significant digits, never in exponent notation; '—' for None."""
    if x is None:
        return "—"
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    digits = max(0, n - 1 - int(math.floor(math.log10(abs(x)))))
    text = "%.*f" % (digits, x)
    if abs(x) >= 10_000:
        text = "{:,}".format(int(round(x)))
    return text


def pct(x, digits=1):
    return "—" if x is None else "%.*f" % (digits, float(x))


def count(x):
    return "—" if x is None else "{:,}".format(int(round(float(x))))


def mib(b):
    return "—" if b is None else "%.1f MiB" % (float(b) / 1048576)


def kib(b):
    return "—" if b is None else "%.1f KiB (%s B)" % (float(b) / 1024, count(b))


def ratio_text(value, threshold=None, suffix="×"):
    """A ratio with 2 decimals, or 3 when 2 would round onto the threshold and hide which side it is on."""
    if value is None:
        return "—"
    digits = 2
    text = "%.2f" % value
    while threshold is not None and digits < 5 and value != threshold and abs(float(text) - threshold) < 1e-12:
        digits += 1
        text = "%.*f" % (digits, value)
    return text + suffix


def delivered_percent(delivered, expected):
    """100% only when everything arrived: never rounded up."""
    if delivered is None or not expected:
        return "—"
    if delivered >= expected:
        return "100%"
    return "%.2f%%" % (math.floor(delivered * 10000 / expected) / 100)


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(headers, rows, align=None):
    align = align or ["l"] + ["r"] * (len(headers) - 1)
    marks = {"l": "---", "r": "--:", "c": ":-:"}
    out = ["| " + " | ".join(cell(h) for h in headers) + " |",
           "| " + " | ".join(marks[a] for a in align) + " |"]
    for row in rows:
        out.append("| " + " | ".join(cell(c) for c in row) + " |")
    return "\n".join(out)


def name(key):
    return NAMES.get(key, key)


def num(x):
    try:
        return None if x is None else float(x)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------------------------
# Reading


def read_jsonl(path):
    rows, bad = [], 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if isinstance(obj, dict):
                rows.append(obj)
            else:
                bad += 1
    return rows, bad


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
        return obj if isinstance(obj, dict) else {}
    except (OSError, ValueError):
        return {}


class Part:
    """One of chat, video, jpeg: where its results are, whether it ran, its lines."""

    def __init__(self, part, path, requested, record):
        self.part, self.path, self.requested, self.record = part, path, requested, record or {}
        self.rows, self.bad = [], 0
        self.present = bool(path) and os.path.isfile(path)
        if self.present:
            self.rows, self.bad = read_jsonl(path)

    @property
    def exit_code(self):
        code = self.record.get("exit")
        return None if code is None else int(code)

    def exit_note(self):
        """For results left by a script that then failed: they may be incomplete."""
        if self.exit_code not in (None, 0) and self.rows:
            return ["_%s `benchmarks/%s.sh` exited with status %d: these results may be incomplete; see its log `%s`._" % (
                WARN, self.part, self.exit_code, self.record.get("log", self.part + ".log")), ""]
        return []

    def not_run_text(self, only):
        """Why a section has nothing to show, or None when it has results."""
        if self.present and self.rows:
            return None
        if not self.requested:
            return "Not run (this run was `--only %s`)." % only if only else "Not run."
        if self.exit_code not in (None, 0):
            return "Not run: `benchmarks/%s.sh` exited with status %d before writing results; see its log `%s`." % (
                self.part, self.exit_code, self.record.get("log", self.part + ".log"))
        if self.present:
            return "No results: `%s` is empty." % os.path.basename(self.path)
        return "Not run: no %s results." % self.part


class Chat:
    def __init__(self, rows):
        self.env = None
        self.results = {}
        self.workloads = []
        servers = []
        for r in rows:
            mode = r.get("mode")
            if mode == "environment":
                self.env = r
                continue
            labels = r.get("labels") or {}
            workload = labels.get("workload") or str(mode)
            server = labels.get("server") or "?"
            if workload not in self.workloads:
                self.workloads.append(workload)
            if server not in servers:
                servers.append(server)
            self.results[(workload, server)] = r
        self.servers = sorted(servers, key=lambda s: (s != "roomcast", servers.index(s)))
        self.peer = next((s for s in self.servers if s != "roomcast"), "ngircd")

    def get(self, workload, server, mode=None):
        r = self.results.get((workload, server))
        if r is None or (mode is not None and r.get("mode") != mode):
            return None
        return r

    def workloads_of(self, mode):
        return [w for w in self.workloads if any(self.results.get((w, s), {}).get("mode") == mode for s in self.servers)]


class Video:
    def __init__(self, rows):
        # video.sh appends: keep the last run (from its last "video-meta" line on).
        start = max([i for i, r in enumerate(rows) if r.get("bench") == "video-meta"], default=-1)
        self.meta = rows[start] if start >= 0 else {}
        self.earlier_runs = sum(1 for r in rows[:max(start, 0)] if r.get("bench") == "video-meta")
        self.transports = []
        labels = []
        windows = {}
        for r in rows[start + 1:]:
            if r.get("bench") != "video":
                continue
            transport = r.get("transport") or "?"
            sockets = r.get("multicast_sockets") or ("per-viewer" if transport == "multicast" else None)
            key = (r.get("label") or "?", transport, int(r.get("viewers") or 0), sockets)
            windows.setdefault(key, []).append(r)
            if transport not in self.transports:
                self.transports.append(transport)
            if key[0] not in labels:
                labels.append(key[0])
        self.points = {key: averaged(rows) for key, rows in windows.items()}
        order = {"udp": 0, "tcp": 1, "multicast": 2}
        self.transports.sort(key=lambda t: order.get(t, 3))
        self.peer = next((l for l in labels if l != "roomcast"), "gstreamer")

    def get(self, label, transport, viewers, sockets=None):
        if transport == "multicast" and sockets is None:
            sockets = "per-viewer"
        r = self.points.get((label, transport, viewers, sockets))
        return r

    def ok(self, label, transport, viewers, sockets=None):
        r = self.get(label, transport, viewers, sockets)
        return r if r is not None and not r.get("error") else None

    def viewer_counts(self, transport, sockets=None):
        if transport == "multicast" and sockets is None:
            sockets = "per-viewer"
        return sorted({k[2] for k in self.points if k[1] == transport and k[3] == sockets})


def averaged(windows):
    """One point from the windows measured for it (video.sh alternates the one-socket multicast
    points on one server): CPU figures averaged, the window lengths added up (the tick resolution
    is over all of them), loss and frame rates the worst, flags of any window."""
    if len(windows) == 1:
        return windows[0]
    ok = [w for w in windows if not w.get("error")]
    if not ok:
        return windows[-1]
    point = dict(ok[-1])
    for field in ("server_cpu_percent", "server_cpu_us_per_viewer_frame", "generator_cpu_percent", "host_cpu_percent"):
        values = [num(w.get(field)) for w in ok if num(w.get(field)) is not None]
        point[field] = sum(values) / len(values) if values else None
    point["duration_s"] = sum(num(w.get("duration_s")) or 0 for w in ok)
    losses = [num(w.get("loss_percent")) for w in ok if num(w.get("loss_percent")) is not None]
    point["loss_percent"] = max(losses) if losses else None
    fps = [w.get("fps_per_viewer") or {} for w in ok]
    point["fps_per_viewer"] = {"min": min((num(f.get("min")) for f in fps if num(f.get("min")) is not None), default=None),
                               "median": min((num(f.get("median")) for f in fps if num(f.get("median")) is not None), default=None)}
    point["flags"] = sorted({flag for w in ok for flag in (w.get("flags") or [])})
    point["windows_cpu_percent"] = [num(w.get("server_cpu_percent")) for w in ok]
    if len(ok) < len(windows):
        point["flags"].append("%d of %d windows failed" % (len(windows) - len(ok), len(windows)))
    return point


class Jpeg:
    def __init__(self, rows):
        self.cases = {}
        for r in rows:
            if r.get("bench") != "jpeg":
                continue
            key = (r.get("scene"), r.get("width"), r.get("height"), r.get("quality"))
            self.cases.pop(key, None)
            self.cases[key] = r

    def speed_ratio(self, r):
        rc, lj = num((r.get("roomcast") or {}).get("megapixels_per_s")), num((r.get("libjpeg_turbo") or {}).get("megapixels_per_s"))
        if rc is not None and lj:
            return rc / lj
        return num(r.get("speed_ratio"))

    def psnr_delta(self, r):
        rc, lj = num((r.get("roomcast") or {}).get("psnr_y_db")), num((r.get("libjpeg_turbo") or {}).get("psnr_y_db"))
        if rc is not None and lj is not None:
            return rc - lj
        return num(r.get("psnr_y_delta_db"))


# --------------------------------------------------------------------------------------------
# Flags


def chat_flags(r):
    """Short warnings for a chat run (or ramp step), from its figures and its "flags" strings."""
    out = []
    if r.get("generator_saturated"):
        out.append("generator saturated")
    if r.get("machine_saturated"):
        out.append("machine saturated (CPU wait %s%%)" % pct(r.get("machine_cpu_pressure_percent"), 0))
    lag = num(r.get("generator_max_send_lag_ms"))
    if lag is not None and lag > 10:
        out.append("late sends (%s ms)" % sig(lag))
    if r.get("disconnected"):
        out.append("%d disconnected" % r["disconnected"])
    if r.get("mode") in ("chat", "idle", None):
        known = ("SATURATED", "MACHINE SATURATED", "LATE SENDS", "DISCONNECTED")
        for f in r.get("flags") or []:
            head = str(f).split(":", 1)[0].strip()
            if head not in known:
                out.append(str(f))
    return out


def ramp_flag_summary(r):
    steps = r.get("steps") or []
    n = {"machine": 0, "generator": 0, "late": 0}
    for s in steps:
        n["machine"] += bool(s.get("machine_saturated"))
        n["generator"] += bool(s.get("generator_saturated"))
        n["late"] += bool((num(s.get("generator_max_send_lag_ms")) or 0) > 10)
    parts = []
    if n["machine"]:
        parts.append("machine saturated in %d of %d steps" % (n["machine"], len(steps)))
    if n["generator"]:
        parts.append("generator saturated in %d" % n["generator"])
    if n["late"]:
        parts.append("late sends in %d" % n["late"])
    return parts


def video_flags(r):
    out = list(r.get("flags") or [])
    host, server, gen = num(r.get("host_cpu_percent")), num(r.get("server_cpu_percent")), num(r.get("generator_cpu_percent"))
    if host is not None and server is not None and gen is not None and host - server - gen > HOST_EXTRA_PERCENT:
        out.append("HOST BUSY (+%.0f%% of a core)" % (host - server - gen))
    return out


def flag_text(flags):
    return (WARN + " " + "; ".join(flags)) if flags else ""


# --------------------------------------------------------------------------------------------
# Targets


class Target:
    def __init__(self, target, ours="—", peer="—", ratio="—", verdict=UNMEASURED, flagged=False, note=""):
        self.target, self.ours, self.peer, self.ratio = target, ours, peer, ratio
        self.verdict, self.flagged, self.note = verdict, flagged, note

    def row(self):
        verdict = self.verdict + (" " + WARN if self.flagged and self.verdict != UNMEASURED else "")
        target = self.target + (" — " + self.note if self.note else "")
        return [target, self.ours, self.peer, self.ratio, verdict]


def verdict(ok):
    return MET if ok else MISSED


def chat_targets(part, chat):
    rows = []
    peer = name(chat.peer) if chat else "ngIRCd"
    missing = "chat not run" if chat is None else None
    history_note = ""
    if chat is not None:
        flags = [((chat.get(w, "roomcast") or {}).get("labels") or {}).get("flags", "") for w in chat.workloads]
        if any(f and "history on" not in f for f in flags):
            history_note = "history not confirmed on"
    for workload, label in (("fanout100", "100 clients × 10 senders × 500 msg/s"), ("fanout500", "500 clients × 5 senders × 100 msg/s")):
        t = Target("Chat %s: server CPU per delivered message ≤ %.1f× %s's" % (label, CHAT_CPU_RATIO, peer))
        rc = chat.get(workload, "roomcast", "chat") if chat else None
        ng = chat.get(workload, chat.peer, "chat") if chat else None
        if rc:
            t.ours = "%s µs (%s%% CPU)" % (sig(rc.get("server_cpu_us_per_delivery")), pct(rc.get("server_cpu_percent")))
        if ng:
            t.peer = "%s µs (%s%% CPU)" % (sig(ng.get("server_cpu_us_per_delivery")), pct(ng.get("server_cpu_percent")))
        a, b = num((rc or {}).get("server_cpu_us_per_delivery")), num((ng or {}).get("server_cpu_us_per_delivery"))
        if a is not None and b:
            t.ratio = ratio_text(a / b, CHAT_CPU_RATIO)
            t.verdict = verdict(a / b <= CHAT_CPU_RATIO)
            t.flagged = bool(chat_flags(rc) or chat_flags(ng))
        else:
            t.note = missing or "%s: %s" % (workload, "no Roomcast result" if not rc else "no %s result" % peer)
        if history_note:
            t.note = (t.note + "; " if t.note else "") + history_note
        rows.append(t)

    t = Target("Chat p99 latency ≤ %g ms on the 100-client workload" % CHAT_P99_MS)
    rc = chat.get("fanout100", "roomcast", "chat") if chat else None
    ng = chat.get("fanout100", chat.peer, "chat") if chat else None
    if rc and rc.get("latency_p99_ms") is not None:
        p99 = num(rc["latency_p99_ms"])
        t.ours = "%s ms" % sig(p99)
        t.verdict = verdict(p99 <= CHAT_P99_MS)
        t.flagged = bool(chat_flags(rc))
        if ng and ng.get("latency_p99_ms") is not None:
            t.peer = "%s ms" % sig(ng["latency_p99_ms"])
            if num(ng["latency_p99_ms"]):
                t.ratio = ratio_text(p99 / num(ng["latency_p99_ms"]))
    else:
        t.note = missing or "no Roomcast fanout100 result"
    rows.append(t)

    t = Target("Chat delivery 100% on both fan-out workloads")
    ours, theirs, oks, absent = [], [], [], []
    for workload in ("fanout100", "fanout500"):
        rc = chat.get(workload, "roomcast", "chat") if chat else None
        ng = chat.get(workload, chat.peer, "chat") if chat else None
        if rc:
            ours.append(delivered_percent(rc.get("delivered"), rc.get("expected")))
            oks.append(rc.get("delivered") == rc.get("expected") and not rc.get("lost") and not rc.get("disconnected"))
            t.flagged = t.flagged or bool(chat_flags(rc))
        else:
            ours.append("—")
            absent.append(workload)
        theirs.append(delivered_percent(ng.get("delivered"), ng.get("expected")) if ng else "—")
    t.ours, t.peer = " / ".join(ours), " / ".join(theirs)
    if oks and not all(oks):
        t.verdict = MISSED
    elif oks and not absent:
        t.verdict = MET
    if absent:
        t.note = missing or "no Roomcast result for " + ", ".join(absent)
    rows.append(t)

    t = Target("Chat RSS per idle connection ≤ 16 KB (taken as %s B; 2,000 connections)" % count(IDLE_RSS_BYTES))
    rc = chat.get("idle2000", "roomcast", "idle") if chat else None
    ng = chat.get("idle2000", chat.peer, "idle") if chat else None
    a, b = num((rc or {}).get("rss_per_connection_bytes")), num((ng or {}).get("rss_per_connection_bytes"))
    if a is not None:
        t.ours = "%s B" % count(a)
        t.verdict = verdict(a <= IDLE_RSS_BYTES)
        t.flagged = bool(chat_flags(rc))
    else:
        t.note = missing or "no Roomcast idle2000 result"
    if b is not None:
        t.peer = "%s B" % count(b)
        if a is not None and b:
            t.ratio = ratio_text(a / b)
    rows.append(t)

    t = Target("Chat highest sustained rate (ramp, 100 clients) ≥ %s's" % peer)
    rc = chat.get("ramp100", "roomcast", "ramp") if chat else None
    ng = chat.get("ramp100", chat.peer, "ramp") if chat else None
    if rc and ng:
        a, a_top = ramp_max(rc)
        b, b_top = ramp_max(ng)
        t.ours = "%s%s msg/s" % ("≥ " if a_top else "", count(a))
        t.peer = "%s%s msg/s" % ("≥ " if b_top else "", count(b))
        if b:
            t.ratio = ratio_text(a / b)
        # A ramp that passed its last step gives only a lower bound.
        if a >= b and (not b_top or a_top):
            t.verdict = MET
        elif a < b and not a_top:
            t.verdict = MISSED
        else:
            t.note = "inconclusive: a ramp passed every step; raise RAMP_MAX"
        if a_top and b_top and a >= b:
            t.note = "both passed every step: raise RAMP_MAX to find the limits"
        t.flagged = bool(ramp_flag_summary(rc) or ramp_flag_summary(ng))
    else:
        t.note = missing or "no %s ramp100 result" % ("Roomcast" if not rc else peer)
        if rc:
            a, a_top = ramp_max(rc)
            t.ours = "%s%s msg/s" % ("≥ " if a_top else "", count(a))
    rows.append(t)
    return rows


def ramp_max(r):
    """(highest passing rate or 0, whether the ramp passed its last step: the figure is then a lower bound)."""
    steps = r.get("steps") or []
    best = num(r.get("max_sustained_rate"))
    if best is None:
        passing = [num(s.get("rate")) for s in steps if s.get("passed")]
        best = max(passing) if passing else 0
    top = bool(steps) and bool(steps[-1].get("passed"))
    return best, top


def video_targets(video):
    rows = []
    peer = name(video.peer) if video else "GStreamer"
    for transport in ("udp", "tcp"):
        t = Target("Video %s: server CPU per delivered viewer-frame ≤ %.1f× %s's, at every viewer count"
                   % (transport.upper(), VIDEO_CPU_RATIO, peer))
        ratios = []
        if video:
            for v in video.viewer_counts(transport):
                rc, gs = video.ok("roomcast", transport, v), video.ok(video.peer, transport, v)
                a = num((rc or {}).get("server_cpu_us_per_viewer_frame"))
                b = num((gs or {}).get("server_cpu_us_per_viewer_frame"))
                if a is not None and b:
                    ratios.append((v, a / b, rc, gs))
        if ratios:
            v, r, rc, gs = ratios[-1]
            t.ours = "%s µs at %d viewers" % (sig(rc["server_cpu_us_per_viewer_frame"]), v)
            t.peer = "%s µs" % sig(gs["server_cpu_us_per_viewer_frame"])
            lo, hi = min(x[1] for x in ratios), max(x[1] for x in ratios)
            t.ratio = ratio_text(r, VIDEO_CPU_RATIO) + (" (%s–%s over %d–%d viewers)" % (
                ratio_text(lo, VIDEO_CPU_RATIO), ratio_text(hi, VIDEO_CPU_RATIO), ratios[0][0], v) if len(ratios) > 1 else "")
            t.verdict = verdict(hi <= VIDEO_CPU_RATIO)
            t.flagged = any(video_flags(x[2]) or video_flags(x[3]) for x in ratios)
        else:
            t.note = "video not run" if video is None else "no %s point measured on both servers" % transport.upper()
        rows.append(t)

    t = Target("Video %d unicast UDP viewers at 25 fps 640×480, loss < %g%%" % (VIDEO_UNICAST_VIEWERS, VIDEO_MAX_LOSS))
    rc = video.ok("roomcast", "udp", VIDEO_UNICAST_VIEWERS) if video else None
    gs = video.ok(video.peer, "udp", VIDEO_UNICAST_VIEWERS) if video else None

    def playback(r):
        fps = r.get("fps_per_viewer") or {}
        return "%s%% loss, %s / %s fps (min / median), %s of %d playing" % (
            sig(r.get("loss_percent")), pct(fps.get("min")), pct(fps.get("median")),
            r.get("viewers_playing", "?"), r.get("viewers", 0))
    if rc:
        fps_min = num((rc.get("fps_per_viewer") or {}).get("min")) or 0
        ok = (num(rc.get("loss_percent")) or 0) < VIDEO_MAX_LOSS and fps_min >= VIDEO_MIN_FPS \
            and rc.get("viewers_playing") == VIDEO_UNICAST_VIEWERS and not rc.get("viewers_failed")
        t.ours, t.verdict, t.flagged = playback(rc), verdict(ok), bool(video_flags(rc))
        t.note = "every viewer ≥ %g fps" % VIDEO_MIN_FPS
    else:
        t.note = "video not run" if video is None else "no Roomcast UDP point with %d viewers" % VIDEO_UNICAST_VIEWERS
    if gs:
        t.peer = playback(gs)
    rows.append(t)

    for sockets, what in (("one", "one receiving socket: the server's own cost"),
                          ("per-viewer", "a socket per viewer: adds the kernel's loopback fan-out")):
        t = Target("Video multicast: server CPU with 100 viewers within 10%% of 1 viewer (%s)" % what)
        one = video.ok("roomcast", "multicast", 1, sockets) if video else None
        hundred = video.ok("roomcast", "multicast", 100, sockets) if video else None
        a, b = num((hundred or {}).get("server_cpu_percent")), num((one or {}).get("server_cpu_percent"))
        if a is not None and b:
            t.ours = "%s%% CPU at 100 viewers, %s%% at 1" % (pct(a, 2), pct(b, 2))
            if hundred.get("windows_cpu_percent") or one.get("windows_cpu_percent"):
                t.ours += " (means of %d and %d windows alternating on one server)" % (
                    len(hundred.get("windows_cpu_percent") or [a]), len(one.get("windows_cpu_percent") or [b]))
            t.ratio = ratio_text(a / b, MULTICAST_CPU_RATIO)
            t.verdict = verdict(a / b <= MULTICAST_CPU_RATIO)
            t.flagged = bool(video_flags(hundred) or video_flags(one))
            t.note = "CPU resolution %s%% of a core" % resolution_text(hundred)
        else:
            t.note = "video not run" if video is None else "multicast %s points missing" % sockets
        if video:
            g = video.get(video.peer, "multicast", 100, sockets) or video.get(video.peer, "multicast", 1, sockets)
            if g is not None and g.get("error"):
                t.peer = "%s skipped (see Multicast)" % peer if str(g["error"]).startswith("skipped") else "%s failed" % peer
            elif g is not None:
                gb, ga = video.ok(video.peer, "multicast", 1, sockets), video.ok(video.peer, "multicast", 100, sockets)
                if ga and gb:
                    t.peer = "%s%% / %s%%" % (pct(ga.get("server_cpu_percent"), 2), pct(gb.get("server_cpu_percent"), 2))
        rows.append(t)
    return rows


def resolution_text(r):
    """The CPU figures come from clock ticks (10 ms): 1 tick over the window, in percent of a core."""
    d = num((r or {}).get("duration_s"))
    return "±%s" % sig(1.0 / d, 1) if d else "?"


def jpeg_targets(jpeg):
    rows = []
    cases = list(jpeg.cases.values()) if jpeg else []
    t = Target("JPEG encoder ≥ %.1f× libjpeg-turbo's megapixels/s (same settings), every scene and size" % JPEG_SPEED_RATIO)
    speed = [(jpeg.speed_ratio(r), r) for r in cases if jpeg.speed_ratio(r) is not None]
    if speed:
        worst, r = min(speed, key=lambda x: x[0])
        t.ours = "%s MP/s (%s)" % (sig(r["roomcast"].get("megapixels_per_s")), case_name(r))
        t.peer = "%s MP/s" % sig(r["libjpeg_turbo"].get("megapixels_per_s"))
        t.ratio = ratio_text(worst, JPEG_SPEED_RATIO) + (" (lowest of %d; highest %s)" % (
            len(speed), ratio_text(max(x[0] for x in speed))) if len(speed) > 1 else "")
        t.verdict = verdict(worst >= JPEG_SPEED_RATIO)
    else:
        t.note = "jpeg not run" if jpeg is None else "no results"
    rows.append(t)

    t = Target("JPEG PSNR-Y within %.1f dB of libjpeg-turbo's, every scene and size" % JPEG_PSNR_DB)
    deltas = [(jpeg.psnr_delta(r), r) for r in cases if jpeg.psnr_delta(r) is not None]
    if deltas:
        delta, r = max(deltas, key=lambda x: abs(x[0]))
        t.ours = "%.2f dB (%s)" % (num(r["roomcast"].get("psnr_y_db")), case_name(r))
        t.peer = "%.2f dB" % num(r["libjpeg_turbo"].get("psnr_y_db"))
        t.ratio = "Δ %+.2f dB (largest of %d)" % (delta, len(deltas))
        t.verdict = verdict(abs(delta) <= JPEG_PSNR_DB)
    else:
        t.note = "jpeg not run" if jpeg is None else "no results"
    rows.append(t)
    return rows


def case_name(r):
    return "%s %s×%s" % (r.get("scene"), r.get("width"), r.get("height"))


# --------------------------------------------------------------------------------------------
# Sections


def chat_section(part, chat, only):
    out = ["## Chat: Roomcast and ngIRCd", ""]
    why = part.not_run_text(only)
    if why:
        return out + ["_%s_" % why, ""]
    out += part.exit_note()
    env = chat.env or {}
    peer = name(chat.peer)
    out.append("Both servers in one run of `benchmarks/chat.sh`, one after the other, on loopback; a fresh server "
               "(and, for Roomcast, a fresh history database) for every workload. The load generator "
               "(`roomcast-bench chat`) runs on the same machine and is measured too.")
    out.append("")
    if env:
        out.append("- Roomcast: `%s`" % ((chat.get(chat.workloads[0], "roomcast") or {}).get("labels", {}).get("flags")
                                       or "roomcast serve " + env.get("roomcast_flags", "")))
        out.append("- %s: %s, %s" % (peer, env.get("ngircd_version", "?"), env.get("ngircd_flags", "")))
        out.append("")
    if part.bad:
        out += ["_%d unreadable line(s) in the results were left out._" % part.bad, ""]

    for workload in chat.workloads_of("chat"):
        first = next((chat.results.get((workload, s)) for s in chat.servers if chat.results.get((workload, s))), {})
        out.append("### %s: %s clients, %s senders, %s msg/s in total, %s s measured" % (
            workload, count(first.get("clients")), count(first.get("senders")), sig(first.get("rate")),
            sig(first.get("duration_s"))))
        out.append("")
        rows = []
        for server in chat.servers:
            r = chat.results.get((workload, server))
            if r is None:
                continue
            if r.get("mode") == "error":
                rows.append([name(server), "failed (see chat.log)"] + [""] * 11)
                continue
            rows.append([
                name(server), delivered_percent(r.get("delivered"), r.get("expected")),
                count(r.get("deliveries_per_s")), sig(r.get("latency_p50_ms")), sig(r.get("latency_p99_ms")),
                sig(r.get("latency_p999_ms")), sig(r.get("latency_max_ms")), pct(r.get("server_cpu_percent")),
                sig(r.get("server_cpu_us_per_delivery")), mib(r.get("server_rss_bytes")),
                pct(r.get("generator_cpu_percent")), pct(r.get("machine_cpu_pressure_percent"), 0),
                flag_text(chat_flags(r))])
        rc, ng = chat.get(workload, "roomcast", "chat"), chat.get(workload, chat.peer, "chat")
        if rc and ng:
            def q(key):
                a, b = num(rc.get(key)), num(ng.get(key))
                return ratio_text(a / b) if a is not None and b else "—"
            rows.append(["**Roomcast / %s**" % peer, "", q("deliveries_per_s"), q("latency_p50_ms"), q("latency_p99_ms"),
                         q("latency_p999_ms"), q("latency_max_ms"), q("server_cpu_percent"),
                         "**%s**" % q("server_cpu_us_per_delivery"), q("server_rss_bytes"), q("generator_cpu_percent"), "", ""])
        out.append(table(["Server", "Delivered", "Deliveries/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms",
                          "Server CPU %", "µs CPU / delivery", "Server RSS", "Generator CPU %", "CPU wait %", "Flags"], rows,
                         ["l"] + ["r"] * 11 + ["l"]))
        out.append("")

    for workload in chat.workloads_of("idle"):
        out.append("### %s: idle registered connections" % workload)
        out.append("")
        rows = []
        for server in chat.servers:
            r = chat.results.get((workload, server))
            if r is None:
                continue
            if r.get("mode") == "error":
                rows.append([name(server), "failed (see chat.log)", "", "", "", "", ""])
                continue
            setup = num(r.get("server_setup_cpu_us"))
            rows.append([name(server), count(r.get("connections")), mib(r.get("server_rss_before_bytes")),
                         mib(r.get("server_rss_after_bytes")), kib(r.get("rss_per_connection_bytes")),
                         "—" if setup is None else "%s ms" % sig(setup / 1000), flag_text(chat_flags(r))])
        rc, ng = chat.get(workload, "roomcast", "idle"), chat.get(workload, chat.peer, "idle")
        if rc and ng and num(ng.get("rss_per_connection_bytes")):
            rows.append(["**Roomcast / %s**" % peer, "", ratio_text(num(rc.get("server_rss_before_bytes")) / num(ng.get("server_rss_before_bytes")))
                         if num(ng.get("server_rss_before_bytes")) else "—",
                         ratio_text(num(rc.get("server_rss_after_bytes")) / num(ng.get("server_rss_after_bytes")))
                         if num(ng.get("server_rss_after_bytes")) else "—",
                         "**%s**" % ratio_text(num(rc["rss_per_connection_bytes"]) / num(ng["rss_per_connection_bytes"])),
                         ratio_text(num(rc.get("server_setup_cpu_us")) / num(ng.get("server_setup_cpu_us")))
                         if num(ng.get("server_setup_cpu_us")) and num(rc.get("server_setup_cpu_us")) is not None else "—", ""])
        out.append(table(["Server", "Connections", "RSS before", "RSS after", "RSS per connection",
                          "Server CPU to accept them", "Flags"], rows, ["l", "r", "r", "r", "r", "r", "l"]))
        out.append("")

    for workload in chat.workloads_of("ramp"):
        first = next((chat.results.get((workload, s)) for s in chat.servers if chat.results.get((workload, s))), {})
        out.append("### %s: rising rates, %s clients, %s senders" % (workload, count(first.get("clients")), count(first.get("senders"))))
        out.append("")
        out.append("Each step runs a few seconds at one rate; a step passes with at least %g%% delivered, p99 under %d ms "
                   "and nobody disconnected; the ramp stops after consecutive failures. \"Max sustained\" is the highest "
                   "passing rate (≥ when the last step run passed)." % (RAMP_MIN_DELIVERY * 100, RAMP_MAX_P99_MS))
        out.append("")
        rows = []
        steps_by = {}
        for server in chat.servers:
            r = chat.results.get((workload, server))
            if r is None:
                continue
            if r.get("mode") == "error":
                rows.append([name(server), "failed (see chat.log)", "", "", "", "", "", "", ""])
                continue
            steps = r.get("steps") or []
            steps_by[server] = {num(s.get("rate")): s for s in steps}
            best, top = ramp_max(r)
            at = next((s for s in steps if num(s.get("rate")) == best and s.get("passed")), None) or {}
            fail = next((s for s in steps if not s.get("passed")), None)
            rates = [num(s.get("rate")) for s in steps]
            rows.append([name(server), ("≥ " if top else "") + count(best), count(at.get("deliveries_per_s")),
                         sig(at.get("latency_p99_ms")), pct(at.get("server_cpu_percent")),
                         sig(at.get("server_cpu_us_per_delivery")),
                         ("%s msg/s: %s" % (count(fail.get("rate")), step_failure(fail))) if fail else "none",
                         "%d (%s–%s msg/s)" % (len(steps), count(min(rates)), count(max(rates))) if rates else "0",
                         flag_text(ramp_flag_summary(r))])
        rc, ng = chat.get(workload, "roomcast", "ramp"), chat.get(workload, chat.peer, "ramp")
        if rc and ng and ramp_max(ng)[0]:
            rows.append(["**Roomcast / %s**" % peer, "**%s**" % ratio_text(ramp_max(rc)[0] / ramp_max(ng)[0]), "", "", "", "", "", "", ""])
        out.append(table(["Server", "Max sustained msg/s", "Deliveries/s there", "p99 ms there", "Server CPU % there",
                          "µs CPU / delivery there", "First failing step", "Steps run", "Flags"], rows,
                         ["l", "r", "r", "r", "r", "r", "l", "l", "l"]))
        out.append("")
        if steps_by:
            servers = [s for s in chat.servers if s in steps_by]
            rates = sorted({rate for s in servers for rate in steps_by[s] if rate is not None})
            headers = ["msg/s"]
            for s in servers:
                headers += ["%s p99 ms" % name(s), "%s CPU %%" % name(s), "%s µs/delivery" % name(s), name(s)]
            srows = []
            for rate in rates:
                row = [count(rate)]
                for s in servers:
                    st = steps_by[s].get(rate)
                    if st is None:
                        row += ["", "", "", ""]
                    else:
                        warn = chat_flags(st)
                        row += [sig(st.get("latency_p99_ms")), pct(st.get("server_cpu_percent")),
                                sig(st.get("server_cpu_us_per_delivery")),
                                ("pass" if st.get("passed") else "**fail**") + (" " + WARN if warn else "")]
                srows.append(row)
            out.append("<details><summary>Every ramp step (%s = flagged: machine or generator saturated, or late sends)</summary>" % WARN)
            out.append("")
            out.append(table(headers, srows))
            out.append("")
            out.append("</details>")
            out.append("")

    others = [w for w in chat.workloads if w not in chat.workloads_of("chat") + chat.workloads_of("idle") + chat.workloads_of("ramp")]
    for workload in others:
        out += ["### %s" % workload, "", "_Only failed runs: see chat.log._", ""]

    out.append("Flags (as judged by `roomcast-bench chat`): _machine saturated_: tasks waited for a CPU during much of "
               "the window, or every core was busy — "
               "server and load generator competed for the CPU, so CPU figures and latencies are pessimistic for whichever "
               "server is heavier; _generator saturated_: the load generator was near its CPU limit, the server may not have "
               "been the bottleneck; _late sends_: a sender woke up more than 10 ms late. CPU wait % is the share of the window "
               "in which tasks waited for a CPU.")
    out.append("")
    return out


def step_failure(s):
    why = []
    ratio = num(s.get("delivery_ratio"))
    if ratio is not None and ratio < RAMP_MIN_DELIVERY:
        why.append("%s delivered" % delivered_percent(s.get("delivered"), s.get("expected")))
    p99 = num(s.get("latency_p99_ms"))
    if p99 is None or p99 >= RAMP_MAX_P99_MS:
        why.append("p99 %s ms" % sig(p99))
    if s.get("disconnected"):
        why.append("%d disconnected" % s["disconnected"])
    return ", ".join(why) or "failed"


def video_section(part, video, only):
    out = ["## Video: Roomcast and GStreamer's RTSP server", ""]
    why = part.not_run_text(only)
    if why:
        return out + ["_%s_" % why, ""]
    out += part.exit_note()
    peer = name(video.peer)
    meta = video.meta
    out.append("Both servers in one run of `benchmarks/video.sh`, serving the same picture as RTP/JPEG (%s), measured "
               "one after the other by `roomcast-bench video` for each transport and viewer count; %s measured, %s "
               "warm-up per point; %s." % (
                   meta.get("picture", "?"), meta.get("duration", "?"), meta.get("warmup", "?"),
                   "inside a private network namespace (only lo)" if meta.get("netns") else "on the host's loopback"))
    out.append("")
    if video.earlier_runs:
        out += ["_The file holds %d earlier run(s); only the last is shown._" % video.earlier_runs, ""]
    if part.bad:
        out += ["_%d unreadable line(s) in the results were left out._" % part.bad, ""]
    for transport in video.transports:
        if transport == "multicast":
            continue
        out.append("### %s" % transport.upper())
        out.append("")
        rows = []
        for v in video.viewer_counts(transport):
            rc, gs = video.get("roomcast", transport, v), video.get(video.peer, transport, v)
            a = num((rc or {}).get("server_cpu_us_per_viewer_frame")) if rc and not rc.get("error") else None
            b = num((gs or {}).get("server_cpu_us_per_viewer_frame")) if gs and not gs.get("error") else None
            flags = []
            for label, r in (("Roomcast", rc), (peer, gs)):
                if r is not None and r.get("error"):
                    flags.append("%s: %s" % (label, r["error"]))
                elif r is not None and video_flags(r):
                    flags.append("%s %s: %s" % (WARN, label, ", ".join(video_flags(r))))
            rows.append([str(v), sig(a), sig(b),
                         ("**%s**" % ratio_text(a / b, VIDEO_CPU_RATIO)) if a is not None and b else "—",
                         vfield(rc, "server_cpu_percent"), vfield(gs, "server_cpu_percent"),
                         vloss(rc), vloss(gs), vfps(rc), vfps(gs), "; ".join(flags)])
        out.append(table(["Viewers", "Roomcast µs CPU / viewer-frame", "%s µs CPU / viewer-frame" % peer, "Ratio",
                          "Roomcast CPU %", "%s CPU %%" % peer, "Roomcast loss %", "%s loss %%" % peer,
                          "Roomcast fps min / median", "%s fps min / median" % peer, "Flags"], rows,
                         ["r"] * 10 + ["l"]))
        out.append("")

    if "multicast" in video.transports:
        out.append("### Multicast")
        out.append("")
        out.append("Roomcast sends each packet once to the group; the viewers join it. _per-viewer_: every viewer has its own "
                   "socket, so the kernel copies each packet to every socket on loopback (work a real network does in the "
                   "switch and the receivers); _one_: a single socket receives for all viewers, which isolates the server's "
                   "own cost. \"vs 1 viewer\" is the server CPU relative to the 1-viewer point of the same kind. The _one_ "
                   "points are measured on one running server, alternating between the viewer counts (1, 100, 1, 100, …): "
                   "their difference is smaller than the server's CPU varies from one start to the next; the CPU shown is "
                   "the mean, with each window's figure in brackets.")
        out.append("")
        rows, reasons = [], []
        for sockets in ("per-viewer", "one"):
            counts = video.viewer_counts("multicast", sockets)
            base = video.ok("roomcast", "multicast", 1, sockets)
            for v in counts:
                rc, gs = video.get("roomcast", "multicast", v, sockets), video.get(video.peer, "multicast", v, sockets)
                rel = "—"
                if rc and not rc.get("error") and base and num(base.get("server_cpu_percent")):
                    rel = ratio_text(num(rc.get("server_cpu_percent")) / num(base["server_cpu_percent"]), MULTICAST_CPU_RATIO)
                if gs is None:
                    gtext = "—"
                elif gs.get("error"):
                    reason = str(gs["error"])
                    if reason not in reasons:
                        reasons.append(reason)
                    gtext = "skipped¹" if reason.startswith("skipped") else "failed: " + reason
                else:
                    gtext = "%s µs, %s%% CPU" % (sig(gs.get("server_cpu_us_per_viewer_frame")), pct(gs.get("server_cpu_percent"), 2))
                flags = "error: " + rc["error"] if rc and rc.get("error") else flag_text(video_flags(rc or {}))
                cpu = vfield(rc, "server_cpu_percent", 2)
                if rc and rc.get("windows_cpu_percent"):
                    cpu += " (%s)" % " / ".join(pct(w, 2) for w in rc["windows_cpu_percent"])
                rows.append([str(v), sockets, sig(None if not rc or rc.get("error") else rc.get("server_cpu_us_per_viewer_frame")),
                             cpu, rel, vloss(rc), vfps(rc), gtext, flags])
        out.append(table(["Viewers", "Receiving sockets", "Roomcast µs CPU / viewer-frame", "Roomcast CPU %",
                          "vs 1 viewer", "Roomcast loss %", "Roomcast fps min / median", peer, "Flags"], rows,
                         ["r", "l", "r", "r", "r", "r", "r", "l", "l"]))
        out.append("")
        for reason in reasons:
            out += ["¹ %s: %s" % (peer, reason), ""]

    out.append("CPU figures come from the server's clock ticks (10 ms): over a %s window one tick is %s%% of a core. Flags: "
               "_HOST BUSY_: the machine's CPU exceeded server + load generator by more than %d%% of a core (other work on "
               "the machine, or kernel work charged to neither) — treat the point as noisy; _HOST_SATURATED_: every core "
               "busy; _GENERATOR_SATURATED_: the viewers' process was near its CPU limit; _SOCKET_DROPS_: the kernel dropped "
               "packets at the viewers' sockets; _VIEWERS_FAILED_: not every viewer started playing." % (
                   meta.get("duration", "?"), resolution_text(next((r for r in video.points.values() if r.get("duration_s")), None)),
                   HOST_EXTRA_PERCENT))
    out.append("")
    return out


def vfield(r, key, digits=1):
    if r is None:
        return "—"
    if r.get("error"):
        return "error"
    return pct(r.get(key), digits)


def vloss(r):
    if r is None or r.get("error"):
        return "—"
    loss = num(r.get("loss_percent"))
    return "—" if loss is None else ("0" if loss == 0 else sig(loss, 2))


def vfps(r):
    if r is None or r.get("error"):
        return "—"
    fps = r.get("fps_per_viewer") or {}
    return "%s / %s" % (pct(fps.get("min")), pct(fps.get("median")))


def jpeg_section(part, jpeg, only):
    out = ["## JPEG: Roomcast's encoder and libjpeg-turbo", ""]
    why = part.not_run_text(only)
    if why:
        return out + ["_%s_" % why, ""]
    out += part.exit_note()
    cases = list(jpeg.cases.values())
    first = cases[0]
    lj = first.get("libjpeg_turbo") or {}
    out.append("`benchmarks/jpeg.sh`: both encoders on the same frames, quality %s, %s, %s DCT, %s frames per case, "
               "alternating rounds, the best round as the headline (the median in brackets). libjpeg-turbo %s through "
               "libturbojpeg; tjbench's own figure for comparison." % (
                   first.get("quality", "?"), first.get("subsampling", "?"), first.get("dct", "?"),
                   first.get("frames", "?"), lj.get("version", "?")))
    out.append("")
    rows = []
    for r in cases:
        rc, lj = r.get("roomcast") or {}, r.get("libjpeg_turbo") or {}
        speed, delta = jpeg.speed_ratio(r), jpeg.psnr_delta(r)
        size = num(rc.get("bytes_per_frame")), num(lj.get("bytes_per_frame"))
        rows.append([r.get("scene", "?"), "%s×%s" % (r.get("width"), r.get("height")),
                     "%s (%s)" % (sig(rc.get("megapixels_per_s")), sig(rc.get("median_megapixels_per_s"))),
                     "%s (%s)" % (sig(lj.get("megapixels_per_s")), sig(lj.get("median_megapixels_per_s"))),
                     "**%s**" % ratio_text(speed, JPEG_SPEED_RATIO) if speed is not None else "—",
                     sig(r.get("tjbench_megapixels_per_s")),
                     count(size[0]), count(size[1]), ratio_text(size[0] / size[1]) if size[0] is not None and size[1] else "—",
                     "%.2f" % num(rc.get("psnr_y_db")) if rc.get("psnr_y_db") is not None else "—",
                     "%.2f" % num(lj.get("psnr_y_db")) if lj.get("psnr_y_db") is not None else "—",
                     "**%+.2f**" % delta if delta is not None else "—"])
    out.append(table(["Scene", "Size", "Roomcast MP/s", "libjpeg-turbo MP/s", "Ratio", "tjbench MP/s",
                      "Roomcast bytes/frame", "libjpeg-turbo bytes/frame", "Size ratio", "Roomcast PSNR-Y dB",
                      "libjpeg-turbo PSNR-Y dB", "Δ dB"], rows, ["l", "l"] + ["r"] * 10))
    out.append("")
    return out


# --------------------------------------------------------------------------------------------
# Header


def git(*args):
    try:
        return subprocess.run(["git", "-C", ROOT] + list(args), capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def header(run, parts, chat, video, jpeg, out_path, source_dir, only):
    env = (chat.env if chat else None) or {}
    machine = run.get("machine") or {}
    lines = ["# Roomcast benchmarks", "",
             "Roomcast against its peers on one machine, over loopback: chat against ngIRCd, video against GStreamer's "
             "RTSP server, JPEG encoding against libjpeg-turbo. Written by `benchmarks/report.py` from the results of "
             "`benchmarks/compare.sh`: do not edit by hand — explanations go in `benchmarks/ANALYSIS.md`, which is "
             "copied into [Analysis](#analysis).", ""]

    started = run.get("started")
    if started:
        date = "%s – %s" % (started, run.get("finished") or "unfinished")
    elif video and video.meta.get("time"):
        date = "%s (the video run's start; the run was not recorded by compare.sh)" % video.meta["time"]
    else:
        mtimes = [os.path.getmtime(p.path) for p in parts.values() if p.present]
        date = ("%s (the newest result file's time)" % datetime.datetime.fromtimestamp(
            max(mtimes), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")) if mtimes else "not recorded"
    lines.append("- **Date (UTC):** %s; report written %s" % (
        date, datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")))

    cores = machine.get("cores") or env.get("cores") or (video.meta.get("cores") if video else None)
    desc = ["%s cores" % cores if cores else "cores not recorded"]
    if machine.get("cpu_model"):
        desc.append(machine["cpu_model"])
    if machine.get("memory"):
        desc.append(machine["memory"] + " memory")
    kernel = machine.get("kernel") or env.get("kernel")
    desc.append("kernel " + kernel if kernel else "kernel not recorded")
    if machine.get("os"):
        desc.append(machine["os"])
    lines.append("- **Machine:** " + ", ".join(desc))

    loads = []
    for p in PARTS:
        rec = parts[p].record
        before = rec.get("loadavg_before")
        if before is None and p == "chat" and env.get("loadavg_before") is not None:
            before = env["loadavg_before"]
        if before is None or not parts[p].present:
            continue
        one = num(str(before).split()[0])
        text = "%s before %s" % (pct(one, 2) if one is not None else before, p)
        after = num(str(rec.get("loadavg_after") or "").split()[0] if rec.get("loadavg_after") else None)
        if after is not None:
            text += " (%s after)" % pct(after, 2)
        if one is not None and one > LOAD_WARNING:
            text += " " + WARN
        loads.append(text)
    busy = WARN in " ".join(loads)
    lines.append("- **Load average (1 min):** " + ("; ".join(loads) if loads else "not recorded") +
                 (" — above %.1f before a part means other work was running, which distorts the figures" % LOAD_WARNING
                  if busy else ""))

    commit = run.get("commit") or env.get("roomcast_commit")
    dirty = run.get("uncommitted_files", env.get("roomcast_uncommitted_files"))
    if commit:
        text = "`%s`" % commit + (" with %s uncommitted file(s)" % dirty if dirty not in (None, 0, "0") else "")
    else:
        text = "not recorded (work tree now at `%s`)" % (git("rev-parse", "--short", "HEAD") or "?")
    binary = env.get("roomcast_binary") or (run.get("binaries") or {}).get("roomcast")
    if binary:
        text += "; binary %s" % binary
    if run.get("swift"):
        text += "; %s" % run["swift"]
    lines.append("- **Commit:** " + text)

    peers = []
    if env.get("ngircd_version"):
        peers.append(env["ngircd_version"])
    packages = run.get("packages") or {}
    if packages:
        peers.append("Debian packages: " + ", ".join("%s %s" % kv for kv in sorted(packages.items())))
    elif jpeg and jpeg.cases:
        version = (next(iter(jpeg.cases.values())).get("libjpeg_turbo") or {}).get("version")
        if version:
            peers.append("libjpeg-turbo " + version)
    if run.get("gstreamer"):
        peers.append(run["gstreamer"])
    if run.get("installed"):
        peers.append("installed by this run: " + run["installed"])
    lines.append("- **Peers:** " + ("; ".join(peers) if peers else "not recorded"))
    if source_dir:
        lines.append("- **Results folder:** `%s` (git-ignored: logs and the full results)" % display(source_dir))
    lines.append("")

    lines.append("Commands:")
    lines.append("")
    lines.append("```sh")
    if run.get("command"):
        lines.append(run["command"])
        lines.append("# which ran:")
    else:
        lines.append("# These results come from the part scripts run one after the other (with prebuilt release")
        lines.append("# binaries), not from benchmarks/compare.sh; `benchmarks/compare.sh` runs the same scripts.")
    for p in PARTS:
        rec = parts[p].record
        if rec.get("command"):
            lines.append(rec["command"] + ("   # exit status %s" % rec["exit"] if rec.get("exit") not in (None, 0, "0") else ""))
        elif parts[p].present:
            lines.append("benchmarks/%s.sh %s   # settings as recorded in the results" % (p, display(parts[p].path)))
        else:
            lines.append("# benchmarks/%s.sh: not run" % p)
    if run.get("report_command"):
        lines.append(run["report_command"])
    lines.append("```")
    lines.append("")
    return lines


def display(path):
    path = os.path.abspath(path)
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


# --------------------------------------------------------------------------------------------
# Main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--results", metavar="DIR", help="results folder written by compare.sh")
    ap.add_argument("--chat", metavar="FILE", help="chat.sh results (default DIR/chat.jsonl)")
    ap.add_argument("--video", metavar="FILE", help="video.sh results (default DIR/video.jsonl)")
    ap.add_argument("--jpeg", metavar="FILE", help="jpeg.sh results (default DIR/jpeg.jsonl)")
    ap.add_argument("--run", metavar="FILE", help="compare.sh's run record (default DIR/run.json)")
    ap.add_argument("--parts", metavar="LIST", help="the parts this run asked for, comma-separated (default: all); "
                    "the others say 'not run' even when an older results file is present")
    ap.add_argument("--out", metavar="FILE", default=os.path.join(ROOT, "BENCHMARKS.md"), help="report (default: %(default)s)")
    ap.add_argument("--analysis", metavar="FILE", default=os.path.join(ROOT, "benchmarks", "ANALYSIS.md"),
                    help="copied verbatim into ## Analysis when it exists (default: %(default)s)")
    ap.add_argument("--raw-dir", metavar="DIR", help="where the raw results are copied for the report to link "
                    "(default: benchmarks/results-latest beside the report)")
    ap.add_argument("--no-raw", action="store_true", help="link the result files where they are instead of copying them")
    args = ap.parse_args()

    requested = set(PARTS)
    if args.parts:
        requested = {p.strip() for p in args.parts.split(",") if p.strip()}
        unknown = requested - set(PARTS)
        if unknown:
            ap.error("unknown part(s): %s (known: %s)" % (", ".join(sorted(unknown)), ", ".join(PARTS)))
    only = ",".join(p for p in PARTS if p in requested) if requested != set(PARTS) else ""

    source = args.results
    run = read_json(args.run or os.path.join(source, "run.json")) if (args.run or source) else {}
    parts = {}
    for p in PARTS:
        path = getattr(args, p) or (os.path.join(source, p + ".jsonl") if source else None)
        record = read_json(os.path.join(os.path.dirname(os.path.abspath(path)) if path else source or ".", p + ".run.json")) \
            if (path or source) else {}
        part = Part(p, path, p in requested, record)
        if p not in requested:
            part.present, part.rows = False, []
        parts[p] = part

    chat = Chat(parts["chat"].rows) if parts["chat"].rows else None
    video = Video(parts["video"].rows) if parts["video"].rows else None
    jpeg = Jpeg(parts["jpeg"].rows) if parts["jpeg"].rows else None
    if video is not None and not video.points:
        video = None
        parts["video"].rows = []
    if jpeg is not None and not jpeg.cases:
        jpeg = None
        parts["jpeg"].rows = []
    if chat is not None and not chat.results:
        chat = None
        parts["chat"].rows = []

    out_path = os.path.abspath(args.out)
    out_dir = os.path.dirname(out_path)
    os.makedirs(out_dir, exist_ok=True)

    # Raw results: copied beside the report (committed), or linked where they are.
    raw_links = {}
    raw_dir = None if args.no_raw else os.path.abspath(args.raw_dir or os.path.join(out_dir, "benchmarks", "results-latest"))
    if raw_dir:
        os.makedirs(raw_dir, exist_ok=True)
    for p in PARTS:
        part = parts[p]
        if raw_dir:
            target = os.path.join(raw_dir, p + ".jsonl")
            if part.present and part.rows:
                if os.path.abspath(part.path) != target:
                    shutil.copyfile(part.path, target)
                raw_links[p] = target
            elif os.path.exists(target):
                os.remove(target)  # stale: this report does not show that part
        elif part.present and part.rows:
            raw_links[p] = os.path.abspath(part.path)

    lines = header(run, parts, chat, video, jpeg, out_path, source, only)

    targets = chat_targets(parts["chat"], chat) + video_targets(video) + jpeg_targets(jpeg)
    lines += ["## Targets", "",
              "Issue 6's targets, Roomcast with chat history on. Ratio = Roomcast ÷ peer (lower is better for CPU and "
              "memory). %s marks a verdict resting on a figure flagged as saturated or noisy (see the tables below)." % WARN, ""]
    lines.append(table(["Target", "Roomcast", "Peer", "Ratio", "Verdict"], [t.row() for t in targets],
                       ["l", "l", "l", "l", "l"]))
    met = sum(t.verdict == MET for t in targets)
    missed = sum(t.verdict == MISSED for t in targets)
    lines += ["", "%d met, %d missed, %d not measured." % (met, missed, len(targets) - met - missed), ""]

    lines += ["## Analysis", "",
              "<!-- Copied verbatim from benchmarks/ANALYSIS.md by benchmarks/report.py: edit that file, then rerun "
              "`benchmarks/compare.sh --report-only --out RESULTS_DIR` (or report.py). -->", ""]
    if os.path.isfile(args.analysis):
        with open(args.analysis, encoding="utf-8") as f:
            lines.append(f.read().rstrip("\n"))
    else:
        lines.append("_No analysis yet: write `%s` to explain the misses with measurements; it is copied here verbatim._"
                     % display(args.analysis))
    lines.append("")

    lines += chat_section(parts["chat"], chat, only)
    lines += video_section(parts["video"], video, only)
    lines += jpeg_section(parts["jpeg"], jpeg, only)

    lines += ["## Raw results", ""]
    for p in PARTS:
        if p in raw_links:
            path = raw_links[p]
            rel = os.path.relpath(path, out_dir)
            lines.append("- [%s](%s): %d lines, %s KB — `benchmarks/%s.sh` output, one JSON object per line" % (
                rel, rel.replace(os.sep, "/"), sum(1 for _ in open(path, encoding="utf-8", errors="replace")),
                sig(os.path.getsize(path) / 1000, 2), p))
        else:
            lines.append("- %s: not run" % p)
    lines.append("")

    text = "\n".join(lines).rstrip("\n") + "\n"
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, out_path)
    print("report.py: wrote %s (%d met, %d missed, %d not measured)" % (
        display(out_path), met, missed, len(targets) - met - missed), file=sys.stderr)


if __name__ == "__main__":
    main()
