"""The Hugging Face transformers flavor: pipelines, or a model with its tokenizer, via ``save_pretrained``.

The layout and MLmodel keys are MLflow 3.x's: the model's ``save_pretrained`` output (safetensors
weights, config) in ``model/``, each component (tokenizer, feature extractor, image processor) in
``components/<name>/``, and under ``transformers`` the ``task``, ``instance_type``,
``pipeline_model_type``, ``model_binary``, ``components`` and ``<component>_type`` keys. So MLflow
loads these models and mltrail loads MLflow's. Loading never downloads (``local_files_only``),
never runs repository code (``trust_remote_code=False``), and reads pickled ``.bin`` weights only
with ``allow_pickle=True``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from mltrail.errors import InvalidArgumentError, MissingDependencyError, NotFoundError
from mltrail.models.environment import infer_requirements
from mltrail.models.flavor import Flavor
from mltrail.models.flavors.transformers_pyfunc import TransformersImplementation, default_signature
from mltrail.models.model import Model
from mltrail.models.packaging import copy_code_paths, finish_model, new_model_dir, pyfunc_conf

__all__ = ["COMPONENT_LOADERS", "TransformersFlavor"]

_MODEL_DIR = "model"
_COMPONENTS_DIR = "components"
_LOADER_MODULE = "mlflow.transformers"
COMPONENT_LOADERS = {
    "tokenizer": "AutoTokenizer",
    "feature_extractor": "AutoFeatureExtractor",
    "image_processor": "AutoImageProcessor",
}
"""Pipeline components saved beside the model, and the ``transformers`` Auto class that loads each."""
_PICKLED_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack")


def _transformers() -> Any:
    try:
        return importlib.import_module("transformers")
    except ImportError as exc:
        raise MissingDependencyError("transformers", "transformers") from exc


def _components_of(transformers: Any, model: Any, task: str | None) -> tuple[Any, dict[str, Any], str]:
    """The pipeline, its components by name and its task, from a pipeline or a components dict."""
    if isinstance(model, transformers.Pipeline):
        pipeline = model
    elif isinstance(model, Mapping):
        if "model" not in model:
            raise InvalidArgumentError("A transformers model dict needs a 'model' entry")
        unknown = sorted(set(model) - {"model", *COMPONENT_LOADERS})
        if unknown:
            raise InvalidArgumentError(
                f"Unknown transformers components {unknown}; use {['model', *COMPONENT_LOADERS]}"
            )
        if not task:
            raise InvalidArgumentError("Saving a model dict needs task=... (e.g. 'text-classification')")
        parts = {k: v for k, v in model.items() if k != "model"}
        pipeline = transformers.pipeline(task=task, model=model["model"], **parts)
    else:
        raise InvalidArgumentError(
            "Expected a transformers Pipeline or a dict with 'model' and 'tokenizer', "
            f"got {type(model).__name__}"
        )
    components = {
        name: getattr(pipeline, name)
        for name in COMPONENT_LOADERS
        if getattr(pipeline, name, None) is not None
    }
    return pipeline, components, str(task or pipeline.task)


class TransformersFlavor(Flavor):
    """Saves and loads Hugging Face transformers pipelines and model/tokenizer pairs."""

    name: ClassVar[str] = "transformers"
    loader_modules: ClassVar[tuple[str, ...]] = (_LOADER_MODULE, "mltrail.transformers")

    def save(
        self,
        model: Any,
        path: str | os.PathLike[str],
        *,
        task: str | None = None,
        model_config: Mapping[str, Any] | None = None,
        code_paths: Iterable[str | os.PathLike[str]] | None = None,
        signature: Any = None,
        input_example: Any = None,
        pip_requirements: Any = None,
        extra_pip_requirements: Any = None,
        metadata: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Model:
        """Save a pipeline or components; see :func:`mltrail.transformers.save_model`."""
        if kwargs:
            raise InvalidArgumentError(f"Unexpected arguments for the transformers flavor: {sorted(kwargs)}")
        transformers = _transformers()
        pipeline, components, task_name = _components_of(transformers, model, task)
        hf_model = pipeline.model
        with new_model_dir(path) as directory:
            code = copy_code_paths(code_paths, directory)
            hf_model.save_pretrained(str(directory / _MODEL_DIR))
            if not any((directory / _MODEL_DIR).glob("*.safetensors")):
                raise InvalidArgumentError("save_pretrained wrote no safetensors weights for this model")
            for name, component in components.items():
                component.save_pretrained(str(directory / _COMPONENTS_DIR / name))
            flavor: dict[str, Any] = {
                "task": task_name,
                "instance_type": type(pipeline).__name__,
                "pipeline_model_type": type(hf_model).__name__,
                "source_model_name": str(getattr(hf_model, "name_or_path", "") or ""),
                "model_binary": _MODEL_DIR,
                "components": sorted(components),
                "transformers_version": str(transformers.__version__),
                "code": code,
            }
            framework = getattr(pipeline, "framework", None)
            if framework:
                flavor["framework"] = framework
            dtype = getattr(hf_model, "dtype", None)
            if dtype is not None:
                flavor["torch_dtype"] = str(dtype)
            for name, component in components.items():
                flavor[f"{name}_type"] = type(component).__name__
            pyfunc_extra: dict[str, Any] = {"code": code}
            if model_config:
                # MLflow's python_function key for the model configuration is "config".
                pyfunc_extra["config"] = dict(model_config)
            meta = Model().add_flavor("python_function", **pyfunc_conf(_LOADER_MODULE, **pyfunc_extra))
            meta.add_flavor(self.name, **flavor)
            if signature is None and input_example is None:
                meta.signature = default_signature(task_name)
            impl = TransformersImplementation(pipeline, model_config)
            requirements = infer_requirements(["transformers", "safetensors"])
            requirements += [r.split("+", 1)[0] for r in infer_requirements(["torch"])]
            return finish_model(
                directory,
                meta,
                requirements=requirements,
                predict=impl.predict,
                signature=signature,
                input_example=input_example,
                pip_requirements=pip_requirements,
                extra_pip_requirements=extra_pip_requirements,
                metadata=metadata,
            )

    def load(
        self,
        path: str | os.PathLike[str],
        *,
        allow_pickle: bool = False,
        return_type: str = "pipeline",
        device: str | int | None = None,
        **kwargs: Any,
    ) -> Any:
        """Load a pipeline, or its parts as ``{"task", "model", "tokenizer", ...}``.

        Args:
            path: The model directory.
            allow_pickle: Permit pickled ``.bin`` weights (``torch.load`` runs code in them).
            return_type: ``"pipeline"`` or ``"components"``.
            device: The pipeline's device (``"cpu"``, ``0``, ...).
            **kwargs: Not used.

        Raises:
            InvalidArgumentError: unknown ``return_type``, weights that need pickle without
                ``allow_pickle``, or a model saved as a reference to a hub repository.
            NotFoundError: a saved component's directory is missing.
        """
        if return_type not in ("pipeline", "components"):
            raise InvalidArgumentError(f"return_type must be 'pipeline' or 'components', got {return_type!r}")
        transformers = _transformers()
        directory = Path(path)
        conf = Model.load(directory).flavor_conf(self.name)
        model_dir = _model_dir(directory, conf)
        use_safetensors = _check_weights(model_dir, allow_pickle)
        model_class = getattr(transformers, str(conf.get("pipeline_model_type", "")), None)
        if model_class is None:
            model_class = transformers.AutoModel
        model = model_class.from_pretrained(
            str(model_dir), local_files_only=True, trust_remote_code=False, use_safetensors=use_safetensors
        )
        model.eval()
        parts: dict[str, Any] = {"model": model}
        for name in conf.get("components") or ():
            loader = COMPONENT_LOADERS.get(str(name))
            if loader is None:
                continue
            component_dir = directory / _COMPONENTS_DIR / str(name)
            if not component_dir.is_dir():
                raise NotFoundError(f"The model's {name} is missing: no directory {str(component_dir)!r}")
            parts[str(name)] = getattr(transformers, loader).from_pretrained(
                str(component_dir), local_files_only=True, trust_remote_code=False
            )
        task = str(conf.get("task") or "")
        if return_type == "components":
            return {"task": task, **parts}
        extra = {} if device is None else {"device": device}
        return transformers.pipeline(task=task or None, **parts, **extra)

    def load_pyfunc(
        self,
        path: str | os.PathLike[str],
        *,
        allow_pickle: bool = False,
        model_config: Mapping[str, Any] | None = None,
    ) -> TransformersImplementation:
        """Load the pipeline for prediction; ``model_config`` overrides the saved call kwargs."""
        meta = Model.load(path)
        conf = meta.flavors.get("python_function", {})
        saved = dict(conf.get("config") or conf.get("model_config") or {})
        pipeline = self.load(path, allow_pickle=allow_pickle)
        return TransformersImplementation(pipeline, {**saved, **dict(model_config or {})})


def _model_dir(directory: Path, conf: Mapping[str, Any]) -> Path:
    binary = conf.get("model_binary")
    if not binary:
        source = conf.get("source_model_name") or "a hub repository"
        raise InvalidArgumentError(
            f"This model was saved without its weights (it references {source!r}); mltrail loads only "
            "local files and never downloads models"
        )
    model_dir = directory / str(binary)
    if not model_dir.is_dir():
        raise NotFoundError(f"The model's weights directory {str(model_dir)!r} does not exist")
    return model_dir


def _check_weights(model_dir: Path, allow_pickle: bool) -> bool:
    """Whether to load safetensors weights; refuse pickled-only weights without the opt-in."""
    if any(model_dir.glob("*.safetensors")):
        return True
    pickled = sorted(p.name for p in model_dir.iterdir() if p.name in _PICKLED_WEIGHTS)
    if pickled and not allow_pickle:
        raise InvalidArgumentError(
            f"Loading this model would execute pickled code: its weights ({', '.join(pickled)}) are not in "
            "the safetensors format, and unpickling them can run code stored in the file. Only if you "
            "trust where the model came from, opt in with load_model(..., allow_pickle=True)."
        )
    return False
