"""Tracking store contract: experiments (create, read, rename, delete/restore, tags, search)."""

from __future__ import annotations

import pytest

from mltrail.errors import AlreadyExistsError, InvalidArgumentError, InvalidStateError, NotFoundError
from mltrail.tracking.entities import LifecycleStage, ViewType
from mltrail.tracking.store.base import TrackingStore
from tests.contract._helpers import new_experiment, new_run


def test_default_experiment_exists(tracking_store: TrackingStore) -> None:
    default = tracking_store.get_experiment("0")
    assert default.name == "Default"
    assert default.lifecycle_stage is LifecycleStage.ACTIVE
    assert default.artifact_location.endswith("/0")
    assert "//0" not in default.artifact_location
    assert tracking_store.get_experiment_by_name("Default").experiment_id == "0"


def test_create_and_get(tracking_store: TrackingStore) -> None:
    exp_id = tracking_store.create_experiment("first", tags=[("team", "vision"), ("k", "v")])
    assert int(exp_id) > 0
    exp = tracking_store.get_experiment(exp_id)
    assert exp.experiment_id == exp_id
    assert exp.name == "first"
    assert exp.tags == {"team": "vision", "k": "v"}
    assert exp.artifact_location == tracking_store.get_experiment("0").artifact_location[:-1] + exp_id
    assert exp.creation_time is not None and exp.creation_time == exp.last_update_time
    assert tracking_store.get_experiment_by_name("first") == exp


def test_create_with_artifact_location(tracking_store: TrackingStore) -> None:
    exp_id = tracking_store.create_experiment("located", artifact_location="s3://bucket/path")
    assert tracking_store.get_experiment(exp_id).artifact_location == "s3://bucket/path"
    run = tracking_store.create_run(exp_id, start_time=1)
    assert run.info.artifact_uri == f"s3://bucket/path/{run.info.run_id}/artifacts"


def test_ids_are_increasing_integers(tracking_store: TrackingStore) -> None:
    ids = [int(new_experiment(tracking_store)) for _ in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3


@pytest.mark.parametrize("delete_first", [False, True])
def test_duplicate_name_rejected(tracking_store: TrackingStore, delete_first: bool) -> None:
    exp_id = tracking_store.create_experiment("dup")
    if delete_first:
        tracking_store.delete_experiment(exp_id)
    with pytest.raises(AlreadyExistsError):
        tracking_store.create_experiment("dup")


def test_names_are_case_sensitive(tracking_store: TrackingStore) -> None:
    a = tracking_store.create_experiment("Case")
    b = tracking_store.create_experiment("case")
    assert a != b
    assert tracking_store.get_experiment_by_name("case").experiment_id == b


@pytest.mark.parametrize("name", ["", "x" * 501])
def test_invalid_names(tracking_store: TrackingStore, name: str) -> None:
    with pytest.raises(InvalidArgumentError):
        tracking_store.create_experiment(name)


def test_name_of_500_chars_accepted(tracking_store: TrackingStore) -> None:
    exp_id = tracking_store.create_experiment("n" * 500)
    assert tracking_store.get_experiment(exp_id).name == "n" * 500


@pytest.mark.parametrize("location", ["runs:/abc/artifacts", "s3://bucket/p#frag", "/x" * 1025])
def test_invalid_artifact_locations(tracking_store: TrackingStore, location: str) -> None:
    with pytest.raises(InvalidArgumentError):
        tracking_store.create_experiment("bad-location", artifact_location=location)


def test_unknown_experiment(tracking_store: TrackingStore) -> None:
    with pytest.raises(NotFoundError):
        tracking_store.get_experiment("987654")
    with pytest.raises(NotFoundError):
        tracking_store.get_experiment_by_name("nope")
    with pytest.raises(InvalidArgumentError, match="must be a valid integer"):
        tracking_store.get_experiment("abc")


def test_delete_and_restore_cascade_to_runs(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    run = new_run(tracking_store, exp_id)
    before = tracking_store.get_experiment(exp_id)
    tracking_store.delete_experiment(exp_id)
    exp = tracking_store.get_experiment(exp_id)
    assert exp.lifecycle_stage is LifecycleStage.DELETED
    assert exp.last_update_time is not None and before.last_update_time is not None
    assert exp.last_update_time >= before.last_update_time
    assert tracking_store.get_experiment_by_name(exp.name).lifecycle_stage is LifecycleStage.DELETED
    assert tracking_store.get_run(run.info.run_id).info.lifecycle_stage is LifecycleStage.DELETED
    assert run.info.run_id in tracking_store.list_deleted_runs()
    with pytest.raises(NotFoundError):
        tracking_store.delete_experiment(exp_id)

    tracking_store.restore_experiment(exp_id)
    assert tracking_store.get_experiment(exp_id).lifecycle_stage is LifecycleStage.ACTIVE
    assert tracking_store.get_run(run.info.run_id).info.lifecycle_stage is LifecycleStage.ACTIVE
    with pytest.raises(NotFoundError):
        tracking_store.restore_experiment(exp_id)


def test_delete_and_restore_unknown(tracking_store: TrackingStore) -> None:
    with pytest.raises(NotFoundError):
        tracking_store.delete_experiment("424242")
    with pytest.raises(NotFoundError):
        tracking_store.restore_experiment("424242")


def test_deleted_experiment_refuses_new_runs_and_tags(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    tracking_store.set_experiment_tag(exp_id, "k", "v")
    tracking_store.delete_experiment(exp_id)
    with pytest.raises(InvalidArgumentError, match="active"):
        tracking_store.create_run(exp_id)
    with pytest.raises(InvalidArgumentError):
        tracking_store.set_experiment_tag(exp_id, "k", "w")
    with pytest.raises(NotFoundError):
        tracking_store.create_run("777777")


def test_rename(tracking_store: TrackingStore) -> None:
    exp_id = tracking_store.create_experiment("old")
    other = tracking_store.create_experiment("other")
    tracking_store.rename_experiment(exp_id, "new")
    assert tracking_store.get_experiment(exp_id).name == "new"
    with pytest.raises(NotFoundError):
        tracking_store.get_experiment_by_name("old")
    with pytest.raises(AlreadyExistsError):
        tracking_store.rename_experiment(exp_id, "other")
    tracking_store.delete_experiment(other)
    with pytest.raises(InvalidStateError):
        tracking_store.rename_experiment(other, "renamed")
    with pytest.raises(NotFoundError):
        tracking_store.rename_experiment("99999", "x")


def test_experiment_tags(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    tracking_store.set_experiment_tag(exp_id, "k", "v1")
    tracking_store.set_experiment_tag(exp_id, "k", "v2")
    tracking_store.set_experiment_tag(exp_id, "long", "x" * 20000)
    tags = tracking_store.get_experiment(exp_id).tags
    assert tags == {"k": "v2", "long": "x" * 20000}
    tracking_store.delete_experiment_tag(exp_id, "k")
    assert "k" not in tracking_store.get_experiment(exp_id).tags
    with pytest.raises(NotFoundError):
        tracking_store.delete_experiment_tag(exp_id, "k")
    with pytest.raises(InvalidArgumentError):
        tracking_store.set_experiment_tag(exp_id, "too-long", "x" * 20001)
    with pytest.raises(InvalidArgumentError):
        tracking_store.set_experiment_tag(exp_id, "k" * 251, "v")


def _names(store: TrackingStore, **kwargs: object) -> list[str]:
    return [e.name for e in store.search_experiments(**kwargs)]  # type: ignore[arg-type]


def test_search_view_types_and_default_order(tracking_store: TrackingStore) -> None:
    a = tracking_store.create_experiment("a")
    tracking_store.create_experiment("b")
    tracking_store.delete_experiment(a)
    active = _names(tracking_store)
    assert active[-1] == "Default"
    assert set(active) == {"b", "Default"}
    assert _names(tracking_store, view_type=ViewType.DELETED_ONLY) == ["a"]
    assert set(_names(tracking_store, view_type=ViewType.ALL)) == {"a", "b", "Default"}


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'alpha'", {"alpha"}),
        ("name != 'alpha'", {"beta", "gamma", "Default"}),
        ("name LIKE 'a%'", {"alpha"}),
        ("name LIKE 'A%'", set()),
        ("name ILIKE 'A%'", {"alpha"}),
        ("attributes.name ILIKE '%A'", {"alpha", "beta", "gamma"}),
        ("tags.team = 'x'", {"alpha"}),
        ("tags.team != 'x'", {"beta"}),
        ("tags.team LIKE 'y%'", {"beta"}),
        ("tags.team ILIKE 'X'", {"alpha"}),
        ("tags.team IS NULL", {"gamma", "Default"}),
        ("tags.team IS NOT NULL", {"alpha", "beta"}),
        ("tags.`team` = 'x' AND name = 'alpha'", {"alpha"}),
        ("tags.team = 'x' AND name = 'beta'", set()),
    ],
)
def test_search_filters(tracking_store: TrackingStore, filter_string: str, expected: set[str]) -> None:
    tracking_store.create_experiment("alpha", tags=[("team", "x")])
    tracking_store.create_experiment("beta", tags=[("team", "yz")])
    tracking_store.create_experiment("gamma")
    assert set(_names(tracking_store, filter_string=filter_string)) == expected


def test_search_by_id_and_times(tracking_store: TrackingStore) -> None:
    a = tracking_store.create_experiment("a")
    b = tracking_store.create_experiment("b")
    assert set(_names(tracking_store, filter_string=f"experiment_id = {a}")) == {"a"}
    assert set(_names(tracking_store, filter_string=f"experiment_id IN ({a}, '{b}')")) == {"a", "b"}
    assert set(_names(tracking_store, filter_string=f"experiment_id NOT IN ({a})")) == {"b", "Default"}
    created = tracking_store.get_experiment(b).creation_time
    assert created is not None
    assert "b" in _names(tracking_store, filter_string=f"creation_time >= {created}")
    assert _names(tracking_store, filter_string=f"creation_time > {created + 10**9}") == []
    assert "b" in _names(tracking_store, filter_string=f"last_update_time <= {created + 10**9}")


@pytest.mark.parametrize(
    "filter_string",
    ["name = 'a' OR name = 'b'", "name > 'a'", "tags.x > 'a'", "bogus = 'a'", "metrics.m > 1", "name = "],
)
def test_search_bad_filters(tracking_store: TrackingStore, filter_string: str) -> None:
    with pytest.raises(InvalidArgumentError):
        tracking_store.search_experiments(filter_string=filter_string)


def test_search_order_by(tracking_store: TrackingStore) -> None:
    for name in ("b", "c", "a"):
        tracking_store.create_experiment(name)
    assert _names(tracking_store, order_by=["name"]) == ["Default", "a", "b", "c"]
    assert _names(tracking_store, order_by=["name DESC"]) == ["c", "b", "a", "Default"]
    ids = [e.experiment_id for e in tracking_store.search_experiments(order_by=["experiment_id desc"])]
    assert ids == sorted(ids, key=int, reverse=True)
    by_creation = _names(tracking_store, order_by=["creation_time ASC"])
    assert by_creation[0] == "Default"
    with pytest.raises(InvalidArgumentError):
        tracking_store.search_experiments(order_by=["bogus"])
    with pytest.raises(InvalidArgumentError):
        tracking_store.search_experiments(order_by=["name", "name DESC"])


def test_search_paging(tracking_store: TrackingStore) -> None:
    for i in range(7):
        tracking_store.create_experiment(f"p{i}")
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = tracking_store.search_experiments(max_results=3, page_token=token, order_by=["name"])
        seen.extend(e.name for e in page)
        pages += 1
        token = page.next_page_token
        if token is None:
            break
    assert seen == ["Default"] + [f"p{i}" for i in range(7)]
    assert pages == 3
    with pytest.raises(InvalidArgumentError):
        tracking_store.search_experiments(page_token="not-a-token")
    for bad in (0, -1, 50001):
        with pytest.raises(InvalidArgumentError):
            tracking_store.search_experiments(max_results=bad)


def test_custom_view_tag_limit(tracking_store: TrackingStore) -> None:
    prefix = "mlflow.customView.view"
    with pytest.raises(InvalidArgumentError, match="maximum number of custom views"):
        tracking_store.create_experiment("too-many-views", tags=[(f"{prefix}{i}", "{}") for i in range(51)])
    exp_id = tracking_store.create_experiment("views", tags=[(f"{prefix}{i}", "{}") for i in range(49)])
    tracking_store.set_experiment_tag(exp_id, f"{prefix}49", "{}")
    tracking_store.set_experiment_tag(exp_id, f"{prefix}0", '{"edited": true}')
    tracking_store.set_experiment_tag(exp_id, "plain", "v")
    with pytest.raises(InvalidArgumentError, match="maximum number of custom views"):
        tracking_store.set_experiment_tag(exp_id, f"{prefix}50", "{}")
    tags = tracking_store.get_experiment(exp_id).tags
    assert sum(k.startswith(prefix) for k in tags) == 50
    assert tags[f"{prefix}0"] == '{"edited": true}'
