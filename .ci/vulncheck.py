#!/usr/bin/env python3
"""Reads govulncheck -format json on stdin and fails on a vulnerability
gather's code calls in a module it can upgrade. Those in the Go standard
library are the toolchain's: they are listed with the Go release that fixes
them, and fail only with STRICT_STDLIB=1 (this machine's Go is what CI has)."""
import json, os, sys

dec, text, i = json.JSONDecoder(), sys.stdin.read(), 0
called = {}
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    msg, i = dec.raw_decode(text, i)
    f = msg.get("finding")
    if not f or not any(fr.get("function") for fr in f.get("trace", [])):
        continue  # only what the code calls
    mod = f["trace"][0].get("module", "?")
    called.setdefault((f["osv"], mod), f.get("fixed_version", "none"))
bad = 0
for (osv, mod), fixed in sorted(called.items()):
    std = mod == "stdlib"
    print(f"{'note' if std else 'FAIL'}: {osv} in {mod}, fixed in {fixed}")
    if not std or os.environ.get("STRICT_STDLIB") == "1":
        bad += 1
print(f"govulncheck: {len(called)} called vulnerabilities, {bad} to fix in gather's modules")
sys.exit(1 if bad else 0)
