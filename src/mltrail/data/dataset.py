"""The :class:`Dataset` base: name, digest, source, schema and profile of logged data."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from mltrail.data.sources import DatasetSource
from mltrail.tracking import entities

__all__ = ["DIGEST_LENGTH", "SAMPLE_ROWS", "Dataset", "digest_of"]

DIGEST_LENGTH = 16
"""Hex characters kept of the SHA-256 digest (the protocol allows up to 36)."""

SAMPLE_ROWS = 10_000
"""Rows (or flat elements) read from the head of the data for the digest; the tail adds a few more."""

TAIL_ROWS = 1_000


def digest_of(parts: Iterable[bytes]) -> str:
    """Hash byte strings into a short, stable hex digest."""
    sha = hashlib.sha256()
    for part in parts:
        sha.update(len(part).to_bytes(8, "little"))
        sha.update(part)
    return sha.hexdigest()[:DIGEST_LENGTH]


class Dataset:
    """Data a run used, described well enough to recognise it again.

    Args:
        source: Where the data came from.
        name: Display name (default ``"dataset"``).
        digest: Content digest; computed from the data by subclasses when None.
    """

    def __init__(self, source: DatasetSource, name: str | None = None, digest: str | None = None) -> None:
        self._source = source
        self._name = name or "dataset"
        self._digest = digest

    @property
    def name(self) -> str:
        """The dataset's name."""
        return self._name

    @property
    def digest(self) -> str:
        """A stable hash of the content (computed once, on first access)."""
        if self._digest is None:
            self._digest = self._compute_digest()
        return self._digest

    @property
    def source(self) -> DatasetSource:
        """Where the data came from."""
        return self._source

    @property
    def source_type(self) -> str:
        """The source's type name (``code``, ``local``, ``http``, ``s3``...)."""
        return self._source.source_type

    @property
    def schema(self) -> dict[str, Any] | None:
        """The schema in MLflow's JSON form, or None when it cannot be inferred."""
        return None

    @property
    def profile(self) -> dict[str, Any] | None:
        """Summary numbers (``num_rows``, ``num_elements``...)."""
        return None

    def _compute_digest(self) -> str:
        return digest_of([self._source.to_json().encode()])

    def to_dict(self) -> dict[str, str | None]:
        """The dataset as the string fields the protocol stores."""
        schema = self.schema
        profile = self.profile
        return {
            "name": self.name,
            "digest": self.digest,
            "source_type": self.source_type,
            "source": self._source.to_json(),
            "schema": json.dumps(schema) if schema is not None else None,
            "profile": json.dumps(profile) if profile is not None else None,
        }

    def to_entity(self) -> entities.Dataset:
        """The tracking entity that ``log_inputs`` records."""
        fields = self.to_dict()
        return entities.Dataset(
            name=self.name,
            digest=self.digest,
            source_type=self.source_type,
            source=self._source.to_json(),
            schema=fields["schema"],
            profile=fields["profile"],
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, digest={self.digest!r})"
