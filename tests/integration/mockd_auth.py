#!/usr/bin/env python3
"""Integration tests: mockd's JWT simulation on the prompt-sphere contract: login mints real
HS256 tokens, protected operations refuse missing, tampered, foreign, alg:none, expired, wrong-type
and revoked tokens with the contract's 401 body, roles give 403, refresh rotates and refuses reuse,
logout revokes. Output is TAP.

usage: mockd_auth.py MOCKD SPEC"""
import base64
import hashlib
import hmac
import json
import sys
import time

from mocklib import Mockd, Tap, expect

exe, spec = sys.argv[1], sys.argv[2]
SECRET = "integration-test-secret"
t = Tap()
m = Mockd(exe, spec, "--jwt-secret", SECRET, "--token-ttl", "120", "--log-format", "none")
ME = "/api/v1/auth/me"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(claims, secret=SECRET, alg="HS256"):
    head = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    if alg == "none":
        return f"{head}.{body}."
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def claims(**over):
    now = int(time.time())
    c = {"sub": "u1", "email": "a@example.com", "role": "user", "type": "access", "iat": now,
         "exp": now + 60, "jti": "jti-" + str(now) + str(len(over))}
    c.update(over)
    return c


def bearer(tok):
    return {"Authorization": "Bearer " + tok}


def expect_401(r, code=None):
    expect(r.status == 401, r)
    body = r.json()
    expect(body["success"] is False and "message" in body, body)
    if code:
        expect(body["code"] == code, body)
    expect("bearer" in r.headers.get("www-authenticate", "").lower(), r.headers)


state = {}


def login():
    r = m.request("POST", "/api/v1/auth/login",
                  body={"email": "lin@example.com", "password": "Sphere2025!"})
    expect(r.status == 200, r)
    data = r.json()["data"]
    expect(data["accessToken"].count(".") == 2 and data["refreshToken"].count(".") == 2, data)
    expect(data["expiresIn"] == 120, data)
    payload = json.loads(base64.urlsafe_b64decode(data["accessToken"].split(".")[1] + "=="))
    expect(payload["email"] == "lin@example.com" and payload["type"] == "access", payload)
    expect(payload["exp"] - payload["iat"] == 120, payload)
    state.update(data)

t.check("login answers real HS256 tokens with the contract's claims and --token-ttl", login)
t.check("a protected operation without a token answers 401 in the contract's shape",
        lambda: expect_401(m.request("GET", ME)))
t.check("the minted access token opens a protected operation",
        lambda: expect(m.request("GET", ME, headers=bearer(state["accessToken"])).status == 200))


def tampered():
    tok = state["accessToken"]
    head, body, sig = tok.split(".")
    other = json.loads(base64.urlsafe_b64decode(body + "=="))
    other["role"] = "admin"
    expect_401(m.request("GET", ME, headers=bearer(f"{head}.{b64(json.dumps(other).encode())}.{sig}")),
               "TOKEN_INVALID")

t.check("a token whose payload was changed is refused", tampered)
t.check("a token signed with another secret is refused",
        lambda: expect_401(m.request("GET", ME, headers=bearer(make_token(claims(), "other-secret"))),
                           "TOKEN_INVALID"))
t.check("an alg:none token is refused",
        lambda: expect_401(m.request("GET", ME, headers=bearer(make_token(claims(), alg="none")))))
t.check("an expired token is refused with TOKEN_EXPIRED",
        lambda: expect_401(m.request("GET", ME, headers=bearer(make_token(
            claims(exp=int(time.time()) - 5)))), "TOKEN_EXPIRED"))
t.check("a malformed token is refused",
        lambda: expect_401(m.request("GET", ME, headers=bearer("not.a-token"))))
t.check("a refresh token is not accepted as an access token",
        lambda: expect_401(m.request("GET", ME, headers=bearer(state["refreshToken"]))))
t.check("a token minted with the same secret elsewhere is accepted",
        lambda: expect(m.request("GET", ME, headers=bearer(make_token(claims()))).status == 200))


def role_forbidden():
    tok = make_token(claims(role="viewer", jti="viewer-1"))
    r = m.request("POST", "/api/v1/prompts", headers=bearer(tok),
                  body={"title": "x", "content": "y"})
    expect(r.status == 403, r)
    expect(r.json()["code"] == "INSUFFICIENT_ROLE", r)

t.check("a role outside x-required-roles answers 403", role_forbidden)


def admin_login():
    r = m.request("POST", "/api/v1/auth/login", headers={"Prefer": "example=loggedInAdmin"},
                  body={"email": "admin@example.com", "password": "Sphere2025!"})
    expect(r.status == 200, r)
    payload = json.loads(base64.urlsafe_b64decode(r.json()["data"]["accessToken"].split(".")[1] + "=="))
    expect(payload["role"] == "admin", payload)

t.check("the login example chosen with Prefer decides the token's role (admin)", admin_login)


def refresh_rotates():
    old = state["refreshToken"]
    r = m.request("POST", "/api/v1/auth/refresh", body={"refreshToken": old})
    expect(r.status == 200, r)
    data = r.json()["data"]
    expect(data["refreshToken"] != old and data["accessToken"].count(".") == 2, data)
    r2 = m.request("POST", "/api/v1/auth/refresh", body={"refreshToken": old})
    expect_401(r2, "TOKEN_REVOKED")
    state.update(data)

t.check("refresh rotates the refresh token and refuses the reuse of an old one", refresh_rotates)


def logout_revokes():
    tok = state["accessToken"]
    expect(m.request("GET", ME, headers=bearer(tok)).status == 200)
    r = m.request("POST", "/api/v1/auth/logout", headers=bearer(tok),
                  body={"refreshToken": state["refreshToken"]})
    expect(r.status == 200, r)
    expect_401(m.request("GET", ME, headers=bearer(tok)))
    expect_401(m.request("POST", "/api/v1/auth/refresh",
                         body={"refreshToken": state["refreshToken"]}))

t.check("logout revokes the access token and the refresh token", logout_revokes)


def validation_422():
    tok = make_token(claims(jti="v-1"))
    r = m.request("POST", "/api/v1/prompts", headers=bearer(tok), body={"title": ""})
    expect(r.status == 422, r)
    body = r.json()
    expect(body["code"] == "VALIDATION_ERROR", body)
    errs = body["details"]["validationErrors"]
    expect(any(e["field"] == "title" for e in errs), errs)
    expect(any("content" in e["message"] for e in errs), errs)
    expect(body.get("requestId") == r.headers.get("x-request-id"), (body, r.headers))

t.check("an invalid body gets the contract's 422 with details.validationErrors and requestId",
        validation_422)

rc, err = m.stop()
t.check("mockd stops cleanly", lambda: expect(rc == 0, err[-2000:]))
t.done()
