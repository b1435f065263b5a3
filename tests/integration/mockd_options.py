#!/usr/bin/env python3
"""Integration tests: mockd's options: --validate warn and off, --log-format json, --config (and
its located errors), --cors restricted to a list, --timeout for idle clients, --max-connections,
unknown options with did-you-mean. Output is TAP.

usage: mockd_options.py MOCKD SHOP_SPEC"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

from mocklib import Mockd, Tap, expect

exe, spec = sys.argv[1], sys.argv[2]
t = Tap()
B = "/v2"
BAD = {"name": "", "price": 0}


def warn_mode():
    m = Mockd(exe, spec, "--validate", "warn", "--log-format", "none")
    try:
        r = m.request("POST", B + "/items", body=BAD, headers={"X-Api-Key": "k"})
        expect(r.status == 201, r)
        h = r.headers.get("x-mockd-validation", "")
        expect(h.startswith("failed; 2 problems"), h)
    finally:
        m.stop()

t.check("--validate warn answers invalid requests and says why in X-Mockd-Validation", warn_mode)


def off_mode():
    m = Mockd(exe, spec, "--validate", "off", "--log-format", "none")
    try:
        r = m.request("POST", B + "/items", body=BAD, headers={"X-Api-Key": "k"})
        expect(r.status == 201 and "x-mockd-validation" not in r.headers, r)
    finally:
        m.stop()

t.check("--validate off does not check requests", off_mode)


def json_log():
    m = Mockd(exe, spec, "--log-format", "json")
    m.request("GET", B + "/items/recent", headers={"X-Request-ID": "log-1"})
    m.request("GET", B + "/items?page=0")
    rc, err = m.stop()
    lines = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
    first = [x for x in lines if x.get("requestId") == "log-1"]
    expect(first and first[0]["operationId"] == "recentItems" and first[0]["status"] == 200, lines)
    bad = [x for x in lines if x["path"] == "/v2/items" and x["status"] == 400]
    expect(bad and bad[0]["validationErrors"] >= 1, lines)

t.check("--log-format json writes one JSON object per exchange", json_log)


def config_file():
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(f"spec: {spec}\nvalidate: warn\nlog-format: none\ncors: http://ok.example\n")
        path = f.name
    try:
        m = Mockd(exe, "--config=" + path)
        r = m.request("POST", B + "/items", body=BAD, headers={"X-Api-Key": "k"})
        expect(r.status == 201, r)
        m.stop()
    finally:
        os.unlink(path)

t.check("a --config file sets the same options as the flags", config_file)


def config_errors():
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(f"spec: {spec}\nvalidte: warn\nport: 99999\n")
        path = f.name
    try:
        p = subprocess.run([exe, "--config", path], capture_output=True, text=True, timeout=30)
        expect(p.returncode == 2, p)
        expect(":2:1: error: unknown option 'validte'" in p.stderr, p.stderr)
        expect("did you mean 'validate'" in p.stderr, p.stderr)
        expect(":3:7: error: option 'port'" in p.stderr, p.stderr)
    finally:
        os.unlink(path)

t.check("a broken config file is reported at file:line:col with did-you-mean, exit 2",
        config_errors)


def unknown_flag():
    p = subprocess.run([exe, "--prot", "1", spec], capture_output=True, text=True, timeout=30)
    expect(p.returncode == 64 and "did you mean '--port'" in p.stderr, p.stderr)

t.check("an unknown flag exits 64 with did-you-mean", unknown_flag)


def cors_list():
    m = Mockd(exe, spec, "--cors", "http://ok.example,http://also.example", "--log-format", "none")
    try:
        r = m.request("GET", B + "/items/recent", headers={"Origin": "http://also.example"})
        expect(r.headers.get("access-control-allow-origin") == "http://also.example", r.headers)
        r = m.request("GET", B + "/items/recent", headers={"Origin": "http://evil.example"})
        expect("access-control-allow-origin" not in r.headers, r.headers)
    finally:
        m.stop()

t.check("--cors with a list allows those origins only", cors_list)


def idle_timeout():
    m = Mockd(exe, spec, "--timeout", "1", "--log-format", "none")
    try:
        s = socket.create_connection(("127.0.0.1", m.port), timeout=10)
        s.sendall(b"GET /v2/items/recent HTTP/1.1\r\nHost: x\r\n")  # never finished
        t0 = time.time()
        data = s.recv(100)
        expect(data == b"" and time.time() - t0 < 5, (data, time.time() - t0))
        s.close()
    finally:
        m.stop()

t.check("a client that stops sending is disconnected after --timeout", idle_timeout)


def connection_limit():
    m = Mockd(exe, spec, "--max-connections", "2", "--threads", "1", "--log-format", "none")
    try:
        held = [socket.create_connection(("127.0.0.1", m.port), timeout=5) for _ in range(2)]
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", m.port), timeout=5)
        extra.sendall(b"GET /v2/items/recent HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            data = extra.recv(100)
        except (ConnectionResetError, socket.timeout):
            data = b""
        expect(data == b"", data)
        for s in held:
            s.close()
        extra.close()
        time.sleep(0.3)
        r = m.request("GET", B + "/items/recent")
        expect(r.status == 200, r)
    finally:
        m.stop()

t.check("connections beyond --max-connections are refused; service resumes when they close",
        connection_limit)
t.done()
