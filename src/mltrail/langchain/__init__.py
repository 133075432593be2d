"""``mltrail.langchain``: auto-tracing of LangChain chains, chat models, tools and retrievers.

::

    import mltrail.langchain

    mltrail.langchain.autolog()
    chain.invoke({"question": "..."})  # traced
"""

from __future__ import annotations

import importlib
from typing import Any

from mltrail.errors import MissingDependencyError

__all__ = ["autolog", "get_callback_handler"]


def _integration() -> Any:
    try:
        return importlib.import_module("mltrail.tracing.integrations.langchain")
    except ImportError as exc:
        if exc.name and exc.name.startswith("langchain"):
            raise MissingDependencyError("langchain-core", "langchain") from exc
        raise


def autolog(disable: bool = False) -> None:
    """Trace every LangChain run through LangChain's callbacks.

    Args:
        disable: True stops the tracing again.

    Raises:
        MissingDependencyError: ``langchain-core`` is not installed.
    """
    integration = _integration()
    if disable:
        integration.disable()
    else:
        integration.enable()


def get_callback_handler() -> Any:
    """A callback handler to pass explicitly: ``chain.invoke(x, config={"callbacks": [handler]})``."""
    return _integration().MltrailCallbackHandler()
