"""What a workbook must pass before any of it is read: a zip within bounds, a sheet without
merged cells and with no more rows than an import reads.

- The zip: its central directory declares each member's uncompressed size, which Python's
  zipfile holds each member to when it is read. The total may not pass the bound
  (`POLICY_MATCH_IMPORT_MAX_UNCOMPRESSED_BYTES`, 200 MB), nor a large member compress more than
  MAX_RATIO times (a zip bomb), nor a part read whole (shared strings, styles) pass
  MAX_HELD_BYTES: all checked before anything is decompressed.
- The sheet's XML is then scanned as bytes, decompressed a chunk at a time: a `<mergeCell`
  refuses the file (openpyxl's read-only mode does not expose merged cells, and a merged value
  belongs to no one row), and so does a row numbered past the row bound. The `<dimension>` a
  sheet declares is never trusted, so a sheet claiming A1:XFD1048576 allocates nothing. The
  scan also finds the last row that holds a value (or a formula): the reader stops there, so
  rows formatted below the data are never read, and no row with a value is left unread.
"""

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from service.core.errors import MergedCells, NotAWorkbook, TooManyRows, WorkbookTooLarge
from service.core.i18n import message
from service.core.settings import get_settings

MAX_RATIO = 200  # deflate reaches ~1,000 on a bomb; real sheets compress 5 to 30 times
RATIO_FROM_BYTES = 1_000_000  # small members (styles, a tiny sheet) may compress as they like
MAX_MEMBERS = 10_000
COMPOUND_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and .xlsx with a password
# The parts openpyxl reads whole (shared strings, styles, the workbook): a sheet is streamed, but
# 100,000 distinct firm names take some 10 MB of shared strings
MAX_HELD_BYTES = 64_000_000
CHUNK = 1 << 20
_MERGE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell[\s/>]")
_ROW_NUMBER = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b[^>]*?\sr=\"([0-9]{1,9})\"")
_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:v|is|f)[\s/>]")  # a cell's value or formula
OVERLAP = 256  # bytes kept between chunks, so that no tag is cut in two unseen


@dataclass(frozen=True, slots=True)
class SheetLimits:
    """How much of a file an import reads: rows below the header, bytes uncompressed."""

    max_rows: int = 1_000_000
    max_uncompressed_bytes: int = 200_000_000

    @classmethod
    def configured(cls) -> "SheetLimits":
        """The limits of the settings (POLICY_MATCH_IMPORT_MAX_ROWS, …_MAX_UNCOMPRESSED_BYTES)."""
        settings = get_settings()
        return cls(settings.import_max_rows, settings.import_max_uncompressed_bytes)


def open_zip(path: Path, limits: SheetLimits) -> zipfile.ZipFile:
    """The workbook's zip, its declared sizes checked; refused when it is no zip or a bomb."""
    with path.open("rb") as file:
        if file.read(len(COMPOUND_FILE)) == COMPOUND_FILE:
            raise NotAWorkbook(
                message(
                    "{file} is an Excel 97-2003 (.xls) or password-protected workbook: save it "
                    "as .xlsx, without a password",
                    file=path.name,
                )
            )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise NotAWorkbook(
            message("{file} is not an .xlsx workbook (not a zip file)", file=path.name)
        ) from e
    try:
        check_sizes(archive, limits)
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
            raise NotAWorkbook(
                message("{file} is a zip file but not an .xlsx workbook", file=path.name)
            )
    except BaseException:
        archive.close()
        raise
    return archive


def check_sizes(archive: zipfile.ZipFile, limits: SheetLimits) -> None:
    """Refuse a zip that declares too much uncompressed, or compresses like a bomb."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise WorkbookTooLarge(
            message(
                "the workbook holds {count} files; at most {limit}",
                count=len(members),
                limit=MAX_MEMBERS,
            )
        )
    total = sum(m.file_size for m in members)
    if total > limits.max_uncompressed_bytes:
        raise WorkbookTooLarge(
            message(
                "the workbook would be {size:,} bytes uncompressed; at most {limit:,} are read",
                size=total,
                limit=limits.max_uncompressed_bytes,
            )
        )
    for member in members:
        held = not member.filename.startswith("xl/worksheets/")
        if held and member.file_size > MAX_HELD_BYTES:
            raise WorkbookTooLarge(
                message(
                    "{member} in the workbook would be {size:,} bytes, read whole; at most "
                    "{limit:,}",
                    member=member.filename,
                    size=member.file_size,
                    limit=MAX_HELD_BYTES,
                )
            )
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO:
            raise WorkbookTooLarge(
                message(
                    "{member} in the workbook compresses {ratio:.0f} times (at most {limit}): "
                    "a zip bomb, not a workbook",
                    member=member.filename,
                    ratio=ratio,
                    limit=MAX_RATIO,
                )
            )


def scan_sheet(
    archive: zipfile.ZipFile, member: str, title: str, limits: SheetLimits
) -> int | None:
    """The number of the sheet's last row that holds a value (None: its rows are not numbered),
    its XML streamed by; refused for merged cells, or rows past the bound (the header's row
    and `max_rows` below it), counted or numbered."""
    rows = 0
    tail = b""
    valued = _LastValued()
    well_formed = expat.ParserCreate()  # no handlers: the XML is only checked
    try:
        with archive.open(member) as xml:
            while chunk := xml.read(CHUNK):
                well_formed.Parse(chunk, False)
                data = tail + chunk
                if _MERGE.search(data):
                    raise MergedCells(
                        message(
                            "sheet {sheet} has merged cells: unmerge them and fill every row",
                            sheet=title,
                        )
                    )
                cut = max(len(data) - OVERLAP, 0)
                rows += len(_ROW.findall(data, 0, _row_cut(data, cut)))
                starts = [(m.start(), int(m.group(1))) for m in _ROW_NUMBER.finditer(data)]
                valued.see(data, starts)
                numbers = [number for _, number in starts]
                if numbers and numbers[-1] > limits.max_rows + 1:
                    raise TooManyRows(
                        message(
                            "sheet {sheet} has rows down to row {row:,}; an import reads at "
                            "most {limit:,} rows below the header (delete the empty rows below "
                            "the data)",
                            sheet=title,
                            row=numbers[-1],
                            limit=limits.max_rows,
                        )
                    )
                tail = data[_row_cut(data, cut) :]
            rows += len(_ROW.findall(tail))
            well_formed.Parse(b"", True)
    except (zipfile.BadZipFile, OSError, EOFError, expat.ExpatError) as e:
        raise NotAWorkbook(
            message("sheet {sheet} cannot be read: {error}", sheet=title, error=str(e))
        ) from e
    if rows > limits.max_rows + 1:
        raise TooManyRows(
            message(
                "sheet {sheet} has {rows:,} rows; an import reads at most {limit:,} below "
                "the header",
                sheet=title,
                rows=rows,
                limit=limits.max_rows,
            )
        )
    return valued.row if valued.numbered else None


class _LastValued:
    """The last numbered row with a value in it, followed chunk by chunk (a chunk may begin
    inside a row whose start the previous one held)."""

    def __init__(self) -> None:
        self.row = 0
        self.numbered = False
        self.current = 0  # the row the previous chunk ended in

    def see(self, data: bytes, starts: list[tuple[int, int]]) -> None:
        """Take in a chunk and the (offset, number) of the rows that start in it."""
        if not starts:
            if _VALUE.search(data):
                self.row = max(self.row, self.current)
            return
        self.numbered = True
        if _VALUE.search(data, 0, starts[0][0]):
            self.row = max(self.row, self.current)
        ends = [start for start, _ in starts[1:]] + [len(data)]
        for (start, number), end in zip(reversed(starts), reversed(ends), strict=True):
            if number <= self.row:
                break
            if _VALUE.search(data, start, end):
                self.row = number
                break
        self.current = starts[-1][1]


def _row_cut(data: bytes, cut: int) -> int:
    """Where to stop counting: at the overlap's last `<`, so that no tag is counted twice."""
    at = data.rfind(b"<", cut)
    return at if at >= 0 else len(data)
