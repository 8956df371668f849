"""How a component's command gets what it works on: from the top-level CLI, through Typer's context.

The roof (``hotline/cli.py``) puts a :class:`PartsProvider` on the root context; a component's command asks
it for a part by its type (``parts(ctx, RoutingParts)``), typed, built on first use, closed at exit. No
command builds the application itself, and commands that need no database (provisioning the switch,
generating prompts) never open one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import typer

T = TypeVar("T")


class PartsProvider:
    def __init__(self, builders: dict[type[Any], Callable[[], Any]]) -> None:
        self._builders = builders
        self._built: dict[type[Any], Any] = {}

    def get(self, kind: type[T]) -> T:
        if kind not in self._built:
            builder = self._builders.get(kind)
            if builder is None:
                raise LookupError(f"the command line cannot build a {kind.__name__}")
            self._built[kind] = builder()
        value = self._built[kind]
        if not isinstance(value, kind):
            raise TypeError(f"built {type(value).__name__}, expected {kind.__name__}")
        return value


def parts(ctx: typer.Context, kind: type[T]) -> T:
    """The part of type ``kind`` of this command-line run."""
    provider = ctx.find_root().obj
    if not isinstance(provider, PartsProvider):
        raise RuntimeError("the hotline command line was not started through its root command")
    return provider.get(kind)
