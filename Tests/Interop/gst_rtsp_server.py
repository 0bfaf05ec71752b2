#!/usr/bin/python3
"""A GStreamer RTSP server (gst-rtsp-server), a server written by others, for the viewer's
interop tests: serves a live 320x240 25 fps test pattern as RTP/JPEG on 127.0.0.1, over UDP
and TCP: at /test with the static payload type 26, at /test96 with the dynamic payload type 96
(announced as `a=rtpmap:96 JPEG/90000`, as many IP cameras do).

Usage: gst_rtsp_server.py PORT   (0 picks a free port)
Prints "ready PORT" once it listens. Exits when its standard input closes, so it never
outlives the test that started it.

Needs Debian's python3-gi and gir1.2-gst-rtsp-server-1.0 (run it with /usr/bin/python3).
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)
loop = GLib.MainLoop()

server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(sys.argv[1] if len(sys.argv) > 1 else "0")

for path, payload_type in (("/test", 26), ("/test96", 96)):
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        "( videotestsrc is-live=true ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 "
        f"! jpegenc ! rtpjpegpay name=pay0 pt={payload_type} )"
    )
    factory.set_shared(True)
    server.get_mount_points().add_factory(path, factory)

if server.attach(None) == 0:
    print("cannot listen", file=sys.stderr, flush=True)
    sys.exit(1)


def stdin_closed(_source, _condition):
    loop.quit()
    return False


GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.PRIORITY_DEFAULT,
                  GLib.IOCondition.HUP | GLib.IOCondition.IN | GLib.IOCondition.ERR, stdin_closed)

print(f"ready {server.get_bound_port()}", flush=True)
loop.run()
