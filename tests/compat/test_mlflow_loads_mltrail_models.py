"""The real MLflow client loads models that mltrail logged to a live mltrail server.

mltrail logs a scikit-learn model (skops format) with ``mltrail.sklearn.log_model``, registers it
and points an alias at it; MLflow then resolves ``models:/<name>@<alias>``, ``models:/<model_id>``
and ``runs:/<run_id>/<name>`` against the same server and predicts the same labels.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import mltrail
import mltrail.sklearn
from mltrail.registry import fluent as registry_fluent
from mltrail.registry.client import RegistryClient
from mltrail.tracking import _fluent_state
from tests.compat.conftest import unique
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.integration

mlflow = pytest.importorskip("mlflow", reason="the compatibility tests drive the real mlflow client")


@pytest.fixture
def mltrail_on_server(compat_server: LiveServer) -> Iterator[str]:
    """mltrail's fluent API pointed at the module's server, reset afterwards."""
    registry_fluent._reset()
    _fluent_state._reset()
    mltrail.set_tracking_uri(compat_server.url)
    yield compat_server.url
    registry_fluent._reset()
    _fluent_state._reset()


def test_mlflow_loads_a_model_mltrail_logged(tracking_uri: str, mltrail_on_server: str) -> None:
    features, labels = load_iris(return_X_y=True, as_frame=True)
    estimator = LogisticRegression(max_iter=500).fit(features, labels)
    name = unique("mltrail-logged")
    mltrail.set_experiment(name)
    with mltrail.start_run() as run:
        info = mltrail.sklearn.log_model(
            estimator, name="clf", input_example=features.head(2), registered_model_name=name
        )
    with RegistryClient(mltrail_on_server) as registry:
        registry.set_registered_model_alias(name, "champion", info.registered_model_version or "")

    expected = estimator.predict(features)
    for uri in (f"models:/{name}@champion", info.model_uri, f"runs:/{run.run_id}/clf"):
        loaded = mlflow.pyfunc.load_model(uri)
        np.testing.assert_array_equal(np.asarray(loaded.predict(features)), expected, err_msg=uri)
    native = mlflow.sklearn.load_model(f"models:/{name}@champion")
    np.testing.assert_array_equal(native.predict(features), expected)

    model = mlflow.get_logged_model(info.model_id)
    assert model.source_run_id == run.run_id
    assert str(model.status) == "READY"
    version = mlflow.MlflowClient().get_model_version_by_alias(name, "champion")
    # MLflow's ModelVersion.from_proto drops model_id; the source names the logged model.
    assert version.source == info.model_uri
    assert version.run_id == run.run_id
