"""Push over HTTP: /v1/subscriptions and the event feed /v1/push-events.

The platform subscribes a URL (with county and kind filters) and gets each event POSTed to it,
signed (service/push/deliver.py); the same events are a resumable feed. Banks are refused (403):
events name every firm, and banks see only firms that consented to them.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request
from fastapi.openapi.models import Example
from fastapi.responses import Response
from sqlalchemy.engine import Engine

from service.api.auth import PushPlatform
from service.api.deps import CatalogueDep, CursorKeysDep, EngineDep, app_settings
from service.api.openapi import problems
from service.api.openapi_texts import Tag
from service.api.paging import owner, page
from service.api.responses import json_answer
from service.api.schemas import (
    PushEventDetail,
    PushEventFeed,
    PushEventOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
)
from service.core.cursors import CursorKeys
from service.core.database import run_read, run_write
from service.core.errors import Conflict, NotFound, Unprocessable
from service.core.i18n import Message, message
from service.policy.catalogue import Catalogue
from service.policy.examples import EXAMPLE_USCC
from service.policy.profile import CountyCode, KindCode
from service.policy.uscc import USCC_PATTERN
from service.push.capacity import capacities, check_caller_quota, set_max_pending
from service.push.feed import event_detail, event_row, feed_page, feed_position
from service.push.pausing import resume
from service.push.redelivery import queue_redelivery
from service.push.subscriptions import (
    Subscription,
    TargetRefused,
    check_target,
    create_subscription,
    delivery_counts,
    end_subscription,
    get_subscription,
    list_subscriptions,
    refusal_text,
    resolve,
    split_target,
)
from service.push.wake import wake_worker

router = APIRouter(prefix="/v1", tags=[Tag.PUSH])

MAX_FEED_PAGE = 1000
SUBSCRIPTION_EXAMPLES: dict[str, Example] = {
    "Taishan and Kaiping, loan subsidies": {
        "value": {
            "url": "https://platform.jiangmen.gov.cn/hooks/policy-match",
            "counties": ["440781", "440783"],
            "kinds": ["loan_interest_subsidy"],
            "description": "request-response platform, county desks",
        }
    },
    "every event": {"value": {"url": "https://platform.jiangmen.gov.cn/hooks/all"}},
}
SubscriptionId = Annotated[str, Path(max_length=40, examples=["sub_4f1c2a9b0d3e5f6a7b8c9d0e"])]
EventId = Annotated[str, Path(max_length=40, examples=["evt_0b8e6f2c4d1a4e3b9f7a6c5d4e3f2a1b"])]


def _unknown(field: str, values: list[str], known: set[str], what: Message) -> Unprocessable | None:
    errors: list[dict[str, Any]] = [
        {
            "field": f"$.{field}[{i}]",
            "in": "body",
            "message": message("not {what}", what=what),
            "type": "enum",
        }
        for i, value in enumerate(values)
        if value not in known
    ]
    if not errors:
        return None
    return Unprocessable(
        message(
            "$.{field}: {fields} not {what}",
            field=field,
            fields=", ".join(e["field"] for e in errors),
            what=what,
        ),
        errors=errors,
    )


def _check_filters(catalogue: Catalogue, body: SubscriptionIn) -> None:
    vocab = catalogue.vocabularies
    for field, values, known, what in (
        ("counties", body.counties, set(vocab.codes("counties")), message("a county of Jiangmen")),
        ("kinds", body.kinds, {k.code for k in vocab.kinds}, message("a kind of measure")),
    ):
        problem = _unknown(field, values or [], known, what)
        if problem:
            raise problem


@router.post(
    "/subscriptions",
    status_code=201,
    operation_id="createSubscription",
    summary="订阅推送 · Subscribe a URL to push events (the secret is shown only in this answer)",
    description=(
        "符合过滤条件的每个事件都会 POST 到 `url`，并用本答复给出的密钥签名（Standard Webhooks）。"
        "URL 必须是 http(s)，且不能指向本机回环、链路本地或云元数据地址。只推送从现在起发生的事件，"
        "此前的事件请读事件流。"
    ),
    response_model=SubscriptionCreated,
    responses={
        **problems(400, 401, 403, 409, 413, 415, 422, 503),
        409: {
            **problems(409)[409],
            "description": "调用方的订阅已达 PUSH_MAX_SUBSCRIPTIONS_PER_CALLER 个（已结束的不计）。"
            "The caller holds PUSH_MAX_SUBSCRIPTIONS_PER_CALLER subscriptions already (ended ones "
            "do not count)",
        },
    },
)
async def subscribe(
    request: Request,
    caller: PushPlatform,
    engine: EngineDep,
    catalogue: CatalogueDep,
    keys: CursorKeysDep,
    body: Annotated[SubscriptionIn, Body(openapi_examples=SUBSCRIPTION_EXAMPLES)],
) -> Response:
    """Every event passing the filters is POSTed to `url`, signed with the secret answered here.

    The URL must be http(s) and must not resolve to loopback, link-local or cloud metadata
    addresses. Events that happen from now on are delivered; the feed has the earlier ones.
    """
    _check_filters(catalogue, body)
    try:
        await check_target(
            body.url,
            allow_internal=app_settings(request).push_allow_internal_targets,
            resolve_timeout=app_settings(request).push_resolve_timeout_seconds,
            must_resolve=False,
        )
    except TargetRefused as e:
        raise Unprocessable(
            message("$.url: {problem}", problem=refusal_text(e)),
            errors=[
                {"field": "$.url", "in": "body", "message": refusal_text(e), "type": "url_refused"}
            ],
        ) from None
    settings = app_settings(request)

    def make(c: Any) -> tuple[Subscription, str, dict[str, Any]]:
        check_caller_quota(c, caller.subject, settings.push_max_subscriptions_per_caller)
        made, secret = create_subscription(
            c,
            settings,
            url=body.url,
            counties=sorted(set(body.counties)) if body.counties else None,
            kinds=sorted(set(body.kinds)) if body.kinds else None,
            description=body.description,
            created_by=caller.subject,
        )
        set_max_pending(c, made.id, settings.push_max_pending_per_subscription)
        return made, secret, capacities(c, [made.id], keys)[made.id]

    subscription, secret, capacity = await run_write(engine, make)
    return json_answer(
        {**subscription.as_json(keys), "capacity": capacity, "secret": secret},
        201,
        Location=f"/v1/subscriptions/{subscription.id}",
        **{"Cache-Control": "no-store"},
    )


@router.get(
    "/subscriptions",
    operation_id="listSubscriptions",
    summary="列出订阅 · List subscriptions, active and ended",
    description="从新到旧；密钥不再显示。",
    response_model=SubscriptionList,
    responses=problems(401, 403),
)
async def subscriptions(caller: PushPlatform, engine: EngineDep, keys: CursorKeysDep) -> Response:
    """Newest first, all on one page (`next_cursor` is null); secrets are never shown again."""

    def read(connection: Any) -> list[dict[str, Any]]:
        found = list_subscriptions(connection)
        capacity = capacities(connection, [s.id for s in found], keys)
        return [{**s.as_json(keys), "capacity": capacity.get(s.id)} for s in found]

    return json_answer(page(await run_read(engine, read)))


@router.get(
    "/subscriptions/{subscription_id}",
    operation_id="getSubscription",
    summary="查看订阅 · A subscription, with its deliveries counted by state",
    description="已结束的订阅会说明原因：被删除，或接收方答复了 410。",
    response_model=SubscriptionOut,
    responses=problems(401, 403, 404, 422),
)
async def subscription(
    caller: PushPlatform, engine: EngineDep, keys: CursorKeysDep, subscription_id: SubscriptionId
) -> Response:
    """An ended subscription says why it ended: deleted, or its receiver answered 410."""
    return json_answer(await run_read(engine, lambda c: _detail(c, keys, subscription_id)))


def _detail(connection: Any, keys: CursorKeys, subscription_id: str) -> dict[str, Any]:
    """A subscription as GET /v1/subscriptions/{id} answers it: its deliveries counted by
    state, and its capacity."""
    found = get_subscription(connection, subscription_id)
    capacity = capacities(connection, [subscription_id], keys).get(subscription_id)
    counts = delivery_counts(connection, subscription_id)
    return {**found.as_json(keys, counts), "capacity": capacity}


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=204,
    operation_id="deleteSubscription",
    summary="结束订阅 · End a subscription; what it had still to deliver is cancelled",
    description="尚未投递的事件随之取消。幂等：再次结束已结束的订阅仍答复 204。",
    responses=problems(401, 403, 404, 422, 503),
)
async def unsubscribe(
    caller: PushPlatform, engine: EngineDep, subscription_id: SubscriptionId
) -> Response:
    """Idempotent: ending an ended subscription answers 204 again."""

    def end(connection: Any) -> None:
        get_subscription(connection, subscription_id)
        end_subscription(connection, subscription_id, f"deleted by {caller.subject}")

    await run_write(engine, end)
    return Response(status_code=204)


@router.post(
    "/subscriptions/{subscription_id}/resume",
    operation_id="resumeSubscription",
    summary="恢复暂停的订阅 · Resume a paused subscription (its host resolves again)",
    description=(
        "主机名连续一天无法解析的订阅会被暂停：不再推送，待投递的事件被取消。"
        "恢复时重新检查目标地址（现在必须能解析，且允许推送），之后推送每个新事件；错过的事件用 "
        "`catch_up_cursor` 从事件流读取。恢复一个生效中的订阅不改变任何东西。"
    ),
    response_model=SubscriptionOut,
    responses=problems(401, 403, 404, 409, 422, 503),
)
async def resume_subscription(
    request: Request,
    caller: PushPlatform,
    engine: EngineDep,
    keys: CursorKeysDep,
    subscription_id: SubscriptionId,
) -> Response:
    """A subscription whose host did not resolve for a day was paused: fed nothing, its pending
    deliveries cancelled. Its target is checked again (it must resolve now, to an address
    deliveries may go to); then it is fed every new event. Read what it missed from
    `GET /v1/push-events?after=` its `catch_up_cursor`. Resuming an active one changes nothing."""
    engine = engine
    found = await run_read(engine, lambda c: get_subscription(c, subscription_id))
    if found.state == "ended":
        raise Conflict(
            message(
                "subscription {id} has ended: {reason}",
                id=subscription_id,
                reason=found.ended_reason,
            )
        )
    if found.state == "paused":
        settings = app_settings(request)
        timeout = settings.push_resolve_timeout_seconds
        try:
            # it must resolve now, whatever the rules
            await resolve(*split_target(found.url), timeout=timeout)
            await check_target(
                found.url,
                allow_internal=settings.push_allow_internal_targets,
                resolve_timeout=timeout,
            )
        except TargetRefused as e:
            raise Conflict(
                message(
                    "subscription {id} stays paused: {problem}",
                    id=subscription_id,
                    problem=refusal_text(e),
                )
            ) from None
        await run_write(engine, lambda c: resume(c, subscription_id))
        wake_worker(request.app.state)
    return json_answer(await run_read(engine, lambda c: _detail(c, keys, subscription_id)))


@router.get(
    "/push-events",
    operation_id="listPushEvents",
    summary="推送事件流 · Every push event in order, as a resumable feed",
    description=(
        "从旧到新。保存 `next_cursor` 并用它再次请求：不会跳过也不会重复。超过 "
        "PUSH_RETENTION_DAYS 的事件会被清理，早于它们的游标答复 410（不带 `after` "
        "从保留的最早事件重新开始）。"
    ),
    response_model=PushEventFeed,
    responses=problems(400, 401, 403, 410, 422),
)
async def push_events(
    request: Request,
    caller: PushPlatform,
    engine: EngineDep,
    keys: CursorKeysDep,
    after: Annotated[
        str | None,
        Query(
            max_length=200,
            description="`next_cursor` of the previous page (or a subscription's "
            "`catch_up_cursor`); leave out to start at the first event. Signed for the caller; "
            "it does not expire",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_FEED_PAGE, examples=[100])] = 100,
    county: Annotated[CountyCode | None, Query(max_length=6, examples=["440781"])] = None,
    kind: Annotated[
        KindCode | None, Query(max_length=64, examples=["loan_interest_subsidy"])
    ] = None,
    uscc: Annotated[
        str | None,
        Query(pattern=USCC_PATTERN, description="only this firm's events", examples=[EXAMPLE_USCC]),
    ] = None,
) -> Response:
    """Oldest first. Keep `next_cursor` and ask again with it: no event is skipped or repeated.

    Events older than PUSH_RETENTION_DAYS are pruned: a cursor from before them is 410 Gone
    (start again without `after`, from the oldest event kept)."""
    position = feed_position(keys, after, owner(caller))
    retention_days = app_settings(request).push_retention_days

    def read(connection: Any) -> dict[str, Any]:
        return feed_page(
            connection,
            after=position,
            limit=limit,
            retention_days=retention_days,
            keys=keys,
            caller=owner(caller),
            county=county,
            kind=kind,
            uscc=uscc,
        )

    return json_answer(await run_read(engine, read))


async def _event(engine: Engine, event_id: str) -> dict[str, Any]:
    event = await run_read(engine, lambda c: event_row(c, event_id))
    if event is None:
        raise NotFound(message("no push event {id}", id=event_id))
    return dict(event)


@router.get(
    "/push-events/{event_id}",
    operation_id="getPushEvent",
    summary="查看推送事件及其投递 · An event and its deliveries, with every attempt",
    description="发送了什么、发给了哪些订阅，以及每次尝试的结果。",
    response_model=PushEventDetail,
    responses=problems(401, 403, 404, 422),
)
async def push_event(caller: PushPlatform, engine: EngineDep, event_id: EventId) -> Response:
    """What was sent, to which subscriptions, and what each attempt came to."""
    event = await _event(engine, event_id)
    return json_answer(await run_read(engine, lambda c: event_detail(c, event)))


@router.post(
    "/push-events/{event_id}/redeliver",
    status_code=202,
    operation_id="redeliverPushEvent",
    summary="立即重新投递事件 · Deliver an event again, now",
    description=(
        "无论已送达、已放弃还是仍待投递，事件都会以新的尝试次数重新排队，"
        "只投给生效中的订阅（包括事件之后新建的订阅）。"
    ),
    response_model=PushEventDetail,
    responses=problems(401, 403, 404, 409, 422, 503),
)
async def redeliver_event(
    request: Request,
    caller: PushPlatform,
    engine: EngineDep,
    event_id: EventId,
    subscription_id: Annotated[
        str | None,
        Query(
            max_length=40,
            description="only to this subscription (default: every active one the event passes)",
        ),
    ] = None,
) -> Response:
    """Delivered, dead or still pending: the event is queued again with a fresh budget of
    attempts, to active subscriptions only (a subscription made after the event included)."""
    event = await _event(engine, event_id)

    def queue(connection: Any) -> dict[str, Any]:
        queue_redelivery(connection, event, subscription_id=subscription_id)
        return event_detail(connection, event)

    answer = await run_write(engine, queue)
    wake_worker(request.app.state)
    return json_answer(answer, 202)


# What a subscriber receives: documented in the OpenAPI document's `webhooks`, never served.
webhooks = APIRouter(tags=[Tag.PUSH])


@webhooks.post(
    "measure-event",
    operation_id="receiveMeasureEvent",
    summary=(
        "订阅地址收到的事件 · What each subscription's URL receives: one event per POST, signed"
    ),
    description=(
        "先验证签名，再答复 2xx 确认。至少投递一次：同一 `webhook-id` 可能重复到达；`sequence` "
        "为同一企业的事件排序。"
    ),
    status_code=204,
    responses={
        410: {
            "description": "结束这个订阅，之后不再推送。"
            "Gone: end this subscription; nothing more is sent to it"
        },
        "default": {
            "description": "其他答复或超时未答复：退避后重试。"
            "Any other answer, or none in time: retried with backoff"
        },
    },
)
def measure_event(
    event: PushEventOut,
    webhook_id: Annotated[str, Header(description="the event's `event_id`")],
    webhook_timestamp: Annotated[str, Header(description="when it was signed, Unix seconds")],
    webhook_signature: Annotated[
        str,
        Header(
            description="v1,<base64 HMAC-SHA256 of '{webhook-id}.{webhook-timestamp}.{body}'>, "
            "keyed with the secret's bytes after whsec_, base64-decoded"
        ),
    ],
) -> None:
    """Verify the signature (`standardwebhooks.Webhook(secret).verify(body, headers)`), then
    answer 2xx to acknowledge. Delivery is at least once: the same `webhook-id` may come again;
    `sequence` orders one firm's events."""
