#!/usr/bin/env python3
"""Drives a Roomcast chat server with the Python `irc` library (jaraco/irc), a client written
by others. Three members join #interop; alice broadcasts, mentions @bob, and messages carol
directly. Prints one JSON object with what each member received, for the Swift test to check.

Usage: irc_peer.py PORT
"""
import json
import sys
import time

import irc.client

port = int(sys.argv[1])
nicks = ["alice", "bob", "carol"]
received = {nick: [] for nick in nicks}
names = {}
welcomed = set()
joined = set()
errors = []

reactor = irc.client.Reactor()


def nick_of(connection):
    return connection.get_nickname()


def on_welcome(connection, event):
    welcomed.add(nick_of(connection))
    connection.join("#interop")


def on_join(connection, event):
    if event.source.nick == nick_of(connection):
        joined.add(nick_of(connection))


def on_namreply(connection, event):
    names[nick_of(connection)] = sorted(event.arguments[2].split())


def on_message(connection, event):
    received[nick_of(connection)].append(
        {"type": event.type, "from": event.source.nick, "target": event.target, "text": event.arguments[0]}
    )


def on_error_numeric(connection, event):
    errors.append({"at": nick_of(connection), "type": event.type, "args": event.arguments})


connections = {}
for nick in nicks:
    connection = reactor.server().connect("127.0.0.1", port, nick)
    connections[nick] = connection

reactor.add_global_handler("welcome", on_welcome)
reactor.add_global_handler("join", on_join)
reactor.add_global_handler("namreply", on_namreply)
reactor.add_global_handler("pubmsg", on_message)
reactor.add_global_handler("privmsg", on_message)
reactor.add_global_handler("usernotinchannel", on_error_numeric)


def pump_until(condition, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        reactor.process_once(0.05)
        if condition():
            return True
    return False


ok = pump_until(lambda: joined == set(nicks), 10)
if ok:
    # Names are complete once everyone has joined; ask again so all see all three.
    for connection in connections.values():
        connection.names(["#interop"])
    pump_until(lambda: all(len(names.get(n, [])) == 3 for n in nicks), 5)
    alice = connections["alice"]
    alice.privmsg("#interop", "hello from python")
    alice.privmsg("#interop", "@bob only for you")
    alice.privmsg("#interop", "@nobody lost")
    alice.privmsg("carol", "direct hello")
    alice.privmsg("#interop", "sentinel")
    ok = pump_until(
        lambda: all(any(m["text"] == "sentinel" for m in received[n]) for n in ["bob", "carol"]) and errors, 10
    )
    for connection in connections.values():
        connection.quit("done")
    pump_until(lambda: False, 0.3)

print(json.dumps({"ok": ok, "welcomed": sorted(welcomed), "joined": sorted(joined), "names": names,
                  "received": received, "errors": errors}))
