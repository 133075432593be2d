"""``RestRegistryStore``: the registry store contract spoken over MLflow's REST protocol.

Works against an mltrail server or an MLflow server (alias history and rollback, and the
``user_id``/``reason`` of alias moves, need mltrail). Error bodies map back to the same error
classes as the SQL store raises, through :class:`mltrail._http.JsonApi`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mltrail._http import JsonApi, query
from mltrail.config import Settings
from mltrail.registry.entities import AliasEvent, ModelVersion, RegisteredModel
from mltrail.registry.search import MODEL_SEARCH_MAX_RESULTS_DEFAULT, VERSION_SEARCH_MAX_RESULTS_DEFAULT
from mltrail.registry.store.base import RegistryStore, Version
from mltrail.registry.wire import alias_event_from_dict, model_version_from_dict, registered_model_from_dict
from mltrail.tracking.entities import Page
from mltrail.tracking.wire import JsonDict, key_values

__all__ = ["RestRegistryStore"]

_API = "/api/2.0/mlflow"
_MLTRAIL = "/api/2.0/mltrail"


class RestRegistryStore(RegistryStore):
    """A registry store behind an HTTP server.

    Args:
        tracking_uri: The server's base URL (a path prefix is kept).
        settings: Timeouts, retries and credentials of the HTTP session.
    """

    def __init__(self, tracking_uri: str, settings: Settings) -> None:
        self._api = JsonApi(tracking_uri, settings, prefix=_API)
        self.tracking_uri = self._api.base_url

    # -- registered models -------------------------------------------------------------------

    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
        *,
        user_id: str | None = None,
    ) -> RegisteredModel:
        """Create a registered model (``registered-models/create``)."""
        body: JsonDict = {"name": name}
        if tags:
            body["tags"] = key_values(tags)
        if description is not None:
            body["description"] = description
        if user_id is not None:
            body["user_id"] = user_id
        return registered_model_from_dict(
            self._api.call("POST", "registered-models/create", body=body)["registered_model"]
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        """Return a registered model (``registered-models/get``)."""
        body = self._api.call("GET", "registered-models/get", params=query(name=name))
        return registered_model_from_dict(body["registered_model"])

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a registered model (``registered-models/rename``)."""
        body = self._api.call("POST", "registered-models/rename", body={"name": name, "new_name": new_name})
        return registered_model_from_dict(body["registered_model"])

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        """Set a model's description (``PATCH registered-models/update``)."""
        request: JsonDict = {"name": name}
        if description is not None:
            request["description"] = description
        body = self._api.call("PATCH", "registered-models/update", body=request)
        return registered_model_from_dict(body["registered_model"])

    def delete_registered_model(self, name: str) -> None:
        """Delete a model (``DELETE registered-models/delete`` with a JSON body)."""
        self._api.call("DELETE", "registered-models/delete", body={"name": name})

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = MODEL_SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        """Search registered models (``GET registered-models/search``)."""
        params = query(
            filter=filter_string or None,
            max_results=max_results,
            order_by=list(order_by or ()),
            page_token=page_token or None,
        )
        body = self._api.call("GET", "registered-models/search", params=params)
        items = [registered_model_from_dict(m) for m in body.get("registered_models", ())]
        return Page(items, body.get("next_page_token") or None)

    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        """Latest version per stage (``POST registered-models/get-latest-versions``)."""
        request: JsonDict = {"name": name}
        if stages:
            request["stages"] = list(stages)
        body = self._api.call("POST", "registered-models/get-latest-versions", body=request)
        return [model_version_from_dict(v) for v in body.get("model_versions", ())]

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        """Set a model tag (``registered-models/set-tag``)."""
        self._api.call("POST", "registered-models/set-tag", body={"name": name, "key": key, "value": value})

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Delete a model tag (``DELETE registered-models/delete-tag``)."""
        self._api.call("DELETE", "registered-models/delete-tag", body={"name": name, "key": key})

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
        user_id: str | None = None,
    ) -> ModelVersion:
        """Create a version (``model-versions/create``)."""
        body: JsonDict = {"name": name, "source": source}
        optional = {
            "run_id": run_id,
            "run_link": run_link,
            "description": description,
            "model_id": model_id,
            "user_id": user_id,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        if tags:
            body["tags"] = key_values(tags)
        return model_version_from_dict(
            self._api.call("POST", "model-versions/create", body=body)["model_version"]
        )

    def get_model_version(self, name: str, version: Version) -> ModelVersion:
        """Return a version (``model-versions/get``)."""
        body = self._api.call("GET", "model-versions/get", params=query(name=name, version=version))
        return model_version_from_dict(body["model_version"])

    def update_model_version(self, name: str, version: Version, description: str | None) -> ModelVersion:
        """Set a version's description (``PATCH model-versions/update``)."""
        request: JsonDict = {"name": name, "version": str(version)}
        if description is not None:
            request["description"] = description
        body = self._api.call("PATCH", "model-versions/update", body=request)
        return model_version_from_dict(body["model_version"])

    def transition_model_version_stage(
        self, name: str, version: Version, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to a stage (``model-versions/transition-stage``)."""
        request = {
            "name": name,
            "version": str(version),
            "stage": stage,
            "archive_existing_versions": archive_existing_versions,
        }
        body = self._api.call("POST", "model-versions/transition-stage", body=request)
        return model_version_from_dict(body["model_version"])

    def delete_model_version(self, name: str, version: Version) -> None:
        """Delete a version (``DELETE model-versions/delete``)."""
        self._api.call("DELETE", "model-versions/delete", body={"name": name, "version": str(version)})

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = VERSION_SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        """Search versions (``GET model-versions/search``)."""
        params = query(
            filter=filter_string or None,
            max_results=max_results,
            order_by=list(order_by or ()),
            page_token=page_token or None,
        )
        body = self._api.call("GET", "model-versions/search", params=params)
        items = [model_version_from_dict(v) for v in body.get("model_versions", ())]
        return Page(items, body.get("next_page_token") or None)

    def get_model_version_download_uri(self, name: str, version: Version) -> str:
        """Where the version's files are (``model-versions/get-download-uri``)."""
        body = self._api.call(
            "GET", "model-versions/get-download-uri", params=query(name=name, version=version)
        )
        return str(body["artifact_uri"])

    def set_model_version_tag(self, name: str, version: Version, key: str, value: str) -> None:
        """Set a version tag (``model-versions/set-tag``)."""
        body = {"name": name, "version": str(version), "key": key, "value": value}
        self._api.call("POST", "model-versions/set-tag", body=body)

    def delete_model_version_tag(self, name: str, version: Version, key: str) -> None:
        """Delete a version tag (``DELETE model-versions/delete-tag``)."""
        self._api.call(
            "DELETE", "model-versions/delete-tag", body={"name": name, "version": str(version), "key": key}
        )

    # -- aliases -----------------------------------------------------------------------------

    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: Version,
        *,
        user_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Point an alias at a version (``POST registered-models/alias``).

        ``user_id`` and ``reason`` are mltrail fields; an MLflow server ignores them.
        """
        body: JsonDict = {"name": name, "alias": alias, "version": str(version)}
        if user_id is not None:
            body["user_id"] = user_id
        if reason is not None:
            body["reason"] = reason
        self._api.call("POST", "registered-models/alias", body=body)

    def delete_registered_model_alias(
        self, name: str, alias: str, *, user_id: str | None = None, reason: str | None = None
    ) -> None:
        """Remove an alias (``DELETE registered-models/alias``)."""
        body: JsonDict = {"name": name, "alias": alias}
        if user_id is not None:
            body["user_id"] = user_id
        if reason is not None:
            body["reason"] = reason
        self._api.call("DELETE", "registered-models/alias", body=body)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The aliased version (``GET registered-models/alias``)."""
        body = self._api.call("GET", "registered-models/alias", params=query(name=name, alias=alias))
        return model_version_from_dict(body["model_version"])

    def get_alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """Alias moves, oldest first (mltrail: ``GET /api/2.0/mltrail/registered-models/alias/history``)."""
        body = self._api.call(
            "GET", "registered-models/alias/history", params=query(name=name, alias=alias), prefix=_MLTRAIL
        )
        return [alias_event_from_dict(e) for e in body.get("events", ())]

    def rollback_registered_model_alias(
        self,
        name: str,
        alias: str,
        to_version: Version | None = None,
        *,
        user_id: str | None = None,
        reason: str | None = None,
    ) -> AliasEvent:
        """Roll an alias back (mltrail: ``POST /api/2.0/mltrail/registered-models/alias/rollback``)."""
        request: JsonDict = {"name": name, "alias": alias}
        optional = {
            "user_id": user_id,
            "reason": reason,
            "to_version": None if to_version is None else str(to_version),
        }
        request.update({k: v for k, v in optional.items() if v is not None})
        body = self._api.call("POST", "registered-models/alias/rollback", body=request, prefix=_MLTRAIL)
        return alias_event_from_dict(body["event"])

    def close(self) -> None:
        """Close the HTTP session."""
        self._api.close()
