#!/usr/bin/env python3
"""An SMTP receiver on 127.0.0.1 for the delivery tests (aiosmtpd,
Debian's python3-aiosmtpd).

Usage: smtprecv.py LOGFILE PORTFILE [--wire FILE] [--auth] [--lifetime S]

Listens on an ephemeral port (written to PORTFILE, atomically) and records
one JSON line per message in LOGFILE: {"t", "mail_from", "rcpt_tos",
"data"}.  Recipients whose local part is "fail550" are refused with
550, "fail451" deferred with 451.  It never offers STARTTLS.

--wire FILE   append every byte the client sends to FILE (to check that
              something, such as a password, never crossed the wire)
--auth        advertise AUTH PLAIN LOGIN over the clear connection and
              accept any credentials (logging {"event": "auth", ...}):
              a client that sends a password here has leaked it
--lifetime S  stop by itself after S seconds (default 120)
"""
import argparse
import asyncio
import json
import logging
import os
import time

from aiosmtpd.smtp import SMTP, AuthResult

ap = argparse.ArgumentParser()
ap.add_argument("log")
ap.add_argument("portfile")
ap.add_argument("--wire")
ap.add_argument("--auth", action="store_true")
ap.add_argument("--lifetime", type=float, default=120.0)
args = ap.parse_args()
logging.disable(logging.CRITICAL)

log = open(args.log, "a", buffering=1)
wire = open(args.wire, "ab", buffering=0) if args.wire else None


def record(obj):
    obj.setdefault("t", time.time())
    log.write(json.dumps(obj) + "\n")
    log.flush()


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local == "fail550":
            record({"event": "rcpt", "address": address, "answer": 550})
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if local == "fail451":
            record({"event": "rcpt", "address": address, "answer": 451})
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.content
        if isinstance(data, bytes):
            data = data.decode("utf-8", "surrogateescape")
        record({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                "data": data.encode("utf-8", "surrogateescape").decode("utf-8", "replace")})
        return "250 2.0.0 queued"


def authenticator(server, session, envelope, mechanism, auth_data):
    login = getattr(auth_data, "login", b"") or b""
    password = getattr(auth_data, "password", b"") or b""
    record({"event": "auth", "mechanism": mechanism,
            "login": login.decode("utf-8", "replace"),
            "password": password.decode("utf-8", "replace")})
    return AuthResult(success=True)


class WireSMTP(SMTP):
    def data_received(self, data):
        if wire is not None:
            wire.write(data)
        super().data_received(data)


def factory():
    kw = dict(hostname="recv.test", enable_SMTPUTF8=True)
    if args.auth:
        kw.update(auth_require_tls=False, authenticator=authenticator)
    return WireSMTP(Handler(), **kw)


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(args.portfile + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(args.portfile + ".tmp", args.portfile)
    await asyncio.sleep(args.lifetime)


try:
    asyncio.run(main())
finally:
    os._exit(0)
