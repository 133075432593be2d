"""The Flavor contract and its registry: built-ins, loader-module aliases, entry-point plugins."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

import mltrail.models.flavor as flavor_module
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.models.flavor import (
    Flavor,
    PyFuncImplementation,
    flavor_for_loader_module,
    get_flavor,
    known_flavors,
)
from mltrail.models.flavors.python_function import PythonFunctionFlavor
from mltrail.models.flavors.sklearn import SklearnFlavor
from mltrail.models.model import Model


class EchoImplementation:
    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return data


class EchoFlavor(Flavor):
    """A third-party flavor registered through the entry-point group."""

    name = "echo"
    loader_modules = ("echo_pkg.loader",)

    def save(self, model: Any, path: str | os.PathLike[str], **kwargs: Any) -> Model:
        meta = Model().add_flavor(self.name).add_flavor("python_function", loader_module="echo_pkg.loader")
        Path(path).mkdir()
        meta.save(path)
        return meta

    def load(self, path: str | os.PathLike[str], *, allow_pickle: bool = False, **kwargs: Any) -> Any:
        return "echo"

    def load_pyfunc(
        self,
        path: str | os.PathLike[str],
        *,
        allow_pickle: bool = False,
        model_config: Mapping[str, Any] | None = None,
    ) -> PyFuncImplementation:
        return EchoImplementation()


class NotAFlavor:
    pass


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    found = [
        EntryPoint("echo", f"{__name__}:EchoFlavor", flavor_module.FLAVOR_GROUP),
        EntryPoint("broken", f"{__name__}:NotAFlavor", flavor_module.FLAVOR_GROUP),
    ]
    monkeypatch.setattr(
        flavor_module, "entry_points", lambda group: [ep for ep in found if ep.group == group]
    )


def test_builtin_flavors_load_by_name() -> None:
    assert isinstance(get_flavor("sklearn"), SklearnFlavor)
    assert isinstance(get_flavor("python_function"), PythonFunctionFlavor)
    assert {"python_function", "sklearn"} <= set(known_flavors())


def test_unknown_flavor() -> None:
    with pytest.raises(NotFoundError, match="Unknown model flavor 'nope'"):
        get_flavor("nope")


@pytest.mark.parametrize(
    ("loader_module", "expected"),
    [
        ("mltrail.pyfunc.model", PythonFunctionFlavor),
        ("mlflow.pyfunc.model", PythonFunctionFlavor),
        ("mlflow.pyfunc.loaders.code_model", PythonFunctionFlavor),
        ("mlflow.sklearn", SklearnFlavor),
        ("mltrail.sklearn", SklearnFlavor),
    ],
)
def test_loader_modules_map_to_mltrail_flavors(loader_module: str, expected: type[Flavor]) -> None:
    assert isinstance(flavor_for_loader_module(loader_module), expected)


def test_unknown_loader_module() -> None:
    with pytest.raises(InvalidArgumentError, match=r"loader_module 'mlflow.xgboost'"):
        flavor_for_loader_module("mlflow.xgboost")


@pytest.mark.usefixtures("plugins")
def test_entry_point_plugins(caplog: pytest.LogCaptureFixture) -> None:
    assert "echo" in known_flavors()
    echo = get_flavor("echo")
    assert isinstance(echo, EchoFlavor)
    with caplog.at_level(logging.WARNING, logger="mltrail.models.flavor"):
        assert isinstance(flavor_for_loader_module("echo_pkg.loader"), EchoFlavor)
    assert "Skipping model flavor 'broken'" in caplog.text
    with pytest.raises(InvalidArgumentError, match="did not produce a Flavor"):
        get_flavor("broken")


@pytest.mark.usefixtures("plugins")
def test_plugin_flavor_loads_through_pyfunc(tmp_path: Path) -> None:
    import mltrail.pyfunc

    get_flavor("echo").save(None, tmp_path / "m")
    assert mltrail.pyfunc.load_model(tmp_path / "m").predict([1, 2]) == [1, 2]


def test_flavor_is_abstract() -> None:
    with pytest.raises(TypeError):
        Flavor()  # type: ignore[abstract]
