"""The transformers flavor: tiny random pipelines save with save_pretrained and load back offline."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch", reason="the transformers flavor tests need torch (mltrail[transformers])")
transformers = pytest.importorskip("transformers", reason="needs transformers (mltrail[transformers])")

import mltrail.pyfunc  # noqa: E402
import mltrail.transformers  # noqa: E402
from mltrail.errors import InvalidArgumentError  # noqa: E402
from mltrail.models.flavor import flavor_for_loader_module  # noqa: E402
from mltrail.models.flavors.transformers import TransformersFlavor  # noqa: E402
from mltrail.models.model import Model  # noqa: E402
from mltrail.models.schema import ColSpec, DataType, TensorSpec  # noqa: E402

from ._tiny_models import classifier, pipeline, tokenizer  # noqa: E402

TEXTS = ["the cat sat on the mat", "bad weather today", "hello dog"]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to open a connection (a hub download) fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three pipelines saved once: (directory, original pipeline) per task."""
    root = tmp_path_factory.mktemp("hf")
    out: dict[str, Any] = {}
    for task in ("text-classification", "feature-extraction", "text-generation"):
        pipe = pipeline(task)
        config = {"max_new_tokens": 4, "do_sample": False} if task == "text-generation" else None
        mltrail.transformers.save_model(pipe, root / task, model_config=config)
        out[task] = (root / task, pipe)
    return out


def test_layout_and_mlmodel_match_mlflow(saved: dict[str, Any]) -> None:
    directory, pipe = saved["text-classification"]
    assert (directory / "model" / "model.safetensors").is_file()
    assert (directory / "model" / "config.json").is_file()
    assert (directory / "components" / "tokenizer" / "tokenizer.json").is_file()
    assert not [p for p in directory.rglob("*") if p.suffix in (".bin", ".pkl", ".pt", ".pth")]
    meta = Model.load(directory)
    conf = meta.flavors["transformers"]
    assert conf["task"] == "text-classification"
    assert conf["instance_type"] == "TextClassificationPipeline"
    assert conf["pipeline_model_type"] == "BertForSequenceClassification"
    assert conf["model_binary"] == "model"
    assert conf["components"] == ["tokenizer"]
    assert conf["tokenizer_type"] == type(pipe.tokenizer).__name__
    assert conf["transformers_version"] == transformers.__version__
    assert meta.flavors["python_function"]["loader_module"] == "mlflow.transformers"
    assert meta.signature is not None and meta.signature.outputs is not None
    assert list(meta.signature.outputs.inputs) == [
        ColSpec(DataType.string, "label"),
        ColSpec(DataType.double, "score"),
    ]
    requirements = (directory / "requirements.txt").read_text()
    assert f"transformers=={transformers.__version__}" in requirements
    assert "safetensors==" in requirements and "torch==" in requirements


def test_pipeline_round_trip(saved: dict[str, Any]) -> None:
    directory, pipe = saved["text-classification"]
    loaded = mltrail.transformers.load_model(directory)
    assert isinstance(loaded, transformers.TextClassificationPipeline)
    assert loaded(TEXTS, top_k=None) == pipe(TEXTS, top_k=None)


def test_components_round_trip(saved: dict[str, Any]) -> None:
    directory, pipe = saved["text-classification"]
    parts = mltrail.transformers.load_model(directory, return_type="components")
    assert sorted(parts) == ["model", "task", "tokenizer"]
    assert parts["task"] == "text-classification"
    encoded = parts["tokenizer"](TEXTS, return_tensors="pt", padding=True)
    assert (
        encoded["input_ids"].tolist()
        == pipe.tokenizer(TEXTS, return_tensors="pt", padding=True)["input_ids"].tolist()
    )
    import torch

    with torch.no_grad():
        np.testing.assert_allclose(
            parts["model"](**encoded).logits.numpy(), pipe.model(**encoded).logits.numpy(), rtol=1e-5
        )


def test_pyfunc_text_classification(saved: dict[str, Any]) -> None:
    directory, pipe = saved["text-classification"]
    model = mltrail.pyfunc.load_model(directory)
    out = model.predict(TEXTS)
    assert isinstance(out, pd.DataFrame)
    assert out.to_dict("records") == [{"label": r["label"], "score": r["score"]} for r in pipe(TEXTS)]
    frame_out = model.predict(pd.DataFrame({"text": TEXTS}))
    assert frame_out.equals(out)


def test_pyfunc_feature_extraction(saved: dict[str, Any]) -> None:
    directory, pipe = saved["feature-extraction"]
    meta = Model.load(directory)
    assert meta.signature is not None and meta.signature.outputs is not None
    assert list(meta.signature.outputs.inputs) == [TensorSpec("float64", (-1,))]
    model = mltrail.pyfunc.load_model(directory)
    single = model.predict(["the cat sat"])
    expected = np.asarray(pipe(["the cat sat"])[0][0])
    assert single.shape == expected.shape == (3, 32)
    np.testing.assert_allclose(single, expected, rtol=1e-5)
    several = model.predict(TEXTS)
    assert [a.shape[0] for a in several] == [6, 3, 2]


def test_pyfunc_text_generation_uses_model_config_and_params(saved: dict[str, Any]) -> None:
    directory, pipe = saved["text-generation"]
    model = mltrail.pyfunc.load_model(directory)
    expected = [r[0]["generated_text"] for r in pipe(["the cat", "a dog"], max_new_tokens=4, do_sample=False)]
    assert model.predict(["the cat", "a dog"]) == expected
    # model_config at load time overrides the saved one.
    longer = mltrail.pyfunc.load_model(directory, model_config={"max_new_tokens": 7})
    expected_longer = pipe(["the cat"], max_new_tokens=7, do_sample=False)[0][0]["generated_text"]
    assert longer.predict(["the cat"]) == [expected_longer]


def test_generation_params_declared_by_the_example(tmp_path: Path) -> None:
    pipe = pipeline("text-generation")
    mltrail.transformers.save_model(
        pipe, tmp_path / "m", input_example=(["the cat"], {"max_new_tokens": 2, "do_sample": False})
    )
    model = mltrail.pyfunc.load_model(tmp_path / "m")
    assert model.signature is not None and model.signature.params is not None
    out = model.predict(["the cat"], params={"max_new_tokens": 5})
    assert out == [pipe(["the cat"], max_new_tokens=5, do_sample=False)[0][0]["generated_text"]]


def test_model_and_tokenizer_dict(tmp_path: Path) -> None:
    model, tok = classifier(), tokenizer()
    with pytest.raises(InvalidArgumentError, match="task"):
        mltrail.transformers.save_model({"model": model, "tokenizer": tok}, tmp_path / "no-task")
    mltrail.transformers.save_model(
        {"model": model, "tokenizer": tok}, tmp_path / "m", task="text-classification"
    )
    reference = transformers.pipeline("text-classification", model=model, tokenizer=tok)
    assert mltrail.transformers.load_model(tmp_path / "m")(TEXTS) == reference(TEXTS)
    with pytest.raises(InvalidArgumentError, match="Unknown transformers components"):
        mltrail.transformers.save_model(
            {"model": model, "vocoder": tok}, tmp_path / "x", task="text-classification"
        )


def test_pickled_weights_need_an_opt_in(tmp_path: Path, saved: dict[str, Any]) -> None:
    import shutil

    import torch
    from safetensors.torch import load_file

    source, pipe = saved["text-classification"]
    directory = tmp_path / "m"
    shutil.copytree(source, directory)
    weights = directory / "model" / "model.safetensors"
    torch.save(load_file(str(weights)), directory / "model" / "pytorch_model.bin")
    weights.unlink()
    with pytest.raises(InvalidArgumentError, match=r"pytorch_model.bin.*allow_pickle=True"):
        mltrail.transformers.load_model(directory)
    loaded = mltrail.transformers.load_model(directory, allow_pickle=True)
    assert loaded(TEXTS) == pipe(TEXTS)


def test_models_saved_without_weights_are_not_downloaded(tmp_path: Path, saved: dict[str, Any]) -> None:
    source, _ = saved["text-classification"]
    meta = Model.load(source)
    conf = dict(meta.flavors["transformers"])
    del conf["model_binary"]
    conf["source_model_name"] = "someone/some-model"
    meta.add_flavor("transformers", **conf)
    (tmp_path / "m").mkdir()
    meta.save(tmp_path / "m")
    with pytest.raises(InvalidArgumentError, match="never downloads"):
        mltrail.transformers.load_model(tmp_path / "m")


def test_invalid_inputs(tmp_path: Path, saved: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError, match="Pipeline"):
        mltrail.transformers.save_model(object(), tmp_path / "m")
    directory, _ = saved["text-classification"]
    with pytest.raises(InvalidArgumentError, match="return_type"):
        mltrail.transformers.load_model(directory, return_type="tokenizer")
    with pytest.raises(InvalidArgumentError, match="string"):
        mltrail.pyfunc.load_model(directory).implementation.predict([1, 2])


def test_flavor_is_registered() -> None:
    assert isinstance(flavor_for_loader_module("mlflow.transformers"), TransformersFlavor)
    assert isinstance(flavor_for_loader_module("mltrail.transformers"), TransformersFlavor)
