"""transformers Trainer autologging: a randomly initialised tiny BERT trained a few steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

transformers = pytest.importorskip("transformers", reason="Trainer autologging needs transformers")
pytest.importorskip("accelerate", reason="transformers' Trainer needs accelerate")

import torch  # noqa: E402

import mltrail.transformers  # noqa: E402
from mltrail.autolog.transformers_trainer import task_of  # noqa: E402
from mltrail.tracking.client import TrackingClient  # noqa: E402
from mltrail.tracking.entities import RunStatus  # noqa: E402
from tests.models import _tiny_models as tiny  # noqa: E402


class _Texts(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    def __init__(self, tokenizer: Any) -> None:
        self._enc = tokenizer(tiny.TEXTS, padding=True)

    def __len__(self) -> int:
        return len(tiny.TEXTS)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {
            "input_ids": torch.tensor(self._enc["input_ids"][i]),
            "attention_mask": torch.tensor(self._enc["attention_mask"][i]),
            "labels": torch.tensor(i % 2),
        }


def _trainer(tmp_path: Path) -> Any:
    tokenizer = tiny.tokenizer()
    model = tiny.classifier().train()
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"),
        max_steps=4,
        per_device_train_batch_size=2,
        learning_rate=1e-3,
        logging_steps=1,
        eval_strategy="steps",
        eval_steps=2,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
    )
    data = _Texts(tokenizer)
    return transformers.Trainer(
        model=model, args=args, train_dataset=data, eval_dataset=data, processing_class=tokenizer
    )


def test_trainer_logs_args_metrics_and_model(store: TrackingClient, tmp_path: Path) -> None:
    mltrail.transformers.autolog()
    trainer = _trainer(tmp_path)
    trainer.train()

    (run,) = store.search_runs(["0"]).items
    run_id = run.info.run_id
    assert run.info.status == RunStatus.FINISHED
    assert run.data.params["learning_rate"] == "0.001"
    assert run.data.params["max_steps"] == "4"
    assert run.data.params["model_config.hidden_size"] == "32"
    assert [m.step for m in store.get_metric_history(run_id, "loss")] == [1, 2, 3, 4]
    assert [m.step for m in store.get_metric_history(run_id, "eval_loss")] == [2, 4]
    assert {"learning_rate", "train_runtime", "train_loss"} <= set(run.data.metrics)

    pipeline = mltrail.transformers.load_model(f"runs:/{run_id}/model")
    assert pipeline.task == "text-classification"
    (prediction,) = pipeline(["the cat sat on the mat"])
    assert prediction["label"] in {"LABEL_0", "LABEL_1"}
    inputs = trainer.processing_class(["the cat sat on the mat"], return_tensors="pt")
    with torch.no_grad():
        probs = torch.softmax(trainer.model.eval()(**inputs).logits, dim=-1)[0]
    assert prediction["score"] == pytest.approx(float(probs.max()), abs=1e-5)

    # A later evaluate() is logged to the same, already finished run.
    trainer.evaluate()
    mltrail.flush()
    assert len(store.get_metric_history(run_id, "eval_loss")) == 3


def test_task_from_model_class() -> None:
    assert task_of(tiny.classifier()) == "text-classification"
    assert task_of(tiny.generator()) == "text-generation"
    assert task_of(tiny.encoder()) == "feature-extraction"
    assert task_of(object()) is None
