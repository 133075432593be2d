"""PyTorch Lightning autologging: a tiny model trained two epochs on random tensors."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("pytorch_lightning", reason="Lightning autologging needs pytorch-lightning")

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

import mltrail.pytorch
from mltrail.tracking.client import TrackingClient
from mltrail.tracking.entities import RunStatus


class TinyRegressor(pl.LightningModule):
    """Four features to one output."""

    def __init__(self, lr: float = 0.01, hidden: int = 8) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self(x), y))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams["lr"], momentum=0.9)


def _loaders() -> tuple[DataLoader[Any], DataLoader[Any]]:
    torch.manual_seed(0)
    x = torch.randn(64, 4)
    y = x.sum(dim=1, keepdim=True)
    return DataLoader(TensorDataset(x, y), batch_size=16), DataLoader(TensorDataset(x, y), batch_size=32)


def _trainer(tmp_dir: str) -> Any:
    return pl.Trainer(
        max_epochs=2,
        log_every_n_steps=1,
        enable_progress_bar=False,
        enable_model_summary=False,
        logger=False,
        default_root_dir=tmp_dir,
        callbacks=[
            pl.callbacks.EarlyStopping(monitor="val_loss", patience=3),
            pl.callbacks.ModelCheckpoint(monitor="val_loss", dirpath=tmp_dir),
        ],
    )


def test_two_epochs_log_params_metrics_and_best_checkpoint(store: TrackingClient, tmp_path: Any) -> None:
    mltrail.pytorch.autolog()
    train, val = _loaders()
    module = TinyRegressor(lr=0.05)
    trainer = _trainer(str(tmp_path / "ckpt"))
    trainer.fit(module, train, val)

    (run,) = store.search_runs(["0"]).items
    run_id = run.info.run_id
    assert run.info.status == RunStatus.FINISHED
    params = run.data.params
    assert params["lr"] == "0.05" and params["hidden"] == "8"
    assert params["epochs"] == "2"
    assert params["optimizer_name"] == "SGD"
    assert params["optimizer_lr"] == "0.05" and params["optimizer_momentum"] == "0.9"
    assert params["early_stopping_monitor"] == "val_loss" and params["early_stopping_patience"] == "3"

    step_history = store.get_metric_history(run_id, "train_loss_step")
    assert [m.step for m in step_history] == list(range(1, 9))  # 4 batches x 2 epochs
    epoch_history = store.get_metric_history(run_id, "train_loss_epoch")
    assert [m.step for m in epoch_history] == [0, 1]
    val_history = store.get_metric_history(run_id, "val_loss")
    assert [m.step for m in val_history] == [0, 1]
    assert "early_stopping_wait_count" in run.data.metrics
    assert run.data.metrics["early_stopping_best_score"] == pytest.approx(min(m.value for m in val_history))

    best = trainer.checkpoint_callback.best_model_path
    assert run.data.tags["best_checkpoint"] == best.rsplit("/", 1)[-1]
    loaded = mltrail.pytorch.load_model(f"runs:/{run_id}/model")
    expected = TinyRegressor()
    expected.load_state_dict(torch.load(best, weights_only=True)["state_dict"])
    batch = torch.randn(3, 4)
    with torch.no_grad():
        torch.testing.assert_close(loaded(batch), expected.eval()(batch))
    assert not any(type(c).__name__ == "MltrailAutologCallback" for c in trainer.callbacks)


def test_disabled_lightning_logs_nothing(store: TrackingClient, tmp_path: Any) -> None:
    mltrail.pytorch.autolog()
    mltrail.pytorch.autolog(disable=True)
    train, val = _loaders()
    _trainer(str(tmp_path / "ckpt")).fit(TinyRegressor(), train, val)
    assert store.search_runs(["0"]).items == []


class _Exploding(TinyRegressor):
    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        raise ArithmeticError("user bug")


def test_user_error_propagates_and_fails_the_run(store: TrackingClient, tmp_path: Any) -> None:
    mltrail.pytorch.autolog()
    train, val = _loaders()
    trainer = _trainer(str(tmp_path / "ckpt"))
    with pytest.raises(ArithmeticError, match="user bug"):
        trainer.fit(_Exploding(), train, val)
    (run,) = store.search_runs(["0"]).items
    assert run.info.status == RunStatus.FAILED
    assert not any(type(c).__name__ == "MltrailAutologCallback" for c in trainer.callbacks)
