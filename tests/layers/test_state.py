#!/usr/bin/env python3
"""--stateful: resources inferred from the spec, seeded from its examples; create, read, update
(merge patch, optimistic versions), replace, delete; list filters, search, sorting and paging on
the contract's own parameters; sessions; reset, dump and load, --state-file. Output is TAP.

usage: test_state.py MOCKD"""
import json
import os
import sys
import tempfile

from layerslib import DATA, P1, PROMPTS, Mockd, Tap, expect

exe = sys.argv[1]
t = Tap()
m = Mockd(exe, PROMPTS, "--auth", "off", "--stateful")
P = "/api/v1/prompts"
P2 = "a4e1c8d2-6f3b-4a7e-9d05-8b2c1e6f7a90"
NEW = {"title": "Hello", "content": "Be brief.", "category": "coding", "tags": ["greeting"],
       "isPublic": True}
warnings = []


def req(method, path, body=None, headers=None):
    r = m.request(method, path, body, headers)
    if "x-mockd-state-warning" in r.headers:
        warnings.append(f"{method} {path}: {r.headers['x-mockd-state-warning']}")
    return r


def listing(query="", headers=None):
    r = req("GET", P + query, headers=headers)
    expect(r.status == 200, r)
    d = r.json()["data"]
    return d["data"], d["meta"]


def resources_are_inferred():
    res = {r["collection"]: r for r in m.ajson("GET", "/state/resources")["resources"]}
    p = res["/api/v1/prompts"]
    expect(p["item"] == "/api/v1/prompts/{promptId}" and p["idField"] == "id", p)
    expect(p["idKind"] == "uuid" and p["itemPointer"] == "/data", p)
    expect(p["listPointer"] == "/data/data" and p["seeded"] == 2, p)
    expect(p["operations"] == {"list": "listPrompts", "create": "createPrompt",
                               "read": "getPrompt", "update": "updatePrompt",
                               "replace": "replacePrompt", "delete": "deletePrompt"}, p)
    v = res["/api/v1/prompts/{promptId}/versions"]
    expect(v["idField"] == "version" and v["idKind"] == "integer", v)
    expect("/api/v1/auth/login" not in res and "/health/" not in res, list(res))


def list_is_seeded_from_the_examples():
    items, meta = listing()
    expect(meta == {"page": 1, "limit": 20, "total": 2, "pages": 1}, meta)
    expect({i["id"] for i in items} == {P1, P2}, items)


def create_then_read():
    r = req("POST", P, NEW)
    expect(r.status == 201, r)
    item = r.json()["data"]
    expect(item["title"] == "Hello" and item["version"] == 1 and item["id"] not in (P1, P2), item)
    expect(item["createdAt"] == item["updatedAt"] and item["createdAt"].startswith("20"), item)
    expect("description" not in item, "an optional field the client did not send stays out")
    expect(r.headers["location"] == P + "/" + item["id"], r.headers)
    g = req("GET", P + "/" + item["id"])
    expect(g.status == 200 and g.json()["data"] == item, g)
    items, meta = listing()
    expect(meta["total"] == 3 and items[0]["id"] == item["id"], "newest first (sortBy default)")
    req("DELETE", P + "/" + item["id"])


def the_journal_says_the_state_answered():
    m.ajson("DELETE", "/journal")
    req("GET", P + "/" + P1)
    e = m.ajson("GET", "/journal")["entries"][0]
    expect(e["source"] == "state", e)


def patch_merges_and_bumps_the_version():
    item = req("POST", P, NEW).json()["data"]
    r = req("PATCH", P + "/" + item["id"], {"title": "Hello again", "version": 1})
    expect(r.status == 200, r)
    u = r.json()["data"]
    expect(u["title"] == "Hello again" and u["content"] == "Be brief." and u["version"] == 2, u)
    expect(u["createdAt"] == item["createdAt"] and u["id"] == item["id"], u)
    r = req("PATCH", P + "/" + item["id"], {"isPublic": False})
    expect(r.json()["data"]["version"] == 3 and r.json()["data"]["isPublic"] is False, r)
    req("DELETE", P + "/" + item["id"])


def stale_version_is_a_409_with_the_current_one():
    item = req("POST", P, NEW).json()["data"]
    req("PATCH", P + "/" + item["id"], {"title": "Second", "version": 1})
    r = req("PATCH", P + "/" + item["id"], {"title": "Lost update", "version": 1})
    expect(r.status == 409, r)
    b = r.json()
    expect(b["code"] == "VERSION_CONFLICT" and b["details"]["currentVersion"] == 2, b)
    expect(req("GET", P + "/" + item["id"]).json()["data"]["title"] == "Second", "not applied")
    r = req("DELETE", P + "/" + item["id"] + "?version=1")
    expect(r.status == 409, r)
    expect(req("DELETE", P + "/" + item["id"] + "?version=2").status == 200)


def put_replaces_the_editable_fields():
    item = req("POST", P, NEW).json()["data"]
    body = dict(NEW, title="Replaced", tags=["x", "y"], version=1)
    r = req("PUT", P + "/" + item["id"], body)
    expect(r.status == 200, r)
    u = r.json()["data"]
    expect(u["title"] == "Replaced" and u["tags"] == ["x", "y"] and u["version"] == 2, u)
    req("DELETE", P + "/" + item["id"])


def delete_then_404_in_the_contracts_shape():
    item = req("POST", P, NEW).json()["data"]
    r = req("DELETE", P + "/" + item["id"])
    expect(r.status == 200 and r.json()["success"] is True, r)
    r = req("GET", P + "/" + item["id"])
    expect(r.status == 404, r)
    b = r.json()
    expect(b["code"] == "NOT_FOUND" and b["details"]["path"] == P + "/" + item["id"], b)
    expect(req("DELETE", P + "/" + item["id"]).status == 404)
    expect(req("PATCH", P + "/" + item["id"], {"title": "x"}).status == 404)


def filters_on_the_contracts_parameters():
    a = req("POST", P, dict(NEW, title="Alpha", category="writing", tags=["客服", "x"],
                            isPublic=False)).json()["data"]
    items, meta = listing("?category=writing")
    expect(meta["total"] == 1 and items[0]["id"] == a["id"], items)
    items, _ = listing("?isPublic=false")
    expect({i["id"] for i in items} == {a["id"], P2}, [i["title"] for i in items])
    items, _ = listing("?tags=%E5%AE%A2%E6%9C%8D")  # tags=客服: both prompts carrying it
    expect({i["id"] for i in items} == {a["id"], P1}, [i["title"] for i in items])
    items, _ = listing("?tags=%E5%AE%A2%E6%9C%8D&tags=x")
    expect([i["id"] for i in items] == [a["id"]], [i["title"] for i in items])
    items, _ = listing("?query=review")  # text search, case-insensitive
    expect([i["id"] for i in items] == [P2], [i["title"] for i in items])
    req("DELETE", P + "/" + a["id"])


def paging_and_sorting():
    made = [req("POST", P, dict(NEW, title=f"T{i}")).json()["data"]["id"] for i in range(5)]
    items, meta = listing("?limit=2&page=2")
    expect(meta == {"page": 2, "limit": 2, "total": 7, "pages": 4} and len(items) == 2, meta)
    items, meta = listing("?limit=3&offset=6")
    expect(meta["page"] == 3 and len(items) == 1, (meta, len(items)))
    items, _ = listing("?sortBy=createdAt&sortOrder=asc&limit=100")
    stamps = [i["createdAt"] for i in items]
    expect(stamps == sorted(stamps), stamps)
    items, meta = listing("?page=9")
    expect(items == [] and meta["total"] == 7, meta)
    for i in made:
        req("DELETE", P + "/" + i)


def sessions_keep_separate_state():
    alice = {"X-Mockd-Session": "alice"}
    a = req("POST", P, dict(NEW, title="Alice's"), alice).json()["data"]
    _, meta = listing()
    expect(meta["total"] == 2, "not in the global state")
    _, meta = listing(headers={"X-Mockd-Session": "bob"})
    expect(meta["total"] == 2, "not in bob's")
    items, meta = listing(headers=alice)
    expect(meta["total"] == 3 and items[0]["id"] == a["id"], "in alice's")


def reset_seeds_again():
    req("POST", P, NEW)
    expect(listing()[1]["total"] == 3)
    expect(m.ajson("DELETE", "/state") == {"reset": ["state"]})
    expect(listing()[1]["total"] == 2)
    req("POST", P, NEW)
    m.ajson("POST", "/reset", {"state": True})
    expect(listing()[1]["total"] == 2)


def dump_and_load():
    d = m.ajson("GET", "/state")
    keys = [c["key"] for c in d["collections"]]
    expect("/api/v1/prompts" in keys and "/api/v1/categories" in keys, keys)
    one = next(c for c in d["collections"] if c["key"] == "/api/v1/prompts")["items"][0]
    r = m.ajson("PUT", "/state", {"collections": [{"key": "/api/v1/prompts", "items": [one]}]})
    expect(r == {"collections": 1, "items": 1}, r)
    items, meta = listing()
    expect(meta["total"] == 1 and items[0] == one, items)
    r = m.admin("PUT", "/state", {"collections": [{"key": "/api/v1/nothing", "items": []}]})
    expect(r.status == 400 and "no resource" in r.json()["detail"], r)
    r = m.admin("PUT", "/state", {"collections": [{"key": "/api/v1/prompts", "items": [{"x": 1}]}]})
    expect(r.status == 400 and "'id'" in r.json()["detail"], r)
    m.ajson("DELETE", "/state")


def nested_collections_are_keyed_by_their_parent():
    r = req("GET", P + "/" + P1 + "/versions")
    expect(r.status == 200 and r.json()["data"]["meta"]["total"] >= 1, r)
    v = r.json()["data"]["data"][0]["version"]
    expect(req("GET", f"{P}/{P1}/versions/{v}").status == 200)
    expect(req("GET", f"{P}/{P1}/versions/999").status == 404)


def prefer_still_reaches_the_spec():
    r = req("GET", P + "/" + P1, headers={"Prefer": "example=english"})
    expect(r.status == 200 and r.json()["data"]["title"].startswith("Code Review"), r)


def other_operations_keep_their_examples():
    r = req("GET", "/api/v1/prompts/popular")
    expect(r.status == 200, r)
    expect(m.ajson("GET", "/journal?operationId=listPopularPrompts")["entries"][-1]["source"]
           != "state")


def overrides_win_over_state():
    m.ajson("POST", "/overrides", {"operationId": "getPrompt", "status": 503, "times": 1}, 201)
    expect(req("GET", P + "/" + P1).status == 503)
    expect(req("GET", P + "/" + P1).status == 200)


for name, fn in list(globals().items()):
    if callable(fn) and fn.__module__ == "__main__" and fn.__code__.co_argcount == 0:
        t.check(name.replace("_", " "), fn)
t.check("every stored answer matched the contract", lambda: expect(not warnings, warnings))
t.check("no admin answer broke the admin document", lambda: expect(not m.drift, m.drift))
m.stop_clean(t)

# A plain REST spec: integer ids, bare items, offset paging, X-Total-Count, 204, write-only.
TODOS = os.path.join(DATA, "todos.yaml")
d = Mockd(exe, TODOS, "--stateful")


def integer_ids_and_bare_items():
    r = d.request("POST", "/v1/todos", {"title": "Third", "secret": "s3"})
    expect(r.status == 201, r)
    b = r.json()
    expect(b["id"] == 3 and b["done"] is False and "secret" not in b, b)
    expect(r.headers["location"] == "/v1/todos/3" and "x-mockd-state-warning" not in r.headers, r)
    r = d.request("GET", "/v1/todos?limit=2&offset=1")
    expect([i["id"] for i in r.json()] == [2, 3] and r.headers["x-total-count"] == "3", r)
    r = d.request("GET", "/v1/todos?done=true")
    expect([i["id"] for i in r.json()] == [2], r)
    r = d.request("GET", "/v1/todos?q=MILK")
    expect([i["id"] for i in r.json()] == [1], r)


def merge_patch_removes_with_null():
    d.request("PATCH", "/v1/todos/1", {"note": "skimmed"})
    r = d.request("PATCH", "/v1/todos/1", '{"note": null, "done": true}',
                  {"Content-Type": "application/merge-patch+json"})
    b = r.json()
    expect(r.status == 200 and b["done"] is True and "note" not in b, b)


def delete_answers_204():
    r = d.request("DELETE", "/v1/todos/2")
    expect(r.status == 204 and r.body == b"", r)
    r = d.request("GET", "/v1/todos/2")
    expect(r.status == 404 and r.json() == {"error": "not found"}, r)


def non_crud_operations_are_untouched():
    r = d.request("GET", "/v1/stats")
    expect(r.json() == {"count": 2}, r)


t.check("integer ids and bare items", integer_ids_and_bare_items)
t.check("merge patch removes with null", merge_patch_removes_with_null)
t.check("delete answers 204", delete_answers_204)
t.check("non-CRUD operations are untouched", non_crud_operations_are_untouched)
d.stop_clean(t)

# --state-file: loaded at start, saved at exit and on demand.
with tempfile.TemporaryDirectory() as tmp:
    sf = os.path.join(tmp, "state.json")
    s1 = Mockd(exe, TODOS, "--stateful", "--state-file", sf)
    s1.request("POST", "/v1/todos", {"title": "Persisted"})

    def save_on_demand():
        r = s1.ajson("POST", "/state/save")
        expect(r == {"file": sf} and os.path.exists(sf), r)
        with open(sf, encoding="utf-8") as f:
            saved = json.load(f)
        titles = [i["title"] for c in saved["collections"] for i in c["items"]]
        expect("Persisted" in titles, titles)

    t.check("save on demand", save_on_demand)
    s1.request("POST", "/v1/todos", {"title": "At exit"})
    s1.stop_clean(t, "mockd with --state-file")
    s2 = Mockd(exe, TODOS, "--stateful", "--state-file", sf)

    def loaded_at_start():
        titles = [i["title"] for i in s2.request("GET", "/v1/todos?limit=50").json()]
        expect("Persisted" in titles and "At exit" in titles, titles)

    t.check("loaded at start", loaded_at_start)
    s2.stop_clean(t, "the second mockd")

    def a_broken_state_file_is_reported():
        import subprocess
        with open(sf, "w", encoding="utf-8") as f:
            f.write('{"collections": [{"key": "/nope", "items": []}]}')
        p = subprocess.run([exe, "--stateful", "--state-file", sf, "--check", TODOS],
                           capture_output=True, text=True, timeout=20)
        expect(p.returncode == 2 and "no resource of the spec has the key '/nope'" in p.stderr,
               (p.returncode, p.stderr))

    t.check("a broken state file is reported", a_broken_state_file_is_reported)

n = Mockd(exe, TODOS)
t.check("without --stateful nothing is stored",
        lambda: (n.request("POST", "/v1/todos", {"title": "x"}),
                 expect(len(n.request("GET", "/v1/todos").json()) == 2)))
n.stop_clean(t)
t.done()
