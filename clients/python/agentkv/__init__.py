"""agentkv: Python client of agentkv's REST API (SPEC.md §4, §9).

    import agentkv
    kv = agentkv.Client("http://127.0.0.1:8420", token="akv_...", sandbox="sb1")
    kv.put("task", "plan", "step 1")
    print(kv.get("task", "plan"))

Client is blocking, AsyncClient the same methods for asyncio; both on httpx.
Errors are the AgentKVError subclass of their code (NotFound,
QuotaExceeded, PreconditionFailed, ...).
"""
from ._async import AsyncClient
from ._client import Client
from ._core import SCOPES, Entry, Meta, Page
from ._errors import (AgentKVError, BufferTooSmall, Forbidden,
                      IntegrityError, InvalidArgument, NotFound, OutOfMemory,
                      PreconditionFailed, QuotaExceeded, Unauthorized,
                      Unavailable, ValueTooLarge)

__all__ = [
    "AgentKVError", "AsyncClient", "BufferTooSmall", "Client", "Entry",
    "Forbidden", "IntegrityError", "InvalidArgument", "Meta", "NotFound",
    "OutOfMemory", "Page", "PreconditionFailed", "QuotaExceeded", "SCOPES",
    "Unauthorized", "Unavailable", "ValueTooLarge",
]
__version__ = "0.1.0"
