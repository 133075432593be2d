"""The model modules import no ML framework or data library until a model is saved or loaded."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["pandas", "numpy", "sklearn", "skops", "cloudpickle", "scipy", "mlflow", "sqlalchemy"]

PROBE = """
import json, sys, threading
import mltrail.models, mltrail.pyfunc, mltrail.sklearn, mltrail.pyfunc.model
import mltrail.models.signature, mltrail.models.enforcement, mltrail.models.flavor
print(json.dumps({"heavy": sorted(m for m in %r if m in sys.modules), "threads": threading.active_count()}))
"""


def test_model_modules_are_light() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,)], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(done.stdout) == {"heavy": [], "threads": 1}


def test_public_names() -> None:
    import mltrail.models
    import mltrail.pyfunc
    import mltrail.sklearn

    assert set(mltrail.pyfunc.__all__) == {
        "PyFuncModel",
        "PythonModel",
        "PythonModelContext",
        "load_model",
        "log_model",
        "save_model",
    }
    assert set(mltrail.sklearn.__all__) == {
        "SERIALIZATION_FORMATS",
        "autolog",
        "load_model",
        "log_model",
        "save_model",
    }
    for name in mltrail.models.__all__:
        assert getattr(mltrail.models, name) is not None
    assert mltrail.models.PythonModel is mltrail.pyfunc.PythonModel
