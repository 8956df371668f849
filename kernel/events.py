"""Events that travel between processes: typed, named, versioned, and checked on the way in.

A component marks an event dataclass that other processes need with ``@wire("component.name", version)``.
Only marked events leave the process; every other event stays on the in-process bus. On the wire an event
is one JSON object::

    {"type": "telephony.call_answered", "v": 1, "id": "…", "origin": "…", "data": {…fields…}}

``decode`` rebuilds the dataclass from its type hints (datetimes, tuples, lists, nested dataclasses,
optionals); a message of an unknown type, of an unknown version, or whose fields do not fit is refused with
:class:`WireError` — the consumer logs it and drops it, and never crashes on it.
"""

from __future__ import annotations

import dataclasses
import json
import time
import types
import typing
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")

MAX_MESSAGE_BYTES = 512 * 1024


class WireError(ValueError):
    """A message that is not a known event of a known version."""


@dataclasses.dataclass(frozen=True)
class WireType:
    name: str
    version: int
    cls: type[Any]


_BY_NAME: dict[tuple[str, int], WireType] = {}
_BY_CLASS: dict[type[Any], WireType] = {}


def wire(name: str, version: int = 1) -> Callable[[type[T]], type[T]]:
    """Register a frozen dataclass as an event other processes receive (name unique, version ≥ 1)."""

    def register(cls: type[T]) -> type[T]:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__} is not a dataclass")
        existing = _BY_NAME.get((name, version))
        if existing is not None and existing.cls is not cls:
            raise ValueError(f"wire event {name} v{version} is already {existing.cls.__name__}")
        entry = WireType(name, version, cls)
        _BY_NAME[(name, version)] = entry
        _BY_CLASS[cls] = entry
        return cls

    return register


def wire_type(event: object) -> WireType | None:
    """The registration of ``event``'s exact class, or None for an in-process-only event."""
    return _BY_CLASS.get(type(event))


def registered() -> list[WireType]:
    return sorted(_BY_NAME.values(), key=lambda w: (w.name, w.version))


# ---- encoding -----------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise WireError("naive datetime in an event")
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "value") and not isinstance(value, str | int | float | bool):  # enums
        return value.value
    return value


def encode(event: object, origin: str) -> bytes:
    entry = wire_type(event)
    if entry is None:
        raise WireError(f"{type(event).__name__} is not a wire event")
    envelope = {
        "type": entry.name,
        "v": entry.version,
        "id": uuid.uuid4().hex,
        "origin": origin,
        "at": time.time(),
        "data": _plain(event),
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


# ---- decoding -----------------------------------------------------------------------------------------
def _hints(cls: type[Any]) -> dict[str, Any]:
    module = typing.cast(Any, __import__(cls.__module__, fromlist=["_"]))
    return get_type_hints(cls, globalns=vars(module))


def _build(tp: Any, value: Any, where: str) -> Any:
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _build(option, value, where)
            except (WireError, TypeError, ValueError):
                continue
        raise WireError(f"{where}: {value!r} fits none of {tp}")
    if origin is Literal:
        if value not in get_args(tp):
            raise WireError(f"{where}: {value!r} is not one of {get_args(tp)}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, list):
            raise WireError(f"{where}: expected a list")
        args = get_args(tp)
        item = args[0] if args else Any
        items = [_build(item, v, f"{where}[]") for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise WireError(f"{where}: expected an object")
        return dict(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass(tp, value, where)
    if tp is datetime:
        if not isinstance(value, str):
            raise WireError(f"{where}: expected an ISO time")
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise WireError(f"{where}: time without a zone")
        return parsed
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp in (str, int, bool):
        if type(value) is not tp:
            raise WireError(f"{where}: expected {tp.__name__}")
        return value
    if isinstance(tp, type) and hasattr(tp, "__members__"):  # an Enum
        return tp(value)
    raise WireError(f"{where}: cannot read a {tp!r}")


def _dataclass(cls: type[T], data: Any, where: str) -> T:
    if not isinstance(data, dict):
        raise WireError(f"{where}: expected an object")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            kwargs[f.name] = _build(hints[f.name], data[f.name], f"{where}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise WireError(f"{where}: missing field {f.name}")
    return cls(**kwargs)


@dataclasses.dataclass(frozen=True)
class Received:
    event: Any
    origin: str
    id: str
    sent_at: float = 0.0


def decode(payload: bytes) -> Received:
    if len(payload) > MAX_MESSAGE_BYTES:
        raise WireError("message too large")
    try:
        envelope = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"not JSON: {exc}") from exc
    if not isinstance(envelope, dict):
        raise WireError("not an event envelope")
    name, version = envelope.get("type"), envelope.get("v")
    if not isinstance(name, str) or not isinstance(version, int):
        raise WireError("no type or version")
    entry = _BY_NAME.get((name, version))
    if entry is None:
        raise WireError(f"unknown event {name} v{version}")
    try:
        event = _dataclass(entry.cls, envelope.get("data"), name)
    except (TypeError, ValueError) as exc:
        raise WireError(f"{name}: {exc}") from exc
    sent_at = envelope.get("at")
    return Received(
        event,
        str(envelope.get("origin", "")),
        str(envelope.get("id", "")),
        float(sent_at) if isinstance(sent_at, int | float) and not isinstance(sent_at, bool) else 0.0,
    )
