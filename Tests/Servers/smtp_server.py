"""A real SMTP server (aiosmtpd) for Herald's SMTP provider tests.

Run with Debian's /usr/bin/python3 (python3-aiosmtpd). Listens on 127.0.0.1 on a free port,
writes the port to --port-file once it accepts connections, and keeps each message it accepts
as spool/N.eml with its envelope in spool/N.json. The recipient's local part picks a fault:

  t451...   RCPT is answered 451 (transient)
  once421.. the first RCPT for the address is answered 421, later ones 250
  once451.. the first RCPT for the address is answered 451, later ones 250
  p550...   RCPT is answered 550 (permanent)
  a530...   RCPT is answered 530 (authentication or STARTTLS required: the configuration's doing)
  d451...   the data is answered 451 (transient, after the message was sent)
  drop...   the connection is closed after the data, before any answer

With --auth USER:PASSWORD the server requires AUTH PLAIN/LOGIN with those credentials (over the
plain connection: it is a test server on the loopback interface). With --starttls CERT KEY it
offers STARTTLS with that certificate and refuses mail before it.
"""

import argparse
import asyncio
import json
import os
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, spool):
        self.spool = spool
        self.count = 0
        self.refused = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        for code in ("421", "451"):
            if local.startswith("once" + code) and address not in self.refused:
                self.refused.add(address)
                return code + " 4.3.0 busy, try again later"
        if local.startswith("t451"):
            return "451 4.3.0 try again later"
        if local.startswith("a530"):
            return "530 5.7.0 Must issue a STARTTLS command first"
        if local.startswith("p550"):
            return "550 5.1.1 <%s>: no such mailbox" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        local = envelope.rcpt_tos[0].split("@")[0].lower()
        if local.startswith("drop"):
            server.transport.close()
            return "250 never seen"
        if local.startswith("d451"):
            return "451 4.3.0 queue full"
        self.count += 1
        name = os.path.join(self.spool, str(self.count))
        with open(name + ".eml.partial", "wb") as f:
            f.write(envelope.original_content)
        os.rename(name + ".eml.partial", name + ".eml")
        with open(name + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        return "250 2.0.0 Ok: queued as Q%d" % self.count


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--spool", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--auth")
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"), help="offer and require STARTTLS with this certificate")
    args = parser.parse_args()
    handler = Handler(args.spool)
    options = {}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticate(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and data.login.decode() == user and data.password.decode() == password
            return AuthResult(success=ok)

        options = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": False}
    if args.starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.starttls[0], args.starttls[1])
        options.update({"tls_context": context, "require_starttls": True})
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, **options), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(args.port_file + ".partial", "w") as f:
        f.write(str(port))
    os.rename(args.port_file + ".partial", args.port_file)
    await server.serve_forever()


asyncio.run(main())
