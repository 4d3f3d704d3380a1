"""Replies to commands and queries: ``ok`` with a result, or an error naming field and reason."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError


class FieldError(BaseModel):
    """One rejected field: where (dotted path) and why. Never the rejected value itself."""

    model_config = ConfigDict(frozen=True)

    field: str
    reason: str


class ErrorBody(BaseModel):
    """Why a command or query was refused."""

    code: Literal[
        "validation_failed", "rule_violation", "not_found", "conflict", "forbidden", "unavailable"
    ]
    message: str
    fields: list[FieldError] = []


class Reply(BaseModel):
    """The envelope of every reply."""

    ok: bool
    result: dict[str, Any] | None = None
    error: ErrorBody | None = None

    @classmethod
    def success(cls, result: BaseModel | dict[str, Any]) -> Reply:
        data = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
        return cls(ok=True, result=data)

    @classmethod
    def failure(cls, code: str, message: str, fields: list[FieldError] | None = None) -> Reply:
        return cls(
            ok=False,
            error=ErrorBody(code=code, message=message, fields=fields or []),
        )


def field_errors(exc: ValidationError) -> list[FieldError]:
    """pydantic errors as field paths and reasons, without the input values."""
    out = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "is required"
        elif err["type"] == "extra_forbidden":
            msg = "is not a known field"
        out.append(FieldError(field=loc, reason=msg))
    return out


class CommandRejected(Exception):
    """Raised by domain or handler code to refuse a command with specific reasons."""

    def __init__(self, code: str, message: str, fields: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or []

    def reply(self) -> Reply:
        return Reply.failure(self.code, self.message, self.fields)


def refuse(code: str, message: str, field: str, reason: str) -> CommandRejected:
    """A refusal naming the one field that was wrong and why (never its value)."""
    return CommandRejected(code, message, [FieldError(field=field, reason=reason)])
