#!/usr/bin/env python3
"""Write the HTTP benchmark's spec and the bodies nginx serves for the same requests.

usage: make_spec.py OUTDIR -> OUTDIR/spec.yaml, OUTDIR/one.json, OUTDIR/list.json, OUTDIR/post.json
(post.json is the ~600-byte request body, created.json what mockd and nginx answer to it)."""
import json
import os
import sys

out = sys.argv[1]
item = {
    "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "title": "Code reviewer",
    "content": "You are a careful senior engineer reviewing a pull request.",
    "tags": ["review", "engineering"],
    "version": 3,
    "createdAt": "2026-01-02T03:04:05Z",
}
items = []
for i in range(100):
    x = dict(item)
    x["id"] = f"3fa85f64-5717-4562-b3fc-{i:012d}"
    x["title"] = f"Prompt {i}"
    items.append(x)
post = {
    "title": "Translator 翻译助手",
    "content": "You translate between English and Chinese. Keep the tone, keep the formatting, "
               "explain idioms in a footnote, never add content that is not in the source text. "
               "若原文有歧义，先列出可能的理解再翻译。" * 2,
    "tags": ["translation", "language", "bilingual"],
    "isPublic": True,
    "category": "writing",
}
schema_item = {
    "type": "object", "additionalProperties": False,
    "required": ["id", "title", "content", "tags", "version", "createdAt"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "title": {"type": "string", "minLength": 1, "maxLength": 100},
        "content": {"type": "string", "maxLength": 20000},
        "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True, "maxItems": 10},
        "version": {"type": "integer", "minimum": 1},
        "createdAt": {"type": "string", "format": "date-time"},
    },
}
schema_new = {
    "type": "object", "additionalProperties": False, "required": ["title", "content"],
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 100},
        "content": {"type": "string", "minLength": 1, "maxLength": 20000},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True},
        "isPublic": {"type": "boolean"},
        "category": {"type": "string", "enum": ["writing", "coding", "analysis"]},
    },
}
spec = {
    "openapi": "3.1.0",
    "info": {"title": "bench", "version": "1"},
    "paths": {
        "/one": {"get": {"operationId": "one", "responses": {"200": {"description": "ok",
                 "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"},
                                                  "example": item}}}}}},
        "/list": {"get": {"operationId": "list", "responses": {"200": {"description": "ok",
                  "content": {"application/json": {"schema": {"type": "array",
                              "items": {"$ref": "#/components/schemas/Item"}}, "example": items}}}}}},
        "/post": {"post": {"operationId": "create",
                  "requestBody": {"required": True, "content": {"application/json": {
                      "schema": {"$ref": "#/components/schemas/New"}}}},
                  "responses": {"201": {"description": "created", "content": {"application/json": {
                      "schema": {"$ref": "#/components/schemas/Item"}, "example": item}}},
                      "400": {"description": "bad"}}}},
    },
    "components": {"schemas": {"Item": schema_item, "New": schema_new}},
}
os.makedirs(out, exist_ok=True)
json.dump(spec, open(os.path.join(out, "spec.json"), "w"))
for name, val in [("one", item), ("list", items), ("created", item), ("post", post)]:
    with open(os.path.join(out, name + ".json"), "w") as f:
        f.write(json.dumps(val, ensure_ascii=False, separators=(",", ":")))
print(len(json.dumps(post, ensure_ascii=False, separators=(",", ":")).encode()), "byte POST body")
