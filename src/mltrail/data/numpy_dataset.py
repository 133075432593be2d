"""Datasets from numpy arrays (or dicts of arrays): digest from a bounded sample, tensor-spec schema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

from mltrail.data.dataset import SAMPLE_ROWS, TAIL_ROWS, Dataset, digest_of
from mltrail.data.sources import DatasetSource, resolve_source
from mltrail.errors import InvalidArgumentError, MissingDependencyError

if TYPE_CHECKING:
    import numpy as np

    ArrayOrDict: TypeAlias = np.ndarray[Any, Any] | Mapping[str, np.ndarray[Any, Any]]

__all__ = ["NumpyDataset", "from_numpy"]


def _hash_array(array: np.ndarray[Any, Any]) -> list[bytes]:
    flat = array.reshape(-1)
    parts = [str(array.dtype).encode(), json.dumps(list(array.shape)).encode()]
    head = flat[:SAMPLE_ROWS]
    tail = flat[max(SAMPLE_ROWS, flat.size - TAIL_ROWS) :]
    for sample in (head, tail):
        if sample.dtype.hasobject:
            parts.append(repr(sample.tolist()).encode())
        else:
            parts.append(sample.tobytes())
    return parts


def _items(data: ArrayOrDict) -> list[tuple[str | None, np.ndarray[Any, Any]]]:
    if isinstance(data, Mapping):
        return [(str(k), data[k]) for k in sorted(data)]
    return [(None, data)]


def _tensor_specs(data: ArrayOrDict) -> str:
    specs: list[dict[str, Any]] = []
    for name, array in _items(data):
        spec: dict[str, Any] = {
            "type": "tensor",
            "tensor-spec": {"dtype": str(array.dtype), "shape": [-1, *array.shape[1:]]},
        }
        if name is not None:
            spec["name"] = name
        specs.append(spec)
    return json.dumps(specs)


class NumpyDataset(Dataset):
    """A dataset held in numpy arrays.

    Args:
        features: An array, or a dict of named arrays.
        source: Where it came from.
        targets: Optional target array (or dict of arrays).
        name: Display name.
        digest: Explicit digest (computed from the data when None).
    """

    def __init__(
        self,
        features: ArrayOrDict,
        source: DatasetSource,
        targets: ArrayOrDict | None = None,
        name: str | None = None,
        digest: str | None = None,
    ) -> None:
        super().__init__(source=source, name=name, digest=digest)
        self._features = features
        self._targets = targets

    @property
    def features(self) -> ArrayOrDict:
        """The feature array(s)."""
        return self._features

    @property
    def targets(self) -> ArrayOrDict | None:
        """The target array(s), if any."""
        return self._targets

    def _compute_digest(self) -> str:
        parts: list[bytes] = []
        for role, data in (("features", self._features), ("targets", self._targets)):
            if data is None:
                continue
            for name, array in _items(data):
                parts.append(f"{role}:{name}".encode())
                parts.extend(_hash_array(array))
        return digest_of(parts)

    @property
    def schema(self) -> dict[str, Any]:
        """``{"mlflow_tensorspec": {"features": "<json>", "targets": "<json>" | None}}``."""
        targets = _tensor_specs(self._targets) if self._targets is not None else None
        return {"mlflow_tensorspec": {"features": _tensor_specs(self._features), "targets": targets}}

    @property
    def profile(self) -> dict[str, Any]:
        """``num_rows``, ``num_elements`` and the features' (and targets') shape, size and bytes."""
        feats = _items(self._features)
        profile: dict[str, Any] = {
            "num_rows": int(feats[0][1].shape[0]) if feats and feats[0][1].ndim else 1,
            "num_elements": int(sum(a.size for _, a in feats)),
            "features_shape": _shape_info(self._features, "shape"),
            "features_size": _shape_info(self._features, "size"),
            "features_nbytes": _shape_info(self._features, "nbytes"),
        }
        if self._targets is not None:
            profile["targets_shape"] = _shape_info(self._targets, "shape")
            profile["targets_size"] = _shape_info(self._targets, "size")
            profile["targets_nbytes"] = _shape_info(self._targets, "nbytes")
        return profile


def _shape_info(data: ArrayOrDict, attr: str) -> Any:
    def value(array: np.ndarray[Any, Any]) -> Any:
        raw = getattr(array, attr)
        return list(raw) if isinstance(raw, tuple) else int(raw)

    if isinstance(data, Mapping):
        return {str(k): value(data[k]) for k in sorted(data)}
    return value(data)


def _check(data: Any, what: str) -> None:
    import numpy as np

    arrays = list(data.values()) if isinstance(data, Mapping) else [data]
    if not arrays or not all(isinstance(a, np.ndarray) for a in arrays):
        raise InvalidArgumentError(f"{what} must be a numpy array or a non-empty dict of numpy arrays")


def from_numpy(
    features: ArrayOrDict,
    source: DatasetSource | str | None = None,
    name: str | None = None,
    targets: ArrayOrDict | None = None,
    digest: str | None = None,
) -> NumpyDataset:
    """Describe numpy arrays as a dataset.

    Args:
        features: An array, or a dict of named arrays.
        source: Where it came from: a URI or path, a ``DatasetSource``, or None for data built
            in code.
        name: Display name (default ``"dataset"``).
        targets: Optional target array (or dict of arrays).
        digest: Explicit digest; computed from a bounded sample of the data when None.

    Returns:
        The dataset; pass it to ``log_input``.

    Raises:
        InvalidArgumentError: the inputs are not numpy arrays.
        MissingDependencyError: numpy is not installed.
    """
    try:
        import numpy  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError("numpy", "data") from exc
    _check(features, "features")
    if targets is not None:
        _check(targets, "targets")
    return NumpyDataset(features, resolve_source(source), targets=targets, name=name, digest=digest)
