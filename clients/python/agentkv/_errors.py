"""Errors: one exception class per error code of SPEC.md §2.

Every failure the server reports is raised as the class of its ``code``
(``not_found`` -> :class:`NotFound`, ...), all subclasses of
:class:`AgentKVError`, which carries the code, the message and the HTTP
status. :class:`QuotaExceeded` adds the figures of the scope's quota.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Type


class AgentKVError(Exception):
    """A failure reported by agentkv (or detected by the client first)."""

    code = "error"

    def __init__(self, message: str, *, status: int = 0,
                 body: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body: Dict[str, Any] = body or {}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidArgument(AgentKVError):
    code = "invalid_argument"


class Unauthorized(AgentKVError):
    code = "unauthorized"


class Forbidden(AgentKVError):
    code = "forbidden"


class NotFound(AgentKVError):
    code = "not_found"


class PreconditionFailed(AgentKVError):
    code = "precondition_failed"


class ValueTooLarge(AgentKVError):
    code = "value_too_large"


class QuotaExceeded(AgentKVError):
    """The write would take the scope over its quota; nothing changed."""

    code = "quota_exceeded"

    def __init__(self, message: str, *, status: int = 0,
                 body: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message, status=status, body=body)
        err = (body or {})
        self.scope: Optional[str] = err.get("scope")
        self.used: Optional[int] = err.get("used")
        self.quota: Optional[int] = err.get("quota")
        self.would_be: Optional[int] = err.get("would_be")


class IntegrityError(AgentKVError):
    code = "integrity_error"


class Unavailable(AgentKVError):
    code = "unavailable"


class OutOfMemory(AgentKVError):
    code = "out_of_memory"


class BufferTooSmall(AgentKVError):
    code = "buffer_too_small"


ERRORS: Dict[str, Type[AgentKVError]] = {
    cls.code: cls
    for cls in (InvalidArgument, Unauthorized, Forbidden, NotFound,
                PreconditionFailed, ValueTooLarge, QuotaExceeded,
                IntegrityError, Unavailable, OutOfMemory, BufferTooSmall)
}

# The status of each code, for answers whose body is not agentkv's.
_BY_STATUS: Dict[int, Type[AgentKVError]] = {
    400: InvalidArgument, 401: Unauthorized, 403: Forbidden, 404: NotFound,
    412: PreconditionFailed, 413: ValueTooLarge, 507: QuotaExceeded,
    500: IntegrityError, 503: Unavailable,
}


def error_from(status: int, body: Any, text: str) -> AgentKVError:
    """The exception for an error answer (status, parsed JSON or None)."""
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict) and isinstance(err.get("code"), str):
        cls = ERRORS.get(err["code"], AgentKVError)
        return cls(str(err.get("message", "")), status=status, body=err)
    cls = _BY_STATUS.get(status, AgentKVError)
    return cls(text[:200] or f"HTTP {status}", status=status)
