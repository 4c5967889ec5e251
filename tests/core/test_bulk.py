"""insert_many stores what SQLAlchemy's insert stores: the same text for times and JSON."""

from typing import Any

from sqlalchemy import Engine, insert, text

from service.core.bulk import insert_many
from service.core.tables import EVENT, utcnow
from service.push.outbox import new_event_id

COLUMNS = ("event_id", "type", "occurred_at", "uscc", "county", "measure_id", "kind", "cause")


def _event(**changes: Any) -> dict[str, Any]:
    return {
        "event_id": new_event_id(),
        "type": "measure.matched",
        "occurred_at": utcnow(),
        "uscc": "91440781MA4W000000",
        "county": "440781",
        "measure_id": "m",
        "kind": "finance",
        "cause": "test",
        "document": {"名称": "甲公司", "n": 1, "none": None},
        **changes,
    }


def test_insert_many_stores_as_insert_does(engine: Engine) -> None:
    now = utcnow()
    by_insert, by_many = _event(occurred_at=now), _event(occurred_at=now)
    with engine.begin() as connection:
        connection.execute(insert(EVENT), [by_insert])
        insert_many(connection, EVENT, (*COLUMNS, "document"), [by_many, _event(), _event()])
        insert_many(connection, EVENT, COLUMNS, [])
    with engine.connect() as connection:
        stored = {
            row.event_id: row
            for row in connection.execute(
                text(
                    "SELECT event_id, occurred_at, document FROM push_event WHERE event_id IN "
                    "(:a, :b)"
                ),
                {"a": by_insert["event_id"], "b": by_many["event_id"]},
            )
        }
    first, second = stored[by_insert["event_id"]], stored[by_many["event_id"]]
    assert (first.occurred_at, first.document) == (second.occurred_at, second.document)


def test_event_ids_written_later_sort_later() -> None:
    earlier = new_event_id()
    later = [new_event_id() for _ in range(3)]
    assert len(earlier) == len(later[0]) == 36 and earlier.startswith("evt_")
    assert all(earlier[:16] <= e[:16] for e in later) and len({earlier, *later}) == 4
