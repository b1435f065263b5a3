#!/usr/bin/env python3
"""Golden tests for broken scenarios: `runner check` on each DIR/*.yaml must print exactly what
DIR/*.yaml.expected holds (diagnostics on stderr, then stdout, then "exit N"). Output is TAP.

usage: golden.py RUNNER DIR SPEC ASYNCAPI [--update]
--update rewrites the .expected files for review; CI never passes it."""
import glob
import os
import subprocess
import sys

runner, folder, spec, asyncapi = (os.path.abspath(a) for a in sys.argv[1:5])
update = "--update" in sys.argv[5:]
os.chdir(folder)
cases = sorted(glob.glob("*.yaml"))
failed = 0
for i, case in enumerate(cases, 1):
    p = subprocess.run([runner, "check", "--spec", spec, "--asyncapi", asyncapi, "--color", "never",
                        case], capture_output=True, text=True, timeout=60)
    got = p.stderr + p.stdout + "exit %d\n" % p.returncode
    exp_path = case + ".expected"
    if update:
        with open(exp_path, "w", encoding="utf-8") as f:
            f.write(got)
        print("ok %d - %s (updated)" % (i, case))
        continue
    want = open(exp_path, encoding="utf-8").read() if os.path.exists(exp_path) else None
    if want == got:
        print("ok %d - %s" % (i, case))
        continue
    failed += 1
    print("not ok %d - %s" % (i, case))
    print("# --- expected\n" + "".join("# " + l + "\n" for l in (want or "(no .expected file: run with --update)\n").splitlines()))
    print("# --- got\n" + "".join("# " + l + "\n" for l in got.splitlines()))
print("1..%d" % len(cases))
sys.exit(1 if failed else 0)
