#!/usr/bin/python3
"""bench/report.py: the records of bench/compare and the report made of them.

  report.py add RUNS meta KEY=VALUE...          a record of facts about the run
  report.py add RUNS lists FILE                 the query lists' lists.json
  report.py add RUNS gen FILE KEY=VALUE...      a bailiwick-gen -j summary
  report.py add RUNS kxdpgun FILE KEY=VALUE...  kxdpgun's printed summary
  report.py line FILE LABEL                     one progress line of either
  report.py make OUT                            OUT/runs.jsonl -> OUT/report.md,
                                                OUT/rates.png, OUT/latency.png

RUNS is a JSON-lines file, one record per line; `make` reads nothing else,
so every figure of the report re-derives from it (run `make` again, or read
the records). A value "a:1,b:2" of dp_before/dp_after is the dataplane's
counters before and after the run. `make` needs python3-matplotlib (Agg).
"""
import json
import math
import os
import re
import sys


# --- records -------------------------------------------------------------------

def kv(args):
    out = {}
    for a in args:
        k, _, v = a.partition("=")
        if k in ("dp_before", "dp_after"):
            out[k] = {n: int(x) for n, _, x in (p.partition(":") for p in v.split(",") if p)}
            continue
        try:
            out[k] = int(v)
        except ValueError:
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


def parse_kxdpgun(text):
    """kxdpgun's (Knot DNS 3.2) summary: totals and replies by rcode."""
    r = {"sent": 0, "answered": 0, "rcodes": {}}
    for line in text.splitlines():
        m = re.match(r"\s*total queries:\s+(\d+)", line)
        if m:
            r["sent"] = int(m.group(1))
        m = re.match(r"\s*total replies:\s+(\d+)", line)
        if m:
            r["answered"] = int(m.group(1))
        m = re.match(r"\s*responded (\w+):\s+(\d+)", line)
        if m:
            r["rcodes"][m.group(1)] = int(m.group(2))
    r["lost"] = max(r["sent"] - r["answered"], 0)
    return r


def load_gen(path):
    """A bailiwick-gen -j file: one summary, or an array of them (-S)."""
    with open(path) as f:
        text = f.read().strip()
    return json.loads(text) if text.startswith("[") else [json.loads(text)]


def cmd_add(runs, what, rest):
    if what == "meta":
        rec = {"record": "meta", **kv(rest)}
    elif what == "lists":
        with open(rest[0]) as f:
            rec = {"record": "lists", **json.load(f)}
    elif what == "profile":
        with open(rest[0]) as f:
            rec = {"record": "profile", **kv(rest[1:]), "text": f.read()}
    elif what == "stages":
        with open(rest[0]) as f:
            rec = {"record": "stages", "text": f.read()}
    elif what == "gen":
        rec = {"record": "run", "tool": "bailiwick-gen", **kv(rest[1:]), "results": load_gen(rest[0])}
    elif what == "kxdpgun":
        with open(rest[0]) as f:
            text = f.read()
        meta = kv(rest[1:])
        r = parse_kxdpgun(text)
        s = meta.get("seconds", 0) or 1
        r.update(sent_per_s=r["sent"] / s, answered_per_s=r["answered"] / s,
                 offered_rate=meta.get("offered_rate", 0), seconds=s)
        rec = {"record": "run", "tool": "kxdpgun", **meta, "results": [r], "output": text}
    else:
        sys.exit(f"report.py add: {what}?")
    with open(runs, "a") as f:
        f.write(json.dumps(rec, separators=(",", ":")) + "\n")


def cmd_line(path, label):
    if path.endswith(".json"):
        rs = load_gen(path)
        r = rs[0]
        extra = ""
        if len(rs) > 1:
            extra = f"; < 0.1 % lost up to {ndr(rs)[0]:,.0f}/s"
        lat = r["latency_us"]
        print(f"{label}: sent {r['sent_per_s']:,.0f}/s, answered {r['answered_per_s']:,.0f}/s"
              f" ({100 * r['answered_share']:.2f} %), p50 {lat['p50']:.0f} us,"
              f" p99 {lat['p99']:.0f} us{extra}", flush=True)
    else:
        with open(path) as f:
            r = parse_kxdpgun(f.read())
        share = 100 * r["answered"] / r["sent"] if r["sent"] else 0
        print(f"{label}: sent {r['sent']:,}, answered {r['answered']:,} ({share:.2f} %)", flush=True)


# --- the report ------------------------------------------------------------------

def ndr(results):
    """(offered rate, answered/s) of the highest search step with < 0.1 % lost."""
    best = (0, 0)
    for r in results:
        if r.get("mode") != "search" or not r["sent"]:
            continue
        if r["lost"] / r["sent"] < 0.001 and r["offered_rate"] > best[0]:
            best = (r["offered_rate"], r["answered_per_s"])
    return best


def fmt(x, unit=""):
    if x is None:
        return "-"
    if isinstance(x, float) and x < 100:
        return f"{x:.2f}{unit}"
    return f"{x:,.0f}{unit}".replace(",", " ")


def pick(runs, **want):
    return [r for r in runs if all(r.get(k) == v for k, v in want.items())]


def hits_next_to_misses(runs, w):
    """The memif sweep's hits, alone and with the mix's misses, at each offered
    rate: the hits' p99 side by side (bailiwick-gen --split keeps the classes
    apart; runs without them are left out)."""
    rows = []
    for wk in (1, 2):
        alone = {r["results"][0]["offered_rate"]: r["results"][0]
                 for r in pick(runs, link="memif", system="bailiwick", workers=wk, list="hit",
                               kind="rate")}
        for m in sorted(pick(runs, link="memif", system="bailiwick", workers=wk, list="mix",
                             kind="rate"), key=lambda r: r["results"][0]["offered_rate"]):
            r = m["results"][0]
            h = alone.get(r["offered_rate"])
            c = r.get("classes")
            if not h or not c or not h.get("classes"):
                continue
            hp, mp = h["classes"]["other"]["latency_us"]["p99"], c["other"]["latency_us"]["p99"]
            um = c["under"]
            rows.append(f"| {wk} | {fmt(r['offered_rate'])} | {hp:.0f} | {mp:.0f} |"
                        f" {mp / hp if hp else float('inf'):.1f} |"
                        f" {fmt(um['answered'])} of {fmt(um['sent'])} |"
                        f" {um['latency_us']['p99'] / 1000:.1f} |")
    if not rows:
        return
    w("\nHits next to misses (the performance issue's target: the hits' p99 with the"
      " mix's 4 % misses within 2x of the hits alone, at the same offered rate; from"
      " `bailiwick-gen --split miss.shop.bench`):\n")
    w("| workers | offered/s | hit p99 alone, us | hit p99 in the mix, us | ratio |"
      " misses answered | miss p99, ms |")
    w("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        w(row)


def one(runs, **want):
    got = pick(runs, **want)
    return got[0] if got else None


def rate_of(run):
    """A run's (first) answered/s, None for no run."""
    return run["results"][0]["answered_per_s"] if run else None


def dp_delta(run):
    b, a = run.get("dp_before"), run.get("dp_after")
    if not b or not a:
        return None
    return {k: a[k] - b.get(k, 0) for k in a}


def cycles(run):
    """(DNS work, whole loop) TSC cycles per cache hit, and busy share."""
    d = dp_delta(run)
    if not d or not d.get("hits"):
        return None
    res = run["results"][0]
    hz, w = run.get("tsc_hz") or 0, run.get("workers", 1)
    busy = d["busy_cycles"] / (hz * res["seconds"] * w) if hz and res["seconds"] else None
    return d["dns_cycles"] / d["hits"], d["busy_cycles"] / (d["hits"] + d.get("fill_answers", 0)), busy, d


def cdf_points(res):
    hist = res["latency_us"].get("hist", [])
    total = sum(c for _, c in hist)
    xs, ys, seen = [], [], 0
    for edge, c in hist:
        seen += c
        xs.append(edge)
        ys.append(seen / total)
    return xs, ys


def make(out):
    runs, meta, lists, profiles, stages = [], {}, {}, [], []
    with open(os.path.join(out, "runs.jsonl")) as f:
        for line in f:
            rec = json.loads(line)
            if rec["record"] == "meta":
                meta.update({k: v for k, v in rec.items() if k != "record"})
            elif rec["record"] == "lists":
                lists = rec
            elif rec["record"] == "profile":
                profiles.append(rec)
            elif rec["record"] == "stages":
                stages.append(rec)
            else:
                runs.append(rec)
    md = []
    w = md.append
    w(f"# bailiwick benchmark: {meta.get('host', '?')}, {meta.get('date', '?')}\n")
    w(f"Commit {meta.get('commit', '?')}; {meta.get('cpu', '?')}, {meta.get('cpus', '?')} CPUs;"
      f" kernel {meta.get('kernel', '?')}; DPDK {meta.get('dpdk', '?')}; peers: {meta.get('unbound', '?')},"
      f" {meta.get('kresd', '?')}, {meta.get('pdns', '?')}; {meta.get('kxdpgun', '?')};"
      f" memif dataplane.miss-budget {meta.get('miss_budget', '0')} (0: none)."
      f" Every figure below was measured in this one run (bench/compare,"
      f" {meta.get('elapsed_s', '?')} s); this report is made from `runs.jsonl` alone"
      f" (`bench/report.py make DIR` makes it again).\n")
    if lists:
        top = lists.get("share_of_queries_top", {})
        w(f"Query lists: {fmt(lists['lines'])} queries, Zipf (s = {lists['zipf']}) popularity over"
          f" {fmt(lists['universe'])} names (`zR.wild.shop.lab A`), {fmt(lists['distinct_names'])} distinct"
          f" names in the list (the 10 most popular take {100 * top.get('10', 0):.0f} % of the queries,"
          f" the top 1 000 {100 * top.get('1000', 0):.0f} %). **hit**: that list, every name cached"
          f" first by passes over the distinct names (bailiwick: until a pass misses fewer than"
          f" 0.1 % by its counters, at 20 k/s, over memif with 2 workers at 5 k/s, at most 4-8"
          f" passes: the misses column shows when it did not get there; the peers: 3 passes at"
          f" 20 k/s). **mix**: the same with"
          f" {100 * lists['miss_share']:.0f} % of the lines replaced by unique `mN.miss.shop.bench`"
          f" names, which the lab world answers with TTL 0: no cache keeps them, so each is a"
          f" miss (an upstream query) every time.\n")

    # memif headline
    w("## Cache hits over memif (bailiwick-gen)\n")
    w("One run per row at the generator's maximum rate"
      f" ({meta.get('seconds', '?')} s); NDR: the highest offered rate of a bisection"
      " (`bailiwick-gen -S`, 6 steps) with < 0.1 % lost; ceiling: the same generator"
      " against `bailiwick-gen --reflect` on the dataplane's cores (headers swapped, no"
      " DNS work), 100 % hit list.\n")
    w("Cycles: TSC cycles per answer from the dataplane's own counters over the run: the"
      " DNS work per cache hit (parse, access control, lookup, answer) and the worker's whole"
      " busy loop (PMD rx and tx included) per answer. Busy: the share of the run's TSC"
      " cycles that the workers spent on iterations with work. Capacity: the TSC rate over"
      " the whole loop's cycles per answer and per worker, what the workers would answer"
      " if they were busy all the time (an estimate, not a measurement). Misses: sent to"
      " control, and in brackets those it could not take (its ring full, or the worker over"
      " dataplane.miss-budget), answered SERVFAIL at once (dataplane.miss-overflow: servfail,"
      " the default) or dropped.\n")
    w("| workers | list | answered/s (max) | NDR answered/s | ceiling/s | share of ceiling |"
      " p50 / p99 us | cycles: DNS per hit, loop per answer | workers busy | capacity/s | misses (not taken) |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    head = {}
    for wk in (1, 2):
        ceil_v = rate_of(one(runs, link="memif", system="reflect", workers=wk, kind="max"))
        for lst in ("hit", "mix"):
            m = one(runs, link="memif", system="bailiwick", workers=wk, list=lst, kind="max")
            if not m:
                continue
            r = m["results"][0]
            s = one(runs, link="memif", system="bailiwick", workers=wk, list=lst, kind="search")
            nd = ndr(s["results"])[1] if s else None
            c = cycles(m)
            head[(wk, lst)] = r["answered_per_s"]
            lat = r["latency_us"]
            share = f"{100 * r['answered_per_s'] / ceil_v:.0f} %" if ceil_v else "-"
            cyc = f"{c[0]:.0f}, {c[1]:.0f}" if c else "-"
            busy = f"{100 * c[2]:.0f} %" if c and c[2] is not None else "-"
            over = sum(c[3].get(k) or 0 for k in ("miss_ring_full", "miss_over_budget")) if c else 0
            mis = f"{fmt(c[3].get('misses'))} ({fmt(over)})" if c else "-"
            cap = fmt(m["tsc_hz"] / c[1] * wk) if c and m.get("tsc_hz") else "-"
            w(f"| {wk} | {lst} | {fmt(r['answered_per_s'])} | {fmt(nd)} | {fmt(ceil_v)} | {share} |"
              f" {lat['p50']:.0f} / {lat['p99']:.0f} | {cyc} | {busy} | {cap} | {mis} |")
    hits_next_to_misses(runs, w)
    ceil1 = one(runs, link="memif", system="reflect", workers=1, kind="search")
    if ceil1:
        w(f"\nThe ceiling's own NDR (1 lcore): {fmt(ndr(ceil1['results'])[1])}/s.")
    w("\nCores: with 1 worker the worker (or the reflector) had CPU 1 and the generator's"
      " sender shared CPU 0 with the dataplane's main thread and control. With 2 workers"
      " the two workers and the generator's two senders shared both CPUs, one of each per"
      " CPU: that row is what two cores do for both ends at once, and its ceiling is no"
      " bound (the reflector's two lcores and the generator's two senders take turns on"
      " the same CPUs, as do the workers and the senders).\n")

    # veth
    w("## Over a veth with kxdpgun: bailiwick (af_xdp) and the peers\n")
    w("kxdpgun (AF_XDP) in network namespace bw-client on CPU 0; the resolver's one"
      " worker thread on CPU 1 (the peers on the kernel's UDP stack of the veth's host"
      f" end). Best answered/s over offered rates {', '.join(fmt(x) for x in sorted({r['results'][0]['offered_rate'] for r in pick(runs, link='veth', list='hit')}))}"
      f" ({meta.get('veth_seconds', meta.get('seconds', '?'))} s each); cold: unique names under *.any.shop.bench,"
      f" {meta.get('sweep_seconds', '?')} s per rate, every name new.\n")
    systems = [s for s in ("bailiwick", "unbound", "kresd", "pdns") if pick(runs, link="veth", system=s)]
    best = {}
    for s in systems:
        for lst in ("hit", "mix", "cold"):
            rs = pick(runs, link="veth", system=s, list=lst)
            if rs:
                b = max(rs, key=lambda r: r["results"][0]["answered_per_s"])["results"][0]
                best[(s, lst)] = b
    w("Each cell: the best answered/s over the rates, and in brackets bailiwick's figure"
      " divided by this one (the ratio to that peer). At the top rate: the share of the"
      " offered rate kxdpgun managed to send (below 100 %: the generator is the limit)"
      " and the share of the sent queries answered (below 100 %: the resolver is).\n")
    w("| resolver | hit answered/s | mix answered/s | cold answered/s | hit, top rate: sent / offered, answered / sent |")
    w("| --- | --- | --- | --- | --- |")
    bw_hit = best.get(("bailiwick", "hit"), {}).get("answered_per_s")

    def cell(s, lst):
        x, b = best.get((s, lst)), best.get(("bailiwick", lst))
        if not x:
            return "-"
        ratio = f" ({b['answered_per_s'] / x['answered_per_s']:.2f}x)" if b and x["answered_per_s"] else ""
        return fmt(x["answered_per_s"]) + ratio

    for s in systems:
        rs = pick(runs, link="veth", system=s, list="hit")
        top = max(rs, key=lambda r: r["results"][0]["offered_rate"])["results"][0] if rs else None
        lim = (f"{100 * top['sent'] / (top['offered_rate'] * top['seconds']):.0f} %,"
               f" {100 * top['answered'] / max(top['sent'], 1):.0f} %") if top and top["offered_rate"] else "-"
        w(f"| {s} | {cell(s, 'hit')} | {cell(s, 'mix')} | {cell(s, 'cold')} | {lim} |")
    w("\nbailiwick resolves its misses in control, which on 2 CPUs shares CPU 0 with"
      " kxdpgun (the worker owns CPU 1); each peer resolves on its own thread on CPU 1."
      " Where bailiwick's sent/s falls short of the offered rate in the mix and cold runs"
      " (the tables below), kxdpgun lost CPU time to control.\n")
    w("kresd 5.6 keeps a TTL-0 answer until its clock's second changes (its cache counts"
      " whole seconds), so a miss name that comes round again within the same second is a"
      " hit for it; the mix list reuses each miss name once per pass of the list.\n")
    for s in systems:
        w(f"<details><summary>{s}: every rate</summary>\n")
        w("| list | offered/s | sent/s | answered/s | answered share |")
        w("| --- | --- | --- | --- | --- |")
        for r in pick(runs, link="veth", system=s):
            x = r["results"][0]
            share = 100 * x["answered"] / x["sent"] if x["sent"] else 0
            w(f"| {r['list']} | {fmt(x['offered_rate'])} | {fmt(x['sent_per_s'])} |"
              f" {fmt(x['answered_per_s'])} | {share:.2f} % |")
        w("\n</details>\n")

    # targets
    w("## Against the targets\n")
    ub = best.get(("unbound", "hit"), {}).get("answered_per_s")
    h1 = head.get((1, "hit"))
    c1v = rate_of(one(runs, link="memif", system="reflect", workers=1, kind="max"))
    rows = [("cache hits per worker core, memif (>= 5 M/s)", fmt(h1), h1 and h1 >= 5e6),
            ("share of the reflect ceiling, same run (>= 50 %)",
             f"{100 * h1 / c1v:.0f} %" if h1 and c1v else "-", bool(h1 and c1v and h1 / c1v >= 0.5)),
            ("per-core cache hits against unbound's per thread (>= 20x): memif worker / unbound on the veth",
             f"{h1 / ub:.1f}x" if h1 and ub else "-", bool(h1 and ub and h1 / ub >= 20)),
            ("the same, both on the veth (bailiwick af_xdp / unbound)",
             f"{bw_hit / ub:.1f}x" if bw_hit and ub else "-", bool(bw_hit and ub and bw_hit / ub >= 20))]
    w("| target | measured | met |")
    w("| --- | --- | --- |")
    for name, v, ok in rows:
        w(f"| {name} | {v} | {'yes' if ok else '**no**'} |")
    for prof in profiles:
        of = prof.get("of", "worker")
        sysname = "bailiwick" if of == "worker" else "reflect"
        p = one(runs, link="memif", system=sysname, workers=1, kind="profile")
        rate = f" ({fmt(p['results'][0]['answered_per_s'])} answers/s in that run)" if p else ""
        what = ("the worker's CPU during one more maximum-rate run of the 100 % hit list"
                " against bailiwick-dataplane" if of == "worker" else
                "the generator's CPU (its sender, the main lcore, and nothing else of the"
                " test) during one more maximum-rate run against the reflector")
        w(f"\n## Profile: the {of} at the maximum rate\n")
        w(f"`perf record -e cpu-clock -C {prof.get('cpu', '?')}` on {what}, over memif{rate}:\n")
        w("```\n" + prof["text"].rstrip() + "\n```")
    for st in stages:
        w("\n## The worker's cycles by stage (bench/worker-profile)\n")
        w("One more maximum-rate memif run of cache hits against a build with debug"
          " information (the release build's code), each sample placed in the function"
          " inlined there (bench/stages.py):\n")
        w(re.sub(r"(?m)^## ", "### ", st["text"].rstrip()))  # (its runs: under this heading)
    w("\n![response rate against offered rate](rates.png)\n")
    w("![latency CDF](latency.png)\n")
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    plots(out, runs)


def plots(out, runs):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.8))
    for sysname, lst, style in (("reflect", "hit", "k:"), ("bailiwick", "hit", "b-o"),
                                ("bailiwick", "mix", "c--s")):
        rs = sorted(pick(runs, link="memif", system=sysname, workers=1, list=lst, kind="rate"),
                    key=lambda r: r["results"][0]["offered_rate"])
        if rs:
            a.plot([r["results"][0]["offered_rate"] / 1e6 for r in rs],
                   [r["results"][0]["answered_per_s"] / 1e6 for r in rs], style,
                   label=f"{sysname} {lst}" if sysname != "reflect" else "ceiling (reflect)")
    a.set(title="memif, 1 worker (bailiwick-gen)", xlabel="offered, M queries/s",
          ylabel="answered, M/s")
    a.grid(alpha=.3)
    a.legend()
    colors = {"bailiwick": "b", "unbound": "r", "kresd": "g", "pdns": "m"}
    for s, col in colors.items():
        for lst, ls in (("hit", "-o"), ("mix", "--s")):
            rs = sorted(pick(runs, link="veth", system=s, list=lst),
                        key=lambda r: r["results"][0]["offered_rate"])
            if rs:
                b.plot([r["results"][0]["offered_rate"] / 1e3 for r in rs],
                       [r["results"][0]["answered_per_s"] / 1e3 for r in rs], col + ls,
                       label=f"{s} {lst}")
    b.set(title="veth, 1 thread (kxdpgun)", xlabel="offered, k queries/s", ylabel="answered, k/s")
    b.grid(alpha=.3)
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "rates.png"), dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4.8))
    rates = sorted({r["results"][0]["offered_rate"] for r in pick(runs, link="memif", kind="rate")})
    want = min(rates, key=lambda x: abs(x - 1e6)) if rates else None
    for sysname, lst, col in (("reflect", "hit", "k"), ("bailiwick", "hit", "b"), ("bailiwick", "mix", "c")):
        for kind, ls in (("rate", "-"), ("max", ":")):
            rr = [r for r in pick(runs, link="memif", system=sysname, workers=1, list=lst, kind=kind)
                  if kind == "max" or r["results"][0]["offered_rate"] == want]
            if not rr or not rr[0]["results"][0]["latency_us"].get("hist"):
                continue
            xs, ys = cdf_points(rr[0]["results"][0])
            what = f"{want / 1e6:g} M/s offered" if kind == "rate" else "maximum rate"
            ax.plot(xs, ys, col + ls, label=f"{'ceiling' if sysname == 'reflect' else sysname + ' ' + lst}, {what}")
    ax.set_xscale("log")
    # below the memif round trip only answers matched to a reused in-flight
    # slot (gen.h: one cycle late) can land; they are counted, not shown
    ax.set_xlim(left=0.3)
    ax.set(title="latency over memif, 1 worker (bailiwick-gen)", xlabel="microseconds",
           ylabel="share of answers")
    ax.grid(alpha=.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "latency.png"), dpi=110)
    plt.close(fig)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "add":
        cmd_add(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) == 4 and sys.argv[1] == "line":
        cmd_line(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
