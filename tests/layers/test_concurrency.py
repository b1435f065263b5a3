#!/usr/bin/env python3
"""Admin changes while mockd is under load: no lost or torn state. Counted overrides answer
exactly their number of calls, sequences hand out each step once, the journal holds every
exchange once with unique ids, concurrent creates and unconditional updates of one item are
all applied, and listings taken while others change things are always whole. Output is TAP.

usage: test_concurrency.py MOCKD"""
import collections
import json
import sys
import threading

from layerslib import P1, PROMPTS, Mockd, Tap, call, expect, keepalive

exe = sys.argv[1]
t = Tap()
m = Mockd(exe, PROMPTS, "--auth", "off", "--stateful", "--threads", "8",
          "--journal-size", "100000")
GET1 = "/api/v1/prompts/" + P1
NEW = {"title": "Load", "content": "c", "category": "coding", "tags": ["t"], "isPublic": True}


def hammer(nthreads, per_thread, fn):
    """Run fn(conn, thread, i) from nthreads threads, each on its own keep-alive connection;
    returns every result and the first exception of any thread."""
    results, errors = [], []
    lock = threading.Lock()

    def worker(k):
        conn = keepalive(m.port)
        try:
            for i in range(per_thread):
                r = fn(conn, k, i)
                with lock:
                    results.append(r)
        except Exception as e:  # noqa: BLE001 - reported below
            with lock:
                errors.append(repr(e))
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(nthreads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    expect(not errors, errors[:3])
    return results


def counted_override_answers_exactly_its_calls():
    m.ajson("POST", "/overrides", {"operationId": "getPrompt", "status": 418, "times": 57}, 201)
    got = hammer(8, 25, lambda c, k, i: call(c, "GET", GET1).status)
    n = collections.Counter(got)
    expect(n[418] == 57 and n[200] == 200 - 57, n)
    expect(m.ajson("GET", "/overrides")["overrides"] == [], "removed after its last call")


def sequence_steps_are_each_given_once():
    steps = [{"status": 500 + i} for i in range(10)] + [{"passthrough": True}]
    m.ajson("POST", "/overrides", {"operationId": "getPrompt", "responses": steps}, 201)
    got = hammer(6, 20, lambda c, k, i: call(c, "GET", GET1).status)
    n = collections.Counter(got)
    expect(all(n[500 + i] == 1 for i in range(10)) and n[200] == 110, n)
    m.ajson("DELETE", "/overrides")


def journal_holds_every_exchange_once():
    m.ajson("DELETE", "/journal")
    start = m.ajson("GET", "/journal?limit=1")["nextId"]

    def one(c, k, i):
        rid = f"t{k}-{i}"
        call(c, "GET", GET1 if i % 2 else "/api/v1/prompts", headers={"X-Request-ID": rid})
        return rid

    sent = hammer(8, 40, one)
    j = m.ajson("GET", f"/journal?since={start - 1}&limit=100000")
    ids = [e["id"] for e in j["entries"]]
    rids = [e["requestId"] for e in j["entries"]]
    expect(len(ids) == 320 and len(set(ids)) == 320, len(ids))
    expect(ids == list(range(start, start + 320)), "ids are contiguous")
    expect(sorted(rids) == sorted(sent), "every request once")


def concurrent_creates_are_all_stored():
    m.ajson("DELETE", "/state")
    made = hammer(8, 15, lambda c, k, i: call(c, "POST", "/api/v1/prompts",
                                              dict(NEW, title=f"L{k}-{i}")).json()["data"]["id"])
    expect(len(set(made)) == 120, "unique ids")
    r = m.request("GET", "/api/v1/prompts?limit=100&page=2")
    expect(r.json()["data"]["meta"]["total"] == 122, r.json()["data"]["meta"])


def concurrent_updates_of_one_item_are_not_lost():
    item = m.request("POST", "/api/v1/prompts", NEW).json()["data"]
    path = "/api/v1/prompts/" + item["id"]
    hammer(6, 20, lambda c, k, i: call(c, "PATCH", path, {"content": f"{k}-{i}"}).status)
    v = m.request("GET", path).json()["data"]["version"]
    expect(v == 1 + 120, v)


def listings_are_whole_while_others_change_things():
    stop = threading.Event()
    bad = []

    def mutate():
        conn = keepalive(m.port)
        i = 0
        while not stop.is_set():
            i += 1
            r = call(conn, "POST", "/__mockd/overrides",
                     {"operationId": "listPrompts", "status": 503, "times": 3,
                      "match": {"headers": {"X-Never": str(i)}}})
            if r.status != 201:
                bad.append(r)
            call(conn, "PUT", "/__mockd/faults", {"operations": {"getPrompt": {"latencyMs": i % 3}}})
            if i % 5 == 0:
                call(conn, "DELETE", "/__mockd/overrides")
        conn.close()

    def look(c, k, i):
        path = ["/__mockd/overrides", "/__mockd/faults", "/__mockd/journal?limit=5",
                "/__mockd/state", GET1][i % 5]
        r = call(c, "GET", path)
        json.loads(r.body)  # raises on a torn answer
        if "x-mockd-admin-drift" in r.headers:
            bad.append(r.headers["x-mockd-admin-drift"])
        return r.status

    mutators = [threading.Thread(target=mutate) for _ in range(2)]
    for th in mutators:
        th.start()
    try:
        got = hammer(6, 40, look)
    finally:
        stop.set()
        for th in mutators:
            th.join()
    expect(set(got) == {200}, collections.Counter(got))
    expect(not bad, bad[:3])
    m.ajson("POST", "/reset")


def faults_toggled_under_load_give_whole_answers():
    stop = threading.Event()

    def toggle():
        conn = keepalive(m.port)
        while not stop.is_set():
            call(conn, "PUT", "/__mockd/faults", {"errorRate": 0.5, "errorStatus": 503})
            call(conn, "DELETE", "/__mockd/faults")
        conn.close()

    th = threading.Thread(target=toggle)
    th.start()
    try:
        got = hammer(6, 30, lambda c, k, i: (lambda r: (r.status, json.loads(r.body).get("success")))(
            call(c, "GET", GET1)))
    finally:
        stop.set()
        th.join()
    # getPrompt documents no 503: the injected error is an application/problem+json.
    expect(all((s == 200 and ok) or (s == 503 and ok is None) for s, ok in got),
           collections.Counter(got))


for name, fn in list(globals().items()):
    if callable(fn) and fn.__module__ == "__main__" and fn.__code__.co_argcount == 0:
        t.check(name.replace("_", " "), fn)
t.check("no admin answer broke the admin document", lambda: expect(not m.drift, m.drift))
m.stop_clean(t)
t.done()
