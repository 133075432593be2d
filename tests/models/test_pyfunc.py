"""python_function models: pickled PythonModels (opt-in), models-from-code, streaming, hints."""

from __future__ import annotations

import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pydantic
import pytest
import yaml

import mltrail.pyfunc
from mltrail.errors import AlreadyExistsError, BadRequestError, InvalidArgumentError, NotFoundError
from mltrail.models.environment import read_requirements
from mltrail.models.python_model import PythonModelContext
from mltrail.models.schema import ColSpec, DataType, ModelSignature, ParamSchema, ParamSpec, Schema
from mltrail.pyfunc.model import _load_pyfunc


class Scaler(mltrail.pyfunc.PythonModel):
    """Reads a factor from an artifact file and an offset from the model config."""

    def load_context(self, context: PythonModelContext) -> None:
        self.factor = float(Path(context.artifacts["factor"]).read_text())
        self.offset = context.model_config.get("offset", 0)

    def predict(
        self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Any:
        scale = (params or {}).get("scale", 1.0)
        return model_input["x"] * self.factor * scale + self.offset


class NoContext(mltrail.pyfunc.PythonModel):
    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:  # type: ignore[override]
        return [len(model_input), params]


class Streamer(mltrail.pyfunc.PythonModel):
    def predict(self, model_input: list[str], params: dict[str, Any] | None = None) -> list[str]:  # type: ignore[override]
        return [" ".join(model_input)]

    def predict_stream(  # type: ignore[override]
        self, model_input: list[str], params: dict[str, Any] | None = None
    ) -> Iterator[str]:
        yield from model_input


class Message(pydantic.BaseModel):
    role: str
    content: str


class Chat(mltrail.pyfunc.PythonModel):
    def predict(self, model_input: list[Message], params: dict[str, Any] | None = None) -> list[str]:  # type: ignore[override]
        return [f"{m.role}: {m.content}" for m in model_input]


@pytest.fixture
def factor_file(tmp_path: Path) -> Path:
    file = tmp_path / "factor.txt"
    file.write_text("2.5")
    return file


def _scaler_signature() -> ModelSignature:
    return ModelSignature(
        inputs=Schema([ColSpec(DataType.double, "x")]),
        params=ParamSchema([ParamSpec("scale", DataType.double, 1.0)]),
    )


def test_pickled_model_with_artifacts_and_config(tmp_path: Path, factor_file: Path) -> None:
    path = tmp_path / "model"
    mltrail.pyfunc.save_model(
        path,
        python_model=Scaler(),
        artifacts={"factor": str(factor_file)},
        model_config={"offset": 1},
        signature=_scaler_signature(),
    )
    conf = yaml.safe_load((path / "MLmodel").read_text())["flavors"]["python_function"]
    assert conf["loader_module"] == "mltrail.pyfunc.model"
    assert conf["python_model"] == "python_model.pkl"
    assert conf["artifacts"] == {"factor": {"path": "artifacts/factor.txt", "uri": str(factor_file)}}
    assert conf["config"] == {"offset": 1}
    assert conf["streamable"] is False
    assert "cloudpickle_version" in conf
    factor_file.unlink()  # the model holds its own copy

    with pytest.raises(InvalidArgumentError, match=r"would execute pickled code.*allow_pickle=True"):
        mltrail.pyfunc.load_model(path)
    model = mltrail.pyfunc.load_model(path, allow_pickle=True)
    assert model.predict(pd.DataFrame({"x": [1.0, 2.0]})).tolist() == [3.5, 6.0]
    assert model.predict({"x": [2]}, params={"scale": 2}).tolist() == [11.0]
    with pytest.raises(InvalidArgumentError, match=r"missing inputs \['x'\]"):
        model.predict({"y": [1.0]})
    with pytest.raises(InvalidArgumentError, match="Param 'scale' expects a double"):
        model.predict({"x": [1.0]}, params={"scale": "big"})
    overridden = mltrail.pyfunc.load_model(path, allow_pickle=True, model_config={"offset": 100})
    assert overridden.predict({"x": [1.0]}).tolist() == [102.5]
    assert isinstance(model.unwrap_python_model(), Scaler)
    names = [line.split("==")[0] for line in read_requirements(path)]
    assert names[0] == "mltrail" and "cloudpickle" in names


def test_predict_without_context_and_function_models(tmp_path: Path) -> None:
    mltrail.pyfunc.save_model(tmp_path / "a", python_model=NoContext())
    loaded = mltrail.pyfunc.load_model(tmp_path / "a", allow_pickle=True)
    assert loaded.predict([1, 2, 3], params={"p": 1}) == [3, {"p": 1}]

    mltrail.pyfunc.save_model(tmp_path / "b", python_model=lambda data: [v * 2 for v in data])
    assert mltrail.pyfunc.load_model(tmp_path / "b", allow_pickle=True).predict([1, 2]) == [2, 4]


def test_signature_and_example_inferred_by_running_the_model(tmp_path: Path) -> None:
    meta = mltrail.pyfunc.save_model(
        tmp_path / "m", python_model=NoContext(), input_example=(pd.DataFrame({"a": [1]}), {"k": 1})
    )
    assert meta.signature is not None
    assert meta.signature.to_dict()["inputs"] == '[{"type": "long", "name": "a", "required": true}]'
    assert (
        meta.signature.to_dict()["params"] == '[{"name": "k", "default": 1, "shape": null, "type": "long"}]'
    )
    assert (tmp_path / "m" / "serving_input_example.json").is_file()


def test_type_hints_give_the_signature_and_shape_inputs(tmp_path: Path) -> None:
    meta = mltrail.pyfunc.save_model(tmp_path / "m", python_model=Streamer(), input_example=["a", "b"])
    assert meta.is_signature_from_type_hint
    assert meta.signature == ModelSignature(
        inputs=Schema([ColSpec(DataType.string)]), outputs=Schema([ColSpec(DataType.string)])
    )
    model = mltrail.pyfunc.load_model(tmp_path / "m", allow_pickle=True)
    assert model.predict(["a", "b"]) == ["a b"]
    assert model.predict(pd.DataFrame({"n": [1], "text": ["hi"]})) == ["hi"]
    with pytest.raises(BadRequestError, match="expects string values, got int"):
        model.predict([1, 2])
    with pytest.raises(InvalidArgumentError, match="expects a list input"):
        model.predict("a")


def test_pydantic_hints_validate_and_convert(tmp_path: Path) -> None:
    mltrail.pyfunc.save_model(tmp_path / "m", python_model=Chat())
    model = mltrail.pyfunc.load_model(tmp_path / "m", allow_pickle=True)
    assert model.predict([{"role": "user", "content": "hi"}]) == ["user: hi"]
    assert model.predict(pd.DataFrame({"role": ["a"], "content": ["b"]})) == ["a: b"]
    with pytest.raises(InvalidArgumentError, match=r"missing required properties \['content'\]"):
        model.predict([{"role": "user"}])


def test_predict_stream(tmp_path: Path) -> None:
    mltrail.pyfunc.save_model(tmp_path / "s", python_model=Streamer())
    conf = yaml.safe_load((tmp_path / "s" / "MLmodel").read_text())["flavors"]["python_function"]
    assert conf["streamable"] is True
    model = mltrail.pyfunc.load_model(tmp_path / "s", allow_pickle=True)
    assert model.streamable
    assert list(model.predict_stream(["a", "b", "c"])) == ["a", "b", "c"]

    mltrail.pyfunc.save_model(tmp_path / "n", python_model=NoContext())
    with pytest.raises(InvalidArgumentError, match="does not support predict_stream"):
        mltrail.pyfunc.load_model(tmp_path / "n", allow_pickle=True).predict_stream([1])


CODE_MODEL = """
from pathlib import Path

import mltrail.models
from mltrail.pyfunc import PythonModel


class Greeter(PythonModel):
    def load_context(self, context):
        self.greeting = context.model_config.get("greeting", "hello")
        self.suffix = Path(context.artifacts["suffix"]).read_text() if context.artifacts else ""

    def predict(self, context, model_input, params=None):
        return [f"{self.greeting} {name}{self.suffix}" for name in model_input]

    def predict_stream(self, context, model_input, params=None):
        for name in model_input:
            yield f"{self.greeting} {name}"


mltrail.models.set_model(Greeter())
"""


def test_models_from_code_need_no_opt_in(tmp_path: Path) -> None:
    source = tmp_path / "greeter.py"
    source.write_text(CODE_MODEL)
    suffix = tmp_path / "suffix.txt"
    suffix.write_text("!")
    path = tmp_path / "m"
    mltrail.pyfunc.save_model(
        path, python_model=str(source), model_config={"greeting": "hi"}, artifacts={"suffix": suffix}
    )
    assert not (path / "python_model.pkl").exists()
    assert (path / "greeter.py").read_text() == CODE_MODEL
    conf = yaml.safe_load((path / "MLmodel").read_text())["flavors"]["python_function"]
    assert conf["model_code_path"] == "greeter.py"
    assert conf["streamable"] is True
    assert "cloudpickle" not in " ".join(read_requirements(path))
    source.unlink()

    model = mltrail.pyfunc.load_model(path)
    assert model.predict(["ann"]) == ["hi ann!"]
    assert list(model.predict_stream(["a", "b"])) == ["hi a", "hi b"]
    assert mltrail.pyfunc.load_model(path, model_config={"greeting": "yo"}).predict(["b"]) == ["yo b!"]


MLFLOW_STYLE_CODE = """
import mlflow
from mlflow.pyfunc import PythonModel


class Doubler(PythonModel):
    def load_context(self, context):
        self.factor = context.model_config.get("factor", 2)

    def predict(self, context, model_input, params=None):
        return model_input * self.factor


mlflow.models.set_model(Doubler())
"""


def test_mlflow_style_code_files_load_without_mlflow(tmp_path: Path) -> None:
    source = tmp_path / "doubler.py"
    source.write_text(MLFLOW_STYLE_CODE)
    before = {n: m for n, m in sys.modules.items() if n.split(".")[0] == "mlflow"}
    mltrail.pyfunc.save_model(tmp_path / "m", python_model=source, model_config={"factor": 3})
    model = mltrail.pyfunc.load_model(tmp_path / "m")
    assert model.predict(pd.DataFrame({"a": [1, 2]}))["a"].tolist() == [3, 6]
    assert {n: m for n, m in sys.modules.items() if n.split(".")[0] == "mlflow"} == before


def test_code_file_errors(tmp_path: Path) -> None:
    silent = tmp_path / "silent.py"
    silent.write_text("x = 1\n")
    with pytest.raises(InvalidArgumentError, match=r"did not call mltrail.models.set_model"):
        mltrail.pyfunc.save_model(tmp_path / "a", python_model=silent)
    assert not (tmp_path / "a").exists()
    other_mlflow = tmp_path / "tracking.py"
    other_mlflow.write_text("import mlflow.tracking\n")
    with pytest.raises(InvalidArgumentError, match=r"imports 'mlflow.tracking'"):
        mltrail.pyfunc.save_model(tmp_path / "b", python_model=other_mlflow)
    chat = tmp_path / "chat.py"
    chat.write_text("import mlflow\nclass C(mlflow.pyfunc.ChatModel):\n    pass\n")
    with pytest.raises(InvalidArgumentError, match=r"uses mlflow.pyfunc.ChatModel"):
        mltrail.pyfunc.save_model(tmp_path / "b2", python_model=chat)
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        mltrail.pyfunc.save_model(tmp_path / "c", python_model=str(tmp_path / "missing.py"))
    bad = tmp_path / "bad.py"
    bad.write_text(textwrap.dedent("import mltrail.models\nmltrail.models.set_model(42)\n"))
    with pytest.raises(InvalidArgumentError, match="PythonModel instance or a predict function"):
        mltrail.pyfunc.save_model(tmp_path / "d", python_model=bad)


def test_save_argument_errors(tmp_path: Path, factor_file: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="python_model must be"):
        mltrail.pyfunc.save_model(tmp_path / "a", python_model=42)
    with pytest.raises(InvalidArgumentError, match="only local paths and file: URIs"):
        mltrail.pyfunc.save_model(tmp_path / "b", python_model=NoContext(), artifacts={"x": "s3://b/k"})
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        mltrail.pyfunc.save_model(
            tmp_path / "c", python_model=NoContext(), artifacts={"x": tmp_path / "nope"}
        )
    mltrail.pyfunc.save_model(tmp_path / "d", python_model=NoContext(), artifacts={"x": factor_file.as_uri()})
    assert (tmp_path / "d" / "artifacts" / "factor.txt").read_text() == "2.5"
    with pytest.raises(AlreadyExistsError):
        mltrail.pyfunc.save_model(tmp_path / "d", python_model=NoContext())


def test_load_errors(tmp_path: Path, logreg: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="scheme 'ftp' is not supported"):
        mltrail.pyfunc.load_model("ftp://host/model")
    with pytest.raises(NotFoundError, match="No MLmodel file"):
        mltrail.pyfunc.load_model(tmp_path)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "MLmodel").write_text("flavors:\n  sklearn: {pickled_model: model.pkl}\n")
    with pytest.raises(NotFoundError, match="has no python_function flavor"):
        mltrail.pyfunc.load_model(tmp_path / "m")


def test_mlflow_entry_point_follows_mlflows_pickle_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mltrail.pyfunc.save_model(tmp_path / "m", python_model=NoContext())
    assert _load_pyfunc(str(tmp_path / "m")).predict([1]) == [1, None]
    assert _load_pyfunc(str(tmp_path / "m" / "MLmodel")).predict([1, 2]) == [2, None]
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    with pytest.raises(InvalidArgumentError, match="would execute pickled code"):
        _load_pyfunc(str(tmp_path / "m"))


def test_stand_in_hides_an_already_imported_mlflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_root, real_tracking = types.ModuleType("mlflow"), types.ModuleType("mlflow.tracking")
    monkeypatch.setitem(sys.modules, "mlflow", real_root)
    monkeypatch.setitem(sys.modules, "mlflow.tracking", real_tracking)
    source = tmp_path / "doubler.py"
    source.write_text(MLFLOW_STYLE_CODE)
    mltrail.pyfunc.save_model(tmp_path / "m", python_model=source)
    assert mltrail.pyfunc.load_model(tmp_path / "m").predict(pd.DataFrame({"a": [2]}))["a"].tolist() == [4]
    other = tmp_path / "tracking.py"
    other.write_text("import mlflow.tracking\n")
    with pytest.raises(InvalidArgumentError, match=r"imports 'mlflow.tracking'"):
        mltrail.pyfunc.save_model(tmp_path / "t", python_model=other)
    assert sys.modules["mlflow"] is real_root
    assert sys.modules["mlflow.tracking"] is real_tracking


def test_code_paths_are_packaged_and_importable_at_load(tmp_path: Path) -> None:
    package = tmp_path / "src" / "shout_helpers_for_test"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("def shout(text):\n    return text.upper() + '!'\n")
    source = tmp_path / "shouter.py"
    source.write_text(
        "import mltrail.models\n"
        "from shout_helpers_for_test import shout\n"
        "mltrail.models.set_model(lambda data: [shout(t) for t in data])\n"
    )
    sys.path.insert(0, str(package.parent))
    try:
        mltrail.pyfunc.save_model(tmp_path / "m", python_model=source, code_paths=[package])
    finally:
        sys.path.remove(str(package.parent))
        sys.modules.pop("shout_helpers_for_test", None)
    conf = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())["flavors"]["python_function"]
    assert conf["code"] == "code"
    assert (tmp_path / "m" / "code" / "shout_helpers_for_test" / "__init__.py").is_file()
    code_dir = str((tmp_path / "m" / "code").resolve())
    try:
        assert mltrail.pyfunc.load_model(tmp_path / "m").predict(["hi"]) == ["HI!"]
        assert code_dir in sys.path
    finally:
        if code_dir in sys.path:
            sys.path.remove(code_dir)
        sys.modules.pop("shout_helpers_for_test", None)
    with pytest.raises(InvalidArgumentError, match=r"Code path .* does not exist"):
        mltrail.pyfunc.save_model(tmp_path / "x", python_model=source, code_paths=[tmp_path / "nope"])
