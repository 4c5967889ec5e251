"""Rendering a console page: the Jinja2 templates, the language, the session and the nav.

Every page template extends `base.html` and is given: `_` (gettext in the page's language),
`tr` (a Message, or any text, in that language),
`language`, `languages` (code, name and this page's address in it, for the switch),
`session` (or None), `csrf` (the session's token for forms), `nav` (the pages this session
may open) and `root` (the path the service is mounted at).
Data a page's script needs goes in a `<script type="application/json">` block: the Content
Security Policy runs no inline script, only files under /console/static.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from service.console.language import LANGUAGE_COOKIE, LANGUAGE_NAMES, console_language, gettext_for
from service.console.session import ConsoleSession, read_session
from service.core.i18n import LANGUAGES, Message, message, translate

TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))
TEMPLATES.env.autoescape = True

# Nothing but this origin: scripts and styles from files only, no inline script, no frames.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Vary": "Accept-Language, Cookie",
}


@dataclass(frozen=True)
class NavItem:
    """One page in the console's navigation; `scope` None: a public page."""

    path: str
    title: Message
    scope: str | None = None


# The pages in the order the nav shows them (each page's module registers its own route).
NAV: tuple[NavItem, ...] = (
    NavItem("/console/plan", message("Plan text")),
    NavItem("/console/measures", message("Measures")),
    NavItem("/console/calculator", message("Policy calculator")),
    NavItem("/console/progress", message("Progress toward targets")),
    NavItem("/console/preview", message("Impact preview"), "catalogue:admin"),
    NavItem("/console/push", message("Push"), "push"),
    NavItem("/console/disclosures", message("Disclosures"), "audit:read"),
)


def visible_nav(session: ConsoleSession | None) -> list[NavItem]:
    """The pages shown in the nav: the public ones, and those the session's scopes open."""
    return [
        item
        for item in NAV
        if item.scope is None or (session is not None and session.allows(item.scope))
    ]


def switched_query(request: Request, language: str) -> str:
    """This page's query with `lang` set to `language` (the calculator's profile is kept)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return "?" + urlencode([*kept, ("lang", language)])


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """A console page: `template` with the page's common context, language and headers."""
    language = console_language(request)
    session = read_session(request)
    common = {
        "_": gettext_for(language),
        "tr": lambda text: translate(text, language),
        "language": language,
        "languages": [
            (code, LANGUAGE_NAMES[code], switched_query(request, code)) for code in LANGUAGES
        ],
        "session": session,
        "csrf": session.csrf if session else "",
        "nav": visible_nav(session),
        "root": request.scope.get("root_path", ""),
        "path": request.url.path,
    }
    response = TEMPLATES.TemplateResponse(
        request, template, {**common, **(context or {})}, status_code=status
    )
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Language"] = language
    if request.query_params.get("lang") == language:  # a switch remembered for the next pages
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=365 * 86_400, samesite="lax", path="/console"
        )
    return response
