"""Inserting many rows at once: on SQLite one executemany handed straight to the driver.

Given a list of rows, SQLAlchemy builds each row's parameters through its compiled statement,
bind by bind; for an import's tens of thousands of rows (push events, a handful per firm) that
costs several times what SQLite takes to store them. Here the statement is compiled once, each
column's type converts its values (JSON as the engine writes it, dates as SQLite stores them),
and the tuples go to the driver's executemany; errors are still SQLAlchemy's (DBAPIError).
Other databases take SQLAlchemy's own executemany.
"""

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Insert, Table, insert


def insert_many(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
    *,
    statement: Insert | None = None,
) -> int:
    """Insert rows, each a dict holding (at least) these columns, in one executemany: with
    `insert(table)`, or the statement given (such as one that skips a conflict). The number of
    rows inserted."""
    if not rows:
        return 0
    statement = insert(table) if statement is None else statement
    if connection.dialect.name != "sqlite":
        result = connection.execute(statement, [{c: row[c] for c in columns} for row in rows])
        return int(result.rowcount)
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    order = compiled.positiontup or []  # the columns as the statement places them
    converters = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in order]
    converting: list[tuple[int, Any, dict[Any, Any]]] = [
        (at, c, {}) for at, c in enumerate(converters) if c is not None
    ]
    get = itemgetter(*order)
    values = []
    for row in rows:
        value = list(get(row)) if len(order) > 1 else [get(row)]
        for at, convert, seen in converting:
            # a scalar is converted once (an import's batch repeats its time, days and yes/no
            # in every row); a document each time
            one = value[at]
            if isinstance(one, dict | list):
                value[at] = convert(one)
            elif one in seen:
                value[at] = seen[one]
            else:
                value[at] = seen[one] = convert(one)
        values.append(tuple(value))
    return int(connection.exec_driver_sql(compiled.string, values).rowcount)
