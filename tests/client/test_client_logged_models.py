"""TrackingClient's logged-model methods against a SQLite file: create, finalize, tags, params,
metrics linked to a model, search and run outputs."""

from __future__ import annotations

import pytest

from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracking.client import TrackingClient
from mltrail.tracking.entities import Metric, ModelOutput
from mltrail.tracking.logged_models import LoggedModelStatus


def test_logged_model_lifecycle(client: TrackingClient) -> None:
    exp_id = client.create_experiment("models")
    run_id = client.create_run(exp_id).info.run_id
    model = client.create_logged_model(
        exp_id, name="clf", source_run_id=run_id, tags={"n": 1}, params={"alpha": 0.5}, model_type="sklearn"
    )
    assert model.status is LoggedModelStatus.PENDING
    assert model.tags == {"n": "1"} and model.params == {"alpha": "0.5"}
    assert client.finalize_logged_model(model.model_id, "READY").status is LoggedModelStatus.READY
    assert client.finalize_logged_model(model.model_id, "failed").status is LoggedModelStatus.UPLOAD_FAILED
    with pytest.raises(InvalidArgumentError):
        client.finalize_logged_model(model.model_id, "DONE")
    client.set_logged_model_tags(model.model_id, {"stage": "dev"})
    client.delete_logged_model_tag(model.model_id, "n")
    client.log_model_params(model.model_id, {"depth": 3})
    client.log_batch(run_id, metrics=[Metric("acc", 0.9, 10, 1, model_id=model.model_id)])
    client.log_outputs(run_id, [ModelOutput(model.model_id, step=1)])
    got = client.get_logged_model(model.model_id)
    assert got.tags == {"stage": "dev"}
    assert got.params == {"alpha": "0.5", "depth": "3"}
    assert [(m.key, m.value, m.run_id) for m in got.metrics] == [("acc", 0.9, run_id)]
    assert client.get_run(run_id).outputs.model_outputs == (ModelOutput(model.model_id, 1),)
    page = client.search_logged_models([exp_id], filter_string="metrics.acc > 0.5")
    assert [m.model_id for m in page] == [model.model_id]
    client.delete_logged_model(model.model_id)
    with pytest.raises(NotFoundError):
        client.get_logged_model(model.model_id)
    assert client.get_logged_model(model.model_id, allow_deleted=True).name == "clf"
    assert client.search_logged_models([exp_id]).items == []
