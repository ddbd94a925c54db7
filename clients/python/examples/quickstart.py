"""quickstart.py — agentkv from Python in one page.

    AGENTKV_URL=http://127.0.0.1:8420 AGENTKV_TOKEN=akv_... python3 examples/quickstart.py

Stores and reads task state, lists a scope, makes a compare-and-swap
update, and runs Anthropic's memory tool the way a tool loop does: each
``memory`` tool_use block of a Messages response goes to
``memory_tool_result`` and the block it returns is what the next request
sends back. The blocks here are written out by hand, as the model would
send them, so the example needs no Anthropic API key.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List

import agentkv


def main() -> None:
    kv = agentkv.Client(sandbox=os.environ.get("AGENTKV_SANDBOX", "example"))

    kv.put("task", "plan", "1. read the issue\n2. fix it\n", ttl="2h")
    print("plan:", kv.get("task", "plan").decode().splitlines()[0])

    meta = kv.put("project", "facts", "uses LMDB")
    kv.put("project", "facts", "uses LMDB and Redis", if_match=meta.sha256)
    try:
        kv.put("project", "facts", "stale write", if_match=meta.sha256)
    except agentkv.PreconditionFailed:
        print("stale write refused")
    print("facts:", kv.get("project", "facts").decode())
    print("project keys:", [m.key for m in kv.list("project")])

    # What an Anthropic tool loop does with the memory tool's calls.
    blocks: List[Dict[str, Any]] = [
        {"type": "tool_use", "id": "toolu_1", "name": "memory",
         "input": {"command": "create", "path": "/memories/prefs.md",
                   "file_text": "tone: friendly\n"}},
        {"type": "tool_use", "id": "toolu_2", "name": "memory",
         "input": {"command": "str_replace", "path": "/memories/prefs.md",
                   "old_str": "friendly", "new_str": "brief"}},
        {"type": "tool_use", "id": "toolu_3", "name": "memory",
         "input": {"command": "view", "path": "/memories/missing.md"}},
    ]
    for block in blocks:
        result = kv.memory_tool_result(block)
        print(result["tool_use_id"], "error" if result["is_error"] else "ok",
              "-", result["content"].splitlines()[0])
    print("memory file:", kv.get("project", "memories/prefs.md").decode().strip())


if __name__ == "__main__":
    main()
