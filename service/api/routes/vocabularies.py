"""GET /v1/vocabularies: the code lists profiles and measures are written in, open to all."""

from typing import Any

import orjson
from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from service.api.deps import CatalogueDep, LanguageDep
from service.api.openapi_texts import Tag
from service.api.paging import page
from service.api.responses import NOT_MODIFIED, IfNoneMatch, catalogue_read
from service.policy.vocabulary import County, Term, Vocabularies

router = APIRouter(prefix="/v1", tags=[Tag.CATALOGUE])


class TermOut(BaseModel):
    """One code with its name in the caller's language and in all three."""

    code: str = Field(examples=["440781"])
    name: str = Field(examples=["台山市"])
    names: dict[str, str]
    government: str | None = Field(
        None,
        description="counties only: the county people's government",
        examples=["台山市人民政府"],
    )


class VocabularyOut(BaseModel):
    """One code list: the profile field or measure attribute written in it."""

    vocabulary: str = Field(examples=["counties"])
    terms: list[TermOut]


class VocabularyList(BaseModel):
    """Every code list of the policies folder."""

    catalogue_version: str
    items: list[VocabularyOut]
    next_cursor: None = Field(description="every code list fits one page")


def _term(term: Term, language: str) -> dict[str, Any]:
    shown: dict[str, Any] = {"code": term.code, "name": term.name(language), "names": term.names()}
    if isinstance(term, County):
        shown["government"] = term.government.get(language)
    return shown


@router.get(
    "/vocabularies",
    operation_id="getVocabularies",
    summary="代码表 · The code lists: tiers, counties, clusters, sub-industries, kinds …",
    description=(
        "每个代码表，以及每个代码在调用方语言中的名称（由 Accept-Language 选择），"
        "附三种语言的名称。"
    ),
    response_model=VocabularyList,
    responses=NOT_MODIFIED,
)
async def list_vocabularies(
    catalogue: CatalogueDep, language: LanguageDep, if_none_match: IfNoneMatch = None
) -> Response:
    """Every code list with each code's name in the caller's language (Accept-Language)."""
    lists = [
        {
            "vocabulary": name,
            "terms": [_term(t, language) for t in catalogue.vocabularies.terms(name)],
        }
        for name in Vocabularies.model_fields
    ]
    # The units the plan names (departments.yaml): a measure's lead_department and departments.
    units = [_term(d, language) for d in catalogue.departments.values()]
    lists.append({"vocabulary": "departments", "terms": units})
    payload = page(lists, catalogue_version=catalogue.version)
    return catalogue_read(orjson.dumps(payload), catalogue.version, language, if_none_match)
