#!/usr/bin/env python3
"""tests/fuzz/seeds.py OUTDIR: writes a small seed corpus for fuzz_msg.

Seeds are well-formed messages of the kinds the parsers meet: client queries
(with and without EDNS and cookies) and authoritative answers that use every
RR type the library knows, with compression pointers. Written at test time so
that no binary files live in the tree. Standard library only.
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
    nx = name("nope.shop.lab") + struct.pack("!HH", 28, 1)
    yield "nxdomain", hdr(0x5555, 0x8583, 1, 0, 1, 0) + nx + rr(
        b"\xc0\x11", 6, 300, soa)
    ref = name("shop.lab") + struct.pack("!HH", 1, 1)
    yield "referral", hdr(0x6666, 0x8000, 1, 0, 1, 1) + ref + rr(
        b"\xc0\x0c", 2, 3600, b"\x03ns1\xc0\x0c") + rr(
        b"\xc0\x26", 1, 3600, b"\x7f\x35\x02\x01")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for label, data in seeds():
        with open(os.path.join(out, label), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
