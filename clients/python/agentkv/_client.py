"""agentkv.Client: the blocking client of agentkv's REST API on httpx."""
from __future__ import annotations

import time
from typing import Any, Dict, Iterator, List, Mapping, Optional, TypeVar, \
    Union

import httpx

from ._core import Entry, Meta, Op, Ops, backoff, raise_for, settings
from ._errors import AgentKVError

T = TypeVar("T")


class Client:
    """A client of one agentkv server, for one sandbox by default.

    ``url`` and ``token`` default to ``$AGENTKV_URL`` and ``$AGENTKV_TOKEN``.
    Every method takes ``sandbox=`` to address another sandbox. Failures
    raise the :class:`agentkv.AgentKVError` subclass of their code. Calls
    that are safe to repeat (reads, unconditional puts) are resent after a
    503 up to ``retries`` times, with backoff.
    """

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None,
                 sandbox: str = "default", *, timeout: float = 30.0,
                 retries: int = 3,
                 transport: Optional[httpx.BaseTransport] = None) -> None:
        base, tok = settings(url, token)
        headers = {"Authorization": f"Bearer {tok}"} if tok else {}
        self._ops = Ops(sandbox)
        self.sandbox = sandbox
        self.retries = retries
        self._http = httpx.Client(base_url=base, headers=headers,
                                  timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, op: Op[T]) -> T:
        attempt = 0
        while True:
            r = self._http.request(op.method, op.path, params=op.params,
                                   headers=op.headers, content=op.content)
            if r.status_code == 503 and op.retry and attempt < self.retries:
                time.sleep(backoff(attempt, r))
                attempt += 1
                continue
            raise_for(r, op.ok)
            return op.parse(r)

    # ---- the REST API ----

    def put(self, scope: str, key: str, value: Union[bytes, str], *,
            ttl: Union[None, int, str] = None,
            content_type: Optional[str] = None,
            metadata: Optional[Mapping[str, Any]] = None,
            if_match: Optional[str] = None, create: bool = False,
            sandbox: Optional[str] = None) -> Meta:
        """Writes a value; returns the new entry's metadata. ``if_match``
        (a SHA-256) and ``create`` make it conditional
        (:class:`agentkv.PreconditionFailed`)."""
        return self._call(self._ops.put(
            scope, key, value, ttl=ttl, content_type=content_type,
            metadata=metadata, if_match=if_match, create=create,
            sandbox=sandbox))

    def get(self, scope: str, key: str, *,
            sandbox: Optional[str] = None) -> bytes:
        return self.get_entry(scope, key, sandbox=sandbox).value

    def get_entry(self, scope: str, key: str, *,
                  cached: Optional[Entry] = None,
                  sandbox: Optional[str] = None) -> Entry:
        """The value with its metadata. With ``cached`` (an Entry read
        before) the read is conditional: an unchanged entry is not sent
        again and ``cached`` is returned."""
        return self._call(self._ops.get(scope, key, cached, sandbox))

    def head(self, scope: str, key: str, *,
             sandbox: Optional[str] = None) -> Entry:
        """The entry's headers (the value is empty)."""
        return self._call(self._ops.head(scope, key, sandbox))

    def exists(self, scope: str, key: str, *,
               sandbox: Optional[str] = None) -> bool:
        try:
            self.head(scope, key, sandbox=sandbox)
            return True
        except AgentKVError as e:
            if e.status == 404:
                return False
            raise

    def delete(self, scope: str, key: str, *,
               sandbox: Optional[str] = None) -> None:
        self._call(self._ops.delete(scope, key, sandbox))

    def list(self, scope: str, prefix: Optional[str] = None, *,
             include_expired: bool = False, page_size: Optional[int] = None,
             sandbox: Optional[str] = None) -> Iterator[Meta]:
        """Every entry of the scope in key order, following cursors."""
        cursor: Optional[str] = None
        while True:
            page = self._call(self._ops.page(scope, prefix, cursor, page_size,
                                             include_expired, sandbox))
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def clear(self, scope: str, *, sandbox: Optional[str] = None) -> int:
        """Deletes every entry of the scope; returns how many."""
        return self._call(self._ops.clear(scope, sandbox))

    def stats(self, scope: Optional[str] = None, *,
              sandbox: Optional[str] = None) -> Dict[str, Any]:
        return self._call(self._ops.stats(scope, sandbox))

    def prune(self, scope: Optional[str] = None, *,
              sandbox: Optional[str] = None) -> Dict[str, int]:
        return self._call(self._ops.prune(scope, sandbox))

    def instructions(self, *, sandbox: Optional[str] = None) -> Any:
        return self._call(self._ops.instructions(sandbox))

    def prompt(self, mode: Optional[str] = None,
               inline: Optional[List[str]] = None,
               budget: Optional[int] = None, base_key: Optional[str] = None,
               *, sandbox: Optional[str] = None) -> str:
        return self._call(self._ops.prompt(mode, inline, budget, base_key,
                                           sandbox))

    def seed(self, *, force: bool = False,
             prune: bool = False) -> Dict[str, Any]:
        """Reseeds _global from the server's instruction directory
        (admin token)."""
        return self._call(self._ops.seed(force, prune))

    def sandboxes(self) -> List[str]:
        return self._call(self._ops.sandboxes())

    def memory(self, command: Mapping[str, Any], *,
               scope: Optional[str] = None,
               sandbox: Optional[str] = None) -> str:
        """Runs one command of Anthropic's memory tool; returns its text.
        A failure raises the error of its code, whose message is the
        tool's error text."""
        return self._call(self._ops.memory(command, scope, sandbox))

    def memory_tool_result(self, tool_use: Any, *,
                           scope: Optional[str] = None) -> Dict[str, Any]:
        """Executes a ``memory`` tool_use block of an Anthropic Messages
        response (an SDK object or a dict with ``id`` and ``input``) and
        returns the ``tool_result`` block to send back."""
        tid = tool_use["id"] if isinstance(tool_use, dict) else tool_use.id
        args = (tool_use["input"] if isinstance(tool_use, dict)
                else tool_use.input)
        try:
            text, error = self.memory(args, scope=scope), False
        except AgentKVError as e:
            text, error = e.message, True
        return {"type": "tool_result", "tool_use_id": tid, "content": text,
                "is_error": error}

    # ---- the agent-facing names of the MCP tools ----

    def get_instruction(self, name: str) -> str:
        return self.get("instructions", name).decode("utf-8")

    def list_instructions(self) -> Any:
        return self.instructions()

    def put_instruction(self, name: str, content: str,
                        description: Optional[str] = None) -> Meta:
        md: Dict[str, Any] = {"source": "client"}
        if description is not None:
            md["description"] = description
        return self.put("instructions", name, content,
                        content_type="text/markdown", metadata=md)

    def put_artifact(self, key: str, value: Union[bytes, str], *,
                     ttl: Union[None, int, str] = None,
                     content_type: Optional[str] = None,
                     metadata: Optional[Mapping[str, Any]] = None) -> Meta:
        return self.put("artifacts", key, value, ttl=ttl,
                        content_type=content_type, metadata=metadata)

    def get_artifact(self, key: str) -> bytes:
        return self.get("artifacts", key)

    def list_artifacts(self, prefix: Optional[str] = None) -> List[Meta]:
        return list(self.list("artifacts", prefix))

    def delete_artifact(self, key: str) -> None:
        self.delete("artifacts", key)

    def put_project_summary(self, summary: str) -> Meta:
        return self.put("project", "summary", summary,
                        content_type="text/markdown")

    def get_project_summary(self) -> str:
        return self.get("project", "summary").decode("utf-8")

    def cache_stats(self, scope: Optional[str] = None) -> Dict[str, Any]:
        return self.stats(scope)

    def prune_cache(self, scope: Optional[str] = None) -> Dict[str, int]:
        return self.prune(scope)
