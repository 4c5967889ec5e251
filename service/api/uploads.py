"""A spreadsheet uploaded as multipart/form-data, streamed to a file on disk as it arrives.

The body's size is bounded before this reads it (BodySizeLimit, with the import route's own
limit: a declared Content-Length over it is refused before a byte is read, and the bytes are
counted as they come). Starlette's multipart parser writes a file part to a temporary file once
it passes 1 MB, so the upload is never held whole in memory; it is then copied, in the thread
pool, to where the job will read it. One file part, named `file`, and a handful of small fields
at most; anything else is a 4xx naming the cause.
"""

import shutil
from pathlib import Path, PurePath

from anyio.to_thread import run_sync
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from service.core.errors import BadRequest, Unprocessable, UnsupportedMedia
from service.core.i18n import message

SUFFIXES = (".xlsx", ".csv", ".jsonl", ".ndjson")
FIELD = "file"
COPY_CHUNK = 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
MEDIA_SUFFIXES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "text/csv": ".csv",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
}


def upload_suffix(part: UploadFile, file_name: str) -> str:
    """The format of the upload, as a suffix import reads: the file name's; for a name without
    one (a browser's `blob`), the part's Content-Type, else its first bytes (a zip: .xlsx, else
    CSV); 422 naming `file` for any other suffix."""
    suffix = PurePath(file_name).suffix.lower()
    if not suffix:
        media = (part.content_type or "").partition(";")[0].strip().lower()
        part.file.seek(0)
        zipped = part.file.read(4) == ZIP_MAGIC
        part.file.seek(0)
        suffix = MEDIA_SUFFIXES.get(media) or (".xlsx" if zipped else ".csv")
    if suffix not in SUFFIXES:
        raise Unprocessable(
            message(
                "file: {name} is not a file import reads (.xlsx, .csv or .jsonl)", name=file_name
            ),
            errors=[_file_error(message("an .xlsx, .csv or .jsonl file"), "file_type")],
        )
    return suffix


def _file_error(text: object, kind: str) -> dict[str, object]:
    return {"field": FIELD, "in": "body", "message": text, "type": kind}


async def uploaded_file(request: Request) -> UploadFile:
    """The `file` part of a multipart/form-data body (already on disk past 1 MB)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise UnsupportedMedia(
            message(
                "send the file as multipart/form-data, in a part named `file`; not {given}",
                given=content_type.partition(";")[0] or "no Content-Type",
            )
        )
    parser = MultiPartParser(request.headers, request.stream(), max_files=1, max_fields=10)
    try:
        form = await parser.parse()
    except MultiPartException as e:
        raise BadRequest(
            message("the multipart body cannot be read: {reason}", reason=e.message)
        ) from None
    part = form.get(FIELD)
    for _, value in form.multi_items():
        if isinstance(value, UploadFile) and value is not part:
            await value.close()
    if not isinstance(part, UploadFile) or not part.filename:
        raise Unprocessable(
            message("file: the form has no file part named `file`"),
            errors=[_file_error(message("required: the spreadsheet, as a file part"), "missing")],
        )
    return part


async def save_upload(part: UploadFile, target: Path) -> int:
    """Copy the uploaded part to `target` (in the thread pool); its size in bytes."""

    def copy() -> int:
        part.file.seek(0)
        with target.open("wb") as out:
            shutil.copyfileobj(part.file, out, COPY_CHUNK)
            return out.tell()

    try:
        return await run_sync(copy)
    finally:
        await part.close()
