"""Streaming uploads: a multipart/form-data body parsed chunk by chunk, the file put into object storage while it
arrives, never held in memory or on local disk as a whole.

``receive_upload`` reads ``request.stream()``; text fields are collected (small, limited), the one file field is
checked (name, first bytes, size) and streamed to ``Storage.put`` in a worker thread through a bounded pipe, with
SHA-256 and size counted on the way. Anything refused raises ``UploadRejected`` (a Dutch message and the form
field it belongs to); then nothing is stored: the object of a half-finished upload is deleted.

CSRF: the CSRF middleware (``core.security``) would read the whole form (``request.form()``) to find the token, so
upload routes are excluded from it (opt ``exclude_from_csrf``) and ``receive_upload`` checks the token itself, signed
for this session like everywhere else: from the ``x-csrftoken`` header, or from the ``_csrf_token`` field, which
must come before the file (the hidden input is the first field of every upload form, and browsers send fields in
document order).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import struct
import unicodedata
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

import anyio
import anyio.from_thread
import anyio.to_thread
from multipart import MultipartSegment, ParserError, ParserLimitReached, PushMultipartParser, parse_options_header

from core.security import CSRF_FIELD, CSRF_HEADER, csrf_token_valid, session_binding
from core.storage import Storage, new_key

FORM_OVERHEAD = 1024 * 1024  # room for the text fields and multipart headers next to the largest file
MAX_FIELD_BYTES = 20_000  # one text field (a message is at most 10 000 characters)
MAX_FIELDS = 30
SNIFF_BYTES = 8192  # the first bytes, enough to recognise every allowed type
PIPE_CHUNKS = 8  # chunks queued between the request and the storage thread (about 8 × 64 KiB)

# Allowed types: recognised by their first bytes; the file name's extension must agree.
PDF, PNG, JPEG, DOCX, XLSX, DOC, XLS = "pdf", "png", "jpeg", "docx", "xlsx", "doc", "xls"
CONTENT_TYPES = {
    PDF: "application/pdf",
    PNG: "image/png",
    JPEG: "image/jpeg",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    DOC: "application/msword",
    XLS: "application/vnd.ms-excel",
}
EXTENSIONS = {
    "pdf": PDF, "png": PNG, "jpg": JPEG, "jpeg": JPEG, "docx": DOCX, "xlsx": XLSX, "doc": DOC, "xls": XLS,
}  # fmt: skip
ALLOWED_TEXT = "PDF, PNG, JPEG, Word (.docx, .doc) of Excel (.xlsx, .xls)"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_LOCAL = b"PK\x03\x04"
OOXML_PART = {DOCX: "word/", XLSX: "xl/"}


class UploadRejected(Exception):
    """The upload is refused; ``message`` is Dutch and is shown next to ``field``."""

    def __init__(self, field: str, message: str, status_code: int = 422):
        self.field = field
        self.message = message
        self.status_code = status_code
        super().__init__(message)


class CsrfRejected(Exception):
    pass


@dataclass(frozen=True)
class ReceivedFile:
    key: str
    size: int
    sha256: str
    content_type: str
    original_filename: str


@dataclass
class ReceivedForm:
    fields: dict[str, str] = field(default_factory=dict)
    file: ReceivedFile | None = None
    file_field: str = ""


def human_size(size: int) -> str:
    if size >= 1024 * 1024 * 1024:
        return f"{size / (1024 * 1024 * 1024):.1f} GB".replace(".", ",")
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")
    if size >= 1024:
        return f"{size / 1024:.0f} kB"
    return f"{size} bytes"


# --- file names ------------------------------------------------------------------------------------------


def clean_filename(name: str | None, field_name: str) -> str:
    """The file name as metadata: refused when it plays path tricks; never used in a key or a path."""
    if name is None:
        raise UploadRejected(field_name, "Kies een bestand.")
    if any(ord(c) < 32 or ord(c) == 127 for c in name) or "\x00" in name:
        raise UploadRejected(field_name, "De bestandsnaam bevat ongeldige tekens (zoals stuurtekens).")
    stripped = name.strip()
    if not stripped:
        raise UploadRejected(field_name, "Het bestand heeft geen naam.")
    if (
        "/" in stripped
        or "\\" in stripped
        or stripped in (".", "..")
        or stripped.startswith(".")
        or re.match(r"^[A-Za-z]:", stripped)
    ):
        raise UploadRejected(
            field_name, "De bestandsnaam mag geen mapnamen of pad bevatten (zoals ../ of /). Geef het bestand een "
            "gewone naam, bijvoorbeeld plan-van-aanpak.pdf.",
        )  # fmt: skip
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in stripped):
        raise UploadRejected(field_name, "De bestandsnaam bevat ongeldige tekens (zoals stuurtekens).")
    if len(stripped) > 255:
        raise UploadRejected(field_name, "De bestandsnaam is te lang (ten hoogste 255 tekens).")
    return unicodedata.normalize("NFC", stripped)


def _raw_filename(segment: MultipartSegment) -> str | None:
    """The file name as the client sent it (the parser turns ``C:\\x\\y.pdf`` into ``y.pdf``; we want to refuse
    it instead), percent-decoded the way browsers escape quotes and line breaks."""
    raw = segment.header("Content-Disposition", "") or ""
    match = re.search(r'filename="((?:[^"\\]|\\.)*)"', raw)
    if match is None:
        return segment.filename
    return unquote(match.group(1))


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


# --- recognising types by their bytes --------------------------------------------------------------------


def sniff(head: bytes, filename: str, field_name: str) -> str:
    """The file's type from its first bytes, checked against the extension; UploadRejected otherwise."""
    declared = EXTENSIONS.get(extension_of(filename))
    if head.startswith(b"%PDF-"):
        found = PDF
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        found = PNG
    elif head.startswith(b"\xff\xd8\xff"):
        found = JPEG
    elif head.startswith(OLE2):
        found = declared if declared in (DOC, XLS) else "ole2"
    elif head.startswith(ZIP_LOCAL):
        found = declared if declared in (DOCX, XLSX) else "zip"
    else:
        found = ""
    if found not in CONTENT_TYPES:
        raise UploadRejected(field_name, f"Dit bestandstype is niet toegestaan. Toegestaan zijn {ALLOWED_TEXT}.", 415)
    if declared != found:
        raise UploadRejected(
            field_name,
            f"De inhoud van het bestand past niet bij de extensie '.{extension_of(filename) or '?'}'. "
            f"Toegestaan zijn {ALLOWED_TEXT}.",
            415,
        )
    return found


class ZipNames:
    """Collects the entry names of a ZIP stream's local file headers as the bytes pass (no buffering)."""

    KEEP = 600  # tail kept between chunks: a header (30 bytes) plus a name of up to 512 bytes

    def __init__(self) -> None:
        self.names: set[str] = set()
        self._tail = b""
        self._offset = 0  # absolute offset of self._tail[0]
        self._seen: set[int] = set()

    def feed(self, chunk: bytes) -> None:
        window = self._tail + chunk
        start = 0
        while (index := window.find(ZIP_LOCAL, start)) != -1:
            start = index + 1
            absolute = self._offset + index
            if absolute in self._seen or index + 30 > len(window):
                continue
            name_len = struct.unpack_from("<H", window, index + 26)[0]
            if name_len > 512 or index + 30 + name_len > len(window):
                continue
            self._seen.add(absolute)
            self.names.add(window[index + 30 : index + 30 + name_len].decode("utf-8", "replace"))
        keep = min(len(window), self.KEEP)
        self._offset += len(window) - keep
        self._tail = window[len(window) - keep :]
        self._seen = {s for s in self._seen if s >= self._offset}

    def check(self, kind: str, field_name: str) -> None:
        part = OOXML_PART[kind]
        if "[Content_Types].xml" not in self.names or not any(n.startswith(part) for n in self.names):
            raise UploadRejected(
                field_name,
                f"Dit is geen geldig {'Word' if kind == DOCX else 'Excel'}-bestand. Toegestaan zijn {ALLOWED_TEXT}.",
                415,
            )


# --- CSRF ------------------------------------------------------------------------------------------------


def csrf_matches(request, secret: str) -> bool:
    """The token from the header: the same check as core.security's middleware (signed for this session)."""
    return csrf_token_valid(request.headers.get(CSRF_HEADER), secret, session_binding(request.session))


# --- the pipe between the request (event loop) and the storage thread ------------------------------------


class _Aborted(Exception):
    pass


class _PipeReader:
    """A file-like ``read`` for ``Storage.put`` in a worker thread, fed from the event loop chunk by chunk.

    ``read(n)`` blocks until n bytes (one S3 part) or the end arrived and joins them once: no quadratic copying.
    """

    def __init__(self, receive: anyio.abc.ObjectReceiveStream):
        self._receive = receive
        self._buffer = b""
        self._eof = False

    def _next(self) -> bytes | None:
        try:
            item = anyio.from_thread.run(self._receive.receive)
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._eof = True
            return None
        if item is None:  # the request side gave up: make the put fail, so nothing is committed
            raise _Aborted("upload aborted")
        return item

    def read(self, size: int | None = -1) -> bytes:
        want = size if size is not None and size >= 0 else None
        parts, have = [], 0
        while want is None or have < want:
            item = self._buffer or self._next()
            self._buffer = b""
            if item is None:
                break
            if want is not None and have + len(item) > want:  # split the last chunk only: one copy of a part
                item, self._buffer = item[: want - have], item[want - have :]
            parts.append(item)
            have += len(item)
        return b"".join(parts)


class _FileSink:
    """Streams one file part into storage: sniff the head, then pipe chunks to ``Storage.put`` in a thread."""

    def __init__(self, storage: Storage, key: str, filename: str, field_name: str, max_bytes: int):
        self.storage, self.key, self.filename, self.field = storage, key, filename, field_name
        self.max_bytes = max_bytes
        self.head = b""
        self.size = 0
        self.kind = ""
        self.zip_names: ZipNames | None = None
        self._send: anyio.abc.ObjectSendStream | None = None
        self._task: asyncio.Task | None = None
        self.started = False

    async def _start(self) -> None:
        self.kind = sniff(self.head, self.filename, self.field)
        if self.kind in OOXML_PART:
            self.zip_names = ZipNames()
        send, receive = anyio.create_memory_object_stream[bytes | None](max_buffer_size=PIPE_CHUNKS)
        self._send = send
        reader = _PipeReader(receive)
        content_type = CONTENT_TYPES[self.kind]
        self._task = asyncio.ensure_future(
            anyio.to_thread.run_sync(self.storage.put, self.key, reader, content_type, abandon_on_cancel=False)
        )
        self.started = True
        head, self.head = self.head, b""
        await self._pass(head)

    async def _pass(self, chunk: bytes) -> None:
        if self.zip_names is not None:
            self.zip_names.feed(chunk)
        assert self._send is not None
        if self._task is not None and self._task.done():  # the storage side failed: stop feeding it
            self._task.result()
        await self._send.send(chunk)

    async def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise UploadRejected(
                self.field, f"Het bestand is te groot. Het mag ten hoogste {human_size(self.max_bytes)} zijn.", 413
            )
        if not self.started:
            self.head += chunk
            if len(self.head) >= SNIFF_BYTES:
                await self._start()
            return
        await self._pass(chunk)

    async def finish(self) -> ReceivedFile:
        if self.size == 0:
            raise UploadRejected(self.field, "Het bestand is leeg. Kies een bestand met inhoud.")
        if not self.started:
            await self._start()
        assert self._send is not None and self._task is not None
        await self._send.aclose()
        stored = await self._task
        if self.zip_names is not None:
            self.zip_names.check(self.kind, self.field)
        if stored.size != self.size:  # cannot happen; never keep an object that is not what was received
            raise UploadRejected(self.field, "Het bestand kwam niet volledig aan. Probeer het opnieuw.", 400)
        return ReceivedFile(self.key, stored.size, stored.sha256, CONTENT_TYPES[self.kind], self.filename)

    async def abort(self) -> None:
        """Stop the storage thread (its put fails, so S3 aborts the multipart upload) and delete the key."""
        if self._send is not None:
            with contextlib.suppress(Exception):
                await self._send.send(None)
            with contextlib.suppress(Exception):
                await self._send.aclose()
        if self._task is not None:
            with contextlib.suppress(BaseException):
                await self._task
        if self.started:
            await anyio.to_thread.run_sync(self.storage.delete, self.key)


# --- the form --------------------------------------------------------------------------------------------


async def _drain(chunks: AsyncIterator[bytes], limit: int) -> None:
    """Read (and drop) the rest of a refused body, so the browser receives the answer instead of a reset."""
    read = 0
    with contextlib.suppress(Exception):
        async for chunk in chunks:
            read += len(chunk)
            if read > limit:
                break


async def receive_upload(
    request,
    storage: Storage,
    *,
    max_bytes: int,
    secret: str,
    file_fields: tuple[str, ...] = ("bestand",),
    key_prefix: str = "documents",
    file_required: bool = True,
    on_fields: Callable[[dict[str, str]], None] | None = None,
) -> ReceivedForm:
    """Parse a multipart upload from ``request.stream()``; the file goes straight to ``storage``.

    Raises ``UploadRejected`` (nothing stored) or ``CsrfRejected``. ``on_fields`` may check the text fields that
    arrived before the file, so a wrong choice is refused before any byte is stored.
    """
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    main_field = file_fields[0]
    if content_type != "multipart/form-data" or not options.get("boundary"):
        if not csrf_matches(request, secret):
            raise CsrfRejected()
        raise UploadRejected(
            main_field, "Het formulier is niet goed verstuurd. Kies een bestand en probeer opnieuw.", 400
        )
    limit = max_bytes + FORM_OVERHEAD
    announced = request.headers.get("content-length")
    if announced and announced.isdigit() and int(announced) > limit:
        raise UploadRejected(
            main_field, f"Het bestand is te groot. Het mag ten hoogste {human_size(max_bytes)} zijn.", 413
        )
    csrf_ok = csrf_matches(request, secret)
    form = ReceivedForm()
    sink: _FileSink | None = None
    segment: MultipartSegment | None = None
    field_value = bytearray()
    skipping = False  # a file field without a file (none chosen)
    received = 0
    chunks = request.stream()
    parser = PushMultipartParser(options["boundary"], max_header_size=4096, max_segment_count=MAX_FIELDS + 2)
    try:
        async for chunk in chunks:
            received += len(chunk)
            if received > limit:
                raise UploadRejected(
                    main_field, f"Het bestand is te groot. Het mag ten hoogste {human_size(max_bytes)} zijn.", 413
                )
            for event in parser.parse(chunk):
                if isinstance(event, MultipartSegment):
                    segment, field_value, skipping = event, bytearray(), False
                    name = event.name or ""
                    if event.filename is not None:
                        if name not in file_fields:
                            raise UploadRejected(main_field, "Het formulier bevat een onbekend bestandsveld.", 400)
                        if not csrf_ok:
                            raise CsrfRejected()
                        if form.file is not None or sink is not None:
                            raise UploadRejected(name, "Stuur één bestand tegelijk.", 400)
                        if event.filename == "" and not file_required:
                            skipping = True  # the browser sends an empty part when no file was chosen
                            continue
                        filename = clean_filename(_raw_filename(event), name)
                        if on_fields is not None:
                            on_fields(form.fields)
                        sink = _FileSink(storage, new_key(key_prefix), filename, name, max_bytes)
                        form.file_field = name
                elif isinstance(event, bytes | bytearray):
                    if segment is None or skipping:
                        continue
                    if sink is not None and segment.filename is not None:
                        await sink.write(bytes(event))
                    else:
                        field_value += event
                        if len(field_value) > MAX_FIELD_BYTES:
                            raise UploadRejected(segment.name or main_field, "Deze invoer is te lang.", 400)
                elif event is None and segment is not None:
                    if sink is not None and segment.filename is not None:
                        form.file = await sink.finish()
                        sink = None
                    elif segment.filename is None:
                        name = segment.name or ""
                        if len(form.fields) >= MAX_FIELDS:
                            raise UploadRejected(main_field, "Het formulier bevat te veel velden.", 400)
                        form.fields[name] = field_value.decode("utf-8", "replace")
                        if name == CSRF_FIELD and not csrf_ok:
                            csrf_ok = csrf_token_valid(form.fields[name], secret, session_binding(request.session))
                    segment = None
        parser.close()
    except (ParserError, ParserLimitReached):
        await _cleanup(sink, form, storage)
        raise UploadRejected(main_field, "Het formulier is niet goed verstuurd. Probeer het opnieuw.", 400) from None
    except UploadRejected as exc:
        await _cleanup(sink, form, storage)
        if exc.status_code != 413 or received <= limit:
            await _drain(chunks, limit - received)
        raise
    except BaseException:
        await _cleanup(sink, form, storage)
        raise
    if not csrf_ok:
        await _cleanup(None, form, storage)
        raise CsrfRejected()
    if form.file is None and file_required:
        raise UploadRejected(main_field, "Kies een bestand.")
    return form


async def _cleanup(sink: _FileSink | None, form: ReceivedForm, storage: Storage) -> None:
    if sink is not None:
        await sink.abort()
    if form.file is not None:
        await anyio.to_thread.run_sync(storage.delete, form.file.key)
        form.file = None


async def discard(storage: Storage, received: ReceivedFile | None) -> None:
    """Delete a stored upload whose rows could not be written (a refused choice, a database error)."""
    if received is not None:
        await anyio.to_thread.run_sync(storage.delete, received.key)
