#!/usr/bin/env python3
"""tests/fuzz/seeds.py [TARGET] OUTDIR: writes a small seed corpus for one
fuzz target (default fuzz_msg, the only target before there were several).

fuzz_msg: well-formed messages of the kinds the parsers meet: client queries
(with and without EDNS and cookies) and authoritative answers that use every
RR type the library knows, with compression pointers.
fuzz_config: configuration files: the operator's example, every key in block
style, flow style, aliases, and a few broken files for the error paths.
fuzz_scrub: the fuzz_msg messages, each behind a zone-choosing octet.
fuzz_answer: the fuzz_msg messages as cached answers, each behind
fuzz_answer.c's header (a client's question above, at or below them).
fuzz_val: DNSSEC responses from the validator's test vectors
(tests/control/dnssec/*.zone: RFC 4035 and RFC 5155 appendices, real
signatures): the zone's DNSKEY set with its RRSIGs and one RRset of the
file with its own, plus every NSEC/NSEC3 of the file, behind mode octets
(fuzz_val.c: anchor on or off, wildcard labels, tight budgets).
fuzz_frame: Ethernet frames of every class the worker meets: DNS queries
over UDP in IPv4 (with options) and IPv6 (with extension headers), with and
without a VLAN tag and Ethernet padding, TCP, ARP requests, ICMP echo
requests, neighbour solicitations (plain and duplicate address detection),
and a fragment; each behind a mode octet (fuzz_frame.c: which bad checksums
the target fixes before parsing again), 0 and 3.
fuzz_rpz: response policy zones (origin rpz.example., as fuzz_rpz.c reads
them): every trigger encoding and action of the draft, local data, owners
spread over the file, and broken zones (bad triggers, CNAME with other
data, a syntax error, no SOA, $INCLUDE).
fuzz_policy: compact rule sets (exact and wildcard names, IPv4 and IPv6
prefixes, every action, local data, a CNAME to *.suffix) asked questions
that hit each, with a resolved message behind as the CNAME target's.
Written at test time so that no binary files live in the tree. Standard
library only.
"""
import os
import struct
import sys


def name(s):
    out = b""
    for label in s.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def name_len(msg, off):
    """Length of the uncompressed name at off (stops at a pointer)."""
    start = off
    while off < len(msg) and msg[off] != 0 and msg[off] < 64:
        off += 1 + msg[off]
    return min(off + 1, len(msg)) - start


def hdr(id_, flags, qd, an, ns, ar):
    return struct.pack("!HHHHHH", id_, flags, qd, an, ns, ar)


def rr(owner, rtype, ttl, rdata, rclass=1):
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def opt(udp=1232, do=False, options=b""):
    return rr(b"\0", 41, 0x8000 if do else 0, options, rclass=udp)


PTR_Q = b"\xc0\x0c"  # the question name


def seeds():
    q = name("www.shop.lab") + struct.pack("!HH", 1, 1)
    yield "query-plain", hdr(0x1111, 0x0100, 1, 0, 0, 0) + q
    yield "query-edns", hdr(0x2222, 0x0100, 1, 0, 0, 1) + q + opt()
    cookie = struct.pack("!HH", 10, 8) + b"abcdefgh"
    yield "query-cookie", hdr(0x3333, 0x0110, 1, 0, 0, 1) + q + opt(
        4096, True, cookie)
    soa = name("ns1.shop.lab") + name("hm.shop.lab") + struct.pack(
        "!IIIII", 1, 3600, 900, 604800, 300)
    records = [
        (1, b"\xc6\x12\x00\x01"),
        (28, bytes(15) + b"\x01"),
        (2, b"\x03ns1" + PTR_Q),
        (5, b"\x03www\x04shop\x05bench\x00"),
        (6, soa),
        (15, b"\x00\x0a\x04mail" + PTR_Q),
        (16, b"\x05hello\x05world"),
        (33, struct.pack("!HHH", 1, 2, 53) + name("sip.shop.lab")),
        (39, name("shop.bench")),
        (43, struct.pack("!HBB", 12345, 13, 2) + bytes(range(32))),
        (48, struct.pack("!HBB", 257, 3, 13) + bytes(range(64))),
        (46, struct.pack("!HBBIIIH", 1, 13, 3, 300, 1798675200, 1796083200,
                         12345) + name("shop.lab") + bytes(range(64))),
        (47, name("b.shop.lab") + b"\x00\x07\x62\x00\x00\x00\x00\x03\x80"),
        (50, b"\x01\x00\x00\x00\x00\x14" + bytes(range(20)) +
         b"\x00\x06\x40\x00\x00\x00\x00\x02"),
        (51, b"\x01\x00\x00\x00\x02\xaa\xbb"),
    ]
    body = b"".join(rr(PTR_Q, t, 300, d) for t, d in records)
    yield "answer-every-type", hdr(0x4444, 0x8580, 1, len(records), 0, 1) + \
        q + body + opt(1232, True)
    # an OPT before the last additional record (answers copied up to the
    # OPT lost the record once), and a pointer into a TXT's octets whose
    # label runs on into the OPT (the name parser rejects it since)
    yield "opt-not-last", hdr(0x4444, 0x8580, 1, 1, 0, 2) + q + rr(
        PTR_Q, 1, 300, b"\xc6\x12\x00\x01") + opt(1232, True) + rr(
        b"\x03ns1" + PTR_Q, 1, 300, b"\xc6\x12\x00\x02")
    txt_at = 12 + len(q) + 2 + 10 + 1
    yield "pointer-runs-into-opt", hdr(0x4444, 0x8580, 1, 2, 0, 1) + q + rr(
        PTR_Q, 16, 300, b"\x01\x10") + rr(
        struct.pack("!H", 0xc000 | txt_at), 1, 300, b"\xc6\x12\x00\x01") + opt()
    # a denial feed as control sends one (cache_nsec_feed()): the zone's
    # SOA and two NSEC ranges (apex -> a, a -> d), each with an RRSIG by
    # the apex; names between a and d (b.shop.lab) are NXDOMAIN from it
    zone = name("shop.lab")
    def sig(covered):
        return struct.pack("!HBBIIIH", covered, 13, 2, 300, 1798675200, 1796083200,
                           12345) + zone + bytes(range(64))
    def nsec(nxt):
        return name(nxt) + b"\x00\x06\x40\x00\x00\x00\x00\x03"
    feed = [(zone, 6, soa), (zone, 46, sig(6)), (zone, 47, nsec("a.shop.lab")),
            (zone, 46, sig(47)), (name("a.shop.lab"), 47, nsec("d.shop.lab")),
            (name("a.shop.lab"), 46, sig(47))]
    yield "denial-feed", hdr(0, 0x8000, 1, 0, len(feed), 0) + zone + struct.pack(
        "!HH", 47, 1) + b"".join(rr(o, t, 300, d) for o, t, d in feed)
    nx = name("nope.shop.lab") + struct.pack("!HH", 28, 1)
    yield "nxdomain", hdr(0x5555, 0x8583, 1, 0, 1, 0) + nx + rr(
        b"\xc0\x11", 6, 300, soa)
    ref = name("shop.lab") + struct.pack("!HH", 1, 1)
    yield "referral", hdr(0x6666, 0x8000, 1, 0, 1, 1) + ref + rr(
        b"\xc0\x0c", 2, 3600, b"\x03ns1\xc0\x0c") + rr(
        b"\xc0\x26", 1, 3600, b"\x7f\x35\x02\x01")


DESIGN_EXAMPLE = """\
resolver:
  root-hints: /etc/bailiwick/root.hints     # named.root format
  trust-anchor: /etc/bailiwick/root.key     # DS/DNSKEY records; absent: no validation
  qname-minimisation: relaxed               # off | relaxed | strict
  limits: { max-referrals: 30, max-ns-per-referral: 6, max-upstream-queries: 100,
            max-cname-chain: 11, max-time-ms: 10000 }
  upstream: { edns-buffer: 1232, use-0x20: true, cookies: true,
              ports: { range: [1024, 65535], exclude: [] } }
cache:
  size: 1G
  min-ttl: 0
  max-ttl: 86400
  max-negative-ttl: 3600
  serve-stale: { enabled: true, max-stale: 86400, answer-ttl: 30, client-timeout-ms: 1800 }
  prefetch: { enabled: true, threshold-percent: 10 }
access-control:                             # first match wins
  - { prefix: 127.0.0.0/8, action: allow }
  - { prefix: 0.0.0.0/0, action: refuse }   # allow | refuse | drop
listen: [ "127.0.0.1@53" ]                  # control's kernel sockets: UDP+TCP when standalone,
                                            # TCP only when a dataplane is configured
control:
  socket: /run/bailiwick/control.sock
dataplane:                                  # absent: control runs standalone
  eal: [ "--file-prefix=bailiwick", "-l", "0-1" ]
  ports:
    - { device: "net_tap0,iface=bw0", addresses: [ "198.18.0.1/24" ] }
  workers: [ 1 ]
"""

EVERY_KEY = """\
resolver:
  root-hints: /etc/bailiwick/root.hints
  trust-anchor: "/etc/bailiwick/root.key"
  qname-minimisation: strict
  validation-time: 2017-08-25T12:00:00+02:00
  nsec3-max-iterations: 150
  max-rrset-records: 500
  limits:
    max-referrals: 20
    max-ns-per-referral: 4
    max-upstream-queries: 50
    max-cname-chain: 8
    max-time-ms: 5000
    max-zone-share: 20
  do-not-query: [ 10.0.0.0/8, "fc00::/7" ]
  do-query: [ 10.53.0.0/16 ]
  upstream:
    edns-buffer: 1400
    use-0x20: false
    cookies: false
    timeout-ms: 400
    retries: 3
    ports:
      range: [ 20000, 29999 ]
      exclude: [ 20053, [ 25000, 25999 ] ]
    source-addresses: [ 192.0.2.53, "2001:db8::53" ]
cache:
  size: 256M
  min-ttl: 5
  max-ttl: 3600
  max-negative-ttl: 900
  serve-stale:
    enabled: false
    max-stale: 3600
    answer-ttl: 10
    client-timeout-ms: 0
  prefetch:
    enabled: false
    threshold-percent: 100
  failure-ttl: 2
  max-failure-ttl: 60
access-control:
  - prefix: 10.0.0.0/8
    action: allow
  - prefix: "2001:db8::/32"
    action: drop
  - prefix: "::ffff:192.0.2.0/120"
    action: refuse
listen:
  - 192.0.2.1@53
  - "[2001:db8::1]@5353"
  - "::1"
control:
  socket: /tmp/bw.sock
  notify-listen: [ "127.0.0.1@5301", "[::1]@5301" ]
policy:
  - { name: rpz.example, file: /etc/bailiwick/rpz.zone, policy: cname, cname: garden.example }
  - name: feed.example
    primary: "192.0.2.9@5300"
    key: xfr.key
    file: /var/lib/bailiwick/feed.copy
    ede: censored
    max-ttl: 60
    log: true
tsig-keys:
  - { name: xfr.key, algorithm: hmac-sha384, secret: "c2VjcmV0IHNlY3JldA==" }
stub-zones:
  - { name: corp.example, servers: [ 192.0.2.53, "[2001:db8::53]@53" ] }
forward-zones:
  - { name: partner.example., servers: [ 192.0.2.54 ], recursion-desired: false }
  - name: other.example
    servers:
      - 198.51.100.1
dataplane:
  eal: [ "-l", "0-3", "--file-prefix=bw", "\\u00e9\\x01" ]
  ports:
    - device: "0000:01:00.0"
      addresses: [ 198.18.0.1/24, "2001:db8:1::1/64" ]
    - device: net_tap0,iface=bw0
      addresses: [ 198.19.0.1/16 ]
  workers: [ 1, 2, 3, 1023 ]
  control-down: drop
  miss-overflow: drop
  miss-budget: 10000000
"""

CONFIG_SEEDS = [
    ("design-example", DESIGN_EXAMPLE),
    ("every-key", EVERY_KEY),
    ("minimal", "resolver: { root-hints: /etc/bailiwick/root.hints }\n"),
    ("flow", '{ resolver: { root-hints: /r, limits: { max-referrals: 9 } },'
     ' cache: { size: 1024K }, listen: [ "[::1]@53", 127.0.0.1 ],'
     ' access-control: [ { prefix: "::/0", action: drop } ] }\n'),
    ("aliases", "resolver: { root-hints: &p /a, trust-anchor: *p }\n"
     "x: &m { a: [ *m ] }\n"),
    ("unknown-key", "resolver: { root-hints: /r }\ncache: { max-tll: 5 }\n"),
    ("syntax-error", "resolver:\n  root-hints: /r\n cache: [\n"),
    ("two-documents", "resolver: { root-hints: /r }\n---\n- 1\n"),
    ("more-sections", "resolver: { root-hints: /r, trust-anchor: /a, dnssec: { skew: 5 },"
     " clock-scale: 3 }\ncache: { aggressive-nsec: false }\ntcp: { max-connections: 9 }\n"
     "dataplane: { ports: [ { device: x, addresses: [ 198.18.0.1/24 ], exception: e0 } ],"
     " workers: [ 1 ], control-down: drop, miss-overflow: drop, miss-budget: 5000 }\n"),
]


# ---- fuzz_rpz: response policy zones, origin rpz.example. ----
RPZ_HEAD = ("$TTL 300\n"
            "@ SOA ns.rpz.example. hostmaster.rpz.example. ( 1 3600 600 86400 60 )\n"
            "@ NS ns.example.\n")

RPZ_SEEDS = [
    ("qname", RPZ_HEAD + "bad.example CNAME .\n*.bad.example CNAME .\n"
     "www.Shop.Example CNAME *.\n* CNAME rpz-passthru.\n"
     "ok.example CNAME ok.example.\n"),
    ("actions", RPZ_HEAD + "a CNAME .\nb CNAME *.\nc CNAME rpz-passthru.\n"
     "d CNAME rpz-drop.\ne CNAME rpz-tcp-only.\nf CNAME rpz-drop\n"),
    ("local-data", RPZ_HEAD + "x A 192.0.2.1\nx 60 A 192.0.2.2\n"
     "x AAAA 2001:db8::1\nx TXT \"blocked\" \"by policy\"\n"
     "w CNAME garden.example.\n*.v CNAME *.garden.example.\n"),
    ("client-ip", RPZ_HEAD + "32.1.2.0.192.rpz-client-ip CNAME .\n"
     "24.0.2.0.192.rpz-client-ip CNAME rpz-drop.\n"
     "128.1.zz.db8.2001.rpz-client-ip CNAME .\n"
     "48.zz.db8.2001.rpz-client-ip A 192.0.2.7\n"
     "128.8.7.6.5.4.3.2.1.rpz-client-ip CNAME rpz-tcp-only.\n"),
    ("ip-nsip-nsdname", RPZ_HEAD + "32.1.2.0.192.rpz-ip CNAME .\n"
     "64.zz.db8.2001.rpz-nsip CNAME .\n"
     "ns.evil.example.rpz-nsdname CNAME .\n"
     "*.evil.example.rpz-nsdname CNAME rpz-passthru.\n"),
    ("spread", RPZ_HEAD + "a A 192.0.2.1\nb CNAME .\nA TXT \"x\"\n"
     "a A 192.0.2.1\nc AAAA ::1\n"),
    ("bad-triggers", RPZ_HEAD + "33.1.2.0.192.rpz-client-ip CNAME .\n"
     "24.1.2.0.192.rpz-client-ip CNAME .\n32.01.2.0.192.rpz-ip CNAME .\n"
     "128.1.zz.db8.zz.2001.rpz-client-ip CNAME .\n"
     "128.1.2.3.4.5.6.7.8.9.rpz-nsip CNAME .\n"
     "128.1.zz.0db8.2001.rpz-client-ip CNAME .\n"
     "x.rpz-bogus CNAME .\na.*.b CNAME .\nrpz-nsdname CNAME .\n"),
    ("conflicts", RPZ_HEAD + "x CNAME .\ny A 192.0.2.9\nx A 192.0.2.1\n"
     "z CNAME .\nz CNAME *.\nm MX 10 mail.example.\n@ A 192.0.2.1\n"
     "www.other. CNAME .\nq A \\# 3 010203\n"),
    ("syntax-error", RPZ_HEAD + "a CNAME .\nb A 192.0.2.400\n"
     "c TXT \"unterminated\nd CNAME .\n"),
    ("no-soa", "x CNAME .\n@ NS ns.example.\n"),
    ("include", RPZ_HEAD + "$INCLUDE /etc/passwd\n"),
    ("directives", "$ORIGIN rpz.example.\n$TTL 1h\n" + RPZ_HEAD[9:] +
     "$ORIGIN sub.rpz.example.\nx CNAME .\n$TTL\n"),
]


def cksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


MAC_C = bytes.fromhex("02000000000c")
MAC_S = bytes.fromhex("020000000005")
IP4_C, IP4_S = bytes([192, 0, 2, 10]), bytes([198, 18, 0, 1])
IP6_C = bytes.fromhex("20010db8000000000000000000000010")
IP6_S = bytes.fromhex("20010db8000000000000000000000001")


def eth(ethertype, vlan=None, dst=MAC_S, src=MAC_C):
    tag = struct.pack("!HH", 0x8100, vlan) if vlan is not None else b""
    return dst + src + tag + struct.pack("!H", ethertype)


def ipv4(proto, l4, opts=b"", src=IP4_C, dst=IP4_S, frag=0):
    hl = 20 + len(opts)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, hl + len(l4), 0x4242,
                    frag, 64, proto, 0, src, dst) + opts
    return h[:10] + struct.pack("!H", cksum(h)) + h[12:] + l4


def ipv6(nh, l4, ext=b"", first=None, src=IP6_C, dst=IP6_S, hop=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(ext) + len(l4),
                       nh if first is None else first, hop, src, dst) + ext + l4


def pseudo(src, dst, proto, n):
    if len(src) == 4:
        return src + dst + struct.pack("!BBH", 0, proto, n)
    return src + dst + struct.pack("!IxxxB", n, proto)


def udp(payload, src, dst, sport=40000, dport=53):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = cksum(pseudo(src, dst, 17, len(u)) + u) or 0xffff
    return u[:6] + struct.pack("!H", c) + u[8:]


def icmp(type_, body, src=None, dst=None, code=0):
    m = struct.pack("!BBH", type_, code, 0) + body
    ph = pseudo(src, dst, 58, len(m)) if src else b""
    return m[:2] + struct.pack("!H", cksum(ph + m)) + m[4:]


def frame_seeds():
    query = hdr(0x1234, 0x0100, 1, 0, 0, 1) + name("www.shop.lab") + \
        struct.pack("!HH", 1, 1) + opt()
    u4 = udp(query, IP4_C, IP4_S)
    u6 = udp(query, IP6_C, IP6_S)
    yield "udp4", eth(0x0800) + ipv4(17, u4)
    yield "udp4-vlan-padded", eth(0x0800, vlan=0x2064) + ipv4(17, u4) + bytes(6)
    yield "udp4-options", eth(0x0800) + ipv4(
        17, u4, opts=b"\x94\x04\x00\x00\x01\x01\x01\x00")
    yield "udp6", eth(0x86dd) + ipv6(17, u6)
    yield "udp6-vlan", eth(0x86dd, vlan=5) + ipv6(17, u6)
    ext = b"\x2b\x00\x01\x04\x00\x00\x00\x00" + \
        b"\x3c\x00\x00\x00\x00\x00\x00\x00" + \
        b"\x11\x00\x01\x04\x00\x00\x00\x00"
    yield "udp6-ext", eth(0x86dd) + ipv6(17, u6, ext, first=0)
    yield "udp4-fragment", eth(0x0800) + ipv4(17, u4, frag=0x2000)
    tcp = struct.pack("!HHIIBBHHH", 40000, 53, 1, 0, 5 << 4, 2, 65535, 0, 0)
    yield "tcp4", eth(0x0800) + ipv4(6, tcp)
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_C, IP4_C,
                      bytes(6), IP4_S)
    yield "arp-request", eth(0x0806, dst=b"\xff" * 6) + arp + bytes(18)
    yield "arp-request-vlan", eth(0x0806, vlan=9, dst=b"\xff" * 6) + arp
    echo = struct.pack("!HH", 0x0abc, 1) + bytes(range(56))
    yield "echo4", eth(0x0800) + ipv4(1, icmp(8, echo))
    yield "echo4-options", eth(0x0800) + ipv4(1, icmp(8, echo),
                                              opts=b"\x01\x01\x01\x00")
    yield "echo6", eth(0x86dd) + ipv6(58, icmp(128, echo, IP6_C, IP6_S))
    snm = bytes.fromhex("ff0200000000000000000001ff000001")
    ns = bytes(4) + IP6_S + b"\x01\x01" + MAC_C
    yield "ns", eth(0x86dd, dst=bytes.fromhex("3333ff000001")) + ipv6(
        58, icmp(135, ns, IP6_C, snm), src=IP6_C, dst=snm, hop=255)
    dad = bytes(4) + IP6_S
    yield "ns-dad", eth(0x86dd, vlan=3, dst=bytes.fromhex("3333ff000001")) + \
        ipv6(58, icmp(135, dad, bytes(16), snm), src=bytes(16), dst=snm, hop=255)


# ---- fuzz_val: presentation-format zone files of the validator's tests ----
TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28,
         "DS": 43, "RRSIG": 46, "NSEC": 47, "DNSKEY": 48, "NSEC3": 50,
         "NSEC3PARAM": 51}
B32HEX = "0123456789abcdefghijklmnopqrstuv"


def b32hex(s):
    bits, acc, out = 0, 0, b""
    for c in s.lower():
        acc = acc << 5 | B32HEX.index(c)
        bits += 5
        if bits >= 8:
            bits -= 8
            out += bytes([acc >> bits & 0xff])
    return out


def bitmap(types):
    windows = {}
    for t in types:
        v = TYPES[t]
        w = windows.setdefault(v >> 8, bytearray(32))
        w[(v & 0xff) >> 3] |= 0x80 >> (v & 7)
    out = b""
    for win in sorted(windows):
        bm = bytes(windows[win]).rstrip(b"\0")
        out += bytes([win, len(bm)]) + bm
    return out


def stamp(t):
    import calendar
    import time
    return calendar.timegm(time.strptime(t, "%Y%m%d%H%M%S"))


def rdata_of(rtype, f):
    import base64
    import ipaddress
    if rtype == "A":
        return ipaddress.IPv4Address(f[0]).packed
    if rtype == "AAAA":
        return ipaddress.IPv6Address(f[0]).packed
    if rtype in ("NS", "CNAME"):
        return name(f[0])
    if rtype == "MX":
        return struct.pack("!H", int(f[0])) + name(f[1])
    if rtype == "SOA":
        return name(f[0]) + name(f[1]) + struct.pack("!IIIII", *map(int, f[2:7]))
    if rtype == "DS":
        return struct.pack("!HBB", int(f[0]), int(f[1]), int(f[2])) + bytes.fromhex("".join(f[3:]))
    if rtype == "DNSKEY":
        return struct.pack("!HBB", int(f[0]), int(f[1]), int(f[2])) + base64.b64decode("".join(f[3:]))
    if rtype == "RRSIG":
        return struct.pack("!HBBIIIH", TYPES[f[0]], int(f[1]), int(f[2]), int(f[3]),
                           stamp(f[4]), stamp(f[5]), int(f[6])) + name(f[7]) + \
            base64.b64decode("".join(f[8:]))
    if rtype == "NSEC":
        return name(f[0]) + bitmap(f[1:])
    if rtype == "NSEC3":
        salt = b"" if f[3] == "-" else bytes.fromhex(f[3])
        nxt = b32hex(f[4])
        return struct.pack("!BBHB", int(f[0]), int(f[1]), int(f[2]), len(salt)) + salt + \
            bytes([len(nxt)]) + nxt + bitmap(f[5:])
    raise ValueError(rtype)


def zone_records(path):
    """(owner, type, ttl, rdata) of a zone file as the tests write them."""
    recs, origin, ttl, buf, depth = [], ".", 3600, [], 0
    for line in open(path):
        line = line.split(";", 1)[0]
        depth += line.count("(") - line.count(")")
        buf.append(line.replace("(", " ").replace(")", " "))
        if depth > 0:
            continue
        f = " ".join(buf).split()
        buf = []
        if not f:
            continue
        if f[0] == "$ORIGIN":
            origin = f[1]
            continue
        if f[0] == "$TTL":
            ttl = int(f[1])
            continue
        owner = f[0] if f[0].endswith(".") else f[0] + "." + origin
        i, rttl = 1, ttl
        while f[i] not in TYPES:
            if f[i].isdigit():
                rttl = int(f[i])
            i += 1
        recs.append((owner, f[i], rttl, rdata_of(f[i], f[i + 1:])))
    return recs


def val_seeds(top):
    """A response per RRset of each file: question, DNSKEY set and the RRset
    (with RRSIGs) as answers, NSEC/NSEC3 records as authority."""
    folder = os.path.join(top, "tests", "control", "dnssec")
    for fname in sorted(os.listdir(folder)):
        recs = zone_records(os.path.join(folder, fname))

        def covers(r):
            return TYPES[r[1]] if r[1] != "RRSIG" else struct.unpack("!H", r[3][:2])[0]
        keys = [r for r in recs if covers(r) == 48]
        denial = [r for r in recs if covers(r) in (47, 50)][:8]
        groups = []
        for r in recs:
            g = (r[0].lower(), covers(r))
            if g not in groups and g[1] not in (48, 47, 50):
                groups.append(g)
        for n, (owner, t) in enumerate(groups):
            rs = [r for r in recs if r[0].lower() == owner and covers(r) == t]
            body = b"".join(rr(name(r[0]), TYPES[r[1]], r[2], r[3]) for r in keys + rs)
            auth = b"".join(rr(name(r[0]), TYPES[r[1]], r[2], r[3]) for r in denial)
            q = name(owner) + struct.pack("!HH", t, 1)
            msg = hdr(0x1234, 0x8400, 1, len(keys) + len(rs), len(denial), 0) + q + body + auth
            yield "%s-%d" % (fname, n), msg


def main():
    if len(sys.argv) == 3:
        target, out = sys.argv[1], sys.argv[2]
    else:
        target, out = "fuzz_msg", sys.argv[1]
    os.makedirs(out, exist_ok=True)
    if target == "fuzz_config":
        for label, text in CONFIG_SEEDS:
            with open(os.path.join(out, label), "w") as f:
                f.write(text)
        return
    if target == "fuzz_rpz":
        for label, text in RPZ_SEEDS:
            with open(os.path.join(out, label), "w") as f:
                f.write(text)
        return
    if target == "fuzz_policy":
        # fuzz_policy.c's input: mode, client UDP size, buffer, qtype, rule
        # count; rules (kind, action, name or prefix, local data); the
        # question's name, the client's address, then the target's message.
        def lname(t):
            n = name(t)
            return bytes([len(n)]) + n
        rules = (bytes([0, 0]) + lname("bad.example")                 # exact NXDOMAIN
                 + bytes([1, 1]) + lname("ads.example")                # wildcard NODATA
                 + bytes([0, 5]) + lname("loc.example") + bytes([1, 0, 60, 4, 198, 51, 100, 7])
                 + bytes([2, 30, 5]) + b"\x04text"                     # local A, TXT
                 + bytes([1, 5]) + lname("g.example") + bytes([0, 3, 60])
                 + lname("*.garden.example")                           # CNAME *.suffix
                 + bytes([2, 3, 24, 10, 1, 2, 0])                      # IPv4 /24 DROP
                 + bytes([3 | 4, 4, 32, 0x20, 1, 0x0d, 0xb8] + [0] * 12))  # IPv6 /32, zone 1
        target_msg = [d for lbl, d in seeds()][0]
        for n, (qn, qt, mode) in enumerate((("bad.example", 1, 1), ("a.ads.example", 28, 3),
                                            ("loc.example", 1, 0), ("loc.example", 16, 5),
                                            ("www.g.example", 1, 1), ("www.g.example", 5, 2),
                                            ("z.example", 1, 1), ("loc.example", 255, 0))):
            head = bytes([mode]) + struct.pack("!HHH", 1232, 1200, qt) + bytes([6 | (n << 4)])
            with open(os.path.join(out, "policy-%d" % n), "wb") as f:
                f.write(head + rules + lname(qn) + bytes([10, 1, 2, 3] + [0] * 12) + target_msg)
        return
    if target == "fuzz_xfr":
        # fuzz_xfr.c's input: mode (bit 0 IXFR from serial 1, bit 1 the id
        # from the next two octets), id, then length-prefixed messages.
        def soa(serial):
            return (name("ns.rpz.t") + name("h.rpz.t")
                    + struct.pack("!IIIII", serial, 5, 2, 600, 60))
        z = name("rpz.t")

        def answer(qtype, recs, question=True):
            body = (z + struct.pack("!HH", qtype, 1)) if question else b""
            m = hdr(0x2a2a, 0x8400, 1 if question else 0, len(recs), 0, 0) + body
            for owner, rtype, rdata in recs:
                m += rr(owner, rtype, 300, rdata)
            return struct.pack("!H", len(m)) + m
        a, b, c = name("a.rpz.t"), name("b.rpz.t"), name("c.rpz.t")
        axfr = answer(252, [(z, 6, soa(7)), (z, 2, name("ns.rpz.t")), (c, 5, b"\0")]) + \
            answer(252, [(name("32.1.2.0.192.rpz-ip.rpz.t"), 5, b"\0"), (z, 6, soa(7))], False)
        ixfr = answer(251, [(z, 6, soa(3)), (z, 6, soa(1)), (a, 5, b"\0"), (z, 6, soa(2)),
                            (c, 1, bytes([192, 0, 2, 9])), (z, 6, soa(2)),
                            (b, 1, bytes([192, 0, 2, 1])), (z, 6, soa(3)), (z, 6, soa(3))])
        current = answer(251, [(z, 6, soa(1))])
        corrupt = answer(251, [(z, 6, soa(2)), (z, 6, soa(1)), (c, 5, b"\0"), (z, 6, soa(2)),
                               (z, 6, soa(2))])
        for label, mode, data in (("axfr", 0, axfr), ("ixfr", 1, ixfr), ("current", 1, current),
                                  ("ixfr-whole", 1, axfr.replace(struct.pack("!HH", 252, 1),
                                                                 struct.pack("!HH", 251, 1))),
                                  ("corrupt", 1, corrupt)):
            with open(os.path.join(out, "xfr-" + label), "wb") as f:
                f.write(bytes([mode, 0, 0]) + data)
        return
    if target == "fuzz_scrub":
        # One octet choosing the zone the server was asked as, then a message.
        for label, data in seeds():
            for zone in range(4):
                with open(os.path.join(out, "%s-z%d" % (label, zone)), "wb") as f:
                    f.write(bytes([zone]) + data)
        return
    if target == "fuzz_val":
        top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        for label, data in val_seeds(top):
            for mode in (0, 1, 3, 0x21, 0x40):
                with open(os.path.join(out, "%s-m%x" % (label, mode)), "wb") as f:
                    f.write(bytes([mode]) + data)
        return
    if target == "fuzz_frame":
        for label, data in frame_seeds():
            for mode in (0, 3):
                with open(os.path.join(out, "%s-m%d" % (label, mode)), "wb") as f:
                    f.write(bytes([mode]) + data)
        return
    if target == "fuzz_fill":
        # fuzz_fill.c's compact fill record: flags, rank, rcode, qname
        # length, EDNS/DO, UDP size, qtype, qclass, client flags, qname,
        # then the message control assembled (its seeds(): answers,
        # referrals, negative answers), asked for the same question.
        for label, data in seeds():
            qn = data[12:12 + name_len(data, 12)] if len(data) > 12 else b"\0"
            for flags, rcode, edns in ((3, 0, 3), (2, 2, 1), (1, 3, 0), (6, 0, 1)):
                head = struct.pack("!BBHBBHHHH", flags, 5, rcode, len(qn), edns, 1232,
                                   1, 1, 0x0100)
                with open(os.path.join(out, "%s-f%d" % (label, flags)), "wb") as f:
                    f.write(head + qn.upper() + data)
        return
    if target == "fuzz_answer":
        # fuzz_answer.c's header: mode (EDNS, stale, secure, labels before
        # the cached name, name from the input, CD), client UDP size,
        # buffer, qtype, rcode, name length, the name octets; then the
        # message that is cached. The NXDOMAIN seeds go in as secure so
        # that the RFC 8020 markers are made and asked below.
        labels = b"\x01a\x01b\x05longer"
        for label, data in seeds():
            for mode in (0x39, 0x1a, 0x2b, 0x0c, 0x31):
                head = struct.pack("!BHHHBB", mode, 1232 if mode & 3 else 0, 1232, 1, 0,
                                   len(labels))
                with open(os.path.join(out, "%s-m%02x" % (label, mode)), "wb") as f:
                    f.write(head + labels + data)
        # signed answers (RRSIGs, NSEC/NSEC3 authority) asked for their own
        # question without and with DO: the plain view and the full one
        top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        for n, (label, data) in enumerate(val_seeds(top)):
            if n % 4:
                continue
            qoff = 12 + name_len(data, 12)
            qtype = struct.unpack("!H", data[qoff:qoff + 2])[0]
            for mode in (0x01, 0x0a):
                head = struct.pack("!BHHHBB", mode, 1232, 4000, qtype, 0, 0)
                with open(os.path.join(out, "signed-%s-m%02x" % (label, mode)), "wb") as f:
                    f.write(head + data)
        whole = name("x.y.nope.shop.lab")
        nx = [d for lbl, d in seeds() if lbl == "nxdomain"][0]
        head = struct.pack("!BHHHBB", 0x4a, 4096, 4000, 28, 2, len(whole))
        with open(os.path.join(out, "nxdomain-whole-name"), "wb") as f:
            f.write(head + whole + nx)
        # the denial feed, asked for a name in its range (DO and not)
        fd = [d for lbl, d in seeds() if lbl == "denial-feed"][0]
        whole = name("b.shop.lab")
        for mode in (0x42, 0x41):
            head = struct.pack("!BHHHBB", mode, 1232, 4000, 1, 0, len(whole))
            with open(os.path.join(out, "denial-feed-asked-m%02x" % mode), "wb") as f:
                f.write(head + whole + fd)
        return
    if target != "fuzz_msg":
        sys.exit("seeds.py: no seeds for target " + target)
    for label, data in seeds():
        with open(os.path.join(out, label), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
