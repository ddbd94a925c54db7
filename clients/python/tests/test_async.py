"""agentkv.AsyncClient against a real `agentkv serve`: the same calls as
coroutines, list as an async iterator, errors and retries alike."""
from __future__ import annotations

import asyncio

import pytest

import agentkv
from conftest import AsyncRecorder, Server


def test_async_client(server: Server) -> None:
    async def run() -> None:
        rec = AsyncRecorder()
        async with agentkv.AsyncClient(server.url, server.admin,
                                       sandbox="pyasync",
                                       transport=rec) as kv:
            m = await kv.put("task", "a", "1")
            assert m.version == 1
            assert await kv.get("task", "a") == b"1"
            e = await kv.get_entry("task", "a")
            assert await kv.get_entry("task", "a", cached=e) is e
            assert rec.seen[-1][2] == 304
            for i in range(5):
                await kv.put("artifacts", f"k{i}", "v")
            keys = [x.key async for x in kv.list("artifacts", page_size=2)]
            assert keys == [f"k{i}" for i in range(5)]
            with pytest.raises(agentkv.NotFound):
                await kv.get("task", "missing")
            with pytest.raises(agentkv.InvalidArgument):
                await kv.get("task", "a/../b")
            with pytest.raises(agentkv.QuotaExceeded):
                await kv.put_artifact("big", b"x" * 5000)
            await kv.put_project_summary("s")
            assert await kv.get_project_summary() == "s"
            assert (await kv.stats("task"))["task"]["entries"] == 1
            assert await kv.memory({"command": "create",
                                    "path": "/memories/x",
                                    "file_text": "x"}) == \
                "File created successfully at: /memories/x"
            r = await kv.memory_tool_result({"id": "t", "input": {
                "command": "view", "path": "/memories/y"}})
            assert r["is_error"] is True
            rec.fail_first = 2
            assert await kv.get("task", "a") == b"1"
            rec.fail_first = 1
            with pytest.raises(agentkv.Unavailable):
                await kv.prune()
            assert await kv.clear("artifacts") == 5
    asyncio.run(run())
