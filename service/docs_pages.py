"""The Swagger UI page, served with its scripts from this process.

The service runs on a government intranet with no internet access: FastAPI's own pages load
their scripts, styles and icon from a CDN and would stay blank there. The assets come from the
`fastapi-offline` package (a pinned copy of swagger-ui-dist) and are served here. ReDoc is not
offered: its page loads its logo from cdn.redoc.ly whatever its options say.
"""

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"
DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"

# No call to validator.swagger.io; the rest as FastAPI's defaults.
SWAGGER_UI_PARAMETERS = {
    "validatorUrl": None,
    "deepLinking": True,
    "persistAuthorization": False,
    "tryItOutEnabled": False,
}


def assets_folder() -> str:
    """The folder of the vendored Swagger UI files."""
    return str(files("fastapi_offline") / "static")


def install_docs_pages(app: FastAPI) -> None:
    """Serve /docs and its OAuth2 redirect page with every asset from this origin."""
    app.mount(ASSETS_URL, StaticFiles(directory=assets_folder()), name="docs-assets")

    def asset(request: Request, name: str) -> str:
        return f"{request.scope.get('root_path', '')}{ASSETS_URL}/{name}"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        """The Swagger UI."""
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} · 接口文档 (Swagger UI)",
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_URL}",
            swagger_js_url=asset(request, "swagger-ui-bundle.js"),
            swagger_css_url=asset(request, "swagger-ui.css"),
            swagger_favicon_url=asset(request, "favicon.png"),
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        """The page the Swagger UI's OAuth2 flows return to."""
        return get_swagger_ui_oauth2_redirect_html()
