#!/usr/bin/env python3
"""import-lines.py OUT SANDBOX[:SIZE]... — writes OUT, an `agentkv import`
file (JSON Lines, as `agentkv export` writes them) with one entry per
SANDBOX: key x of scope task, the value "value of SANDBOX" padded with dots
to SIZE bytes (default: unpadded). The timestamps are a fixed past instant
and nothing expires, so the entries mean the same on any date."""
import base64
import hashlib
import json
import sys

with open(sys.argv[1], "w") as f:
    for arg in sys.argv[2:]:
        sb, _, size = arg.partition(":")
        v = ("value of " + sb).encode().ljust(int(size or 0), b".")
        f.write(json.dumps({
            "sandbox": sb, "scope": "task", "key": "x", "origin": sb,
            "size": len(v), "content_type": "text/plain",
            "sha256": hashlib.sha256(v).hexdigest(), "version": 1,
            "created_at": "2020-01-01T00:00:00.000Z",
            "updated_at": "2020-01-01T00:00:00.000Z", "expires_at": None,
            "metadata": {}, "value": base64.b64encode(v).decode()}) + "\n")
