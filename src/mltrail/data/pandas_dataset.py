"""Datasets from pandas DataFrames: digest from a bounded sample, column-spec schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mltrail.data.dataset import SAMPLE_ROWS, TAIL_ROWS, Dataset, digest_of
from mltrail.data.sources import DatasetSource, resolve_source
from mltrail.errors import InvalidArgumentError, MissingDependencyError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PandasDataset", "from_pandas"]


def _colspec_type(series: pd.Series) -> str | None:
    """MLflow's column type name for a pandas column, or None if it has none."""
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    itemsize = int(getattr(dtype, "itemsize", 8))
    if pd.api.types.is_integer_dtype(dtype):
        return "long" if itemsize >= 8 else "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "double" if itemsize >= 8 else "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        sample = series.dropna().head(SAMPLE_ROWS)
        if sample.empty or all(isinstance(v, str) for v in sample):
            return "string"
        if all(isinstance(v, bytes) for v in sample):
            return "binary"
        return None
    if pd.api.types.is_object_dtype(dtype):
        sample = series.dropna().head(SAMPLE_ROWS)
        if not sample.empty and all(isinstance(v, bytes) for v in sample):
            return "binary"
        if not sample.empty and all(isinstance(v, bool) for v in sample):
            return "boolean"
    return None


def _hash_frame(frame: pd.DataFrame) -> bytes:
    import pandas as pd

    try:
        return pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
    except TypeError:
        # Unhashable cells (lists, dicts): fall back to their text form.
        return frame.astype(str).to_csv(index=False).encode()


class PandasDataset(Dataset):
    """A dataset held in a pandas DataFrame.

    Args:
        df: The data.
        source: Where it came from.
        targets: Name of the target column, if any.
        name: Display name.
        digest: Explicit digest (computed from the data when None).
    """

    def __init__(
        self,
        df: pd.DataFrame,
        source: DatasetSource,
        targets: str | None = None,
        name: str | None = None,
        digest: str | None = None,
    ) -> None:
        if targets is not None and targets not in df.columns:
            raise InvalidArgumentError(f"Target column {targets!r} is not a column of the DataFrame")
        super().__init__(source=source, name=name, digest=digest)
        self._df = df
        self._targets = targets

    @property
    def df(self) -> pd.DataFrame:
        """The DataFrame."""
        return self._df

    @property
    def targets(self) -> str | None:
        """The target column's name."""
        return self._targets

    def _compute_digest(self) -> str:
        df = self._df
        parts = [
            str(len(df)).encode(),
            "\x1f".join(str(c) for c in df.columns).encode(),
            "\x1f".join(str(t) for t in df.dtypes).encode(),
            _hash_frame(df.head(SAMPLE_ROWS)),
        ]
        if len(df) > SAMPLE_ROWS:
            parts.append(_hash_frame(df.tail(min(TAIL_ROWS, len(df) - SAMPLE_ROWS))))
        return digest_of(parts)

    @property
    def schema(self) -> dict[str, Any] | None:
        """``{"mlflow_colspec": [{"type", "name", "required"}, ...]}`` or None if a column has no type."""
        specs: list[dict[str, Any]] = []
        for column in self._df.columns:
            series = self._df[column]
            col_type = _colspec_type(series)
            if col_type is None:
                return None
            specs.append({"type": col_type, "name": str(column), "required": not bool(series.isna().any())})
        return {"mlflow_colspec": specs}

    @property
    def profile(self) -> dict[str, Any]:
        """``{"num_rows", "num_elements"}``."""
        return {"num_rows": len(self._df), "num_elements": int(self._df.size)}


def from_pandas(
    df: pd.DataFrame,
    source: DatasetSource | str | None = None,
    name: str | None = None,
    targets: str | None = None,
    digest: str | None = None,
) -> PandasDataset:
    """Describe a pandas DataFrame as a dataset.

    Args:
        df: The data.
        source: Where it came from: a URI or path, a ``DatasetSource``, or None for data built
            in code (the running script is recorded).
        name: Display name (default ``"dataset"``).
        targets: Name of the target column, if any.
        digest: Explicit digest; computed from a bounded sample of the data when None.

    Returns:
        The dataset; pass it to ``log_input``.

    Raises:
        InvalidArgumentError: ``df`` is not a DataFrame or ``targets`` is not one of its columns.
        MissingDependencyError: pandas is not installed.
    """
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingDependencyError("pandas", "data") from exc
    if not isinstance(df, pd.DataFrame):
        raise InvalidArgumentError(f"Expected a pandas DataFrame, got {type(df).__name__}")
    resolved = resolve_source(source)
    return PandasDataset(df, resolved, targets=targets, name=name, digest=digest)
