"""Type aliases shared across mltrail."""

from __future__ import annotations

from typing import TypeAlias

JSONScalar: TypeAlias = str | int | float | bool | None
JSONValue: TypeAlias = JSONScalar | list["JSONValue"] | dict[str, "JSONValue"]
RunId: TypeAlias = str
ExperimentId: TypeAlias = str
Uri: TypeAlias = str

__all__ = ["ExperimentId", "JSONScalar", "JSONValue", "RunId", "Uri"]
