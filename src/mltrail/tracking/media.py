"""Turning figures, images and tables into artifact bytes.

Pure conversions with no store access: the client decides where the bytes go. matplotlib,
numpy, PIL and pandas are imported only inside the functions that need them.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import posixpath
import re
import uuid
from collections.abc import Mapping
from typing import Any

from mltrail.errors import InvalidArgumentError, MissingDependencyError

__all__ = [
    "FIGURE_FORMATS",
    "figure_to_bytes",
    "image_key_paths",
    "image_thumbnail_bytes",
    "image_to_png_bytes",
    "merge_tables",
    "table_from_data",
    "table_to_json_bytes",
]

FIGURE_FORMATS = frozenset({"png", "jpg", "jpeg", "svg", "pdf", "ps", "eps", "tif", "tiff", "webp"})
_IMAGE_KEY_RE = re.compile(r"^[A-Za-z0-9_\-./ ]+$")
_THUMBNAIL_SIZE = 256


def figure_to_bytes(figure: Any, artifact_file: str) -> bytes:
    """Render a matplotlib figure in the format named by the file's extension.

    Args:
        figure: A ``matplotlib.figure.Figure`` (anything with ``savefig``).
        artifact_file: The target name, e.g. ``plots/loss.png``.

    Returns:
        The encoded figure.

    Raises:
        InvalidArgumentError: the extension is not a known figure format or the object is not a figure.
    """
    ext = posixpath.splitext(artifact_file)[1].lower().lstrip(".")
    if ext not in FIGURE_FORMATS:
        raise InvalidArgumentError(
            f"Invalid figure file {artifact_file!r}: the extension must be one of {sorted(FIGURE_FORMATS)}"
        )
    savefig = getattr(figure, "savefig", None)
    if not callable(savefig):
        raise InvalidArgumentError(
            f"Unsupported figure type {type(figure).__name__}: expected a matplotlib Figure"
        )
    buf = io.BytesIO()
    savefig(buf, format=ext)
    return buf.getvalue()


def _to_pil(image: Any) -> Any:
    """A PIL image from a PIL image or a numpy array (uint8 0..255, float 0..1, bool, other ints)."""
    try:
        import numpy as np
        from PIL import Image
    except ImportError as exc:
        raise MissingDependencyError(exc.name or "pillow", "plots") from exc

    if isinstance(image, Image.Image):
        return image
    if not isinstance(image, np.ndarray):
        raise InvalidArgumentError(
            f"Unsupported image type {type(image).__name__}: expected a numpy array or a PIL image"
        )
    array = image
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise InvalidArgumentError(
            f"Invalid image shape {image.shape}: expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)"
        )
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    elif np.issubdtype(array.dtype, np.floating):
        if array.size and (np.nanmin(array) < 0.0 or np.nanmax(array) > 1.0):
            raise InvalidArgumentError("Float images must have values in [0, 1]")
        array = np.clip(np.round(np.nan_to_num(array) * 255.0), 0, 255).astype(np.uint8)
    elif np.issubdtype(array.dtype, np.integer):
        if array.dtype != np.uint8:
            if array.size and (array.min() < 0 or array.max() > 255):
                raise InvalidArgumentError("Integer images must have values in [0, 255]")
            array = array.astype(np.uint8)
    else:
        raise InvalidArgumentError(f"Unsupported image dtype {array.dtype}")
    mode = {2: "L", 3: "RGB", 4: "RGBA"}[array.ndim if array.ndim == 2 else array.shape[2]]
    return Image.fromarray(np.ascontiguousarray(array), mode=mode)


def image_to_png_bytes(image: Any) -> bytes:
    """Encode a numpy array or PIL image as PNG.

    Raises:
        InvalidArgumentError: unsupported type, shape, dtype or value range.
    """
    buf = io.BytesIO()
    _to_pil(image).save(buf, format="PNG")
    return buf.getvalue()


def image_thumbnail_bytes(image: Any) -> bytes:
    """A small WebP preview (at most 256 px on the long side), as the MLflow UI shows for images."""
    pil = _to_pil(image).copy()
    pil.thumbnail((_THUMBNAIL_SIZE, _THUMBNAIL_SIZE))
    if pil.mode not in ("RGB", "RGBA", "L"):
        pil = pil.convert("RGBA")
    buf = io.BytesIO()
    pil.save(buf, format="WEBP")
    return buf.getvalue()


def image_key_paths(key: str, step: int, timestamp: int) -> tuple[str, str]:
    """Artifact paths of an image logged by key and step: the PNG and its compressed preview.

    The names follow the MLflow UI's convention
    ``images/<key with / as ~>+step+<step>+timestamp+<ms>+<uuid>`` so its image viewer finds them.

    Raises:
        InvalidArgumentError: the key has characters other than alphanumerics, ``_ - . / space``.
    """
    if not _IMAGE_KEY_RE.match(key):
        raise InvalidArgumentError(
            f"Invalid image key {key!r}: only alphanumerics, '_', '-', '.', ' ' and '/' are allowed"
        )
    stem = f"images/{key.replace('/', '~')}+step+{step}+timestamp+{timestamp}+{uuid.uuid4()}"
    return f"{stem}.png", f"{stem}+compressed.webp"


def _json_cell(value: Any) -> Any:
    """Make a cell JSON-safe: NaN/inf become null; numpy scalars become Python scalars."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes)):
        with contextlib.suppress(TypeError, ValueError):
            value = item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _is_column(value: Any) -> bool:
    return (
        not isinstance(value, (str, bytes, Mapping))
        and hasattr(value, "__len__")
        and hasattr(value, "__iter__")
    )


def table_from_data(data: Any) -> dict[str, list[Any]]:
    """Normalise a table to ``{"columns": [...], "data": [[...], ...]}`` (pandas "split" form).

    Args:
        data: A pandas DataFrame, or a dict of columns (lists of equal length, or scalars for
            a single row).

    Raises:
        InvalidArgumentError: other types, or columns of different lengths.
    """
    if isinstance(data, Mapping):
        columns = [str(c) for c in data]
        values = list(data.values())
        is_column = [_is_column(v) for v in values]
        if not any(is_column):
            return {"columns": columns, "data": [[_json_cell(v) for v in values]]}
        if not all(is_column):
            raise InvalidArgumentError("Table columns must all be sequences, or all be scalars (one row)")
        cols = [list(v) for v in values]
        lengths = {len(c) for c in cols}
        if len(lengths) > 1:
            raise InvalidArgumentError(f"Table columns have different lengths: {sorted(lengths)}")
        rows = [[_json_cell(c[i]) for c in cols] for i in range(lengths.pop())]
        return {"columns": columns, "data": rows}
    to_json = getattr(data, "to_json", None)
    if callable(to_json) and hasattr(data, "columns"):
        parsed = json.loads(to_json(orient="split", index=False, date_format="iso"))
        return {"columns": [str(c) for c in parsed["columns"]], "data": parsed["data"]}
    raise InvalidArgumentError(
        f"Unsupported table type {type(data).__name__}: expected a pandas DataFrame or a dict of columns"
    )


def merge_tables(existing: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Append ``new`` rows under ``existing`` rows; columns are the union, missing cells null."""
    old_cols = [str(c) for c in existing.get("columns", [])]
    new_cols = [str(c) for c in new.get("columns", [])]
    columns = old_cols + [c for c in new_cols if c not in old_cols]
    rows: list[list[Any]] = []
    for cols, data in ((old_cols, existing.get("data", [])), (new_cols, new.get("data", []))):
        index = {c: i for i, c in enumerate(cols)}
        for row in data:
            rows.append([row[index[c]] if c in index else None for c in columns])
    return {"columns": columns, "data": rows}


def table_to_json_bytes(table: Mapping[str, Any]) -> bytes:
    """Serialise a split-form table as UTF-8 JSON."""
    return json.dumps(table, allow_nan=False, default=str).encode("utf-8")
