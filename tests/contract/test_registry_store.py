"""Contract suite of the registry store (spec REST-REGISTRY §3), over every registered backend.

Backends come from :mod:`tests.support.registry_stores`: SQLite, PostgreSQL, MariaDB and the REST
store in front of a live server. Each rule of §3 has a test here, plus mltrail's alias history.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from mltrail.registry.entities import AliasAction, ModelVersionStatus, RegisteredModelAlias
from mltrail.registry.store.base import RegistryStore
from mltrail.tracking.entities import Run
from tests.support.registry_stores import REGISTRY_FACTORIES, RegistryBackend, open_registry

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(
    params=[pytest.param(name, marks=list(f.marks), id=name) for name, f in REGISTRY_FACTORIES.items()]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RegistryBackend]:
    with open_registry(str(request.param), tmp_path) as opened:
        yield opened


@pytest.fixture
def store(backend: RegistryBackend) -> RegistryStore:
    return backend.registry


def _run(backend: RegistryBackend) -> Run:
    return backend.tracking.create_run("0", user_id="tester")


def _versions(store: RegistryStore, name: str, count: int) -> list[str]:
    store.create_registered_model(name)
    return [store.create_model_version(name, f"s3://bucket/{name}/{i}").version for i in range(count)]


# -- registered models ------------------------------------------------------------------------


def test_create_and_get_registered_model(store: RegistryStore) -> None:
    created = store.create_registered_model("Model A", tags={"k": "v", "team": "x"}, description="first")
    got = store.get_registered_model("Model A")
    assert got.name == created.name == "Model A"
    assert got.description == "first"
    assert got.tags == {"k": "v", "team": "x"}
    assert got.creation_timestamp == got.last_updated_timestamp > 0
    assert got.latest_versions == () and got.aliases == ()


@pytest.mark.parametrize("bad", ["", "   ", "a/b", "a:b", "..", "./x"])
def test_invalid_model_names_are_rejected(store: RegistryStore, bad: str) -> None:
    with pytest.raises(InvalidArgumentError):
        store.create_registered_model(bad)


def test_names_are_case_sensitive_and_unique(store: RegistryStore) -> None:
    store.create_registered_model("m")
    store.create_registered_model("M")
    with pytest.raises(AlreadyExistsError, match="already exists"):
        store.create_registered_model("m")


def test_unknown_model_is_not_found(store: RegistryStore) -> None:
    with pytest.raises(NotFoundError, match="name=nope not found"):
        store.get_registered_model("nope")
    with pytest.raises(NotFoundError):
        store.get_latest_versions("nope")
    with pytest.raises(NotFoundError):
        store.create_model_version("nope", "s3://b/x")


def test_rename_cascades_to_versions_tags_and_aliases(store: RegistryStore) -> None:
    _versions(store, "old", 2)
    store.set_registered_model_tag("old", "k", "v")
    store.set_model_version_tag("old", 1, "vt", "1")
    store.set_registered_model_alias("old", "champ", 2)
    renamed = store.rename_registered_model("old", "new")
    assert renamed.name == "new"
    assert renamed.tags == {"k": "v"}
    assert renamed.aliases == (RegisteredModelAlias("champ", "2"),)
    assert store.get_model_version("new", 1).tags == {"vt": "1"}
    assert store.get_model_version_by_alias("new", "champ").name == "new"
    assert [e.name for e in store.get_alias_history("new")] == ["new"]
    with pytest.raises(NotFoundError):
        store.get_registered_model("old")
    with pytest.raises(NotFoundError):
        store.get_model_version("old", 1)


def test_rename_onto_existing_name_fails(store: RegistryStore) -> None:
    store.create_registered_model("a")
    store.create_registered_model("b")
    with pytest.raises(AlreadyExistsError):
        store.rename_registered_model("a", "b")
    with pytest.raises(InvalidArgumentError):
        store.rename_registered_model("a", "x/y")
    with pytest.raises(NotFoundError):
        store.rename_registered_model("zzz", "c")


def test_update_description_bumps_timestamp(store: RegistryStore) -> None:
    created = store.create_registered_model("m", description="d1")
    time.sleep(0.01)
    updated = store.update_registered_model("m", "d2")
    assert updated.description == "d2"
    assert updated.last_updated_timestamp > created.last_updated_timestamp
    assert store.update_registered_model("m", None).description is None


def test_delete_registered_model_removes_everything(store: RegistryStore) -> None:
    _versions(store, "m", 2)
    store.set_registered_model_alias("m", "a", 1)
    store.delete_registered_model("m")
    with pytest.raises(NotFoundError):
        store.get_registered_model("m")
    with pytest.raises(NotFoundError):
        store.delete_registered_model("m")
    assert store.search_model_versions("name = 'm'").items == []
    store.create_registered_model("m")
    assert store.get_alias_history("m") == []
    assert store.create_model_version("m", "s3://b/x").version == "1"


# -- model versions ---------------------------------------------------------------------------


def test_versions_count_up_and_bump_the_model(store: RegistryStore) -> None:
    created = store.create_registered_model("m")
    time.sleep(0.01)
    v1 = store.create_model_version("m", "s3://b/1", tags={"a": "1"}, description="desc", run_link="http://x")
    v2 = store.create_model_version("m", "s3://b/2")
    assert (v1.version, v2.version) == ("1", "2")
    assert v1.status is ModelVersionStatus.READY
    assert v1.current_stage == "None"
    assert v1.tags == {"a": "1"} and v1.description == "desc" and v1.run_link == "http://x"
    assert store.get_registered_model("m").last_updated_timestamp > created.last_updated_timestamp


def test_version_numbers_are_never_reused(store: RegistryStore) -> None:
    _versions(store, "m", 3)
    store.delete_model_version("m", 3)
    store.delete_model_version("m", 2)
    assert store.create_model_version("m", "s3://b/new").version == "4"


def test_bad_and_unknown_versions(store: RegistryStore) -> None:
    _versions(store, "m", 1)
    with pytest.raises(InvalidArgumentError, match="must be an integer"):
        store.get_model_version("m", "abc")
    with pytest.raises(NotFoundError, match=r"name=m, version=7"):
        store.get_model_version("m", 7)
    with pytest.raises(NotFoundError):
        store.set_model_version_tag("m", 7, "k", "v")


def test_deleted_version_is_invisible_and_loses_its_aliases(store: RegistryStore) -> None:
    _versions(store, "m", 2)
    store.set_registered_model_alias("m", "champ", 2)
    store.transition_model_version_stage("m", 2, "Production")
    store.delete_model_version("m", 2)
    with pytest.raises(NotFoundError):
        store.get_model_version("m", 2)
    with pytest.raises(NotFoundError):
        store.delete_model_version("m", 2)
    assert [v.version for v in store.search_model_versions("name = 'm'")] == ["1"]
    assert store.get_latest_versions("m", ["Production"]) == []
    assert store.get_registered_model("m").aliases == ()
    with pytest.raises(InvalidArgumentError, match="alias champ not found"):
        store.get_model_version_by_alias("m", "champ")
    last = store.get_alias_history("m", "champ")[-1]
    assert (last.action, last.from_version, last.to_version) == (AliasAction.VERSION_DELETED, "2", None)


def test_update_model_version(store: RegistryStore) -> None:
    _versions(store, "m", 1)
    before = store.get_model_version("m", 1)
    time.sleep(0.01)
    after = store.update_model_version("m", "1", "new text")
    assert after.description == "new text"
    assert after.last_updated_timestamp > before.last_updated_timestamp
    with pytest.raises(NotFoundError):
        store.update_model_version("m", 9, "x")


def test_concurrent_registrations_get_distinct_numbers(store: RegistryStore) -> None:
    store.create_registered_model("m")
    numbers: list[str] = []
    errors: list[BaseException] = []

    def register() -> None:
        try:
            for _ in range(4):
                numbers.append(store.create_model_version("m", "s3://b/x").version)
        except BaseException as exc:  # collected and re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=register) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(int(n) for n in numbers) == list(range(1, 17))


# -- stages -----------------------------------------------------------------------------------


def test_transition_is_case_insensitive_and_validated(store: RegistryStore) -> None:
    _versions(store, "m", 1)
    assert store.transition_model_version_stage("m", 1, "staging").current_stage == "Staging"
    assert store.transition_model_version_stage("m", 1, "PRODUCTION").current_stage == "Production"
    with pytest.raises(InvalidArgumentError, match="Invalid Model Version stage"):
        store.transition_model_version_stage("m", 1, "Live")
    with pytest.raises(NotFoundError):
        store.transition_model_version_stage("m", 5, "Staging")


def test_archive_existing_versions_moves_others_in_target_stage(store: RegistryStore) -> None:
    _versions(store, "m", 3)
    store.transition_model_version_stage("m", 1, "Production")
    store.transition_model_version_stage("m", 2, "Staging")
    before = store.get_model_version("m", 1)
    time.sleep(0.01)
    moved = store.transition_model_version_stage("m", 3, "Production", archive_existing_versions=True)
    assert moved.current_stage == "Production"
    archived = store.get_model_version("m", 1)
    assert archived.current_stage == "Archived"
    assert archived.last_updated_timestamp > before.last_updated_timestamp
    assert store.get_model_version("m", 2).current_stage == "Staging"


@pytest.mark.parametrize("stage", ["Archived", "None"])
def test_archive_existing_needs_an_active_target_stage(store: RegistryStore, stage: str) -> None:
    _versions(store, "m", 2)
    with pytest.raises(InvalidArgumentError, match="Staging and Production"):
        store.transition_model_version_stage("m", 1, stage, archive_existing_versions=True)
    assert store.get_model_version("m", 1).current_stage == "None"


def test_latest_versions_per_stage(store: RegistryStore) -> None:
    _versions(store, "m", 5)
    store.transition_model_version_stage("m", 1, "Production")
    store.transition_model_version_stage("m", 2, "Production")
    store.transition_model_version_stage("m", 3, "Staging")
    latest = {v.current_stage: v.version for v in store.get_latest_versions("m")}
    assert latest == {"Production": "2", "Staging": "3", "None": "5"}
    assert [v.version for v in store.get_latest_versions("m", ["production"])] == ["2"]
    assert store.get_latest_versions("m", ["Archived"]) == []
    with pytest.raises(InvalidArgumentError):
        store.get_latest_versions("m", ["Bogus"])
    model = store.get_registered_model("m")
    assert sorted(v.version for v in model.latest_versions) == ["2", "3", "5"]


# -- tags -------------------------------------------------------------------------------------


def test_tags_upsert_and_delete_missing_is_ok(store: RegistryStore) -> None:
    _versions(store, "m", 1)
    store.set_registered_model_tag("m", "k", "1")
    store.set_registered_model_tag("m", "k", "2")
    store.set_model_version_tag("m", 1, "k", "a")
    store.set_model_version_tag("m", "1", "k", "b")
    assert store.get_registered_model("m").tags == {"k": "2"}
    assert store.get_model_version("m", 1).tags == {"k": "b"}
    store.delete_registered_model_tag("m", "k")
    store.delete_registered_model_tag("m", "missing")
    store.delete_model_version_tag("m", 1, "k")
    store.delete_model_version_tag("m", 1, "missing")
    assert store.get_registered_model("m").tags == {}
    assert store.get_model_version("m", 1).tags == {}
    with pytest.raises(NotFoundError):
        store.delete_registered_model_tag("nope", "k")
    with pytest.raises(NotFoundError):
        store.delete_model_version_tag("m", 3, "k")


def test_tag_limits(store: RegistryStore) -> None:
    _versions(store, "m", 1)
    store.set_registered_model_tag("m", "big", "x" * 100_000)
    assert len(store.get_registered_model("m").tags["big"]) == 100_000
    with pytest.raises(InvalidArgumentError):
        store.set_registered_model_tag("m", "big", "x" * 100_001)
    with pytest.raises(InvalidArgumentError):
        store.set_model_version_tag("m", 1, "k" * 251, "v")
    with pytest.raises(InvalidArgumentError):
        store.set_model_version_tag("m", 1, "../escape", "v")


# -- aliases ----------------------------------------------------------------------------------


def test_alias_set_move_get_and_delete(store: RegistryStore) -> None:
    _versions(store, "m", 2)
    store.set_registered_model_alias("m", "champ", 1)
    assert store.get_model_version_by_alias("m", "champ").version == "1"
    store.set_registered_model_alias("m", "champ", "2")
    assert store.get_model_version_by_alias("m", "champ").version == "2"
    assert store.get_model_version("m", 2).aliases == ("champ",)
    assert store.get_model_version("m", 1).aliases == ()
    assert store.get_registered_model("m").aliases == (RegisteredModelAlias("champ", "2"),)
    store.delete_registered_model_alias("m", "champ")
    store.delete_registered_model_alias("m", "champ")
    with pytest.raises(InvalidArgumentError, match="not found"):
        store.get_model_version_by_alias("m", "champ")


@pytest.mark.parametrize("alias", ["latest", "LATEST", "v1", "V12", "bad alias", "a/b", "", "x" * 256])
def test_reserved_and_invalid_alias_names(store: RegistryStore, alias: str) -> None:
    _versions(store, "m", 1)
    with pytest.raises(InvalidArgumentError):
        store.set_registered_model_alias("m", alias, 1)


def test_alias_needs_existing_model_and_version(store: RegistryStore) -> None:
    _versions(store, "m", 1)
    with pytest.raises(NotFoundError):
        store.set_registered_model_alias("m", "a", 4)
    with pytest.raises(NotFoundError):
        store.set_registered_model_alias("nope", "a", 1)
    with pytest.raises(NotFoundError):
        store.get_model_version_by_alias("nope", "a")


def test_latest_alias_on_get(store: RegistryStore) -> None:
    store.create_registered_model("empty")
    with pytest.raises(NotFoundError):
        store.get_model_version_by_alias("empty", "latest")
    _versions(store, "m", 3)
    store.transition_model_version_stage("m", 3, "Archived")
    assert store.get_model_version_by_alias("m", "Latest").version == "3"


# -- alias history and rollback (mltrail) -----------------------------------------------------


def test_alias_moves_are_recorded(store: RegistryStore) -> None:
    _versions(store, "m", 3)
    store.set_registered_model_alias("m", "champ", 1, user_id="alice", reason="first model")
    store.set_registered_model_alias("m", "champ", 2, user_id="bob")
    store.set_registered_model_alias("m", "champ", 2, user_id="bob")  # no move: not recorded
    store.set_registered_model_alias("m", "other", 3)
    store.delete_registered_model_alias("m", "champ", user_id="carol", reason="retired")
    champ = store.get_alias_history("m", "champ")
    assert [(e.action, e.from_version, e.to_version, e.user_id, e.reason) for e in champ] == [
        (AliasAction.SET, None, "1", "alice", "first model"),
        (AliasAction.SET, "1", "2", "bob", None),
        (AliasAction.DELETE, "2", None, "carol", "retired"),
    ]
    assert all(e.timestamp > 0 for e in champ)
    assert [e.event_id for e in champ] == sorted(e.event_id for e in champ)
    assert {e.alias for e in store.get_alias_history("m")} == {"champ", "other"}
    with pytest.raises(NotFoundError):
        store.get_alias_history("nope")


def test_rollback_to_previous_and_to_explicit_version(store: RegistryStore) -> None:
    _versions(store, "m", 3)
    for v in (1, 2, 3):
        store.set_registered_model_alias("m", "champ", v, user_id="alice")
    event = store.rollback_registered_model_alias("m", "champ", user_id="bob", reason="v3 regressed")
    assert (event.action, event.from_version, event.to_version) == (AliasAction.ROLLBACK, "3", "2")
    assert (event.user_id, event.reason) == ("bob", "v3 regressed")
    assert store.get_model_version_by_alias("m", "champ").version == "2"
    event = store.rollback_registered_model_alias("m", "champ", to_version=1)
    assert (event.from_version, event.to_version) == ("2", "1")
    assert store.get_model_version_by_alias("m", "champ").version == "1"
    assert store.get_alias_history("m", "champ")[-1] == event
    with pytest.raises(InvalidArgumentError):
        store.rollback_registered_model_alias("m", "champ", to_version=4)


def test_rollback_restores_a_deleted_alias_and_refuses_deleted_targets(store: RegistryStore) -> None:
    _versions(store, "m", 2)
    store.set_registered_model_alias("m", "champ", 1)
    store.delete_registered_model_alias("m", "champ")
    assert store.rollback_registered_model_alias("m", "champ").to_version == "1"
    store.set_registered_model_alias("m", "champ", 2)
    store.delete_model_version("m", 1)
    with pytest.raises(NotFoundError):
        store.rollback_registered_model_alias("m", "champ")
    with pytest.raises(InvalidArgumentError):
        store.rollback_registered_model_alias("m", "never-set")


# -- search -----------------------------------------------------------------------------------


def _search_fixture(store: RegistryStore) -> None:
    store.create_registered_model("alpha", tags={"team": "red"})
    store.create_registered_model("Beta", tags={"team": "Blue"})
    store.create_registered_model("gamma")
    store.create_model_version("alpha", "s3://b/a1", run_id=None, tags={"t": "x"})
    store.create_model_version("alpha", "s3://b/a2")
    store.create_model_version("Beta", "s3://b/b1")


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        (None, ["Beta", "alpha", "gamma"]),
        ("name = 'alpha'", ["alpha"]),
        ("name != 'alpha'", ["Beta", "gamma"]),
        ("name LIKE 'a%'", ["alpha"]),
        ("name LIKE 'b%'", []),
        ("name ILIKE 'b%'", ["Beta"]),
        ("name IN ('alpha', 'gamma')", ["alpha", "gamma"]),
        ("name NOT IN ('alpha')", ["Beta", "gamma"]),
        ("tags.team = 'red'", ["alpha"]),
        ("tags.team != 'red'", ["Beta"]),
        ("tags.team LIKE 'B%'", ["Beta"]),
        ("tags.team ILIKE 'b%'", ["Beta"]),
        ("name LIKE '%a%' AND tags.team = 'red'", ["alpha"]),
    ],
)
def test_search_registered_models_filters(
    store: RegistryStore, filter_string: str | None, expected: list[str]
) -> None:
    _search_fixture(store)
    assert [m.name for m in store.search_registered_models(filter_string)] == expected


def test_search_registered_models_order_and_paging(store: RegistryStore) -> None:
    _search_fixture(store)
    time.sleep(0.01)
    store.set_registered_model_tag("gamma", "k", "v")
    store.update_registered_model("Beta", "touched")
    names = [m.name for m in store.search_registered_models(order_by=["last_updated_timestamp DESC"])]
    assert names[0] == "Beta"
    assert [m.name for m in store.search_registered_models(order_by=["name DESC"])] == [
        "gamma",
        "alpha",
        "Beta",
    ]
    assert [m.name for m in store.search_registered_models(order_by=["timestamp ASC"])][-1] == "Beta"
    first = store.search_registered_models(max_results=2)
    assert [m.name for m in first] == ["Beta", "alpha"] and first.next_page_token
    second = store.search_registered_models(max_results=2, page_token=first.next_page_token)
    assert [m.name for m in second] == ["gamma"] and second.next_page_token is None
    assert {v.version for v in first.items[1].latest_versions} == {"2"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"order_by": ["creation_timestamp"]}, "creation_timestamp"),
        ({"max_results": 1001}, "max_results"),
        ({"max_results": 0}, "max_results"),
        ({"filter_string": "name = 'a' OR name = 'b'"}, "OR"),
        ({"filter_string": "run_id = 'x'"}, "attribute"),
        ({"filter_string": "tags.k IS NULL"}, "comparator"),
        ({"page_token": "garbage!"}, "page token"),
    ],
)
def test_search_registered_models_rejects_bad_input(
    store: RegistryStore, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        store.search_registered_models(**kwargs)  # type: ignore[arg-type]


def test_search_excludes_prompts_unless_asked(store: RegistryStore) -> None:
    store.create_registered_model("model")
    store.create_registered_model("prompt", tags={"mlflow.prompt.is_prompt": "true"})
    store.create_model_version("prompt", "s3://b/p", tags={"mlflow.prompt.is_prompt": "true"})
    assert [m.name for m in store.search_registered_models()] == ["model"]
    asked = store.search_registered_models("tags.`mlflow.prompt.is_prompt` = 'true'")
    assert [m.name for m in asked] == ["prompt"]
    assert store.search_model_versions().items == []
    assert len(store.search_model_versions("tags.`mlflow.prompt.is_prompt` = 'true'").items) == 1
    # MLflow clients add this clause to every search; models without the tag still match.
    added = "name LIKE '%' AND tags.`mlflow.prompt.is_prompt` != 'true'"
    assert [m.name for m in store.search_registered_models(added)] == ["model"]
    assert [m.name for m in store.search_registered_models("tags.`mlflow.prompt.is_prompt` != 'false'")] == [
        "prompt"
    ]


def test_search_model_versions_filters(backend: RegistryBackend, store: RegistryStore) -> None:
    run = _run(backend)
    store.create_registered_model("alpha")
    store.create_registered_model("beta")
    source = f"runs:/{run.info.run_id}/model"
    store.create_model_version("alpha", source, run_id=run.info.run_id, tags={"t": "x"})
    time.sleep(0.01)
    v2 = store.create_model_version("alpha", "s3://bucket/Other")
    store.create_model_version("beta", "s3://bucket/b")

    def found(f: str) -> list[tuple[str, str]]:
        return sorted((v.name, v.version) for v in store.search_model_versions(f))

    assert found("name = 'alpha'") == [("alpha", "1"), ("alpha", "2")]
    assert found("name != 'alpha'") == [("beta", "1")]
    assert found("name IN ('beta')") == [("beta", "1")]
    assert found("name NOT IN ('beta')") == [("alpha", "1"), ("alpha", "2")]
    assert found(f"run_id = '{run.info.run_id}'") == [("alpha", "1")]
    assert found(f"run_id IN ('{run.info.run_id}', 'zzz')") == [("alpha", "1")]
    assert found("source_path = 's3://bucket/b'") == [("beta", "1")]
    assert found("source_path LIKE 's3://bucket/%'") == [("alpha", "2"), ("beta", "1")]
    assert found("source_path ILIKE '%other'") == [("alpha", "2")]
    assert found("version_number = 2") == [("alpha", "2")]
    assert found("version_number > 1") == [("alpha", "2")]
    assert found("version_number <= 1") == [("alpha", "1"), ("beta", "1")]
    assert found(f"creation_timestamp >= {v2.creation_timestamp}") == [("alpha", "2"), ("beta", "1")]
    assert found(f"last_updated_timestamp < {v2.creation_timestamp}") == [("alpha", "1")]
    assert found("tags.t = 'x'") == [("alpha", "1")]
    assert found("tags.t LIKE 'x%' AND name = 'alpha'") == [("alpha", "1")]
    with pytest.raises(InvalidArgumentError):
        store.search_model_versions("version_number = 'x'")
    with pytest.raises(InvalidArgumentError):
        store.search_model_versions("source_path IN ('a')")


def test_search_model_versions_order_and_paging(store: RegistryStore) -> None:
    _versions(store, "a", 2)
    _versions(store, "b", 1)
    default = [(v.name, v.version) for v in store.search_model_versions()]
    assert default[0] == ("b", "1")
    ordered = [
        (v.name, v.version) for v in store.search_model_versions(order_by=["name", "version_number DESC"])
    ]
    assert ordered == [("a", "2"), ("a", "1"), ("b", "1")]
    page = store.search_model_versions(max_results=2, order_by=["version_number"])
    assert len(page) == 2 and page.next_page_token
    rest = store.search_model_versions(
        max_results=2, order_by=["version_number"], page_token=page.next_page_token
    )
    assert len(rest) == 1 and rest.next_page_token is None
    with pytest.raises(InvalidArgumentError):
        store.search_model_versions(max_results=200_001)
    with pytest.raises(InvalidArgumentError):
        store.search_model_versions(order_by=["source_path"])


# -- sources and download URIs ------------------------------------------------------------------


def test_source_inside_the_run_is_accepted(backend: RegistryBackend, store: RegistryStore) -> None:
    run = _run(backend)
    store.create_registered_model("m")
    inside = f"{run.info.artifact_uri}/model"
    v = store.create_model_version("m", inside, run_id=run.info.run_id)
    assert v.run_id == run.info.run_id
    assert store.get_model_version_download_uri("m", v.version) == inside
    runs_uri = f"runs:/{run.info.run_id}/model"
    assert store.create_model_version("m", runs_uri, run_id=run.info.run_id).source == runs_uri
    assert store.get_model_version_download_uri("m", 2) == runs_uri
    assert store.create_model_version("m", "s3://bucket/any/path").run_id is None


@pytest.mark.parametrize(
    "make_source",
    [
        lambda run, other: f"{other.info.artifact_uri}/model",
        lambda run, other: f"runs:/{other.info.run_id}/model",
        lambda run, other: f"{run.info.artifact_uri}/../../escape",
        lambda run, other: f"{run.info.artifact_uri}/%2e%2e/%2e%2e/escape",
        lambda run, other: "s3://bucket/a/../b",
        lambda run, other: "/etc/passwd",
        lambda run, other: "file:///etc/passwd",
        lambda run, other: "mlflow-artifacts:/elsewhere/model",
        lambda run, other: "models://remote/m/1",
    ],
)
def test_sources_breaking_the_rules_are_rejected(
    backend: RegistryBackend, store: RegistryStore, make_source: object
) -> None:
    run, other = _run(backend), _run(backend)
    store.create_registered_model("m")
    source = make_source(run, other)  # type: ignore[operator]
    with pytest.raises(InvalidArgumentError, match="Invalid model version source"):
        store.create_model_version("m", source, run_id=run.info.run_id)


def test_runs_source_needs_matching_run_id(backend: RegistryBackend, store: RegistryStore) -> None:
    run = _run(backend)
    store.create_registered_model("m")
    with pytest.raises(InvalidArgumentError):
        store.create_model_version("m", f"runs:/{run.info.run_id}/model")


def test_models_source_resolves_to_the_referenced_version(
    backend: RegistryBackend, store: RegistryStore
) -> None:
    run = _run(backend)
    store.create_registered_model("base")
    store.create_model_version("base", f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    store.set_registered_model_alias("base", "champ", 1)
    store.create_registered_model("copy")
    v = store.create_model_version("copy", "models:/base@champ")
    assert v.source == "models:/base/1"
    assert v.run_id == run.info.run_id
    assert store.get_model_version_download_uri("copy", v.version) == f"runs:/{run.info.run_id}/model"
    with pytest.raises(InvalidArgumentError):
        store.create_model_version("copy", "models:/base/1", run_id="0" * 32)
    with pytest.raises(InvalidArgumentError):
        store.create_model_version("copy", "models:/base/9")
