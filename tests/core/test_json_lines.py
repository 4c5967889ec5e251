"""JsonLines: a batch's lines, the formatter's own, in one write; other handlers get records."""

import io
import json
import logging
from collections.abc import Iterator

import pytest

from service.core.logs import JsonFormatter, JsonLines, request_id


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("policy_match.test_json_lines")
    log.setLevel(logging.INFO)
    log.propagate = False
    yield log
    log.handlers[:] = []


class _Counting(io.StringIO):
    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_the_lines_are_the_formatters_and_written_at_once(logger: logging.Logger) -> None:
    stream = _Counting()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    token = request_id.set("req-7")
    try:
        lines = JsonLines(logger, logging.INFO, "match")
        for n in range(3):
            lines.add({"caller": "c", "n": n, "ids": ["a", "b"]}, created=1764526993.0009995 + n)
        lines.add({"message": "own"}, created=1764526993.5)
        assert stream.writes == 0
        lines.write()
        expected = [
            JsonFormatter().format(
                logging.makeLogRecord(
                    {
                        "name": logger.name,
                        "levelno": logging.INFO,
                        "levelname": "INFO",
                        "msg": "match",
                        "created": created,
                        "fields": fields,
                    }
                )
            )
            for created, fields in [
                *(
                    (1764526993.0009995 + n, {"caller": "c", "n": n, "ids": ["a", "b"]})
                    for n in range(3)
                ),
                (1764526993.5, {"message": "own"}),
            ]
        ]
    finally:
        request_id.reset(token)
    assert stream.writes == 1
    assert stream.getvalue() == "".join(line + "\n" for line in expected)
    assert json.loads(expected[0])["request_id"] == "req-7"


def test_other_handlers_get_a_record_per_line_as_logging_gives_them(
    logger: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    logger.propagate = True
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("match", extra={"fields": {"caller": "plain"}})
        lines = JsonLines(logger, logging.INFO, "match")
        lines.add({"caller": "a"})
        lines.add({"caller": "b"})
        lines.write()
    callers = [r.fields["caller"] for r in caplog.records if r.name == logger.name]  # type: ignore[attr-defined]
    copies = callers.count("plain")  # as many as the handlers that see a record
    assert copies >= 1 and callers == ["plain"] * copies + ["a"] * copies + ["b"] * copies
    assert all(r.getMessage() == "match" for r in caplog.records if r.name == logger.name)
