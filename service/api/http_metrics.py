"""Requests by route, method and status, and latency by route: what the dashboards use.

The series are prometheus-fastapi-instrumentator's (`http_requests_total`,
`http_request_duration_seconds`), fed by a pure ASGI middleware of ours: FastAPI leaves the
route it chose in `scope["route"]`, so the template costs nothing once routing is done (the
instrumentator's own lookup walks every router before each request, about a third of a trivial
GET's time, measured).
"""

from collections.abc import Callable, Sequence
from timeit import default_timer

from prometheus_fastapi_instrumentator.metrics import Info
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.route_table import RouteTable

UNROUTED = "none"  # the label of a path no route serves (unbounded paths, one series)


class HttpMetrics:
    """Count and time each request, labelled by the template of the route that served it."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        instrumentations: Sequence[Callable[[Info], None]],
        templates: RouteTable,
        excluded: str,
    ) -> None:
        self.app = app
        self.instrumentations = tuple(instrumentations)
        self.templates = templates
        self.excluded = excluded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request, then record it under its route template."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = default_timer()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            handler = self.handler(scope)
            if handler is not None:
                info = Info(
                    request=Request(scope),
                    response=None,
                    method=scope["method"],
                    modified_handler=handler,
                    modified_status=str(status),
                    modified_duration=max(default_timer() - started, 0.0),
                )
                for instrumentation in self.instrumentations:
                    instrumentation(info)

    def handler(self, scope: Scope) -> str | None:
        """The request's label: its route template, "none" when no route serves its path, or
        None when it is not counted (/metrics itself)."""
        template: str | None = getattr(scope.get("route"), "path_format", None)
        if template is None:
            # answered before routing (a declared body over the limit), or by a route that does
            # not name itself (a mount, /openapi.json): the table knows, one lookup when static
            template = self.templates.template(scope["path"])
        if self.excluded in (template or scope["path"]):
            return None
        return template or UNROUTED
