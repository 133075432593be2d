"""Search grammar of runs and experiments: tokenizer, parser, order-by and page tokens.

Pure logic with no I/O; SQL stores compile the parsed nodes into queries.
"""

from __future__ import annotations

from mltrail.tracking.search.ast import Comparison, EntityType, OrderKey
from mltrail.tracking.search.page_token import decode_page_token, encode_page_token
from mltrail.tracking.search.parser import (
    EXPERIMENT_GRAMMAR,
    RUN_GRAMMAR,
    Grammar,
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_run_filter,
    parse_run_order_by,
)
from mltrail.tracking.search.tokens import Token, TokenKind, tokenize

__all__ = [
    "EXPERIMENT_GRAMMAR",
    "RUN_GRAMMAR",
    "Comparison",
    "EntityType",
    "Grammar",
    "OrderKey",
    "Token",
    "TokenKind",
    "decode_page_token",
    "encode_page_token",
    "parse_experiment_filter",
    "parse_experiment_order_by",
    "parse_run_filter",
    "parse_run_order_by",
    "tokenize",
]
