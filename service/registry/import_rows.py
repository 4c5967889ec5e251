"""What an import reads and reports: a bad row with its original cells, and the import's tally.

A bad row keeps the cells as the file had them (as text) and the file's header as written, so
that the result workbook (service/registry/import_result.py) gives each bad row back as it was,
with an error column beside it. Its problems are texts translated when written, each naming the
field by its label and its name.
"""

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from service.core.i18n import Language, Text, translate


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that was not stored: its row (line) number in the file, what was wrong with it,
    and its cells as read (text, in the file's column order; empty cells as "")."""

    line: int
    problems: tuple[Text, ...]
    cells: tuple[str, ...] = ()

    def said(self, language: Language) -> tuple[str, ...]:
        """The problems in `language`."""
        return tuple(str(translate(p, language)) for p in self.problems)


@dataclass
class ImportReport:
    """What an import did; `header` is the file's header row as written."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: list[BadRow] = field(default_factory=list)
    header: tuple[str, ...] = ()

    @property
    def stored(self) -> int:
        """Rows stored (created, updated or unchanged)."""
        return self.created + self.updated + self.unchanged


class SheetRow(NamedTuple):
    """A row as read: its number in the file, the raw profile (or why not), its cells."""

    line: int
    raw: dict[str, Any] | BadRow
    cells: tuple[str, ...]
