"""Dependencies that let route signatures read as domain words."""

from datetime import date
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from sqlalchemy.engine import Engine

from service.core.clock import today
from service.core.cursors import CursorKeys
from service.core.errors import Unprocessable
from service.core.i18n import Language, message, negotiate_language
from service.core.settings import Settings
from service.policy.catalogue import Catalogue
from service.policy.profile import ISO_DAY


def app_settings(request: Request) -> Settings:
    """The settings the application was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def current_settings(request: Request) -> Settings:
    """The application's settings, as a dependency (async: sync ones run in a thread pool)."""
    return app_settings(request)


def app_engine(request: Request) -> Engine:
    """The application's database engine (made when it starts); for routes served directly."""
    engine: Engine = request.app.state.engine
    return engine


async def current_engine(request: Request) -> Engine:
    """The application's database engine, as a dependency (async: no thread pool)."""
    return app_engine(request)


async def current_cursor_keys(request: Request) -> CursorKeys:
    """The keys page cursors are signed and verified with (made when the app is created)."""
    keys: CursorKeys = request.app.state.cursor_keys
    return keys


async def current_catalogue(request: Request) -> Catalogue:
    """The catalogue the service is serving now."""
    catalogue: Catalogue = request.app.state.catalogue
    return catalogue


async def answer_language(
    accept_language: Annotated[
        str | None,
        Header(description="zh-Hans (default), zh-Hant or en", examples=["zh-Hans"]),
    ] = None,
) -> Language:
    """The language of the answer, from Accept-Language."""
    return negotiate_language(accept_language)


def iso_day(raw: str, parameter: str) -> date:
    """A query parameter's YYYY-MM-DD day; 422 naming the parameter for anything else."""
    try:
        if not ISO_DAY.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise Unprocessable(
            message(
                "{parameter}: {raw!r} is not a date (YYYY-MM-DD)", parameter=parameter, raw=raw
            ),
            errors=[
                {
                    "field": parameter,
                    "in": "query",
                    "type": "date_from_datetime_parsing",
                    "message": message("Input should be a valid date in the format YYYY-MM-DD"),
                }
            ],
        ) from None


def as_of_param(request: Request) -> date:
    """The `as_of` query parameter (default: today in Jiangmen); 422 naming it if malformed."""
    raw = request.query_params.get("as_of")
    return today() if raw is None else iso_day(raw, "as_of")


def in_force_on_param(
    in_force_on: Annotated[
        str | None,
        Query(
            description="only measures in force that day",
            examples=["2025-06-01"],
            json_schema_extra={"format": "date"},
        ),
    ] = None,
) -> date | None:
    """The `in_force_on` filter, a YYYY-MM-DD day (pydantic's date would take `0` as 1970)."""
    return None if in_force_on is None else iso_day(in_force_on, "in_force_on")


# Routes on the hot path read these directly (see routes/match.py); others use the aliases.
AS_OF_PARAMETER = {
    "name": "as_of",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "format": "date"},
    "description": "the day to decide for (default: today in Jiangmen)",
    "example": "2025-06-01",
}
LANGUAGE_PARAMETER = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "zh-Hans (default), zh-Hant or en",
    "example": "zh-Hans",
}

CatalogueDep = Annotated[Catalogue, Depends(current_catalogue)]
EngineDep = Annotated[Engine, Depends(current_engine)]
CursorKeysDep = Annotated[CursorKeys, Depends(current_cursor_keys)]
LanguageDep = Annotated[Language, Depends(answer_language)]
