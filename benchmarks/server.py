"""The servers that answer the benchmark: nginx for real runs, a small aiohttp app for tests.

Both serve the same `fixtures` routes to any method (the SDKs POST), with keep-alive on.
``python -m benchmarks.server prepare --work DIR [runner flags]`` writes the fixture tree and
an nginx config into DIR and prints the chosen port; ``benchmarks/run`` starts nginx with it.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .fixtures import SSE, Fixtures, build, write_tree

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["aiohttp_app", "free_port", "nginx_config", "prepare"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nginx_config(*, root: Path, work: Path, port: int) -> str:
    """A self-contained nginx config: one worker, files from ``root``, everything under ``work``.

    nginx's static handler answers POST with 405; ``error_page 405 =200 $uri`` turns that into
    an internal GET of the same file with status 200, so a POST gets the canned body.
    """
    temp = work / "nginx-tmp"
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""# Written by benchmarks/server.py; regenerated on every run.
{user}worker_processes 1;
daemon on;
pid {work / "nginx.pid"};
error_log {work / "nginx-error.log"} warn;

events {{
    worker_connections 4096;
    multi_accept on;
}}

http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 120s;
    keepalive_requests 10000000;
    client_max_body_size 4m;
    client_body_buffer_size 64k;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    types {{ }}
    default_type application/json;
    etag off;

    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {root};
        location / {{
            error_page 405 =200 $uri;
        }}
        location /sse/ {{
            default_type {SSE};
            error_page 405 =200 $uri;
        }}
    }}
}}
"""


def prepare(work: Path, stream_chunks: int) -> tuple[int, Fixtures]:
    """Write fixtures and nginx.conf under ``work``; return the port nginx should listen on."""
    work = work.resolve()
    root = work / "fixtures"
    write_tree(fixtures := build(stream_chunks), root)
    (work / "nginx-tmp").mkdir(parents=True, exist_ok=True)
    port = free_port()
    (work / "nginx.conf").write_text(nginx_config(root=root, work=work, port=port))
    return port, fixtures


def aiohttp_app(fixtures: Fixtures) -> web.Application:
    """The same routes as an aiohttp application (used by the test suite: no nginx needed)."""
    from aiohttp import web

    async def handle(request: web.Request) -> web.StreamResponse:
        route = fixtures.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="no fixture at this path")
        await request.read()
        return web.Response(body=route.body, headers={"Content-Type": route.content_type})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def _main(argv: list[str]) -> int:
    from .runner import build_parser, sizes_from_args

    if not argv or argv[0] != "prepare":
        print("usage: python -m benchmarks.server prepare --work DIR [runner flags]", file=sys.stderr)
        return 2
    parser = build_parser()
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args(argv[1:])
    port, _ = prepare(args.work, sizes_from_args(args).stream_chunks)
    print(port)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
