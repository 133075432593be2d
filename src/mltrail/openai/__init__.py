"""``mltrail.openai``: auto-tracing of the official ``openai`` client.

::

    import mltrail.openai

    mltrail.openai.autolog()
    client = openai.OpenAI()
    client.chat.completions.create(model="gpt-4o-mini", messages=[...])  # traced
"""

from __future__ import annotations

from mltrail.errors import MissingDependencyError
from mltrail.tracing.integrations import openai as _integration

__all__ = ["autolog"]


def autolog(disable: bool = False) -> None:
    """Trace every call of the openai client: chat completions (streamed or not), embeddings and
    the responses API, sync and async, with token usage.

    Args:
        disable: True removes the tracing again.

    Raises:
        MissingDependencyError: the ``openai`` package is not installed.
    """
    try:
        import openai  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError("openai", "openai") from exc
    if disable:
        _integration.disable()
    else:
        _integration.enable()
