"""LLM prices that trace costs are computed from: built-in list prices plus the user's own.

A span with a model name and token usage but no cost gets ``mlflow.llm.cost`` on ingest, priced
by the longest model-name prefix in the table. Prices change and deployments have their own
names, so ``MLTRAIL_MODEL_PRICES_FILE`` names a JSON or YAML file that adds to the built-in
table or overrides entries of it, in USD per million tokens::

    my-llama-70b: {input: 0.60, output: 0.80}
    gpt-4o: {input: 2.00, output: 8.00}

The file is read once per process (:func:`price_table`); :func:`reset` makes the next call read
it again.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from mltrail.config import Settings
from mltrail.errors import InvalidArgumentError

__all__ = ["DEFAULT_PRICES", "cost_for", "load_prices", "price_table", "reset"]

# USD per one million (input, output) tokens; matched by the longest model-name prefix.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-4": (30.00, 60.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o1-mini": (1.10, 4.40),
    "o1": (15.00, 60.00),
    "o3-mini": (1.10, 4.40),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-opus": (15.00, 75.00),
    "claude-3-haiku": (0.25, 1.25),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-opus-4": (15.00, 75.00),
    "gemini-1.5-pro": (1.25, 5.00),
    "gemini-1.5-flash": (0.075, 0.30),
    "gemini-2.0-flash": (0.10, 0.40),
    "text-embedding-3-small": (0.02, 0.0),
    "text-embedding-3-large": (0.13, 0.0),
}


def _price(model: str, key: str, value: Any, path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise InvalidArgumentError(
            f"{path}: the {key} price of model {model!r} must be a number of USD per million "
            f"tokens, at least 0; got {value!r}"
        )
    return float(value)


def load_prices(path: str | Path) -> dict[str, tuple[float, float]]:
    """Read a price file: a mapping of model-name prefix to ``{input: ..., output: ...}``.

    Raises:
        InvalidArgumentError: The file cannot be read or parsed, or an entry is malformed.
    """
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidArgumentError(f"Cannot read the model price file {file}: {exc.strerror}") from exc
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidArgumentError(f"{file} is not valid JSON or YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise InvalidArgumentError(f"{file}: expected a mapping of model name to prices")
    prices: dict[str, tuple[float, float]] = {}
    for model, entry in data.items():
        if not isinstance(model, str) or not model.strip():
            raise InvalidArgumentError(f"{file}: model names must be non-empty strings, got {model!r}")
        if not isinstance(entry, Mapping) or set(entry) - {"input", "output"} or "input" not in entry:
            raise InvalidArgumentError(
                f"{file}: model {model!r} needs {{input: <USD>, output: <USD>}} per million tokens"
            )
        prices[model.strip().lower()] = (
            _price(model, "input", entry["input"], file),
            _price(model, "output", entry.get("output", 0), file),
        )
    return prices


@functools.cache
def price_table() -> tuple[tuple[str, tuple[float, float]], ...]:
    """The prices in force, longest prefix first: the built-in ones and the user's file."""
    prices = dict(DEFAULT_PRICES)
    path = Settings().model_prices_file
    if path:
        prices.update(load_prices(path))
    return tuple(sorted(prices.items(), key=lambda item: len(item[0]), reverse=True))


def reset() -> None:
    """Forget the table read so far; the next :func:`price_table` reads the settings again."""
    price_table.cache_clear()


def cost_for(model: str, usage: Mapping[str, int]) -> dict[str, float] | None:
    """The USD cost of ``usage`` on ``model`` (``{input_cost, output_cost, total_cost}``), if priced."""
    name = model.lower().rsplit("/", 1)[-1]
    for prefix, (in_price, out_price) in price_table():
        if name.startswith(prefix):
            input_cost = usage.get("input_tokens", 0) * in_price / 1_000_000
            output_cost = usage.get("output_tokens", 0) * out_price / 1_000_000
            return {
                "input_cost": round(input_cost, 10),
                "output_cost": round(output_cost, 10),
                "total_cost": round(input_cost + output_cost, 10),
            }
    return None
