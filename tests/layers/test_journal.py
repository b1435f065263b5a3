#!/usr/bin/env python3
"""The journal: what is recorded for each exchange, filters, one entry, clearing, the bounds
(entries, body bytes, total bytes) and verification (counts, bodies, gaps between retries).
Output is TAP.

usage: test_journal.py MOCKD"""
import sys
import time

from layerslib import P1, PROMPTS, Mockd, Tap, expect

exe = sys.argv[1]
t = Tap()
m = Mockd(exe, PROMPTS, "--auth", "off")
GET1 = "/api/v1/prompts/" + P1
NEW = {"title": "Hello", "content": "Be brief.", "category": "coding", "tags": ["a"],
       "isPublic": True}


def an_exchange_is_recorded_in_full():
    m.ajson("DELETE", "/journal")
    r = m.request("POST", "/api/v1/prompts?x=1", NEW,
                  {"X-Request-ID": "rid-1", "X-Mockd-Session": "s1"})
    expect(r.status == 201, r)
    j = m.ajson("GET", "/journal")
    expect(j["total"] == 1 and j["matched"] == 1 and j["dropped"] == 0, j)
    e = j["entries"][0]
    expect(e["kind"] == "http" and e["operationId"] == "createPrompt", e)
    expect(e["requestId"] == "rid-1" and e["session"] == "s1" and e["source"] == "example", e)
    q = e["request"]
    expect(q["method"] == "POST" and q["path"] == "/api/v1/prompts" and q["query"] == "x=1", q)
    expect(q["body"] == NEW and q["headers"]["Content-Type"] == "application/json", q)
    s = e["response"]
    expect(s["status"] == 201 and s["body"]["success"] is True, s)
    expect(s["headers"]["Content-Type"] == "application/json" and s["bodyBytes"] > 100, s)
    expect(e["time"].endswith("Z") and abs(e["timeMs"] / 1000 - time.time()) < 30, e)


def invalid_requests_and_404s_are_recorded_too():
    m.ajson("DELETE", "/journal")
    m.request("GET", "/api/v1/prompts?page=0")
    m.request("GET", "/nowhere")
    e = m.ajson("GET", "/journal")["entries"]
    expect(len(e) == 2 and e[0]["validationErrors"] >= 1 and e[1]["response"]["status"] == 404, e)


def filters_combine():
    m.ajson("DELETE", "/journal")
    for _ in range(3):
        m.request("GET", GET1)
    m.request("GET", "/api/v1/prompts")
    m.request("GET", "/nowhere")
    expect(m.ajson("GET", "/journal?operationId=getPrompt")["matched"] == 3)
    expect(m.ajson("GET", "/journal?status=404")["matched"] == 1)
    expect(m.ajson("GET", "/journal?method=get&path=/api/v1/prompts")["matched"] == 1)
    expect(m.ajson("GET", "/journal?method=POST")["matched"] == 0)
    j = m.ajson("GET", "/journal?operationId=getPrompt&limit=2")
    expect(j["matched"] == 3 and len(j["entries"]) == 2, j)
    ids = [e["id"] for e in j["entries"]]
    expect(ids == sorted(ids), "the newest matches, oldest first")
    since = ids[0]
    expect(m.ajson("GET", f"/journal?since={since}")["matched"] == 3)


def one_entry_by_id():
    m.ajson("DELETE", "/journal")
    m.request("GET", GET1)
    i = m.ajson("GET", "/journal")["entries"][0]["id"]
    expect(m.ajson("GET", f"/journal/{i}")["id"] == i)
    expect(m.admin("GET", "/journal/999999").status == 404)
    expect(m.ajson("DELETE", "/journal")["removed"] == 1)


def verify_counts_and_bodies():
    m.ajson("DELETE", "/journal")
    for title in ("Hello", "Hello", "Other"):
        m.request("POST", "/api/v1/prompts", dict(NEW, title=title))
    v = m.ajson("POST", "/journal/verify", {"operationId": "createPrompt", "count": 3})
    expect(v["ok"] and v["matched"] == 3 and len(v["ids"]) == 3 and len(v["gapsMs"]) == 2, v)
    v = m.ajson("POST", "/journal/verify",
                {"operationId": "createPrompt", "body": {"title": "Hello"}, "count": 2})
    expect(v["ok"], v)
    r = m.admin("POST", "/journal/verify",
                {"operationId": "createPrompt", "body": {"title": "Hello"}, "count": 3})
    expect(r.status == 409, r)
    v = r.json()
    expect(not v["ok"] and v["problems"] == ["expected 3 calls of createPrompt, got 2"], v)
    v = m.ajson("POST", "/journal/verify",
                {"method": "POST", "path": "/api/v1/prompts", "atLeast": 1, "atMost": 3})
    expect(v["ok"] and v["matched"] == 3, v)
    v = m.admin("POST", "/journal/verify", {"operationId": "getPrompt", "atLeast": 1}).json()
    expect(v["problems"] == ["expected at least 1 calls of getPrompt, got 0"], v)
    v = m.ajson("POST", "/journal/verify",
                {"operationId": "createPrompt", "headers": {"content-type": "application/json"},
                 "count": 3})
    expect(v["ok"], v)


def verify_gaps_of_a_backoff():
    m.ajson("DELETE", "/journal")
    for pause in (0.05, 0.15, 0.4, 0):
        m.request("GET", "/api/v1/prompts")
        time.sleep(pause)
    v = m.ajson("POST", "/journal/verify",
                {"operationId": "listPrompts", "count": 4, "gaps": {"increasing": True,
                                                                     "minMs": 40}})
    expect(v["ok"] and len(v["gapsMs"]) == 3, v)
    expect(v["gapsMs"][0] < v["gapsMs"][1] < v["gapsMs"][2], v)
    r = m.admin("POST", "/journal/verify",
                {"operationId": "listPrompts", "gaps": {"maxMs": 300}})
    expect(r.status == 409 and "longer than 300.0 ms" in r.json()["problems"][0], r.json())


def verify_without_growing_gaps_fails():
    m.ajson("DELETE", "/journal")
    for pause in (0.15, 0.05, 0):
        m.request("GET", "/api/v1/prompts")
        time.sleep(pause)
    r = m.admin("POST", "/journal/verify", {"operationId": "listPrompts",
                                            "gaps": {"increasing": True}})
    expect(r.status == 409 and "is not longer than gap 1" in r.json()["problems"][0], r.json())


for name, fn in list(globals().items()):
    if callable(fn) and fn.__module__ == "__main__" and fn.__code__.co_argcount == 0:
        t.check(name.replace("_", " "), fn)
t.check("no admin answer broke the admin document", lambda: expect(not m.drift, m.drift))
m.stop_clean(t)

# Bounds.
b = Mockd(exe, PROMPTS, "--auth", "off", "--journal-size", "5", "--journal-body", "100")


def entries_are_bounded_oldest_first():
    for _ in range(12):
        b.request("GET", GET1)
    j = b.ajson("GET", "/journal")
    expect(j["total"] == 5 and j["dropped"] == 7 and len(j["entries"]) == 5, j)
    expect([e["id"] for e in j["entries"]] == [8, 9, 10, 11, 12], [e["id"] for e in j["entries"]])
    s = b.ajson("GET", "/status")["journal"]
    expect(s == {"entries": 5, "dropped": 7, "capacity": 5, "maxBodyBytes": 100,
                 "maxBytes": 67108864}, s)


def bodies_are_cut_at_the_bound():
    b.request("POST", "/api/v1/prompts", NEW)
    e = b.ajson("GET", "/journal?operationId=createPrompt")["entries"][0]
    rs = e["response"]
    expect(rs["bodyTruncated"] is True and rs["bodyBytes"] > 100, rs)
    expect(isinstance(rs["body"], str) and len(rs["body"].encode()) <= 100, rs["body"])
    expect(e["request"]["bodyTruncated"] is False and e["request"]["body"] == NEW, e["request"])


t.check("entries are bounded, oldest evicted first", entries_are_bounded_oldest_first)
t.check("bodies are cut at the bound", bodies_are_cut_at_the_bound)
b.stop_clean(t)

tb = Mockd(exe, PROMPTS, "--auth", "off", "--journal-bytes", "20000")


def total_bytes_are_bounded():
    for _ in range(40):
        tb.request("GET", GET1)
    j = tb.ajson("GET", "/journal")
    expect(0 < j["total"] < 40 and j["dropped"] == 40 - j["total"], (j["total"], j["dropped"]))
    expect(j["entries"][-1]["id"] == 40, "the newest is kept")


t.check("total bytes are bounded", total_bytes_are_bounded)
tb.stop_clean(t)

z = Mockd(exe, PROMPTS, "--auth", "off", "--journal-size", "0")
t.check("journal size 0 keeps nothing", lambda: (z.request("GET", GET1),
                                                 expect(z.ajson("GET", "/journal")["total"] == 0)))
z.stop_clean(t)
t.done()
