"""A local HTTP gateway for Herald's webhook provider tests (Python's standard library only).

Listens on 127.0.0.1 on a free port and writes the port to --port-file once it accepts
connections. Every request is logged as a JSON line in FOLDER/requests.jsonl (its
Idempotency-Key, recipient, auth header and the status answered); every message it accepts is
kept once per Idempotency-Key in FOLDER/accepted.jsonl, as a gateway that de-duplicates would.
The recipient ("to") picks a fault, on the first request for a key only:

  bad...    400 (permanent)
  busy...   429 with Retry-After: 7
  date...   503 with Retry-After as an HTTP date 120 seconds ahead
  err...    500
  hang...   accepted, but answered only after --hang seconds (longer than the client waits)

A file FOLDER/fault holding one of those words applies that fault to every message's first
request. Anything else, and any later request for the key, is accepted: 200 {"sid": "SM<n>"}; a key
already accepted gets its first answer again and is not kept twice.
"""

import argparse
import email.utils
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Gateway:
    def __init__(self, folder, hang):
        self.folder = folder
        self.hang = hang
        self.lock = threading.Lock()
        self.seen = set()
        self.accepted = {}

    def log(self, name, record):
        with self.lock, open(os.path.join(self.folder, name), "a") as f:
            f.write(json.dumps(record) + "\n")

    def accept(self, key, message):
        with self.lock:
            if key not in self.accepted:
                self.accepted[key] = "SM%d" % (len(self.accepted) + 1)
                with open(os.path.join(self.folder, "accepted.jsonl"), "a") as f:
                    f.write(json.dumps({"key": key, "message": message}) + "\n")
            return self.accepted[key]

    def first(self, key):
        with self.lock:
            if key in self.seen:
                return False
            self.seen.add(key)
            return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one write (flushed after each request): two small writes would
    # wait on the client's delayed acknowledgement.
    wbufsize = 1 << 16

    def log_message(self, format, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        gateway = self.server.gateway
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        key = self.headers.get("Idempotency-Key")
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
        to = message.get("to", "") if isinstance(message, dict) else ""
        first = gateway.first(key)
        fault = to
        try:
            with open(os.path.join(gateway.folder, "fault")) as f:
                fault = f.read().strip()
        except OSError:
            pass
        headers = []
        body = b""
        if first and fault.startswith("bad"):
            status, body = 400, b'{"error": "invalid number"}'
        elif first and fault.startswith("busy"):
            status, headers = 429, [("Retry-After", "7")]
        elif first and fault.startswith("date"):
            status, headers = 503, [("Retry-After", email.utils.formatdate(time.time() + 120, usegmt=True))]
        elif first and fault.startswith("err"):
            status = 500
        else:
            status = 200
            body = json.dumps({"sid": gateway.accept(key, message), "status": "queued"}).encode()
            headers = [("Content-Type", "application/json")]
        # Logged before answering: a client that stopped waiting still sees its request counted.
        gateway.log("requests.jsonl", {
            "key": key, "to": to, "auth": self.headers.get("Authorization"), "content_type": self.headers.get("Content-Type"),
            "path": self.path, "status": status,
        })
        if status == 200 and first and fault.startswith("hang"):
            time.sleep(gateway.hang)
        try:
            self.answer(status, body, headers)
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--hang", type=float, default=3)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.gateway = Gateway(args.folder, args.hang)
    with open(args.port_file + ".partial", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".partial", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
