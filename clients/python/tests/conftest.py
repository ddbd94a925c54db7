"""A real `agentkv serve` for the tests: started once per session on a free
loopback port with a temporary store (no seeding), its admin token read
from its log. $AGENTKV names the binary (ctest sets it; default:
build/agentkv of the source tree)."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Server:
    url: str
    admin: str
    store: str
    binary: str
    log: Path
    proc: "subprocess.Popen[bytes]"

    def cli(self, *args: str) -> str:
        r = subprocess.run([self.binary, "--dir", self.store, *args],
                           capture_output=True, check=True)
        return r.stdout.decode()

    def agent_token(self, sandbox: str) -> str:
        """A new agent token for sandbox, loaded by the server (SIGHUP)."""
        before = self.log.read_text().count("SIGHUP: reloaded")
        tok = self.cli("--sandbox", sandbox, "token", "create", "--role",
                       "agent").strip()
        self.proc.send_signal(signal.SIGHUP)
        for _ in range(200):
            if self.log.read_text().count("SIGHUP: reloaded") > before:
                return tok
            time.sleep(0.02)
        raise RuntimeError("the server did not reload its tokens")


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    binary = os.environ.get("AGENTKV") or str(ROOT / "build" / "agentkv")
    tmp = tempfile.mkdtemp(prefix="agentkv-py.")
    store = os.path.join(tmp, "store")
    ini = os.path.join(tmp, "agentkv.ini")
    with open(ini, "w") as f:
        f.write("[scope.artifacts]\nquota = 4KiB\n")
    log = Path(tmp) / "server.log"
    with open(log, "wb") as errf:
        proc = subprocess.Popen(
            [binary, "--dir", store, "serve", "--listen", "127.0.0.1:0",
             "--no-seed", "--config", ini],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)
    url = admin = ""
    for _ in range(400):
        text = log.read_text()
        m = re.search(r"listening on (http://\S+)", text)
        if m:
            url = m.group(1)
            t = re.search(r"admin token: (akv_[A-Za-z0-9_-]+)", text)
            admin = t.group(1) if t else ""
            break
        if proc.poll() is not None:
            raise RuntimeError("agentkv serve exited: " + text)
        time.sleep(0.025)
    if not url or not admin:
        proc.kill()
        raise RuntimeError("no address or admin token: " + log.read_text())
    srv = Server(url, admin, store, binary, log, proc)
    try:
        yield srv
    finally:
        proc.terminate()
        rc = proc.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)
        assert rc == 0, f"agentkv serve exited {rc} after SIGTERM"


class Recorder(httpx.BaseTransport):
    """The real transport, recording (method, path, status) of each
    exchange; with fail_first=N, the first N requests are answered 503
    without reaching the server (a store that is briefly unavailable)."""

    def __init__(self, fail_first: int = 0) -> None:
        self.inner = httpx.HTTPTransport()
        self.fail_first = fail_first
        self.seen: List[tuple[str, str, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.fail_first > 0:
            self.fail_first -= 1
            self.seen.append((request.method, request.url.path, 503))
            return httpx.Response(503, json={"error": {
                "code": "unavailable", "message": "store unavailable"}})
        r = self.inner.handle_request(request)
        self.seen.append((request.method, request.url.path, r.status_code))
        return r

    def close(self) -> None:
        self.inner.close()


class AsyncRecorder(httpx.AsyncBaseTransport):
    def __init__(self, fail_first: int = 0) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.fail_first = fail_first
        self.seen: List[tuple[str, str, int]] = []

    async def handle_async_request(self,
                                   request: httpx.Request) -> httpx.Response:
        if self.fail_first > 0:
            self.fail_first -= 1
            self.seen.append((request.method, request.url.path, 503))
            return httpx.Response(503, json={"error": {
                "code": "unavailable", "message": "store unavailable"}})
        r = await self.inner.handle_async_request(request)
        self.seen.append((request.method, request.url.path, r.status_code))
        return r

    async def aclose(self) -> None:
        await self.inner.aclose()
