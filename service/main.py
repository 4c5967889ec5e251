"""The ASGI application: routers, error handlers, and the catalogue loaded once at start."""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from service.api.body_size import BodySizeLimit
from service.api.docs_pages import install_docs_pages
from service.api.front_page import install_front_page
from service.api.metrics import forget_outbox, install_metrics, watch_outbox
from service.api.openapi import install_openapi, serve_directly
from service.api.openapi_texts import OPENAPI_TAGS
from service.api.problems import install_error_handlers
from service.api.ratelimit import RateLimits
from service.api.request_ids import RequestContext
from service.api.routes import (
    auth,
    catalogue,
    eligibility,
    enterprises,
    health,
    import_template,
    imports,
    match,
    match_export,
    plan,
    preview,
    publication,
    push,
)
from service.api.routes import (
    vocabularies as vocabulary_lists,
)
from service.api.routes.imports import IMPORTS_PATH
from service.console.app import install_console
from service.core.cursors import cursor_keys
from service.core.database import make_engine
from service.core.logs import configure_logging
from service.core.settings import Settings, get_settings
from service.matching.cases import load_checked_catalogue
from service.matching.metrics import DecisionTally
from service.policy.catalogue import CatalogueError
from service.policy.vocabulary import profile_accepts
from service.registry.import_runner import import_runner
from service.worker import Worker, announce_catalogue

DESCRIPTION = """
江门市推动专精特新中小企业倍增发展行动方案(2024-2026年)(江府办函〔2024〕13号)政策匹配服务:
给出企业符合哪些支持措施、差什么条件就能符合、还缺哪些信息,以及找哪个部门。每个答复都引用方案的条款原文,
并列出逐项核对的条件和决定结果的取值。

受保护的接口请先点 **Authorize**,用客户端编号和密钥(OAuth 2.0 client credentials)取得令牌;
措施目录接口无需令牌。答复语言由 `Accept-Language` 选择:zh-Hans(默认)、zh-Hant、en。

Which support measures of Jiangmen's plan for doubling its 专精特新 SMEs
(江府办函〔2024〕13号) an enterprise qualifies for, which it nearly qualifies for and what is
missing, and which department to go to. Every answer quotes the plan's clause and gives each
condition checked with the value that decided it. Use **Authorize** with a client id and
secret (OAuth 2.0 client credentials) to try the protected endpoints; the catalogue endpoints
need no token.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; the catalogue is loaded (and its cases run) before serving."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.log_json:  # when serving, not on import: importing has no side effects
            configure_logging(settings.log_level)
        catalogue = load_checked_catalogue(settings.policies_dir)
        if not profile_accepts(catalogue.vocabularies):
            raise CatalogueError(
                [
                    f"{settings.policies_dir / 'vocabularies.yaml'}: differs from the vocabularies "
                    "the profile schema was built from; start the service with this policies folder"
                ]
            )
        app.state.catalogue = catalogue
        engine = app.state.engine = make_engine(
            settings.database_url,
            sqlite_busy_seconds=0.1,
            statement_timeout_ms=settings.database_statement_timeout_ms,
        )
        # The catalogue on disk when a process starts is the one to serve: put it in force (a
        # no-op when it already is), in the background: a busy database must not stop a start.
        tasks = [asyncio.create_task(announce_catalogue(engine, catalogue))]
        stop = asyncio.Event()
        gauges = watch_outbox(app, engine) if settings.metrics_enabled else None
        if gauges is not None:  # the database's gauges, read in the background
            tasks.append(asyncio.create_task(gauges.run(stop)))
        app.state.imports = import_runner(engine, app.state, settings)
        # jobs left by a process gone marked interrupted, in the background like the catalogue
        tasks.append(asyncio.create_task(asyncio.to_thread(app.state.imports.start)))
        if settings.push_worker_in_process:
            app.state.worker = Worker(engine, settings, app.state, name=f"service-{os.getpid()}")
            tasks.append(asyncio.create_task(app.state.worker.run(stop)))
        try:
            yield
        finally:
            stop.set()
            tasks[0].cancel()
            with suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(
                    asyncio.gather(*tasks), timeout=settings.push_timeout_seconds + 5
                )
            forget_outbox(app)
            await asyncio.to_thread(app.state.imports.stop)
            engine.dispose()

    app = FastAPI(
        title="policy-match",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by install_docs_pages, with local assets
        redoc_url=None,
        openapi_tags=OPENAPI_TAGS,
        servers=(
            [{"url": settings.public_url, "description": "本服务 This service"}]
            if settings.public_url
            else None
        ),
    )
    app.state.settings = settings
    app.state.cursor_keys = cursor_keys(settings)
    app.state.rate_limits = RateLimits.from_settings(settings)
    app.state.decisions = DecisionTally()
    install_error_handlers(app)
    for router in (
        match.router,
        enterprises.direct,
        match_export.router,  # before enterprises.router: /matches is not a credit code
        imports.router,  # and neither are /imports nor /import-template.xlsx
        import_template.router,
        enterprises.router,
        eligibility.router,
        push.router,
        catalogue.router,
        vocabulary_lists.router,
        publication.router,
        preview.router,
        plan.router,
        auth.router,
        health.router,
    ):
        app.include_router(router)
    app.webhooks.include_router(push.webhooks)
    serve_directly(app, match.router)
    serve_directly(app, enterprises.direct)
    install_openapi(app)
    install_docs_pages(app)
    install_front_page(app)
    install_console(app)
    # inside the metrics: they count the 413 it answers, not what the app made of a cut body
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        paths={IMPORTS_PATH: settings.import_max_bytes},
    )
    if settings.metrics_enabled:
        install_metrics(app)
    app.add_middleware(RequestContext)  # outermost: every answer, a 413 too, has its id
    return app


app = create_app()
