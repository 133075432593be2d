"""The MLmodel file: a model directory's metadata (spec MODELS-SERVING §2).

:class:`Model` reads and writes the YAML with sorted keys, as MLflow does, and keeps every key it
does not know in :attr:`Model.extras` so that a read-then-write round trip loses nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from mltrail import __version__ as MLTRAIL_VERSION
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.models.schema import ModelSignature

__all__ = ["MLFLOW_FORMAT_VERSION", "MLMODEL_FILE_NAME", "MLTRAIL_VERSION", "Model"]

MLMODEL_FILE_NAME = "MLmodel"
MLFLOW_FORMAT_VERSION = "3.17.2"
"""The MLflow release whose model format mltrail writes (the ``mlflow_version`` key)."""

_KNOWN = frozenset(
    {
        "artifact_path",
        "run_id",
        "model_id",
        "model_uuid",
        "utc_time_created",
        "mlflow_version",
        "mltrail_version",
        "flavors",
        "signature",
        "is_signature_from_type_hint",
        "type_hint_from_example",
        "saved_input_example_info",
        "metadata",
        "prompts",
        "model_size_bytes",
        "env_vars",
    }
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class Model:
    """The metadata of one model directory.

    Attributes:
        flavors: Flavor name to that flavor's configuration.
        signature: The model's input/output/params schemas, if known.
        saved_input_example_info: Where the input example is stored and in which form.
        metadata: Free-form user metadata.
        extras: Keys this version does not model, kept verbatim.
    """

    artifact_path: str | None = None
    run_id: str | None = None
    model_id: str | None = None
    model_uuid: str = field(default_factory=lambda: uuid.uuid4().hex)
    utc_time_created: str = field(default_factory=_now)
    mlflow_version: str | None = MLFLOW_FORMAT_VERSION
    mltrail_version: str | None = MLTRAIL_VERSION
    flavors: dict[str, dict[str, Any]] = field(default_factory=dict)
    signature: ModelSignature | None = None
    is_signature_from_type_hint: bool = False
    type_hint_from_example: bool = False
    saved_input_example_info: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    prompts: list[str] | None = None
    model_size_bytes: int | None = None
    env_vars: list[str] | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def add_flavor(self, name: str, **config: Any) -> Model:
        """Record a flavor's configuration (replacing an earlier one of that name)."""
        self.flavors[name] = dict(config)
        return self

    def flavor_conf(self, name: str) -> dict[str, Any]:
        """The configuration of flavor ``name``.

        Raises:
            NotFoundError: the model was not saved with that flavor.
        """
        conf = self.flavors.get(name)
        if conf is None:
            raise NotFoundError(
                f"The model has no {name!r} flavor (it has: {', '.join(sorted(self.flavors)) or 'none'})"
            )
        return conf

    def to_dict(self) -> dict[str, Any]:
        """The MLmodel mapping: ``artifact_path``/``run_id`` are left out when unset."""
        out: dict[str, Any] = dict(self.extras)
        if self.artifact_path is not None:
            out["artifact_path"] = self.artifact_path
        if self.run_id is not None:
            out["run_id"] = self.run_id
        out.update(
            model_id=self.model_id,
            model_uuid=self.model_uuid,
            utc_time_created=self.utc_time_created,
            flavors=self.flavors,
            is_signature_from_type_hint=self.is_signature_from_type_hint,
            type_hint_from_example=self.type_hint_from_example,
            prompts=self.prompts,
        )
        optional = {
            "mlflow_version": self.mlflow_version,
            "mltrail_version": self.mltrail_version,
            "signature": None if self.signature is None else self.signature.to_dict(),
            "saved_input_example_info": self.saved_input_example_info,
            "metadata": self.metadata,
            "model_size_bytes": self.model_size_bytes,
            "env_vars": self.env_vars,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        return out

    def to_yaml(self) -> str:
        """The MLmodel text (``yaml.safe_dump`` with sorted keys)."""
        return yaml.safe_dump(self.to_dict(), sort_keys=True, default_flow_style=False)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the MLmodel file at ``path`` (a file path, or a directory to write ``MLmodel`` in)."""
        target = Path(path)
        if target.is_dir():
            target = target / MLMODEL_FILE_NAME
        target.write_text(self.to_yaml(), encoding="utf-8")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Model:
        """Build from an MLmodel mapping; unknown keys land in :attr:`extras`.

        Raises:
            InvalidArgumentError: a known key has the wrong shape.
        """
        flavors = data.get("flavors") or {}
        if not isinstance(flavors, Mapping):
            raise InvalidArgumentError("MLmodel 'flavors' must be a mapping")
        signature = data.get("signature")
        if signature is not None and not isinstance(signature, Mapping):
            raise InvalidArgumentError("MLmodel 'signature' must be a mapping")
        size = data.get("model_size_bytes")
        return cls(
            artifact_path=data.get("artifact_path"),
            run_id=data.get("run_id"),
            model_id=data.get("model_id"),
            model_uuid=str(data.get("model_uuid") or uuid.uuid4().hex),
            utc_time_created=str(data.get("utc_time_created") or _now()),
            mlflow_version=data.get("mlflow_version"),
            mltrail_version=data.get("mltrail_version"),
            flavors={str(k): dict(v or {}) for k, v in flavors.items()},
            signature=None if signature is None else ModelSignature.from_dict(signature),
            is_signature_from_type_hint=bool(data.get("is_signature_from_type_hint", False)),
            type_hint_from_example=bool(data.get("type_hint_from_example", False)),
            saved_input_example_info=data.get("saved_input_example_info"),
            metadata=data.get("metadata"),
            prompts=data.get("prompts"),
            model_size_bytes=None if size is None else int(size),
            env_vars=data.get("env_vars"),
            extras={k: v for k, v in data.items() if k not in _KNOWN},
        )

    @classmethod
    def from_yaml(cls, text: str) -> Model:
        """Parse MLmodel text.

        Raises:
            InvalidArgumentError: the text is not a YAML mapping.
        """
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidArgumentError(f"The MLmodel file is not valid YAML: {exc}") from exc
        if not isinstance(data, Mapping):
            raise InvalidArgumentError("The MLmodel file must hold a YAML mapping")
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Read a model directory's MLmodel file (``path`` is the directory or the file).

        Raises:
            NotFoundError: there is no MLmodel file there.
            InvalidArgumentError: the file is malformed.
        """
        target = Path(path)
        if target.is_dir():
            target = target / MLMODEL_FILE_NAME
        if not target.is_file():
            raise NotFoundError(f"No MLmodel file at {str(target)!r}: not a model directory")
        return cls.from_yaml(target.read_text(encoding="utf-8"))
