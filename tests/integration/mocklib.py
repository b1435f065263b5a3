"""Helpers for mockd integration tests: start mockd on port 0, talk HTTP, report TAP."""
import http.client
import json
import os
import signal
import subprocess
import sys
import time


class Mockd:
    def __init__(self, exe, spec, *args):
        self.proc = subprocess.Popen([exe, "--port", "0", *args, spec], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.port = None
        deadline = time.time() + 20
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("listening on http://"):
                self.port = int(line.rsplit(":", 1)[1])
                break
        if self.port is None:
            err = self.proc.stderr.read()
            raise RuntimeError(f"mockd did not start: {err}")

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, data)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, err


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.headers.get('content-type')} {self.body[:300]!r}>"


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, name, fn):
        self.n += 1
        try:
            fn()
            print(f"ok {self.n} - {name}")
        except Exception as e:  # noqa: BLE001 - a test failure of any kind
            self.failed += 1
            print(f"not ok {self.n} - {name}")
            for line in repr(e).splitlines():
                print(f"# {line}")
        sys.stdout.flush()

    def done(self):
        print(f"1..{self.n}")
        sys.exit(1 if self.failed else 0)


def expect(cond, msg=""):
    if not cond:
        raise AssertionError(msg)
