"""``RegistryClient``: the explicit API of the model registry over one registry store.

Stores come from the tracking URI (the registry lives beside the tracking data)::

    with RegistryClient("sqlite:///mltrail.db") as client:
        version = client.register_model(f"runs:/{run_id}/model", "churn")
        client.set_registered_model_alias("churn", "champion", version.version, reason="best AUC")
        client.rollback_registered_model_alias("churn", "champion")
"""

from __future__ import annotations

import contextlib
import posixpath
import urllib.parse
from collections.abc import Mapping, Sequence
from types import TracebackType

from mltrail._plugins import resolve_artifact_repository, resolve_registry_store, resolve_tracking_store
from mltrail.config import Settings, current_user
from mltrail.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from mltrail.registry.entities import AliasEvent, ModelVersion, RegisteredModel
from mltrail.registry.search import MODEL_SEARCH_MAX_RESULTS_DEFAULT, VERSION_SEARCH_MAX_RESULTS_DEFAULT
from mltrail.registry.service import parse_models_uri
from mltrail.registry.store.base import RegistryStore, Version
from mltrail.tracking.entities import Page
from mltrail.tracking.store.base import TrackingStore

__all__ = ["RegistryClient"]

_MLMODEL = "MLmodel"


class RegistryClient:
    """Registered models, versions, stages, tags, aliases and alias history.

    Args:
        tracking_uri: The store URI; defaults to ``settings.tracking_uri``.
        settings: Configuration; defaults to ``Settings()``. ``MLTRAIL_USER`` (or the login
            name) is recorded as who registers models and moves aliases.
        store: A ready registry store to use instead of resolving ``tracking_uri``.
        tracking_store: A ready tracking store, used to resolve ``runs:/`` URIs in
            :meth:`register_model` (resolved from ``tracking_uri`` on first need otherwise).

    Raises:
        InvalidArgumentError: no store serves the URI's scheme.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        *,
        settings: Settings | None = None,
        store: RegistryStore | None = None,
        tracking_store: TrackingStore | None = None,
    ) -> None:
        self._settings = settings if settings is not None else Settings()
        self.tracking_uri: str = tracking_uri or self._settings.tracking_uri
        self._owns_store = store is None
        self._store = (
            store if store is not None else resolve_registry_store(self.tracking_uri, self._settings)
        )
        self._tracking = tracking_store
        self._owns_tracking = False
        self._user = current_user(self._settings)

    @property
    def store(self) -> RegistryStore:
        """The registry store behind this client."""
        return self._store

    def close(self) -> None:
        """Close the stores this client created."""
        if self._owns_store:
            self._store.close()
        if self._owns_tracking and self._tracking is not None:
            self._tracking.close()
            self._tracking = None

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- registered models -------------------------------------------------------------------

    def create_registered_model(
        self, name: str, tags: Mapping[str, str] | None = None, description: str | None = None
    ) -> RegisteredModel:
        """Create a registered model (raises ``AlreadyExistsError`` if the name is taken)."""
        return self._store.create_registered_model(name, tags, description, user_id=self._user)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """Return a registered model with its tags, aliases and latest versions."""
        return self._store.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a registered model; its versions follow."""
        return self._store.rename_registered_model(name, new_name)

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        """Set a registered model's description."""
        return self._store.update_registered_model(name, description)

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model with all its versions."""
        self._store.delete_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = MODEL_SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        """Search registered models (``name`` and ``tags.<key>`` filters)."""
        return self._store.search_registered_models(filter_string, max_results, order_by, page_token)

    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        """The latest version per stage (all stages by default)."""
        return self._store.get_latest_versions(name, stages)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        """Set a tag of a registered model."""
        self._store.set_registered_model_tag(name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Delete a tag of a registered model (missing tags are fine)."""
        self._store.delete_registered_model_tag(name, key)

    # -- model versions ----------------------------------------------------------------------

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        *,
        model_id: str | None = None,
    ) -> ModelVersion:
        """Create the next version of a registered model from ``source``."""
        return self._store.create_model_version(
            name, source, run_id, tags, run_link, description, model_id=model_id, user_id=self._user
        )

    def register_model(
        self, model_uri: str, name: str, tags: Mapping[str, str] | None = None
    ) -> ModelVersion:
        """Create the registered model if needed, then a new version from ``model_uri``.

        ``runs:/<run_id>/<path>`` registers the run's artifacts when an MLmodel file is there,
        else the run's logged model named ``<path>``; ``models:/<model_id>`` registers a logged
        model; any other URI is registered as it is.

        Args:
            model_uri: ``runs:/...``, ``models:/...`` or a storage URI.
            name: The registered model.
            tags: Tags of the new version.

        Returns:
            The new version.

        Raises:
            NotFoundError: a ``runs:/`` URI names neither model files nor a logged model.
        """
        with contextlib.suppress(AlreadyExistsError):
            self.create_registered_model(name)
        source, run_id, model_id = self._resolve_model_uri(model_uri)
        return self.create_model_version(name, source, run_id, tags, model_id=model_id)

    def _tracking_store(self) -> TrackingStore:
        if self._tracking is None:
            self._tracking = resolve_tracking_store(self.tracking_uri, self._settings)
            self._owns_tracking = True
        return self._tracking

    def _resolve_model_uri(self, model_uri: str) -> tuple[str, str | None, str | None]:
        parsed = urllib.parse.urlparse(model_uri)
        if parsed.scheme == "models":
            ref = parse_models_uri(model_uri)
            return model_uri, None, ref.model_id
        if parsed.scheme != "runs":
            return model_uri, None, None
        run_id, _, path = parsed.path.lstrip("/").partition("/")
        path = posixpath.normpath(path).strip("/") if path else ""
        if not run_id:
            raise InvalidArgumentError(f"Not a proper runs:/ URI: {model_uri}")
        tracking = self._tracking_store()
        run = tracking.get_run(run_id)
        repo = resolve_artifact_repository(
            run.info.artifact_uri, tracking_uri=self.tracking_uri, settings=self._settings
        )
        listing = repo.list_artifacts(path or None)
        if any(posixpath.basename(f.path) == _MLMODEL for f in listing):
            root = run.info.artifact_uri.rstrip("/")
            return (f"{root}/{path}" if path else root), run_id, None
        models = [
            m
            for m in tracking.search_logged_models([run.info.experiment_id], filter_string=f"name = '{path}'")
            if m.source_run_id == run_id
        ]
        if not models:
            raise NotFoundError(f"Unable to find a logged_model with artifact_path {path} under run {run_id}")
        steps = {o.model_id: o.step for o in run.outputs.model_outputs}
        chosen = max(models, key=lambda m: steps.get(m.model_id, -1))
        return f"models:/{chosen.model_id}", run_id, chosen.model_id

    def get_model_version(self, name: str, version: Version) -> ModelVersion:
        """Return a version."""
        return self._store.get_model_version(name, version)

    def update_model_version(self, name: str, version: Version, description: str | None) -> ModelVersion:
        """Set a version's description."""
        return self._store.update_model_version(name, version, description)

    def transition_model_version_stage(
        self, name: str, version: Version, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to a stage (``None``, ``Staging``, ``Production``, ``Archived``)."""
        return self._store.transition_model_version_stage(name, version, stage, archive_existing_versions)

    def delete_model_version(self, name: str, version: Version) -> None:
        """Delete a version (its number is never reused)."""
        self._store.delete_model_version(name, version)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = VERSION_SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        """Search versions of all registered models."""
        return self._store.search_model_versions(filter_string, max_results, order_by, page_token)

    def get_model_version_download_uri(self, name: str, version: Version) -> str:
        """Where a version's files are stored."""
        return self._store.get_model_version_download_uri(name, version)

    def set_model_version_tag(self, name: str, version: Version, key: str, value: str) -> None:
        """Set a tag of a version."""
        self._store.set_model_version_tag(name, version, key, value)

    def delete_model_version_tag(self, name: str, version: Version, key: str) -> None:
        """Delete a tag of a version (missing tags are fine)."""
        self._store.delete_model_version_tag(name, version, key)

    # -- aliases -----------------------------------------------------------------------------

    def set_registered_model_alias(
        self, name: str, alias: str, version: Version, *, reason: str | None = None
    ) -> None:
        """Point an alias at a version; the move is recorded with who, when and ``reason``."""
        self._store.set_registered_model_alias(name, alias, version, user_id=self._user, reason=reason)

    def delete_registered_model_alias(self, name: str, alias: str, *, reason: str | None = None) -> None:
        """Remove an alias (recorded in its history)."""
        self._store.delete_registered_model_alias(name, alias, user_id=self._user, reason=reason)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at."""
        return self._store.get_model_version_by_alias(name, alias)

    def get_alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """Every recorded move of a model's aliases (or one alias), oldest first."""
        return self._store.get_alias_history(name, alias)

    def rollback_registered_model_alias(
        self, name: str, alias: str, to_version: Version | None = None, *, reason: str | None = None
    ) -> AliasEvent:
        """Point an alias back at its previous target (or ``to_version``); returns the recorded event."""
        return self._store.rollback_registered_model_alias(
            name, alias, to_version, user_id=self._user, reason=reason
        )
