#!/usr/bin/env python3
"""bench/lists.py DIR [--lines N] [--universe U] [--zipf S] [--miss SHARE]
[--seed X]: the query lists of bench/compare, in dnsperf format (NAME TYPE
per line), written into DIR:

  hit.txt   N queries; names drawn with Zipf popularity (exponent S) from a
            universe of U names zR.wild.shop.lab (rank R = 1..U): every one
            is answerable from the cache once warm.txt has been resolved.
  mix.txt   the ISP-like mix: hit.txt with a share SHARE of its lines (at
            random positions) replaced by mI.miss.shop.bench, I unique per
            line. The lab world answers those with TTL 0, which no cache
            keeps, so each one needs the authority every time it is asked:
            a miss that stays a miss however often the list is replayed.
  warm.txt  every distinct name of hit.txt once, most popular first: the
            list that warms a cache for both.
  lists.json  the parameters and what came out (distinct names, the share
            of queries the top names take), for the report.

Deterministic for the same arguments (Python's Mersenne Twister, seeded).
Standard library only.
"""
import argparse
import bisect
import itertools
import json
import os
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--lines", type=int, default=250000)
    ap.add_argument("--universe", type=int, default=1000000)
    ap.add_argument("--zipf", type=float, default=1.0)
    ap.add_argument("--miss", type=float, default=0.04)
    ap.add_argument("--seed", type=int, default=8198)
    a = ap.parse_args()
    if a.lines < 1 or a.universe < 1 or not 0 <= a.miss < 1 or a.zipf <= 0:
        ap.error("need --lines >= 1, --universe >= 1, 0 <= --miss < 1, --zipf > 0")

    rng = random.Random(a.seed)
    # Inverse CDF sampling: rank R has weight 1 / R^S.
    cum = list(itertools.accumulate(1.0 / r ** a.zipf for r in range(1, a.universe + 1)))
    total = cum[-1]
    ranks = [bisect.bisect_left(cum, rng.random() * total) + 1 for _ in range(a.lines)]
    ranks = [min(r, a.universe) for r in ranks]
    miss_at = set(rng.sample(range(a.lines), round(a.lines * a.miss)))

    os.makedirs(a.dir, exist_ok=True)
    with open(os.path.join(a.dir, "hit.txt"), "w") as f:
        f.writelines(f"z{r}.wild.shop.lab A\n" for r in ranks)
    with open(os.path.join(a.dir, "mix.txt"), "w") as f:
        m = 0
        for i, r in enumerate(ranks):
            if i in miss_at:
                m += 1
                f.write(f"m{m}.miss.shop.bench A\n")
            else:
                f.write(f"z{r}.wild.shop.lab A\n")
    distinct = sorted(set(ranks))
    with open(os.path.join(a.dir, "warm.txt"), "w") as f:
        f.writelines(f"z{r}.wild.shop.lab A\n" for r in distinct)
    top = {k: sum(1 for r in ranks if r <= k) / a.lines for k in (10, 1000, 100000)}
    info = {
        "lines": a.lines, "universe": a.universe, "zipf": a.zipf,
        "miss_share": len(miss_at) / a.lines, "misses": len(miss_at),
        "seed": a.seed, "distinct_names": len(distinct),
        "share_of_queries_top": {str(k): round(v, 4) for k, v in top.items()},
    }
    with open(os.path.join(a.dir, "lists.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps(info))


if __name__ == "__main__":
    main()
