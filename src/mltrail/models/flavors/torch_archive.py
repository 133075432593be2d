"""Checks that a ``torch.export`` archive (``.pt2``) can be loaded without running pickled code.

``torch.export.load`` reads raw tensor payloads and JSON, but it also unpickles some records with
``weights_only=False`` (weights or constants flagged ``use_pickle``, opaque and custom objects, and
the sample inputs when the restricted unpickler refuses them) and can bundle native AOTInductor
libraries. :func:`check_pt2_archive` refuses every record that is not plain text, JSON, a raw
tensor payload, or a ``torch.save`` stream that references only tensor-rebuilding globals and
loads with ``torch.load(weights_only=True)``. The graph JSON is checked too: torch turns symbolic
shape expressions into objects with ``sympy.sympify`` (which evaluates Python) and resolves call
targets by attribute lookup on ``torch``, so only plain shape arithmetic and ``torch.ops``,
``_operator`` and ``math`` targets are accepted.
"""

from __future__ import annotations

import io
import json
import pickletools
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mltrail.errors import InvalidArgumentError, MissingDependencyError

__all__ = ["check_pt2_archive", "import_torch", "pickle_globals"]

_TEXT_RECORDS = frozenset(
    {"archive_format", "archive_version", "version", ".data/version", "byteorder", ".data/serialization_id"}
)
# Globals that torch's weights_only unpickler admits by default: tensor and storage rebuilding,
# dtypes, devices and a few builtin containers. Anything else can run code when unpickled.
_SAFE_GLOBAL_MODULES = frozenset(
    {"torch", "torch._utils", "torch._tensor", "torch.serialization", "torch.nn.parameter"}
)
_SAFE_GLOBALS = frozenset(
    {
        "collections.OrderedDict",
        "collections.Counter",
        "_codecs.encode",
        "builtins.bytearray",
        "builtins.set",
        "builtins.complex",
    }
)
_EXPR_NAMES = frozenset(
    {
        # sympy constructors and assumptions that torch's serializer writes
        "Symbol", "Integer", "Float", "Rational", "True", "False", "oo", "zoo", "nan",
        "positive", "negative", "nonnegative", "nonpositive", "integer", "real", "finite",
        # arithmetic and logic
        "Add", "Mul", "Pow", "Max", "Min", "Abs", "Mod", "floor", "ceiling", "sqrt", "Piecewise",
        "Eq", "Ne", "Lt", "Le", "Gt", "Ge", "And", "Or", "Not",
        # torch.utils._sympy.functions, which the deserializer passes to sympify
        "FloorDiv", "ModularIndexing", "Where", "PythonMod", "CleanDiv", "CeilToInt", "FloorToInt",
        "CeilDiv", "LShift", "RShift", "PowByNatural", "FloatPow", "FloatTrueDiv", "IntTrueDiv",
        "IsNonOverlappingAndDenseIndicator", "TruncToFloat", "TruncToInt", "RoundToInt",
        "RoundDecimal", "ToFloat", "Identity",
    }
)  # fmt: skip
_SYMBOL_NAME = re.compile(r"[a-z]+\d+")
_EXPR_STRING = re.compile(r"'([a-z]+\d+)'")
_EXPR_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:e[+-]?\d+)?")
_EXPR_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_EXPR_OTHER = re.compile(r"[\s+\-*/%(),=<>!&|~]*")
_TARGET = re.compile(r"torch\.ops(?:\.[A-Za-z]\w*){2,3}|_operator\.[a-z]\w*|math\.[a-z]\w*|torch\.sym_\w+")
_UNSAFE_OPERATORS = frozenset(
    {"_operator.attrgetter", "_operator.itemgetter", "_operator.methodcaller", "_operator.call"}
)
_STRING_OPCODES = frozenset({"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"})
_MEMO_OPCODES = frozenset({"MEMOIZE", "BINPUT", "LONG_BINPUT", "PUT"})


def pickle_globals(data: bytes) -> Iterator[str]:
    """``module.name`` of every global a pickle stream references, read from its opcodes.

    Raises:
        ValueError: the stream is malformed or builds a global name that is not a literal.
    """
    strings: list[str] = []
    for opcode, arg, _pos in pickletools.genops(data):
        name = opcode.name
        if name in ("GLOBAL", "INST"):
            module, _, attr = str(arg).partition(" ")
            yield f"{module}.{attr}"
        elif name == "STACK_GLOBAL":
            if len(strings) < 2:
                raise ValueError("STACK_GLOBAL operands are not string literals")
            yield f"{strings[-2]}.{strings[-1]}"
            strings = []
        elif name in _STRING_OPCODES:
            strings.append(str(arg))
        elif name not in _MEMO_OPCODES:
            strings = []


def import_torch() -> Any:
    """Import torch, or say which extra installs it.

    Raises:
        MissingDependencyError: torch is not installed.
    """
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError("torch", "pytorch") from exc
    return torch


def _is_plain_expression(expr: str) -> bool:
    """True when a serialized shape expression uses only shape arithmetic (no Python beyond it)."""
    rest = _EXPR_STRING.sub(" ", expr)
    for name in _EXPR_IDENTIFIER.findall(rest):
        if name not in _EXPR_NAMES and not _SYMBOL_NAME.fullmatch(name):
            return False
    rest = _EXPR_IDENTIFIER.sub(" ", rest)
    rest = _EXPR_NUMBER.sub(" ", rest)
    return _EXPR_OTHER.fullmatch(rest) is not None


def _is_plain_target(target: str) -> bool:
    return _TARGET.fullmatch(target) is not None and target not in _UNSAFE_OPERATORS


def _unsafe_graph_strings(node: Any) -> Iterator[str]:
    """Shape expressions and call targets in a serialized program that torch would evaluate."""
    if isinstance(node, dict):
        target = node.get("target")
        if (
            isinstance(target, str)
            and "inputs" in node
            and "outputs" in node
            and not _is_plain_target(target)
        ):
            yield target
        expr = node.get("expr_str")
        if isinstance(expr, str) and not _is_plain_expression(expr):
            yield expr
        for value in node.values():
            yield from _unsafe_graph_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _unsafe_graph_strings(value)


def _is_safe_global(qualified: str) -> bool:
    if qualified in _SAFE_GLOBALS:
        return True
    module, _, _attr = qualified.rpartition(".")
    return module in _SAFE_GLOBAL_MODULES


def _is_weights_only_stream(content: bytes) -> bool:
    """True when ``content`` is a ``torch.save`` zip whose pickles reference only safe globals."""
    torch = import_torch()
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as checkpoint:
            pickles = [n for n in checkpoint.namelist() if n.rsplit("/", 1)[-1] == "data.pkl"]
            if not pickles:
                return False
            for member in pickles:
                if not all(_is_safe_global(g) for g in pickle_globals(checkpoint.read(member))):
                    return False
        torch.load(io.BytesIO(content), map_location="cpu", weights_only=True)
    except Exception:  # any failure to prove the stream harmless counts as unsafe
        return False
    return True


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def _raw_payloads(archive: zipfile.ZipFile, names: list[str]) -> set[str]:
    """Archive names of weights and constants stored as raw (unpickled) tensor bytes."""
    raw: set[str] = set()
    for name in names:
        directory, _, file = name.rpartition("/")
        if not (file.endswith("config.json") and directory.endswith(("data/weights", "data/constants"))):
            continue
        config = _json(archive.read(name))
        entries = config.get("config") if isinstance(config, dict) else None
        for meta in (entries or {}).values():
            if isinstance(meta, dict) and meta.get("use_pickle") is False:
                path_name = str(meta.get("path_name", ""))
                if path_name.startswith(("weight_", "tensor_")):
                    raw.add(f"{directory}/{path_name}")
    return raw


def _relative(name: str) -> str:
    """The record name below the archive's single top-level folder."""
    return name.split("/", 1)[1] if "/" in name else name


def check_pt2_archive(path: str | Path) -> None:
    """Refuse a ``.pt2`` archive that loading would unpickle arbitrary objects from.

    Args:
        path: The archive written by ``torch.export.save``.

    Raises:
        InvalidArgumentError: a record could execute code when ``torch.export.load`` reads it.
    """
    file = Path(path)
    try:
        archive = zipfile.ZipFile(file)
    except zipfile.BadZipFile as exc:
        raise InvalidArgumentError(f"{file.name!r} is not a torch.export archive") from exc
    with archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        raw = _raw_payloads(archive, names)
        for name in names:
            if name in raw:
                continue
            relative = _relative(name)
            content = archive.read(name)
            if relative in _TEXT_RECORDS and len(content) < 256:
                continue
            parsed = _json(content) if relative.endswith(".json") else None
            if parsed is not None:
                unsafe = next(_unsafe_graph_strings(parsed), None)
                if unsafe is None:
                    continue
                raise InvalidArgumentError(
                    f"Loading this model could execute code: record {relative!r} of {file.name!r} holds "
                    f"{unsafe[:80]!r}, which is neither plain shape arithmetic nor a torch operator, and "
                    "torch evaluates it when loading or running the program. Only if you trust where the "
                    "model came from, opt in with load_model(..., allow_pickle=True).",
                    details={"record": relative},
                )
            if _is_weights_only_stream(content):
                continue
            raise InvalidArgumentError(
                f"Loading this model would execute pickled code: record {relative!r} of {file.name!r} "
                "is neither JSON, raw tensor data nor a weights-only tensor file, and torch.export.load "
                "would unpickle it (or load it as native code). Only if you trust where the model came "
                "from, opt in with load_model(..., allow_pickle=True).",
                details={"record": relative},
            )
