"""The text of one top-level span attribute, read from the stored JSON ``content`` in SQL.

Span attribute filters first narrow the spans with a ``LIKE`` over ``content`` (cheap, but it
also matches the same key in an event, a link or the resource), then compare the value read
with this expression, which looks at ``content.attributes.<name>`` only. Each dialect gets its
own JSON function, and the result is the same text on all three: strings unquoted, numbers as
written, booleans as ``true``/``false``, objects and arrays as JSON text.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["attribute_text", "supports_name"]


class _AttributeText(FunctionElement[str]):
    """``content.attributes.<name>`` as text; NULL when the span has no such attribute."""

    type = sa.Text()
    inherit_cache = True
    name = "mltrail_attribute_text"


def supports_name(name: str) -> bool:
    """Whether ``name`` can be put in a JSON path on every dialect (no quote, no backslash)."""
    return '"' not in name and "\\" not in name


def attribute_text(content: sa.ColumnElement[Any], name: str) -> sa.ColumnElement[str]:
    """The text of attribute ``name`` of the span whose JSON document is ``content``.

    Args:
        content: The ``spans.content`` column.
        name: The attribute name; :func:`supports_name` must hold for it.
    """
    if not supports_name(name):
        raise ValueError(f"attribute name not usable in a JSON path: {name!r}")
    return _AttributeText(content, sa.literal(name, sa.Text()))


def _args(element: _AttributeText, compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    content, name = list(element.clauses)
    return compiler.process(content, **kw), compiler.process(name, **kw)


@compiles(_AttributeText)
def _sqlite(element: _AttributeText, compiler: SQLCompiler, **kw: Any) -> str:
    content, name = _args(element, compiler, **kw)
    path = f"""'$."attributes".' || '"' || {name} || '"'"""
    # json_extract gives 1/0 for JSON booleans; json_type tells them apart from numbers.
    return (
        f"CASE json_type({content}, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
        f"ELSE CAST(json_extract({content}, {path}) AS TEXT) END"
    )


@compiles(_AttributeText, "postgresql")
def _postgresql(element: _AttributeText, compiler: SQLCompiler, **kw: Any) -> str:
    content, name = _args(element, compiler, **kw)
    return f"(CAST({content} AS json) -> 'attributes' ->> {name})"


def _mysql(element: _AttributeText, compiler: SQLCompiler, **kw: Any) -> str:
    content, name = _args(element, compiler, **kw)
    return f"""JSON_UNQUOTE(JSON_EXTRACT({content}, CONCAT('$."attributes"."', {name}, '"')))"""


compiles(_AttributeText, "mysql")(_mysql)
compiles(_AttributeText, "mariadb")(_mysql)
