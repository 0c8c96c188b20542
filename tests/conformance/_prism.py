"""Start and stop the Prism mock server (npm @stoplight/prism-cli) against the vendored spec."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "scripts" / "openapi" / "telnyx-ai.json"
ENDPOINTS = REPO / "scripts" / "openapi" / "endpoints.tsv"


def prism_binary() -> str:
    """Where Prism is: $TELNYX_AI_PRISM, the copy ./scripts/test installs, or PATH."""
    candidates = [
        os.environ.get("TELNYX_AI_PRISM"),
        str(REPO / ".prism" / "node_modules" / ".bin" / "prism"),
        shutil.which("prism"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError("Prism is not installed: run ./scripts/test (it installs @stoplight/prism-cli into .prism/).")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Prism:
    """One Prism process on a free loopback port, stopped by its PID."""

    def __init__(self, *, errors: bool = True) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [prism_binary(), "mock", "-h", "127.0.0.1", "-p", str(self.port), str(SPEC)]
        if errors:
            args.insert(2, "--errors")
        env = {**os.environ, "SCARF_ANALYTICS": "false", "NO_COLOR": "1"}
        self.log = open(REPO / ".prism" / f"prism-{self.port}.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=REPO)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Prism exited with {self.process.returncode}; see {self.log.name}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"Prism did not start listening within {timeout} s; see {self.log.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
