#!/usr/bin/env python3
"""bench/stages.py PERF_DATA BINARY [CYCLES_PER_ANSWER]: where a worker's
samples go, by stage of a query's way through it, as a markdown table.

PERF_DATA is a `perf record -e cpu-clock -C CPU` profile of the worker's
CPU (bench/memif-bench with BW_PERF=1 keeps one per run); BINARY is the
bailiwick-dataplane that ran, built with debug information (bench/
worker-profile builds one: the release build's code, -g added), so that
each sample in it is placed in the innermost function the compiler inlined
there. With CYCLES_PER_ANSWER (the run's whole-loop TSC cycles per answer)
each stage's share is also given in cycles per answer.

Stages, by the innermost function's source file and name (first match;
in net/, by the outermost function of net/ inlined there, so that the
query's header check counts as parse):
the port's driver and DPDK's other libraries (by shared object), TSC reads
(rte_cycles.h), DPDK's inline burst and mbuf code (other rte_*.h), frame
parse with the query's header check, reply headers and checksums, and
out-of-line checksum sums (net/), query parse (dns/query.c,
dns/msg.c), the cache lookup (cache/), access control (answer/acl.c,
answer/screen.c), the answer's copy and rewrite (answer/), the worker's own
code by function (dataplane/worker.c), and the rest by file. Samples
outside the worker's process (the kernel, another process on its CPU) are
their own rows.

The addresses are looked up in the binary that ran: BINARY when its
build-id is the one perf recorded, else perf's own copy of that build
(~/.debug/.build-id, kept by perf record), so that a profile still reads
right after a rebuild.

perf 6.1's own source-line sort gives up on the whole report when one
mapping (the memif region's memfd) has no file to read; this script reads
`perf script` (symbol + offset) and asks addr2line for the dataplane's
addresses only. Standard library only.
"""
import collections
import os
import re
import subprocess
import sys


def symbols(binary):
    """name -> [(address, size)] of the binary's functions."""
    out = subprocess.run(["nm", "-S", "--defined-only", binary], capture_output=True,
                         text=True, check=True).stdout
    syms = collections.defaultdict(list)
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4 and f[2] in "tTwW":
            syms[f[3]].append((int(f[0], 16), int(f[1], 16)))
    return syms


def build_id(elf):
    out = subprocess.run(["readelf", "-n", elf], capture_output=True, text=True).stdout
    m = re.search(r"Build ID:\s*([0-9a-f]+)", out)
    return m.group(1) if m else None


def elf_that_ran(perf_data, binary):
    """BINARY, or perf's cached copy of the build the profile recorded."""
    out = subprocess.run(["perf", "buildid-list", "-i", perf_data], capture_output=True,
                         text=True).stdout
    want = None
    for line in out.splitlines():
        f = line.split(None, 1)
        if len(f) == 2 and os.path.realpath(f[1].strip()) == os.path.realpath(binary):
            want = f[0]
    if want is None or build_id(binary) == want:
        return binary
    cached = os.path.expanduser("~/.debug/.build-id/%s/%s/elf" % (want[:2], want[2:]))
    if os.path.exists(cached):
        return cached
    sys.exit("stages.py: %s is not the build that ran (build-id %s) and perf kept no "
             "copy of it" % (binary, want))


def samples(perf_data):
    """Counter of (dso, symbol, offset or None)."""
    out = subprocess.run(["perf", "script", "-i", perf_data, "-F", "ip,sym,symoff,dso"],
                         capture_output=True, text=True, check=True).stdout
    c = collections.Counter()
    pat = re.compile(r"^\s*[0-9a-f]+\s+(.*?)(?:\+0x([0-9a-f]+))?\s+\((.*)\)\s*$")
    for line in out.splitlines():
        m = pat.match(line)
        if m:
            c[(m.group(3), m.group(1), int(m.group(2), 16) if m.group(2) else None)] += 1
    return c


def frames(binary, addrs):
    """address -> [(function, file)], the inlined frames there, innermost
    first (addr2line -i)."""
    if not addrs:
        return {}
    text = "\n".join("%x" % a for a in addrs) + "\n"
    out = subprocess.run(["addr2line", "-e", binary, "-i", "-f", "-a"], input=text,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    res, cur, i = {}, None, 0
    while i < len(out):
        if out[i].startswith("0x"):
            cur = int(out[i], 16)
            res[cur] = []
            i += 1
            continue
        if cur is not None and i + 1 < len(out):
            res[cur].append((out[i], out[i + 1].split(" ")[0].rsplit(":", 1)[0]))
        i += 2
    return {a: f for a, f in res.items() if f}


def stage(dso, fn, path, chain=()):
    base = os.path.basename(dso)
    if "librte_net_" in base:
        return "the port's driver (%s)" % base.split(".so")[0]
    if base.startswith("librte_"):
        return "DPDK libraries (mbuf, mempool, ring, ethdev)"
    if base.startswith("[kernel"):
        return "kernel"
    if base.startswith("libcrypto"):
        return "libcrypto (SHA-1 of NSEC3 names)"
    if base.startswith("libc.") or base.startswith("libc-") or base.startswith("ld-linux"):
        return "libc (memcpy, memcmp, TLS)"
    if path is None:
        return "other processes (%s)" % base
    f = os.path.basename(path)
    d = os.path.basename(os.path.dirname(path))
    if f == "rte_cycles.h":
        return "TSC reads (the loop's accounting)"
    if f.startswith("rte_"):
        return "DPDK inline (bursts, mbufs, prefetch)"
    if d == "net":
        # by the outermost frame still in net/: a checksum helper inlined
        # into the parse (the query's IPv4 header checksum) is parse work
        outer = fn
        for f_fn, f_path in chain:
            if os.path.basename(os.path.dirname(f_path)) == "net":
                outer = f_fn
        if re.search(r"parse", outer):
            return "frame parse, checksum checked (net/)"
        if re.search(r"build|reply|put", outer):
            return "reply headers and checksums (net/)"
        if re.search(r"sum|cksum|fold|final", outer):
            # an out-of-line sum: its caller is not in the sample (no
            # call graph in these profiles)
            return "checksum sums called from net/ (the query's or the reply's)"
        return "net/ other (%s)" % outer
    if f in ("query.c", "msg.c") or fn.startswith("dns_query"):
        return "query parse (dns/)"
    if d == "cache":
        return "cache key, hash and lookup (cache/)"
    if f in ("acl.c", "screen.c"):
        return "access control and screening (answer/)"
    if d == "answer":
        return "answer copy and rewrite (answer/)"
    if f == "worker.c":
        return "worker.c: %s" % fn
    return "%s/%s" % (d, f)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.split("\n\n")[0])
    perf_data, binary = sys.argv[1], sys.argv[2]
    cycles = float(sys.argv[3]) if len(sys.argv) == 4 else None
    elf = elf_that_ran(perf_data, binary)
    syms = symbols(elf)
    c = samples(perf_data)
    total = sum(c.values())
    if not total:
        sys.exit("stages.py: no samples in %s" % perf_data)
    real = os.path.realpath(binary)
    addr = {}
    for (dso, sym, off) in c:
        if os.path.realpath(dso) != real or off is None or sym not in syms:
            continue
        fits = [a for a, size in syms[sym] if off < max(size, 1)]
        if fits:
            addr[(dso, sym, off)] = fits[0] + off
    where = frames(elf, sorted(set(addr.values())))
    rows = collections.Counter()
    for key, n in c.items():
        dso, sym, off = key
        if key in addr and addr[key] in where:
            chain = where[addr[key]]
            fn, path = chain[0]
            rows[stage(dso, fn, path, chain)] += n
        elif os.path.realpath(dso) == real:
            rows["worker binary, not placed (%s)" % sym] += n
        else:
            rows[stage(dso, sym, None if "bailiwick" not in dso else dso)] += n
    print("| stage | share of the samples | TSC cycles per answer |")
    print("| --- | --- | --- |")
    for name, n in rows.most_common():
        share = 100.0 * n / total
        if share < 0.5:
            continue
        cyc = "%.0f" % (cycles * share / 100) if cycles else "-"
        print("| %s | %.1f %% | %s |" % (name, share, cyc))
    rest = sum(n for n in rows.values() if 100.0 * n / total < 0.5)
    if rest:
        print("| (stages under 0.5 %% each) | %.1f %% | %s |" % (
            100.0 * rest / total, "%.0f" % (cycles * rest / total) if cycles else "-"))
    print("\n%d samples" % total)


if __name__ == "__main__":
    main()
