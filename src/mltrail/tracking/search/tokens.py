"""Tokenizer of the search filter and order-by grammars (spec REST-TRACKING §1.3, §2.3).

Produces a flat list of :class:`Token`. Identifiers may carry a dotted type prefix
(``metrics.acc``); a prefix ending in a dot (``tags.``) is followed by a backtick- or
double-quoted key token. Keywords are recognised case-insensitively.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from mltrail.errors import InvalidArgumentError

__all__ = ["KEYWORDS", "Token", "TokenKind", "tokenize"]

KEYWORDS = frozenset({"AND", "OR", "LIKE", "ILIKE", "IN", "NOT", "IS", "NULL", "ASC", "DESC"})


class TokenKind(enum.Enum):
    """Kinds of tokens."""

    WORD = "word"
    KEYWORD = "keyword"
    SINGLE_QUOTED = "single-quoted string"
    DOUBLE_QUOTED = "double-quoted string"
    BACKTICKED = "backticked name"
    NUMBER = "number"
    OPERATOR = "operator"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its text (quotes removed for strings) and where it starts."""

    kind: TokenKind
    text: str
    pos: int


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z_][\w.\-/:]*")
_OPERATORS = ("!=", "<>", "<=", ">=", "==", "=", "<", ">")
_PUNCT = {"(": TokenKind.LPAREN, ")": TokenKind.RPAREN, ",": TokenKind.COMMA}
_QUOTES = {"'": TokenKind.SINGLE_QUOTED, '"': TokenKind.DOUBLE_QUOTED, "`": TokenKind.BACKTICKED}


def _quoted(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in (quote, "\\"):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == quote:
            if i + 1 < len(text) and text[i + 1] == quote:  # SQL-style doubled quote
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise InvalidArgumentError(
        f"Invalid filter string: unterminated quote starting at position {start}: {text!r}"
    )


def tokenize(text: str) -> list[Token]:
    """Split a filter or order-by string into tokens.

    Args:
        text: The string to split.

    Returns:
        The tokens in order.

    Raises:
        InvalidArgumentError: an unterminated quote or a character that starts no token.
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _QUOTES:
            value, end = _quoted(text, i)
            tokens.append(Token(_QUOTES[ch], value, i))
            i = end
        elif ch in _PUNCT:
            tokens.append(Token(_PUNCT[ch], ch, i))
            i += 1
        elif (m := _NUMBER.match(text, i)) and (ch not in "+-" or _operand_expected(tokens)):
            tokens.append(Token(TokenKind.NUMBER, m.group(), i))
            i = m.end()
        elif m := _WORD.match(text, i):
            word = m.group()
            upper = word.upper()
            kind = TokenKind.KEYWORD if upper in KEYWORDS else TokenKind.WORD
            tokens.append(Token(kind, upper if kind is TokenKind.KEYWORD else word, i))
            i = m.end()
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if op is None:
                raise InvalidArgumentError(
                    f"Invalid filter string: unexpected character {ch!r} at position {i}: {text!r}"
                )
            tokens.append(Token(TokenKind.OPERATOR, {"<>": "!=", "==": "="}.get(op, op), i))
            i += len(op)
    return tokens


def _operand_expected(tokens: list[Token]) -> bool:
    return not tokens or tokens[-1].kind in (TokenKind.OPERATOR, TokenKind.LPAREN, TokenKind.COMMA)
