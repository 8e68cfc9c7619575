#!/usr/bin/env python3
"""Stand-in app containers on a worker host, for deploy/rehearsal/run.sh (python3 standard library only).

    app.py ADDRESS PORT NAME [PORT NAME ...]

Serves HTTP/1.1 with keep-alive (like a real app server) on ADDRESS:PORT for each pair. GET and HEAD answer 200 with
the header "X-App: NAME" and the body "NAME host=<Host header> peer=<client address>\n", so a client can tell which
app answered, for which name, and that the request arrived through the mesh (peer = the proxy's mesh address).
"""

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def handler_for(name):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self, with_body):
            body = f"{name} host={self.headers.get('Host', '')} peer={self.client_address[0]}\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-App", name)
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def do_GET(self):  # noqa: N802 (http.server's naming)
            self.answer(True)

        def do_HEAD(self):  # noqa: N802
            self.answer(False)

        def log_message(self, fmt, *args):
            print(f"{time.strftime('%H:%M:%S')} {name} {self.client_address[0]} {fmt % args}", flush=True)

    return Handler


def main(argv):
    if len(argv) < 4 or len(argv) % 2:
        sys.exit(__doc__)
    address = argv[1]
    threads = []
    for port, name in zip(argv[2::2], argv[3::2]):
        server = ThreadingHTTPServer((address, int(port)), handler_for(name))
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        threads.append(thread)
        print(f"{time.strftime('%H:%M:%S')} {name} listening on {address}:{port}", flush=True)
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main(sys.argv)
