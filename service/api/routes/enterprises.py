"""The enterprise registry over HTTP: /v1/enterprises/{uscc}, its history and its matches.

Versions are HTTP entity tags: every answer carries `ETag: "<version>"`, and PUT and DELETE
honour `If-Match` (write only over the version you read) and `If-None-Match: *` (create only),
answering 412 when the stored version differs. Banks are refused here (403): they learn about
firms only through the bank query, and only about those that consented.
"""

from datetime import UTC, date
from email.utils import format_datetime
from functools import partial
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.api.auth import EnterprisesReader, EnterprisesWriter, authorize_platform
from service.api.body import profile_body
from service.api.body_size import ascii_number
from service.api.clients import Scope
from service.api.deps import (
    AS_OF_PARAMETER,
    CatalogueDep,
    CursorKeysDep,
    EngineDep,
    LanguageDep,
    app_engine,
    app_settings,
    as_of_param,
)
from service.api.openapi import REF, json_body, problems
from service.api.openapi_texts import Tag
from service.api.paging import owner, page
from service.api.responses import (
    NOT_MODIFIED,
    IfNoneMatch,
    catalogue_answer,
    conditional,
    json_answer,
)
from service.api.route_table import route_table
from service.api.schemas import EnterpriseHistory, MatchResponse
from service.api.security_docs import secured
from service.core.clock import today, utc_text
from service.core.cursors import INT32_MAX, cursor_number
from service.core.database import run_read, run_write
from service.core.errors import Unprocessable
from service.core.i18n import message
from service.matching.answer import answer_profile
from service.matching.decision_log import record_decision
from service.policy.catalogue import Catalogue
from service.policy.examples import EXAMPLE_USCC, FULL_PROFILE
from service.policy.profile import Profile
from service.policy.uscc import USCC_PATTERN, uscc_problem
from service.push.wake import wake_worker
from service.registry.store import (
    Precondition,
    StoredEnterprise,
    delete_enterprise,
    fetch,
    history,
    store_profile,
)


def not_a_sibling(request: Request) -> None:
    """405 for a method the path of another route does not serve (DELETE /v1/enterprises/imports),
    before the token is read: that path is no credit code. Run before a route's dependencies."""
    uscc = request.path_params.get("uscc", "")
    if len(uscc) != USCC_LENGTH and _sibling(request):
        raise StarletteHTTPException(405)


router = APIRouter(
    prefix="/v1/enterprises", tags=[Tag.REGISTRY], dependencies=[Depends(not_a_sibling)]
)


# documented, not enforced by the schema: enterprise_uscc names the exact problem
USCC_LENGTH = 18
USCC_SCHEMA: dict[str, Any] = {"minLength": 18, "maxLength": 18, "pattern": USCC_PATTERN}


def enterprise_uscc(
    request: Request,
    uscc: Annotated[
        str,
        Path(
            description="统一社会信用代码（GB 32100-2015）。Unified social credit code",
            examples=[EXAMPLE_USCC],
            json_schema_extra=USCC_SCHEMA,
        ),
    ],
) -> str:
    """The path's credit code, its check digit verified; 422 naming `uscc` otherwise."""
    problem = None if uscc in app_settings(request).uscc_allowlist else uscc_problem(uscc)
    if problem:
        raise Unprocessable(
            message("uscc: not a valid unified social credit code: {problem}", problem=problem),
            errors=[{"field": "uscc", "in": "path", "message": problem, "type": "uscc"}],
        )
    return uscc


Uscc = Annotated[str, Depends(enterprise_uscc)]
IfMatch = Annotated[
    str | None,
    Header(description='store or delete only over this version: the ETag, e.g. "3"'),
]


def precondition(if_match: str | None, if_none_match: str | None) -> Precondition:
    """The Precondition of the If-Match / If-None-Match headers (RFC 9110 §13.1)."""
    versions: frozenset[int] | None = None
    if if_match is not None and if_match.strip() != "*":
        tags = (t.strip().removeprefix("W/").strip('"') for t in if_match.split(","))
        numbers = (ascii_number(t) for t in tags)
        versions = frozenset(n for n in numbers if n is not None and n <= INT32_MAX)
    return Precondition(
        if_match=versions,
        must_exist=if_match is not None and if_match.strip() == "*",
        create_only=(if_none_match or "").strip() == "*",
    )


def _headers(stored: StoredEnterprise) -> dict[str, str]:
    return {
        "ETag": f'"{stored.version}"',
        "Last-Modified": format_datetime(stored.updated_at.astimezone(UTC), usegmt=True),
    }


def _history_scope(uscc: str) -> str:
    return f"/v1/enterprises/{uscc}/history"


def _profile_answer(stored: StoredEnterprise, status: int = 200, **headers: str) -> Response:
    return Response(
        orjson.dumps(stored.profile),
        status,
        media_type="application/json",
        headers={**_headers(stored), **headers},
    )


PROFILE_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "按原样保存的画像。The profile as stored, exactly as given",
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Profile")}}},
    }
}


def _put_openapi() -> dict[str, Any]:
    header = {"in": "header", "required": False, "schema": {"type": "string"}}
    return {
        **json_body("Profile", {"a full profile": {"value": FULL_PROFILE}}),
        **secured(Scope.ENTERPRISES_WRITE),
        "parameters": [
            {
                "name": "uscc",
                "in": "path",
                "required": True,
                "description": "统一社会信用代码（GB 32100-2015）。Unified social credit code",
                "schema": {"type": "string", **USCC_SCHEMA, "examples": [EXAMPLE_USCC]},
            },
            {
                **header,
                "name": "If-Match",
                "description": 'store only over this version: the ETag, e.g. "3"',
                "example": '"1"',
            },
            {
                **header,
                "name": "If-None-Match",
                "description": "`*`: store only if not yet stored",
                "example": "*",
            },
        ],
    }


# PUT is the registry's hot path: served directly (see service/api/openapi.serve_directly), it
# reads its inputs with the same functions the dependencies of the other routes use.
direct = APIRouter(prefix="/v1/enterprises", tags=[Tag.REGISTRY])


@direct.put(
    "/{uscc}",
    operation_id="putEnterprise",
    summary=(
        "保存企业画像并重新匹配 · Store an enterprise profile (201 created, 200 updated) and "
        "re-match it"
    ),
    description=(
        "按原样保存画像（若带 `uscc`，须与路径一致），每个版本都保留，"
        "并用现行目录重新计算匹配结果。`If-Match` 只在指定版本上写入，`If-None-Match: *` "
        "只在尚未保存时创建，版本不符时答复 412。画像未变时不产生新版本（200，ETag 不变）。"
    ),
    responses={
        **PROFILE_ANSWER,
        201: PROFILE_ANSWER[200]
        | {"description": "已新建，`Location` 是它的地址。Created; Location names it"},
        **problems(400, 401, 403, 412, 413, 415, 422, 503),
    },
    openapi_extra=_put_openapi(),
)
async def put_enterprise(request: Request) -> Response:
    """Store the profile as given (its `uscc`, if given, must be the path's); every version kept.

    The firm's matches are recomputed against the catalogue in force and kept with its version.
    Storing an unchanged profile is a no-op (200, same ETag).
    """
    not_a_sibling(request)
    caller = await authorize_platform(request, Scope.ENTERPRISES_WRITE)
    uscc = enterprise_uscc(request, request.path_params["uscc"])
    catalogue: Catalogue = request.app.state.catalogue
    condition = precondition(request.headers.get("if-match"), request.headers.get("if-none-match"))
    profile = await profile_body(request)
    if profile.uscc is None:
        profile = _with_uscc(profile, uscc)
    elif profile.uscc != uscc:
        raise Unprocessable(
            message(
                "$.uscc: {given} differs from the path's {uscc}", given=profile.uscc, uscc=uscc
            ),
            errors=[
                {
                    "field": "$.uscc",
                    "in": "body",
                    "message": message("must equal the path's uscc {uscc}", uscc=uscc),
                    "type": "uscc_mismatch",
                }
            ],
        )
    result = await run_write(
        app_engine(request),
        lambda connection: store_profile(
            connection,
            catalogue,
            profile,
            changed_by=caller.subject,
            day=today(),
            condition=condition,
        ),
    )
    if result.deliveries:
        wake_worker(request.app.state)
    if result.created:
        return _profile_answer(result.stored, 201, Location=f"/v1/enterprises/{uscc}")
    return _profile_answer(result.stored)


def _sibling(request: Request) -> bool:
    """Whether the path is another route's (/v1/enterprises/matches, …/imports), which this
    directly served route, ahead of the others, would otherwise take for a credit code."""
    return "{" not in (route_table(request.app).template(request.url.path) or "{")


async def _stored(engine: Engine, uscc: str) -> StoredEnterprise:
    return await run_read(engine, lambda connection: fetch(connection, uscc))


def _with_uscc(profile: Profile, uscc: str) -> Profile:
    data = profile.model_dump(exclude_unset=True)
    data["uscc"] = uscc
    return Profile.model_validate(data)


@router.get(
    "/{uscc}",
    operation_id="getEnterprise",
    summary="读取企业画像 · Read a stored enterprise profile",
    description="按最后一次保存的原样返回画像；`ETag` 是它的版本（强校验）；"
    "If-None-Match 与之相同时答 304，无正文。",
    responses={**PROFILE_ANSWER, **NOT_MODIFIED, **problems(401, 403, 404, 422)},
)
async def get_enterprise(
    caller: EnterprisesReader, engine: EngineDep, uscc: Uscc, if_none_match: IfNoneMatch = None
) -> Response:
    """The profile exactly as last stored; `ETag` carries its version (a strong tag: one version,
    one body), and If-None-Match naming it gets 304 with no body."""
    stored = await _stored(engine, uscc)
    headers = _headers(stored)
    return conditional(orjson.dumps(stored.profile), headers.pop("ETag"), if_none_match, headers)


@router.delete(
    "/{uscc}",
    status_code=204,
    operation_id="deleteEnterprise",
    summary="删除企业 · Remove an enterprise from matching, pushes and the bank query",
    description="企业不再参与匹配、推送和银行查询；它的历史版本和已经披露的记录仍然保留。",
    responses=problems(401, 403, 404, 412, 422, 503),
)
async def delete_enterprise_route(
    request: Request,
    caller: EnterprisesWriter,
    engine: EngineDep,
    uscc: Uscc,
    if_match: IfMatch = None,
) -> Response:
    """The firm is no longer matched, pushed or disclosed; its history and what was already
    disclosed about it stay on record."""
    condition = precondition(if_match, None)
    version = await run_write(
        engine,
        lambda connection: delete_enterprise(
            connection,
            request.app.state.catalogue,
            uscc,
            changed_by=caller.subject,
            condition=condition,
        ),
    )
    wake_worker(request.app.state)
    return Response(status_code=204, headers={"ETag": f'"{version}"'})


@router.get(
    "/{uscc}/history",
    operation_id="getEnterpriseHistory",
    summary=(
        "企业画像的历史版本 · Every stored version of an enterprise's profile, with who changed "
        "it and when"
    ),
    description=(
        "从旧到新，写明谁在何时修改；删除也是一个版本（`profile: null`）。用 `cursor` 翻页。"
    ),
    response_model=EnterpriseHistory,
    responses=problems(400, 401, 403, 404, 422),
)
async def enterprise_history(
    caller: EnterprisesReader,
    engine: EngineDep,
    keys: CursorKeysDep,
    uscc: Uscc,
    limit: Annotated[int, Query(ge=1, le=1000, examples=[100])] = 100,
    cursor: Annotated[
        str | None,
        Query(
            max_length=200,
            description="`next_cursor` of the previous page; signed for the caller and the firm, "
            "good for 24 hours",
        ),
    ] = None,
) -> Response:
    """Oldest first; a deletion is a version with `profile: null`. Page on with `next_cursor`."""
    after = 0
    if cursor is not None:
        position = keys.open(
            cursor,
            parameter="cursor",
            scope=_history_scope(uscc),
            caller=owner(caller),
            required=frozenset({"v"}),
        )
        after = cursor_number(position, "v", INT32_MAX, "cursor")
    versions = await run_read(
        engine,
        lambda connection: history(connection, uscc, after=after, limit=limit),
    )
    next_cursor = (
        keys.seal({"v": versions[-1].version}, scope=_history_scope(uscc), caller=owner(caller))
        if len(versions) == limit
        else None
    )
    body = page(
        [
            {
                "version": v.version,
                "action": v.action,
                "changed_by": v.changed_by,
                "changed_at": utc_text(v.changed_at),
                "profile": v.profile,
            }
            for v in versions
        ],
        next_cursor,
        uscc=uscc,
    )
    return json_answer(body)


@router.get(
    "/{uscc}/matches",
    operation_id="getEnterpriseMatches",
    summary="已保存企业的匹配结果 · The stored enterprise's matches, answered like POST /v1/match",
    description=(
        "用已保存的画像计算 `as_of`（默认今天）的符合、差一点符合和无法判断的措施，答复与 POST "
        "/v1/match 相同。"
    ),
    response_model=MatchResponse,
    responses=problems(401, 403, 404, 422),
    openapi_extra={"parameters": [AS_OF_PARAMETER]},
)
async def enterprise_matches(
    request: Request,
    caller: EnterprisesReader,
    engine: EngineDep,
    uscc: Uscc,
    catalogue: CatalogueDep,
    language: LanguageDep,
    as_of: Annotated[date, Depends(as_of_param)],
) -> Response:
    """Matched, near misses and undetermined for the stored profile on `as_of` (today)."""
    stored = await _stored(engine, uscc)
    profile = Profile.model_validate(stored.profile)
    record = partial(record_decision, request.app.state.decisions, caller.subject)
    body = answer_profile(catalogue, profile, as_of=as_of, language=language, record=record)
    return catalogue_answer(body, catalogue.version, language)
