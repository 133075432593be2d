"""PyTorch and transformers models across MLflow 3.x and mltrail (MLflow runs only in subprocesses).

(a) MLflow saves pytorch (pt2, TorchScript, pickle) and transformers models; mltrail loads them and
predicts what MLflow's process computed. (b) MLflow loads mltrail's pt2 and transformers models in
an interpreter where mltrail cannot be imported, and mltrail's state_dict models through
``mltrail.pytorch`` when it can.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

for _package in ("mlflow", "torch", "transformers"):
    if importlib.util.find_spec(_package) is None:
        pytest.skip(f"the interop tests need {_package} (a dev dependency)", allow_module_level=True)

import mltrail.pyfunc  # noqa: E402
import mltrail.pytorch  # noqa: E402
import mltrail.transformers  # noqa: E402
from mltrail.errors import InvalidArgumentError  # noqa: E402

from ._helpers import run_python  # noqa: E402
from ._tiny_models import pipeline, tiny_net  # noqa: E402

REPO_ROOT = str(Path(__file__).resolve().parents[2])
BATCH = np.linspace(-1.0, 1.0, 24, dtype=np.float32).reshape(6, 4)
TEXTS = ["the cat sat on the mat", "bad weather today"]

SAVE_WITH_MLFLOW = """
import json, warnings
import numpy as np
import torch
import mlflow.pyfunc, mlflow.pytorch, mlflow.transformers
from tests.models._tiny_models import pipeline, tiny_net

warnings.simplefilter("ignore")
batch = np.linspace(-1.0, 1.0, 24, dtype=np.float32).reshape(6, 4)
net = tiny_net()
mlflow.pytorch.save_model(net, "pt_pt2", input_example=batch[:3])
mlflow.pytorch.save_model(net, "pt_pickle", serialization_format="pickle")
mlflow.pytorch.save_model(torch.jit.script(net), "pt_script", serialization_format="pickle")
with torch.no_grad():
    torch_out = net(torch.from_numpy(batch)).numpy().tolist()

texts = ["the cat sat on the mat", "bad weather today"]
reqs = ["transformers", "torch"]
classify = pipeline("text-classification")
mlflow.transformers.save_model(classify, "hf_classify", pip_requirements=reqs)
generate = pipeline("text-generation")
mlflow.transformers.save_model(
    generate, "hf_generate", pip_requirements=reqs, model_config={"max_new_tokens": 3, "do_sample": False}
)
components = {"model": classify.model, "tokenizer": classify.tokenizer}
mlflow.transformers.save_model(components, "hf_dict", task="text-classification", pip_requirements=reqs)
# mltrail's state_dict model (saved before this runs) loads in MLflow through mltrail.pytorch;
# its class exists only in the model's code/ directory.
state_dict_out = mlflow.pyfunc.load_model("mltrail_state_dict").predict(batch).tolist()
print(json.dumps({
    "state_dict": state_dict_out,
    "torch": torch_out,
    "classify": classify(texts),
    "generate": [r[0]["generated_text"] for r in generate(texts, max_new_tokens=3, do_sample=False)],
}))
"""


NET_MODULE = """
import torch


class InteropNet(torch.nn.Module):
    def __init__(self, width):
        super().__init__()
        self.lin = torch.nn.Linear(4, width)

    def forward(self, x):
        return torch.sigmoid(self.lin(x))
"""


@pytest.fixture(scope="module")
def mlflow_saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Models saved by MLflow in a subprocess, what they predicted there, and what MLflow's
    process predicted with mltrail's state_dict model (saved here first, as ``mltrail_state_dict``)."""
    import torch

    directory = tmp_path_factory.mktemp("mlflow-torch")
    source = directory / "src" / "interop_net.py"
    source.parent.mkdir()
    source.write_text(NET_MODULE)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(source.parent))
        import interop_net  # type: ignore[import-not-found]

        torch.manual_seed(3)
        net = interop_net.InteropNet(2).eval()
        mltrail.pytorch.save_model(
            net,
            directory / "mltrail_state_dict",
            serialization_format="state_dict",
            model_init_kwargs={"width": 2},
            code_paths=[source],
        )
    sys.modules.pop("interop_net", None)
    source.unlink()
    result = run_python(SAVE_WITH_MLFLOW, directory, env={"PYTHONPATH": REPO_ROOT})
    result["state_dict_expected"] = _predict(net, BATCH).tolist()
    return directory, result


def _predict(model: Any, data: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        out: np.ndarray = model(torch.from_numpy(data)).numpy()
    return out


def test_a_mltrail_loads_mlflow_pt2_models(mlflow_saved: tuple[Path, dict[str, Any]]) -> None:
    directory, expected = mlflow_saved
    model = mltrail.pytorch.load_model(directory / "pt_pt2")
    np.testing.assert_allclose(_predict(model, BATCH), expected["torch"], rtol=1e-5, atol=1e-6)
    pyfunc_model = mltrail.pyfunc.load_model(directory / "pt_pt2")
    assert pyfunc_model.loader_module == "mlflow.pytorch"
    np.testing.assert_allclose(pyfunc_model.predict(BATCH), expected["torch"], rtol=1e-5, atol=1e-6)


def test_a_mltrail_loads_mlflow_torchscript_without_pickle(mlflow_saved: tuple[Path, dict[str, Any]]) -> None:
    directory, expected = mlflow_saved
    model = mltrail.pytorch.load_model(directory / "pt_script")
    np.testing.assert_allclose(_predict(model, BATCH), expected["torch"], rtol=1e-5, atol=1e-6)


def test_a_mltrail_loads_mlflow_pickled_modules_only_on_opt_in(
    mlflow_saved: tuple[Path, dict[str, Any]],
) -> None:
    directory, expected = mlflow_saved
    with pytest.raises(InvalidArgumentError, match="allow_pickle=True"):
        mltrail.pytorch.load_model(directory / "pt_pickle")
    model = mltrail.pytorch.load_model(directory / "pt_pickle", allow_pickle=True)
    np.testing.assert_allclose(_predict(model, BATCH), expected["torch"], rtol=1e-5, atol=1e-6)


def test_a_mltrail_loads_mlflow_transformers_models(mlflow_saved: tuple[Path, dict[str, Any]]) -> None:
    directory, expected = mlflow_saved
    classify = mltrail.transformers.load_model(directory / "hf_classify")
    assert classify(TEXTS) == expected["classify"]
    pyfunc_model = mltrail.pyfunc.load_model(directory / "hf_classify")
    assert pyfunc_model.predict(TEXTS).to_dict("records") == expected["classify"]
    parts = mltrail.transformers.load_model(directory / "hf_dict", return_type="components")
    assert parts["task"] == "text-classification"
    assert (
        mltrail.pyfunc.load_model(directory / "hf_dict").predict(TEXTS).to_dict("records")
        == expected["classify"]
    )
    # MLflow stored the generation settings as the pyfunc model_config; mltrail applies them.
    assert mltrail.pyfunc.load_model(directory / "hf_generate").predict(TEXTS) == expected["generate"]


LOAD_WITH_MLFLOW = """
import json, warnings
import numpy as np
try:
    import mltrail
    importable = True
except ImportError:
    importable = False
import mlflow.pyfunc, mlflow.pytorch, mlflow.transformers
import torch

warnings.simplefilter("ignore")
batch = np.linspace(-1.0, 1.0, 24, dtype=np.float32).reshape(6, 4)
texts = ["the cat sat on the mat", "bad weather today"]
out = {"mltrail_importable": importable}
if "pt2" in NAMES:
    with torch.no_grad():
        out["pt2"] = mlflow.pytorch.load_model("pt2")(torch.from_numpy(batch)).numpy().tolist()
    out["pt2_pyfunc"] = mlflow.pyfunc.load_model("pt2").predict(batch).tolist()
if "classify" in NAMES:
    out["classify"] = mlflow.transformers.load_model("classify")(texts)
    out["classify_pyfunc"] = mlflow.pyfunc.load_model("classify").predict(texts).to_dict("records")
print(json.dumps(out))
"""


def test_b_mlflow_loads_mltrail_pt2_and_transformers_models_without_mltrail(tmp_path: Path) -> None:
    net = tiny_net()
    mltrail.pytorch.save_model(net, tmp_path / "pt2", input_example=BATCH[:3])
    classify = pipeline("text-classification")
    mltrail.transformers.save_model(classify, tmp_path / "classify")
    names = ["pt2", "classify"]
    result = run_python(f"NAMES = {names!r}\n" + LOAD_WITH_MLFLOW, tmp_path, with_mltrail=False)
    assert result["mltrail_importable"] is False
    expected = _predict(net, BATCH)
    np.testing.assert_allclose(result["pt2"], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result["pt2_pyfunc"], expected, rtol=1e-5, atol=1e-6)
    assert result["classify"] == classify(TEXTS)
    assert result["classify_pyfunc"] == classify(TEXTS)


def test_b_mlflow_loads_mltrail_state_dict_models_through_mltrail(
    mlflow_saved: tuple[Path, dict[str, Any]],
) -> None:
    directory, result = mlflow_saved
    np.testing.assert_allclose(result["state_dict"], result["state_dict_expected"], rtol=1e-5, atol=1e-6)
    frame = pd.DataFrame(BATCH)
    np.testing.assert_allclose(
        mltrail.pyfunc.load_model(directory / "mltrail_state_dict").predict(frame),
        result["state_dict_expected"],
        rtol=1e-5,
        atol=1e-6,
    )
