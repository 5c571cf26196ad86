"""Helpers of the service tests: small simulated stores and a real `tempolog serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
TEMPOLOG = str(Path(sys.executable).parent / "tempolog")
TRADING = ROOT / "rules" / "trading.dl"
TOKEN = "s3cret-token-for-tests"


def simulate(path: Path, ticks: int = 150, seed: int = 3) -> Path:
    """A small store written by `tempolog sim`, as a user makes one."""
    subprocess.run([TEMPOLOG, "sim", "--ticks", str(ticks), "--seed", str(seed), "--db",
                    str(path), "--quiet"], check=True, capture_output=True, cwd=ROOT)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`tempolog serve` in its own process on 127.0.0.1, stopped by `stop()`."""

    def __init__(self, db: Path, log: Path, *extra: str, rules: Path = TRADING):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [TEMPOLOG, "serve", "--db", str(db), "--rules", str(rules), "--port",
                 str(self.port), *extra], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("the server did not start:\n" + log.read_text())
            time.sleep(0.1)
        self.client = httpx.Client(base_url=self.url, timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
