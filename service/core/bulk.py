"""Inserting many rows at once: on SQLite one executemany handed straight to the driver.

Given a list of rows, SQLAlchemy builds each row's parameters through its compiled statement,
bind by bind; for an import's tens of thousands of rows (push events, a handful per firm) that
costs several times what SQLite takes to store them. Here the statement is compiled once, each
column's type converts its values (JSON as the engine writes it, dates as SQLite stores them),
and the tuples go to the driver's executemany; errors are still SQLAlchemy's (DBAPIError).
Other databases take SQLAlchemy's own executemany.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert


def insert_many(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    """Insert rows, each a dict holding (at least) these columns, in one executemany."""
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        connection.execute(insert(table), [{c: row[c] for c in columns} for row in rows])
        return
    dialect = connection.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
    order = compiled.positiontup or []  # the columns as the statement places them
    converters = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in order]
    seen: list[dict[Any, Any]] = [{} for _ in order]
    plan = list(zip(order, converters, seen, strict=True))
    values = [
        tuple(_converted(row[c], convert, known) for c, convert, known in plan) for row in rows
    ]
    connection.exec_driver_sql(compiled.string, values)


def _converted(value: Any, convert: Any, seen: dict[Any, Any]) -> Any:
    """The value as the driver takes it; a scalar converted once (an import's batch repeats its
    time in every row)."""
    if convert is None:
        return value
    if isinstance(value, dict | list):
        return convert(value)
    if value not in seen:
        seen[value] = convert(value)
    return seen[value]
