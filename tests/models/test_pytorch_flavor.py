"""The PyTorch flavor: every format saves, loads and predicts the same; pickle needs an opt-in."""

from __future__ import annotations

import io
import pickle
import re
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch", reason="the pytorch flavor tests need torch (mltrail[pytorch])")
pytest.importorskip("safetensors", reason="the state_dict format needs safetensors (mltrail[pytorch])")

import torch

import mltrail.pyfunc
import mltrail.pytorch
from mltrail.errors import InvalidArgumentError
from mltrail.models.flavors.pytorch import PytorchImplementation
from mltrail.models.flavors.torch_archive import check_pt2_archive
from mltrail.models.model import Model
from mltrail.models.schema import TensorSpec

from ._tiny_models import TinyNet, tiny_net


@pytest.fixture(scope="module")
def net() -> TinyNet:
    return tiny_net()


@pytest.fixture(scope="module")
def batch() -> np.ndarray:
    return np.random.default_rng(0).random((6, 4), dtype=np.float32)


def _expected(model: Any, data: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        result: np.ndarray = model(torch.from_numpy(data)).numpy()
    return result


def test_default_format_exports_a_program_when_given_an_example(
    tmp_path: Path, net: TinyNet, batch: np.ndarray
) -> None:
    meta = mltrail.pytorch.save_model(net, tmp_path / "m", input_example=batch[:3])
    conf = meta.flavors["pytorch"]
    assert conf["serialization_format"] == "pt2"
    assert (tmp_path / "m" / "data" / "model.pt2").is_file()
    assert meta.flavors["python_function"]["loader_module"] == "mlflow.pytorch"
    assert meta.signature is not None and meta.signature.inputs is not None
    assert list(meta.signature.inputs.inputs) == [TensorSpec("float32", (-1, 4))]
    assert meta.signature.outputs is not None
    assert list(meta.signature.outputs.inputs) == [TensorSpec("float32", (-1, 3))]
    requirements = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert f"torch=={torch.__version__.split('+')[0]}" in requirements

    loaded = mltrail.pytorch.load_model(tmp_path / "m")
    # The batch dimension stays dynamic: a batch of 6 runs although the example had 3 rows.
    np.testing.assert_allclose(_expected(loaded, batch), _expected(net, batch), rtol=1e-5, atol=1e-6)


def test_default_format_scripts_without_an_example(tmp_path: Path, net: TinyNet, batch: np.ndarray) -> None:
    meta = mltrail.pytorch.save_model(net, tmp_path / "m")
    assert meta.flavors["pytorch"]["serialization_format"] == "torchscript"
    assert meta.signature is None
    loaded = mltrail.pytorch.load_model(tmp_path / "m")
    assert isinstance(loaded, torch.jit.ScriptModule)
    np.testing.assert_allclose(_expected(loaded, batch), _expected(net, batch), rtol=1e-5, atol=1e-6)


def test_a_scripted_module_is_saved_as_torchscript(tmp_path: Path, net: TinyNet, batch: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated upstream
        scripted = torch.jit.script(net)
    meta = mltrail.pytorch.save_model(scripted, tmp_path / "m", input_example=batch[:2])
    assert meta.flavors["pytorch"]["serialization_format"] == "torchscript"
    np.testing.assert_allclose(
        _expected(mltrail.pytorch.load_model(tmp_path / "m"), batch), _expected(net, batch), rtol=1e-6
    )


def test_tensor_example_is_stored_as_an_array(tmp_path: Path, net: TinyNet, batch: np.ndarray) -> None:
    example = torch.from_numpy(batch[:2])
    meta = mltrail.pytorch.save_model(net, tmp_path / "m", serialization_format="pt2", input_example=example)
    assert meta.saved_input_example_info is not None
    assert meta.saved_input_example_info["type"] == "ndarray"
    model = mltrail.pyfunc.load_model(tmp_path / "m")
    np.testing.assert_allclose(np.asarray(model.input_example, dtype=np.float32), batch[:2])


def test_state_dict_rebuilds_the_model_from_its_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: np.ndarray
) -> None:
    source = tmp_path / "src" / "user_net.py"
    source.parent.mkdir()
    source.write_text(
        textwrap.dedent(
            """
            import torch

            class UserNet(torch.nn.Module):
                def __init__(self, width):
                    super().__init__()
                    self.lin = torch.nn.Linear(4, width)

                def forward(self, x):
                    return torch.tanh(self.lin(x))
            """
        )
    )
    monkeypatch.syspath_prepend(str(source.parent))
    import user_net  # type: ignore[import-not-found]

    torch.manual_seed(1)
    model = user_net.UserNet(5).eval()
    expected = _expected(model, batch)
    meta = mltrail.pytorch.save_model(
        model,
        tmp_path / "m",
        serialization_format="state_dict",
        model_init_kwargs={"width": 5},
        code_paths=[source],
    )
    conf = meta.flavors["pytorch"]
    assert conf["model_class"] == "user_net:UserNet"
    assert conf["model_init_kwargs"] == {"width": 5}
    assert (tmp_path / "m" / "data" / "model.safetensors").is_file()
    assert (tmp_path / "m" / "code" / "user_net.py").is_file()
    assert meta.flavors["python_function"]["loader_module"] == "mltrail.pytorch"

    # Load in a state where the original module is gone: it must come from the model's code/.
    monkeypatch.delitem(sys.modules, "user_net")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(source.parent)])
    source.unlink()
    loaded = mltrail.pytorch.load_model(tmp_path / "m")
    assert Path(sys.modules["user_net"].__file__ or "").parent == (tmp_path / "m" / "code").resolve()
    np.testing.assert_allclose(_expected(loaded, batch), expected, rtol=1e-5, atol=1e-6)
    pyfunc_model = mltrail.pyfunc.load_model(tmp_path / "m")
    np.testing.assert_allclose(pyfunc_model.predict(batch), expected, rtol=1e-5, atol=1e-6)


def test_state_dict_needs_an_importable_class(tmp_path: Path) -> None:
    class Local(torch.nn.Module):
        def forward(self, x: Any) -> Any:
            return x

    with pytest.raises(InvalidArgumentError, match="not importable"):
        mltrail.pytorch.save_model(Local(), tmp_path / "m", serialization_format="state_dict")
    assert not (tmp_path / "m").exists()


def test_pickle_format_needs_an_explicit_opt_in(tmp_path: Path, net: TinyNet, batch: np.ndarray) -> None:
    meta = mltrail.pytorch.save_model(net, tmp_path / "m", serialization_format="pickle")
    assert meta.flavors["pytorch"]["serialization_format"] == "pickle"
    assert (tmp_path / "m" / "data" / "pickle_module_info.txt").read_text() == "pickle"
    with pytest.raises(InvalidArgumentError, match=r"would execute pickled code.*allow_pickle=True"):
        mltrail.pytorch.load_model(tmp_path / "m")
    with pytest.raises(InvalidArgumentError, match="allow_pickle=True"):
        mltrail.pyfunc.load_model(tmp_path / "m")
    loaded = mltrail.pytorch.load_model(tmp_path / "m", allow_pickle=True)
    np.testing.assert_allclose(_expected(loaded, batch), _expected(net, batch), rtol=1e-5, atol=1e-6)


def test_pickle_format_loads_with_weights_only_when_its_classes_are_registered(
    tmp_path: Path, net: TinyNet, batch: np.ndarray
) -> None:
    mltrail.pytorch.save_model(net, tmp_path / "m", serialization_format="pickle")
    with pytest.raises(
        InvalidArgumentError, match=r"weights_only=True\) refused it \(it needs \S*_tiny_models\.TinyNet\)"
    ):
        mltrail.pytorch.load_model(tmp_path / "m")
    with torch.serialization.safe_globals([TinyNet, torch.nn.Linear]):
        loaded = mltrail.pytorch.load_model(tmp_path / "m")
    assert isinstance(loaded, TinyNet)
    np.testing.assert_allclose(_expected(loaded, batch), _expected(net, batch), rtol=1e-5, atol=1e-6)


class _Marker:
    """Unpickling this creates a directory: stands for any code a crafted file could run."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        import os

        return os.makedirs, (str(self.path),)


def _replace_record(archive: Path, suffix: str, content: bytes) -> None:
    with zipfile.ZipFile(archive) as source:
        records = {info.filename: source.read(info) for info in source.infolist()}
    name = next(n for n in records if n.endswith(suffix))
    records[name] = content
    with zipfile.ZipFile(archive, "w") as target:
        for record, data in records.items():
            target.writestr(record, data)


def test_pt2_archive_with_a_pickled_payload_is_refused(
    tmp_path: Path, net: TinyNet, batch: np.ndarray
) -> None:
    mltrail.pytorch.save_model(net, tmp_path / "m", input_example=batch[:2])
    archive = tmp_path / "m" / "data" / "model.pt2"
    check_pt2_archive(archive)  # a genuine export passes
    marker = tmp_path / "code-ran"
    buffer = io.BytesIO()
    torch.save(((torch.zeros(1), _Marker(marker)), {}), buffer)
    _replace_record(archive, "data/sample_inputs/model.pt", buffer.getvalue())

    with pytest.raises(
        InvalidArgumentError, match=r"record 'data/sample_inputs/model.pt'.*allow_pickle=True"
    ):
        mltrail.pytorch.load_model(tmp_path / "m")
    assert not marker.exists()
    # The same archive loaded without the check runs the payload, which is why it is refused.
    with pytest.raises(Exception):  # noqa: B017 - torch rejects the odd sample inputs after unpickling
        mltrail.pytorch.load_model(tmp_path / "m", allow_pickle=True)
    assert marker.is_dir()


def test_pt2_graph_with_python_in_a_shape_expression_is_refused(
    tmp_path: Path, net: TinyNet, batch: np.ndarray
) -> None:
    mltrail.pytorch.save_model(net, tmp_path / "m", input_example=batch[:3])
    archive = tmp_path / "m" / "data" / "model.pt2"
    marker = tmp_path / "code-ran"
    with zipfile.ZipFile(archive) as source:
        name = next(n for n in source.namelist() if n.endswith("models/model.json"))
        graph = source.read(name).decode()
    assert "Symbol(" in graph  # the dynamic batch dimension is stored as a sympy expression
    crafted = re.sub(
        r'"expr_str": "[^"]*"',
        f"\"expr_str\": \"__import__('os').makedirs('{marker}') or 1\"",
        graph,
        count=1,
    )
    _replace_record(archive, "models/model.json", crafted.encode())

    with pytest.raises(InvalidArgumentError, match=r"models/model.json.*__import__"):
        mltrail.pytorch.load_model(tmp_path / "m")
    assert not marker.exists()
    # torch itself evaluates the expression while loading, which is why the check exists.
    with pytest.raises(Exception):  # noqa: B017 - the crafted expression is not a valid shape
        mltrail.pytorch.load_model(tmp_path / "m", allow_pickle=True)
    assert marker.is_dir()


def test_pt2_archive_with_unknown_records_is_refused(tmp_path: Path, net: TinyNet, batch: np.ndarray) -> None:
    mltrail.pytorch.save_model(net, tmp_path / "m", input_example=batch[:2])
    archive = tmp_path / "m" / "data" / "model.pt2"
    with zipfile.ZipFile(archive, "a") as target:
        target.writestr("model/data/aotinductor/model/model.so", b"\x7fELF")
        target.writestr("model/extra/blob.pkl", pickle.dumps({"x": 1}))
    with pytest.raises(InvalidArgumentError, match="aotinductor"):
        check_pt2_archive(archive)


def test_pyfunc_wrapper_takes_arrays_frames_and_tensors(
    tmp_path: Path, net: TinyNet, batch: np.ndarray
) -> None:
    expected = _expected(net, batch)
    mltrail.pytorch.save_model(net, tmp_path / "m", input_example=batch[:2])
    model = mltrail.pyfunc.load_model(tmp_path / "m")
    assert model.loader_module == "mlflow.pytorch"
    np.testing.assert_allclose(model.predict(batch), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(InvalidArgumentError):
        model.predict(batch[:, :2])

    impl = PytorchImplementation(net)
    frame = pd.DataFrame(batch.astype(np.float64), columns=list("abcd"), index=list("uvwxyz"))
    out = impl.predict(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == list("uvwxyz")
    np.testing.assert_allclose(out.to_numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(impl.predict(torch.from_numpy(batch)), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(impl.predict(batch.tolist()), expected, rtol=1e-5, atol=1e-6)


def test_invalid_options(tmp_path: Path, net: TinyNet) -> None:
    with pytest.raises(InvalidArgumentError, match="Unknown serialization_format"):
        mltrail.pytorch.save_model(net, tmp_path / "a", serialization_format="onnx")
    with pytest.raises(InvalidArgumentError, match="needs an input_example"):
        mltrail.pytorch.save_model(net, tmp_path / "b", serialization_format="pt2")
    with pytest.raises(InvalidArgumentError, match=r"torch\.nn\.Module"):
        mltrail.pytorch.save_model(object(), tmp_path / "c")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_flavor_is_registered(tmp_path: Path, net: TinyNet) -> None:
    from mltrail.models.flavor import flavor_for_loader_module, get_flavor
    from mltrail.models.flavors.pytorch import PytorchFlavor

    assert isinstance(get_flavor("pytorch"), PytorchFlavor)
    assert isinstance(flavor_for_loader_module("mlflow.pytorch"), PytorchFlavor)
    meta = get_flavor("pytorch").save(net, tmp_path / "m")
    assert Model.load(tmp_path / "m").flavors["pytorch"] == meta.flavors["pytorch"]


def test_importing_the_flavors_imports_no_framework() -> None:
    import json
    import subprocess

    probe = (
        "import json, sys\n"
        "import mltrail.pytorch, mltrail.transformers\n"
        "import mltrail.models.flavors.pytorch, mltrail.models.flavors.transformers\n"
        "heavy = ['torch', 'transformers', 'safetensors', 'numpy', 'pandas']\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(done.stdout) == []
