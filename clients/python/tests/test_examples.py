"""The examples of examples/ run against the real server, as the README
says to run them, so that they cannot rot."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import Server

HERE = Path(__file__).resolve().parents[1]


def test_quickstart(server: Server) -> None:
    env = dict(os.environ, AGENTKV_URL=server.url, AGENTKV_TOKEN=server.admin,
               AGENTKV_SANDBOX="py-example", PYTHONPATH=str(HERE))
    r = subprocess.run([sys.executable, str(HERE / "examples" / "quickstart.py")],
                       env=env, capture_output=True, text=True, check=True)
    assert r.stdout.splitlines() == [
        "plan: 1. read the issue",
        "stale write refused",
        "facts: uses LMDB and Redis",
        "project keys: ['facts']",
        "toolu_1 ok - File created successfully at: /memories/prefs.md",
        "toolu_2 ok - The memory file has been edited.",
        "toolu_3 error - Error: The path /memories/missing.md does not exist. "
        "Please provide a valid path.",
        "memory file: tone: brief",
    ], r.stdout
