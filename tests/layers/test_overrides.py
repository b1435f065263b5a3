#!/usr/bin/env python3
"""Overrides (MSW's server.use): one answer for the next N calls or until removed, sequences,
passthrough, named examples, matching by path, parameters, query, headers, body and session,
delays and transport faults per step. Output is TAP.

usage: test_overrides.py MOCKD"""
import sys
import time

from layerslib import P1, PROMPTS, Mockd, Tap, expect, raw, split_response

exe = sys.argv[1]
t = Tap()
m = Mockd(exe, PROMPTS, "--auth", "off")
GET1 = "/api/v1/prompts/" + P1
P2 = "a4e1c8d2-6f3b-4a7e-9d05-8b2c1e6f7a90"


def ov(body, status=201):
    return m.ajson("POST", "/overrides", body, status)


def status_of(path, **kw):
    return m.request("GET", path, **kw).status


def once_then_normal():
    o = ov({"operationId": "getPrompt", "status": 500, "times": 1})
    expect(o["id"].startswith("o") and o["remaining"] == 1 and o["warnings"] == [], o)
    r = m.request("GET", GET1)
    expect(r.status == 500 and r.headers["x-mockd-override"] == o["id"], r)
    expect(r.json()["code"] == "INTERNAL_ERROR", "the contract's own 500 body")
    expect(status_of(GET1) == 200)
    expect(m.ajson("GET", "/overrides")["overrides"] == [], "removed after its last call")


def until_removed():
    o = ov({"operationId": "getPrompt", "status": 404})
    for _ in range(3):
        expect(status_of(GET1) == 404)
    g = m.ajson("GET", "/overrides/" + o["id"])
    expect(g["calls"] == 3 and g["remaining"] is None, g)
    m.ajson("DELETE", "/overrides/" + o["id"])
    expect(status_of(GET1) == 200)
    expect(m.admin("DELETE", "/overrides/" + o["id"]).status == 404)


def sequence_then_passthrough():
    ov({"method": "GET", "path": "/api/v1/prompts",
        "responses": [{"status": 503}, {"status": 503}, {"passthrough": True}]})
    got = [status_of("/api/v1/prompts") for _ in range(4)]
    expect(got == [503, 503, 200, 200], got)
    m.ajson("DELETE", "/overrides")


def sequence_repeats_its_last_step():
    ov({"operationId": "listPrompts", "responses": [{"status": 500}, {"status": 429}]})
    got = [status_of("/api/v1/prompts") for _ in range(4)]
    expect(got == [500, 429, 429, 429], got)
    m.ajson("DELETE", "/overrides")


def sequence_cycles():
    ov({"operationId": "listPrompts", "repeat": "cycle",
        "responses": [{"status": 500}, {"passthrough": True}]})
    got = [status_of("/api/v1/prompts") for _ in range(4)]
    expect(got == [500, 200, 500, 200], got)
    m.ajson("DELETE", "/overrides")


def explicit_body_and_headers():
    o = ov({"operationId": "getPrompt", "status": 200, "times": 1,
            "headers": {"X-Custom": "yes"}, "body": {"success": True, "data": None}})
    expect(o["warnings"] and "served anyway" in o["warnings"][0], o["warnings"])
    r = m.request("GET", GET1)
    expect(r.status == 200 and r.json() == {"success": True, "data": None}, r)
    expect(r.headers["x-custom"] == "yes" and r.headers["content-type"] == "application/json", r)


def raw_text_body():
    ov({"operationId": "getPrompt", "status": 502, "text": "<html>bad gateway</html>",
        "contentType": "text/html", "times": 1})
    r = m.request("GET", GET1)
    expect(r.status == 502 and r.body == b"<html>bad gateway</html>", r)
    expect(r.headers["content-type"] == "text/html", r.headers)


def named_example_of_the_spec():
    ov({"operationId": "getPrompt", "example": "english", "times": 1})
    r = m.request("GET", GET1)
    expect(r.status == 200 and r.json()["data"]["title"].startswith("Code Review"), r)


def unknown_example_is_refused_with_the_known_ones():
    r = m.admin("POST", "/overrides", {"operationId": "getPrompt", "example": "klingon"})
    expect(r.status == 400, r)
    d = r.json()["detail"]
    expect("'klingon'" in d and "'chinese'" in d and "'english'" in d, d)


def unknown_operation_suggests_one():
    r = m.admin("POST", "/overrides", {"operationId": "getPromt", "status": 500})
    expect(r.status == 404 and "did you mean 'getPrompt'" in r.json()["detail"], r.json())
    r = m.admin("POST", "/overrides", {"method": "GET", "path": "/api/v1/nothing", "status": 500})
    expect(r.status == 404, r)
    r = m.admin("POST", "/overrides", {"status": 500})
    expect(r.status == 400 and "name the operation" in r.json()["detail"], r)


def concrete_path_limits_the_override():
    ov({"method": "GET", "path": GET1, "status": 404})
    expect(status_of(GET1) == 404)
    expect(status_of("/api/v1/prompts/" + P2) == 200)
    m.ajson("DELETE", "/overrides")


def template_path_matches_every_id():
    ov({"method": "get", "path": "/api/v1/prompts/{promptId}", "status": 404})
    expect(status_of(GET1) == 404 and status_of("/api/v1/prompts/" + P2) == 404)
    m.ajson("DELETE", "/overrides")


def match_on_params_query_headers_body():
    ov({"operationId": "getPrompt", "status": 410, "match": {"params": {"promptId": P2}}})
    expect(status_of(GET1) == 200 and status_of("/api/v1/prompts/" + P2) == 410)
    m.ajson("DELETE", "/overrides")
    ov({"operationId": "listPrompts", "status": 500, "match": {"query": {"page": "2"}}})
    expect(status_of("/api/v1/prompts?page=1") == 200)
    expect(status_of("/api/v1/prompts?page=2") == 500)
    m.ajson("DELETE", "/overrides")
    ov({"operationId": "listPrompts", "status": 500, "match": {"headers": {"X-Flag": "on"}}})
    expect(status_of("/api/v1/prompts") == 200)
    expect(status_of("/api/v1/prompts", headers={"x-flag": "on"}) == 500)
    m.ajson("DELETE", "/overrides")
    body = {"title": "Hi", "content": "c", "category": "coding", "tags": [], "isPublic": True}
    ov({"operationId": "createPrompt", "status": 409, "match": {"body": {"title": "Taken"}}})
    expect(m.request("POST", "/api/v1/prompts", body).status == 201)
    expect(m.request("POST", "/api/v1/prompts", dict(body, title="Taken")).status == 409)
    m.ajson("DELETE", "/overrides")


def session_scoped_override():
    ov({"operationId": "getPrompt", "status": 500, "session": "alice"})
    expect(status_of(GET1) == 200)
    expect(status_of(GET1, headers={"X-Mockd-Session": "bob"}) == 200)
    expect(status_of(GET1, headers={"X-Mockd-Session": "alice"}) == 500)
    m.ajson("DELETE", "/overrides")


def newest_override_wins():
    a = ov({"operationId": "getPrompt", "status": 500})
    b = ov({"operationId": "getPrompt", "status": 503})
    lst = m.ajson("GET", "/overrides")["overrides"]
    expect([o["id"] for o in lst] == [b["id"], a["id"]], "listed newest first")
    expect(status_of(GET1) == 503)
    m.ajson("DELETE", "/overrides/" + b["id"])
    expect(status_of(GET1) == 500)
    expect(m.ajson("DELETE", "/overrides")["removed"] == 1)


def step_delay():
    ov({"operationId": "getPrompt", "delayMs": 400, "passthrough": True, "times": 1})
    r, ms = m.timed("GET", GET1)
    expect(r.status == 200 and ms >= 390, ms)
    r, ms = m.timed("GET", GET1)
    expect(ms < 300, ms)


def step_faults():
    ov({"operationId": "getPrompt", "fault": "reset", "times": 1})
    data, err = raw(m.port, "GET", GET1)
    expect(data == b"", (data[:80], err))
    ov({"operationId": "getPrompt", "fault": "truncate", "times": 1})
    data, _ = raw(m.port, "GET", GET1)
    st, h, body = split_response(data)
    expect(st == 200 and len(body) < int(h["content-length"]), (st, h, len(body)))
    ov({"operationId": "getPrompt", "fault": "empty", "status": 503, "times": 1})
    data, _ = raw(m.port, "GET", GET1)
    st, h, body = split_response(data)
    expect(st == 503 and body == b"" and int(h["content-length"]) > 0, (st, h, body))
    ov({"operationId": "getPrompt", "fault": "slow", "slowBps": 2000, "times": 1})
    t0 = time.monotonic()
    data, _ = raw(m.port, "GET", GET1)
    st, h, body = split_response(data)
    expect(st == 200 and len(body) == int(h["content-length"]), (st, len(body)))
    expect(time.monotonic() - t0 > 0.2, "the body took its time")


def overrides_never_touch_validation_errors():
    ov({"operationId": "listPrompts", "status": 500})
    r = m.request("GET", "/api/v1/prompts?page=zero")
    expect(r.status in (400, 422), r)
    m.ajson("DELETE", "/overrides")


for name, fn in list(globals().items()):
    if callable(fn) and fn.__module__ == "__main__" and fn.__code__.co_argcount == 0:
        t.check(name.replace("_", " "), fn)
t.check("no admin answer broke the admin document", lambda: expect(not m.drift, m.drift))
m.stop_clean(t)
t.done()
