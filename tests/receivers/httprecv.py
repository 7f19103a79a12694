#!/usr/bin/env python3
"""A tiny HTTP receiver on 127.0.0.1 for the command tests.

Usage: httprecv.py LOGFILE PORTFILE [STATUS]
Listens on an ephemeral port (written to PORTFILE), answers every request
with STATUS (default 200) and appends one JSON line per request to LOGFILE:
{"method", "path", "headers", "body"}.  Stops by itself after 120 s so a
broken test never leaves it running.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log_path, port_path = sys.argv[1], sys.argv[2]
status = int(sys.argv[3]) if len(sys.argv) > 3 else 200
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        with lock, open(log_path, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "headers": dict(self.headers), "body": body}) + "\n")
        self.send_response(status)
        # 204 and 304 have no body (RFC 9110): bytes after one would be
        # read as the start of the next answer on the connection.
        body = b"" if status in (204, 304) or 100 <= status < 200 else b"OK"
        if body:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = do_PUT = handle_any

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_path + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(port_path + ".tmp", port_path)
threading.Timer(120, server.shutdown).start()
server.serve_forever()
