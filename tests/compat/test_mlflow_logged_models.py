"""MLflow's own client against a live mltrail server: MLflow 3 logged models end to end.

``mlflow.pyfunc.log_model`` inside a run (create, upload through the proxy, finalize, link to the
run), then search, get, list artifacts of the run's model directory, load the model back by
``models:/<model_id>``, and the ``MlflowClient`` logged-model API.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

mlflow = pytest.importorskip("mlflow", reason="the compatibility tests drive the real mlflow client")
pytest.importorskip("pandas", reason="mlflow.search_logged_models returns a pandas DataFrame")
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import LoggedModelStatus  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.pyfunc.model import PythonModel  # noqa: E402

from tests.compat.conftest import unique  # noqa: E402


class AddN(PythonModel):
    """Adds ``n`` to every input value."""

    def __init__(self, n: int) -> None:
        self.n = n

    def predict(
        self, context: object, model_input: list[int], params: dict[str, object] | None = None
    ) -> list[int]:
        return [value + self.n for value in model_input]


def test_log_search_get_list_and_load(tracking_uri: str) -> None:
    experiment_id = mlflow.set_experiment(unique("logged-models")).experiment_id
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(
            name="adder",
            python_model=AddN(2),
            pip_requirements=["mlflow"],
            params={"n": 2},
            model_type="toy",
        )
        mlflow.log_metric("mae", 0.25, step=1, model_id=info.model_id)
    run_id = run.info.run_id
    model_id = info.model_id
    assert model_id.startswith("m-")

    model = mlflow.get_logged_model(model_id)
    assert model.name == "adder"
    assert model.status == LoggedModelStatus.READY
    assert model.source_run_id == run_id
    assert model.experiment_id == experiment_id
    assert model.model_type == "toy"
    assert model.params == {"n": "2"}
    assert [(m.key, m.value, m.step, m.run_id) for m in model.metrics] == [("mae", 0.25, 1, run_id)]
    assert model.artifact_location.startswith("mlflow-artifacts:/")
    assert model.artifact_location.endswith(f"/models/{model_id}/artifacts")

    found = mlflow.search_logged_models(experiment_ids=[experiment_id], output_format="list")
    assert [m.model_id for m in found] == [model_id]
    by_filter = mlflow.search_logged_models(
        experiment_ids=[experiment_id],
        filter_string="name = 'adder' AND metrics.mae < 0.5",
        output_format="list",
    )
    assert [m.model_id for m in by_filter] == [model_id]
    frame = mlflow.search_logged_models(experiment_ids=[experiment_id])
    assert list(frame["model_id"]) == [model_id]

    client = MlflowClient(tracking_uri)
    outputs = client.get_run(run_id).outputs
    assert outputs is not None
    assert {o.model_id for o in outputs.model_outputs} == {model_id}
    # Listing a run directory asks the server for the run's logged models first.
    listed = {f.path for f in client.list_artifacts(run_id, "adder")}
    assert {"adder/MLmodel", "adder/python_model.pkl"} <= listed
    model_files = {f.path for f in client.list_logged_model_artifacts(model_id)}
    assert {"MLmodel", "python_model.pkl"} <= model_files

    loaded = mlflow.pyfunc.load_model(f"models:/{model_id}")
    assert loaded.predict([1, 2, 3]) == [3, 4, 5]
    by_run = mlflow.pyfunc.load_model(f"runs:/{run_id}/adder")
    assert by_run.predict([10]) == [12]


def test_client_logged_model_api(tracking_uri: str) -> None:
    client = MlflowClient(tracking_uri)
    experiment_id = client.create_experiment(unique("logged-model-api"))
    first = client.create_logged_model(experiment_id, name="first", tags={"a": "1"}, params={"p": "x"})
    second = client.create_logged_model(experiment_id, name="second")
    assert first.status == LoggedModelStatus.PENDING
    assert client.get_logged_model(first.model_id).tags == {"a": "1"}

    client.set_logged_model_tags(first.model_id, {"b": "2"})
    client.delete_logged_model_tag(first.model_id, "a")
    client.log_model_params(first.model_id, {f"k{i}": str(i) for i in range(3)})
    finalized = client.finalize_logged_model(first.model_id, LoggedModelStatus.READY)
    assert finalized.status == LoggedModelStatus.READY
    got = client.get_logged_model(first.model_id)
    assert got.tags == {"b": "2"}
    assert got.params == {"p": "x", "k0": "0", "k1": "1", "k2": "2"}

    page = client.search_logged_models(
        experiment_ids=[experiment_id], order_by=[{"field_name": "name", "ascending": True}], max_results=1
    )
    assert [m.name for m in page] == ["first"] and page.token
    rest = client.search_logged_models(
        experiment_ids=[experiment_id],
        order_by=[{"field_name": "name", "ascending": True}],
        max_results=1,
        page_token=page.token,
    )
    assert [m.name for m in rest] == ["second"] and not rest.token

    client.delete_logged_model(second.model_id)
    with pytest.raises(MlflowException) as excinfo:
        client.get_logged_model(second.model_id)
    assert excinfo.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert [m.name for m in client.search_logged_models(experiment_ids=[experiment_id])] == ["first"]
