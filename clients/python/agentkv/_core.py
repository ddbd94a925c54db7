"""What the synchronous and asynchronous clients share.

Each REST call is described once, as an :class:`Op` (method, path, query,
headers, body, whether it may be retried, and how to read the answer);
:class:`agentkv.Client` sends it with httpx's blocking client and
:class:`agentkv.AsyncClient` with its asynchronous one, so the two cannot
drift apart. Keys and sandbox ids are validated here before anything is
sent (SPEC.md §1): an HTTP stack may normalise ``a/../b`` into ``b``,
which would address another key.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Generic, List, Mapping, Optional, \
    TypeVar, Union
from urllib.parse import quote

import httpx

from ._errors import InvalidArgument, error_from

T = TypeVar("T")

SCOPES = ("system", "instructions", "project", "task", "artifacts")
DEFAULT_URL = "http://127.0.0.1:8420"
_SANDBOX = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


def check_key(key: str) -> str:
    """Validates a key as SPEC.md §1 states; returns it path-encoded."""
    if not isinstance(key, str):
        raise InvalidArgument("key must be a string")
    raw = key.encode("utf-8")
    if not 1 <= len(raw) <= 255:
        raise InvalidArgument("key must be 1 to 255 bytes of UTF-8")
    if _CONTROL.search(key):
        raise InvalidArgument(
            "key must not hold control characters or backslash")
    if any(seg in ("", ".", "..") for seg in key.split("/")):
        raise InvalidArgument(
            "key must not have an empty, '.' or '..' segment, nor a "
            "leading or trailing '/'")
    return quote(key, safe="/")


def check_sandbox(sandbox: str) -> str:
    if not isinstance(sandbox, str) or not _SANDBOX.match(sandbox):
        raise InvalidArgument("sandbox must match [A-Za-z0-9_-]{1,64}")
    return sandbox


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise InvalidArgument(f"scope must be one of {', '.join(SCOPES)}")
    return scope


def ttl_text(ttl: Union[None, int, str]) -> Optional[str]:
    """A TTL as the server takes it: seconds, "45s".."7d", or "never"."""
    if ttl is None:
        return None
    if isinstance(ttl, bool):
        raise InvalidArgument("ttl must be seconds or a duration string")
    if isinstance(ttl, int):
        if ttl < 0:
            raise InvalidArgument("ttl must not be negative")
        return str(ttl)
    return ttl


@dataclass(frozen=True)
class Meta:
    """An entry's metadata (SPEC.md §1)."""

    sandbox: str
    origin: str
    scope: str
    key: str
    size: int
    content_type: str
    sha256: str
    version: int
    created_at: str
    updated_at: str
    expires_at: Optional[str]
    metadata: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Meta":
        return cls(sandbox=d["sandbox"], origin=d.get("origin", d["sandbox"]),
                   scope=d["scope"], key=d["key"], size=d["size"],
                   content_type=d["content_type"], sha256=d["sha256"],
                   version=d["version"], created_at=d["created_at"],
                   updated_at=d["updated_at"], expires_at=d.get("expires_at"),
                   metadata=dict(d.get("metadata") or {}))


@dataclass(frozen=True)
class Entry:
    """A value with what the server tells about it on a read."""

    value: bytes
    content_type: str
    sha256: str
    version: int
    origin: str
    expires_at: Optional[str]
    metadata: Dict[str, Any]

    @property
    def text(self) -> str:
        return self.value.decode("utf-8")

    @classmethod
    def from_response(cls, r: httpx.Response) -> "Entry":
        md = r.headers.get("x-agentkv-metadata")
        expires = r.headers.get("x-agentkv-expires-at")
        return cls(value=r.content,
                   content_type=r.headers.get("content-type", ""),
                   sha256=r.headers.get("etag", "").strip('"'),
                   version=int(r.headers.get("x-agentkv-version", "0")),
                   origin=r.headers.get("x-agentkv-origin", ""),
                   expires_at=None if expires in (None, "never") else expires,
                   metadata=json.loads(md) if md else {})


@dataclass(frozen=True)
class Page:
    """One page of a listing."""

    items: List[Meta]
    next_cursor: Optional[str]
    damaged: int


@dataclass
class Op(Generic[T]):
    """One request and how to read its answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Dict[str, str] = field(default_factory=dict)
    headers: Dict[str, str] = field(default_factory=dict)
    content: Optional[bytes] = None
    retry: bool = False       # idempotent: may be resent after a 503
    ok: tuple[int, ...] = ()  # statuses besides 2xx that are not errors


def raise_for(r: httpx.Response, ok: tuple[int, ...] = ()) -> None:
    if r.is_success or r.status_code in ok:
        return
    try:
        body: Any = r.json()
    except ValueError:
        body = None
    raise error_from(r.status_code, body, r.text)


def _json(r: httpx.Response) -> Any:
    return r.json()


def _text(r: httpx.Response) -> str:
    return r.text


def _none(r: httpx.Response) -> None:
    return None


class Ops:
    """Builds the Op of each call for one sandbox."""

    def __init__(self, sandbox: str) -> None:
        self.sandbox = check_sandbox(sandbox)

    def _sb(self, sandbox: Optional[str]) -> str:
        return f"/v1/sandboxes/{check_sandbox(sandbox or self.sandbox)}"

    def _kv(self, scope: str, key: str, sandbox: Optional[str]) -> str:
        return (f"{self._sb(sandbox)}/kv/{check_scope(scope)}/"
                f"{check_key(key)}")

    def put(self, scope: str, key: str, value: Union[bytes, str], *,
            ttl: Union[None, int, str], content_type: Optional[str],
            metadata: Optional[Mapping[str, Any]], if_match: Optional[str],
            create: bool, sandbox: Optional[str]) -> Op[Meta]:
        if isinstance(value, str):
            body = value.encode("utf-8")
            content_type = content_type or "text/plain; charset=utf-8"
        else:
            body = bytes(value)
        headers: Dict[str, str] = {}
        if content_type:
            headers["Content-Type"] = content_type
        if metadata is not None:
            headers["X-Agentkv-Metadata"] = json.dumps(
                dict(metadata), separators=(",", ":"), ensure_ascii=True)
        if if_match:
            headers["If-Match"] = f'"{if_match}"'
        if create:
            headers["If-None-Match"] = "*"
        params: Dict[str, str] = {}
        t = ttl_text(ttl)
        if t is not None:
            params["ttl"] = t
        conditional = bool(if_match) or create
        return Op("PUT", self._kv(scope, key, sandbox),
                  lambda r: Meta.from_json(r.json()), params=params,
                  headers=headers, content=body, retry=not conditional)

    def get(self, scope: str, key: str, cached: Optional[Entry],
            sandbox: Optional[str]) -> Op[Entry]:
        headers = {"If-None-Match": f'"{cached.sha256}"'} if cached else {}

        def parse(r: httpx.Response) -> Entry:
            if r.status_code == 304 and cached is not None:
                return cached
            return Entry.from_response(r)
        return Op("GET", self._kv(scope, key, sandbox), parse,
                  headers=headers, retry=True, ok=(304,))

    def head(self, scope: str, key: str,
             sandbox: Optional[str]) -> Op[Entry]:
        return Op("HEAD", self._kv(scope, key, sandbox),
                  Entry.from_response, retry=True)

    def delete(self, scope: str, key: str,
               sandbox: Optional[str]) -> Op[None]:
        return Op("DELETE", self._kv(scope, key, sandbox), _none)

    def page(self, scope: str, prefix: Optional[str], cursor: Optional[str],
             limit: Optional[int], include_expired: bool,
             sandbox: Optional[str]) -> Op[Page]:
        params: Dict[str, str] = {}
        if prefix:
            params["prefix"] = prefix
        if cursor:
            params["cursor"] = cursor
        if limit:
            params["limit"] = str(limit)
        if include_expired:
            params["include_expired"] = "true"

        def parse(r: httpx.Response) -> Page:
            d = r.json()
            return Page([Meta.from_json(i) for i in d["items"]],
                        d.get("next_cursor"), int(d.get("damaged", 0)))
        return Op("GET", f"{self._sb(sandbox)}/kv/{check_scope(scope)}",
                  parse, params=params, retry=True)

    def clear(self, scope: str, sandbox: Optional[str]) -> Op[int]:
        return Op("DELETE", f"{self._sb(sandbox)}/kv/{check_scope(scope)}",
                  lambda r: int(r.json()["deleted"]))

    def stats(self, scope: Optional[str],
              sandbox: Optional[str]) -> Op[Dict[str, Any]]:
        params = {"scope": check_scope(scope)} if scope else {}
        return Op("GET", f"{self._sb(sandbox)}/stats", _json, params=params,
                  retry=True)

    def prune(self, scope: Optional[str],
              sandbox: Optional[str]) -> Op[Dict[str, int]]:
        params = {"scope": check_scope(scope)} if scope else {}
        return Op("POST", f"{self._sb(sandbox)}/prune",
                  lambda r: dict(r.json()["pruned"]), params=params)

    def instructions(self, sandbox: Optional[str]) -> Op[Any]:
        return Op("GET", f"{self._sb(sandbox)}/instructions", _json,
                  retry=True)

    def prompt(self, mode: Optional[str], inline: Optional[List[str]],
               budget: Optional[int], base_key: Optional[str],
               sandbox: Optional[str]) -> Op[str]:
        params: Dict[str, str] = {}
        if mode:
            params["mode"] = mode
        if inline:
            params["inline"] = ",".join(inline)
        if budget is not None:
            params["budget"] = str(budget)
        if base_key:
            params["base_key"] = base_key
        return Op("GET", f"{self._sb(sandbox)}/prompt", _text, params=params,
                  retry=True)

    def seed(self, force: bool, prune: bool) -> Op[Dict[str, Any]]:
        params: Dict[str, str] = {}
        if force:
            params["force"] = "true"
        if prune:
            params["prune"] = "true"
        return Op("POST", "/v1/seed", _json, params=params)

    def sandboxes(self) -> Op[List[str]]:
        return Op("GET", "/v1/sandboxes",
                  lambda r: list(r.json()["sandboxes"]), retry=True)

    def memory(self, command: Mapping[str, Any], scope: Optional[str],
               sandbox: Optional[str]) -> Op[str]:
        params = {"scope": check_scope(scope)} if scope else {}
        body = json.dumps(dict(command)).encode("utf-8")
        return Op("POST", f"{self._sb(sandbox)}/memory", _text, params=params,
                  headers={"Content-Type": "application/json"}, content=body)


def settings(url: Optional[str], token: Optional[str]) -> tuple[str, Optional[str]]:
    """The server URL and token, from the arguments or the environment."""
    return (url or os.environ.get("AGENTKV_URL") or DEFAULT_URL,
            token or os.environ.get("AGENTKV_TOKEN") or None)


def backoff(attempt: int, r: httpx.Response) -> float:
    """Seconds to wait before resending after a 503: Retry-After when the
    server gives one (capped), else 0.1 s doubling."""
    ra = str(r.headers.get("retry-after", ""))
    if ra.isdigit():
        return min(float(ra), 5.0)
    return min(0.1 * (1 << min(attempt, 10)), 2.0)
