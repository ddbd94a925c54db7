"""agentkv.Client against a real `agentkv serve` (conftest.py)."""
from __future__ import annotations

import itertools
from typing import Iterator

import pytest

import agentkv
from conftest import Recorder, Server

_n = itertools.count()


@pytest.fixture
def sb() -> str:
    """A fresh sandbox per test: tests share one server."""
    return f"py{next(_n)}"


@pytest.fixture
def kv(server: Server, sb: str) -> Iterator[agentkv.Client]:
    with agentkv.Client(server.url, server.admin, sandbox=sb) as c:
        yield c


def test_put_get_head_delete(kv: agentkv.Client) -> None:
    m = kv.put("task", "notes/plan", "step 1", metadata={"by": "test"},
               ttl="1h")
    assert (m.key, m.scope, m.version, m.size) == ("notes/plan", "task", 1, 6)
    assert m.metadata == {"by": "test"} and m.expires_at
    assert kv.get("task", "notes/plan") == b"step 1"
    e = kv.get_entry("task", "notes/plan")
    assert (e.text, e.sha256, e.version) == ("step 1", m.sha256, 1)
    assert e.content_type.startswith("text/plain")
    assert e.metadata == {"by": "test"}
    assert kv.head("task", "notes/plan").sha256 == m.sha256
    assert kv.exists("task", "notes/plan")
    m2 = kv.put("task", "notes/plan", b"\x00\xff", content_type="app/x")
    assert m2.version == 2 and kv.get("task", "notes/plan") == b"\x00\xff"
    kv.delete("task", "notes/plan")
    assert not kv.exists("task", "notes/plan")
    with pytest.raises(agentkv.NotFound) as ei:
        kv.get("task", "notes/plan")
    assert ei.value.status == 404 and ei.value.code == "not_found"


def test_conditional_writes(kv: agentkv.Client) -> None:
    m = kv.put("project", "k", "v1", create=True)
    with pytest.raises(agentkv.PreconditionFailed):
        kv.put("project", "k", "again", create=True)
    m2 = kv.put("project", "k", "v2", if_match=m.sha256)
    with pytest.raises(agentkv.PreconditionFailed) as ei:
        kv.put("project", "k", "v3", if_match=m.sha256)  # stale
    assert ei.value.status == 412
    assert kv.get("project", "k") == b"v2" and m2.version == 2


def test_conditional_get_reuses_the_kept_entry(server: Server,
                                               sb: str) -> None:
    rec = Recorder()
    with agentkv.Client(server.url, server.admin, sandbox=sb,
                        transport=rec) as kv:
        kv.put("task", "k", "value")
        first = kv.get_entry("task", "k")
        again = kv.get_entry("task", "k", cached=first)
        assert again is first
        assert rec.seen[-1][2] == 304
        kv.put("task", "k", "changed")
        fresh = kv.get_entry("task", "k", cached=first)
        assert fresh.text == "changed" and rec.seen[-1][2] == 200


def test_keys_are_validated_before_sending(server: Server, sb: str) -> None:
    rec = Recorder()
    with agentkv.Client(server.url, server.admin, sandbox=sb,
                        transport=rec) as kv:
        for key in ["a/../b", "../x", "/a", "a/", "a//b", "a\nb", "a\\b",
                    "x" * 256, ""]:
            with pytest.raises(agentkv.InvalidArgument):
                kv.put("task", key, "v")
        with pytest.raises(agentkv.InvalidArgument):
            kv.get("nope", "k")
        with pytest.raises(agentkv.InvalidArgument):
            kv.get("task", "k", sandbox="bad sandbox")
        assert rec.seen == []
        # The server's own validation comes back as the same class.
        with pytest.raises(agentkv.InvalidArgument) as ei:
            kv.put("task", "k", "v", ttl="soon")
        assert ei.value.status == 400


def test_list_follows_cursors(server: Server, sb: str) -> None:
    rec = Recorder()
    with agentkv.Client(server.url, server.admin, sandbox=sb,
                        transport=rec) as kv:
        for i in range(25):
            kv.put("artifacts", f"r/{i:02d}", "x")
        kv.put("artifacts", "other", "x")
        n = len(rec.seen)
        keys = [m.key for m in kv.list("artifacts", "r/", page_size=10)]
        assert keys == [f"r/{i:02d}" for i in range(25)]
        assert len(rec.seen) - n == 3
        assert len(kv.list_artifacts()) == 26
        assert kv.clear("artifacts") == 26
        assert list(kv.list("artifacts")) == []


def test_stats_prune_sandboxes_instructions_prompt(kv: agentkv.Client,
                                                   sb: str) -> None:
    kv.put("task", "k", "12345")
    st = kv.stats()
    assert st["task"]["entries"] == 1 and set(st) == set(agentkv.SCOPES)
    assert kv.stats("task")["task"]["entries"] == 1
    assert kv.prune()["task"] == 0
    assert sb in kv.sandboxes()
    kv.put_instruction("style", "# Style\nBe brief.\n", "how to write")
    assert kv.get_instruction("style").startswith("# Style")
    cat = kv.list_instructions()
    assert "style" in str(cat)
    assert isinstance(kv.prompt(), str)
    assert isinstance(kv.seed(), dict)


def test_agent_names(kv: agentkv.Client) -> None:
    kv.put_artifact("report.md", "# Report", content_type="text/markdown")
    assert kv.get_artifact("report.md") == b"# Report"
    assert [m.key for m in kv.list_artifacts()] == ["report.md"]
    kv.delete_artifact("report.md")
    with pytest.raises(agentkv.NotFound):
        kv.get_artifact("report.md")
    with pytest.raises(agentkv.NotFound):
        kv.get_project_summary()
    kv.put_project_summary("A cache for agents.")
    assert kv.get_project_summary() == "A cache for agents."
    assert kv.cache_stats("project")["project"]["entries"] == 1
    assert kv.prune_cache() == kv.prune()


def test_quota_exceeded_has_the_figures(kv: agentkv.Client) -> None:
    with pytest.raises(agentkv.QuotaExceeded) as ei:
        kv.put_artifact("big", b"x" * 5000)
    e = ei.value
    assert (e.status, e.scope, e.quota) == (507, "artifacts", 4096)
    assert e.used == 0 and e.would_be is not None and e.would_be > 4096


def test_tokens(server: Server, sb: str) -> None:
    with agentkv.Client(server.url, "akv_" + "A" * 43, sandbox=sb) as bad:
        with pytest.raises(agentkv.Unauthorized):
            bad.get("task", "k")
    tok = server.agent_token(sb)
    with agentkv.Client(server.url, tok, sandbox=sb) as agent:
        agent.put("task", "k", "v")
        with pytest.raises(agentkv.Forbidden):
            agent.put("system", "k", "v")
        with pytest.raises(agentkv.Forbidden):
            agent.get("task", "k", sandbox="elsewhere")


def test_environment(server: Server, sb: str,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTKV_URL", server.url)
    monkeypatch.setenv("AGENTKV_TOKEN", server.admin)
    with agentkv.Client(sandbox=sb) as kv:
        kv.put("task", "env", "ok")
        assert kv.get("task", "env") == b"ok"


def test_retries_on_503_for_idempotent_calls_only(server: Server,
                                                  sb: str) -> None:
    rec = Recorder(fail_first=2)
    with agentkv.Client(server.url, server.admin, sandbox=sb,
                        transport=rec) as kv:
        kv.put("task", "k", "v")  # unconditional put: retried
        assert [s for _, _, s in rec.seen] == [503, 503, 201]
        rec.fail_first = 2
        assert kv.get("task", "k") == b"v"
        rec.fail_first = 1
        with pytest.raises(agentkv.Unavailable):
            kv.put("task", "k", "w", create=True)  # conditional: not resent
        rec.fail_first = 1
        with pytest.raises(agentkv.Unavailable):
            kv.memory({"command": "view", "path": "/memories"})  # POST
        rec.fail_first = 1
        with pytest.raises(agentkv.Unavailable):
            kv.delete("task", "k")
        rec.fail_first = 9
        n = len(rec.seen)
        with pytest.raises(agentkv.Unavailable):
            kv.get("task", "k")
        assert len(rec.seen) - n == 4  # the first try and 3 retries


def test_memory_tool(kv: agentkv.Client) -> None:
    out = kv.memory({"command": "create", "path": "/memories/a.md",
                     "file_text": "hello\n"})
    assert out == "File created successfully at: /memories/a.md"
    assert kv.get("project", "memories/a.md") == b"hello\n"
    with pytest.raises(agentkv.NotFound) as ei:
        kv.memory({"command": "view", "path": "/memories/none"})
    assert ei.value.message.startswith("Error: The path /memories/none")
    ok = kv.memory_tool_result({"id": "tu_1", "input": {
        "command": "view", "path": "/memories/a.md"}})
    assert ok["tool_use_id"] == "tu_1" and ok["is_error"] is False
    assert "     1\thello" in ok["content"]
    bad = kv.memory_tool_result({"id": "tu_2", "input": {
        "command": "create", "path": "/memories/a.md", "file_text": "x"}})
    assert bad["is_error"] is True
    assert bad["content"] == "Error: File /memories/a.md already exists"
