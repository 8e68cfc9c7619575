#!/usr/bin/env python3
"""A stand-in for the platform's control plane, for deploy/rehearsal/run.sh (python3 standard library only).

    control_plane.py serve --listen 10.50.0.1:8081 --token-file TOKEN --state STATE.json
    control_plane.py set-app STATE.json ID URL HOST [HOST...]     # add an app, or replace its hosts/URL
    control_plane.py remove-app STATE.json ID

`serve` answers GET /v1/traefik/proxy-config with Traefik dynamic JSON built from STATE.json, which it re-reads on
every request (so apps and custom domains can be added or removed while it runs, or while it is stopped), when the
request carries "Authorization: Bearer <token>" (the token file is read once at start); anything else gets 401. One
router and one service per app, as the real control plane writes them:

    {"http":{"routers":{"<id>":{"rule":"Host(`a.test`) || Host(`b.test`)","service":"<id>",
                                "tls":{"certResolver":"letsencrypt"}}},
             "services":{"<id>":{"loadBalancer":{"servers":[{"url":"http://10.50.0.2:24207"}]}}}}}

Each request is logged on stdout (time, client, path, status, routers); the token never is.
"""

import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENDPOINT = "/v1/traefik/proxy-config"
RESOLVER = "letsencrypt"


def load(state_path):
    try:
        with open(state_path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {"apps": {}}


def save(state_path, state):
    tmp = state_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, state_path)  # atomic: the server never reads a half-written file


def dynamic(state):
    routers, services = {}, {}
    for app_id, app in sorted(state["apps"].items()):
        routers[app_id] = {
            "rule": " || ".join(f"Host(`{host}`)" for host in app["hosts"]),
            "service": app_id,
            "tls": {"certResolver": RESOLVER},
        }
        services[app_id] = {"loadBalancer": {"servers": [{"url": app["url"]}]}}
    return {"http": {"routers": routers, "services": services}}


def serve(listen, token_file, state_path):
    with open(token_file, encoding="utf-8") as f:
        expected = "Bearer " + f.read().strip()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (http.server's naming)
            routers = "-"
            if self.path != ENDPOINT:
                status, body = 404, b"not found\n"
            elif self.headers.get("Authorization") != expected:
                status, body = 401, b"unauthorized\n"
            else:
                answer = dynamic(load(state_path))
                routers = ",".join(answer["http"]["routers"]) or "(none)"
                status, body = 200, json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if status == 200 else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            print(f"{time.strftime('%H:%M:%S')} {self.client_address[0]} GET {self.path} {status} routers={routers}",
                  flush=True)

        def log_message(self, *args):
            pass  # one line per request above, never the headers

    host, port = listen.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), Handler)
    print(f"{time.strftime('%H:%M:%S')} control plane listening on {listen}", flush=True)
    server.serve_forever()


def main(argv):
    if len(argv) >= 2 and argv[1] == "serve":
        opts = dict(zip(argv[2::2], argv[3::2]))
        serve(opts["--listen"], opts["--token-file"], opts["--state"])
    elif len(argv) >= 6 and argv[1] == "set-app":
        state = load(argv[2])
        state["apps"][argv[3]] = {"url": argv[4], "hosts": argv[5:]}
        save(argv[2], state)
    elif len(argv) == 4 and argv[1] == "remove-app":
        state = load(argv[2])
        state["apps"].pop(argv[3], None)
        save(argv[2], state)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
