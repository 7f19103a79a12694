#!/usr/bin/env python3
"""A scriptable HTTP receiver on 127.0.0.1 for the delivery tests.

Usage: hookrecv.py LOGFILE PORTFILE [SCRIPT] [LIFETIME]

Listens on an ephemeral port (written to PORTFILE, atomically), records one
JSON line per request in LOGFILE -- {"t", "method", "path", "headers",
"body", "action"} -- and answers as SCRIPT says.  Stops by itself after
LIFETIME seconds (default 120), so a broken test never leaves it running.

SCRIPT is a JSON file, read again whenever it changes, so a test can change
the answers between runs.  It maps a request path (without its query) to an
action, or to a list of actions taken in turn by the requests to that path
(the last one repeats); the key "*" is the default, and a list under "@seq"
is taken in turn by every request whatever its path, before the paths.
Without SCRIPT (or for a path it does not name) the answer is 200.

An action is a string of words:
  STATUS                      that status with a 2-byte body, e.g. "204", "500"
  retry-after=N               add Retry-After: N
  location=URL                add Location: URL ({port} is this port)
  delay=MS                    wait MS milliseconds before answering
  hang                        never answer (the connection stays open)
  endless                     200 and a body without end (no length)
  endless-cl                  200 declaring a 10 GiB body, then sending it
  drip                        200, Content-Length 1000, a byte every 100 ms
  loop                        302 to the same path with ?hop=N+1, forever
Actions that stream log a second line when the client goes away:
{"event": "end", "path", "action", "bytes", "secs"}.  A request that is not
HTTP (a gopher:// or other protocol hitting the port) is logged as
{"event": "bad", "raw": ...}.
"""
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

log_path, port_path = sys.argv[1], sys.argv[2]
script_path = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
lifetime = float(sys.argv[4]) if len(sys.argv) > 4 else 120.0

lock = threading.Lock()
log = open(log_path, "a", buffering=1)
counters = {}
script = {"mtime": None, "data": {}}
port = 0


def record(obj):
    obj.setdefault("t", time.time())
    line = json.dumps(obj) + "\n"
    with lock:
        log.write(line)
        log.flush()


def load_script():
    """The script, re-read when its file changed (call with lock held)."""
    if not script_path:
        return {}
    try:
        st = os.stat(script_path)
    except OSError:
        return {}
    key = (st.st_mtime_ns, st.st_size, st.st_ino)
    if key != script["mtime"]:
        try:
            with open(script_path) as f:
                script["data"] = json.load(f)
            script["mtime"] = key
        except (OSError, ValueError):
            pass
    return script["data"]


def pick(path):
    """The action for this request, advancing the sequences."""
    with lock:
        s = load_script()
        seq = s.get("@seq")
        if isinstance(seq, list) and seq:
            n = counters.get("@seq", 0)
            counters["@seq"] = n + 1
            if n < len(seq):
                return seq[n]
        a = s.get(path, s.get("*", "200"))
        if isinstance(a, list):
            n = counters.get(path, 0)
            counters[path] = n + 1
            a = a[min(n, len(a) - 1)] if a else "200"
        return str(a)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True	# else a delayed ACK costs 40 ms a request

    def send_error(self, code, message=None, explain=None):
        # Not HTTP at all (another protocol hit the port): say so in the log.
        record({"event": "bad", "code": code,
                "raw": (self.raw_requestline or b"").decode("latin-1")})
        self.close_connection = True
        try:
            self.wfile.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
        except OSError:
            pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        url = urlsplit(self.path)
        action = pick(url.path)
        record({"method": self.command, "path": self.path,
                "headers": dict(self.headers), "body": body, "action": action})
        words = action.split()
        opts = dict(w.split("=", 1) for w in words if "=" in w)
        verbs = [w for w in words if "=" not in w]
        verb = verbs[0] if verbs else "200"
        if "delay" in opts:
            time.sleep(int(opts["delay"]) / 1000.0)
        if verb == "hang":
            self.close_connection = True
            threading.Event().wait(lifetime)
            return
        if verb in ("endless", "endless-cl", "drip"):
            self.stream(verb, action)
            return
        headers = []
        if verb == "loop":
            hop = int(parse_qs(url.query).get("hop", ["0"])[0]) + 1
            status = 302
            headers.append(("Location", "%s?hop=%d" % (url.path, hop)))
        else:
            status = int(verb)
        if "retry-after" in opts:
            headers.append(("Retry-After", opts["retry-after"]))
        if "location" in opts:
            headers.append(("Location", opts["location"].replace("{port}", str(port))))
        try:
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            # 204 and 304 have no body (RFC 9110): bytes after one would
            # be read as the start of the next answer on the connection.
            body = b"" if status in (204, 304) or 100 <= status < 200 else b"OK"
            if body:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:		# the client went away (killed, timed out)
            self.close_connection = True

    def stream(self, verb, action):
        start, sent = time.time(), 0
        self.close_connection = True
        self.connection.settimeout(lifetime)
        try:
            self.send_response(200)
            if verb == "endless":
                self.send_header("Connection", "close")
            elif verb == "endless-cl":
                self.send_header("Content-Length", str(10 << 30))
            else:
                self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.flush()
            chunk = b"x" * 16384
            limit = 1000 if verb == "drip" else 1 << 30
            while sent < limit and time.time() - start < lifetime:
                if verb == "drip":
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    sent += 1
                    time.sleep(0.1)
                else:
                    self.wfile.write(chunk)
                    sent += len(chunk)
        except (OSError, socket.timeout):
            pass
        record({"event": "end", "path": self.path, "action": action,
                "bytes": sent, "secs": round(time.time() - start, 3)})

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = handle_any

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass		# a client that vanished mid-request is no news here


server = Server(("127.0.0.1", 0), Handler)
port = server.server_address[1]
with open(port_path + ".tmp", "w") as f:
    f.write(str(port))
os.rename(port_path + ".tmp", port_path)


def stop():
    time.sleep(lifetime)
    os._exit(0)


threading.Thread(target=stop, daemon=True).start()
server.serve_forever()
