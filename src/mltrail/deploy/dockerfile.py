"""A slim container recipe for one model: Dockerfile text plus the build context it expects.

The image is a ``python:<model's Python>-slim`` base, a non-root user, only the model's own
requirements plus ``mltrail[serving]``, the model at ``/opt/ml/model``, a health check on
``/ping`` and the scoring server on port 8080 as the entry point (``/health`` and ``/version``
are served on the same port). No nginx and no build tools: the scoring server answers directly.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mltrail import __version__
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.models.model import Model

__all__ = [
    "MODEL_DIR_IN_CONTEXT",
    "MODEL_MOUNT",
    "SERVING_PORT",
    "DockerRecipe",
    "default_mltrail_requirement",
    "model_python_version",
    "write_build_context",
]

SERVING_PORT = 8080
MODEL_MOUNT = "/opt/ml/model"
MODEL_DIR_IN_CONTEXT = "model"
_UID = 10001
_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")


def default_mltrail_requirement() -> str:
    """The pip requirement that installs this mltrail with its serving extra."""
    return f"mltrail[serving]=={__version__}"


def model_python_version(model_dir: str | os.PathLike[str]) -> str:
    """The Python version the model was saved with (``python_function`` config), else this one.

    Raises:
        NotFoundError: the directory has no MLmodel file.
    """
    meta = Model.load(model_dir)
    version = meta.flavors.get("python_function", {}).get("python_version")
    if isinstance(version, str) and _VERSION.match(version.strip()):
        return version.strip()
    return platform.python_version()


@dataclass(frozen=True)
class DockerRecipe:
    """The steps of the image, rendered as a Dockerfile by :meth:`render`.

    Attributes:
        python_version: Tag of the ``python:<version>-slim`` base image.
        mltrail_requirement: pip requirement for mltrail with the serving extra.
        has_requirements: Whether the model directory has a ``requirements.txt``.
        serve_args: Extra arguments of ``mltrail models serve`` (e.g. ``--allow-pickle``).
    """

    python_version: str
    mltrail_requirement: str = field(default_factory=default_mltrail_requirement)
    has_requirements: bool = True
    serve_args: tuple[str, ...] = ()

    def install_command(self, model_dir: str = MODEL_MOUNT) -> list[str]:
        """The pip command that installs the model's requirements and mltrail (argv)."""
        command = ["pip", "install", "--no-cache-dir"]
        if self.has_requirements:
            command += ["-r", f"{model_dir}/requirements.txt"]
        return [*command, self.mltrail_requirement]

    def serve_command(self, model_dir: str = MODEL_MOUNT) -> list[str]:
        """The entry point: the scoring server on all interfaces, port 8080 (argv)."""
        return [
            "mltrail",
            "models",
            "serve",
            "-m",
            model_dir,
            "--host",
            "0.0.0.0",
            "--port",
            str(SERVING_PORT),
            *self.serve_args,
        ]

    def render(self) -> str:
        """The Dockerfile text."""
        install = " ".join(_quote(part) for part in self.install_command())
        health = (
            "import sys, urllib.request; "
            f"sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:{SERVING_PORT}/ping', "
            "timeout=4).status == 200 else 1)"
        )
        copy_requirements = (
            f"COPY {MODEL_DIR_IN_CONTEXT}/requirements.txt {MODEL_MOUNT}/requirements.txt\n"
            if self.has_requirements
            else ""
        )
        return (
            f"FROM python:{self.python_version}-slim\n"
            "\n"
            "ENV PYTHONDONTWRITEBYTECODE=1 \\\n"
            "    PYTHONUNBUFFERED=1 \\\n"
            "    PIP_DISABLE_PIP_VERSION_CHECK=1\n"
            "\n"
            f"RUN groupadd --system --gid {_UID} mltrail \\\n"
            f"    && useradd --system --uid {_UID} --gid mltrail --no-create-home \\\n"
            "       --home-dir /nonexistent --shell /usr/sbin/nologin mltrail\n"
            "\n"
            "WORKDIR /opt/ml\n"
            "\n"
            "# Requirements first, so that the dependency layer is reused when only the model changes.\n"
            f"{copy_requirements}"
            f"RUN {install}\n"
            "\n"
            f"COPY --chown={_UID}:{_UID} {MODEL_DIR_IN_CONTEXT} {MODEL_MOUNT}\n"
            "\n"
            f"USER {_UID}:{_UID}\n"
            f"EXPOSE {SERVING_PORT}\n"
            "HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \\\n"
            f"    CMD {json.dumps(['python', '-c', health])}\n"
            "\n"
            f"ENTRYPOINT {json.dumps(self.serve_command())}\n"
        )


def _quote(part: str) -> str:
    return f'"{part}"' if any(c in part for c in "[]<>=!~ ") else part


def write_build_context(
    model_dir: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    mltrail_requirement: str | None = None,
    serve_args: Sequence[str] = (),
) -> Path:
    """Write a Docker build context: the Dockerfile and a copy of the model.

    Args:
        model_dir: The local model directory (with its MLmodel file).
        output_dir: The context directory; created, and must not already hold a model copy.
        mltrail_requirement: pip requirement for mltrail (default: this version with the
            ``serving`` extra).
        serve_args: Extra arguments for the entry point (e.g. ``["--allow-pickle"]``).

    Returns:
        The path of the Dockerfile.

    Raises:
        NotFoundError: ``model_dir`` is not a model directory.
        InvalidArgumentError: ``output_dir`` already holds a model copy.
    """
    source = Path(model_dir)
    if not (source / "MLmodel").is_file():
        raise NotFoundError(f"{str(source)!r} is not a model directory (it has no MLmodel file)")
    target = Path(output_dir)
    copy = target / MODEL_DIR_IN_CONTEXT
    if copy.exists():
        raise InvalidArgumentError(f"{str(copy)!r} already exists; choose an empty output directory")
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, copy)
    recipe = DockerRecipe(
        python_version=model_python_version(source),
        mltrail_requirement=mltrail_requirement or default_mltrail_requirement(),
        has_requirements=(source / "requirements.txt").is_file(),
        serve_args=tuple(serve_args),
    )
    dockerfile = target / "Dockerfile"
    dockerfile.write_text(recipe.render(), encoding="utf-8")
    (target / ".dockerignore").write_text("Dockerfile\n.dockerignore\n", encoding="utf-8")
    return dockerfile
