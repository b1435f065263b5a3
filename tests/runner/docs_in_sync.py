#!/usr/bin/env python3
"""Every example in docs/scenarios.md marked `<!-- file: PATH -->` is a copy of PATH: the
yaml block after the marker must equal the file, so the examples CI runs are the ones readers
see. Output is TAP.

usage: docs_in_sync.py DOC ROOT"""
import os
import re
import sys

doc, root = sys.argv[1], sys.argv[2]
text = open(doc, encoding="utf-8").read()
marks = list(re.finditer(r"<!-- file: (\S+) -->\n```yaml\n(.*?)```\n", text, re.S))
failed = 0
for i, m in enumerate(marks, 1):
    path = os.path.join(root, m.group(1))
    ok = os.path.exists(path) and open(path, encoding="utf-8").read() == m.group(2)
    print("%s %d - %s matches %s" % ("ok" if ok else "not ok", i, os.path.basename(doc), m.group(1)))
    failed += not ok
# Every example file is shown in the document.
shown = {m.group(1) for m in marks}
ex_dir = os.path.join(root, "scenarios", "examples")
n = len(marks)
for name in sorted(os.listdir(ex_dir)):
    n += 1
    rel = "scenarios/examples/" + name
    ok = rel in shown
    print("%s %d - %s is shown in %s" % ("ok" if ok else "not ok", n, rel, os.path.basename(doc)))
    failed += not ok
print("1..%d" % n)
sys.exit(1 if failed or not marks else 0)
