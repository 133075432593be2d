"""Tokenizer of the search grammar."""

from __future__ import annotations

import pytest

from mltrail.errors import InvalidArgumentError
from mltrail.tracking.search import TokenKind, tokenize


def _kinds(text: str) -> list[tuple[TokenKind, str]]:
    return [(t.kind, t.text) for t in tokenize(text)]


def test_clause_tokens() -> None:
    assert _kinds("metrics.acc >= -1.5e3 and params.`a b` = 'x'") == [
        (TokenKind.WORD, "metrics.acc"),
        (TokenKind.OPERATOR, ">="),
        (TokenKind.NUMBER, "-1.5e3"),
        (TokenKind.KEYWORD, "AND"),
        (TokenKind.WORD, "params."),
        (TokenKind.BACKTICKED, "a b"),
        (TokenKind.OPERATOR, "="),
        (TokenKind.SINGLE_QUOTED, "x"),
    ]


def test_operators_without_spaces() -> None:
    assert _kinds("m.a<>1") == [(TokenKind.WORD, "m.a"), (TokenKind.OPERATOR, "!="), (TokenKind.NUMBER, "1")]
    assert [t.text for t in tokenize("a<=1")] == ["a", "<=", "1"]
    assert [t.text for t in tokenize("a==2")] == ["a", "=", "2"]


def test_quotes_and_escapes() -> None:
    assert tokenize("'it''s'")[0].text == "it's"
    assert tokenize(r"'a\'b'")[0].text == "a'b"
    assert tokenize('"double"')[0].kind is TokenKind.DOUBLE_QUOTED
    assert tokenize("``")[0].text == ""


def test_lists_and_keywords_case_insensitive() -> None:
    kinds = _kinds("run_id not In ('a', \"b\") Is nUlL")
    assert kinds == [
        (TokenKind.WORD, "run_id"),
        (TokenKind.KEYWORD, "NOT"),
        (TokenKind.KEYWORD, "IN"),
        (TokenKind.LPAREN, "("),
        (TokenKind.SINGLE_QUOTED, "a"),
        (TokenKind.COMMA, ","),
        (TokenKind.DOUBLE_QUOTED, "b"),
        (TokenKind.RPAREN, ")"),
        (TokenKind.KEYWORD, "IS"),
        (TokenKind.KEYWORD, "NULL"),
    ]


def test_positions() -> None:
    assert [t.pos for t in tokenize("a = 'b'")] == [0, 2, 4]


@pytest.mark.parametrize("text", ["tags.a = 'open", "a = `x", "a = $", "a ~ 1"])
def test_errors(text: str) -> None:
    with pytest.raises(InvalidArgumentError):
        tokenize(text)
