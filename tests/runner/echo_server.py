#!/usr/bin/env python3
"""A tiny HTTP and WebSocket server for runner's executor tests (tests/data/scenarios/exec/_api.yaml
and _async.yaml describe it).

Prints "listening on http://127.0.0.1:PORT" on stdout, serves until killed. Stateful on purpose
(items, a poll counter) so that captures and polling can be tested; one bad route answers outside
the contract so contract failures can be tested."""
import base64
import hashlib
import http.server
import json
import struct
import socket
import socketserver
import threading
import time
import urllib.parse

items = {}
lock = threading.Lock()
# Ids are never reused: with len(items) + 1, a scenario running in parallel could create an
# item under the id another had just deleted, and that one's "gone" check then saw 200.
next_id = [0]
counter = {"n": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every answer on a kept-alive connection.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, status, body=None, ctype="application/json", headers=None):
        data = b""
        if body is not None:
            data = body if isinstance(body, bytes) else (
                json.dumps(body, ensure_ascii=False).encode() if ctype.endswith("json") else body.encode())
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def route(self, method):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        p = u.path
        if p == "/items" and method == "GET":
            with lock:
                lst = list(items.values())
            tag = q.get("tag", [None])[0]
            if tag:
                lst = [i for i in lst if tag in i["tags"]]
            return self.send(200, {"items": lst, "count": len(lst)}, headers={"X-Total-Count": str(len(lst))})
        if p == "/items" and method == "POST":
            try:
                b = json.loads(self.body() or b"null")
            except ValueError:
                return self.send(400, {"error": "bad json"})
            if not isinstance(b, dict) or not isinstance(b.get("name"), str):
                return self.send(422, {"error": "name is required"})
            with lock:
                next_id[0] += 1
                iid = "it-%d" % next_id[0]
                item = {"id": iid, "name": b["name"], "tags": b.get("tags", []), "price": b.get("price", 0)}
                items[iid] = item
            return self.send(201, item, headers={"Location": "/items/" + iid})
        if p.startswith("/items/") and method in ("GET", "DELETE"):
            iid = urllib.parse.unquote(p[len("/items/"):])
            with lock:
                item = items.get(iid)
                if item and method == "DELETE":
                    del items[iid]
            if not item:
                return self.send(404, {"error": "no such item"})
            return self.send(200, item) if method == "GET" else self.send(204)
        if p == "/form" and method == "POST":
            f = urllib.parse.parse_qs(self.body().decode())
            return self.send(200, {"fields": {k: v if len(v) > 1 else v[0] for k, v in f.items()},
                                   "contentType": self.headers.get("Content-Type")})
        if p == "/upload" and method == "POST":
            ct = self.headers.get("Content-Type", "")
            raw = self.body()
            boundary = ct.split("boundary=")[-1].encode()
            parts = []
            for chunk in raw.split(b"--" + boundary):
                if b"\r\n\r\n" not in chunk:
                    continue
                head, data = chunk.split(b"\r\n\r\n", 1)
                head = head.decode(errors="replace")
                name = head.split('name="')[1].split('"')[0] if 'name="' in head else ""
                fn = head.split('filename="')[1].split('"')[0] if 'filename="' in head else None
                ptype = None
                for line in head.split("\r\n"):
                    if line.lower().startswith("content-type:"):
                        ptype = line.split(":", 1)[1].strip()
                parts.append({"name": name, "filename": fn, "type": ptype, "size": len(data.rstrip(b"\r\n"))})
            return self.send(200, {"parts": parts})
        if p == "/raw" and method == "POST":
            return self.send(200, self.body().decode(), ctype="text/plain")
        if p == "/counter" and method == "GET":
            with lock:
                counter["n"] += 1
                n = counter["n"]
            return self.send(200, {"n": n})
        if p == "/counter" and method == "DELETE":
            with lock:
                counter["n"] = 0
            return self.send(204)
        if p == "/headers" and method == "GET":
            # http.server decodes header bytes as Latin-1; give back the UTF-8 the client sent.
            return self.send(200, {k.lower(): v.encode("latin-1").decode("utf-8", "replace")
                                   for k, v in self.headers.items()})
        if p == "/slow" and method == "GET":
            time.sleep(int(q.get("ms", ["100"])[0]) / 1000.0)
            return self.send(200, {"slept": True})
        if p == "/stream" and method == "GET":
            events = [{"delta": "你好，"}, {"delta": "world"}, {"delta": "!"}]
            text = "".join("data: %s\n\n" % json.dumps(e, ensure_ascii=False) for e in events) + "data: [END]\n\n"
            return self.send(200, text, ctype="text/event-stream")
        if p == "/bad" and method == "GET":
            return self.send(200, {"id": 42, "name": None, "extra": True})
        if p.startswith("/status/") and method == "GET":
            code = int(p[len("/status/"):])
            return self.send(code, {"status": code})
        return self.send(404, {"error": "no route"})

    def do_GET(self):
        if self.path.startswith("/ws/") and self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket()
        self.route("GET")

    # --- WebSocket (RFC 6455, just enough for the tests) ---------------------------------------

    def ws_send(self, opcode, payload):
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([n])
        elif n < 65536:
            head += bytes([126]) + struct.pack("!H", n)
        else:
            head += bytes([127]) + struct.pack("!Q", n)
        self.wfile.write(head + payload)
        self.wfile.flush()

    def ws_json(self, obj):
        self.ws_send(1, json.dumps(obj, ensure_ascii=False).encode())

    def ws_close(self, code):
        self.ws_send(8, struct.pack("!H", code))

    def ws_recv(self):
        """One whole message: (opcode, payload), or (None, None) at the end."""
        data, first_op = b"", None
        while True:
            h = self.rfile.read(2)
            if len(h) < 2:
                return None, None
            fin, op, n = h[0] & 0x80, h[0] & 0x0F, h[1] & 0x7F
            if n == 126:
                n = struct.unpack("!H", self.rfile.read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self.rfile.read(8))[0]
            mask = self.rfile.read(4) if h[1] & 0x80 else b"\0\0\0\0"
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(n)))
            if op >= 8:
                if op == 9:
                    self.ws_send(10, payload)
                    continue
                return op, payload
            first_op = first_op if op == 0 else op
            data += payload
            if fin:
                return first_op, data

    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                               .encode()).digest()).decode()
        self.wfile.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % accept).encode())
        self.wfile.flush()
        self.close_connection = True
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        token = q.get("token", [""])[0]
        if token != "good-token":
            return self.ws_close(4001)
        self.ws_json({"type": "system", "data": {"event": "welcome", "sessionId": "s-1",
                                                  "trace": self.headers.get("X-Trace", "")}})
        while True:
            op, payload = self.ws_recv()
            if op is None:
                return
            if op == 8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1000
                return self.ws_close(code)
            if op == 2:
                return self.ws_close(1003)
            try:
                msg = json.loads(payload.decode())
            except ValueError:
                self.ws_json({"type": "error", "data": {"code": "INVALID_MESSAGE", "message": "not JSON"}})
                continue
            kind, data = msg.get("type"), msg.get("data") or {}
            if kind == "ping":
                self.ws_json({"type": "pong", "data": {"timestamp": 2, "echo": data.get("timestamp", 0)}})
            elif kind == "user_message":
                mid, text = data.get("messageId", "?"), data.get("content", "")
                self.ws_json({"type": "typing_start", "data": {"replyTo": mid}})
                parts = [text[:2], text[2:4], text[4:]]
                for i, part in enumerate(parts):
                    self.ws_json({"type": "chunk", "data": {"replyTo": mid, "index": i, "delta": part,
                                                            "final": i == len(parts) - 1}})
                # The complete answer before typing_stop: clients must accept either order.
                self.ws_json({"type": "answer", "data": {"replyTo": mid, "message": text}})
                self.ws_json({"type": "typing_stop", "data": {"replyTo": mid}})
            elif kind == "bye":
                return self.ws_close(4000)
            elif kind == "bad":
                self.ws_json({"type": "answer", "data": {"replyTo": 42}})
            else:
                self.ws_json({"type": "error", "data": {"code": "INVALID_MESSAGE", "message": "unknown type"}})

    def do_POST(self):
        self.route("POST")

    def do_DELETE(self):
        self.route("DELETE")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    srv = Server(("127.0.0.1", 0), Handler)
    print("listening on http://127.0.0.1:%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
