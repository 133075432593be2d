"""Conversions of images and tables to artifact bytes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from mltrail.errors import InvalidArgumentError
from mltrail.tracking import media


def _decode(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize(
    ("array", "mode", "pixel"),
    [
        (np.array([[True, False]]), "L", 255),
        (np.array([[7, 200]], dtype=np.int16), "L", 7),
        (np.full((1, 2, 1), 9, dtype=np.uint8), "L", 9),
        (np.array([[0.0, 1.0]], dtype=np.float16), "L", 0),
        (np.array([[[0.0, 1.0, 0.5]]]), "RGB", (0, 255, 128)),
    ],
)
def test_image_arrays_become_png(array: np.ndarray, mode: str, pixel: object) -> None:
    img = _decode(media.image_to_png_bytes(array))
    assert img.format == "PNG" and img.mode == mode
    assert img.getpixel((0, 0)) == pixel


@pytest.mark.parametrize(
    "array",
    [
        np.array([[300]], dtype=np.int32),
        np.array([[-1]], dtype=np.int8),
        np.array([[-0.1]]),
        np.zeros((2, 2, 5), dtype=np.uint8),
        np.zeros((2,), dtype=np.uint8),
        np.array([["a"]]),
    ],
)
def test_bad_image_arrays_are_rejected(array: np.ndarray) -> None:
    with pytest.raises(InvalidArgumentError):
        media.image_to_png_bytes(array)


def test_thumbnail_is_small_webp() -> None:
    data = media.image_thumbnail_bytes(np.zeros((600, 300, 3), dtype=np.uint8))
    img = _decode(data)
    assert img.format == "WEBP" and img.size == (128, 256)


def test_tables_from_dicts_and_merge() -> None:
    assert media.table_from_data({"a": np.array([1, 2]), "b": ["x", "y"]}) == {
        "columns": ["a", "b"],
        "data": [[1, "x"], [2, "y"]],
    }
    assert media.table_from_data({"a": float("nan"), "b": np.float32(1.5)}) == {
        "columns": ["a", "b"],
        "data": [[None, 1.5]],
    }
    with pytest.raises(InvalidArgumentError, match="all be sequences"):
        media.table_from_data({"a": [1], "b": 2})
    merged = media.merge_tables(
        {"columns": ["a", "b"], "data": [[1, 2]]}, {"columns": ["b", "c"], "data": [[3, 4]]}
    )
    assert merged == {"columns": ["a", "b", "c"], "data": [[1, 2, None], [None, 3, 4]]}
    assert media.table_to_json_bytes(merged).startswith(b'{"columns"')


def test_image_key_paths() -> None:
    png, preview = media.image_key_paths("a/b c", 2, 99)
    assert png.startswith("images/a~b c+step+2+timestamp+99+") and png.endswith(".png")
    assert preview == png[: -len(".png")] + "+compressed.webp"
    with pytest.raises(InvalidArgumentError):
        media.image_key_paths("a:b", 0, 0)
