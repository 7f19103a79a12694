#!/usr/bin/env python3
"""A fake OpenAI-compatible chat-completions endpoint for tests/t-respond.sh.

Usage: modelrecv.py DIR
Listens on 127.0.0.1, an ephemeral port written to DIR/port.  Appends one
JSON line per request to DIR/requests: {"path", "authorization" (null when
absent), "body" (the parsed request, or the raw text)}.  How it answers is
read from DIR/mode before each request, so a test can change it between
runs:

  ok            200, a completion whose content echoes the user message
  500           500 with an OpenAI-style error body
  401           401 (a permanent error)
  429           429 with Retry-After: 1
  hang          sleep 30 s before answering (longer than the test's timeout)
  garbage       200, a body that is not JSON
  empty         200, a completion with empty content
  nocontent     200, JSON without choices
  long N        200, a completion whose content is N bytes
  huge          200, a 4 MiB body, streamed
  fail N CODE   CODE for the first N requests after the mode was written
                (Retry-After: 1 with 429), then as ok

Stops by itself after 300 s so a broken test never leaves it running.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

d = sys.argv[1]
lock = threading.Lock()
state = {"mode": None, "seen": 0}


def mode():
    try:
        with open(os.path.join(d, "mode")) as f:
            m = f.read().strip()
    except OSError:
        m = "ok"
    with lock:
        if m != state["mode"]:
            state["mode"], state["seen"] = m, 0
        state["seen"] += 1
        return m.split(), state["seen"]


def completion(content):
    return {"id": "chatcmpl-test", "object": "chat.completion",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def send(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        try:
            req = json.loads(raw)
        except ValueError:
            req = raw
        with lock, open(os.path.join(d, "requests"), "a") as f:
            f.write(json.dumps({"path": self.path,
                                "authorization": self.headers.get("Authorization"),
                                "body": req}) + "\n")
        words, seen = mode()
        m = words[0] if words else "ok"
        if m == "fail":
            if seen <= int(words[1]):
                m = words[2]
            else:
                m = "ok"
        if m == "ok":
            user = ""
            try:
                user = [x["content"] for x in req["messages"] if x["role"] == "user"][0]
            except (KeyError, IndexError, TypeError):
                pass
            self.send(200, completion("  Thank you for your feedback.\n> " +
                                      user.replace("\n", " | ") + "\n"))
        elif m in ("500", "401"):
            self.send(int(m), {"error": {"message": "fake " + m, "type": "test"}})
        elif m == "429":
            self.send(429, {"error": {"message": "slow down"}}, [("Retry-After", "1")])
        elif m == "hang":
            time.sleep(30)
            self.send(200, completion("too late"))
        elif m == "garbage":
            self.send(200, b"<html>this is not json</html>")
        elif m == "empty":
            self.send(200, completion("   "))
        elif m == "nocontent":
            self.send(200, {"choices": []})
        elif m == "long":
            self.send(200, completion("x" * int(words[1])))
        elif m == "huge":
            size = 4 * 1024 * 1024
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(size // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:
                pass
        else:
            self.send(int(m), {"error": {"message": "status " + m}})

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass    # a client that hung up on a hanging or huge answer


server = Server(("127.0.0.1", 0), Handler)
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
threading.Timer(300, server.shutdown).start()
server.serve_forever()
