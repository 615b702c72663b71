#!/usr/bin/python3
"""tests/soak/hits.py ADDR NAMES SECONDS RATE OUT: the soak test's cache-hit
client, run inside the test's network namespace. Asks the names of the file
NAMES (one a line, all cached before) round robin at RATE queries a second
for SECONDS, each with its own id, and counts an answer when a NOERROR
reply with that id comes within 1 s, and a late one when it comes within
3 s (on a 2-core machine this client itself can be off the CPU for a
second: late is not lost). Writes one line per second to OUT:
"UNIX_TIME SENT ANSWERED LATE" (the queries sent in that second, how many
of them were answered in time and how many late), so that the caller can
set them against its fault windows; answers that were not NOERROR go to
OUT.rcodes ("SECOND rcode RCODE: COUNT"). Asks from port 1053 (see main).
Bounded in time (SECONDS + 4) and count (RATE * SECONDS)."""
import os
import random
import socket
import struct
import sys
import time

import dns.message


def main():
    addr, names_path, seconds, rate, out_path = sys.argv[1:6]
    seconds, rate = float(seconds), int(rate)
    names = [l.strip() for l in open(names_path) if l.strip()]
    wires = [dns.message.make_query(n, "A").to_wire() for n in names]
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    # below 2000: kxdpgun's XDP program takes the replies to 2000-65535,
    # the ports it sends from, off the interface before the kernel sees them
    s.bind(("", 1053))
    s.setblocking(False)
    pending = {}            # id -> (second, deadline, give-up time)
    other_rc = {}           # (second, rcode) -> answers that were not NOERROR
    per_sec = {}            # second -> [sent, answered, late]
    start = time.time()
    end = start + seconds
    total = int(rate * seconds)
    sent = 0
    ids = list(range(65536))
    random.shuffle(ids)
    while True:
        now = time.time()
        if now >= end + 3.2 or (sent >= total and not pending):
            break
        while sent < total and start + sent / rate <= now and now < end:
            qid = ids[sent % 65536]
            wire = struct.pack("!H", qid) + wires[sent % len(wires)][2:]
            sec = int(now)
            try:
                s.sendto(wire, (addr, 53))
            except OSError:
                # not sent (ENOBUFS, EAGAIN: this side's queue): sent
                # again on the next round, not counted as a lost answer
                break
            per_sec.setdefault(sec, [0, 0, 0])[0] += 1
            pending[qid] = (sec, now + 1.0, now + 3.0)
            sent += 1
        while True:
            try:
                data = s.recv(4096)
            except BlockingIOError:
                break
            if len(data) < 4:
                continue
            qid = struct.unpack("!H", data[:2])[0]
            p = pending.pop(qid, None)
            if p and (data[3] & 0xf) == 0:
                per_sec[p[0]][1 if time.time() <= p[1] else 2] += 1
            elif p:
                # an answer, but not NOERROR: not a hit (kept for the
                # failure message: which rcode, which second)
                k = (p[0], data[3] & 0xf)
                other_rc[k] = other_rc.get(k, 0) + 1
        for qid in [q for q, (_, _, gone) in pending.items() if gone < now]:
            del pending[qid]
        time.sleep(0.001)
    with open(out_path, "w") as f:
        for sec in sorted(per_sec):
            f.write("%d %d %d %d\n" % (sec, *per_sec[sec]))
    with open(out_path + ".rcodes", "w") as f:
        for (sec, rc), n in sorted(other_rc.items()):
            f.write("%d rcode %d: %d\n" % (sec, rc, n))


if __name__ == "__main__":
    main()
