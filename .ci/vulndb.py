#!/usr/bin/env python3
"""Builds a govulncheck database (the v1 layout govulncheck -db file:// reads:
index/db.json, index/modules.json, index/vulns.json, ID/<id>.json) from the
OSV files of the golang.org/x/vulndb module, which the Go module proxy
serves: CI has no other way to reach Go's vulnerability data.

usage: vulndb.py OSV_DIR OUT_DIR
"""
import json, os, sys

src, out = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(out, "index"), exist_ok=True)
os.makedirs(os.path.join(out, "ID"), exist_ok=True)
modules, vulns, latest = {}, [], "0001-01-01T00:00:00Z"
for name in sorted(os.listdir(src)):
    if not name.endswith(".json"):
        continue
    with open(os.path.join(src, name)) as f:
        entry = json.load(f)
    vid, modified = entry["id"], entry.get("modified", "0001-01-01T00:00:00Z")
    latest = max(latest, modified)
    vulns.append({"id": vid, "modified": modified, "aliases": entry.get("aliases", [])})
    with open(os.path.join(out, "ID", vid + ".json"), "w") as f:
        json.dump(entry, f)
    for aff in entry.get("affected", []):
        path = aff.get("package", {}).get("name")
        if not path:
            continue
        v = {"id": vid, "modified": modified}
        fixed = [e["fixed"] for r in aff.get("ranges", []) for e in r.get("events", []) if "fixed" in e]
        if fixed:
            v["fixed"] = fixed[-1]
        modules.setdefault(path, []).append(v)
with open(os.path.join(out, "index", "db.json"), "w") as f:
    json.dump({"modified": latest}, f)
with open(os.path.join(out, "index", "modules.json"), "w") as f:
    json.dump([{"path": p, "vulns": v} for p, v in sorted(modules.items())], f)
with open(os.path.join(out, "index", "vulns.json"), "w") as f:
    json.dump(vulns, f)
print(f"vulndb: {len(vulns)} entries, {len(modules)} modules, modified {latest}")
