#!/usr/bin/python3
"""tests/anycast/load.py SERVER NAME INTERVAL_MS COUNT TIMEOUT_MS OUT: sends
COUNT queries for NAME A to SERVER, one every INTERVAL_MS, each from a new
UDP socket (a new source port: a new flow for the router's ECMP hash), and
writes one line per query to OUT: the wall-clock time it was sent and
"ok" (a NOERROR answer with the query's id within TIMEOUT_MS) or "lost".
Bounded: COUNT queries, then at most TIMEOUT_MS for the last answers."""
import random
import selectors
import socket
import struct
import sys
import time


def query(qid, name):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack("!HH", 1, 1)


def main():
    server, name = sys.argv[1], sys.argv[2]
    interval, count = int(sys.argv[3]) / 1000.0, int(sys.argv[4])
    timeout, out = int(sys.argv[5]) / 1000.0, sys.argv[6]
    sel = selectors.DefaultSelector()
    pending = {}  # socket -> (index, monotonic send time, wall send time, id)
    result = [None] * count
    sent = 0
    start = time.monotonic()
    while sent < count or pending:
        now = time.monotonic()
        if sent < count and now >= start + sent * interval:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            qid = random.randrange(65536)
            try:
                s.connect((server, 53))
                s.send(query(qid, name))
            except OSError:
                s.close()
                result[sent] = (time.time(), "lost")
                sent += 1
                continue
            pending[s] = (sent, now, time.time(), qid)
            sel.register(s, selectors.EVENT_READ)
            sent += 1
            continue
        due = [p[1] + timeout for p in pending.values()]
        if sent < count:
            due.append(start + sent * interval)
        wait = max(0.0, min(due) - now) if due else 0.0
        for key, _ in sel.select(wait):
            s = key.fileobj
            i, _, wall, qid = pending[s]
            try:
                data = s.recv(4096)
            except OSError:
                continue
            if len(data) < 12 or struct.unpack("!H", data[:2])[0] != qid:
                continue
            flags = struct.unpack("!H", data[2:4])[0]
            result[i] = (wall, "ok" if flags & 0x000f == 0 and data[6:8] != b"\x00\x00" else "bad")
            sel.unregister(s)
            s.close()
            del pending[s]
        now = time.monotonic()
        for s in [s for s, p in pending.items() if now - p[1] >= timeout]:
            i, _, wall, _ = pending.pop(s)
            result[i] = (wall, "lost")
            sel.unregister(s)
            s.close()
    with open(out, "w") as f:
        for wall, what in result:
            f.write("%.3f %s\n" % (wall, what))


main()
