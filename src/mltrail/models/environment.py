"""Environment files of a model: ``requirements.txt``, ``python_env.yaml``, ``conda.yaml`` (spec §5).

Requirements are inferred from the flavor's framework packages plus the modules the model's
serialized objects reference (read from the pickle opcodes or the skops schema, without loading
anything), mapped to installed distributions and pinned to their installed versions. The first
line is always ``mltrail==<version>``.
"""

from __future__ import annotations

import functools
import json
import pickletools
import platform
import re
import sys
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from mltrail import __version__ as MLTRAIL_VERSION

__all__ = [
    "CONDA_ENV_FILE",
    "PYTHON_ENV_FILE",
    "REQUIREMENTS_FILE",
    "infer_requirements",
    "modules_in_pickle",
    "modules_in_skops",
    "pinned_requirement",
    "read_requirements",
    "write_environment",
]

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_ENV_FILE = "conda.yaml"

# Distributions never written as a model's own requirement: mltrail is the first line already,
# and build tools are listed under python_env.yaml's build_dependencies.
_SKIPPED = frozenset({"mltrail", "pip", "setuptools", "wheel"})


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_requirement(distribution: str) -> str:
    """``name==installed_version`` for an installed distribution (``name`` alone if not installed)."""
    try:
        return f"{distribution}=={metadata.version(distribution)}"
    except metadata.PackageNotFoundError:
        return distribution


@functools.lru_cache(maxsize=1)
def _packages_distributions() -> Mapping[str, list[str]]:
    # Scanning every installed distribution's file list takes 0.3-2 s; once per process is enough.
    return metadata.packages_distributions()


def _modules_to_distributions(modules: Iterable[str]) -> set[str]:
    mapping = _packages_distributions()
    stdlib = sys.stdlib_module_names
    found: set[str] = set()
    for module in modules:
        top = module.split(".", 1)[0]
        if not top or top in stdlib or top.startswith("_"):
            continue
        for dist in mapping.get(top, ()):
            found.add(dist)
    return found


def infer_requirements(packages: Iterable[str] = (), modules: Iterable[str] = ()) -> list[str]:
    """Pinned pip requirements for a model, without the leading ``mltrail`` line.

    Args:
        packages: Distributions the flavor always needs (e.g. ``scikit-learn``, ``skops``).
        modules: Module names the model's objects reference; those that belong to an installed
            distribution add it.

    Returns:
        Sorted ``name==version`` lines, one per distribution.
    """
    dists = {_normalize(p): p for p in packages}
    for dist in _modules_to_distributions(modules):
        dists.setdefault(_normalize(dist), dist)
    return sorted(
        (pinned_requirement(name) for key, name in dists.items() if key not in _SKIPPED),
        key=str.lower,
    )


def _pickle_globals(data: bytes) -> Iterator[str]:
    """Module names of the classes and functions a pickle refers to, read from its opcodes."""
    memo: dict[int, Any] = {}
    recent: list[Any] = []
    for opcode, arg, _pos in pickletools.genops(data):
        name = opcode.name
        if name in ("GLOBAL", "INST") and isinstance(arg, str):
            yield arg.split(" ", 1)[0]
        elif name == "STACK_GLOBAL" and len(recent) >= 2 and isinstance(recent[-2], str):
            yield recent[-2]
        if name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING"):
            recent.append(arg)
        elif name in ("BINGET", "LONG_BINGET", "GET"):
            recent.append(memo.get(int(str(arg))))
        elif name == "MEMOIZE":
            memo[len(memo)] = recent[-1] if recent else None
        elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[int(str(arg))] = recent[-1] if recent else None
        elif name != "STACK_GLOBAL":
            recent.append(None)
        del recent[:-2]


def modules_in_pickle(path: str | Path) -> set[str]:
    """Module names a (cloud)pickle file references, found without unpickling it."""
    return set(_pickle_globals(Path(path).read_bytes()))


def modules_in_skops(path: str | Path) -> set[str]:
    """Module names a skops file's object schema references."""
    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            module = node.get("__module__")
            if isinstance(module, str):
                found.add(module)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return found


def read_requirements(path: str | Path) -> list[str]:
    """The requirement lines of a model directory's ``requirements.txt`` (empty if absent)."""
    file = Path(path) / REQUIREMENTS_FILE
    if not file.is_file():
        return []
    lines = (line.strip() for line in file.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def write_environment(
    path: str | Path,
    requirements: Iterable[str],
    *,
    extra_requirements: Iterable[str] = (),
) -> list[str]:
    """Write ``requirements.txt``, ``python_env.yaml`` and ``conda.yaml`` into a model directory.

    Args:
        path: The model directory.
        requirements: Pip requirement lines (without ``mltrail``, which is always first).
        extra_requirements: More lines appended after ``requirements``.

    Returns:
        The lines written to ``requirements.txt``.
    """
    lines = [f"mltrail=={MLTRAIL_VERSION}"]
    for line in [*requirements, *extra_requirements]:
        if line and line not in lines and not _normalize(line).startswith("mltrail=="):
            lines.append(line)
    directory = Path(path)
    (directory / REQUIREMENTS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    python = platform.python_version()
    pip = metadata.version("pip") if _installed("pip") else None
    setuptools = metadata.version("setuptools") if _installed("setuptools") else None
    python_env = {
        "python": python,
        "build_dependencies": [
            f"pip=={pip}" if pip else "pip",
            f"setuptools=={setuptools}" if setuptools else "setuptools",
            "wheel",
        ],
        "dependencies": [f"-r {REQUIREMENTS_FILE}"],
    }
    (directory / PYTHON_ENV_FILE).write_text(yaml.safe_dump(python_env, sort_keys=False), encoding="utf-8")
    conda = {
        "name": "mltrail-env",
        "channels": ["conda-forge"],
        "dependencies": [f"python={python}", f"pip<={pip}" if pip else "pip", {"pip": lines}],
    }
    (directory / CONDA_ENV_FILE).write_text(yaml.safe_dump(conda, sort_keys=False), encoding="utf-8")
    return lines


def _installed(distribution: str) -> bool:
    try:
        metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True
