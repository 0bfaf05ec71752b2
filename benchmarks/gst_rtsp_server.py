#!/usr/bin/python3
"""GStreamer's RTSP server (gst-rtsp-server) as the peer of benchmarks/video.sh: one shared
pipeline serving live RTP/JPEG (PT 26) over UDP unicast, TCP interleaved and UDP multicast.

The picture is either Roomcast's own pattern scene, pre-rendered as raw I420 frames by
`roomcast-bench jpeg --write-i420 DIR` and looped (--frames DIR), so both servers send the
same picture JPEG-encoded at the same quality, or GStreamer's videotestsrc (--pattern NAME).
Either way the pipeline encodes live with jpegenc (libjpeg-turbo), paced by the clock.

Usage: gst_rtsp_server.py [--port 0] [--address 127.0.0.1] [--mount /cam]
           [--width 640 --height 480 --fps 25 --quality 80]
           [--frames DIR | --pattern smpte]
           [--multicast-group 239.255.43.1 --multicast-port 5000 --multicast-iface lo]
           [--ignore-stdin]
Prints "ready PORT" once it listens. Exits on SIGTERM/SIGINT and, unless --ignore-stdin, when
its standard input closes. Needs Debian's python3-gi and gir1.2-gst-rtsp-server-1.0 (run it
with /usr/bin/python3).

Multicast goes to the group on --multicast-iface; keep it on this machine: run inside
`unshare --net` with only lo up (as benchmarks/video.sh does) or give --multicast-iface lo.
"""
import argparse
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--port", default="0", help="RTSP port (0 picks a free one)")
parser.add_argument("--address", default="127.0.0.1", help="address to listen on")
parser.add_argument("--mount", default="/cam", help="path of the stream")
parser.add_argument("--width", type=int, default=640)
parser.add_argument("--height", type=int, default=480)
parser.add_argument("--fps", type=int, default=25)
parser.add_argument("--quality", type=int, default=80, help="jpegenc quality (IJG scale, as Roomcast's)")
parser.add_argument("--frames", help="folder of raw I420 frames frame000.i420, frame001.i420, … to loop")
parser.add_argument("--pattern", default="smpte", help="videotestsrc pattern when no --frames")
parser.add_argument("--multicast-group", default="239.255.43.1", help="multicast group of the address pool")
parser.add_argument("--multicast-port", type=int, default=5000, help="first multicast RTP port of the pool")
parser.add_argument("--multicast-iface", default="lo", help="interface multicast is sent on ('' for the system's choice)")
parser.add_argument("--ttl", type=int, default=1, help="multicast TTL")
parser.add_argument("--ignore-stdin", action="store_true", help="do not exit when standard input closes")
args = parser.parse_args()

Gst.init(None)
loop = GLib.MainLoop()

caps = f"width={args.width} height={args.height}"
if args.frames:
    count = len([name for name in os.listdir(args.frames) if name.startswith("frame") and name.endswith(".i420")])
    if count == 0:
        print(f"no frame*.i420 in {args.frames}", file=sys.stderr, flush=True)
        sys.exit(1)
    source = (f"multifilesrc location={os.path.join(args.frames, 'frame%03d.i420')} index=0 stop-index={count - 1} loop=true "
              f"! rawvideoparse format=i420 {caps} framerate={args.fps}/1 ! clocksync")
else:
    source = (f"videotestsrc is-live=true pattern={args.pattern} "
              f"! video/x-raw,format=I420,width={args.width},height={args.height},framerate={args.fps}/1")
launch = f"( {source} ! jpegenc quality={args.quality} ! rtpjpegpay name=pay0 pt=26 )"

server = GstRtspServer.RTSPServer()
server.set_address(args.address)
server.set_service(args.port)
server.set_backlog(1024)

factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(launch)
factory.set_shared(True)
factory.set_protocols(GstRtsp.RTSPLowerTrans.UDP | GstRtsp.RTSPLowerTrans.UDP_MCAST | GstRtsp.RTSPLowerTrans.TCP)
pool = GstRtspServer.RTSPAddressPool()
if not pool.add_range(args.multicast_group, args.multicast_group, args.multicast_port, args.multicast_port + 9, args.ttl):
    print("cannot make the multicast address pool", file=sys.stderr, flush=True)
    sys.exit(1)
factory.set_address_pool(pool)
if args.multicast_iface:
    factory.set_multicast_iface(args.multicast_iface)
server.get_mount_points().add_factory(args.mount, factory)

if server.attach(None) == 0:
    print("cannot listen", file=sys.stderr, flush=True)
    sys.exit(1)


def stop(*_args):
    loop.quit()
    return False


GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, stop)
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, stop)
if not args.ignore_stdin:
    GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.PRIORITY_DEFAULT,
                      GLib.IOCondition.HUP | GLib.IOCondition.IN | GLib.IOCondition.ERR, stop)

print(f"ready {server.get_bound_port()}", flush=True)
loop.run()
