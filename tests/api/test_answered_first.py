"""A batch's decision lines are written once its answer is sent, and also when sending fails."""

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import pytest

from service.api.responses import catalogue_answer_then

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _answer(send: Send, done: list[str]) -> None:
    answer = catalogue_answer_then(b"{}", "v1", "zh-Hans", lambda: done.append("after"))

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    asyncio.run(answer({"type": "http", "method": "POST", "headers": []}, receive, send))


def test_after_runs_once_the_answer_is_sent() -> None:
    events: list[str] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        events.append(message["type"])

    _answer(send, events)
    assert events == ["http.response.start", "http.response.body", "after"]


def test_after_runs_when_the_caller_is_gone() -> None:
    done: list[str] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        raise OSError("the connection was closed")

    with pytest.raises(OSError):
        _answer(send, done)
    assert done == ["after"]
