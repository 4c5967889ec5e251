"""A CSV file's rows, in the encoding it was saved in: UTF-8, UTF-8 with a BOM, or GB18030
(what Excel on Chinese Windows writes). The whole file is checked first, in chunks: it must
decode strictly in one of them, hold no NUL byte, and have no more lines than an import reads.
So a file that is neither, or too long, is refused before a row of it is stored.
"""

import codecs
import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from service.core.errors import SheetRefused, TooManyRows, UnknownEncoding
from service.core.i18n import message
from service.registry.workbook_guard import SheetLimits

CHUNK = 1 << 20
BOMS = {codecs.BOM_UTF8: "utf-8-sig"}
OTHER_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
ENCODINGS = ("utf-8", "gb18030")  # tried in turn, strictly, on the whole file


def json_encoding(path: Path, limits: SheetLimits) -> str:
    """JSON Lines are UTF-8 (RFC 8259): checked whole, as a CSV file is."""
    encoding = csv_encoding(path, limits)
    if encoding == "gb18030":
        raise UnknownEncoding(message("{file} is not UTF-8 text, as JSON must be", file=path.name))
    return encoding


def csv_encoding(path: Path, limits: SheetLimits) -> str:
    """The file's encoding (utf-8-sig, utf-8 or gb18030), the whole file checked; refused when
    it is none of them, or has more lines than an import reads."""
    with path.open("rb") as file:
        start = file.read(4)
    if start.startswith(codecs.BOM_UTF8):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    elif start.startswith(OTHER_BOMS):
        raise UnknownEncoding(
            message("{file} is UTF-16 or UTF-32 text: save it as CSV (UTF-8)", file=path.name)
        )
    else:
        candidates = ENCODINGS
    for encoding in candidates:
        lines = _decodes(path, encoding)
        if lines is not None:
            if lines > limits.max_rows + 1:
                raise TooManyRows(
                    message(
                        "{file} has {lines:,} lines; an import reads at most {limit:,} rows "
                        "below the header",
                        file=path.name,
                        lines=lines,
                        limit=limits.max_rows,
                    )
                )
            return encoding
    raise UnknownEncoding(
        message(
            "{file} is neither UTF-8 nor GB18030 text (save it from Excel as CSV, or as .xlsx)",
            file=path.name,
        )
    )


def _decodes(path: Path, encoding: str) -> int | None:
    """The file's line count if it decodes strictly and holds no NUL, else None."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines = returns = 0  # lines end in \n, \r\n or (old Macs) \r alone
    with path.open("rb") as file:
        try:
            while chunk := file.read(CHUNK):
                if b"\x00" in chunk:
                    return None
                decoder.decode(chunk)
                lines += chunk.count(b"\n")
                returns += chunk.count(b"\r")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return None
    return max(lines, returns) + 1


@contextmanager
def csv_rows(path: Path, limits: SheetLimits) -> Iterator[Iterator[tuple[int, list[str]]]]:
    """The file's records (line number where each ends, cells), in its encoding."""
    encoding = csv_encoding(path, limits)
    with path.open(encoding=encoding, newline="") as text:
        yield _records(path, csv.reader(text))


def _records(path: Path, reader: Any) -> Iterator[tuple[int, list[str]]]:
    try:
        for record in reader:
            yield reader.line_num, record
    except csv.Error as e:  # a field past the limit, a stray quote: rare, and past the check
        raise SheetRefused(
            message(
                "{file}: line {line} cannot be read as CSV ({error})",
                file=path.name,
                line=reader.line_num,
                error=str(e),
            )
        ) from e
