"""Parser of search filters and order-by clauses into :mod:`mltrail.tracking.search.ast` nodes.

Two grammars share the tokenizer: runs (spec REST-TRACKING §2.3: metrics, params, tags,
attributes, datasets) and experiments (§1.3: attributes and tags). A filter is a conjunction
``clause AND clause ...``; ``OR`` is rejected. Every error is an ``InvalidArgumentError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mltrail.errors import InvalidArgumentError
from mltrail.tracking.search.ast import Comparison, EntityType, OrderKey
from mltrail.tracking.search.tokens import Token, TokenKind, tokenize

__all__ = [
    "EXPERIMENT_GRAMMAR",
    "RUN_GRAMMAR",
    "Grammar",
    "parse_experiment_filter",
    "parse_experiment_order_by",
    "parse_filter",
    "parse_order_by",
    "parse_run_filter",
    "parse_run_order_by",
]

_ENTITY_ALIASES: dict[str, EntityType] = {
    "metric": EntityType.METRIC,
    "metrics": EntityType.METRIC,
    "parameter": EntityType.PARAM,
    "parameters": EntityType.PARAM,
    "param": EntityType.PARAM,
    "params": EntityType.PARAM,
    "tag": EntityType.TAG,
    "tags": EntityType.TAG,
    "attribute": EntityType.ATTRIBUTE,
    "attributes": EntityType.ATTRIBUTE,
    "attr": EntityType.ATTRIBUTE,
    "run": EntityType.ATTRIBUTE,
    "dataset": EntityType.DATASET,
    "datasets": EntityType.DATASET,
}

_NUMERIC_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE"})
_NULL_OPS = frozenset({"IS NULL", "IS NOT NULL"})
_LIST_OPS = frozenset({"IN", "NOT IN"})


@dataclass(frozen=True)
class Grammar:
    """What one search accepts: entity types, attribute names and their kinds, comparators."""

    name: str
    entities: frozenset[EntityType]
    string_attributes: frozenset[str]
    numeric_attributes: frozenset[str]
    list_attributes: frozenset[str]
    attribute_aliases: Mapping[str, str]
    tag_ops: frozenset[str]
    orderable_attributes: frozenset[str]
    integer_list_attributes: frozenset[str] = frozenset()
    string_attribute_ops: frozenset[str] = _STRING_OPS
    orderable_entities: frozenset[EntityType] = frozenset(
        {EntityType.METRIC, EntityType.PARAM, EntityType.TAG, EntityType.ATTRIBUTE}
    )

    def attribute(self, key: str) -> str:
        """The canonical attribute name for ``key`` (aliases resolved)."""
        return self.attribute_aliases.get(key, key)


RUN_GRAMMAR = Grammar(
    name="run",
    entities=frozenset(EntityType),
    string_attributes=frozenset(
        {"run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage"}
    ),
    numeric_attributes=frozenset({"start_time", "end_time"}),
    list_attributes=frozenset({"run_id", "run_name", "status", "user_id", "artifact_uri"}),
    attribute_aliases={
        "created": "start_time",
        "Created": "start_time",
        "run name": "run_name",
        "Run name": "run_name",
        "Run Name": "run_name",
        "run_uuid": "run_id",
    },
    tag_ops=_STRING_OPS | _NULL_OPS,
    orderable_attributes=frozenset(
        {
            "run_id",
            "run_name",
            "status",
            "user_id",
            "artifact_uri",
            "start_time",
            "end_time",
            "lifecycle_stage",
        }
    ),
)

EXPERIMENT_GRAMMAR = Grammar(
    name="experiment",
    entities=frozenset({EntityType.ATTRIBUTE, EntityType.TAG}),
    string_attributes=frozenset({"name"}),
    numeric_attributes=frozenset({"creation_time", "last_update_time"}),
    list_attributes=frozenset({"experiment_id"}),
    attribute_aliases={},
    tag_ops=_STRING_OPS | _NULL_OPS,
    orderable_attributes=frozenset({"name", "experiment_id", "creation_time", "last_update_time"}),
    integer_list_attributes=frozenset({"experiment_id"}),
    orderable_entities=frozenset({EntityType.ATTRIBUTE}),
)

_DATASET_KEYS = frozenset({"name", "digest", "context"})


_STRING_TOKENS = (TokenKind.SINGLE_QUOTED, TokenKind.DOUBLE_QUOTED)


class _Cursor:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def next(self, expecting: str) -> Token:
        tok = self.peek()
        if tok is None:
            raise InvalidArgumentError(f"Invalid filter '{self.text}': expected {expecting} at the end")
        self.i += 1
        return tok

    def at_keyword(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind is TokenKind.KEYWORD and tok.text in words

    def error(self, tok: Token, why: str) -> InvalidArgumentError:
        return InvalidArgumentError(f"Invalid filter '{self.text}' at position {tok.pos}: {why}")


def _identifier(cur: _Cursor, grammar: Grammar) -> tuple[EntityType, str]:
    tok = cur.next("an identifier")
    if tok.kind in (TokenKind.BACKTICKED, TokenKind.DOUBLE_QUOTED):
        entity_word, key = "attribute", tok.text
    elif tok.kind is TokenKind.WORD:
        entity_word, dot, key = tok.text.partition(".")
        if not dot:
            entity_word, key = "attribute", tok.text
        elif not key:
            key_tok = cur.next("a quoted key")
            if key_tok.kind not in (TokenKind.BACKTICKED, TokenKind.DOUBLE_QUOTED, TokenKind.WORD):
                raise cur.error(key_tok, f"expected a key after '{tok.text}'")
            key = key_tok.text
    else:
        raise cur.error(tok, f"expected an identifier, got {tok.kind.value} '{tok.text}'")
    entity = _ENTITY_ALIASES.get(entity_word)
    if entity is None or entity not in grammar.entities:
        valid = sorted(w for w, e in _ENTITY_ALIASES.items() if e in grammar.entities)
        raise InvalidArgumentError(
            f"Invalid entity type '{entity_word}' in {grammar.name} search. Valid values are {valid}"
        )
    if not key:
        raise InvalidArgumentError(f"Invalid filter '{cur.text}': empty key after '{entity_word}.'")
    if entity is EntityType.ATTRIBUTE:
        key = grammar.attribute(key)
        known = grammar.string_attributes | grammar.numeric_attributes | grammar.list_attributes
        if key not in known:
            raise InvalidArgumentError(
                f"Invalid attribute key '{key}' specified. Valid keys are {sorted(known)}"
            )
    elif entity is EntityType.DATASET and key not in _DATASET_KEYS:
        raise InvalidArgumentError(
            f"Invalid dataset key '{key}' specified. Valid keys are {sorted(_DATASET_KEYS)}"
        )
    return entity, key


def _comparator(cur: _Cursor) -> str:
    tok = cur.next("a comparator")
    if tok.kind is TokenKind.OPERATOR:
        return tok.text
    if tok.kind is TokenKind.KEYWORD:
        if tok.text in ("LIKE", "ILIKE", "IN"):
            return tok.text
        if tok.text == "NOT" and cur.at_keyword("IN"):
            cur.i += 1
            return "NOT IN"
        if tok.text == "IS":
            if cur.at_keyword("NOT"):
                cur.i += 1
                null = cur.next("NULL")
                if null.kind is TokenKind.KEYWORD and null.text == "NULL":
                    return "IS NOT NULL"
            else:
                null = cur.next("NULL")
                if null.kind is TokenKind.KEYWORD and null.text == "NULL":
                    return "IS NULL"
    raise cur.error(tok, f"invalid comparator '{tok.text}'")


def _string_value(cur: _Cursor, entity: EntityType, key: str) -> str:
    tok = cur.next("a value")
    if tok.kind not in (TokenKind.SINGLE_QUOTED, TokenKind.DOUBLE_QUOTED):
        raise InvalidArgumentError(
            f"Expected a quoted string value for {entity.value} '{key}' (e.g. 'my-value'). "
            f"Got value {tok.text}"
        )
    return tok.text


def _number_value(cur: _Cursor, entity: EntityType, key: str) -> float:
    tok = cur.next("a value")
    if tok.kind is not TokenKind.NUMBER:
        raise InvalidArgumentError(
            f"Expected numeric value type for {entity.value} '{key}'. Found {tok.text!r}"
        )
    return float(tok.text)


def _list_value(cur: _Cursor, entity: EntityType, key: str, integers: bool) -> tuple[str, ...]:
    tok = cur.next("'('")
    if tok.kind is not TokenKind.LPAREN:
        raise cur.error(tok, f"expected a parenthesised list of values for {entity.value} '{key}'")
    values: list[str] = []
    while True:
        item = cur.next("a value or ')'")
        if item.kind is TokenKind.RPAREN and not values:
            break
        if (integers and item.kind is TokenKind.NUMBER) or item.kind in _STRING_TOKENS:
            values.append(item.text)
        else:
            raise cur.error(item, f"expected a quoted string in the list for {entity.value} '{key}'")
        sep = cur.next("',' or ')'")
        if sep.kind is TokenKind.RPAREN:
            break
        if sep.kind is not TokenKind.COMMA:
            raise cur.error(sep, "expected ',' or ')' in the value list")
    if not values:
        raise InvalidArgumentError(
            f"While parsing a list in the query, expected a non-empty list for '{key}'"
        )
    if integers:
        try:
            values = [str(int(float(v))) for v in values]
        except ValueError:
            raise InvalidArgumentError(f"Invalid value in list for '{key}': expected integers") from None
    return tuple(values)


def _check_op(op: str, allowed: frozenset[str], entity: EntityType, key: str) -> None:
    if op not in allowed:
        raise InvalidArgumentError(
            f"Invalid comparator '{op}' for {entity.value} '{key}'. Only {sorted(allowed)} are allowed."
        )


def _clause(cur: _Cursor, grammar: Grammar) -> Comparison:
    entity, key = _identifier(cur, grammar)
    op = _comparator(cur)
    value: float | str | tuple[str, ...] | None
    if entity is EntityType.METRIC:
        _check_op(op, _NUMERIC_OPS, entity, key)
        value = _number_value(cur, entity, key)
    elif entity in (EntityType.PARAM, EntityType.TAG):
        _check_op(op, grammar.tag_ops, entity, key)
        value = None if op in _NULL_OPS else _string_value(cur, entity, key)
    elif entity is EntityType.DATASET:
        _check_op(op, _STRING_OPS | _LIST_OPS, entity, key)
        value = _list_value(cur, entity, key, False) if op in _LIST_OPS else _string_value(cur, entity, key)
    elif key in grammar.numeric_attributes:
        _check_op(op, _NUMERIC_OPS, entity, key)
        value = _number_value(cur, entity, key)
    else:
        allowed = (grammar.string_attribute_ops if key in grammar.string_attributes else frozenset()) | (
            _LIST_OPS if key in grammar.list_attributes else frozenset()
        )
        if key in grammar.integer_list_attributes:
            allowed |= {"=", "!="}
        _check_op(op, allowed, entity, key)
        if op in _LIST_OPS:
            value = _list_value(cur, entity, key, key in grammar.integer_list_attributes)
        elif key in grammar.integer_list_attributes:
            tok = cur.next("a value")
            if tok.kind not in (TokenKind.NUMBER, TokenKind.SINGLE_QUOTED, TokenKind.DOUBLE_QUOTED):
                raise cur.error(tok, f"expected an integer value for '{key}'")
            try:
                value = str(int(tok.text))
            except ValueError:
                raise InvalidArgumentError(
                    f"Invalid value '{tok.text}' for '{key}': expected an integer"
                ) from None
        else:
            value = _string_value(cur, entity, key)
    return Comparison(entity, key, op, value)


def parse_filter(text: str | None, grammar: Grammar) -> list[Comparison]:
    """Parse a filter string into its comparisons (an empty or blank filter gives none).

    Args:
        text: The filter string.
        grammar: :data:`RUN_GRAMMAR` or :data:`EXPERIMENT_GRAMMAR`.

    Returns:
        The comparisons, all of which must hold.

    Raises:
        InvalidArgumentError: the filter does not follow the grammar.
    """
    if text is None or not text.strip():
        return []
    cur = _Cursor(text)
    clauses = [_clause(cur, grammar)]
    while (tok := cur.peek()) is not None:
        if tok.kind is TokenKind.KEYWORD and tok.text == "OR":
            raise InvalidArgumentError("Invalid clause(s) in filter string: 'OR'")
        if not (tok.kind is TokenKind.KEYWORD and tok.text == "AND"):
            raise cur.error(tok, f"expected 'AND' between clauses, got '{tok.text}'")
        cur.i += 1
        clauses.append(_clause(cur, grammar))
    return clauses


def parse_order_by(order_by: Sequence[str] | None, grammar: Grammar) -> list[OrderKey]:
    """Parse order-by clauses such as ``metrics.acc DESC`` or ``name``.

    Raises:
        InvalidArgumentError: a malformed clause, an unknown or unorderable key, or a duplicate key.
    """
    keys: list[OrderKey] = []
    seen: set[tuple[EntityType, str]] = set()
    for clause in order_by or ():
        cur = _Cursor(clause)
        if not cur.tokens:
            raise InvalidArgumentError(f"Invalid order_by clause '{clause}'")
        entity, key = _identifier(cur, grammar)
        if entity not in grammar.orderable_entities:
            raise InvalidArgumentError(
                f"Invalid order_by clause '{clause}': {grammar.name}s cannot be ordered by {entity.value}s"
            )
        if entity is EntityType.ATTRIBUTE and key not in grammar.orderable_attributes:
            raise InvalidArgumentError(
                f"Invalid order_by clause '{clause}': valid attributes are "
                f"{sorted(grammar.orderable_attributes)}"
            )
        ascending = True
        if cur.at_keyword("ASC", "DESC"):
            ascending = cur.next("ASC or DESC").text == "ASC"
        if cur.peek() is not None:
            raise InvalidArgumentError(f"Invalid order_by clause '{clause}'")
        if (entity, key) in seen:
            raise InvalidArgumentError(f"`order_by` contains duplicate fields: '{clause}'")
        seen.add((entity, key))
        keys.append(OrderKey(entity, key, ascending))
    return keys


def parse_run_filter(text: str | None) -> list[Comparison]:
    """Parse a SearchRuns filter (spec §2.3)."""
    return parse_filter(text, RUN_GRAMMAR)


def parse_experiment_filter(text: str | None) -> list[Comparison]:
    """Parse a SearchExperiments filter (spec §1.3)."""
    return parse_filter(text, EXPERIMENT_GRAMMAR)


def parse_run_order_by(order_by: Sequence[str] | None) -> list[OrderKey]:
    """Parse SearchRuns order-by clauses."""
    return parse_order_by(order_by, RUN_GRAMMAR)


def parse_experiment_order_by(order_by: Sequence[str] | None) -> list[OrderKey]:
    """Parse SearchExperiments order-by clauses."""
    return parse_order_by(order_by, EXPERIMENT_GRAMMAR)
