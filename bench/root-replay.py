#!/usr/bin/python3
"""bench/root-replay.py ADDR TRACE SCALE OUT: replays a trace of
bench/root-trace.py ("SECONDS NAME TYPE" lines) to the resolver at ADDR
(port 53, UDP) with the trace's clock SCALE times as fast as real time
(the resolver runs with resolver.clock-scale: SCALE, so that both clocks
agree), one query per line at its time, each with its own id, not waiting
for answers. Counts the answers by rcode (an answer counts within 2 s of
real time) and writes OUT as JSON: the start (CLOCK_REALTIME, for the
capture's timestamps), queries sent and answered, rcodes, queries per hour
of trace time. Bounded: the trace's lines, and the trace's span / SCALE +
3 s of real time."""
import json
import socket
import struct
import sys
import time

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
         "AAAA": 28, "SRV": 33, "NAPTR": 35, "DS": 43, "DNSKEY": 48, "SVCB": 64,
         "HTTPS": 65, "ANY": 255}


def wire(qid, name, qtype):
    q = b""
    for label in name.rstrip(".").split("."):
        if label:
            b = label.encode("ascii", "replace")[:63]
            q += bytes([len(b)]) + b
    t = TYPES.get(qtype) or (int(qtype[4:]) if qtype[4:].isdigit() else 1)
    t = t if t < 65536 else 1
    # RD, one question, an OPT (1232) so that answers are as clients get them
    return (struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1) + q + b"\0" +
            struct.pack("!HH", t, 1) + b"\0\0\x29\x04\xd0\0\0\0\0\0\0")


def main():
    addr, trace, scale, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    rows = []
    for line in open(trace):
        f = line.split()
        try:
            if len(f) >= 3:
                rows.append((float(f[0]), f[1], f[2]))
        except ValueError:
            pass   # not a trace line
    span = rows[-1][0] if rows else 0.0
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    s.setblocking(False)
    pending = {}              # id -> real deadline
    rcodes, per_hour = {}, {}
    sent = answered = not_sent = 0
    start = time.time()
    end = start + min(span / scale, 4 * 3600.0) + 3.0  # bounded whatever the trace
    i = 0
    qid = 1
    next_prune = start
    while True:
        now = time.time()
        if now >= end or (i >= len(rows) and not pending):
            break
        while i < len(rows) and start + rows[i][0] / scale <= now:
            t, name, qtype = rows[i]
            qid = (qid + 7919) & 0xffff
            try:
                s.sendto(wire(qid, name, qtype), (addr, 53))
                pending[qid] = now + 2.0
                sent += 1
                h = int(t // 3600)
                per_hour[h] = per_hour.get(h, 0) + 1
            except BlockingIOError:
                break          # sent again next round: not counted yet
            except OSError:
                not_sent += 1
            i += 1
        while True:
            try:
                data = s.recv(65535)
            except BlockingIOError:
                break
            if len(data) < 4:
                continue
            rid = struct.unpack("!H", data[:2])[0]
            if pending.pop(rid, None) is not None:
                answered += 1
                rc = data[3] & 0xf
                rcodes[rc] = rcodes.get(rc, 0) + 1
        if now >= next_prune:
            next_prune = now + 0.1
            for k in [k for k, d in pending.items() if d < now]:
                del pending[k]
        time.sleep(0.0005)
    names = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}
    json.dump({"start": start, "scale": scale, "span": span, "sent": sent,
               "not_sent": not_sent, "answered": answered,
               "rcodes": {names.get(k, str(k)): v for k, v in sorted(rcodes.items())},
               "per_hour": {str(k): v for k, v in sorted(per_hour.items())}},
              open(out, "w"))
    print("replayed %d queries (%d answered) in %.1f s" % (sent, answered, time.time() - start))


if __name__ == "__main__":
    main()
