"""A Protocol's methods as calls on the wire, derived from their signatures.

One call is `POST /internal/v1/<module>/<Protocol>/<method>` with the arguments as a JSON object (msgspec,
typed by the parameters' annotations) and, on 200, the return value encoded by the method's return
annotation. A domain error raised by the implementation comes back in the error shape with `errorTypes`, the
qualified names of its classes from its own up to `DomainError`; the client raises the first of them that it
can name publicly (the owning module's `api.py` or `kernel.contracts.errors`), so `EmailTaken` arrives as
`EmailTaken` and an error private to the module as its public family (`Conflict`), with the same message.
"""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from types import NoneType
from typing import Any, Protocol

import msgspec

from kernel.contracts import errors as contract_errors
from kernel.contracts.calls import is_idempotent
from kernel.contracts.errors import DomainError, ServiceUnavailable, TooManyRequests, ValidationFailed

INTERNAL_PREFIX = "/internal/v1"
HOSTED_PATH = "/hosted"
"""`GET /internal/v1/hosted`: the modules and Protocols a process serves (what the health probe asks)."""


@dataclass(frozen=True)
class MethodSpec:
    """One Protocol method as a call: its path, its argument and result codecs, whether it may be repeated."""

    module: str
    protocol: type[Any]
    name: str
    signature: inspect.Signature
    """The method's parameters without `self`."""
    arguments: type[msgspec.Struct]
    returns: Any
    idempotent: bool

    @property
    def path(self) -> str:
        """Under `INTERNAL_PREFIX`."""
        return f"/{self.module}/{self.protocol.__name__}/{self.name}"

    @property
    def label(self) -> str:
        return f"{self.protocol.__name__}.{self.name}"

    def encode_call(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> bytes:
        """The arguments of a call as the client sends them; a call that does not fit the signature is a
        TypeError, as it would be in process."""
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return msgspec.json.encode(self.arguments(**bound.arguments))

    def decode_call(self, body: bytes) -> dict[str, Any]:
        """The keyword arguments a request body carries; raises msgspec.DecodeError/ValidationError."""
        decoded = _decoder(self.arguments).decode(body)
        return {name: getattr(decoded, name) for name in self.arguments.__struct_fields__}

    def encode_result(self, value: Any) -> bytes:
        return msgspec.json.encode(value)

    def decode_result(self, body: bytes) -> Any:
        """The return value, checked against the annotation; raises msgspec.DecodeError/ValidationError."""
        return _decoder(self.returns).decode(body)


@cache
def _decoder(tp: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(tp)


class NotCallableRemotely(TypeError):
    """A Protocol member the wire cannot carry (not an `async def`, or without annotations): refused at start."""


def _is_protocol_class(cls: type[Any]) -> bool:
    return cls is not Protocol and getattr(cls, "_is_protocol", False) is True


_described: dict[tuple[str, type[Any]], tuple[MethodSpec, ...]] = {}


def protocol_methods(module: str, protocol: type[Any]) -> tuple[MethodSpec, ...]:
    """Every public method of `protocol` (and of the Protocols it extends), in definition order."""
    key = (module, protocol)
    if key not in _described:
        _described[key] = _describe(module, protocol)
    return _described[key]


def _describe(module: str, protocol: type[Any]) -> tuple[MethodSpec, ...]:
    found: dict[str, MethodSpec] = {}
    for cls in reversed(protocol.__mro__):
        if not _is_protocol_class(cls):
            continue
        for name, member in vars(cls).items():
            if name.startswith("_"):
                continue
            if not inspect.iscoroutinefunction(member):
                raise NotCallableRemotely(f"{protocol.__name__}.{name} is not an async method")
            found[name] = _method_spec(module, protocol, name, member)
    return tuple(found.values())


def _method_spec(module: str, protocol: type[Any], name: str, function: Any) -> MethodSpec:
    where = f"{protocol.__name__}.{name}"
    hints = typing.get_type_hints(function)
    parameters = list(inspect.signature(function).parameters.values())[1:]  # without self
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for parameter in parameters:
        if parameter.kind in {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD}:
            raise NotCallableRemotely(f"{where}: *args and **kwargs cannot be sent")
        if parameter.name not in hints:
            raise NotCallableRemotely(f"{where}: parameter {parameter.name!r} has no annotation")
        if parameter.default is inspect.Parameter.empty:
            fields.append((parameter.name, hints[parameter.name]))
        else:
            fields.append((parameter.name, hints[parameter.name], parameter.default))
    if "return" not in hints:
        raise NotCallableRemotely(f"{where}: no return annotation")
    returns = None if hints["return"] is NoneType else hints["return"]
    arguments = msgspec.defstruct(
        f"{protocol.__name__}_{name}_arguments", fields, kw_only=True, frozen=True, forbid_unknown_fields=True
    )
    return MethodSpec(
        module=module,
        protocol=protocol,
        name=name,
        signature=inspect.Signature(parameters),
        arguments=arguments,
        returns=returns,
        idempotent=is_idempotent(function),
    )


# ---- domain errors on the wire


class RemoteError(msgspec.Struct, kw_only=True, rename="camel"):
    """What the client reads of an error answer (the error shape; `errorTypes` only for domain errors)."""

    message: str = ""
    status_code: int = 0
    error_types: list[str] = msgspec.field(default_factory=list)
    field_errors: dict[str, list[str]] | None = None


def qualified_name(cls: type[Any]) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def error_types(error: DomainError) -> list[str]:
    """`error`'s classes, its own first, up to `DomainError`."""
    return [
        qualified_name(cls) for cls in type(error).__mro__ if isinstance(cls, type) and issubclass(cls, DomainError)
    ]


def public_errors(protocol: type[Any]) -> dict[str, type[DomainError]]:
    """The domain errors a client of `protocol` may raise by name: those of the module that defines it (its
    `api.py`) and the families of `kernel.contracts.errors`."""
    found: dict[str, type[DomainError]] = {}
    for namespace in (vars(contract_errors), vars(sys.modules[protocol.__module__])):
        for value in namespace.values():
            if isinstance(value, type) and issubclass(value, DomainError):
                found[qualified_name(value)] = value
    return found


def decode_error(body: bytes) -> RemoteError | None:
    try:
        return msgspec.json.decode(body, type=RemoteError)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def rebuild_error(protocol: type[Any], error: RemoteError, retry_after: int | None) -> DomainError | None:
    """The domain error the implementation raised, as the first of its classes the caller may name; None for
    an answer that carries no domain error."""
    known = public_errors(protocol)
    cls = next((known[name] for name in error.error_types if name in known), None)
    if cls is None:
        return None
    message = error.message or None
    if issubclass(cls, ValidationFailed):
        return cls(error.field_errors or {}, message)
    if issubclass(cls, TooManyRequests):
        return cls(retry_after or 1, message)
    if issubclass(cls, ServiceUnavailable):
        return cls(message, retry_after)
    return cls(message)
