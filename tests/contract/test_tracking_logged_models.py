"""Tracking store contract: MLflow 3 logged models (create, read, finalize, delete, tags, params,
metrics logged with a model id, and search with filters, datasets, ordering and paging)."""

from __future__ import annotations

import json
import math
import re

import pytest

from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracking.entities import Metric
from mltrail.tracking.logged_models import (
    LoggedModel,
    LoggedModelParameter,
    LoggedModelRegistration,
    LoggedModelStatus,
    LoggedModelTag,
)
from mltrail.tracking.store.base import TrackingStore
from tests.contract._helpers import new_experiment, new_run


def _ids(models: list[LoggedModel]) -> list[str]:
    return [m.model_id for m in models]


def _all_pages(
    store: TrackingStore, experiment_ids: list[str], page_size: int, **kwargs: object
) -> list[str]:
    seen: list[str] = []
    token: str | None = None
    while True:
        page = store.search_logged_models(experiment_ids, max_results=page_size, page_token=token, **kwargs)  # type: ignore[arg-type]
        assert len(page.items) <= page_size
        seen.extend(_ids(page.items))
        token = page.next_page_token
        if token is None:
            return seen
        assert page.items, "a token never leads to an empty page"


def test_create_and_get(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    run = new_run(tracking_store, exp_id)
    model = tracking_store.create_logged_model(
        exp_id,
        name="classifier",
        source_run_id=run.info.run_id,
        tags=[LoggedModelTag("team", "ml"), LoggedModelTag("team", "ds")],
        params=[LoggedModelParameter("alpha", "0.1")],
        model_type="sklearn",
    )
    assert re.fullmatch(r"m-[0-9a-f]{32}", model.model_id)
    assert model.experiment_id == exp_id
    assert model.name == "classifier"
    assert model.status is LoggedModelStatus.PENDING
    assert model.source_run_id == run.info.run_id
    assert model.model_type == "sklearn"
    assert model.tags == {"team": "ds"}
    assert model.params == {"alpha": "0.1"}
    assert model.metrics == ()
    assert model.creation_timestamp_ms == model.last_updated_timestamp_ms > 0
    location = tracking_store.get_experiment(exp_id).artifact_location.rstrip("/")
    assert model.artifact_uri == f"{location}/models/{model.model_id}/artifacts"
    assert tracking_store.get_logged_model(model.model_id) == model


def test_create_generates_a_name_and_validates_the_given_one(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    unnamed = tracking_store.create_logged_model(exp_id)
    assert unnamed.name
    assert unnamed.model_type is None and unnamed.source_run_id is None
    for bad in ("a/b", "a:b", "a.b", "50%", 'say"hi', "it's"):
        with pytest.raises(InvalidArgumentError):
            tracking_store.create_logged_model(exp_id, name=bad)


def test_create_needs_an_active_experiment(tracking_store: TrackingStore) -> None:
    with pytest.raises(NotFoundError):
        tracking_store.create_logged_model("987654")
    exp_id = new_experiment(tracking_store)
    tracking_store.delete_experiment(exp_id)
    with pytest.raises(InvalidArgumentError):
        tracking_store.create_logged_model(exp_id, name="m")


def test_get_unknown_and_deleted(tracking_store: TrackingStore) -> None:
    with pytest.raises(NotFoundError):
        tracking_store.get_logged_model("m-" + "0" * 32)
    with pytest.raises(NotFoundError):
        tracking_store.delete_logged_model("m-" + "0" * 32)
    model = tracking_store.create_logged_model(new_experiment(tracking_store), name="gone")
    tracking_store.delete_logged_model(model.model_id)
    tracking_store.delete_logged_model(model.model_id)  # idempotent
    with pytest.raises(NotFoundError):
        tracking_store.get_logged_model(model.model_id)
    deleted = tracking_store.get_logged_model(model.model_id, allow_deleted=True)
    assert deleted.model_id == model.model_id and deleted.name == "gone"


def test_finalize(tracking_store: TrackingStore) -> None:
    model = tracking_store.create_logged_model(new_experiment(tracking_store))
    ready = tracking_store.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    assert ready.status is LoggedModelStatus.READY
    assert ready.last_updated_timestamp_ms >= model.last_updated_timestamp_ms
    assert tracking_store.get_logged_model(model.model_id).status is LoggedModelStatus.READY
    failed = tracking_store.finalize_logged_model(model.model_id, LoggedModelStatus.UPLOAD_FAILED)
    assert failed.status is LoggedModelStatus.UPLOAD_FAILED
    with pytest.raises(NotFoundError):
        tracking_store.finalize_logged_model("m-" + "1" * 32, LoggedModelStatus.READY)


def test_tags(tracking_store: TrackingStore) -> None:
    model = tracking_store.create_logged_model(
        new_experiment(tracking_store), tags=[LoggedModelTag("a", "1")]
    )
    tracking_store.set_logged_model_tags(
        model.model_id, [LoggedModelTag("a", "2"), LoggedModelTag("b/c", "3")]
    )
    assert tracking_store.get_logged_model(model.model_id).tags == {"a": "2", "b/c": "3"}
    tracking_store.delete_logged_model_tag(model.model_id, "b/c")
    assert tracking_store.get_logged_model(model.model_id).tags == {"a": "2"}
    with pytest.raises(NotFoundError):
        tracking_store.delete_logged_model_tag(model.model_id, "b/c")
    with pytest.raises(NotFoundError):
        tracking_store.set_logged_model_tags("m-" + "2" * 32, [LoggedModelTag("a", "1")])
    with pytest.raises(NotFoundError):
        tracking_store.delete_logged_model_tag("m-" + "2" * 32, "a")


def test_registrations_follow_the_model_versions_tag(tracking_store: TrackingStore) -> None:
    model = tracking_store.create_logged_model(new_experiment(tracking_store))
    versions = [{"name": "clf", "version": "1"}, {"name": "clf", "version": "2"}]
    tracking_store.set_logged_model_tags(
        model.model_id, [LoggedModelTag("mlflow.modelVersions", json.dumps(versions))]
    )
    got = tracking_store.get_logged_model(model.model_id)
    assert got.registrations == (LoggedModelRegistration("clf", "1"), LoggedModelRegistration("clf", "2"))


def test_params(tracking_store: TrackingStore) -> None:
    model = tracking_store.create_logged_model(
        new_experiment(tracking_store), params=[LoggedModelParameter("a", "1")]
    )
    many = [LoggedModelParameter(f"p{i}", str(i)) for i in range(150)]
    tracking_store.log_logged_model_params(model.model_id, [LoggedModelParameter("a", "1"), *many])
    params = tracking_store.get_logged_model(model.model_id).params
    assert len(params) == 151 and params["a"] == "1" and params["p149"] == "149"
    with pytest.raises(InvalidArgumentError):
        tracking_store.log_logged_model_params(model.model_id, [LoggedModelParameter("a", "changed")])
    assert tracking_store.get_logged_model(model.model_id).params["a"] == "1"
    with pytest.raises(NotFoundError):
        tracking_store.log_logged_model_params("m-" + "3" * 32, [LoggedModelParameter("a", "1")])


def test_metrics_logged_with_a_model_id_belong_to_the_model(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    run_id = new_run(tracking_store, exp_id).info.run_id
    model = tracking_store.create_logged_model(exp_id, source_run_id=run_id)
    other = tracking_store.create_logged_model(exp_id)
    tracking_store.log_batch(
        run_id,
        metrics=[
            Metric("acc", 0.5, 100, 0, dataset_name="eval", dataset_digest="d1", model_id=model.model_id),
            Metric("acc", 0.75, 200, 1, model_id=model.model_id),
            Metric("loss", math.nan, 200, 1, model_id=model.model_id),
            Metric("plain", 1.0, 100, 0),
        ],
    )
    tracking_store.log_metric(run_id, Metric("acc", 0.75, 200, 1, model_id=model.model_id))  # a repeat
    got = tracking_store.get_logged_model(model.model_id)
    points = sorted(got.metrics, key=lambda m: (m.key, m.timestamp))
    assert [(m.key, m.timestamp, m.step) for m in points] == [
        ("acc", 100, 0),
        ("acc", 200, 1),
        ("loss", 200, 1),
    ]
    assert points[0].value == 0.5 and points[1].value == 0.75 and math.isnan(points[2].value)
    assert points[0].dataset_name == "eval" and points[0].dataset_digest == "d1"
    assert points[1].dataset_name is None
    assert {m.run_id for m in points} == {run_id}
    assert {m.model_id for m in points} == {model.model_id}
    assert tracking_store.get_logged_model(other.model_id).metrics == ()
    # The run keeps its own metrics as before.
    assert tracking_store.get_run(run_id).data.metrics == {
        "acc": 0.75,
        "loss": pytest.approx(math.nan, nan_ok=True),
        "plain": 1.0,
    }


def test_metric_with_unknown_model_id_is_rejected_atomically(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    run_id = new_run(tracking_store, exp_id).info.run_id
    with pytest.raises(NotFoundError):
        tracking_store.log_batch(run_id, metrics=[Metric("acc", 1.0, 1, model_id="m-" + "4" * 32)])
    assert tracking_store.get_run(run_id).data.metrics == {}


# -- search -------------------------------------------------------------------------------------


@pytest.fixture
def populated(tracking_store: TrackingStore) -> tuple[TrackingStore, str, dict[str, LoggedModel]]:
    """Four models: metrics on datasets, params, tags and statuses to search by."""
    store = tracking_store
    exp_id = new_experiment(store)
    run_id = new_run(store, exp_id).info.run_id
    models: dict[str, LoggedModel] = {}
    specs = [
        ("alpha", "sklearn", {"lr": "0.1"}, {"stage": "dev"}, 0.9, "train"),
        ("beta", "sklearn", {"lr": "0.2"}, {"stage": "prod"}, 0.7, "eval"),
        ("gamma", "torch", {"lr": "0.1"}, {"stage": "Prod"}, None, None),
        ("delta", None, {}, {}, 0.8, "eval"),
    ]
    for name, model_type, params, tags, acc, dataset in specs:
        model = store.create_logged_model(
            exp_id,
            name=name,
            model_type=model_type,
            params=[LoggedModelParameter(k, v) for k, v in params.items()],
            tags=[LoggedModelTag(k, v) for k, v in tags.items()],
            source_run_id=run_id,
        )
        if acc is not None:
            store.log_batch(
                run_id,
                metrics=[
                    Metric(
                        "acc", 0.1, 1, 0, dataset_name=dataset, dataset_digest="dg", model_id=model.model_id
                    ),
                    Metric(
                        "acc", acc, 2, 1, dataset_name=dataset, dataset_digest="dg", model_id=model.model_id
                    ),
                ],
            )
        models[name] = model
    store.finalize_logged_model(models["alpha"].model_id, LoggedModelStatus.READY)
    store.finalize_logged_model(models["beta"].model_id, LoggedModelStatus.READY)
    return store, exp_id, models


def _names(store: TrackingStore, exp_id: str, **kwargs: object) -> list[str]:
    return [m.name for m in store.search_logged_models([exp_id], **kwargs)]  # type: ignore[arg-type]


def test_search_default_order_and_exclusions(
    populated: tuple[TrackingStore, str, dict[str, LoggedModel]],
) -> None:
    store, exp_id, models = populated
    found = store.search_logged_models([exp_id])
    expected = sorted(models.values(), key=lambda m: (-m.creation_timestamp_ms, m.model_id))
    assert _ids(found.items) == _ids(expected)
    assert found.next_page_token is None
    store.delete_logged_model(models["gamma"].model_id)
    assert sorted(_names(store, exp_id)) == ["alpha", "beta", "delta"]
    other = new_experiment(store)
    assert store.search_logged_models([other]).items == []
    assert len(store.search_logged_models([exp_id, other])) == 3
    with pytest.raises(InvalidArgumentError):
        store.search_logged_models([])


def test_search_filters(populated: tuple[TrackingStore, str, dict[str, LoggedModel]]) -> None:
    store, exp_id, models = populated
    assert _names(store, exp_id, filter_string="name = 'beta'") == ["beta"]
    assert sorted(_names(store, exp_id, filter_string="attributes.name LIKE '%a'")) == [
        "alpha",
        "beta",
        "delta",
        "gamma",
    ]
    assert sorted(_names(store, exp_id, filter_string="model_type = 'sklearn'")) == ["alpha", "beta"]
    assert sorted(_names(store, exp_id, filter_string="params.lr = '0.1'")) == ["alpha", "gamma"]
    assert sorted(_names(store, exp_id, filter_string="params.lr != '0.1'")) == ["beta"]
    assert _names(store, exp_id, filter_string="tags.stage = 'prod'") == ["beta"]
    assert sorted(_names(store, exp_id, filter_string="tags.stage ILIKE 'PROD'")) == ["beta", "gamma"]
    assert sorted(_names(store, exp_id, filter_string="metrics.acc > 0.75")) == ["alpha", "delta"]
    assert sorted(_names(store, exp_id, filter_string="metrics.acc < 0.2")) == ["alpha", "beta", "delta"]
    assert _names(store, exp_id, filter_string="metrics.acc > 0.75 AND params.lr = '0.1'") == ["alpha"]
    assert sorted(_names(store, exp_id, filter_string="status = 'LOGGED_MODEL_READY'")) == ["alpha", "beta"]
    assert sorted(_names(store, exp_id, filter_string="status != 'LOGGED_MODEL_READY'")) == ["delta", "gamma"]
    beta = models["beta"]
    assert _names(store, exp_id, filter_string=f"model_id = '{beta.model_id}'") == ["beta"]
    created = f"creation_timestamp >= {beta.creation_timestamp_ms}"
    assert set(_names(store, exp_id, filter_string=created)) >= {"beta"}
    assert _names(store, exp_id, filter_string="creation_time < 0") == []
    run_id = beta.source_run_id
    assert len(_names(store, exp_id, filter_string=f"source_run_id = '{run_id}'")) == 4


@pytest.mark.parametrize(
    "bad",
    [
        "name = ",
        "foo.bar = 'x'",
        "attributes.nope = 'x'",
        "metrics.acc = 'x'",
        "params.lr > '1'",
        "name = 'a' OR name = 'b'",
    ],
)
def test_search_rejects_bad_filters(
    populated: tuple[TrackingStore, str, dict[str, LoggedModel]], bad: str
) -> None:
    store, exp_id, _ = populated
    with pytest.raises(InvalidArgumentError):
        store.search_logged_models([exp_id], filter_string=bad)


def test_search_datasets(populated: tuple[TrackingStore, str, dict[str, LoggedModel]]) -> None:
    store, exp_id, _ = populated
    assert sorted(_names(store, exp_id, datasets=[{"dataset_name": "eval"}])) == ["beta", "delta"]
    both = [{"dataset_name": "eval"}, {"dataset_name": "train", "dataset_digest": "dg"}]
    assert sorted(_names(store, exp_id, datasets=both)) == ["alpha", "beta", "delta"]
    assert _names(store, exp_id, datasets=[{"dataset_name": "train", "dataset_digest": "other"}]) == []
    # Metric clauses consider only the points on the requested datasets.
    assert _names(store, exp_id, filter_string="metrics.acc > 0.75", datasets=[{"dataset_name": "eval"}]) == [
        "delta"
    ]
    with pytest.raises(InvalidArgumentError):
        store.search_logged_models([exp_id], datasets=[{"dataset_digest": "dg"}])


def test_search_order_by(populated: tuple[TrackingStore, str, dict[str, LoggedModel]]) -> None:
    store, exp_id, _ = populated
    assert _names(store, exp_id, order_by=[{"field_name": "name"}]) == ["alpha", "beta", "delta", "gamma"]
    assert _names(store, exp_id, order_by=[{"field_name": "name", "ascending": False}]) == [
        "gamma",
        "delta",
        "beta",
        "alpha",
    ]
    # Ordered by each model's latest point; models without the metric come last either way.
    assert _names(store, exp_id, order_by=[{"field_name": "metrics.acc", "ascending": False}]) == [
        "alpha",
        "delta",
        "beta",
        "gamma",
    ]
    assert _names(store, exp_id, order_by=[{"field_name": "metrics.acc"}]) == [
        "beta",
        "delta",
        "alpha",
        "gamma",
    ]
    eval_only = [{"field_name": "metrics.acc", "ascending": False, "dataset_name": "eval"}]
    assert _names(store, exp_id, order_by=eval_only)[:2] == ["delta", "beta"]
    by_type = _names(store, exp_id, order_by=[{"field_name": "model_type"}, {"field_name": "name"}])
    assert by_type == ["alpha", "beta", "gamma", "delta"]  # no type sorts last
    created = _names(store, exp_id, order_by=[{"field_name": "creation_time", "ascending": True}])
    assert sorted(created) == ["alpha", "beta", "delta", "gamma"]
    for bad in (
        {"field_name": "tags.stage"},
        {"field_name": "nope"},
        {"ascending": True},
        {"field_name": "name", "dataset_digest": "dg"},
    ):
        with pytest.raises(InvalidArgumentError):
            store.search_logged_models([exp_id], order_by=[bad])


def test_search_pages_visit_every_model_once(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    created = {tracking_store.create_logged_model(exp_id, name=f"m{i}").model_id for i in range(7)}
    for size in (1, 2, 3, 7):
        seen = _all_pages(tracking_store, [exp_id], size)
        assert len(seen) == len(set(seen)) == 7 and set(seen) == created
    ordered = _all_pages(tracking_store, [exp_id], 2, order_by=[{"field_name": "name", "ascending": False}])
    assert ordered == _ids(
        tracking_store.search_logged_models(
            [exp_id], order_by=[{"field_name": "name", "ascending": False}]
        ).items
    )
    assert len(tracking_store.search_logged_models([exp_id], max_results=None)) == 7


def test_search_page_token_is_bound_to_its_search(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    other = new_experiment(tracking_store)
    for i in range(3):
        tracking_store.create_logged_model(exp_id, name=f"m{i}", params=[LoggedModelParameter("k", "v")])
    token = tracking_store.search_logged_models(
        [exp_id], filter_string="params.k = 'v'", max_results=1
    ).next_page_token
    assert token
    second = tracking_store.search_logged_models(
        [exp_id], filter_string="params.k = 'v'", max_results=1, page_token=token
    )
    assert len(second) == 1
    same_filter = "params.k = 'v'"
    for kwargs in (
        {"experiment_ids": [other], "filter_string": same_filter},
        {"experiment_ids": [exp_id], "filter_string": None},
        {"experiment_ids": [exp_id], "filter_string": same_filter, "order_by": [{"field_name": "name"}]},
    ):
        with pytest.raises(InvalidArgumentError):
            tracking_store.search_logged_models(max_results=1, page_token=token, **kwargs)
    with pytest.raises(InvalidArgumentError):
        tracking_store.search_logged_models([exp_id], page_token="not a token")
