"""SearchLoggedModels compiled to one SQL query, with its search-bound page token.

Filter clauses use the runs' tokenizer and parser with a logged-model grammar. A metric clause
matches a model when any of its points matches (restricted to the requested datasets, if any);
ordering by ``metrics.<key>`` uses each model's latest point of that key. Models lacking an
order key sort last. The order always ends with ``creation_timestamp DESC`` and
``model_id ASC`` (unless ordered by them), so offsets page deterministically. The page token
carries the search it belongs to; reusing it for another search is an error.
"""

from __future__ import annotations

import base64
import binascii
import json
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.db.schema_logged_models import (
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
)
from mltrail.errors import InvalidArgumentError
from mltrail.tracking.entities import LifecycleStage
from mltrail.tracking.logged_models import LoggedModel, LoggedModelStatus
from mltrail.tracking.search import Comparison, EntityType, Grammar
from mltrail.tracking.search.parser import parse_filter
from mltrail.tracking.store.sql.logged_models import MODEL_COLUMNS, load_models

__all__ = [
    "LOGGED_MODEL_GRAMMAR",
    "ModelOrder",
    "decode_search_token",
    "encode_search_token",
    "parse_model_order_by",
    "search_models",
]

_LM, _LP, _LT, _LMM = logged_models, logged_model_params, logged_model_tags, logged_model_metrics
_STRING_ATTRIBUTES = frozenset({"name", "model_id", "model_type", "status", "source_run_id"})
_NUMERIC_ATTRIBUTES = frozenset({"creation_timestamp", "last_updated_timestamp"})
_ALIASES = {"creation_time": "creation_timestamp", "last_updated_time": "last_updated_timestamp"}
_KV_OPS = frozenset({"=", "!=", "LIKE", "ILIKE"})

LOGGED_MODEL_GRAMMAR = Grammar(
    name="logged model",
    entities=frozenset({EntityType.METRIC, EntityType.PARAM, EntityType.TAG, EntityType.ATTRIBUTE}),
    string_attributes=_STRING_ATTRIBUTES,
    numeric_attributes=_NUMERIC_ATTRIBUTES,
    list_attributes=_STRING_ATTRIBUTES,
    attribute_aliases=_ALIASES,
    tag_ops=_KV_OPS,
    orderable_attributes=_STRING_ATTRIBUTES | _NUMERIC_ATTRIBUTES,
)

_COLUMNS: dict[str, sa.ColumnElement[Any]] = {
    "name": _LM.c.name,
    "model_id": _LM.c.model_id,
    "model_type": _LM.c.model_type,
    "source_run_id": _LM.c.source_run_id,
    "creation_timestamp": _LM.c.creation_timestamp_ms,
    "last_updated_timestamp": _LM.c.last_updated_timestamp_ms,
}
_STATUS_NAME = sa.case(
    *((_LM.c.status == s.number, s.value) for s in LoggedModelStatus),
    else_=LoggedModelStatus.UNSPECIFIED.value,
)
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "LIKE": lambda col, v: col.like(v),
    "ILIKE": lambda col, v: col.ilike(v),
    "IN": lambda col, v: col.in_(list(v)),
    "NOT IN": lambda col, v: col.not_in(list(v)),
}


@dataclass(frozen=True, slots=True)
class ModelOrder:
    """One parsed order-by item of SearchLoggedModels."""

    field_name: str
    ascending: bool = True
    dataset_name: str | None = None
    dataset_digest: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The item as stored in page tokens."""
        return {
            "field_name": self.field_name,
            "ascending": self.ascending,
            "dataset_name": self.dataset_name,
            "dataset_digest": self.dataset_digest,
        }


def parse_model_order_by(order_by: Sequence[Mapping[str, Any]] | None) -> list[ModelOrder]:
    """Check order-by items (``field_name``, ``ascending``, ``dataset_name``, ``dataset_digest``).

    Raises:
        InvalidArgumentError: a missing or unknown field, a non-boolean ``ascending``, or a
            digest without a dataset name.
    """
    out: list[ModelOrder] = []
    for item in order_by or ():
        if not isinstance(item, Mapping):
            raise InvalidArgumentError("`order_by` must be a list of dictionaries.")
        field_name = item.get("field_name")
        if not isinstance(field_name, str) or not field_name.strip():
            raise InvalidArgumentError("`field_name` in the `order_by` clause must be specified.")
        field_name = field_name.strip()
        if "." in field_name:
            entity, key = field_name.split(".", 1)
            if entity != "metrics" or not key:
                raise InvalidArgumentError(
                    f"Invalid order by field name: {field_name}, only `metrics.<name>` is allowed."
                )
        else:
            field_name = _ALIASES.get(field_name, field_name)
            if field_name not in _STRING_ATTRIBUTES | _NUMERIC_ATTRIBUTES:
                raise InvalidArgumentError(f"Invalid order by field name: {field_name}.")
        ascending = item.get("ascending", True)
        if ascending is None:
            ascending = True
        if not isinstance(ascending, bool):
            raise InvalidArgumentError(
                "Value of `ascending` in the `order_by` clause must be a boolean, got "
                f"{type(ascending).__name__} for field {field_name}."
            )
        dataset_name = item.get("dataset_name") or None
        dataset_digest = item.get("dataset_digest") or None
        if dataset_digest and not dataset_name:
            raise InvalidArgumentError(
                "`dataset_digest` can only be specified if `dataset_name` is also specified."
            )
        out.append(ModelOrder(field_name, ascending, dataset_name, dataset_digest))
    return out


# -- page tokens --------------------------------------------------------------------------------


def _token_search(
    experiment_ids: Sequence[str], filter_string: str | None, order: Sequence[ModelOrder]
) -> Any:
    return {
        "experiment_ids": [str(e) for e in experiment_ids],
        "filter_string": filter_string or None,
        "order_by": [o.to_json() for o in order],
    }


def encode_search_token(
    offset: int, experiment_ids: Sequence[str], filter_string: str | None, order: Sequence[ModelOrder]
) -> str:
    """The token of the page at ``offset`` of this search."""
    body = {**_token_search(experiment_ids, filter_string, order), "offset": offset}
    return base64.b64encode(json.dumps(body).encode()).decode()


def decode_search_token(
    token: str | None, experiment_ids: Sequence[str], filter_string: str | None, order: Sequence[ModelOrder]
) -> int:
    """The offset of a token made by this same search (0 for no token).

    Raises:
        InvalidArgumentError: garbage, or a token of a search with other experiment ids,
            filter or order.
    """
    if not token:
        return 0
    try:
        data = json.loads(base64.b64decode(token.encode(), validate=True))
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise InvalidArgumentError(f"Invalid page token, could not base64-decode: '{token}'") from exc
    offset = data.get("offset") if isinstance(data, dict) else None
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidArgumentError(f"Invalid page token, expected a non-negative offset: '{token}'")
    expected = _token_search(experiment_ids, filter_string, order)
    for name, value in expected.items():
        if data.get(name) != value:
            raise InvalidArgumentError(
                f"The page token does not match this search: its {name} is {data.get(name)!r}, "
                f"the request's is {value!r}."
            )
    return offset


# -- filters ------------------------------------------------------------------------------------


def _compare(col: sa.ColumnElement[Any], op: str, value: Any) -> sa.ColumnElement[bool]:
    cond: sa.ColumnElement[bool] = _OPS[op](col, value)
    return cond


def _status_value(value: str) -> str:
    try:
        return LoggedModelStatus.parse(value).value
    except ValueError:
        return value


def _attribute_filter(c: Comparison) -> sa.ColumnElement[bool]:
    value = c.value
    if c.key == "status":
        if isinstance(value, tuple):
            value = tuple(_status_value(v) for v in value)
        elif isinstance(value, str) and c.comparator in ("=", "!="):
            value = _status_value(value)
        return _compare(_STATUS_NAME, c.comparator, value)
    if c.key in _NUMERIC_ATTRIBUTES and isinstance(value, float) and value.is_integer():
        value = int(value)
    return _compare(_COLUMNS[c.key], c.comparator, value)


def _dataset_condition(datasets: Sequence[Mapping[str, Any]]) -> sa.ColumnElement[bool] | None:
    conditions = []
    for d in datasets:
        cond = _LMM.c.dataset_name == d["dataset_name"]
        if d.get("dataset_digest"):
            cond = sa.and_(cond, _LMM.c.dataset_digest == d["dataset_digest"])
        conditions.append(cond)
    return sa.or_(*conditions) if conditions else None


def _filter(c: Comparison, datasets: sa.ColumnElement[bool] | None) -> sa.ColumnElement[bool]:
    if c.entity is EntityType.METRIC:
        cond = _compare(_LMM.c.metric_value, c.comparator, c.value)
        # NaN is stored as 0 with a flag: it satisfies only "!=" (as in IEEE arithmetic).
        cond = sa.or_(_LMM.c.is_nan, cond) if c.comparator == "!=" else sa.and_(sa.not_(_LMM.c.is_nan), cond)
        where = [_LMM.c.metric_name == c.key, cond]
        if datasets is not None:
            where.append(datasets)
        return _LM.c.model_id.in_(sa.select(_LMM.c.model_id).where(*where))
    if c.entity in (EntityType.PARAM, EntityType.TAG):
        table, key, value = (
            (_LP, _LP.c.param_key, _LP.c.param_value)
            if c.entity is EntityType.PARAM
            else (_LT, _LT.c.tag_key, _LT.c.tag_value)
        )
        return _LM.c.model_id.in_(
            sa.select(table.c.model_id).where(key == c.key, _compare(value, c.comparator, c.value))
        )
    return _attribute_filter(c)


def _check_datasets(datasets: Sequence[Mapping[str, Any]] | None) -> list[Mapping[str, Any]]:
    out = []
    for d in datasets or ():
        if not isinstance(d, Mapping) or not d.get("dataset_name"):
            raise InvalidArgumentError("`dataset_name` in the `datasets` clause must be specified.")
        out.append(d)
    return out


# -- ordering -----------------------------------------------------------------------------------


def _string_col(col: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    # A fixed byte-order collation keeps the string order identical on every backend.
    return col.collate("C") if dialect == "postgresql" else col


def _ordering(
    order: Sequence[ModelOrder], dialect: str
) -> tuple[list[sa.ColumnElement[Any]], list[tuple[sa.Subquery, sa.ColumnElement[bool]]]]:
    clauses: list[sa.ColumnElement[Any]] = []
    joins: list[tuple[sa.Subquery, sa.ColumnElement[bool]]] = []
    seen: set[str] = set()
    for i, o in enumerate(order):
        direction = "asc" if o.ascending else "desc"
        if o.field_name.startswith("metrics."):
            where = [_LMM.c.metric_name == o.field_name.split(".", 1)[1]]
            if o.dataset_name:
                where.append(_LMM.c.dataset_name == o.dataset_name)
            if o.dataset_digest:
                where.append(_LMM.c.dataset_digest == o.dataset_digest)
            rank = (
                sa.func.row_number()
                .over(
                    partition_by=_LMM.c.model_id,
                    order_by=(
                        _LMM.c.metric_timestamp_ms.desc(),
                        _LMM.c.metric_step.desc(),
                        _LMM.c.run_id.asc(),
                    ),
                )
                .label("rank")
            )
            ranked = (
                sa.select(_LMM.c.model_id, _LMM.c.metric_value, _LMM.c.is_nan, rank).where(*where).subquery()
            )
            latest = (
                sa.select(ranked.c.model_id, ranked.c.metric_value, ranked.c.is_nan)
                .where(ranked.c.rank == 1)
                .subquery(f"o{i}")
            )
            joins.append((latest, latest.c.model_id == _LM.c.model_id))
            clauses.append(sa.case((latest.c.model_id.is_(None), 2), (latest.c.is_nan, 1), else_=0).asc())
            clauses.append(getattr(latest.c.metric_value, direction)())
            continue
        seen.add(o.field_name)
        if o.field_name == "status":
            clauses.append(getattr(_LM.c.status, direction)())
            continue
        col = _COLUMNS[o.field_name]
        clauses.append(sa.case((col.is_(None), 1), else_=0).asc())
        if o.field_name in _STRING_ATTRIBUTES:
            col = _string_col(col, dialect)
        clauses.append(getattr(col, direction)())
    if "creation_timestamp" not in seen:
        clauses.append(_LM.c.creation_timestamp_ms.desc())
    if "model_id" not in seen:
        clauses.append(_LM.c.model_id.asc())
    return clauses, joins


def search_models(
    conn: Connection,
    dialect: str,
    experiment_ids: Sequence[int],
    filter_string: str | None,
    datasets: Sequence[Mapping[str, Any]] | None,
    max_results: int,
    order: Sequence[ModelOrder],
    offset: int,
) -> tuple[list[LoggedModel], bool]:
    """One page of active models matching the search, and whether more follow."""
    comparisons = parse_filter(filter_string, LOGGED_MODEL_GRAMMAR)
    dataset_cond = _dataset_condition(_check_datasets(datasets))
    where: list[sa.ColumnElement[bool]] = [
        _LM.c.experiment_id.in_(list(experiment_ids)),
        _LM.c.lifecycle_stage == LifecycleStage.ACTIVE.value,
    ]
    where.extend(_filter(c, dataset_cond) for c in comparisons)
    if dataset_cond is not None and not any(c.entity is EntityType.METRIC for c in comparisons):
        where.append(_LM.c.model_id.in_(sa.select(_LMM.c.model_id).where(dataset_cond)))
    clauses, joins = _ordering(order, dialect)
    source: sa.FromClause = _LM
    for sub, on in joins:
        source = source.outerjoin(sub, on)
    query = (
        sa.select(*MODEL_COLUMNS)
        .select_from(source)
        .where(*where)
        .order_by(*clauses)
        .limit(max_results + 1)
        .offset(offset)
    )
    rows = conn.execute(query).all()
    return load_models(conn, rows[:max_results]), len(rows) > max_results
