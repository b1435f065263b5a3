#!/usr/bin/env python3
"""Integration tests: mockd serving any OpenAPI spec (tests/data/specs/shop.yaml, an OpenAPI 3.0
description): routing, request validation, examples, generated answers, Prefer, HEAD/OPTIONS,
CORS, request ids, limits. Output is TAP.

usage: mockd_http.py MOCKD SHOP_SPEC"""
import json
import socket
import sys

from mocklib import Mockd, Tap, expect

exe, spec = sys.argv[1], sys.argv[2]
t = Tap()
m = Mockd(exe, spec, "--max-body", "2048", "--max-header", "4096")
B = "/v2"
TRACE = {"X-Trace": "0badf00d"}


def routing_literal_before_template():
    r = m.request("GET", B + "/items/recent")
    expect(r.status == 200, r)
    expect("generatedAt" in r.json(), r)

t.check("a literal segment wins over a template (/items/recent is not /items/{id})",
        routing_literal_before_template)


def server_base_path_required():
    r = m.request("GET", "/items/1")
    expect(r.status == 404, r)
    expect(r.headers["content-type"] == "application/problem+json", r)
    expect("did you mean /v2" in r.json()["detail"], r)

t.check("paths outside the server base path answer 404 with a hint", server_base_path_required)


def unknown_method_405():
    r = m.request("PUT", B + "/items/1")
    expect(r.status == 405, r)
    allow = r.headers.get("allow", "")
    expect("GET" in allow and "DELETE" in allow and "HEAD" in allow, allow)

t.check("a known path with a wrong method answers 405 with Allow", unknown_method_405)


def example_served():
    r = m.request("GET", B + "/items", headers=TRACE)
    expect(r.status == 200, r)
    expect(r.json()[0]["name"] == "Lamp", r)
    expect(r.headers.get("x-total-count") == "2", r.headers)

t.check("the first example of the first 2xx response is served, with declared headers",
        example_served)


def prefer_example():
    r = m.request("GET", B + "/items", headers={**TRACE, "Prefer": "example=empty"})
    expect(r.status == 200 and r.json() == [], r)

t.check("Prefer: example=NAME picks a named example", prefer_example)


def prefer_code():
    r = m.request("GET", B + "/items/5", headers={"Prefer": "code=404"})
    expect(r.status == 404, r)
    expect(r.json() == {"code": "BAD", "message": "bad request"}, r)
    r = m.request("GET", B + "/items/5", headers={"Prefer": "code=418"})
    expect(r.status == 400, r)

t.check("Prefer: code=N answers another documented status; undocumented ones are refused",
        prefer_code)


def invalid_example_not_served():
    r = m.request("GET", B + "/items/1")
    expect(r.status == 200, r)
    body = r.json()
    expect("secret" not in body, body)
    expect(isinstance(body["id"], int) and body["price"] > 0, body)

t.check("an example with a writeOnly field is not served; a generated body without it is",
        invalid_example_not_served)


def accept_text():
    r = m.request("GET", B + "/items/1", headers={"Accept": "text/plain"})
    expect(r.status == 200 and r.body == b"Lamp (12.50)", r)
    expect(r.headers["content-type"].startswith("text/plain"), r)
    r = m.request("GET", B + "/items/1", headers={"Accept": "image/png"})
    expect(r.status == 406, r)

t.check("Accept chooses among the response's media types (406 when none fits)", accept_text)


def dynamic_generation():
    r1 = m.request("GET", B + "/items/recent", headers={"Prefer": "dynamic=true"})
    r2 = m.request("GET", B + "/items/recent", headers={"Prefer": "dynamic=true"})
    expect(r1.status == 200 and r2.status == 200, (r1, r2))
    expect(len(r1.json()["items"]) >= 1, r1)

t.check("Prefer: dynamic=true generates a fresh body", dynamic_generation)


def query_validation():
    r = m.request("GET", B + "/items?page=0&tags=red,purple&filter[minPrice]=x", headers=TRACE)
    expect(r.status == 400, r)
    body = r.json()
    fields = sorted(e["field"] for e in body["errors"])
    expect(body["code"] == "BAD_REQUEST", body)
    expect("query.page" in fields and any(f.startswith("query.tags") for f in fields)
           and any(f.startswith("query.filter") for f in fields), fields)

t.check("query parameters are decoded per style and validated; the contract's 400 shape "
        "carries every error", query_validation)


def header_validation():
    r = m.request("GET", B + "/items")
    expect(r.status == 400, r)
    expect(any(e["field"] == "header.X-Trace" for e in r.json()["errors"]), r)
    r = m.request("GET", B + "/items", headers={"X-Trace": "nothex!!"})
    expect(r.status == 400, r)

t.check("a required header parameter is checked for presence and pattern", header_validation)


def path_validation():
    r = m.request("GET", B + "/items/abc")
    expect(r.status == 404 or r.status == 400, r)
    r = m.request("GET", B + "/items/0")
    expect(r.status in (400, 404), r)

t.check("path parameters are typed (abc is not an integer, 0 is below the minimum)",
        path_validation)


def auth_api_key():
    item = {"name": "Chair", "price": 19.99}
    r = m.request("POST", B + "/items", body=item)
    expect(r.status == 401, r)
    r = m.request("POST", B + "/items", body=item, headers={"X-Api-Key": "k"})
    expect(r.status == 201, r)

t.check("an apiKey security scheme is checked for presence", auth_api_key)


def body_validation():
    bad = {"id": 7, "name": "", "price": 0, "extra": 1}
    r = m.request("POST", B + "/items", body=bad, headers={"X-Api-Key": "k"})
    expect(r.status == 400, r)
    msgs = {e["field"]: e["message"] for e in r.json()["errors"]}
    expect("id" in msgs, msgs)  # readOnly in a request
    expect("name" in msgs and "price" in msgs, msgs)

t.check("JSON bodies are validated: readOnly refused in requests, lengths, exclusive bounds, "
        "additionalProperties", body_validation)


def body_not_json():
    r = m.request("POST", B + "/items", body="{nope", headers={"X-Api-Key": "k",
                                                                "Content-Type": "application/json"})
    expect(r.status == 400, r)
    expect("not valid JSON" in r.body.decode(), r)

t.check("a body that is not JSON gets a located 400", body_not_json)


def wrong_content_type():
    r = m.request("POST", B + "/items", body="x", headers={"X-Api-Key": "k",
                                                           "Content-Type": "text/csv"})
    expect(r.status == 415, r)

t.check("an undeclared Content-Type is refused with 415", wrong_content_type)


def form_body():
    r = m.request("POST", B + "/items", body="name=Desk&price=80.5&tags=a&tags=b",
                  headers={"X-Api-Key": "k", "Content-Type": "application/x-www-form-urlencoded"})
    expect(r.status == 201, r)
    r = m.request("POST", B + "/items", body="name=Desk&price=free",
                  headers={"X-Api-Key": "k", "Content-Type": "application/x-www-form-urlencoded"})
    expect(r.status == 400, r)

t.check("form-urlencoded bodies are decoded with types from the schema and validated", form_body)


def multipart_body():
    b = "XyZ"
    ok = (f"--{b}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nimage\r\n"
          f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
          f"Content-Type: image/png\r\n\r\n\x89PNG\r\n--{b}--\r\n")
    r = m.request("POST", B + "/uploads", body=ok,
                  headers={"Content-Type": f"multipart/form-data; boundary={b}"})
    expect(r.status == 200, r)
    bad = f"--{b}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nvideo\r\n--{b}--\r\n"
    r = m.request("POST", B + "/uploads", body=bad,
                  headers={"Content-Type": f"multipart/form-data; boundary={b}"})
    expect(r.status == 400, r)
    fields = [e["field"] for e in r.json()["errors"]]
    expect("kind" in fields and "body" in fields, fields)

t.check("multipart parts are validated one by one (enum, required parts)", multipart_body)


def head_and_options():
    r = m.request("HEAD", B + "/items/recent")
    expect(r.status == 200 and r.body == b"", r)
    r = m.request("OPTIONS", B + "/items/1")
    expect(r.status == 204 and "DELETE" in r.headers.get("allow", ""), r)

t.check("HEAD is answered like GET without a body; OPTIONS lists the allowed methods",
        head_and_options)


def cors_preflight():
    r = m.request("OPTIONS", B + "/items", headers={
        "Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-api-key"})
    expect(r.status == 204, r)
    expect(r.headers.get("access-control-allow-origin") == "http://localhost:5173", r.headers)
    expect("POST" in r.headers.get("access-control-allow-methods", ""), r.headers)
    expect("x-api-key" in r.headers.get("access-control-allow-headers", ""), r.headers)
    r = m.request("GET", B + "/items/recent", headers={"Origin": "http://localhost:5173"})
    expect("X-Request-ID" in r.headers.get("access-control-expose-headers", ""), r.headers)

t.check("CORS: preflight answered, origin echoed, headers exposed", cors_preflight)


def request_id():
    r = m.request("GET", B + "/items/recent", headers={"X-Request-ID": "abc-123"})
    expect(r.headers.get("x-request-id") == "abc-123", r.headers)
    r = m.request("GET", B + "/items/recent")
    expect(len(r.headers.get("x-request-id", "")) == 36, r.headers)

t.check("X-Request-ID is echoed, or generated as a UUID", request_id)


def body_limit():
    r = m.request("POST", B + "/items", body="x" * 5000,
                  headers={"X-Api-Key": "k", "Content-Type": "application/json"})
    expect(r.status == 413, r)

t.check("a body over --max-body answers 413", body_limit)


def header_limit():
    s = socket.create_connection(("127.0.0.1", m.port), timeout=10)
    s.sendall(b"GET /v2/items/recent HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n")
    data = s.recv(200)
    s.close()
    expect(data.startswith(b"HTTP/1.1 431") or data.startswith(b"HTTP/1.1 413"), data)

t.check("a request head over --max-header is refused (431)", header_limit)


def keep_alive_pipelining():
    s = socket.create_connection(("127.0.0.1", m.port), timeout=10)
    req = b"GET /v2/items/recent HTTP/1.1\r\nHost: x\r\n\r\n"
    s.sendall(req * 3)
    data = b""
    while data.count(b"HTTP/1.1 200") < 3:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    expect(data.count(b"HTTP/1.1 200") == 3, data[:200])

t.check("three pipelined requests on one connection get three answers", keep_alive_pipelining)

rc, err = m.stop()
t.check("mockd stops cleanly on SIGTERM", lambda: expect(rc == 0, err[-2000:]))
t.done()
