"""Backend resolution: which class serves a tracking, registry or artifact URI.

A declarative table of built-ins, keyed by URI scheme, is merged with the entry-point groups
``mltrail.tracking_stores``, ``mltrail.registry_stores`` and ``mltrail.artifact_repositories``.
Nothing is imported or registered at import time: the target named by a dotted path is loaded
when a URI is resolved.

Entry-point contracts (the entry point's name is the URI scheme it serves):

* ``mltrail.tracking_stores``: a callable ``factory(uri: str, settings: Settings) -> TrackingStore``.
* ``mltrail.registry_stores``: a callable ``factory(uri: str, settings: Settings) -> RegistryStore``.
* ``mltrail.artifact_repositories``: a class or callable
  ``factory(artifact_uri, *, tracking_uri=None, settings=None) -> ArtifactRepository``.

Built-in schemes take precedence over entry points of the same name.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from mltrail.artifacts.base import ArtifactRepository
from mltrail.artifacts.paths import uri_scheme
from mltrail.config import Settings
from mltrail.errors import InvalidArgumentError
from mltrail.registry.store.base import RegistryStore
from mltrail.tracing.store.base import TraceStore
from mltrail.tracking.store.base import TrackingStore

__all__ = [
    "ARTIFACT_REPOSITORIES",
    "ARTIFACT_REPOSITORY_GROUP",
    "REGISTRY_STORES",
    "REGISTRY_STORE_GROUP",
    "TRACE_STORES",
    "TRACKING_STORES",
    "TRACKING_STORE_GROUP",
    "known_artifact_schemes",
    "known_tracking_schemes",
    "load_object",
    "resolve_artifact_repository",
    "resolve_registry_store",
    "resolve_trace_store",
    "resolve_tracking_store",
]

TRACKING_STORE_GROUP = "mltrail.tracking_stores"
ARTIFACT_REPOSITORY_GROUP = "mltrail.artifact_repositories"
REGISTRY_STORE_GROUP = "mltrail.registry_stores"

_SQL_STORE = "mltrail.tracking.store.sql:SqlTrackingStore"
_REST_STORE = "mltrail.tracking.store.rest:RestTrackingStore"
_SQL_REGISTRY = "mltrail.registry.store.sql:SqlRegistryStore"
_REST_REGISTRY = "mltrail.registry.store.rest:RestRegistryStore"
_SQL_TRACE_STORE = "mltrail.tracing.store.sql:SqlTraceStore"
_REST_TRACE_STORE = "mltrail.tracing.store.rest:RestTraceStore"
_LOCAL_REPO = "mltrail.artifacts.local:LocalArtifactRepository"
_S3_REPO = "mltrail.artifacts.s3:S3ArtifactRepository"
_HTTP_REPO = "mltrail.artifacts.http:HttpArtifactRepository"


@dataclass(frozen=True, slots=True)
class _StoreEntry:
    """A built-in tracking store: the class to load and how its constructor is called."""

    target: str
    kind: str  # "sql" or "rest"


TRACKING_STORES: dict[str, _StoreEntry] = {
    "sqlite": _StoreEntry(_SQL_STORE, "sql"),
    "postgresql": _StoreEntry(_SQL_STORE, "sql"),
    "postgresql+psycopg": _StoreEntry(_SQL_STORE, "sql"),
    "mysql": _StoreEntry(_SQL_STORE, "sql"),
    "mysql+pymysql": _StoreEntry(_SQL_STORE, "sql"),
    "http": _StoreEntry(_REST_STORE, "rest"),
    "https": _StoreEntry(_REST_STORE, "rest"),
}
"""Built-in tracking stores by URI scheme."""

REGISTRY_STORES: dict[str, _StoreEntry] = {
    scheme: _StoreEntry(_SQL_REGISTRY if entry.kind == "sql" else _REST_REGISTRY, entry.kind)
    for scheme, entry in TRACKING_STORES.items()
}
"""Built-in registry stores by URI scheme (the registry lives beside the tracking data)."""

TRACE_STORES: dict[str, _StoreEntry] = {
    scheme: _StoreEntry(_SQL_TRACE_STORE if entry.kind == "sql" else _REST_TRACE_STORE, entry.kind)
    for scheme, entry in TRACKING_STORES.items()
}
"""Built-in trace stores by URI scheme (traces live beside the tracking data)."""

ARTIFACT_REPOSITORIES: dict[str, str] = {
    "": _LOCAL_REPO,
    "file": _LOCAL_REPO,
    "s3": _S3_REPO,
    "mlflow-artifacts": _HTTP_REPO,
    "http": _HTTP_REPO,
    "https": _HTTP_REPO,
}
"""Built-in artifact repositories by URI scheme (``""`` is a plain local path)."""


def load_object(dotted: str) -> Any:
    """Import ``package.module:attribute`` and return the attribute.

    Raises:
        InvalidArgumentError: the string is not of that form or the attribute does not exist.
    """
    module_name, sep, attr = dotted.partition(":")
    if not sep or not module_name or not attr:
        raise InvalidArgumentError(f"Invalid plugin target {dotted!r}: expected 'module:attribute'")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise InvalidArgumentError(f"Plugin target {dotted!r} does not exist") from exc
    return obj


def _plugin_targets(group: str) -> dict[str, str]:
    """Entry points of a group as ``{scheme: "module:attr"}``; read at call time."""
    return {ep.name.lower(): ep.value for ep in entry_points(group=group)}


def known_tracking_schemes() -> list[str]:
    """Every scheme a tracking URI may use (built-ins and installed plugins), sorted."""
    return sorted(set(TRACKING_STORES) | set(_plugin_targets(TRACKING_STORE_GROUP)))


def known_artifact_schemes() -> list[str]:
    """Every scheme an artifact URI may use (``""`` excluded), sorted."""
    schemes = set(ARTIFACT_REPOSITORIES) | set(_plugin_targets(ARTIFACT_REPOSITORY_GROUP))
    return sorted(s for s in schemes if s)


def _absolute_artifact_root(root: str) -> str:
    """Make a plain-path artifact root absolute; URIs are kept as they are."""
    return os.path.abspath(root) if uri_scheme(root) == "" else root


def _build_builtin_store(entry: _StoreEntry, uri: str, settings: Settings) -> TrackingStore:
    cls: Callable[..., TrackingStore] = load_object(entry.target)
    if entry.kind == "sql":
        return cls(
            uri,
            _absolute_artifact_root(settings.artifact_root),
            truncate_long_values=settings.truncate_long_values,
        )
    return cls(uri, settings)


def resolve_tracking_store(uri: str, settings: Settings) -> TrackingStore:
    """Build the tracking store that serves ``uri``.

    Args:
        uri: A tracking URI such as ``sqlite:///mltrail.db`` or ``https://server``.
        settings: The configuration the store is built with.

    Returns:
        A new store instance.

    Raises:
        InvalidArgumentError: no built-in or plugin serves the URI's scheme.
    """
    scheme = uri_scheme(uri)
    entry = TRACKING_STORES.get(scheme)
    if entry is not None:
        return _build_builtin_store(entry, uri, settings)
    plugin = _plugin_targets(TRACKING_STORE_GROUP).get(scheme) if scheme else None
    if plugin is not None:
        factory: Callable[[str, Settings], TrackingStore] = load_object(plugin)
        store = factory(uri, settings)
        if not isinstance(store, TrackingStore):
            raise InvalidArgumentError(f"Plugin {plugin!r} did not return a TrackingStore")
        return store
    raise InvalidArgumentError(
        f"Unsupported tracking URI {uri!r}: scheme {scheme or '(none)'!r} is not one of "
        f"{', '.join(known_tracking_schemes())}"
    )


def resolve_registry_store(uri: str, settings: Settings) -> RegistryStore:
    """Build the registry store that serves ``uri`` (usually the tracking URI).

    Args:
        uri: ``sqlite:///...``, ``postgresql://...``, ``mysql://...`` or ``http(s)://server``.
        settings: The configuration the store is built with.

    Returns:
        A new store instance.

    Raises:
        InvalidArgumentError: no built-in or plugin serves the URI's scheme.
    """
    scheme = uri_scheme(uri)
    entry = REGISTRY_STORES.get(scheme)
    if entry is not None:
        cls: Callable[..., RegistryStore] = load_object(entry.target)
        return cls(uri) if entry.kind == "sql" else cls(uri, settings)
    plugin = _plugin_targets(REGISTRY_STORE_GROUP).get(scheme) if scheme else None
    if plugin is not None:
        factory: Callable[[str, Settings], RegistryStore] = load_object(plugin)
        store = factory(uri, settings)
        if not isinstance(store, RegistryStore):
            raise InvalidArgumentError(f"Plugin {plugin!r} did not return a RegistryStore")
        return store
    known = sorted(set(REGISTRY_STORES) | set(_plugin_targets(REGISTRY_STORE_GROUP)))
    raise InvalidArgumentError(
        f"Unsupported registry URI {uri!r}: scheme {scheme or '(none)'!r} is not one of {', '.join(known)}"
    )


def resolve_trace_store(uri: str, settings: Settings) -> TraceStore:
    """Build the trace store that serves ``uri`` (the tracking URI).

    Args:
        uri: ``sqlite:///...``, ``postgresql://...``, ``mysql://...`` or ``http(s)://server``.
        settings: The configuration the store is built with.

    Returns:
        A new store instance.

    Raises:
        InvalidArgumentError: no built-in serves the URI's scheme.
    """
    entry = TRACE_STORES.get(uri_scheme(uri))
    if entry is None:
        raise InvalidArgumentError(
            f"Unsupported trace store URI {uri!r}: scheme is not one of {', '.join(sorted(TRACE_STORES))}"
        )
    cls: Callable[..., TraceStore] = load_object(entry.target)
    return cls(uri) if entry.kind == "sql" else cls(uri, settings)


def resolve_artifact_repository(
    uri: str,
    *,
    tracking_uri: str | None = None,
    settings: Settings | None = None,
) -> ArtifactRepository:
    """Build the artifact repository rooted at ``uri``.

    Args:
        uri: An artifact root: a plain path, ``file:``, ``s3:``, ``mlflow-artifacts:``, ``http(s):``
            or a scheme served by a plugin.
        tracking_uri: The tracking URI, which ``mlflow-artifacts:`` roots are resolved against.
        settings: Configuration passed to the repository (credentials, timeouts).

    Returns:
        A new repository instance.

    Raises:
        InvalidArgumentError: no built-in or plugin serves the URI's scheme.
    """
    scheme = uri_scheme(uri)
    target = ARTIFACT_REPOSITORIES.get(scheme)
    if target is None and scheme:
        target = _plugin_targets(ARTIFACT_REPOSITORY_GROUP).get(scheme)
    if target is None:
        raise InvalidArgumentError(
            f"Unsupported artifact URI {uri!r}: scheme {scheme!r} is not one of "
            f"{', '.join(known_artifact_schemes())} (or a plain path)"
        )
    factory: Callable[..., ArtifactRepository] = load_object(target)
    repo = factory(uri, tracking_uri=tracking_uri, settings=settings)
    if not isinstance(repo, ArtifactRepository):
        raise InvalidArgumentError(f"Plugin {target!r} did not return an ArtifactRepository")
    return repo
