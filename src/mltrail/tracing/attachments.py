"""Attachments: images, audio and files inside span inputs and outputs, stored once as artifacts.

An :class:`Attachment`, a ``data:<mime>;base64,...`` string, or an OpenAI ``input_audio``
content part found in a captured value is replaced by a reference
``mlflow-attachment://<uuid>?content_type=<mime>&trace_id=<trace id>&size=<bytes>`` (spec
TRACING.md §6); the bytes travel with the trace and are uploaded to
``<artifact location>/attachments/<uuid>`` when it is exported. Bytes over the size cap are
replaced by a placeholder and reported, never uploaded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from mltrail.tracing import attributes as attr
from mltrail.tracing.processor import PendingAttachment
from mltrail.tracing.serialize import DEFAULT_MAX_CHARS, model_data, to_json

__all__ = [
    "DEFAULT_MAX_ATTACHMENT_BYTES",
    "Attachment",
    "AttachmentRef",
    "CapturedValue",
    "capture",
    "parse_reference",
    "reference_uri",
]

DEFAULT_MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
"""Default cap on one attachment's size (bytes)."""

_DATA_URL = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)(?:;[\w.+-]+=[\w.+-]+)*;base64,(?P<data>.*)$", re.DOTALL
)
_AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "opus": "audio/opus"}


class Attachment:
    """Bytes with a content type, to be stored as an attachment of the trace.

    A plain class rather than a dataclass: orjson encodes dataclasses itself, and an attachment
    must reach the capture hook that turns it into a reference.

    Args:
        content_type: MIME type such as ``image/png``.
        content_bytes: The content.
    """

    __slots__ = ("content_bytes", "content_type")

    def __init__(self, content_type: str, content_bytes: bytes) -> None:
        self.content_type = content_type
        self.content_bytes = bytes(content_bytes)

    @classmethod
    def from_file(cls, path: str | Path, content_type: str | None = None) -> Attachment:
        """Read a file; the content type is guessed from its name when not given."""
        path = Path(path)
        guessed = content_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return cls(guessed, path.read_bytes())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Attachment):
            return NotImplemented
        return (self.content_type, self.content_bytes) == (other.content_type, other.content_bytes)

    def __hash__(self) -> int:
        return hash((self.content_type, self.content_bytes))

    def __repr__(self) -> str:
        return f"Attachment({self.content_type!r}, <{len(self.content_bytes)} bytes>)"


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    """The parts of an ``mlflow-attachment://`` reference."""

    attachment_id: str
    content_type: str
    trace_id: str
    size: int


def reference_uri(attachment_id: str, content_type: str, trace_id: str, size: int) -> str:
    """The reference URI that stands for an attachment inside span content."""
    return (
        f"{attr.ATTACHMENT_SCHEME}://{attachment_id}?content_type={quote(content_type, safe='')}"
        f"&trace_id={trace_id}&size={size}"
    )


def parse_reference(uri: str) -> AttachmentRef | None:
    """The parts of a reference URI, None when ``uri`` is not one."""
    parts = urlsplit(uri)
    if parts.scheme != attr.ATTACHMENT_SCHEME or not parts.netloc:
        return None
    query = parse_qs(parts.query)
    try:
        uuid.UUID(parts.netloc)
        size = int(query.get("size", ["0"])[0])
    except ValueError:
        return None
    return AttachmentRef(
        parts.netloc,
        query.get("content_type", ["application/octet-stream"])[0],
        query.get("trace_id", [""])[0],
        size,
    )


@dataclass(slots=True)
class CapturedValue:
    """The JSON text of a captured value and the attachments taken out of it.

    Attributes:
        text: JSON with references in place of attachment bytes.
        attachments: Bytes to upload with the trace.
        oversized: One message per attachment dropped for exceeding the size cap.
    """

    text: str
    attachments: list[PendingAttachment] = field(default_factory=list)
    oversized: list[str] = field(default_factory=list)


class _Extractor:
    def __init__(self, trace_id: str, max_bytes: int, known: dict[tuple[str, bytes], str]) -> None:
        self.trace_id = trace_id
        self.max_bytes = max_bytes
        self.known = known
        self.result = CapturedValue("")

    def take(self, content_type: str, data: bytes) -> str:
        if len(data) > self.max_bytes:
            message = (
                f"Attachment of {len(data)} bytes ({content_type}) exceeds the "
                f"{self.max_bytes}-byte limit and was not stored"
            )
            self.result.oversized.append(message)
            return f"[{message}]"
        # The same image or audio often recurs across a trace (an agent passes the whole chat
        # history, image included, to every model call): equal bytes share one stored copy.
        key = (content_type, hashlib.sha256(data).digest())
        attachment_id = self.known.get(key)
        if attachment_id is None:
            attachment_id = str(uuid.uuid4())
            self.known[key] = attachment_id
            self.result.attachments.append(PendingAttachment(attachment_id, content_type, data))
        return reference_uri(attachment_id, content_type, self.trace_id, len(data))

    def default(self, obj: Any) -> Any:
        if isinstance(obj, Attachment):
            return self.take(obj.content_type, obj.content_bytes)
        return NotImplemented

    def walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._data_url(value)
        if isinstance(value, Attachment):
            return self.take(value.content_type, value.content_bytes)
        if isinstance(value, Mapping):
            if value.get("type") == "input_audio" and isinstance(value.get("input_audio"), Mapping):
                return {**value, "input_audio": self._audio(value["input_audio"])}
            return {k: self.walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.walk(v) for v in value]
        dump = getattr(value, "model_dump", None)
        if callable(dump) and not isinstance(value, type):
            try:
                return self.walk(model_data(dump))
            except Exception:
                return value
        return value

    def _data_url(self, text: str) -> str:
        if not text.startswith("data:"):
            return text
        match = _DATA_URL.match(text)
        if match is None:
            return text
        try:
            data = base64.b64decode(match["data"], validate=True)
        except (binascii.Error, ValueError):
            return text
        return self.take(match["mime"], data)

    def _audio(self, part: Mapping[str, Any]) -> dict[str, Any]:
        encoded = part.get("data")
        if not isinstance(encoded, str):
            return dict(part)
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return dict(part)
        fmt = str(part.get("format", "wav"))
        return {**part, "data": self.take(_AUDIO_TYPES.get(fmt, f"audio/{fmt}"), data)}


def capture(
    value: Any,
    *,
    trace_id: str,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    extract: bool = True,
    known: dict[tuple[str, bytes], str] | None = None,
) -> CapturedValue:
    """Encode a span input or output as JSON, taking attachments out of it.

    The common case (no attachment) costs one encode plus a substring check; only values that
    may hold a data URL or an audio part are walked.

    Args:
        value: Any object.
        trace_id: The MLflow trace id the references name.
        max_chars: Cap on the JSON text.
        max_bytes: Cap on one attachment's bytes.
        extract: Also replace data URLs and audio parts (``Attachment`` objects always are).
        known: The attachments already taken from this trace, by content type and SHA-256;
            equal bytes get the id stored there instead of a second copy, and new ones are
            added to it.

    Returns:
        The text and the attachments taken out.
    """
    seen = known if known is not None else {}
    extractor = _Extractor(trace_id, max_bytes, dict(seen))
    text = to_json(value, max_chars, default=extractor.default)
    if extract and ('"data:' in text or '"input_audio"' in text):
        # A second pass starts again from what the trace had before this value.
        extractor = _Extractor(trace_id, max_bytes, dict(seen))
        text = to_json(extractor.walk(value), max_chars, default=extractor.default)
    seen.update(extractor.known)
    extractor.result.text = text
    return extractor.result
