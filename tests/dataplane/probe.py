#!/usr/bin/python3
"""tests/dataplane/probe.py: the client side of test-dataplane, run inside
the test's network namespace (needs /usr/bin/python3 for dnspython).

  load ADDR NAME COUNT INTERVAL_MS   COUNT queries for NAME A, one every
                                     INTERVAL_MS, each waiting up to 1 s;
                                     prints "sent N answered M rcodes ..."
  burst ADDR SUFFIX COUNT [THEN]     COUNT queries for q1.SUFFIX .. qCOUNT.SUFFIX
                                     A sent at once (then, with THEN, one for
                                     THEN A with EDNS), the answers read until
                                     2 s after the last send; prints "sent N
                                     answered M rcodes ... fast F" (F: answers
                                     within 100 ms of their query) and with
                                     THEN "then RCODE ttl T ede E" (its
                                     answer's first TTL and EDE codes, - for
                                     none)
  raw ADDR HEX                       one UDP datagram to ADDR port 53; prints
                                     "none" or "flags=0xFFFF rcode=N qd=N"
  frames IFACE SRC DST               malformed frames (raw Ethernet) to the
                                     dataplane; prints how many were sent
  sources IFACE SRC DST BCAST        well-formed queries to DST from sources
                                     no client has (broadcast, multicast, DST
                                     itself, loopback, port 0, a group MAC);
                                     prints how many were sent
  closed ADDR COUNT                  COUNT UDP datagrams to closed ports of
                                     ADDR in about a second; prints "sent N
                                     unreachable M" (ICMP port unreachable
                                     received within the second after)
Every loop is bounded in count and time."""
import socket
import struct
import sys
import time

import dns.message
import dns.rcode


def recv_msg(s):
    """The next DNS message on s, None for a datagram that is not one;
    socket.timeout when none comes within s's timeout."""
    data = s.recv(4096)
    try:
        return dns.message.from_wire(data)
    except Exception:
        return None


def rcodes_text(rcodes):
    return " ".join("%s=%d" % kv for kv in sorted(rcodes.items()))


def load(addr, name, count, interval_ms):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    answered = 0
    rcodes = {}
    for i in range(count):
        q = dns.message.make_query(name, "A")
        s.sendto(q.to_wire(), (addr, 53))
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                r = recv_msg(s)
            except socket.timeout:
                break
            if r is None or r.id != q.id:
                continue
            answered += 1
            rc = dns.rcode.to_text(r.rcode())
            rcodes[rc] = rcodes.get(rc, 0) + 1
            break
        time.sleep(interval_ms / 1000.0)
    print("sent %d answered %d rcodes %s" % (count, answered, rcodes_text(rcodes)))


def burst(addr, suffix, count, then=None):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    sent_at = {}
    for i in range(1, count + 1):
        q = dns.message.make_query("q%d.%s" % (i, suffix), "A")
        q.id = i  # (random ids of 100 queries collide 8 % of the time)
        s.sendto(q.to_wire(), (addr, 53))
        sent_at[q.id] = time.monotonic()
    then_line = ""
    if then:
        q = dns.message.make_query(then, "A", use_edns=0)
        q.id = 0
        s.sendto(q.to_wire(), (addr, 53))
        then_line = " then none"
    deadline = time.monotonic() + 2.0
    answered = fast = 0
    rcodes = {}
    while (sent_at or then_line == " then none") and time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            r = recv_msg(s)
        except socket.timeout:
            break
        if r is None:
            continue
        if then and r.id == 0:
            ttl = r.answer[0].ttl if r.answer else "-"
            ede = ",".join(str(o.code) for o in r.options if o.otype == 15) or "-"
            then_line = " then %s ttl %s ede %s" % (dns.rcode.to_text(r.rcode()), ttl, ede)
            continue
        t = sent_at.pop(r.id, None)
        if t is None:
            continue
        answered += 1
        if time.monotonic() - t < 0.1:
            fast += 1
        rc = dns.rcode.to_text(r.rcode())
        rcodes[rc] = rcodes.get(rc, 0) + 1
    print("sent %d answered %d rcodes %s fast %d%s" % (count, answered, rcodes_text(rcodes),
                                                       fast, then_line))


def raw(addr, hexpayload):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.sendto(bytes.fromhex(hexpayload), (addr, 53))
    try:
        data = s.recv(4096)
    except socket.timeout:
        print("none")
        return
    if len(data) < 12:
        print("short %d" % len(data))
        return
    _, flags, qd = struct.unpack("!HHH", data[:6])
    print("flags=0x%04x rcode=%d qd=%d" % (flags, flags & 0xf, qd))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ipv4(src, dst, payload, proto=17, ihl=5, total=None, frag=0, bad_csum=False):
    tl = total if total is not None else ihl * 4 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tl, 1, frag, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    h += b"\0" * (ihl * 4 - 20)
    c = csum(h)
    if bad_csum:
        c ^= 0x1234
    h = h[:10] + struct.pack("!H", c) + h[12:]
    return h + payload


def frames(iface, src, dst):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    eth = b"\xff" * 6 + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    query = dns.message.make_query("www.shop.lab", "A").to_wire()
    udp = struct.pack("!HHHH", 5353, 53, 8 + len(query), 0) + query
    # Not here, though the worker counts them (tests/net/test_pkt.c):
    # fragments, which the af_packet PMD's fanout group reassembles (or
    # holds) in the kernel before the worker sees them, and frames shorter
    # than 16 octets, which do not reach a packet socket over veth.
    bad = [
        eth + ipv4(src, dst, udp)[:15],                        # truncated IPv4
        eth + ipv4(src, dst, udp, bad_csum=True),              # bad checksum
        eth + ipv4(src, dst, udp, total=1400),                 # total length lies
        eth + ipv4(src, dst, struct.pack("!HHHH", 5353, 53, 4000, 0) + query),  # UDP length lies
        eth + ipv4(src, dst, struct.pack("!HHHH", 5353, 53, 5, 0) + query),     # UDP length < 8
        eth + ipv4(src, dst, udp[:5]),                         # truncated UDP header
        eth + ipv4(src, dst, udp, ihl=4),                      # header length < 20
        eth + b"\x60" + ipv4(src, dst, udp)[1:],               # version 6 in an IPv4 frame
    ]
    for f in bad:
        s.send(f)
    print(len(bad))


def sources(iface, src, dst, bcast):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    query = dns.message.make_query("www.shop.lab", "A").to_wire()

    def frame(ip_src, sport=5353, mac=b"\x02\0\0\0\0\x01"):
        udp = struct.pack("!HHHH", sport, 53, 8 + len(query), 0) + query
        return b"\xff" * 6 + mac + b"\x08\x00" + ipv4(ip_src, dst, udp)

    bad = [
        frame("255.255.255.255"),   # limited broadcast
        frame(bcast),               # the subnet's broadcast
        frame("224.0.0.1"),         # multicast
        frame("240.0.0.7"),         # reserved (class E)
        frame("0.0.0.0"),           # "this host"
        frame("127.0.0.1"),         # loopback, on the wire
        frame(dst),                 # ourselves
        frame(src, sport=0),        # port 0
        frame(src, mac=b"\x03\0\0\0\0\x01"),  # a group MAC as source
    ]
    for f in bad:
        s.send(f)
    print(len(bad))


def closed(addr, count):
    """Port-unreachable replies to COUNT probes of closed ports: what an
    off-path scanner (SAD DNS) could learn per second."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    out = socket.socket(fam, socket.SOCK_DGRAM)
    proto = socket.IPPROTO_ICMPV6 if fam == socket.AF_INET6 else socket.IPPROTO_ICMP
    icmp = socket.socket(fam, socket.SOCK_RAW, proto)
    icmp.setblocking(False)
    start = time.monotonic()
    for i in range(count):
        try:
            out.sendto(b"\0" * 12, (addr, 1024 + (i * 7919) % 60000))
        except OSError:
            pass
        # spread over about a second
        ahead = start + (i + 1) / count - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    unreachable = 0
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        try:
            data = icmp.recv(2048)
        except BlockingIOError:
            time.sleep(0.01)
            continue
        if fam == socket.AF_INET:
            ihl = (data[0] & 15) * 4
            typ, code = data[ihl], data[ihl + 1]
            unreachable += typ == 3 and code == 3
        else:
            unreachable += data[0] == 1 and data[1] == 4
    print("sent %d unreachable %d" % (count, unreachable))


def main():
    cmd = sys.argv[1]
    if cmd == "load":
        load(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "burst":
        burst(sys.argv[2], sys.argv[3], int(sys.argv[4]),
              sys.argv[5] if len(sys.argv) > 5 else None)
    elif cmd == "raw":
        raw(sys.argv[2], sys.argv[3])
    elif cmd == "frames":
        frames(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "sources":
        sources(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif cmd == "closed":
        closed(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
