#!/usr/bin/env python3
"""The admin API itself: its document, requests checked against it, status, reset, access rules
(loopback only, --admin-token, --admin off). Output is TAP.

usage: test_admin.py MOCKD"""
import json
import sys

from layerslib import P1, PROMPTS, Mockd, Tap, expect, local_ipv4

exe = sys.argv[1]
t = Tap()
m = Mockd(exe, PROMPTS, "--auth", "off")


def document_is_served():
    d = m.ajson("GET", "/openapi.json")
    expect(d["openapi"] == "3.1.0", d.get("openapi"))
    expect("/overrides" in d["paths"] and "/journal/verify" in d["paths"], list(d["paths"]))
    expect(d["servers"][0]["url"] == "/__mockd")


def status_reports_options_and_counters():
    m.request("GET", "/api/v1/prompts")
    s = m.ajson("GET", "/status")
    expect(s["spec"] == "prompt-sphere API", s)
    expect(s["stateful"] is False and s["offline"] is False and s["proxy"] is None, s)
    expect(s["requests"] >= 1 and s["journal"]["capacity"] == 1000, s)


def unknown_admin_path_is_404_with_hint():
    r = m.admin("GET", "/overide")
    expect(r.status == 404 and r.headers["content-type"] == "application/problem+json", r)
    expect("did you mean /__mockd/overrides" in r.json()["detail"], r.json())


def wrong_method_is_405():
    r = m.admin("PATCH", "/overrides")
    expect(r.status == 405, r)


def invalid_body_lists_every_problem():
    r = m.admin("POST", "/overrides", {"operationId": 7, "status": 99, "colour": "red"})
    expect(r.status == 400, r)
    errs = r.json()["errors"]
    expect(len(errs) == 3, errs)
    text = json.dumps(errs)
    expect("colour" in text and "operationId" in text and "status" in text, errs)


def body_that_is_not_json_is_400():
    r = m.admin("POST", "/overrides", "{not json")
    expect(r.status == 400 and "not JSON" in r.json()["detail"], r)


def missing_required_body_is_400():
    r = m.admin("POST", "/journal/verify")
    expect(r.status == 400 and r.json()["errors"][0]["field"] == "body", r)


def bad_query_parameter_is_400():
    r = m.admin("GET", "/journal?limit=lots")
    expect(r.status == 400 and r.json()["errors"][0]["field"] == "query.limit", r)


def curl_style_form_content_type_is_accepted():
    r = m.admin("POST", "/overrides", json.dumps({"operationId": "getPrompt", "status": 404}),
                {"Content-Type": "application/x-www-form-urlencoded"})
    expect(r.status == 201, r)
    m.ajson("DELETE", "/overrides")


def admin_calls_are_not_journaled():
    m.ajson("DELETE", "/journal")
    m.ajson("GET", "/status")
    m.request("GET", "/api/v1/prompts/" + P1)
    j = m.ajson("GET", "/journal")
    expect(j["total"] == 1 and j["entries"][0]["operationId"] == "getPrompt", j)


def reset_clears_every_part():
    m.ajson("POST", "/overrides", {"operationId": "getPrompt", "status": 500}, 201)
    m.ajson("PUT", "/faults", {"latencyMs": 5})
    m.ajson("PUT", "/offline", {"mode": "reset"})
    r = m.ajson("POST", "/reset")
    expect(r["reset"] == ["overrides", "faults", "offline", "journal", "state", "drift"], r)
    expect(m.ajson("GET", "/overrides")["overrides"] == [])
    expect(m.ajson("GET", "/offline")["offline"] is False)
    expect("latency" not in m.ajson("GET", "/faults"))
    expect(m.ajson("GET", "/journal")["total"] == 0)
    expect(m.request("GET", "/api/v1/prompts/" + P1).status == 200)


def reset_with_a_body_picks_parts():
    m.ajson("POST", "/overrides", {"operationId": "getPrompt", "status": 500}, 201)
    m.request("GET", "/api/v1/prompts")
    r = m.ajson("POST", "/reset", {"journal": True})
    expect(r["reset"] == ["journal"], r)
    expect(len(m.ajson("GET", "/overrides")["overrides"]) == 1)
    m.ajson("POST", "/reset")


def state_endpoints_need_stateful():
    r = m.admin("GET", "/state")
    expect(r.status == 409 and "--stateful" in r.json()["detail"], r)


def preflight_is_answered_without_credentials():
    r = m.request("OPTIONS", "/__mockd/overrides",
                  headers={"Origin": "http://localhost:5173",
                           "Access-Control-Request-Method": "POST"})
    expect(r.status == 204, r)
    expect(r.headers.get("access-control-allow-origin") == "http://localhost:5173", r.headers)


def no_admin_answer_broke_the_admin_document():
    expect(not m.drift, m.drift)


for name, fn in list(globals().items()):
    if callable(fn) and fn.__module__ == "__main__" and name[0].islower() and \
            fn.__code__.co_argcount == 0 and name not in ("local_ipv4",):
        t.check(name.replace("_", " "), fn)
m.stop_clean(t)

# --admin-token: required, and then any address may call.
tm = Mockd(exe, PROMPTS, "--auth", "off", "--admin-token", "s3cret-token", "--host", "0.0.0.0")


def token_is_required():
    r = tm.admin("GET", "/status")
    expect(r.status == 401 and "www-authenticate" in r.headers, r)
    r = tm.admin("GET", "/status", headers={"Authorization": "Bearer wrong-token!"})
    expect(r.status == 401 and r.json()["detail"] == "wrong admin token", r)


def token_is_accepted_in_either_header():
    expect(tm.admin("GET", "/status", headers={"Authorization": "Bearer s3cret-token"}).status == 200)
    expect(tm.admin("GET", "/status", headers={"X-Mockd-Admin-Token": "s3cret-token"}).status == 200)


t.check("token is required", token_is_required)
t.check("token is accepted in either header", token_is_accepted_in_either_header)
tm.stop_clean(t)

# Without a token, only loopback clients.
ip = local_ipv4()
if ip:
    lm = Mockd(exe, PROMPTS, "--auth", "off", "--host", "0.0.0.0")

    def other_addresses_get_403():
        import http.client
        c = http.client.HTTPConnection(ip, lm.port, timeout=5)
        c.request("GET", "/__mockd/status")
        r = c.getresponse()
        body = json.loads(r.read())
        expect(r.status == 403 and "loopback" in body["detail"], body)
        c.request("GET", "/api/v1/prompts/" + P1)
        r = c.getresponse()
        r.read()
        expect(r.status == 200, "the mocked API itself stays open")

    t.check("other addresses get 403 without a token", other_addresses_get_403)
    lm.stop_clean(t)
else:
    t.n += 1
    print(f"ok {t.n} - other addresses get 403 without a token # SKIP no non-loopback address")

# --admin off: /__mockd/ is an ordinary path of the spec (404).
om = Mockd(exe, PROMPTS, "--auth", "off", "--admin", "off")
t.check("admin off leaves /__mockd/ to the spec",
        lambda: expect(om.request("GET", "/__mockd/status").status == 404))
om.stop_clean(t)
t.done()
