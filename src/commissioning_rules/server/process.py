"""A real server in a child process, for integration tests and benchmarks: ``commissioning-rules serve`` on a free
port of 127.0.0.1, waited for until ``/readyz`` answers, and stopped (SIGTERM, then SIGKILL) when done.

    with LiveServer(["--policy", "our-policy.yaml"]) as server:
        httpx.post(server.url + "/v1/decisions", json=case)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Mapping, Sequence


class ServerDidNotStart(RuntimeError):
    """The server process exited, or did not answer ``/readyz`` in time (the message holds its log)."""


def free_port() -> int:
    """A port of 127.0.0.1 free at the time of asking."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    """``commissioning-rules serve ARGS`` on 127.0.0.1, started on entry and stopped on exit; ``log`` is its output."""

    def __init__(self, args: Sequence[str] = (), env: Mapping[str, str] | None = None, start_timeout: float = 60) -> None:
        self.args = list(args)
        self.env = {**os.environ, **(env or {})}
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self._log = tempfile.TemporaryFile()

    @property
    def log(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def __enter__(self) -> LiveServer:
        for _ in range(3):  # a port taken between asking and binding: try another
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            command = [sys.executable, "-m", "commissioning_rules.cli", "serve", "--port", str(port), *self.args]
            self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=self.env)
            if self._wait_ready():
                return self
            self._stop()
            if "address already in use" not in self.log.lower():
                break
        raise ServerDidNotStart(f"the server did not start:\n{self.log}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        return False

    def _stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __exit__(self, *exc: object) -> None:
        self._stop()
