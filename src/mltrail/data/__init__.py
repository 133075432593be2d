"""Datasets: describe the data a run trained or evaluated on, and log it with ``log_input``.

``from_pandas`` and ``from_numpy`` build a :class:`Dataset` carrying a name, a stable content
digest, the source it came from, a schema and a profile; ``Dataset.to_entity()`` gives the
tracking entity a store records. pandas and numpy are imported only when these are called.
"""

from __future__ import annotations

from mltrail.data.dataset import Dataset
from mltrail.data.numpy_dataset import NumpyDataset, from_numpy
from mltrail.data.pandas_dataset import PandasDataset, from_pandas
from mltrail.data.sources import (
    CodeDatasetSource,
    DatasetSource,
    HttpDatasetSource,
    LocalDatasetSource,
    UriDatasetSource,
    resolve_source,
)

__all__ = [
    "CodeDatasetSource",
    "Dataset",
    "DatasetSource",
    "HttpDatasetSource",
    "LocalDatasetSource",
    "NumpyDataset",
    "PandasDataset",
    "UriDatasetSource",
    "from_numpy",
    "from_pandas",
    "resolve_source",
]
