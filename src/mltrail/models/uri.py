"""Model URI resolution: turn what a caller passes to ``load_model`` into a local model directory.

Local paths and ``file:`` URIs are built in. Other schemes (``runs:``, ``models:``, ...) are
served by resolvers listed in :data:`MODEL_URI_RESOLVERS` or registered under the entry-point
group ``mltrail.model_uri_resolvers``: each is a ``module:function`` taking the URI and returning
a local directory path.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from urllib.parse import unquote, urlparse

from mltrail.errors import InvalidArgumentError

__all__ = ["MODEL_URI_RESOLVERS", "MODEL_URI_RESOLVER_GROUP", "resolve_model_uri"]

MODEL_URI_RESOLVER_GROUP = "mltrail.model_uri_resolvers"

_RESOLVERS = "mltrail.models.resolvers"

MODEL_URI_RESOLVERS: dict[str, str] = {
    "runs": f"{_RESOLVERS}:resolve_runs_uri",
    "models": f"{_RESOLVERS}:resolve_models_uri",
    **{
        scheme: f"{_RESOLVERS}:resolve_artifact_store_uri"
        for scheme in ("s3", "mlflow-artifacts", "http", "https")
    },
}
"""Built-in resolvers by URI scheme, as ``module:function`` (function(uri) -> local path)."""


def _scheme(uri: str) -> str:
    scheme = urlparse(uri).scheme
    # A one-letter "scheme" is a Windows drive letter.
    return "" if len(scheme) == 1 else scheme.lower()


def resolve_model_uri(model_uri: str | os.PathLike[str]) -> Path:
    """The local directory a model URI names.

    Args:
        model_uri: A local path, a ``file:`` URI, or a URI whose scheme has a resolver.

    Returns:
        The local model directory.

    Raises:
        InvalidArgumentError: no resolver serves the URI's scheme.
    """
    if isinstance(model_uri, os.PathLike):
        return Path(model_uri)
    scheme = _scheme(model_uri)
    if scheme == "":
        return Path(model_uri)
    if scheme == "file":
        return Path(unquote(urlparse(model_uri).path))
    target = MODEL_URI_RESOLVERS.get(scheme)
    if target is None:
        target = {ep.name: ep.value for ep in entry_points(group=MODEL_URI_RESOLVER_GROUP)}.get(scheme)
    if target is None:
        raise InvalidArgumentError(
            f"Cannot load a model from {model_uri!r}: the URI scheme {scheme!r} is not supported here. "
            "Pass a local model directory or a file: URI."
        )
    module_name, _, attr = target.partition(":")
    resolver: Callable[[str], str | os.PathLike[str]] = getattr(importlib.import_module(module_name), attr)
    return Path(resolver(model_uri))
