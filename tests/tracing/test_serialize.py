"""Safe, size-capped capture of arbitrary objects."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import orjson
from pydantic import BaseModel

from mltrail.tracing.serialize import decode_attribute, to_json


class Point(BaseModel):
    x: int
    y: int


@dataclasses.dataclass
class Box:
    label: str
    corners: tuple[int, ...]


def test_common_objects_encode_as_json() -> None:
    value = {
        "model": Point(x=1, y=2),
        "box": Box("a", (1, 2)),
        "array": np.arange(3),
        "when": dt.datetime(2026, 1, 2, 3, 4, 5),
        "tags": {"b"},
        3: "int key",
        "raw": b"abc",
    }
    decoded = orjson.loads(to_json(value))
    assert decoded["model"] == {"x": 1, "y": 2}
    assert decoded["box"] == {"label": "a", "corners": [1, 2]}
    assert decoded["array"] == [0, 1, 2]
    assert decoded["when"].startswith("2026-01-02T03:04:05")
    assert decoded["tags"] == ["b"] and decoded["3"] == "int key" and decoded["raw"] == "<3 bytes>"


def test_objects_that_fail_to_dump_fall_back_to_str() -> None:
    class Broken(BaseModel):
        x: int

        def model_dump(self, **kwargs: object) -> dict[str, object]:
            raise RuntimeError("no")

        def __str__(self) -> str:
            return "broken!"

    assert to_json(Broken(x=1)) == '"broken!"'
    cyclic: list[object] = []
    cyclic.append(cyclic)
    assert isinstance(to_json(cyclic), str)


def test_long_values_are_cut_with_a_note() -> None:
    text = to_json({"k": "v" * 1000}, max_chars=50)
    value = orjson.loads(text)
    assert (
        isinstance(value, str) and value.startswith('{"k":"vvv') and value.endswith("[truncated 958 chars]")
    )


def test_decode_attribute() -> None:
    assert decode_attribute('{"a": 1}') == {"a": 1}
    assert decode_attribute("not json") == "not json"
    assert decode_attribute((1, 2)) == [1, 2]
    assert decode_attribute(5) == 5
