#!/usr/bin/env python3
"""--proxy and --record: requests forwarded to a backend (a small Python server that drifts
from tests/data/layers/todos.yaml on purpose, and a second mockd that does not), both
directions checked, drift reported, fallback to the mock where the backend lacks an operation
or is down; the recording replays with runner. Output is TAP.

usage: test_proxy.py MOCKD RUNNER"""
import glob
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading

from layerslib import DATA, PROMPTS, P1, Mockd, Tap, expect

exe, runner = sys.argv[1], sys.argv[2]
t = Tap()
TODOS = os.path.join(DATA, "todos.yaml")
seen = []

ITEM = {"id": 1, "title": "Buy milk", "done": False, "createdAt": "2025-01-02T03:04:05Z",
        "updatedAt": "2025-01-02T03:04:05Z"}


class Backend(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body=None, ctype="application/json", headers=None):
        data = b"" if body is None else (body if isinstance(body, bytes)
                                         else json.dumps(body).encode())
        self.send_response(status)
        if data:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        seen.append((self.command, self.path, dict(self.headers), body))
        p = self.path
        if self.command == "GET" and (p.startswith("/v1/todos?") or p == "/v1/todos"):
            self.send(200, [ITEM, dict(ITEM, id=2, title="Extra", extra=True)],
                      headers={"X-Total-Count": "2", "X-Backend": "yes"})
        elif self.command == "GET" and p == "/v1/todos/1":
            self.send(200, ITEM)
        elif self.command == "GET" and p == "/v1/todos/7":
            self.send(404, {"error": "not found"})
        elif self.command == "GET" and p == "/v1/stats":
            self.send(404, b"<h1>Cannot GET /v1/stats</h1>", "text/html")
        elif self.command == "POST":
            self.send(501, {"detail": "not implemented"})
        elif self.command == "PATCH":
            self.send(418, {"teapot": True})
        elif self.command == "DELETE":
            self.send(204)
        else:
            self.send(500, {"error": "?"})

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = handle_any


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Backend)
threading.Thread(target=srv.serve_forever, daemon=True).start()
backend = f"http://127.0.0.1:{srv.server_address[1]}"
rec = tempfile.mkdtemp()
m = Mockd(exe, TODOS, "--proxy", backend, "--record", rec, "--threads", "4")


def answers_come_from_the_backend():
    r = m.request("GET", "/v1/todos/1", headers={"X-Trace": "abc"})
    expect(r.status == 200 and r.json() == ITEM, r)
    expect(r.headers["x-mockd-proxy"] == "backend" and "x-mockd-drift" not in r.headers, r.headers)
    method, path, headers, _ = seen[-1]
    expect(method == "GET" and path == "/v1/todos/1" and headers.get("X-Trace") == "abc", seen[-1])
    expect(headers.get("X-Forwarded-For") == "127.0.0.1", headers)
    e = m.ajson("GET", "/journal?limit=1")["entries"][0]
    expect(e["source"] == "proxy", e)


def query_and_response_headers_pass_through():
    r = m.request("GET", "/v1/todos?limit=5&q=a%20b")
    expect(seen[-1][1] == "/v1/todos?limit=5&q=a%20b", seen[-1][1])
    expect(r.headers.get("x-backend") == "yes" and r.headers["x-total-count"] == "2", r.headers)


def response_drift_is_reported_not_hidden():
    m.ajson("DELETE", "/drift")
    r = m.request("GET", "/v1/todos")
    expect(r.status == 200 and len(r.json()) == 2, "the backend's answer as it is")
    expect("unexpected property 'extra'" in r.headers["x-mockd-drift"], r.headers)
    d = m.ajson("GET", "/drift")["drift"]
    expect(len(d) == 1 and d[0]["operation"] == "GET /todos" and d[0]["direction"] == "response"
           and d[0]["status"] == 200 and d[0]["count"] == 1, d)
    m.request("GET", "/v1/todos")
    expect(m.ajson("GET", "/drift")["drift"][0]["count"] == 2, "counted, not repeated")


def undocumented_status_is_drift():
    r = m.request("PATCH", "/v1/todos/1", {"done": True})
    expect(r.status == 418, r)
    d = [x for x in m.ajson("GET", "/drift")["drift"] if x["status"] == 418]
    expect(d and d[0]["problem"] == "status 418 is not documented", d)


def documented_404_passes_through():
    r = m.request("GET", "/v1/todos/7")
    expect(r.status == 404 and r.json() == {"error": "not found"}, r)
    expect(r.headers["x-mockd-proxy"] == "backend", r.headers)


def missing_operations_fall_back_to_the_mock():
    r = m.request("GET", "/v1/stats")
    expect(r.status == 200 and r.json() == {"count": 2}, r)
    expect("lacks the operation (404)" in r.headers["x-mockd-proxy"], r.headers)
    r = m.request("POST", "/v1/todos", {"title": "x"})
    expect(r.status == 201 and "lacks the operation (501)" in r.headers["x-mockd-proxy"], r)


def invalid_requests_are_not_forwarded():
    before = len(seen)
    r = m.request("POST", "/v1/todos", {"title": ""})
    expect(r.status == 400 and len(seen) == before, r)


def overrides_and_faults_still_apply():
    m.ajson("POST", "/overrides", {"operationId": "getTodo", "status": 404, "times": 1}, 201)
    before = len(seen)
    expect(m.request("GET", "/v1/todos/1").status == 404 and len(seen) == before)
    expect(m.request("GET", "/v1/todos/1").status == 200 and len(seen) == before + 1)


def the_recording_has_examples_and_a_scenario():
    files = sorted(os.path.relpath(f, rec) for f in glob.glob(rec + "/examples/*/*"))
    expect("examples/getTodo/200.json" in files and "examples/listTodos/200.json" in files, files)
    expect(not any("getStats" in f for f in files), "fallback answers are not the backend's")
    with open(os.path.join(rec, "examples", "getTodo", "200.json"), encoding="utf-8") as f:
        expect(json.load(f) == ITEM)
    with open(os.path.join(rec, "scenario.yaml"), encoding="utf-8") as f:
        text = f.read()
    expect("name: recorded session" in text and "path: \"/v1/todos/1\"" in text, text[:500])
    p = subprocess.run([runner, "check", "--spec", TODOS, os.path.join(rec, "scenario.yaml")],
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0, p.stdout + p.stderr)


def unreachable_backend_falls_back():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    d = Mockd(exe, TODOS, "--proxy", f"http://127.0.0.1:{dead}", "--proxy-timeout", "2")
    try:
        r = d.request("GET", "/v1/todos/1")
        expect(r.status == 200 and "backend unreachable" in r.headers["x-mockd-proxy"], r)
    finally:
        d.stop()


for name, fn in list(globals().items()):
    if callable(fn) and getattr(fn, "__module__", "") == "__main__" and \
            hasattr(fn, "__code__") and fn.__code__.co_argcount == 0:
        t.check(name.replace("_", " "), fn)
t.check("no admin answer broke the admin document", lambda: expect(not m.drift, m.drift))
m.stop_clean(t)

# mockd in front of mockd: a backend that keeps the contract shows no drift, and the recorded
# scenario replays against it with runner.
b = Mockd(exe, PROMPTS, "--auth", "off")
rec2 = tempfile.mkdtemp()
f = Mockd(exe, PROMPTS, "--auth", "off", "--proxy", f"http://127.0.0.1:{b.port}",
          "--record", rec2)


def a_faithful_backend_shows_no_drift():
    f.request("GET", "/api/v1/prompts?page=1&limit=2")
    f.request("GET", "/api/v1/prompts/" + P1)
    f.request("POST", "/api/v1/prompts", {"title": "T", "content": "c", "category": "coding",
                                          "tags": ["x"], "isPublic": True})
    expect(f.ajson("GET", "/drift")["drift"] == [], f.ajson("GET", "/drift"))
    expect(b.ajson("GET", "/journal")["total"] == 3, "each request reached the backend once")


def the_recorded_scenario_replays():
    p = subprocess.run([runner, "run", "--spec", PROMPTS, "--target",
                        f"http://127.0.0.1:{b.port}", os.path.join(rec2, "scenario.yaml")],
                       capture_output=True, text=True, timeout=120)
    expect(p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:])


t.check("a faithful backend shows no drift", a_faithful_backend_shows_no_drift)
t.check("the recorded scenario replays", the_recorded_scenario_replays)
f.stop_clean(t, "the proxying mockd")
b.stop_clean(t, "the backend mockd")
srv.shutdown()
import shutil  # noqa: E402
shutil.rmtree(rec, ignore_errors=True)
shutil.rmtree(rec2, ignore_errors=True)
t.done()
