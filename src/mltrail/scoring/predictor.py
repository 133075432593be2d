"""The synchronous scoring path: parse, enforce the signature, predict and encode, for one request
or for a group of requests that share one predict call.

Everything here runs in a worker thread, never on the event loop, so a slow model cannot stall
health checks or the reading of other requests.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd

from mltrail.errors import MltrailError
from mltrail.models.enforcement import enforce_params, enforce_schema
from mltrail.models.pyfunc import PyFuncModel
from mltrail.models.schema import ColSpec, DataType, Schema
from mltrail.scoring.parsing import (
    CONTENT_TYPE_JSON,
    Invocation,
    ModelView,
    ScoringError,
    build_frame,
    check_content_type,
    encode_predictions,
    materialize,
    model_error,
    parse_invocation,
    schema_error,
)

__all__ = ["Predictor", "Reply", "model_declares_batchable"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer: status, body and content type."""

    status: int
    content: bytes
    media_type: str = CONTENT_TYPE_JSON


def _error_reply(error: ScoringError) -> Reply:
    return Reply(error.status, error.content, error.media_type)


# The sklearn estimator API scores each sample on its own: predicting n rows equals n one-row
# predictions, so grouping requests cannot change an answer.
_ROW_WISE_LOADERS = frozenset({"mlflow.sklearn", "mltrail.sklearn"})
_ROW_WISE_SKLEARN_METHODS = frozenset({"predict", "predict_proba", "predict_log_proba", "decision_function"})


def model_declares_batchable(model: PyFuncModel) -> bool:
    """True when the model says it scores rows independently, so requests may be grouped.

    A model declares it with ``batchable: true`` in its MLmodel ``python_function`` config, or
    with a ``batchable = True`` attribute on the model object (e.g. a ``PythonModel`` subclass).
    scikit-learn models (whose ``predict_fn`` is ``predict``, ``predict_proba``,
    ``predict_log_proba`` or ``decision_function``) count as declared, since the estimator API
    scores each sample on its own; ``batchable: false`` in the MLmodel file opts them out.
    """
    conf = model.metadata.flavors.get("python_function", {})
    declared = conf.get("batchable")
    if isinstance(declared, bool):
        return declared
    if getattr(model.unwrap_python_model(), "batchable", False) is True:
        return True
    return (
        conf.get("loader_module") in _ROW_WISE_LOADERS
        and conf.get("predict_fn", "predict") in _ROW_WISE_SKLEARN_METHODS
    )


_NUMERIC = frozenset({DataType.boolean, DataType.integer, DataType.long, DataType.float, DataType.double})


def _conforming_layout(schema: Schema | None) -> tuple[list[str], list[Any]] | None:
    """Column names and numpy dtypes of a schema of named, required, numeric scalar columns
    (data already in that layout passes enforcement unchanged); ``None`` for any other schema."""
    if schema is None or not schema.has_input_names():
        return None
    names, dtypes = [], []
    for spec in schema.inputs:
        if not isinstance(spec, ColSpec) or not spec.required or spec.type not in _NUMERIC:
            return None
        assert spec.name is not None and isinstance(spec.type, DataType)
        names.append(spec.name)
        dtypes.append(np.dtype(spec.type.to_numpy_name()))
    return names, dtypes


def _rows(result: Any) -> int | None:
    if isinstance(result, pd.DataFrame | pd.Series | np.ndarray):
        return len(result) if getattr(result, "ndim", 1) >= 1 else None
    if isinstance(result, list):
        return len(result)
    return None


def _slice(result: Any, start: int, stop: int) -> Any:
    if isinstance(result, pd.DataFrame | pd.Series):
        return result.iloc[start:stop]
    return result[start:stop]


class Predictor:
    """Scores requests against one loaded model.

    Args:
        model: The served model.
    """

    def __init__(self, model: PyFuncModel) -> None:
        signature = model.signature
        self.model = model
        self.view = ModelView(
            input_schema=signature.inputs if signature is not None else None,
            params_schema=signature.params if signature is not None else None,
            type_hint_signature=model.metadata.is_signature_from_type_hint,
        )
        self._enforce_inputs = self.view.input_schema is not None and not self.view.type_hint_signature
        self._has_signature = signature is not None
        self._conforming = _conforming_layout(self.view.input_schema) if self._enforce_inputs else None

    def _conforms(self, data: Any) -> bool:
        """True when ``data`` already is what enforcement would return: a DataFrame with exactly the
        schema's columns, in order, each of its declared numeric dtype, without missing values."""
        if self._conforming is None or not isinstance(data, pd.DataFrame):
            return False
        names, dtypes = self._conforming
        if list(data.columns) != names or list(data.dtypes) != dtypes:
            return False
        floats = [name for name, dtype in zip(names, dtypes, strict=True) if dtype.kind == "f"]
        return not floats or not bool(np.isnan(data[floats].to_numpy()).any())

    def _enforce(self, invocation: Invocation) -> Invocation:
        if not self._has_signature:
            if invocation.params is None or invocation.unwrapped:
                return invocation
            # As MLflow does: without a params schema, params are dropped with a warning.
            return Invocation(
                invocation.data, enforce_params(invocation.params, None), frame=invocation.frame
            )
        data = invocation.data
        if self._enforce_inputs and not self._conforms(data):
            assert self.view.input_schema is not None
            try:
                data = enforce_schema(data, self.view.input_schema)
            except MltrailError as exc:
                raise schema_error(data, self.view.input_schema, exc.error_code, exc.message) from exc
        try:
            params = enforce_params(invocation.params, self.view.params_schema)
        except MltrailError as exc:
            raise model_error(data, exc.error_code, exc.message) from exc
        return Invocation(data, params, invocation.unwrapped, isinstance(data, pd.DataFrame))

    def _predict(self, data: Any, params: dict[str, Any] | None) -> Any:
        try:
            return self.model.implementation.predict(data, params=params)
        except MltrailError as exc:
            raise model_error(data, exc.error_code, exc.message) from exc
        except Exception as exc:
            raise model_error(data, None, str(exc)) from exc

    def _encode(self, result: Any, unwrapped: bool) -> Reply:
        try:
            return Reply(200, encode_predictions(result, unwrapped=unwrapped))
        except TypeError as exc:
            body = {
                "error_code": "INTERNAL_ERROR",
                "message": f"The model's output cannot be encoded as JSON: {exc}",
            }
            return Reply(500, orjson.dumps(body))

    def _score_parsed(self, invocation: Invocation) -> Reply:
        try:
            prepared = self._enforce(materialize(invocation))
            result = self._predict(prepared.data, prepared.params)
        except ScoringError as error:
            return _error_reply(error)
        return self._encode(result, prepared.unwrapped)

    def score(self, body: bytes, content_type: str | None) -> Reply:
        """Answer one request.

        Args:
            body: The raw request body.
            content_type: The ``Content-Type`` header, if any.
        """
        try:
            invocation = parse_invocation(body, check_content_type(content_type), self.view)
        except ScoringError as error:
            return _error_reply(error)
        return self._score_parsed(invocation)

    def score_many(self, requests: Sequence[tuple[bytes, str | None]]) -> list[Reply]:
        """Answer several requests, grouping compatible ones into one predict call.

        Requests whose input is a DataFrame (``dataframe_split``, ``dataframe_records``, CSV,
        Parquet) with the same columns and params are combined into one DataFrame, checked
        against the signature and predicted together, and the result is split back so that each
        caller gets exactly its own rows. If building, checking or predicting the group fails,
        or the result's length does not match its rows, each request of the group is scored
        alone instead, so that one bad request cannot fail another's.

        Args:
            requests: ``(body, content_type)`` per request.

        Returns:
            One reply per request, in order.
        """
        replies: list[Reply | None] = [None] * len(requests)
        groups: dict[bytes, list[tuple[int, Invocation]]] = {}
        for index, (body, content_type) in enumerate(requests):
            try:
                mime = check_content_type(content_type)
                invocation = parse_invocation(body, mime, self.view, defer_frames=True)
            except ScoringError as error:
                replies[index] = _error_reply(error)
                continue
            if not invocation.frame or invocation.unwrapped:
                replies[index] = self._score_parsed(invocation)
                continue
            groups.setdefault(_group_key(invocation), []).append((index, invocation))
        for members in groups.values():
            scored = self._score_group([inv for _, inv in members])
            for (index, _), reply in zip(members, scored, strict=True):
                replies[index] = reply
        return [r if r is not None else Reply(500, b"{}") for r in replies]

    def _score_group(self, invocations: list[Invocation]) -> list[Reply]:
        if len(invocations) == 1:
            return [self._score_parsed(invocations[0])]
        first = invocations[0]
        try:
            if first.orient is not None:
                sizes = [len(inv.rows or ()) for inv in invocations]
                rows = [row for inv in invocations for row in inv.rows or ()]
                combined = build_frame(first.orient, rows, first.columns)
            else:
                sizes = [len(inv.data) for inv in invocations]
                combined = pd.concat([inv.data for inv in invocations], ignore_index=True)
            prepared = self._enforce(Invocation(combined, first.params, frame=True))
            result = self.model.implementation.predict(prepared.data, params=prepared.params)
        except Exception:
            _logger.debug("A grouped predict failed; scoring its requests one by one", exc_info=True)
            return [self._score_parsed(inv) for inv in invocations]
        if _rows(result) != sum(sizes):
            _logger.warning(
                "The model returned %s rows for %d input rows; scoring requests one by one",
                _rows(result),
                sum(sizes),
            )
            return [self._score_parsed(inv) for inv in invocations]
        replies = []
        start = 0
        for size in sizes:
            replies.append(self._encode(_slice(result, start, start + size), False))
            start += size
        return replies


def _group_key(invocation: Invocation) -> bytes:
    if invocation.orient is not None:
        shape: list[Any] = [invocation.orient, invocation.columns]
    else:
        frame = invocation.data
        shape = [[str(c) for c in frame.columns], [str(t) for t in frame.dtypes]]
    return orjson.dumps([shape, invocation.params], default=str, option=orjson.OPT_SORT_KEYS)
