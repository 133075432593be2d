"""Where a dataset came from: source objects with a type name and a JSON description.

The ``source_type`` strings and JSON shapes are the ones MLflow records (``code``, ``local``,
``http``, ``s3``...), so runs logged here read the same in either UI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mltrail.artifacts.paths import local_path_from_uri, uri_scheme
from mltrail.errors import InvalidArgumentError
from mltrail.tracking.context import TAG_SOURCE_NAME, TAG_SOURCE_TYPE, source_name, source_type

__all__ = [
    "CodeDatasetSource",
    "DatasetSource",
    "HttpDatasetSource",
    "LocalDatasetSource",
    "UriDatasetSource",
    "resolve_source",
]


class DatasetSource:
    """Base class of dataset sources: a ``source_type`` and a JSON-serialisable description."""

    source_type: str = "unknown"

    def to_dict(self) -> dict[str, Any]:
        """The JSON description of the source."""
        raise NotImplementedError

    def to_json(self) -> str:
        """The description as a JSON string (the ``source`` field of a dataset)."""
        return json.dumps(self.to_dict(), sort_keys=True)


@dataclass(frozen=True)
class CodeDatasetSource(DatasetSource):
    """Data built in code; ``tags`` record the script that built it."""

    tags: dict[str, str] = field(default_factory=dict)
    source_type = "code"

    def to_dict(self) -> dict[str, Any]:
        """``{"tags": {...}}``."""
        return {"tags": dict(self.tags)}


@dataclass(frozen=True)
class LocalDatasetSource(DatasetSource):
    """A file or directory on the local filesystem."""

    uri: str
    source_type = "local"

    def to_dict(self) -> dict[str, Any]:
        """``{"uri": "/abs/path"}``."""
        return {"uri": self.uri}


@dataclass(frozen=True)
class HttpDatasetSource(DatasetSource):
    """A dataset downloadable from an http(s) URL."""

    url: str
    source_type = "http"

    def to_dict(self) -> dict[str, Any]:
        """``{"url": "https://..."}``."""
        return {"url": self.url}


@dataclass(frozen=True)
class UriDatasetSource(DatasetSource):
    """A dataset in other storage named by a URI; its scheme is the source type (``s3``, ``gs``...)."""

    uri: str

    @property
    def source_type(self) -> str:  # type: ignore[override]
        """The URI's scheme."""
        return uri_scheme(self.uri)

    def to_dict(self) -> dict[str, Any]:
        """``{"uri": "s3://bucket/key"}``."""
        return {"uri": self.uri}


def resolve_source(source: DatasetSource | str | None) -> DatasetSource:
    """Turn what the caller passed as ``source`` into a :class:`DatasetSource`.

    Args:
        source: A source object, a URI or path, or None for data built in code (the running
            script's name and type are recorded).

    Returns:
        The source object.

    Raises:
        InvalidArgumentError: ``source`` has an unsupported type.
    """
    if source is None:
        return CodeDatasetSource(tags={TAG_SOURCE_NAME: source_name(), TAG_SOURCE_TYPE: source_type()})
    if isinstance(source, DatasetSource):
        return source
    if not isinstance(source, str) or not source:
        raise InvalidArgumentError(
            f"Invalid dataset source {source!r}: expected a URI, a path or a DatasetSource"
        )
    scheme = uri_scheme(source)
    if scheme in ("", "file"):
        return LocalDatasetSource(uri=local_path_from_uri(source))
    if scheme in ("http", "https"):
        return HttpDatasetSource(url=source)
    return UriDatasetSource(uri=source)
