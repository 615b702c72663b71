#!/usr/bin/python3
"""bench/root-trace.py: the query traces of bench/root-study, in one form:
"SECONDS NAME TYPE" lines (seconds from the trace's start, a fractional
part allowed; the name with its trailing dot; the type by mnemonic), sorted
by time. Three sources:

  root-trace.py synth OUT --zone ZONE [--hours H] [--rate R] [--nx P]
        [--seed S]
      a synthetic trace: H hours (24) at R queries a second (20) on average
      (Poisson arrivals); a share P (0.67) asks for names under top-level
      domains that do not exist: 60 % of those Chromium-style random single
      labels of 7 to 15 letters (its intranet-redirect probes), 40 % names
      under leaked suffixes (local, home, corp, lan, internal, ...; Zipf);
      the rest asks for www.nameK.TLD under the zone's real TLDs, Zipf
      (s = 1.1) over them in a seeded random order; A 75 %, AAAA 25 %.
  root-trace.py log OUT FILE
      a query log, one query a line: "TIME NAME TYPE" with TIME in RFC 3339
      (2017-08-21T10:00:00Z, 2017-08-21T10:00:00.25+02:00, a space instead
      of the T), NAME with or without its trailing dot, quoted or not;
      extra fields after TYPE (a class "IN" before it, a client address
      first) are accepted as described in bench/README.md: the first field
      that parses as a time is the time, the last two fields that are a
      name and a type mnemonic are the question. Lines that do not parse
      are counted and skipped (their count is printed).
  root-trace.py pcap OUT FILE
      clients' DNS queries (QR=0, RD=1, UDP port 53) of a pcap file
      (Ethernet, Linux cooked or raw IP; IPv4 and IPv6; microsecond or
      nanosecond format).

Writes OUT and prints "N queries over S seconds". Deterministic for a seed.
"""
import datetime
import math
import random
import re
import struct
import sys

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
         "AAAA": 28, "SRV": 33, "NAPTR": 35, "DS": 43, "DNSKEY": 48, "HTTPS": 65,
         "SVCB": 64, "ANY": 255}
NAMES = {v: k for k, v in TYPES.items()}
LEAKED = ["local", "home", "corp", "lan", "internal", "localdomain", "domain",
          "belkin", "dlink", "router", "intranet", "localhost", "workgroup", "gateway"]
SPAN_MAX = 31 * 86400     # a longer trace has a stray timestamp


def zone_tlds(path):
    """The zone's delegated top-level labels (owners of NS records below
    the apex), sorted."""
    tlds = set()
    for line in open(path):
        f = line.split()
        if len(f) >= 4 and f[0] != "." and f[0].count(".") == 1 and "NS" in f[2:4]:
            tlds.add(f[0].rstrip(".").lower())
    return sorted(tlds)


def zipf_cdf(n, s):
    w = [1.0 / (k ** s) for k in range(1, n + 1)]
    total = sum(w)
    acc, cdf = 0.0, []
    for x in w:
        acc += x / total
        cdf.append(acc)
    return cdf


def pick(rng, cdf):
    u = rng.random()
    lo, hi = 0, len(cdf) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cdf[mid] < u:
            lo = mid + 1
        else:
            hi = mid
    return lo


def synth(out, zone, hours=24.0, rate=20.0, nx=0.67, seed=1):
    rng = random.Random(seed)
    tlds = zone_tlds(zone)
    if not tlds:
        sys.exit("root-trace.py: no delegations in " + zone)
    order = tlds[:]
    rng.shuffle(order)
    tld_cdf = zipf_cdf(len(order), 1.1)
    existing = set(tlds)
    leaked = [s for s in LEAKED if s not in existing]  # (a newer zone may have one)
    leak_cdf = zipf_cdf(len(leaked), 1.0)
    t, end, n = 0.0, hours * 3600.0, 0
    letters = "abcdefghijklmnopqrstuvwxyz"
    with open(out, "w") as f:
        while True:
            t += rng.expovariate(rate)
            if t >= end:
                break
            qtype = "A" if rng.random() < 0.75 else "AAAA"
            if rng.random() < nx:
                if rng.random() < 0.6:
                    while True:
                        label = "".join(rng.choice(letters) for _ in range(rng.randint(7, 15)))
                        if label not in existing:
                            break
                    name = label + "."
                else:
                    suffix = leaked[pick(rng, leak_cdf)]
                    name = "host%d.%s." % (rng.randint(1, 50), suffix)
            else:
                tld = order[pick(rng, tld_cdf)]
                name = "www.name%d.%s." % (rng.randint(1, 1000), tld)
            f.write("%.3f %s %s\n" % (t, name, qtype))
            n += 1
    return n, end


def parse_time(s):
    s = s.strip('"')
    m = re.match(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d(?:\.\d+)?)(Z|[+-]\d\d:?\d\d)?$", s,
                 re.IGNORECASE)
    if not m:
        return None
    tz = m.group(3) or "Z"
    if tz.upper() == "Z":
        tz = "+00:00"
    elif ":" not in tz:
        tz = tz[:3] + ":" + tz[3:]
    try:
        return datetime.datetime.fromisoformat(m.group(1) + "T" + m.group(2) + tz).timestamp()
    except ValueError:
        return None


NAME_RE = re.compile(r"^[A-Za-z0-9_*\-.\\]+$")


def log(out, path):
    rows, bad = [], 0
    for line in open(path, errors="replace"):
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        t = None
        for i, x in enumerate(f):
            t = parse_time(x)
            if t is None and i + 1 < len(f):
                t = parse_time(x + "T" + f[i + 1])
            if t is not None:
                break
        q = None
        for i in range(len(f) - 1, 0, -1):
            qt, nm = f[i].strip('"').upper(), f[i - 1].strip('"')
            if nm.upper() in ("IN", "CH", "HS") and i >= 2:
                nm = f[i - 2].strip('"')  # NAME CLASS TYPE
            if qt in TYPES and NAME_RE.match(nm) and parse_time(nm) is None:
                q = (nm if nm.endswith(".") else nm + ".", qt)
                break
            if (qt.startswith("TYPE") and qt[4:].isdigit() and int(qt[4:]) < 65536 and
                    NAME_RE.match(nm)):
                q = (nm if nm.endswith(".") else nm + ".", qt)
                break
        if t is None or q is None:
            bad += 1
            continue
        rows.append((t, q[0].lower(), q[1]))
    return write_rows(out, rows, bad)


def write_rows(out, rows, bad):
    rows.sort(key=lambda r: r[0])
    t0 = rows[0][0] if rows else 0.0
    if rows and rows[-1][0] - t0 > SPAN_MAX:
        sys.exit("root-trace.py: the trace spans %.0f s, over 31 days: a stray timestamp? "
                 "(first %.0f, last %.0f)" % (rows[-1][0] - t0, t0, rows[-1][0]))
    with open(out, "w") as f:
        for t, name, qtype in rows:
            f.write("%.3f %s %s\n" % (t - t0, name, qtype))
    if bad:
        print("root-trace.py: %d lines skipped (no time, name and type)" % bad)
    return len(rows), (rows[-1][0] - t0) if rows else 0.0


LABEL_OK = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_*")


def dns_question(p):
    """(name, type) of a client's DNS query p (QR=0, RD=1: a resolver's own
    iterative queries have RD=0), or None, also for labels of other octets
    than letters, digits, '-', '_' and '*' (they would not survive the
    trace's text form)."""
    if len(p) < 12 or p[2] & 0x80 or not p[2] & 0x01 or struct.unpack("!H", p[4:6])[0] != 1:
        return None
    pos, labels = 12, []
    while pos < len(p):
        n = p[pos]
        if n == 0:
            pos += 1
            break
        if n > 63 or pos + 1 + n > len(p) or not set(p[pos + 1:pos + 1 + n]) <= LABEL_OK:
            return None
        labels.append(p[pos + 1:pos + 1 + n].decode("ascii").lower())
        pos += 1 + n
    if pos + 2 > len(p):
        return None
    qtype = struct.unpack("!H", p[pos:pos + 2])[0]
    return ".".join(labels) + ".", NAMES.get(qtype, "TYPE%d" % qtype)


def pcap(out, path):
    data = open(path, "rb").read()
    if len(data) < 24:
        sys.exit("root-trace.py: %s: not a pcap file" % path)
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end, nano = "<", magic == b"\x4d\x3c\xb2\xa1"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end, nano = ">", magic == b"\xa1\xb2\x3c\x4d"
    else:
        sys.exit("root-trace.py: %s: not a pcap file (pcapng is not read: "
                 "convert it with editcap -F pcap)" % path)
    link = struct.unpack(end + "I", data[20:24])[0]
    pos, rows, bad = 24, [], 0
    while pos + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(end + "IIII", data[pos:pos + 16])
        pkt = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        t = sec + frac / (1e9 if nano else 1e6)
        if link == 1:          # Ethernet, maybe one VLAN tag
            off, et = 14, struct.unpack("!H", pkt[12:14])[0] if len(pkt) >= 14 else 0
            if et == 0x8100 and len(pkt) >= 18:
                off, et = 18, struct.unpack("!H", pkt[16:18])[0]
        elif link == 113:      # Linux cooked
            off, et = 16, struct.unpack("!H", pkt[14:16])[0] if len(pkt) >= 16 else 0
        elif link in (101, 12, 228, 229):  # raw IP
            off, et = 0, 0x0800 if pkt[:1] and pkt[0] >> 4 == 4 else 0x86DD
        else:
            sys.exit("root-trace.py: %s: link type %d not read" % (path, link))
        ip = pkt[off:]
        if et == 0x0800 and len(ip) >= 20 and ip[9] == 17:
            udp = ip[(ip[0] & 15) * 4:]
        elif et == 0x86DD and len(ip) >= 40 and ip[6] == 17:
            udp = ip[40:]
        else:
            continue
        if len(udp) < 8 or struct.unpack("!H", udp[2:4])[0] != 53:
            continue
        q = dns_question(udp[8:])
        if q is None:
            bad += 1
            continue
        rows.append((t, q[0], q[1]))
    return write_rows(out, rows, bad)


def main():
    a = sys.argv[1:]
    if len(a) < 2:
        sys.exit(__doc__)
    kind, out = a[0], a[1]
    if kind == "synth":
        opts = {"--zone": None, "--hours": "24", "--rate": "20", "--nx": "0.67", "--seed": "1"}
        i = 2
        while i + 1 < len(a):
            if a[i] not in opts:
                sys.exit("root-trace.py: unknown option " + a[i])
            opts[a[i]] = a[i + 1]
            i += 2
        if not opts["--zone"]:
            sys.exit("root-trace.py synth: --zone is needed (the TLDs)")
        n, span = synth(out, opts["--zone"], float(opts["--hours"]), float(opts["--rate"]),
                        float(opts["--nx"]), int(opts["--seed"]))
    elif kind == "log" and len(a) == 3:
        n, span = log(out, a[2])
    elif kind == "pcap" and len(a) == 3:
        n, span = pcap(out, a[2])
    else:
        sys.exit(__doc__)
    print("%d queries over %.0f seconds" % (n, span))


if __name__ == "__main__":
    main()
