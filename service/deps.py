"""Dependencies that let route signatures read as domain words."""

from datetime import date, datetime, timedelta, timezone
from typing import Annotated

from fastapi import Depends, Header, Query, Request

from service.catalogue import Catalogue
from service.i18n import Language, negotiate_language

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")  # no daylight saving since 1991


def today() -> date:
    """Today's date in Jiangmen."""
    return datetime.now(CHINA_STANDARD_TIME).date()


def current_catalogue(request: Request) -> Catalogue:
    """The catalogue the service is serving now."""
    catalogue: Catalogue = request.app.state.catalogue
    return catalogue


def answer_language(
    accept_language: Annotated[
        str | None,
        Header(description="zh-Hans (default), zh-Hant or en", examples=["zh-Hans"]),
    ] = None,
) -> Language:
    """The language of the answer, from Accept-Language."""
    return negotiate_language(accept_language)


def as_of_day(
    as_of: Annotated[
        date | None, Query(description="the day to decide for (default: today in Jiangmen)")
    ] = None,
) -> date:
    """The day asked about."""
    return as_of or today()


CatalogueDep = Annotated[Catalogue, Depends(current_catalogue)]
LanguageDep = Annotated[Language, Depends(answer_language)]
AsOf = Annotated[date, Depends(as_of_day)]
