#!/usr/bin/python3
"""tests/control/check-dashboard.py DASHBOARD METRICS: the Grafana
dashboard (contrib/grafana/bailiwick.json) against a real scrape of the
metrics endpoint: valid JSON, every panel with queries, and every metric
name a query uses is a family the endpoint serves (a renamed counter would
leave a panel empty without anyone noticing). Prints the names it could
not find and exits 1 if any."""
import json
import re
import sys

dash = json.load(open(sys.argv[1]))
served = set()
for line in open(sys.argv[2]):
    m = re.match(r"# TYPE (\S+) (\S+)", line)
    if m:
        served.add(m.group(1))
        if m.group(2) == "histogram":
            served.update(m.group(1) + s for s in ("_bucket", "_sum", "_count"))
missing, panels = [], 0
for p in dash["panels"]:
    panels += 1
    if not p.get("targets"):
        missing.append("panel %r has no query" % p.get("title"))
    for t in p.get("targets", []):
        for name in re.findall(r"\bbailiwick_[a-z0-9_]+", t["expr"]):
            if name not in served:
                missing.append("%s (panel %r)" % (name, p["title"]))
for m in missing:
    print("not served: " + m)
print("%d panels, %d names not served" % (panels, len(missing)))
sys.exit(1 if missing or panels == 0 else 0)
