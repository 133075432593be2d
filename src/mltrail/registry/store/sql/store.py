"""``SqlRegistryStore``: the model registry in the tracking database (SQLite, PostgreSQL, MySQL/MariaDB).

Uses the engine factory of :mod:`mltrail.db` (one engine per URI, shared with the tracking
store) and migrates the database on first use. Each public method checks its input with the
rules of :mod:`mltrail.registry.service`, then runs in one transaction. New version numbers
are computed under a row lock on the registered model, so concurrent registrations of one model
get distinct numbers; deleted versions keep their rows, so numbers are never reused. Alias
moves write their history row in the same transaction as the move.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from mltrail._utils import now_ms
from mltrail.db import Database, current_revision, get_database, head_revision, upgrade
from mltrail.db.schema_registry import (
    model_version_tags,
    registered_model_aliases,
    registered_model_tags,
)
from mltrail.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from mltrail.registry.entities import (
    AliasAction,
    AliasEvent,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    Stage,
)
from mltrail.registry.search import (
    MODEL_SEARCH_MAX_RESULTS_DEFAULT,
    MODEL_SEARCH_MAX_RESULTS_LIMIT,
    VERSION_SEARCH_MAX_RESULTS_DEFAULT,
    VERSION_SEARCH_MAX_RESULTS_LIMIT,
    check_max_results,
    parse_model_filter,
    parse_model_order_by,
    parse_version_filter,
    parse_version_order_by,
)
from mltrail.registry.service import (
    check_archive_existing,
    parse_version,
    resolve_source,
    rollback_target,
    validate_alias,
    validate_model_name,
    validate_tag,
)
from mltrail.registry.store.base import RegistryStore, Version
from mltrail.registry.store.sql import aliases
from mltrail.registry.store.sql.queries import (
    DELETED_STAGE,
    MV,
    RM,
    SqlSourceLookups,
    alias_version,
    latest_overall,
    latest_versions,
    load_models,
    load_versions,
    lock_model,
    model_row,
    record_registration,
    require_version,
    upsert,
)
from mltrail.registry.store.sql.search import model_search_statement, version_search_statement
from mltrail.tracking.entities import Page
from mltrail.tracking.search import decode_page_token, encode_page_token
from mltrail.tracking.store.sql.errors import translate_errors

__all__ = ["SqlRegistryStore"]

_migrate_lock = threading.Lock()
_ALIASES = registered_model_aliases


def _migrate(db: Database) -> None:
    if db.migrated:
        return
    with _migrate_lock:
        if db.migrated:
            return
        with db.read() as conn:
            at_head = current_revision(conn) == head_revision()
        if not at_head:
            upgrade(db)
        db.migrated = True


def _tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    # Later duplicates win, as with MLflow's repeated tag fields.
    return dict(validate_tag(k, v) for k, v in (tags or {}).items())


class SqlRegistryStore(RegistryStore):
    """Registry store on a SQL database (the same one the tracking store uses).

    Args:
        db_uri: ``sqlite:///path.db``, ``postgresql://...`` or ``mysql://...``.

    Raises:
        BackendError: the database cannot be reached or migrated.
    """

    def __init__(self, db_uri: str) -> None:
        self._db = get_database(db_uri)
        self._init()

    @translate_errors
    def _init(self) -> None:
        _migrate(self._db)

    @property
    def database(self) -> Database:
        """The database handle this store runs on."""
        return self._db

    # -- registered models -------------------------------------------------------------------

    @translate_errors
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
        *,
        user_id: str | None = None,
    ) -> RegisteredModel:
        validate_model_name(name)
        checked = _tags(tags)
        now = now_ms()
        with self._db.write() as conn:
            if conn.execute(sa.select(RM.c.name).where(RM.c.name == name)).first() is not None:
                raise AlreadyExistsError(f"Registered Model (name={name}) already exists.")
            conn.execute(
                RM.insert().values(
                    name=name,
                    creation_time=now,
                    last_updated_time=now,
                    description=description,
                    user_id=user_id,
                )
            )
            if checked:
                conn.execute(
                    registered_model_tags.insert(),
                    [{"name": name, "key": k, "value": v} for k, v in checked.items()],
                )
            return load_models(conn, [model_row(conn, name)])[0]

    @translate_errors
    def get_registered_model(self, name: str) -> RegisteredModel:
        with self._db.read() as conn:
            return load_models(conn, [model_row(conn, name)])[0]

    @translate_errors
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        validate_model_name(new_name, "new_name")
        with self._db.write() as conn:
            lock_model(conn, name)
            if new_name != name:
                if conn.execute(sa.select(RM.c.name).where(RM.c.name == new_name)).first() is not None:
                    raise AlreadyExistsError(f"Registered Model (name={new_name}) already exists.")
                conn.execute(
                    RM.update().where(RM.c.name == name).values(name=new_name, last_updated_time=now_ms())
                )
            return load_models(conn, [model_row(conn, new_name)])[0]

    @translate_errors
    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        with self._db.write() as conn:
            lock_model(conn, name)
            conn.execute(
                RM.update()
                .where(RM.c.name == name)
                .values(description=description, last_updated_time=now_ms())
            )
            return load_models(conn, [model_row(conn, name)])[0]

    @translate_errors
    def delete_registered_model(self, name: str) -> None:
        with self._db.write() as conn:
            lock_model(conn, name)
            conn.execute(RM.delete().where(RM.c.name == name))

    @translate_errors
    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = MODEL_SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        limit = check_max_results(max_results, MODEL_SEARCH_MAX_RESULTS_LIMIT)
        clauses = parse_model_filter(filter_string)
        order = parse_model_order_by(order_by)
        offset = decode_page_token(page_token)
        with self._db.read() as conn:
            rows = list(conn.execute(model_search_statement(clauses, order, offset, limit + 1)))
            token = encode_page_token(offset + limit) if len(rows) > limit else None
            return Page(load_models(conn, rows[:limit]), token)

    @translate_errors
    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        wanted = [Stage.parse(s).value for s in stages] if stages else None
        with self._db.read() as conn:
            model_row(conn, name)
            return latest_versions(conn, name, wanted)

    @translate_errors
    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        key, value = validate_tag(key, value)
        with self._db.write() as conn:
            lock_model(conn, name)
            upsert(
                conn,
                registered_model_tags,
                {"name": name, "key": key, "value": value},
                ("name", "key"),
                ("value",),
            )

    @translate_errors
    def delete_registered_model_tag(self, name: str, key: str) -> None:
        with self._db.write() as conn:
            lock_model(conn, name)
            t = registered_model_tags
            conn.execute(t.delete().where(t.c.name == name, t.c.key == key))

    # -- model versions ----------------------------------------------------------------------

    @translate_errors
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
        checked = _tags(tags)
        now = now_ms()
        with self._db.write() as conn:
            # The lock comes first: it orders concurrent registrations of this model, and on
            # MySQL the snapshot of the reads below starts only after it is granted.
            lock_model(conn, name)
            resolved = resolve_source(source, run_id, model_id, SqlSourceLookups(conn))
            latest = conn.execute(sa.select(sa.func.max(MV.c.version)).where(MV.c.name == name)).scalar()
            version = int(latest or 0) + 1
            conn.execute(
                MV.insert().values(
                    name=name,
                    version=version,
                    creation_time=now,
                    last_updated_time=now,
                    description=description,
                    user_id=user_id,
                    current_stage=Stage.NONE.value,
                    source=resolved.source,
                    storage_location=resolved.storage_location,
                    run_id=resolved.run_id,
                    run_link=run_link,
                    model_id=resolved.model_id,
                    status=ModelVersionStatus.READY.value,
                    status_message=None,
                )
            )
            if checked:
                conn.execute(
                    model_version_tags.insert(),
                    [{"name": name, "version": version, "key": k, "value": v} for k, v in checked.items()],
                )
            if resolved.model_id:
                record_registration(conn, resolved.model_id, name, version)
            conn.execute(RM.update().where(RM.c.name == name).values(last_updated_time=now))
            return load_versions(conn, [require_version(conn, name, version)])[0]

    @translate_errors
    def get_model_version(self, name: str, version: Version) -> ModelVersion:
        number = parse_version(version)
        with self._db.read() as conn:
            return load_versions(conn, [require_version(conn, name, number)])[0]

    @translate_errors
    def update_model_version(self, name: str, version: Version, description: str | None) -> ModelVersion:
        number = parse_version(version)
        with self._db.write() as conn:
            require_version(conn, name, number, lock=True)
            conn.execute(
                MV.update()
                .where(MV.c.name == name, MV.c.version == number)
                .values(description=description, last_updated_time=now_ms())
            )
            return load_versions(conn, [require_version(conn, name, number)])[0]

    @translate_errors
    def transition_model_version_stage(
        self, name: str, version: Version, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        number = parse_version(version)
        target = Stage.parse(stage)
        check_archive_existing(target, archive_existing_versions)
        now = now_ms()
        with self._db.write() as conn:
            lock_model(conn, name)
            require_version(conn, name, number)
            if archive_existing_versions:
                conn.execute(
                    MV.update()
                    .where(MV.c.name == name, MV.c.version != number, MV.c.current_stage == target.value)
                    .values(current_stage=Stage.ARCHIVED.value, last_updated_time=now)
                )
            conn.execute(
                MV.update()
                .where(MV.c.name == name, MV.c.version == number)
                .values(current_stage=target.value, last_updated_time=now)
            )
            conn.execute(RM.update().where(RM.c.name == name).values(last_updated_time=now))
            return load_versions(conn, [require_version(conn, name, number)])[0]

    @translate_errors
    def delete_model_version(self, name: str, version: Version) -> None:
        number = parse_version(version)
        now = now_ms()
        with self._db.write() as conn:
            lock_model(conn, name)
            require_version(conn, name, number)
            for alias in conn.execute(
                sa.select(_ALIASES.c.alias).where(_ALIASES.c.name == name, _ALIASES.c.version == number)
            ).scalars():
                aliases.record(conn, name, alias, AliasAction.VERSION_DELETED, number, None, None, None, now)
            conn.execute(_ALIASES.delete().where(_ALIASES.c.name == name, _ALIASES.c.version == number))
            t = model_version_tags
            conn.execute(t.delete().where(t.c.name == name, t.c.version == number))
            conn.execute(
                MV.update()
                .where(MV.c.name == name, MV.c.version == number)
                .values(
                    current_stage=DELETED_STAGE,
                    last_updated_time=now,
                    description=None,
                    user_id=None,
                    source="REDACTED-SOURCE-PATH",
                    storage_location=None,
                    run_id=None,
                    run_link=None,
                    model_id=None,
                    status_message=None,
                )
            )
            conn.execute(RM.update().where(RM.c.name == name).values(last_updated_time=now))

    @translate_errors
    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = VERSION_SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        limit = check_max_results(max_results, VERSION_SEARCH_MAX_RESULTS_LIMIT)
        clauses = parse_version_filter(filter_string)
        order = parse_version_order_by(order_by)
        offset = decode_page_token(page_token)
        with self._db.read() as conn:
            rows = list(conn.execute(version_search_statement(clauses, order, offset, limit + 1)))
            token = encode_page_token(offset + limit) if len(rows) > limit else None
            return Page(load_versions(conn, rows[:limit]), token)

    @translate_errors
    def get_model_version_download_uri(self, name: str, version: Version) -> str:
        number = parse_version(version)
        with self._db.read() as conn:
            row = require_version(conn, name, number)
            return str(row.storage_location or row.source)

    @translate_errors
    def set_model_version_tag(self, name: str, version: Version, key: str, value: str) -> None:
        number = parse_version(version)
        key, value = validate_tag(key, value)
        with self._db.write() as conn:
            require_version(conn, name, number, lock=True)
            upsert(
                conn,
                model_version_tags,
                {"name": name, "version": number, "key": key, "value": value},
                ("name", "version", "key"),
                ("value",),
            )

    @translate_errors
    def delete_model_version_tag(self, name: str, version: Version, key: str) -> None:
        number = parse_version(version)
        with self._db.write() as conn:
            require_version(conn, name, number, lock=True)
            t = model_version_tags
            conn.execute(t.delete().where(t.c.name == name, t.c.version == number, t.c.key == key))

    # -- aliases -----------------------------------------------------------------------------

    @translate_errors
    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: Version,
        *,
        user_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        validate_alias(alias)
        number = parse_version(version)
        with self._db.write() as conn:
            lock_model(conn, name)
            require_version(conn, name, number)
            aliases.point(conn, name, alias, number, AliasAction.SET, user_id, reason)

    @translate_errors
    def delete_registered_model_alias(
        self, name: str, alias: str, *, user_id: str | None = None, reason: str | None = None
    ) -> None:
        with self._db.write() as conn:
            lock_model(conn, name)
            current = alias_version(conn, name, alias)
            if current is None:
                return
            conn.execute(_ALIASES.delete().where(_ALIASES.c.name == name, _ALIASES.c.alias == alias))
            aliases.record(conn, name, alias, AliasAction.DELETE, current, None, user_id, reason, now_ms())

    @translate_errors
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        with self._db.read() as conn:
            model_row(conn, name)
            if alias.lower() == "latest":
                return load_versions(conn, [latest_overall(conn, name)])[0]
            number = alias_version(conn, name, alias)
            if number is None:
                raise InvalidArgumentError(f"Registered model alias {alias} not found.")
            return load_versions(conn, [require_version(conn, name, number)])[0]

    @translate_errors
    def get_alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        with self._db.read() as conn:
            model_row(conn, name)
            return aliases.history(conn, name, alias)

    @translate_errors
    def rollback_registered_model_alias(
        self,
        name: str,
        alias: str,
        to_version: Version | None = None,
        *,
        user_id: str | None = None,
        reason: str | None = None,
    ) -> AliasEvent:
        with self._db.write() as conn:
            lock_model(conn, name)
            events = aliases.history(conn, name, alias)
            current = alias_version(conn, name, alias)
            target = int(rollback_target(events, None if current is None else str(current), to_version))
            try:
                require_version(conn, name, target)
            except NotFoundError as exc:
                raise NotFoundError(
                    f"Cannot roll back alias '{alias}': {exc.message} (it was deleted)"
                ) from exc
            event_id = aliases.point(conn, name, alias, target, AliasAction.ROLLBACK, user_id, reason)
            assert event_id is not None
            return aliases.event(conn, event_id)
