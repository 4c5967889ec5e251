"""Lists over HTTP: one shape for every list, and page cursors bound to the caller who asked.

Every list answers `{"items": [...], "next_cursor": "..." | null}`, with list-wide fields (such
as `as_of` or `catalogue_version`) beside them; `next_cursor` is null on the last page and on
lists that are never paged. Cursors are signed (service/core/cursors.py).
"""

from typing import Any

from service.api.auth import Caller
from service.core.cursors import cursor_owner


def owner(caller: Caller) -> str:
    """Who a cursor is bound to: the token's subject and, for a bank, its bank id."""
    return cursor_owner(caller.subject, caller.bank_id)


def page(items: list[Any], next_cursor: str | None = None, **fields: Any) -> dict[str, Any]:
    """A list answer: its list-wide fields, then `items` and `next_cursor`."""
    return {**fields, "items": items, "next_cursor": next_cursor}
