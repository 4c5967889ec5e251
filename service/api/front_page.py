"""GET /: a small page that leads a person to the documentation, the code lists and health.

Served from this process with nothing from elsewhere (the intranet reaches no other host: the
style is inline and the icon is the docs' own). Chinese first; `Accept-Language` (or `?lang=`,
for a person whose browser says otherwise) picks zh-Hant or English. Not an API operation, so
not in the OpenAPI document.
"""

from functools import lru_cache
from html import escape
from typing import NamedTuple

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from service.api.docs_pages import ASSETS_URL, DOCS_URL, REDOC_URL
from service.core.i18n import LANGUAGES, Language, negotiate_language


class Link(NamedTuple):
    """One destination of the page, described in each language."""

    path: str
    text: dict[Language, str]


LINKS = (
    Link(
        "/console/",
        {
            "zh-Hans": "政策工作台:方案原文、政策措施、政策计算器、目标进度",
            "zh-Hant": "政策工作台:方案原文、政策措施、政策計算器、目標進度",
            "en": "The policy console: the plan, the measures, a policy calculator, progress",
        },
    ),
    Link(
        DOCS_URL,
        {
            "zh-Hans": "接口文档(Swagger UI):在浏览器里试用接口;"
            "受保护的接口先点 Authorize 取得令牌",
            "zh-Hant": "介面文件(Swagger UI):在瀏覽器裡試用介面;"
            "受保護的介面先點 Authorize 取得權杖",
            "en": "API documentation (Swagger UI): try the API in the browser; use Authorize "
            "for a token first",
        },
    ),
    Link(
        REDOC_URL,
        {
            "zh-Hans": "接口文档(ReDoc):便于通读和打印",
            "zh-Hant": "介面文件(ReDoc):便於通讀和列印",
            "en": "API documentation (ReDoc): for reading through and printing",
        },
    ),
    Link(
        "/openapi.json",
        {
            "zh-Hans": "OpenAPI 文档:用于生成客户端代码",
            "zh-Hant": "OpenAPI 文件:用於產生用戶端程式碼",
            "en": "The OpenAPI document: for generating client code",
        },
    ),
    Link(
        "/v1/vocabularies",
        {
            "zh-Hans": "代码表:区县、梯度、产业集群、细分行业等的代码和名称",
            "zh-Hant": "代碼表:區縣、梯度、產業集群、細分行業等的代碼和名稱",
            "en": "Code lists: counties, tiers, clusters, sub-industries … with their names",
        },
    ),
    Link(
        "/healthz",
        {
            "zh-Hans": "运行状态",
            "zh-Hant": "運行狀態",
            "en": "Liveness: the service is up",
        },
    ),
)

TITLE: dict[Language, str] = {
    "zh-Hans": "江门市专精特新政策匹配服务",
    "zh-Hant": "江門市專精特新政策匹配服務",
    "en": "Jiangmen policy matching service",
}
INTRO: dict[Language, str] = {
    "zh-Hans": "依据《江门市推动专精特新中小企业倍增发展行动方案(2024-2026年)》"
    "(江府办函〔2024〕13号),给出企业符合哪些支持措施、差什么条件、还缺哪些信息,以及找哪个部门。",
    "zh-Hant": "依據《江門市推動專精特新中小企業倍增發展行動方案(2024-2026年)》"
    "(江府辦函〔2024〕13號),給出企業符合哪些支持措施、差什麼條件、還缺哪些資訊,以及找哪個部門。",
    "en": "Which support measures of Jiangmen's plan for doubling its 专精特新 SMEs "
    "(江府办函〔2024〕13号) an enterprise qualifies for, what it lacks, what is still to be "
    "known, and which department to go to.",
}
LANGUAGE_NAMES: dict[Language, str] = {
    "zh-Hans": "简体中文",
    "zh-Hant": "繁體中文",
    "en": "English",
}

STYLE = (
    "body{font-family:system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;max-width:46rem;"
    "margin:2rem auto;padding:0 1rem;line-height:1.6;color:#1f2328}"
    "a{color:#0b57d0}li{margin:.4rem 0}code{font-size:.95em}nav{font-size:.9em;color:#57606a}"
)
# Everything the page needs is in it or on this origin; a browser is told to fetch nothing else.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Vary": "Accept-Language",
}


@lru_cache(maxsize=32)
def front_page(language: Language, root: str) -> str:
    """The page in one language, its links under the root path the service is mounted at."""
    items = "".join(
        f'<li><a href="{escape(root + link.path)}"><code>{escape(link.path)}</code></a> '
        f"{escape(link.text[language])}</li>"
        for link in LINKS
    )
    others = " · ".join(
        f'<a href="{escape(root)}/?lang={other}" hreflang="{other}" lang="{other}">'
        f"{LANGUAGE_NAMES[other]}</a>"
        for other in LANGUAGES
        if other != language
    )
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(TITLE[language])}</title>"
        f'<link rel="icon" href="{escape(root + ASSETS_URL)}/favicon.png">'
        f"<style>{STYLE}</style></head><body>"
        f"<h1>{escape(TITLE[language])}</h1><p>{escape(INTRO[language])}</p>"
        f"<ul>{items}</ul><nav>{others}</nav></body></html>"
    )


def install_front_page(app: FastAPI) -> None:
    """Serve GET / (not in the OpenAPI document)."""

    @app.get("/", include_in_schema=False)
    async def front(request: Request, lang: str | None = None) -> HTMLResponse:
        """The front page, in the language asked for (an unknown `lang` is not a fault here)."""
        language = next((known for known in LANGUAGES if known == lang), None)
        language = language or negotiate_language(request.headers.get("accept-language"))
        root = str(request.scope.get("root_path", "")).rstrip("/")
        headers = {**SECURITY_HEADERS, "Content-Language": language}
        return HTMLResponse(front_page(language, root), headers=headers)
