#!/usr/bin/env python3
"""Run the code blocks of docs/*.md that are marked to run in CI.

A block runs when the line before its opening fence is `<!-- runs in CI -->`. Each block runs
with bash (-e -u -o pipefail) in a fresh temporary copy-free working directory: the repository
root is the working directory and a temporary directory is $TMPDIR; the build's mockd and runner
are first on PATH. Output is TAP, one line per block, named by file and line.

usage: doc_examples.py REPO BUILD_DIR DOC..."""
import os
import subprocess
import sys
import tempfile

repo, build = sys.argv[1], sys.argv[2]
docs = sys.argv[3:]
n = failed = 0
env = dict(os.environ)
env["PATH"] = os.pathsep.join([os.path.join(build, "mockd"), os.path.join(build, "runner"),
                              env.get("PATH", "")])
for doc in docs:
    lines = open(doc, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i].strip() == "<!-- runs in CI -->" and i + 1 < len(lines) and \
                lines[i + 1].startswith("```sh"):
            start = i + 2
            end = start
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            code = "\n".join(lines[start:end])
            n += 1
            name = f"{os.path.relpath(doc, repo)}:{start}"
            with tempfile.TemporaryDirectory() as tmp:
                script = f"set -euo pipefail\ncd {tmp}\nln -s {repo}/* . 2>/dev/null || true\n" + code
                try:
                    p = subprocess.run(["bash", "-c", script], env=env, capture_output=True,
                                       text=True, timeout=120)
                    ok = p.returncode == 0
                    out = p.stdout + p.stderr
                except subprocess.TimeoutExpired as e:
                    ok, out = False, f"timed out: {e}"
            print(f"{'ok' if ok else 'not ok'} {n} - {name} runs")
            if not ok:
                failed += 1
                for line in out.splitlines()[-30:]:
                    print(f"# {line}")
            i = end
        i += 1
print(f"1..{n}")
sys.exit(1 if failed else 0)
