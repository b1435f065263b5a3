#!/usr/bin/env python3
"""HTTP caching where the spec declares it: ETag over the body, Last-Modified from the item's
updatedAt, Cache-Control from the spec's example, 304 on If-None-Match / If-Modified-Since,
If-Match on writes of stored items (412). Output is TAP.

usage: test_cache.py MOCKD"""
import os
import sys

from layerslib import DATA, P1, PROMPTS, Mockd, Tap, expect

exe = sys.argv[1]
t = Tap()
TODOS = os.path.join(DATA, "todos.yaml")
m = Mockd(exe, TODOS, "--stateful")


def get(path, **h):
    return m.request("GET", path, headers=h)


def etag_and_last_modified_are_set():
    r = get("/v1/todos/1")
    expect(r.status == 200, r)
    et = r.headers["etag"]
    expect(et.startswith('"') and et.endswith('"') and len(et) == 18, et)
    expect(r.headers["last-modified"] == "Thu, 02 Jan 2025 03:04:05 GMT", r.headers)
    expect(get("/v1/todos/1").headers["etag"] == et, "stable while the item does not change")


def if_none_match_answers_304():
    et = get("/v1/todos/1").headers["etag"]
    for value in (et, "W/" + et, '"nope", ' + et, "*"):
        r = get("/v1/todos/1", **{"If-None-Match": value})
        expect(r.status == 304 and r.body == b"" and r.headers["etag"] == et, (value, r))
    r = get("/v1/todos/1", **{"If-None-Match": '"0000000000000000"'})
    expect(r.status == 200 and r.json()["id"] == 1, r)


def if_modified_since():
    lm = get("/v1/todos/1").headers["last-modified"]
    expect(get("/v1/todos/1", **{"If-Modified-Since": lm}).status == 304)
    expect(get("/v1/todos/1", **{"If-Modified-Since": "Wed, 01 Jan 2025 00:00:00 GMT"}).status
           == 200)
    et = get("/v1/todos/1").headers["etag"]
    r = get("/v1/todos/1", **{"If-None-Match": '"x"', "If-Modified-Since": lm})
    expect(r.status == 200, "If-None-Match wins over If-Modified-Since")
    r = get("/v1/todos/1", **{"If-Modified-Since": "yesterday"})
    expect(r.status == 200 and et == r.headers["etag"], r)


def a_change_changes_the_validators():
    r = get("/v1/todos/1")
    et, lm = r.headers["etag"], r.headers["last-modified"]
    m.request("PATCH", "/v1/todos/1", {"title": "Buy oat milk"})
    r = get("/v1/todos/1", **{"If-None-Match": et})
    expect(r.status == 200 and r.json()["title"] == "Buy oat milk", r)
    expect(r.headers["etag"] != et and r.headers["last-modified"] != lm, r.headers)


def if_match_guards_writes():
    et = get("/v1/todos/1").headers["etag"]
    r = m.request("PATCH", "/v1/todos/1", {"done": True}, {"If-Match": '"stale"'})
    expect(r.status == 412, r)
    r = m.request("PATCH", "/v1/todos/1", {"done": True}, {"If-Match": et})
    expect(r.status == 200 and r.json()["done"] is True, r)
    r = m.request("DELETE", "/v1/todos/1", headers={"If-Match": et})
    expect(r.status == 412, "the PATCH changed the ETag")


def list_keeps_the_specs_cache_control():
    r = get("/v1/todos")
    expect(r.headers["cache-control"] == "private, max-age=0, must-revalidate", r.headers)
    et = r.headers["etag"]
    m.request("POST", "/v1/todos", {"title": "New"})
    r = get("/v1/todos", **{"If-None-Match": et})
    expect(r.status == 200 and r.headers["etag"] != et, r)
    expect(get("/v1/todos", **{"If-None-Match": r.headers["etag"]}).status == 304)


def writes_are_never_304():
    et = get("/v1/todos").headers["etag"]
    r = m.request("POST", "/v1/todos", {"title": "Again"}, {"If-None-Match": et})
    expect(r.status == 201, r)


for name, fn in list(globals().items()):
    if callable(fn) and fn.__module__ == "__main__" and fn.__code__.co_argcount == 0:
        t.check(name.replace("_", " "), fn)
m.stop_clean(t)

# Without --stateful the validators follow the example answers; without declarations, nothing.
s = Mockd(exe, TODOS)


def stateless_answers_have_validators_too():
    r = s.request("GET", "/v1/todos")
    expect("etag" in r.headers, r.headers)
    expect(s.request("GET", "/v1/todos", headers={"If-None-Match": r.headers["etag"]}).status
           == 304)


t.check("stateless answers have validators too", stateless_answers_have_validators_too)
s.stop_clean(t)
p = Mockd(exe, PROMPTS, "--auth", "off")


def undeclared_means_no_caching_headers():
    r = p.request("GET", "/api/v1/prompts/" + P1)
    expect("etag" not in r.headers and "last-modified" not in r.headers, r.headers)
    r = p.request("GET", "/api/v1/prompts/" + P1, headers={"If-None-Match": "*"})
    expect(r.status == 200, r)


t.check("undeclared means no caching headers", undeclared_means_no_caching_headers)
p.stop_clean(t)
t.done()
