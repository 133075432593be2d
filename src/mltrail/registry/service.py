"""Rules of the model registry, shared by every registry store (spec REST-REGISTRY §3).

Pure functions with no I/O: name, alias, tag and version checks; the security rules on model
version sources (which look runs, logged models and versions up through a
:class:`SourceLookups` the store supplies, so they run inside the store's transaction); and the
choice of a rollback target from an alias's history. Stores call these before they write.
"""

from __future__ import annotations

import pathlib
import posixpath
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.registry.entities import AliasAction, AliasEvent, ModelVersion, Stage
from mltrail.tracking.validation import validate_key

__all__ = [
    "MAX_ALIAS_LENGTH",
    "MAX_TAG_VALUE_LENGTH",
    "PROMPT_TAG",
    "LoggedModelRef",
    "ModelsUri",
    "ResolvedSource",
    "SourceLookups",
    "check_archive_existing",
    "parse_models_uri",
    "parse_version",
    "resolve_source",
    "rollback_target",
    "validate_alias",
    "validate_model_name",
    "validate_tag",
]

MAX_ALIAS_LENGTH = 255
MAX_TAG_VALUE_LENGTH = 100_000
MAX_MODEL_NAME_LENGTH = 256
PROMPT_TAG = "mlflow.prompt.is_prompt"

_ALIAS_RE = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS_RE = re.compile(r"^[vV]\d+$")
_ARTIFACT_ROUTE = ("api", "2.0", "mlflow-artifacts", "artifacts")


def validate_model_name(name: object, field: str = "name") -> str:
    """Check a registered model name: non-blank, no ``/`` or ``:``, not path-normalising.

    Raises:
        InvalidArgumentError: the name breaks a rule.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgumentError(f"Registered model name cannot be empty (parameter '{field}').")
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise InvalidArgumentError(
            f"Registered model name '{name[:50]}...' exceeds the maximum length of {MAX_MODEL_NAME_LENGTH}."
        )
    if "/" in name or ":" in name:
        raise InvalidArgumentError(f"Invalid model name: '{name}'. Names cannot contain '/' or ':'.")
    norm = posixpath.normpath(name)
    if norm != name or name in (".", "..") or "\x00" in name:
        raise InvalidArgumentError(
            f"Invalid model name: '{name}'. Names must not resolve to another name when treated as a path."
        )
    return name


def validate_alias(alias: object) -> str:
    """Check an alias name for setting (spec REST-TRACKING §0.7).

    Raises:
        InvalidArgumentError: empty, too long, bad characters, ``latest`` or ``v<digits>``.
    """
    if not isinstance(alias, str) or not alias:
        raise InvalidArgumentError("Registered model alias name cannot be empty.")
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidArgumentError(
            f"Registered model alias name '{alias[:50]}...' exceeds the maximum length of {MAX_ALIAS_LENGTH}."
        )
    if not _ALIAS_RE.match(alias):
        raise InvalidArgumentError(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, underscores and dashes."
        )
    if alias.lower() == "latest":
        raise InvalidArgumentError(f"'{alias}' alias name (case insensitive) is reserved.")
    if _VERSION_ALIAS_RE.match(alias):
        raise InvalidArgumentError(
            f"Version alias name '{alias}' is reserved: aliases of the form 'v<number>' name versions."
        )
    return alias


def validate_tag(key: object, value: object) -> tuple[str, str]:
    """Check a registered model or model version tag (key rules of run tags, value ≤ 100000).

    Raises:
        InvalidArgumentError: the key or value breaks a rule.
    """
    checked = validate_key(key, "key", "Tag key")
    text = "" if value is None else value
    if not isinstance(text, str):
        raise InvalidArgumentError(f"Tag value for '{checked}' must be a string.")
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidArgumentError(
            f"Tag value for '{checked}' exceeds the maximum length of {MAX_TAG_VALUE_LENGTH} characters."
        )
    return checked, text


def parse_version(version: object) -> int:
    """The integer of a version argument (``3`` or ``"3"``).

    Raises:
        InvalidArgumentError: it is not a decimal integer.
    """
    if isinstance(version, int) and not isinstance(version, bool):
        return version
    try:
        return int(str(version).strip())
    except ValueError:
        raise InvalidArgumentError(f"Parameter 'version' must be an integer, got '{version}'.") from None


def check_archive_existing(stage: Stage, archive_existing_versions: bool) -> None:
    """Archiving other versions is allowed only when moving to Staging or Production.

    Raises:
        InvalidArgumentError: ``archive_existing_versions`` with another target stage.
    """
    if archive_existing_versions and stage not in (Stage.STAGING, Stage.PRODUCTION):
        raise InvalidArgumentError(
            f"Model version transition cannot archive existing model versions because '{stage.value}' "
            "is not an Active stage. Valid stages are Staging and Production."
        )


def rollback_target(events: Sequence[AliasEvent], current: str | None, to_version: int | str | None) -> str:
    """The version an alias rolls back to.

    Args:
        events: The alias's history, oldest first.
        current: The version the alias points at now (None if it is not set).
        to_version: An explicit target; it must be a version the alias pointed at before.

    Returns:
        The target version.

    Raises:
        InvalidArgumentError: the alias has no earlier target, or ``to_version`` is not one.
    """
    earlier = [e.to_version for e in events if e.to_version is not None]
    if to_version is not None:
        wanted = str(parse_version(to_version))
        if wanted not in earlier:
            raise InvalidArgumentError(
                f"Alias cannot be rolled back to version {wanted}: it never pointed at that version."
            )
        return wanted
    for event in reversed(events):
        if event.action is AliasAction.VERSION_DELETED:
            continue
        if event.from_version is not None and event.from_version != current:
            return event.from_version
    raise InvalidArgumentError("Alias has no earlier version to roll back to.")


# -- model version sources ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModelsUri:
    """A parsed ``models:/`` URI: a logged model id, or a name with a version, stage or alias."""

    model_id: str | None = None
    name: str | None = None
    version: str | None = None
    stage: str | None = None
    alias: str | None = None


def parse_models_uri(uri: str) -> ModelsUri:
    """Parse ``models:/<name>/<version|stage|latest>``, ``models:/<name>@<alias>`` or ``models:/<id>``.

    Raises:
        InvalidArgumentError: not a proper ``models:/`` URI.
    """
    parsed = urllib.parse.urlparse(uri)
    path = parsed.path.lstrip("/")
    if parsed.scheme != "models" or not path:
        raise InvalidArgumentError(f"Not a proper models:/ URI: {uri}")
    parts = path.split("/")
    if len(parts) == 1:
        name, sep, alias = parts[0].partition("@")
        if sep:
            if not name or not alias:
                raise InvalidArgumentError(f"Not a proper models:/ URI: {uri}")
            return ModelsUri(name=name, alias=alias)
        return ModelsUri(model_id=parts[0])
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise InvalidArgumentError(f"Not a proper models:/ URI: {uri}")
    name, suffix = parts
    if suffix.isdigit():
        return ModelsUri(name=name, version=suffix)
    return ModelsUri(name=name, stage=suffix)


@dataclass(frozen=True, slots=True)
class LoggedModelRef:
    """What the source rules need of a logged model."""

    artifact_location: str
    source_run_id: str | None


class SourceLookups(Protocol):
    """Read access the source rules need; stores implement it on their own connection."""

    def run_artifact_uri(self, run_id: str) -> str | None:
        """The run's artifact URI, or None if no such run."""

    def logged_model(self, model_id: str) -> LoggedModelRef | None:
        """The logged model, or None if no such model."""

    def is_prompt(self, name: str) -> bool:
        """Whether the registered model is a prompt (raises NotFoundError if unknown)."""

    def resolve_version(self, ref: ModelsUri) -> tuple[ModelVersion, str]:
        """The version a ``models:/<name>/...`` URI names and its download location.

        Raises NotFoundError when there is no such version.
        """


@dataclass(frozen=True, slots=True)
class ResolvedSource:
    """A checked source: what to store, with its lineage and download location."""

    source: str
    run_id: str | None
    model_id: str | None
    storage_location: str


def _invalid_source(source: str, field: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"Invalid model version source: '{source}'. The {field} request parameter must identify the "
        "resource that contains the source."
    )


def _is_local(uri: str) -> bool:
    scheme = urllib.parse.urlparse(uri).scheme
    if len(scheme) == 1:  # a Windows drive letter
        return True
    return scheme in ("", "file")


def _local_path(uri: str) -> pathlib.Path:
    parsed = urllib.parse.urlparse(uri)
    raw = urllib.parse.unquote(parsed.path) if parsed.scheme == "file" else uri
    return pathlib.Path(raw).resolve()


def _within_local(source: str, root: str) -> bool:
    if not _is_local(root):
        return False
    root_path = _local_path(root)
    source_path = _local_path(source)
    return root_path == source_path or root_path in source_path.parents


def _unquote_fully(value: str) -> str:
    while (unquoted := urllib.parse.unquote_plus(value)) != value:
        value = unquoted
    return value


def _check_no_relative_parts(source: str) -> None:
    decoded = _unquote_fully(source)
    path = re.sub(r"/+", "/", urllib.parse.urlparse(decoded).path.rstrip("/"))
    bad = "\x00" in decoded or any(p == ".." for p in decoded.split("/"))
    if not bad and path:
        bad = posixpath.normpath(path) != path
    if bad:
        raise InvalidArgumentError(
            f"Invalid model version source: '{source}'. An absolute path without relative path "
            "references must be provided."
        )


def _uri_parts(uri: str) -> tuple[str, str, tuple[str, ...]]:
    parsed = urllib.parse.urlsplit(uri)
    parts = tuple(_unquote_fully(p) for p in parsed.path.split("/") if p)
    return parsed.scheme.lower(), parsed.netloc.lower(), parts


def _within_root(source: str, root: str) -> bool:
    s_scheme, s_host, s_parts = _uri_parts(source)
    r_scheme, r_host, r_parts = _uri_parts(root)
    return s_scheme == r_scheme and s_host == r_host and bool(r_parts) and s_parts[: len(r_parts)] == r_parts


def _is_proxied(source: str) -> bool:
    scheme, _, parts = _uri_parts(source)
    if scheme == "mlflow-artifacts":
        return True
    n = len(_ARTIFACT_ROUTE)
    return scheme in ("http", "https") and any(
        parts[i : i + n] == _ARTIFACT_ROUTE for i in range(len(parts) - n + 1)
    )


def _check_run_source(source: str, run_id: str | None, lookups: SourceLookups) -> None:
    if _is_local(source):
        root = lookups.run_artifact_uri(run_id) if run_id else None
        if root is None or not _within_local(source, root):
            raise InvalidArgumentError(
                f"Invalid model version source: '{source}'. To use a local path as a model version "
                "source, run_id must be given and the path must lie inside that run's artifact directory."
            )
        return
    _check_no_relative_parts(source)
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme == "runs":
        source_run = parsed.path.lstrip("/").split("/", 1)[0]
        if parsed.netloc or not run_id or source_run != run_id:
            raise _invalid_source(source, "run_id")
        return
    if parsed.scheme == "models" and (parsed.netloc or parse_models_uri(source).model_id is not None):
        raise _invalid_source(source, "model_id")
    if _is_proxied(source):
        root = lookups.run_artifact_uri(run_id) if run_id else None
        if root is None or not _within_root(source, root):
            raise _invalid_source(source, "run_id")


def _check_model_source(source: str, model_id: str, lookups: SourceLookups) -> LoggedModelRef:
    model = lookups.logged_model(model_id)
    if _is_local(source):
        if model is None or not _within_local(source, model.artifact_location):
            raise InvalidArgumentError(
                f"Invalid model version source: '{source}'. To use a local path as a model version "
                "source, model_id must be given and the path must lie inside that model's directory."
            )
        return model
    _check_no_relative_parts(source)
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme == "runs" or (parsed.scheme == "models" and parsed.netloc):
        raise _invalid_source(source, "model_id")
    if parsed.scheme == "models":
        if parse_models_uri(source).model_id != model_id:
            raise _invalid_source(source, "model_id")
    elif _is_proxied(source) and (model is None or not _within_root(source, model.artifact_location)):
        raise _invalid_source(source, "model_id")
    if model is None:
        raise _invalid_source(source, "model_id")
    return model


def resolve_source(
    source: str, run_id: str | None, model_id: str | None, lookups: SourceLookups
) -> ResolvedSource:
    """Apply the source rules of CreateModelVersion and work out lineage and download location.

    Args:
        source: The requested source URI or path.
        run_id: The request's run id (None when absent).
        model_id: The request's logged model id (None when absent).
        lookups: Read access to runs, logged models and versions.

    Returns:
        What to store: the (possibly rewritten) source, run id, model id and download location.

    Raises:
        InvalidArgumentError: the source breaks a rule (spec REST-REGISTRY §3).
    """
    if not source:
        raise InvalidArgumentError("Missing value for required parameter 'source'.")
    if "\x00" in source:
        raise InvalidArgumentError(f"Invalid model version source: '{source}'.")
    run_id = run_id or None
    model_id = model_id or None
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme == "models":
        if parsed.netloc:
            raise InvalidArgumentError(
                f"Invalid model version source: '{source}'. Registered model sources must use the "
                "active model registry."
            )
        ref = parse_models_uri(source)
        if ref.model_id is None:
            assert ref.name is not None
            try:
                if lookups.is_prompt(ref.name):
                    raise InvalidArgumentError(
                        f"Invalid model version source: '{source}'. Prompt versions cannot be used "
                        "as model version sources."
                    )
                target, storage = lookups.resolve_version(ref)
            except NotFoundError as exc:
                raise InvalidArgumentError(f"Invalid model version source: '{source}'. {exc}") from exc
            if (run_id is not None and run_id != (target.run_id or None)) or (
                model_id is not None and model_id != (target.model_id or None)
            ):
                raise InvalidArgumentError(
                    f"Invalid model version source: '{source}'. The run_id and model_id request "
                    "parameters must match the referenced model version."
                )
            return ResolvedSource(
                f"models:/{target.name}/{target.version}",
                run_id or target.run_id,
                model_id or target.model_id,
                storage,
            )
    if model_id is not None:
        model = _check_model_source(source, model_id, lookups)
        storage = model.artifact_location if parsed.scheme == "models" else source
        return ResolvedSource(source, run_id or model.source_run_id, model_id, storage)
    _check_run_source(source, run_id, lookups)
    return ResolvedSource(source, run_id, None, source)
