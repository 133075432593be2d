"""Search grammar of registered models and model versions (spec REST-REGISTRY §3.1).

Reuses the tokenizer and parser of :mod:`mltrail.tracking.search` with two registry grammars,
then applies the registry's narrower rules (which attributes may be filtered, which keys
ordered, the ``max_results`` bounds). Pure logic; SQL stores compile the result.
"""

from __future__ import annotations

from collections.abc import Sequence

from mltrail.errors import InvalidArgumentError
from mltrail.tracking.search import Comparison, EntityType, Grammar, OrderKey
from mltrail.tracking.search.parser import parse_filter, parse_order_by

__all__ = [
    "MODEL_SEARCH_MAX_RESULTS_DEFAULT",
    "MODEL_SEARCH_MAX_RESULTS_LIMIT",
    "VERSION_SEARCH_MAX_RESULTS_DEFAULT",
    "VERSION_SEARCH_MAX_RESULTS_LIMIT",
    "asks_for_prompts",
    "check_max_results",
    "parse_model_filter",
    "parse_model_order_by",
    "parse_version_filter",
    "parse_version_order_by",
    "without_prompt_clauses",
]

MODEL_SEARCH_MAX_RESULTS_DEFAULT = 100
MODEL_SEARCH_MAX_RESULTS_LIMIT = 1000
VERSION_SEARCH_MAX_RESULTS_DEFAULT = 10_000
VERSION_SEARCH_MAX_RESULTS_LIMIT = 200_000

_STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE"})
_PROMPT_TAG = "mlflow.prompt.is_prompt"

_MODEL_GRAMMAR = Grammar(
    name="registered model",
    entities=frozenset({EntityType.ATTRIBUTE, EntityType.TAG}),
    string_attributes=frozenset({"name"}),
    numeric_attributes=frozenset({"last_updated_timestamp", "timestamp"}),
    list_attributes=frozenset({"name"}),
    attribute_aliases={},
    tag_ops=_STRING_OPS,
    orderable_attributes=frozenset({"name", "timestamp", "last_updated_timestamp"}),
    orderable_entities=frozenset({EntityType.ATTRIBUTE}),
)
_MODEL_FILTER_ATTRIBUTES = frozenset({"name"})

_VERSION_GRAMMAR = Grammar(
    name="model version",
    entities=frozenset({EntityType.ATTRIBUTE, EntityType.TAG}),
    string_attributes=frozenset({"name", "run_id", "source_path"}),
    numeric_attributes=frozenset({"version_number", "creation_timestamp", "last_updated_timestamp"}),
    list_attributes=frozenset({"name", "run_id"}),
    attribute_aliases={},
    tag_ops=_STRING_OPS,
    orderable_attributes=frozenset(
        {"name", "version_number", "creation_timestamp", "last_updated_timestamp"}
    ),
    orderable_entities=frozenset({EntityType.ATTRIBUTE}),
)


def parse_model_filter(text: str | None) -> list[Comparison]:
    """Parse a SearchRegisteredModels filter: ``name`` and ``tags.<key>`` clauses joined by AND.

    Raises:
        InvalidArgumentError: the filter breaks the grammar.
    """
    clauses = parse_filter(text, _MODEL_GRAMMAR)
    for clause in clauses:
        if clause.entity is EntityType.ATTRIBUTE and clause.key not in _MODEL_FILTER_ATTRIBUTES:
            raise InvalidArgumentError(
                f"Invalid attribute key '{clause.key}' specified. Valid keys are ['name']"
            )
    return clauses


def parse_model_order_by(order_by: Sequence[str] | None) -> list[OrderKey]:
    """Parse SearchRegisteredModels order-by clauses (``timestamp`` means last-updated time).

    Raises:
        InvalidArgumentError: an unknown key such as ``creation_timestamp``, or a duplicate.
    """
    keys = parse_order_by(order_by, _MODEL_GRAMMAR)
    canonical = [
        OrderKey(k.entity, "last_updated_timestamp" if k.key == "timestamp" else k.key, k.ascending)
        for k in keys
    ]
    if len({k.key for k in canonical}) != len(canonical):
        raise InvalidArgumentError(f"`order_by` contains duplicate fields: {list(order_by or ())}")
    return canonical


def parse_version_filter(text: str | None) -> list[Comparison]:
    """Parse a SearchModelVersions filter.

    Raises:
        InvalidArgumentError: the filter breaks the grammar (e.g. a non-integer version number).
    """
    clauses = parse_filter(text, _VERSION_GRAMMAR)
    for clause in clauses:
        if (
            clause.key == "version_number"
            and isinstance(clause.value, float)
            and not clause.value.is_integer()
        ):
            raise InvalidArgumentError(f"Invalid version_number '{clause.value}': expected an integer")
    return clauses


def parse_version_order_by(order_by: Sequence[str] | None) -> list[OrderKey]:
    """Parse SearchModelVersions order-by clauses.

    Raises:
        InvalidArgumentError: an unknown or duplicate key.
    """
    return parse_order_by(order_by, _VERSION_GRAMMAR)


def asks_for_prompts(clauses: Sequence[Comparison]) -> bool:
    """Whether a filter selects prompts: ``tags.`mlflow.prompt.is_prompt` = 'true'`` (or ``!= 'false'``)."""
    for c in clauses:
        if c.entity is EntityType.TAG and c.key == _PROMPT_TAG and isinstance(c.value, str):
            return (c.comparator == "=" and c.value.lower() == "true") or (
                c.comparator == "!=" and c.value.lower() == "false"
            )
    return False


def without_prompt_clauses(clauses: Sequence[Comparison]) -> list[Comparison]:
    """The clauses minus those on the prompt tag (which MLflow clients add to every search)."""
    return [c for c in clauses if not (c.entity is EntityType.TAG and c.key == _PROMPT_TAG)]


def check_max_results(max_results: object, limit: int) -> int:
    """Check ``max_results`` lies in ``1..limit``.

    Raises:
        InvalidArgumentError: out of range or not an integer.
    """
    if isinstance(max_results, bool) or not isinstance(max_results, int):
        raise InvalidArgumentError(f"Invalid value for max_results: {max_results!r}; expected an integer")
    if max_results < 1 or max_results > limit:
        raise InvalidArgumentError(
            f"Invalid value for max_results. It must be between 1 and {limit}, but got {max_results}"
        )
    return max_results
