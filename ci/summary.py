#!/usr/bin/env python3
"""Print one closing line 'N passed, N failed[, N skipped]' from meson's testlog.json.

Counts meson tests (each unit executable, golden case, integration script). Unexpected passes,
timeouts and errors count as failures."""
import json
import sys

passed = failed = skipped = 0
failures = []
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        line = line.strip()
        if not line:
            continue
        t = json.loads(line)
        r = t.get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
            failures.append(f"{t.get('name')} ({r})")
for name in failures:
    print(f"failed: {name}")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
