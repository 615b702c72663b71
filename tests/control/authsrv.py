#!/usr/bin/python3
"""tests/control/authsrv.py SCENARIO.json: small scripted authoritative
servers for the resolver's attack tests (kiting, poisoning, limits), on
loopback addresses only. Run with Debian's /usr/bin/python3 (dnspython).

The scenario names, per server address, the zones it serves; each zone is a
list of records [owner, ttl, type, rdata] ("origin" names the apex when
the zone's key is not its name). A server answers like an
authority: a referral (AA=0, NS in authority, glue from the zone's own
records) for names at or below an NS set strictly below the apex; else the
data, a CNAME, NODATA or NXDOMAIN with the SOA. Misbehaviour per zone:
"extra" records added to every answer's sections (poison), "silent" (never
answer), "delay" (seconds before each answer, so a spoofer has time),
"drop_edns" (silent to queries with an OPT record). A name with no records
of its own matches a wildcard "*.PARENT" of its parent. With "log" set,
every query is written to standard output as "query ADDRESS NAME PORT"
(PORT: the querier's source port; "tcp" over TCP).
The file is read again whenever it changes, so a test can change a
delegation while the resolver runs. Each address serves UDP in a thread;
replies over 1232 octets are truncated (TC=1) and served whole over TCP;
the whole process stops after "lifetime" seconds (default 600) by itself.
"""
import json
import os
import socket
import sys
import threading
import time

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

LOCK = threading.Lock()
STATE = {"mtime": 0, "scn": None}
PATH = sys.argv[1]


def scenario():
    with LOCK:
        try:
            mtime = os.stat(PATH).st_mtime_ns
        except OSError:
            return STATE["scn"]
        if mtime != STATE["mtime"]:
            with open(PATH) as f:
                STATE["scn"] = json.load(f)
            STATE["mtime"] = mtime
        return STATE["scn"]


def records(zone):
    """The zone's records, parsed once per scenario load (the scenario dict
    is replaced when the file changes), and an index by owner name."""
    if "_parsed" not in zone:
        out, index = [], {}
        for owner, ttl, rtype, rdata in zone.get("records", []):
            rec = (dns.name.from_text(owner), int(ttl), rtype.upper(), rdata)
            out.append(rec)
            index.setdefault(rec[0], []).append(rec)
        zone["_parsed"] = (out, index)
    return zone["_parsed"]


def add(section, owner, ttl, rtype, rdatas):
    rrs = dns.rrset.from_text_list(owner, ttl, "IN", rtype, rdatas)
    for existing in section:
        if existing.name == rrs.name and existing.rdtype == rrs.rdtype:
            existing.union_update(rrs)
            return
    section.append(rrs)


def rrsets(index, name, rtype):
    """(ttl, [rdata]) of the records at name of type rtype."""
    found = [(t, r) for o, t, ty, r in index.get(name, []) if ty == rtype]
    if not found:
        return None
    return min(t for t, _ in found), [r for _, r in found]


def answer(scn, addr, query):
    q = query.question[0]
    qname, qtype = q.name, dns.rdatatype.to_text(q.rdtype)
    zones = [z for z in scn["servers"].get(addr, [])]
    best = None
    for key in zones:
        zone = scn["zones"][key]
        origin = dns.name.from_text(zone.get("origin", key))
        if qname.is_subdomain(origin) and (best is None or origin.is_subdomain(best[0])):
            best = (origin, zone)
    resp = dns.message.make_response(query)
    resp.flags &= ~dns.flags.RA
    if best is None:
        resp.set_rcode(dns.rcode.REFUSED)
        return resp
    origin, zone = best
    if zone.get("silent"):
        return None
    if zone.get("drop_edns") and query.edns >= 0:
        return None  # a middlebox that swallows EDNS queries
    if zone.get("delay"):
        time.sleep(float(zone["delay"]))  # the real answer comes late
    recs, index = records(zone)
    soa_ttl = int(zone.get("soa_ttl", 300))
    apex = "" if origin == dns.name.root else origin.to_text()
    soa = "ns.%s hostmaster.%s 1 7200 3600 1209600 %d" % (apex, apex, soa_ttl)
    # A delegation strictly below the apex, at or above qname?
    # the first cut below the apex on the way to qname (the zone ends there)
    cut = None
    labels = len(qname.labels)
    for n in range(len(origin.labels) + 1, labels + 1):
        name = qname.split(n)[1]
        if rrsets(index, name, "NS"):
            cut = name
            break
    if cut is not None:
        ttl, targets = rrsets(index, cut, "NS")
        add(resp.authority, cut, ttl, "NS", targets)
        for tgt in targets:
            tname = dns.name.from_text(tgt)
            for rtype in ("A", "AAAA"):
                glue = rrsets(index, tname, rtype)
                if glue:
                    add(resp.additional, tname, glue[0], rtype, glue[1])
    else:
        resp.flags |= dns.flags.AA
        owner = qname
        if owner not in index and len(qname.labels) > len(origin.labels):
            wild = dns.name.from_text("*", qname.parent())
            if wild in index:
                owner = wild
        data = rrsets(index, owner, qtype)
        cname = rrsets(index, owner, "CNAME")
        if data:
            add(resp.answer, qname, data[0], qtype, data[1])
        elif cname and qtype != "CNAME":
            add(resp.answer, qname, cname[0], "CNAME", cname[1])
        else:
            exists = owner != qname or any(
                o == qname or o.is_subdomain(qname) for o, _, _, _ in recs)
            if not exists and qname != origin:
                resp.set_rcode(dns.rcode.NXDOMAIN)
            add(resp.authority, origin, soa_ttl, "SOA", [soa])
    for sec, target in (("answer", resp.answer), ("authority", resp.authority),
                        ("additional", resp.additional)):
        for owner, ttl, rtype, rdata in zone.get("extra", {}).get(sec, []):
            add(target, dns.name.from_text(owner), int(ttl), rtype, [rdata])
    return resp


def respond(addr, data, port="tcp"):
    try:
        query = dns.message.from_wire(data)
        scn = scenario()
        if scn.get("log"):
            print("query %s %s %s" % (addr, query.question[0].name, port), flush=True)
        resp = answer(scn, addr, query)
    except Exception as e:  # a test server: say why, keep serving
        print("authsrv %s: %s" % (addr, e), file=sys.stderr)
        return None
    return None if resp is None else resp.to_wire(max_size=65535)


def serve_tcp_conn(addr, conn):
    with conn:
        conn.settimeout(10)
        try:
            while True:
                head = conn.recv(2, socket.MSG_WAITALL)
                if len(head) < 2:
                    return
                n = int.from_bytes(head, "big")
                data = conn.recv(n, socket.MSG_WAITALL)
                wire = respond(addr, data)
                if wire is not None:
                    conn.sendall(len(wire).to_bytes(2, "big") + wire)
        except OSError:
            return


def serve_tcp(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 53))
    s.listen(16)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve_tcp_conn, args=(addr, conn), daemon=True).start()


def serve(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 53))
    while True:
        data, peer = s.recvfrom(65535)
        wire = respond(addr, data, peer[1])
        if wire is None:
            continue
        if len(wire) > 1232:  # as an authority with a 1232-octet buffer would
            resp = dns.message.from_wire(wire)
            resp.flags |= dns.flags.TC
            resp.answer, resp.authority, resp.additional = [], [], []
            wire = resp.to_wire()
        s.sendto(wire, peer)


def main():
    scn = scenario()
    for addr in scn["servers"]:
        if not addr.startswith("127."):
            sys.exit("authsrv: %s is not a loopback address" % addr)
        threading.Thread(target=serve, args=(addr,), daemon=True).start()
        threading.Thread(target=serve_tcp, args=(addr,), daemon=True).start()
    print("authsrv: ready", flush=True)
    time.sleep(float(scn.get("lifetime", 600)))


if __name__ == "__main__":
    main()
