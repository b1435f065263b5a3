#!/usr/bin/env python3
"""Integration test: mockd --proxy relays WebSocket channels to the backend: frames go both ways
and are journalled; when the backend is unreachable the mock's own dialogues answer. The
"backend" is a second mockd serving the same contract. Output is TAP.

usage: mockd_ws_proxy.py MOCKD SPEC ASYNCAPI DIALOGUES"""
import json
import sys
import urllib.request

from mocklib import Mockd, Tap, WebSocket, expect

exe, spec, asyncapi, dialogues = sys.argv[1:5]
t = Tap()
common = ["--asyncapi", asyncapi, "--dialogues", dialogues, "--auth", "off", "--log-format", "none"]
backend = Mockd(exe, spec, *common)
front = Mockd(exe, spec, *common, "--proxy", f"http://127.0.0.1:{backend.port}")


def relayed():
    ws = WebSocket(front.port, "/api/v1/ws/chat?token=abc.def.ghi")
    expect(ws.status == 101, ws.status)
    first = ws.recv_json()
    expect(first and first["type"] == "system", first)
    ws.send_json({"type": "ping", "data": {"timestamp": 5}})
    f = ws.recv_json()
    expect(f and f["type"] == "pong", f)
    ws.close()
    # The backend saw the client's ping: it went through.
    j = json.load(urllib.request.urlopen(f"http://127.0.0.1:{backend.port}/__mockd/journal"))
    pings = [e for e in j["entries"] if e["kind"] == "ws" and e["frame"]["direction"] == "in"
             and isinstance(e["frame"].get("data"), dict) and e["frame"]["data"].get("type") == "ping"]
    expect(pings, j)

t.check("frames are relayed both ways through --proxy (the backend answers the ping)", relayed)


def journalled_at_front():
    j = json.load(urllib.request.urlopen(f"http://127.0.0.1:{front.port}/__mockd/journal"))
    dirs = {e["frame"]["direction"] for e in j["entries"] if e["kind"] == "ws"}
    expect(dirs == {"in", "out"}, j)

t.check("the proxy journals relayed frames in both directions", journalled_at_front)

backend.stop()


def fallback():
    ws = WebSocket(front.port, "/api/v1/ws/chat?token=abc.def.ghi")
    expect(ws.status == 101, ws.status)
    first = ws.recv_json()
    expect(first and first["type"] == "system", first)
    ws.close()

t.check("with the backend gone, the mock's own dialogue answers", fallback)
rc, err = front.stop()
t.check("the proxy stops cleanly", lambda: expect(rc == 0, err[-2000:]))
t.done()
