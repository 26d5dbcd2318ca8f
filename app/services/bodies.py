"""JSON request bodies checked by pydantic models, refused in our words.

A service that takes a body describes it as a pydantic model (strict types: ``"3"`` and
``true`` are not integers) and calls ``check``. It is the one place where pydantic's
``ValidationError`` becomes our ``ServiceError``: ``Invalid`` (400 for a malformed shape,
422 for a broken rule) or ``NotFound`` (404), with the messages the pages and clients
show, never pydantic's own.

Pydantic reports every error it finds; a client is told one, the one the checks have always
put first. So each service lists its ``Refusal`` rules in that order, as steps: the first
step that names one of the errors is sent, and within a step the error that comes first in
the body (the first bad entry of a list or an object). A rule our own validators answer (a
rule that needs the whole body, or words that name the input) raises ``refuse`` with the
message; a rule of pydantic's (a type, a length, a bound) gets its message from its rule.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from app.services.errors import Invalid, NotFound, ServiceError

ANY = "*"  # in a location: any list index or object key
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Refusal:
    """The answer to pydantic's errors at ``at`` (a location, a prefix of the error's:
    field names, ``ANY`` for an index or key; ``()`` for any) of one of ``types`` (pydantic's
    error types, or the kinds given to ``refuse``; empty: any type): ``message`` (``None``:
    the error's own, for those ``refuse`` raised) with ``status``."""

    at: tuple[str, ...] = ()
    message: str | None = None
    status: int = 422
    types: frozenset[str] = frozenset()

    def names(self, error: Mapping[str, Any]) -> bool:
        loc = error["loc"]
        return (
            len(loc) >= len(self.at)
            and all(want in (ANY, got) for want, got in zip(self.at, loc, strict=False))
            and (not self.types or error["type"] in self.types)
        )

    def answer(self, error: Mapping[str, Any]) -> ServiceError:
        message = self.message if self.message is not None else error["msg"]
        return NotFound(message) if self.status == 404 else Invalid(message, self.status)


Step = Refusal | tuple[Refusal, ...]


def refuse(kind: str, message: str) -> PydanticCustomError:
    """The error a validator raises for a rule of ours: ``kind`` is the type a ``Refusal``
    names, ``message`` the words sent (given as data, so braces in it are not a template)."""
    return PydanticCustomError(kind, "{message}", {"message": message})


def check(model: type[M], data: Any, steps: Sequence[Step], context: dict | None = None) -> M:
    """``model`` validated from ``data`` (``context``: what validators read, e.g. limits
    from the config); raises the ``ServiceError`` of ``refusal``."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise refusal(exc, steps) from None


def refusal(exc: ValidationError, steps: Sequence[Step]) -> ServiceError:
    """The one refusal sent for ``exc``: the first step (a rule, or rules of equal rank)
    naming one of its errors, answered for the first such error in the body."""
    errors = exc.errors(include_url=False)
    for step in steps:
        rules = step if isinstance(step, tuple) else (step,)
        for error in errors:
            for rule in rules:
                if rule.names(error):
                    return rule.answer(error)
    # Every service's steps name all the errors its model makes (its tests walk them); an
    # error they miss is still the client's, so it is a 400, not a 500.
    first = errors[0]
    return Invalid(f"{'.'.join(map(str, first['loc'])) or 'body'}: {first['msg']}", 400)
