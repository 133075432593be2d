"""scikit-learn autologging on bundled datasets: each test reads the run back from the store."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics
from sklearn.cluster import KMeans
from sklearn.datasets import load_diabetes, load_iris, load_wine
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import mltrail
import mltrail.sklearn
from mltrail.autolog import AutologgingWarning
from mltrail.autolog import sklearn as sk_autolog
from mltrail.tracking.client import TrackingClient
from mltrail.tracking.entities import Run, RunStatus

CLASSIFIER_METRICS = {
    "training_accuracy_score",
    "training_precision_score",
    "training_recall_score",
    "training_f1_score",
    "training_log_loss",
    "training_roc_auc",
    "training_score",
}
REGRESSOR_METRICS = {
    "training_mean_squared_error",
    "training_root_mean_squared_error",
    "training_mean_absolute_error",
    "training_r2_score",
    "training_score",
}


def _runs(client: TrackingClient) -> list[Run]:
    return client.search_runs(["0"], max_results=1000).items


def _only_run(client: TrackingClient) -> Run:
    runs = _runs(client)
    assert len(runs) == 1, [r.info.run_id for r in runs]
    return runs[0]


def _iris() -> tuple[Any, Any, Any, Any]:
    x, y = load_iris(return_X_y=True, as_frame=True)
    split: list[Any] = train_test_split(x, y, random_state=0)
    return split[0], split[1], split[2], split[3]


def test_classifier_logs_params_metrics_dataset_and_model(store: TrackingClient) -> None:
    mltrail.sklearn.autolog()
    x_train, x_test, y_train, _ = _iris()
    model = LogisticRegression(C=0.5, max_iter=300).fit(x_train, y_train)

    run = _only_run(store)
    assert run.info.status == RunStatus.FINISHED
    assert run.data.params["C"] == "0.5"
    assert run.data.params["max_iter"] == "300"
    assert run.data.tags["estimator_name"] == "LogisticRegression"
    assert run.data.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    assert set(run.data.metrics) >= CLASSIFIER_METRICS
    expected = sklearn.metrics.accuracy_score(y_train, model.predict(x_train))
    assert run.data.metrics["training_accuracy_score"] == pytest.approx(expected)
    assert 0 < run.data.metrics["training_log_loss"] < 1

    (dataset_input,) = run.inputs.dataset_inputs
    assert {t.key: t.value for t in dataset_input.tags} == {"mlflow.data.context": "train"}
    assert '"num_rows": 112' in (dataset_input.dataset.profile or "")

    loaded = mltrail.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(x_test), model.predict(x_test))
    (output,) = run.outputs.model_outputs if run.outputs else ()
    logged = store.get_logged_model(output.model_id)
    assert logged.name == "model"
    assert logged.params["C"] == "0.5"


def test_regressor_metrics(store: TrackingClient) -> None:
    sk_autolog.autolog()
    x, y = load_diabetes(return_X_y=True)
    model = Ridge(alpha=0.3).fit(x, y)

    run = _only_run(store)
    assert run.data.params["alpha"] == "0.3"
    assert set(run.data.metrics) >= REGRESSOR_METRICS
    mse = sklearn.metrics.mean_squared_error(y, model.predict(x))
    assert run.data.metrics["training_mean_squared_error"] == pytest.approx(mse)
    assert run.data.metrics["training_root_mean_squared_error"] == pytest.approx(np.sqrt(mse))
    assert run.data.metrics["training_r2_score"] == pytest.approx(model.score(x, y))
    (dataset_input,) = run.inputs.dataset_inputs
    assert "mlflow_tensorspec" in (dataset_input.dataset.schema or "")
    loaded = mltrail.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_allclose(loaded.predict(x[:10]), model.predict(x[:10]))


def test_pipeline_logs_one_run_with_nested_params(store: TrackingClient) -> None:
    sk_autolog.autolog()
    x, y = load_wine(return_X_y=True, as_frame=True)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=500))]).fit(x, y)

    run = _only_run(store)  # the steps' own fits made no runs
    assert run.data.params["clf__max_iter"] == "500"
    assert run.data.params["scale__with_mean"] == "True"
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert set(run.data.metrics) >= CLASSIFIER_METRICS
    loaded = mltrail.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    assert isinstance(loaded, Pipeline)
    np.testing.assert_array_equal(loaded.predict(x), pipe.predict(x))


def test_grid_search_logs_children_and_best(store: TrackingClient) -> None:
    sk_autolog.autolog()
    x_train, x_test, y_train, _ = _iris()
    grid = {"C": [0.01, 0.1, 1.0, 10.0]}
    search = GridSearchCV(LogisticRegression(max_iter=500), grid, cv=3).fit(x_train, y_train)

    runs = _runs(store)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(children) == 4
    parent = parents[0]
    assert all(c.data.tags["mlflow.parentRunId"] == parent.info.run_id for c in children)
    assert sorted(float(c.data.params["C"]) for c in children) == grid["C"]
    for child in children:
        assert set(child.data.metrics) >= {
            "mean_test_score",
            "std_test_score",
            "rank_test_score",
            "mean_fit_time",
        }
        assert child.info.status == RunStatus.FINISHED
    assert parent.data.params["best_C"] == str(search.best_params_["C"])
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert parent.data.params["estimator__max_iter"] == "500"
    loaded = mltrail.sklearn.load_model(f"runs:/{parent.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(x_test), search.predict(x_test))


def test_randomized_search_respects_max_tuning_runs(store: TrackingClient) -> None:
    sk_autolog.autolog(max_tuning_runs=2, log_models=False)
    x, y = load_iris(return_X_y=True)
    RandomizedSearchCV(
        LogisticRegression(max_iter=500), {"C": [0.01, 0.1, 1.0, 10.0, 100.0]}, n_iter=5, cv=3, random_state=0
    ).fit(x, y)
    children = [r for r in _runs(store) if "mlflow.parentRunId" in r.data.tags]
    assert sorted(c.data.metrics["rank_test_score"] for c in children)[0] == 1.0
    assert len(children) == 2


def test_clustering_silhouette(store: TrackingClient) -> None:
    sk_autolog.autolog(log_models=False)
    x, _ = load_iris(return_X_y=True)
    model = KMeans(n_clusters=3, n_init=3, random_state=0).fit(x)
    run = _only_run(store)
    expected = sklearn.metrics.silhouette_score(x, model.labels_)
    assert run.data.metrics["training_silhouette_score"] == pytest.approx(expected)


def test_post_training_metrics_go_to_the_models_run(store: TrackingClient) -> None:
    sk_autolog.autolog(log_models=False)
    x_train, x_test, y_train, y_test = _iris()
    model = LogisticRegression(max_iter=300).fit(x_train, y_train)
    run_id = _only_run(store).info.run_id

    predictions = model.predict(x_test)
    accuracy = sklearn.metrics.accuracy_score(y_test, predictions)
    again = sklearn.metrics.accuracy_score(y_test, predictions)
    f1 = sklearn.metrics.f1_score(y_test, predictions, average="macro")
    score = model.score(x_test, y_test)
    unrelated = sklearn.metrics.accuracy_score([0, 1], [0, 0])  # not a prediction: not logged
    mltrail.flush()

    metrics = store.get_run(run_id).data.metrics
    assert metrics["accuracy_score_x_test"] == pytest.approx(accuracy)
    assert metrics["accuracy_score-2_x_test"] == pytest.approx(again)
    assert metrics["f1_score_x_test"] == pytest.approx(f1)
    assert metrics["LogisticRegression_score_x_test"] == pytest.approx(score)
    assert unrelated == 0.5
    assert not any(k.startswith("accuracy_score") and k.endswith("unknown_dataset") for k in metrics)


def test_fit_inside_active_run_logs_there_and_keeps_it_open(store: TrackingClient) -> None:
    sk_autolog.autolog(log_models=False, log_datasets=False)
    x, y = load_iris(return_X_y=True)
    with mltrail.start_run() as active:
        LogisticRegression(max_iter=300).fit(x, y)
        assert mltrail.active_run() is active
        mltrail.log_param("note", "mine")
    run = _only_run(store)
    assert run.info.run_id == active.run_id
    assert run.data.params["note"] == "mine"
    assert "training_accuracy_score" in run.data.metrics
    assert run.inputs.dataset_inputs == ()
    assert not run.outputs or not run.outputs.model_outputs


def test_user_error_propagates_and_fails_the_run(store: TrackingClient) -> None:
    sk_autolog.autolog()
    with pytest.raises(ValueError):
        LogisticRegression().fit(np.zeros((4, 2)), np.array([0, 0, 0, np.nan]))
    run = _only_run(store)
    assert run.info.status == RunStatus.FAILED
    assert mltrail.active_run() is None


def test_integration_failure_is_a_warning(store: TrackingClient, monkeypatch: pytest.MonkeyPatch) -> None:
    sk_autolog.autolog()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("store exploded")

    monkeypatch.setattr(sk_autolog, "log_model", broken)
    x, y = load_iris(return_X_y=True)
    with pytest.warns(AutologgingWarning, match="store exploded"):
        model = LogisticRegression(max_iter=300).fit(x, y)
    assert model.predict(x[:2]).shape == (2,)
    run = _only_run(store)
    assert run.info.status == RunStatus.FINISHED
    assert "training_accuracy_score" in run.data.metrics


def test_disable_restores_the_original_methods(store: TrackingClient) -> None:
    original = LogisticRegression.__dict__["fit"]
    sk_autolog.autolog()
    assert LogisticRegression.__dict__["fit"] is not original
    assert sk_autolog.is_enabled()
    sk_autolog.autolog(disable=True)
    assert LogisticRegression.__dict__["fit"] is original
    assert sklearn.metrics.accuracy_score.__module__ == "sklearn.metrics._classification"
    x, y = load_iris(return_X_y=True)
    LogisticRegression(max_iter=300).fit(x, y)
    assert _runs(store) == []


def test_random_forest_with_dataframe_target(store: TrackingClient) -> None:
    sk_autolog.autolog(log_input_examples=False)
    x, y = load_diabetes(return_X_y=True, as_frame=True)
    model = RandomForestRegressor(n_estimators=5, random_state=0).fit(x, y)
    run = _only_run(store)
    assert run.data.params["n_estimators"] == "5"
    (dataset_input,) = run.inputs.dataset_inputs
    assert '"name": "target"' in (dataset_input.dataset.schema or "")
    # skops does not trust sklearn's Tree by default: loading names it (or uses allow_pickle=True).
    uri = f"runs:/{run.info.run_id}/model"
    loaded = mltrail.sklearn.load_model(uri, skops_trusted_types=["sklearn.tree._tree.Tree"])
    frame = pd.DataFrame(x[:3])
    np.testing.assert_allclose(loaded.predict(frame), model.predict(frame))


def test_no_warnings_on_a_plain_fit(store: TrackingClient) -> None:
    sk_autolog.autolog()
    x, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AutologgingWarning)
        LogisticRegression(max_iter=300).fit(x, y)
