"""The Swagger UI page, served with its scripts from this process.

The service runs on a government intranet with no internet access: FastAPI's own pages load
their scripts, styles and icon from a CDN and would stay blank there. The assets come from the
`fastapi-offline` package (pinned copies of swagger-ui-dist and ReDoc) and are served here.
ReDoc's script shows a logo it loads from cdn.redoc.ly whatever its options say: the copy served
points that image nowhere, and ReDoc hides an image that does not load.
"""

import hashlib
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"
DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
REDOC_URL = "/redoc"
REDOC_SCRIPT_URL = "/redoc-assets/redoc.standalone.js"
REDOC_LOGO = b'"https://cdn.redoc.ly/redoc/logo-mini.svg"'

# No call to validator.swagger.io; the Authorize dialog remembers its token across reloads;
# the rest as FastAPI's defaults.
SWAGGER_UI_PARAMETERS = {
    "validatorUrl": None,
    "deepLinking": True,
    "persistAuthorization": True,  # a token survives a reload of the page (localStorage)
    "tryItOutEnabled": False,
}


def assets_folder() -> str:
    """The folder of the vendored Swagger UI and ReDoc files."""
    return str(files("fastapi_offline") / "static")


@lru_cache(maxsize=1)
def redoc_script() -> tuple[bytes, str]:
    """ReDoc's script with its remote logo pointed nowhere, and the copy's entity tag."""
    script = (Path(assets_folder()) / "redoc.standalone.js").read_bytes()
    script = script.replace(REDOC_LOGO, b'"data:,"')
    return script, '"' + hashlib.sha256(script).hexdigest()[:16] + '"'


def install_docs_pages(app: FastAPI) -> None:
    """Serve /docs, its OAuth2 redirect page and /redoc with every asset from this origin."""
    app.mount(ASSETS_URL, StaticFiles(directory=assets_folder()), name="docs-assets")

    def here(request: Request, path: str) -> str:
        """The path as the browser must ask for it, behind any root path."""
        return f"{request.scope.get('root_path', '')}{path}"

    def asset(request: Request, name: str) -> str:
        return here(request, f"{ASSETS_URL}/{name}")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        """The Swagger UI."""
        return get_swagger_ui_html(
            openapi_url=here(request, str(app.openapi_url)),
            title=f"{app.title} · 接口文档 (Swagger UI)",
            oauth2_redirect_url=here(request, OAUTH2_REDIRECT_URL),
            swagger_js_url=asset(request, "swagger-ui-bundle.js"),
            swagger_css_url=asset(request, "swagger-ui.css"),
            swagger_favicon_url=asset(request, "favicon.png"),
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        """The page the Swagger UI's OAuth2 flows return to."""
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        """The same document rendered by ReDoc."""
        return get_redoc_html(
            openapi_url=here(request, str(app.openapi_url)),
            title=f"{app.title} · 接口文档 (ReDoc)",
            redoc_js_url=here(request, REDOC_SCRIPT_URL),
            redoc_favicon_url=asset(request, "favicon.png"),
            with_google_fonts=False,
        )

    @app.get(REDOC_SCRIPT_URL, include_in_schema=False)
    async def redoc_js(request: Request) -> Response:
        """ReDoc's script, as served (cached by the browser until it changes)."""
        script, etag = redoc_script()
        headers = {"ETag": etag, "Cache-Control": "public, max-age=86400"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(script, media_type="text/javascript", headers=headers)
