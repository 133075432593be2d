"""``mltrail.autolog()``: every installed integration on, absent frameworks never imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import mltrail
import mltrail.autolog as autolog_module
from mltrail.autolog import lightning, transformers_trainer
from mltrail.autolog import sklearn as sk_autolog
from mltrail.tracking.client import TrackingClient

ROOT = Path(__file__).resolve().parents[2]


def test_turns_on_every_installed_integration(store: TrackingClient) -> None:
    enabled = mltrail.autolog()
    assert enabled == ["sklearn", "lightning", "transformers"]
    assert sk_autolog.is_enabled() and lightning.is_enabled() and transformers_trainer.is_enabled()
    assert mltrail.autolog(disable=True) == enabled
    assert not (sk_autolog.is_enabled() or lightning.is_enabled() or transformers_trainer.is_enabled())


def test_module_and_function_spellings_agree(store: TrackingClient) -> None:
    assert callable(autolog_module)
    assert autolog_module(exclude=("lightning", "transformers")) == ["sklearn"]
    assert sk_autolog.is_enabled() and not lightning.is_enabled()


def test_absent_framework_is_skipped(store: TrackingClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        autolog_module.INTEGRATIONS, "nosuch", (("nosuch_framework_for_tests",), "nosuch.module")
    )
    assert "nosuch" not in mltrail.autolog(exclude=("lightning", "transformers"))
    assert "nosuch_framework_for_tests" not in sys.modules


_PROBE = """
import json, sys
import mltrail
enabled = mltrail.autolog(exclude=("lightning", "transformers"))
heavy = [m for m in ("torch", "transformers", "pytorch_lightning") if m in sys.modules]
early = "sklearn.naive_bayes" in sys.modules
import sklearn.naive_bayes  # imported after autolog(): patched by the import hook
patched = hasattr(sklearn.naive_bayes.GaussianNB.__dict__["fit"], "__wrapped__")
print(json.dumps({"enabled": enabled, "heavy": heavy, "early": early, "patched": patched}))
"""


def test_excluded_frameworks_are_not_imported_and_late_modules_are_patched(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src"), "HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, cwd=tmp_path, env=env
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {"enabled": ["sklearn"], "heavy": [], "early": False, "patched": True}
