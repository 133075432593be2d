"""The registry store contract: registered models, versions, stages, tags, aliases and alias history.

Implementations: ``SqlRegistryStore`` (the tracking database) and ``RestRegistryStore`` (an
mltrail or MLflow server; alias history needs mltrail). ``tests/contract/test_registry_store.py``
runs one suite against every implementation, so these docstrings are the rules all keep.
Versions are decimal strings (``"3"``); version arguments accept ``int`` or ``str``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

from mltrail.registry.entities import AliasEvent, ModelVersion, RegisteredModel
from mltrail.tracking.entities import Page

__all__ = ["RegistryStore", "Version"]

Version = int | str


class RegistryStore(ABC):
    """Abstract store of the model registry.

    Every method raises a subclass of :class:`mltrail.errors.MltrailError`: ``NotFoundError``
    for an unknown model or version, ``AlreadyExistsError`` for a taken name,
    ``InvalidArgumentError`` for a broken rule, ``BackendError`` when the backend fails.
    """

    # -- registered models -------------------------------------------------------------------

    @abstractmethod
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
        *,
        user_id: str | None = None,
    ) -> RegisteredModel:
        """Create a registered model.

        Args:
            name: Unique, case-sensitive; non-blank, no ``/`` or ``:``.
            tags: Initial tags.
            description: Free text.
            user_id: Who creates it.

        Returns:
            The new model.

        Raises:
            AlreadyExistsError: the name is taken.
            InvalidArgumentError: a bad name or tag.
        """

    @abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel:
        """Return a registered model with its tags, aliases and latest version per stage.

        Raises:
            NotFoundError: no model has that name.
        """

    @abstractmethod
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a model; its versions, tags, aliases and alias history follow.

        Returns:
            The renamed model.

        Raises:
            NotFoundError: ``name`` is unknown.
            AlreadyExistsError: ``new_name`` is taken.
            InvalidArgumentError: ``new_name`` is not a valid name.
        """

    @abstractmethod
    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        """Set a model's description (None clears it) and bump its last-updated time.

        Raises:
            NotFoundError: ``name`` is unknown.
        """

    @abstractmethod
    def delete_registered_model(self, name: str) -> None:
        """Delete a model with all its versions, tags, aliases and alias history.

        Raises:
            NotFoundError: ``name`` is unknown.
        """

    @abstractmethod
    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        """Search registered models (spec REST-REGISTRY §3.1); prompts are left out unless asked for.

        Args:
            filter_string: ``name`` and ``tags.<key>`` clauses joined by AND.
            max_results: Page size, 1..1000.
            order_by: Keys ``name``, ``timestamp``, ``last_updated_timestamp`` with ASC/DESC.
            page_token: The token of a previous page.

        Returns:
            One page; ``name ASC`` breaks ties.

        Raises:
            InvalidArgumentError: a bad filter, order key, page size or token.
        """

    @abstractmethod
    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        """For each stage (default: all four), the highest non-deleted version in it.

        Raises:
            NotFoundError: ``name`` is unknown.
            InvalidArgumentError: an unknown stage.
        """

    @abstractmethod
    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        """Set (insert or overwrite) a tag of a registered model.

        Raises:
            NotFoundError: ``name`` is unknown.
            InvalidArgumentError: a bad key or an over-long value.
        """

    @abstractmethod
    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Delete a tag of a registered model; a missing tag is not an error.

        Raises:
            NotFoundError: ``name`` is unknown.
        """

    # -- model versions ----------------------------------------------------------------------

    @abstractmethod
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
        """Create the next version of a model (``max(existing, deleted included) + 1``).

        Args:
            name: The registered model.
            source: Where the model lives; checked by the source rules of spec §3.
            run_id: The run that produced it.
            tags: Initial tags.
            run_link: A link to the run.
            description: Free text.
            model_id: The MLflow 3 logged model it comes from.
            user_id: Who registers it.

        Returns:
            The new version, status READY, stage ``None``.

        Raises:
            NotFoundError: ``name`` is unknown.
            InvalidArgumentError: the source breaks a rule, or a bad tag.
        """

    @abstractmethod
    def get_model_version(self, name: str, version: Version) -> ModelVersion:
        """Return a version (deleted versions are not found).

        Raises:
            InvalidArgumentError: ``version`` is not an integer.
            NotFoundError: no such version.
        """

    @abstractmethod
    def update_model_version(self, name: str, version: Version, description: str | None) -> ModelVersion:
        """Set a version's description (None clears it) and bump its last-updated time.

        Raises:
            NotFoundError: no such version.
        """

    @abstractmethod
    def transition_model_version_stage(
        self, name: str, version: Version, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to a stage, optionally archiving the others in that stage.

        Args:
            name: The registered model.
            version: The version to move.
            stage: ``None``, ``Staging``, ``Production`` or ``Archived`` (any case).
            archive_existing_versions: Move every other version in the target stage to
                ``Archived``; only allowed for Staging and Production.

        Returns:
            The moved version.

        Raises:
            NotFoundError: no such version.
            InvalidArgumentError: a bad stage, or archiving with another target stage.
        """

    @abstractmethod
    def delete_model_version(self, name: str, version: Version) -> None:
        """Delete a version; its number is never reused and the aliases pointing at it are removed.

        Raises:
            NotFoundError: no such version.
        """

    @abstractmethod
    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        """Search versions of all models (spec REST-REGISTRY §3.1); prompts are left out unless asked for.

        Args:
            filter_string: Clauses on ``name``, ``run_id``, ``source_path``, ``version_number``,
                the timestamps and ``tags.<key>``, joined by AND.
            max_results: Page size, 1..200000.
            order_by: Keys ``name``, ``version_number``, ``creation_timestamp``,
                ``last_updated_timestamp``.
            page_token: The token of a previous page.

        Returns:
            One page, by default newest update first.

        Raises:
            InvalidArgumentError: a bad filter, order key, page size or token.
        """

    @abstractmethod
    def get_model_version_download_uri(self, name: str, version: Version) -> str:
        """Where a version's files are: a logged model's artifacts, a referenced version's, or the source.

        Raises:
            NotFoundError: no such version.
        """

    @abstractmethod
    def set_model_version_tag(self, name: str, version: Version, key: str, value: str) -> None:
        """Set (insert or overwrite) a tag of a version.

        Raises:
            NotFoundError: no such version.
            InvalidArgumentError: a bad key or an over-long value.
        """

    @abstractmethod
    def delete_model_version_tag(self, name: str, version: Version, key: str) -> None:
        """Delete a tag of a version; a missing tag is not an error.

        Raises:
            NotFoundError: no such version.
        """

    # -- aliases -----------------------------------------------------------------------------

    @abstractmethod
    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: Version,
        *,
        user_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Point an alias at a version (moving it if it exists) and record the move in its history.

        Args:
            name: The registered model.
            alias: ``^[\\w\\-]*$``, at most 255 characters, not ``latest`` or ``v<digits>``.
            version: The target version.
            user_id: Who moves it (recorded).
            reason: Why (recorded).

        Raises:
            NotFoundError: no such model or version.
            InvalidArgumentError: a bad alias name.
        """

    @abstractmethod
    def delete_registered_model_alias(
        self, name: str, alias: str, *, user_id: str | None = None, reason: str | None = None
    ) -> None:
        """Remove an alias (recording it); a missing alias is not an error.

        Raises:
            NotFoundError: no such model.
        """

    @abstractmethod
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at; ``latest`` (any case) is the highest latest-per-stage version.

        Raises:
            NotFoundError: no such model, or ``latest`` on a model without versions.
            InvalidArgumentError: the alias is not set (MLflow answers 400 here, not 404).
        """

    @abstractmethod
    def get_alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """Every recorded move of a model's aliases (or of one alias), oldest first.

        Raises:
            NotFoundError: no such model.
        """

    @abstractmethod
    def rollback_registered_model_alias(
        self,
        name: str,
        alias: str,
        to_version: Version | None = None,
        *,
        user_id: str | None = None,
        reason: str | None = None,
    ) -> AliasEvent:
        """Point an alias back at an earlier target, in one call, and record the rollback.

        Args:
            name: The registered model.
            alias: The alias to roll back.
            to_version: A version the alias pointed at before; default: the target before the
                latest move.
            user_id: Who rolls back (recorded).
            reason: Why (recorded).

        Returns:
            The recorded rollback event.

        Raises:
            NotFoundError: no such model, or the target version was deleted.
            InvalidArgumentError: the alias has no such earlier target.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, most stores hold nothing to release
        """Release connections and background resources."""
