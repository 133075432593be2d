"""Fluent registry functions over the fluent API's tracking store (``mltrail.register_model`` ...).

They share the store of :func:`mltrail.set_tracking_uri`; each has an explicit equivalent on
:class:`~mltrail.registry.client.RegistryClient`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from mltrail.registry.client import RegistryClient
from mltrail.registry.entities import ModelVersion, RegisteredModel
from mltrail.registry.search import MODEL_SEARCH_MAX_RESULTS_DEFAULT, VERSION_SEARCH_MAX_RESULTS_DEFAULT
from mltrail.tracking._fluent_state import default_client
from mltrail.tracking.client import TrackingClient
from mltrail.tracking.entities import Page

__all__ = ["register_model", "registry_client", "search_model_versions", "search_registered_models"]

_lock = threading.Lock()
_client: RegistryClient | None = None
_owner: TrackingClient | None = None


def registry_client() -> RegistryClient:
    """The registry client beside the fluent API's tracking client (rebuilt when that one changes)."""
    global _client, _owner
    tracking = default_client()
    with _lock:
        if _client is None or _owner is not tracking:
            if _client is not None:
                _client.close()
            _client = RegistryClient(
                tracking.tracking_uri, settings=tracking.settings, tracking_store=tracking.store
            )
            _owner = tracking
        return _client


def _reset() -> None:
    """Close the cached registry client (for test fixtures)."""
    global _client, _owner
    with _lock:
        old, _client, _owner = _client, None, None
    if old is not None:
        old.close()


def register_model(model_uri: str, name: str, tags: Mapping[str, str] | None = None) -> ModelVersion:
    """Register ``model_uri`` as a new version of ``name`` (creating the registered model if needed).

    Args:
        model_uri: ``runs:/<run_id>/<path>``, ``models:/<model_id>`` or a storage URI.
        name: The registered model.
        tags: Tags of the new version.

    Returns:
        The new version.
    """
    return registry_client().register_model(model_uri, name, tags)


def search_registered_models(
    filter_string: str | None = None,
    max_results: int = MODEL_SEARCH_MAX_RESULTS_DEFAULT,
    order_by: Sequence[str] | None = None,
    page_token: str | None = None,
) -> Page[RegisteredModel]:
    """Search registered models (see :meth:`RegistryClient.search_registered_models`)."""
    return registry_client().search_registered_models(filter_string, max_results, order_by, page_token)


def search_model_versions(
    filter_string: str | None = None,
    max_results: int = VERSION_SEARCH_MAX_RESULTS_DEFAULT,
    order_by: Sequence[str] | None = None,
    page_token: str | None = None,
) -> Page[ModelVersion]:
    """Search model versions (see :meth:`RegistryClient.search_model_versions`)."""
    return registry_client().search_model_versions(filter_string, max_results, order_by, page_token)
