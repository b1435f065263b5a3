#!/usr/bin/env python3
"""Benchmark (not a test): runner's own cost per HTTP step, and a 1,000-step suite with --jobs 1
and --jobs 8, against a local mockd serving the prompt-sphere contract.

usage: bench.py RUNNER MOCKD SPEC

- Overhead per step: runner records, for every step, its wall time and the time libcurl spent
  in the exchange (request_ms in the JSON report). Their difference is runner's own work:
  templating, building the request, checking it against the contract, parsing and validating
  the response, captures and assertions. Printed as median, mean and p95 over the 1,000 steps.
- Suite time: the same generated suite (100 files x 10 steps, plus one login per file) with
  --jobs 1 and --jobs 8; the median of 3 runs each.
The machines are shared and noisy: quote medians."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

runner, mockd, spec = sys.argv[1:4]
tmp = tempfile.mkdtemp(prefix="bench-runner-")

# Ten kinds of step, from a bare GET to a validated JSON body with captures and assertions.
STEPS = [
    "  - op: getServiceInfo\n    expect: {body: {.success: true}}\n",
    "  - op: getSystemConfig\n    expect: {body: {.data.apiPrefix: /api/v1}}\n",
    "  - op: listModels\n    auth: false\n    expect: {body: {.data.models: {type: array, min_length: 1}}}\n",
    "  - op: getCurrentUser\n    expect: {body: {.data.id: {type: string}}}\n    capture: {uid: .data.id}\n",
    "  - op: listPrompts\n    params: {page: 1, limit: 20, sortBy: createdAt}\n"
    "    expect: {body: {.data.data: {type: array}, .data.meta.page: {gte: 1}}}\n",
    "  - op: createPrompt\n    json: {title: \"bench ${run.id}\", content: You are a helpful assistant.,"
    " category: general, tags: [bench], isPublic: false}\n    expect: {status: 201}\n"
    "    capture: {pid: .data.id}\n",
    "  - op: getPrompt\n    params: {promptId: \"${pid}\"}\n"
    "    expect: {body: {.data.title: {type: string}, .data.tags: {type: array}}}\n",
    "  - op: updatePrompt\n    params: {promptId: \"${pid}\"}\n    json: {isPublic: true}\n",
    "  - op: listCategories\n    expect: {headers: {Content-Type: {matches: '^application/json'}}}\n",
    "  - op: searchPrompts\n    params: {query: 客服}\n    expect: {body: {.data.data: {type: array}}}\n",
]
suite = os.path.join(tmp, "suite")
os.makedirs(suite)
for i in range(100):
    with open(os.path.join(suite, "s%03d.yaml" % i), "w", encoding="utf-8") as f:
        f.write("name: bench %d\ndefaults: {auth: \"${token}\"}\nsetup:\n"
                "  - op: login\n    auth: false\n    json: {email: a@example.com, password: secret}\n"
                "    capture: {token: .data.accessToken}\nsteps:\n" % i)
        f.write("".join(STEPS))

out = open(os.path.join(tmp, "mockd.out"), "w+")
m = subprocess.Popen([mockd, "--port", "0", "--quiet", "--threads", "8", "--log-format", "none", spec],
                     stdout=out, stderr=subprocess.DEVNULL)
url = ""
for _ in range(200):
    out.seek(0)
    line = out.readline()
    if line.startswith("listening on "):
        url = line.split()[-1]
        break
    time.sleep(0.05)
if not url:
    sys.exit("bench: mockd did not start")


def run(jobs, report=None):
    args = [runner, "run", "--spec", spec, "--target", url, "--jobs", str(jobs), "-q", "--color", "never"]
    if report:
        args += ["--report", "json:" + report]
    t0 = time.perf_counter()
    p = subprocess.run(args + [suite], capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("bench: the suite failed:\n" + p.stdout[-3000:] + p.stderr[-3000:])
    return dt


try:
    run(1)  # warm-up: caches, connections, page cache
    rep = os.path.join(tmp, "r.json")
    run(1, rep)
    steps = [s for sc in json.load(open(rep))["scenarios"] for s in sc["steps"] if s["phase"] == "steps"]
    over = sorted((s["duration_ms"] - s["request_ms"]) * 1000.0 for s in steps)
    req = sorted(s["request_ms"] * 1000.0 for s in steps)
    print("runner overhead per HTTP step (%d steps, --jobs 1): median %.1f us, mean %.1f us, p95 %.1f us"
          % (len(over), statistics.median(over), statistics.mean(over), over[int(len(over) * 0.95)]))
    print("  the exchange itself (libcurl total, mockd on loopback): median %.1f us" % statistics.median(req))
    for jobs in (1, 8):
        times = sorted(run(jobs) for _ in range(3))
        print("1,000-step suite (+100 logins), --jobs %d: median %.3f s over 3 runs (%.0f steps/s)"
              % (jobs, times[1], 1100 / times[1]))
finally:
    m.terminate()
    m.wait()
