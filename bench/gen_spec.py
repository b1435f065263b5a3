#!/usr/bin/env python3
"""Write a synthetic OpenAPI 3.1 document with N operations (default 5000) to stdout.

Each resource has a collection (list, create) and an item path (get, update, delete), a shared
component schema with a $ref, parameters, examples and error responses, so the loader does the
work a real spec of that size asks for. Deterministic: the same N gives the same bytes."""
import json
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
paths, schemas = {}, {}
ops = 0
i = 0
while ops < n:
    name = f"Resource{i}"
    schemas[name] = {
        "type": "object",
        "required": ["id", "name"],
        "properties": {
            "id": {"type": "string", "format": "uuid", "readOnly": True},
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "count": {"type": "integer", "minimum": 0},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "parent": {"$ref": f"#/components/schemas/Resource{max(i - 1, 0)}"} if i else {"type": "null"},
        },
    }
    ref = {"$ref": f"#/components/schemas/{name}"}
    example = {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "name": f"item {i}", "count": i}
    err = {"$ref": "#/components/responses/Error"}
    coll = f"/r{i}"
    item = f"/r{i}/{{id}}"
    paths[coll] = {
        "get": {"operationId": f"list{name}", "parameters": [
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {
                    "schema": {"type": "array", "items": ref}, "example": [example]}}},
                    "400": err}},
        "post": {"operationId": f"create{name}",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
                 "responses": {"201": {"description": "created", "content": {"application/json": {
                     "schema": ref, "example": example}}}, "400": err}},
    }
    paths[item] = {
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "schema": {"type": "string", "format": "uuid"}}],
        "get": {"operationId": f"get{name}", "responses": {"200": {"description": "ok", "content": {
            "application/json": {"schema": ref, "example": example}}}, "404": err}},
        "put": {"operationId": f"update{name}",
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
                "responses": {"200": {"description": "ok"}, "404": err}},
        "delete": {"operationId": f"delete{name}", "responses": {"204": {"description": "gone"}, "404": err}},
    }
    ops += 5
    i += 1
doc = {
    "openapi": "3.1.0",
    "info": {"title": f"Synthetic {n}", "version": "1.0"},
    "paths": paths,
    "components": {
        "schemas": schemas,
        "responses": {"Error": {"description": "error", "content": {"application/problem+json": {
            "schema": {"type": "object", "properties": {"title": {"type": "string"}}}}}}},
    },
}
json.dump(doc, sys.stdout, indent=1)
