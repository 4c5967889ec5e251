"""The application's routes as one table, built once: a path's template and its methods.

FastAPI keeps included routers whole and each route has its own methods, so both questions
would otherwise walk every router. Asked for a 405's Allow header (every method served at the
path), and by the HTTP metrics for a request no route named in its scope (answered before
routing, or by a mount). Static paths are one dict lookup; templated ones a pass over
precompiled patterns.
"""

import re

from fastapi.routing import iter_route_contexts
from starlette.applications import Starlette
from starlette.routing import compile_path


class RouteTable:
    """Every route template of an application with the methods served there."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self._static: dict[str, set[str]] | None = None
        self._patterns: list[tuple[re.Pattern[str], str]] = []

    def _build(self) -> dict[str, set[str]]:
        methods: dict[str, set[str]] = {}
        for context in iter_route_contexts(self.app.router.routes):
            if context.path_format:
                methods.setdefault(context.path_format, set()).update(context.methods or ())
        self._patterns = [(compile_path(t)[0], t) for t in methods if "{" in t]
        self._static = methods
        return methods

    def _templates(self, path: str) -> list[str]:
        table = self._static if self._static is not None else self._build()
        if path in table:
            return [path]
        return [template for regex, template in self._patterns if regex.match(path)]

    def template(self, path: str) -> str | None:
        """The template serving `path`, or None."""
        if self._static is not None and path in self._static:
            return path
        found = self._templates(path)
        return found[0] if found else None

    def methods(self, path: str) -> list[str]:
        """Every method served at `path`, sorted."""
        table = self._static if self._static is not None else self._build()
        return sorted({m for t in self._templates(path) for m in table[t]})


def route_table(app: Starlette) -> RouteTable:
    """The application's table, made on first use."""
    table: RouteTable | None = getattr(app.state, "route_table", None)
    if table is None:
        table = app.state.route_table = RouteTable(app)
    return table
