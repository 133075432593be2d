"""``import mltrail`` stays light, and its lazily loaded public surface is pinned."""

from __future__ import annotations

import json
import subprocess
import sys

import mltrail

HEAVY = ["sqlalchemy", "alembic", "pandas", "numpy", "matplotlib", "PIL", "pyarrow", "boto3", "requests"]

PUBLIC = {
    "ActiveRun",
    "AlreadyExistsError",
    "BackendError",
    "Experiment",
    "InvalidArgumentError",
    "InvalidStateError",
    "Metric",
    "MissingDependencyError",
    "MltrailError",
    "NotFoundError",
    "Param",
    "Run",
    "RunInfo",
    "RunStatus",
    "RunTag",
    "Settings",
    "TrackingClient",
    "ViewType",
    "__version__",
    "active_run",
    "autolog",
    "create_experiment",
    "data",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "end_run",
    "flush",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
    "RegistryClient",
    "SpanType",
    "flush_traces",
    "get_current_active_span",
    "register_model",
    "search_model_versions",
    "search_registered_models",
    "search_traces",
    "start_span",
    "trace",
    "update_current_trace",
}

_PROBE = """
import json, os, sys, threading
before = set(os.listdir('.'))
import mltrail
print(json.dumps({
    "modules": sorted(m for m in %r if m in sys.modules),
    "mltrail_modules": sorted(m for m in sys.modules if m.startswith("mltrail")),
    "threads": threading.active_count(),
    "new_files": sorted(set(os.listdir('.')) - before),
}))
"""


def _probe(tmp_path_str: str) -> dict[str, object]:
    code = _PROBE % (HEAVY,)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path_str, capture_output=True, text=True, check=True, timeout=60
    )
    result: dict[str, object] = json.loads(out.stdout.splitlines()[0])
    return result


def test_import_is_light_and_side_effect_free(tmp_path: object) -> None:
    result = _probe(str(tmp_path))
    assert result["modules"] == []
    assert result["threads"] == 1
    assert result["new_files"] == []
    assert result["mltrail_modules"] == ["mltrail"]


def test_touching_the_fluent_api_still_imports_no_backend(tmp_path: object) -> None:
    code = _PROBE.replace(
        "import mltrail\n", "import mltrail\nmltrail.start_run; mltrail.TrackingClient; mltrail.data\n"
    ) % (HEAVY,)
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result = json.loads(out.stdout)
    assert result["modules"] == []
    assert result["threads"] == 1
    assert result["new_files"] == []


def test_public_surface_is_pinned() -> None:
    assert set(mltrail.__all__) == PUBLIC
    for name in mltrail.__all__:
        assert getattr(mltrail, name) is not None
    assert "start_run" in dir(mltrail)


def test_unknown_attribute_raises_attribute_error() -> None:
    try:
        mltrail.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
