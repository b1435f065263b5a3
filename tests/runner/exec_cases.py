#!/usr/bin/env python3
"""runner's executor, end to end, against tests/runner/echo_server.py. Output is TAP.

usage: exec_cases.py RUNNER DATA_DIR

- every pass-*.yaml must pass (exit 0);
- every fail-*.yaml must exit as its .expect file's first line says ("exit N") and print every
  other line of it somewhere in its output;
- then the command line: reports in four formats, --jobs, --shard, --tags, --min-coverage,
  --fail-fast, exit statuses 2, 3 and 4.
Runs from DATA_DIR so that file names in messages are short and stable."""
import glob
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

RUNNER = os.path.abspath(sys.argv[1])
DATA = sys.argv[2]
os.chdir(DATA)
HERE = os.path.dirname(os.path.abspath(__file__))

srv = subprocess.Popen([sys.executable, os.path.join(HERE, "echo_server.py")],
                       stdout=subprocess.PIPE, text=True)
URL = srv.stdout.readline().strip().split("listening on ")[-1]

n = 0
failed = 0
tmp = tempfile.mkdtemp()


def run(*args):
    p = subprocess.run([RUNNER] + list(args), capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def check(name, ok, detail=""):
    global n, failed
    n += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (n, name))
    if not ok:
        failed += 1
        for line in detail.splitlines()[-60:]:
            print("# " + line)


base = ["run", "--spec", "_api.yaml", "--asyncapi", "_async.yaml", "--target", URL, "--color", "never", "-v"]

for f in sorted(glob.glob("pass-*.yaml")):
    rc, out = run(*base, "--tags", "!slow", f)
    check("%s passes" % f, rc == 0, out)

for f in sorted(glob.glob("fail-*.yaml")):
    want = open(f + ".expect", encoding="utf-8").read().splitlines()
    rc, out = run(*base, f)
    code = int(want[0].split()[1])
    missing = [w for w in want[1:] if w and w not in out]
    check("%s exits %d and says what failed" % (f, code), rc == code and not missing,
          "exit %d\nmissing:\n%s\noutput:\n%s" % (rc, "\n".join(missing), out))

# Reports: the same run written in four formats.
rep = {k: os.path.join(tmp, "r." + k) for k in ("xml", "json", "tap", "txt")}
rc, out = run(*base, "--report", "junit:" + rep["xml"], "--report", "json:" + rep["json"],
              "--report", "tap:" + rep["tap"], "--report", "human:" + rep["txt"],
              "pass-crud.yaml", "fail-contract-status.yaml", "pass-auth.yaml")
check("a run with a failure exits 1", rc == 1, out)
try:
    root = ET.parse(rep["xml"]).getroot()
    cases = root.findall(".//testcase")
    fails = root.findall(".//testcase/failure")
    ok = (root.tag == "testsuites" and root.get("tests") == "3" and root.get("failures") == "1"
          and len(cases) == 3 and len(fails) == 1 and "undocumented" not in fails[0].get("message")
          and "status 500 is not documented" in fails[0].text
          and cases[0].get("classname") == "pass-crud" and cases[0].get("time"))
    check("JUnit XML: testsuites with 3 cases, 1 failure carrying the diagnostics", ok,
          open(rep["xml"]).read())
except Exception as e:  # noqa: BLE001 - any parse error fails the check
    check("JUnit XML parses", False, str(e))
try:
    j = json.load(open(rep["json"]))
    s = j["summary"]
    ok = (s["scenarios"] == 3 and s["passed"] == 2 and s["failed"] == 1
          and j["scenarios"][1]["status"] == "failed"
          and j["scenarios"][0]["steps"][0]["exchange"].startswith("POST /items -> 201")
          and j["coverage"]["operations"]["total"] == 14
          and any(i["operation"] == "createItem" and i["hits"] for i in j["coverage"]["items"]))
    check("JSON report: summary, scenarios, steps, coverage items", ok, json.dumps(j)[:3000])
except Exception as e:  # noqa: BLE001
    check("JSON report parses", False, str(e))
tap = open(rep["tap"]).read().splitlines()
check("TAP report: version, plan, one line per scenario, YAML block for the failure",
      tap[0] == "TAP version 13" and tap[1] == "1..3" and tap[2].startswith("ok 1 - pass-crud.yaml")
      and tap[3].startswith("not ok 2 - fail-contract-status.yaml") and tap[4] == "  ---"
      and any("status 500 is not documented" in l for l in tap), "\n".join(tap))
human = open(rep["txt"]).read()
check("human report file: every step, the summary and coverage",
      "ok   create  POST /items -> 201" in human and "3 scenarios: 2 passed, 1 failed" in human
      and "coverage:" in human and "\033[" not in human, human)
rc, out = run(*base, "--report", "json:-", "pass-auth.yaml")
try:
    ok = rc == 0 and json.loads(out[:out.rindex("}") + 1])["summary"]["passed"] == 1
except Exception:  # noqa: BLE001
    ok = False
check("--report json:- writes JSON to stdout (human output moves to stderr)", ok, out)

# Parallel runs and selection.
passes = sorted(glob.glob("pass-*.yaml"))
rc, out = run(*base, "--tags", "!slow,!sse", "--jobs", "4", *[p for p in passes if "flow" not in p])
check("--jobs 4 runs the passing scenarios in parallel", rc == 0 and "4 jobs" in out, out)
rc1, l1 = run("check", "--list", "--shard", "1/2", ".")
rc2, l2 = run("check", "--list", "--shard", "2/2", ".")
rca, la = run("check", "--list", ".")
s1 = {l for l in l1.splitlines() if ".yaml:" in l}
s2 = {l for l in l2.splitlines() if ".yaml:" in l}
sa = {l for l in la.splitlines() if ".yaml:" in l}
check("--shard 1/2 and 2/2 split the suite into two disjoint halves",
      rc1 == rc2 == rca == 0 and s1 and s2 and not (s1 & s2) and (s1 | s2) == sa
      and abs(len(s1) - len(s2)) <= 1, l1 + l2 + la)
rc, out = run(*base, "--tags", "crud,sse", ".")
check("--tags crud,sse runs only the scenarios carrying those tags",
      rc == 0 and "2 scenarios: 2 passed" in out, out)
rc, out = run(*base, "--tags", "!failing,!flow", ".")
check("--tags '!failing' leaves those out", rc == 0 and "failing" not in out, out)
rc, out = run(*base, "--min-coverage", "90", "pass-auth.yaml")
check("--min-coverage above the coverage reached fails the run", rc == 1 and "too low" in out, out)
rc, out = run(*base, "--min-coverage", "1", "pass-auth.yaml")
check("--min-coverage below it passes", rc == 0, out)
rc, out = run(*base, "--fail-fast", "fail-contract-status.yaml", "pass-auth.yaml", "pass-crud.yaml")
check("--fail-fast starts no scenario after a failure",
      rc == 1 and "not started: the run stopped early" in out, out)

# Exit statuses.
rc, out = run("run", "--spec", "_api.yaml", "--target", "http://127.0.0.1:1", "pass-auth.yaml")
check("an unreachable target exits 4 and says so", rc == 4 and "unreachable" in out, out)
rc, out = run("run", "--target", URL, "pass-auth.yaml")
check("no --spec is a usage error (2)", rc == 2 and "--spec FILE is required" in out, out)
rc, out = run("run", "--spec", "_api.yaml", "--target", URL, "--mock", "pass-auth.yaml")
check("--target with --mock is a usage error (2)", rc == 2, out)
rc, out = run("run", "--spec", "_api.yaml", "--targte", URL, "pass-auth.yaml")
check("an unknown option suggests the right one", rc == 2 and "did you mean '--target'" in out, out)
bad = os.path.join(tmp, "broken.yaml")
open(bad, "w").write("name: broken\nsteps:\n  - op: createItm\n")
rc, out = run(*base, bad)
check("a broken scenario exits 3 before any request", rc == 3 and "did you mean 'createItem'" in out,
      out)
rc, out = run(*base, "no-such-dir")
check("a missing path is a usage error (2)", rc == 2, out)

srv.terminate()
srv.wait()
print("1..%d" % n)
sys.exit(1 if failed else 0)
