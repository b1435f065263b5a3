"""Helpers for the test-double layer tests: mocklib's Mockd (mockd on port 0, TAP output) plus
the admin API, raw sockets for transport faults, and a check that no admin answer ever carries
X-Mockd-Admin-Drift (mockd's own check of its answers against docs/mockd-admin.yaml)."""
import http.client
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from mocklib import Mockd as _Mockd, Reply, Tap, expect  # noqa: E402,F401

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PROMPTS = os.path.join(ROOT, "specs", "prompt-sphere.yaml")
DATA = os.path.join(ROOT, "tests", "data", "layers")
P1 = "5c9a7e21-3d4b-4f8a-b6c1-2e7d9f0a8b13"  # a prompt of the contract's examples


class Mockd(_Mockd):
    """mockd with --quiet (the access log would fill the unread stderr pipe under load)."""

    def __init__(self, exe, spec, *args):
        super().__init__(exe, spec, "--quiet", *args)
        self.drift = []

    def admin(self, method, path, body=None, headers=None, expect_status=None):
        r = self.request(method, "/__mockd" + path, body, headers)
        if "x-mockd-admin-drift" in r.headers:
            self.drift.append(f"{method} {path}: {r.headers['x-mockd-admin-drift']}")
        if expect_status is not None and r.status != expect_status:
            raise AssertionError(f"{method} /__mockd{path}: expected {expect_status}, got {r!r}")
        return r

    def ajson(self, method, path, body=None, status=200):
        return self.admin(method, path, body, expect_status=status).json()

    def stop_clean(self, tap, what="mockd"):
        """Stop and check, as a TAP case, that mockd exited 0 (sanitizers report leaks and
        errors through the exit status)."""
        rc, err = self.stop()

        def clean():
            expect(rc == 0, f"exit status {rc}: {err[-3000:]}")
        tap.check(f"{what} stops cleanly", clean)

    def timed(self, method, path, body=None, headers=None):
        t0 = time.monotonic()
        r = self.request(method, path, body, headers)
        return r, (time.monotonic() - t0) * 1000


def raw(port, method, path, headers=None, body=b"", timeout=5):
    """Send one request on a fresh socket; return (bytes received, error or None). Transport
    faults show as a reset, an early close, or fewer body bytes than Content-Length says."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    for k, v in (headers or {}).items():
        head += f"{k}: {v}\r\n"
    if body:
        head += f"Content-Length: {len(body)}\r\n"
    s.sendall(head.encode() + b"\r\n" + body)
    data = b""
    err = None
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError as e:  # ECONNRESET
        err = e
    s.close()
    return data, err


def split_response(data):
    """(status, headers dict lower-case, body) of raw response bytes."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0] else 0
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def keepalive(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=10)


def call(conn, method, path, body=None, headers=None):
    h = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, data)


def local_ipv4():
    """A non-loopback address of this machine, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
        ip = s.getsockname()[0]
        return None if ip.startswith("127.") else ip
    except OSError:
        return None
    finally:
        s.close()
