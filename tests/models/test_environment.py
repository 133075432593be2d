"""Environment files: inferred, pinned requirements with mltrail first; python_env and conda."""

from __future__ import annotations

import pickle
import platform
from importlib import metadata
from pathlib import Path

import cloudpickle  # type: ignore[import-untyped]
import numpy as np
import skops.io
import yaml
from sklearn.linear_model import LogisticRegression

from mltrail import __version__
from mltrail.models.environment import (
    infer_requirements,
    modules_in_pickle,
    modules_in_skops,
    read_requirements,
    write_environment,
)


def test_infer_requirements_pins_packages_and_module_owners() -> None:
    lines = infer_requirements(
        ["scikit-learn"], ["numpy.core.multiarray", "json", "_private", "mltrail.models"]
    )
    assert lines == [f"numpy=={np.__version__}", f"scikit-learn=={metadata.version('scikit-learn')}"]


def test_modules_in_pickle_reads_opcodes_without_loading(tmp_path: Path) -> None:
    file = tmp_path / "m.pkl"
    file.write_bytes(pickle.dumps({"model": LogisticRegression(), "arr": np.zeros(2)}))
    modules = modules_in_pickle(file)
    assert "sklearn.linear_model._logistic" in modules
    assert any(m.startswith("numpy") for m in modules)
    old_protocol = tmp_path / "old.pkl"
    old_protocol.write_bytes(pickle.dumps(LogisticRegression(), protocol=2))
    assert "sklearn.linear_model._logistic" in modules_in_pickle(old_protocol)
    by_value = tmp_path / "cp.pkl"
    by_value.write_bytes(cloudpickle.dumps(lambda x: np.sum(x)))
    assert "cloudpickle.cloudpickle" in modules_in_pickle(by_value)


def test_modules_in_skops(tmp_path: Path) -> None:
    file = tmp_path / "m.skops"
    skops.io.dump(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), file)
    modules = modules_in_skops(file)
    assert "sklearn.linear_model._logistic" in modules
    assert "numpy" in {m.split(".")[0] for m in modules}


def test_write_environment(tmp_path: Path) -> None:
    lines = write_environment(
        tmp_path, ["numpy==1.0", "mltrail==9.9", "numpy==1.0"], extra_requirements=["rich"]
    )
    assert lines == [f"mltrail=={__version__}", "numpy==1.0", "rich"]
    assert (tmp_path / "requirements.txt").read_text() == f"mltrail=={__version__}\nnumpy==1.0\nrich\n"
    assert read_requirements(tmp_path) == lines
    python_env = yaml.safe_load((tmp_path / "python_env.yaml").read_text())
    assert python_env == {
        "python": platform.python_version(),
        "build_dependencies": [
            f"pip=={metadata.version('pip')}",
            f"setuptools=={metadata.version('setuptools')}",
            "wheel",
        ],
        "dependencies": ["-r requirements.txt"],
    }
    conda = yaml.safe_load((tmp_path / "conda.yaml").read_text())
    assert conda["channels"] == ["conda-forge"]
    assert conda["dependencies"][:2] == [
        f"python={platform.python_version()}",
        f"pip<={metadata.version('pip')}",
    ]
    assert conda["dependencies"][2] == {"pip": lines}


def test_read_requirements_of_a_directory_without_one(tmp_path: Path) -> None:
    assert read_requirements(tmp_path) == []
