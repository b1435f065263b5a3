#!/usr/bin/env python3
"""Integration tests: WebSocket agent dialogues on mockd's HTTP port (prompt-sphere contract and
its bundled dialogues): token auth with the contract's close codes, a streamed conversation turn
with replyTo, JSON ping/pong, invalid frames answered with `error`, binary and oversized frames,
fragmented messages, idle timeout, connection limit, the shared port still serving HTTP, and the
SSE stream from the same scripts. Output is TAP.

usage: mockd_ws.py MOCKD SPEC ASYNCAPI DIALOGUES"""
import json
import os
import sys
import time

from mocklib import Mockd, Tap, WebSocket, expect

exe, spec, asyncapi, dialogues = sys.argv[1:5]
t = Tap()
m = Mockd(exe, spec, "--asyncapi", asyncapi, "--dialogues", dialogues, "--ws-idle-timeout", "2",
          "--ws-max-connections", "20", "--log-format", "none")
CHAT = "/api/v1/ws/chat"


def login():
    r = m.request("POST", "/api/v1/auth/login",
                  body={"email": "lin@example.com", "password": "Sphere2025!"})
    expect(r.status == 200, r)
    return r.json()["data"]["accessToken"]


TOKEN = login()


def connect(token=TOKEN, extra="", session=None):
    ws = WebSocket(m.port, f"{CHAT}?token={token}{extra}",
                   headers={"X-Mockd-Session": session} if session else None)
    expect(ws.status == 101, f"upgrade answered {ws.status}")
    return ws


def user_message(mid, text, agent="pe_engineer", mode="create"):
    return {"type": "user_message", "data": {"messageId": mid, "message": text, "agent": agent,
                                             "mode": mode, "timestamp": int(time.time() * 1000)}}


def shared_port_http():
    r = m.request("GET", "/openapi.json")
    expect(r.status == 200 and r.json()["openapi"] == "3.1.0", r)

t.check("HTTP keeps working on the port shared with WebSocket", shared_port_http)


def welcome():
    ws = connect()
    f = ws.recv_json()
    expect(f and f["type"] == "system", f)
    ws.close()

t.check("a connection with a valid token gets the system welcome frame", welcome)


def bad_token():
    for tok in ("nope", TOKEN[:-3] + "abc"):
        ws = connect(tok)
        frames = ws.recv_until_close()
        expect(ws.close_code == 4001, (ws.close_code, frames))

t.check("a missing or wrongly signed token closes with 4001 after the upgrade", bad_token)


def turn():
    ws = connect(session="turn-1")
    ws.recv_json()  # welcome
    user_msg = user_message("m-1", "Write a system prompt for a patient math tutor")
    ws.send_json(user_msg)
    frames = []
    while True:
        f = ws.recv_json()
        expect(f is not None, frames)
        frames.append(f)
        if f["type"] in ("agent_response", "error"):
            break
    types = [f["type"] for f in frames]
    expect(types[0] == "typing_start" and "typing_stop" in types and types[-1] == "agent_response",
           types)
    for f in frames:
        expect(f["data"].get("replyTo") == "m-1", f)
    chunks = [f for f in frames if f["type"] == "agent_response_chunk"]
    expect(chunks and chunks[-1]["data"]["final"] is True, chunks)
    expect([c["data"]["index"] for c in chunks] == list(range(len(chunks))), chunks)
    joined = "".join(c["data"]["delta"] for c in chunks)
    expect(joined == frames[-1]["data"]["message"], (joined, frames[-1]))
    ws.close()
    # The journal holds the welcome, the user's frame, then every frame sent, in order and as
    # sent.
    r = m.request("GET", "/__mockd/journal?kind=ws&session=turn-1")
    expect(r.status == 200, r)
    entries = sorted(r.json()["entries"], key=lambda e: e["id"])
    got = [(e["frame"]["direction"], e["frame"]["data"]) for e in entries]
    expect(got[0][0] == "out" and got[0][1]["type"] == "system" and got[1] == ("in", user_msg),
           got[:2])
    expect(got[2:] == [("out", f) for f in frames], got[2:])
    expect(all(e["session"] == "turn-1" and e["frame"]["path"] == CHAT for e in entries), entries)

t.check("a user message is answered with typing, ordered chunks and the joined response, all "
        "carrying replyTo", turn)


def chinese_turn():
    ws = connect()
    ws.recv_json()
    ws.send_json(user_message("m-zh", "请帮我写一个小学数学辅导老师的系统提示词"))
    last = None
    while True:
        f = ws.recv_json()
        expect(f is not None)
        if f["type"] in ("agent_response", "error"):
            last = f
            break
    expect(last["type"] == "agent_response", last)
    expect(any("\u4e00" <= ch <= "\u9fff" for ch in last["data"]["message"]), last)
    ws.close()

t.check("a Chinese message gets a Chinese answer", chinese_turn)


def ping_pong():
    ws = connect()
    ws.recv_json()
    ws.send_json({"type": "ping", "data": {"timestamp": int(time.time() * 1000)}})
    f = ws.recv_json()
    expect(f and f["type"] == "pong", f)
    ws.close()

t.check("a JSON ping is answered with pong", ping_pong)


def invalid_frame():
    ws = connect()
    ws.recv_json()
    ws.send_text("{not json")
    f = ws.recv_json()
    expect(f and f["type"] == "error", f)
    ws.send_json({"type": "user_message", "data": {"messageId": "x"}})
    f = ws.recv_json()
    expect(f and f["type"] == "error", f)
    ws.close()

t.check("a frame that is not JSON, or breaks the contract, is answered with an error frame",
        invalid_frame)


def fragmented():
    ws = connect()
    ws.recv_json()
    text = json.dumps({"type": "ping", "data": {"timestamp": 1}}).encode()
    ws.send_frame(1, text[:10], fin=False)
    ws.send_frame(0, text[10:], fin=True)
    f = ws.recv_json()
    expect(f and f["type"] == "pong", f)
    ws.close()

t.check("a message split over fragments is reassembled", fragmented)


def binary_closes():
    ws = connect()
    ws.recv_json()
    ws.send_frame(2, b"\x00\x01")
    ws.recv_until_close()
    expect(ws.close_code == 1003, ws.close_code)

t.check("a binary frame closes the connection with 1003", binary_closes)


def too_big():
    ws = connect()
    ws.recv_json()
    ws.send_text("x" * 70000)
    ws.recv_until_close()
    expect(ws.close_code == 1009, ws.close_code)

t.check("a message over 64 KiB closes the connection with 1009", too_big)


def idle():
    ws = connect()
    ws.recv_json()
    t0 = time.time()
    ws.recv_until_close()
    expect(ws.close_code == 4008 and 1.5 < time.time() - t0 < 6, (ws.close_code, time.time() - t0))

t.check("a silent connection is closed with 4008 after --ws-idle-timeout", idle)


def not_a_channel():
    ws = WebSocket(m.port, "/api/v1/ws/other?token=" + TOKEN)
    expect(ws.status != 101, ws.status)

t.check("an upgrade on a path that is no channel is refused", not_a_channel)


def max_connections():
    socks = [connect() for _ in range(20)]
    extra = connect()
    extra.recv_until_close()
    expect(extra.close_code == 4029, extra.close_code)
    for s in socks:
        s.close()

t.check("connections beyond --ws-max-connections are closed with the contract's code",
        max_connections)


def sse_from_script():
    r = m.request("POST", "/api/v1/dashscope/chat/completions/stream",
                  body={"model": "qwen-plus", "messages": ["hi"]},
                  headers={"Authorization": "Bearer " + TOKEN})
    expect(r.status == 200 and r.headers["content-type"].startswith("text/event-stream"), r)
    records = [x for x in r.body.decode().split("\n\n") if x.strip()]
    expect(records[-1].strip() == "data: [DONE]", records[-3:])
    for rec in records[:-1]:
        data = json.loads(rec.split("data: ", 1)[1])
        expect("content" in data or "error" in data, data)

t.check("the SSE operation streams records from the scripts and ends with [DONE]",
        sse_from_script)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def no_idle_timeout_sleeps():
    # Without an idle timeout an open connection has no timer to wait for: the service loop
    # must sleep (libwebsockets 4.1 turns a cancelled timer into one due at once, which spun it).
    m0 = Mockd(exe, spec, "--asyncapi", asyncapi, "--dialogues", dialogues, "--ws-idle-timeout",
               "0", "--auth", "off", "--log-format", "none")
    try:
        ws = WebSocket(m0.port, CHAT)
        expect(ws.status == 101, ws.status)
        ws.recv_json()
        ws.send_json({"type": "ping", "data": {"timestamp": 1}})
        expect(ws.recv_json()["type"] == "pong")
        time.sleep(0.5)
        c0 = cpu_seconds(m0.proc.pid)
        time.sleep(2)
        used = cpu_seconds(m0.proc.pid) - c0
        expect(used < 0.5, f"{used:.2f} s of CPU in 2 s with one silent connection")
        ws.send_json({"type": "ping", "data": {"timestamp": 2}})
        expect(ws.recv_json()["type"] == "pong")
        ws.close()
    finally:
        m0.stop()

t.check("with --ws-idle-timeout 0 a silent connection leaves mockd asleep", no_idle_timeout_sleeps)


def shutdown_going_away():
    ws = connect()
    ws.recv_json()
    m.proc.terminate()
    ws.recv_until_close()
    expect(ws.close_code == 1001, ws.close_code)

t.check("on SIGTERM open connections are closed with 1001", shutdown_going_away)
rc, err = m.stop()
t.check("mockd stops cleanly", lambda: expect(rc == 0, err[-2000:]))
t.done()
