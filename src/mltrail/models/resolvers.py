"""Model URI resolvers for ``runs:/``, ``models:/`` and artifact-store URIs (``s3://``, ...).

Each resolver turns a URI into a local model directory, downloading the files through the
artifact repositories into a new temporary directory, which is kept because a loaded model may
read its files later (local artifact stores are read in place). They use the fluent API's
tracking URI and settings (:func:`mltrail.set_tracking_uri`, ``MLTRAIL_TRACKING_URI``).

* ``runs:/<run_id>/<name>[/<sub/path>]``: the newest logged model named ``<name>`` whose source
  is that run (as MLflow 3 logs models), else the run's own artifacts at that path.
* ``models:/<model_id>[/<sub/path>]``: a logged model.
* ``models:/<name>/<version>``, ``models:/<name>@<alias>``, ``models:/<name>/<stage>`` and
  ``models:/<name>/latest``, each optionally followed by ``/<sub/path>``: a registered version.
* ``s3://``, ``mlflow-artifacts:/``, ``http(s)://.../api/2.0/mlflow-artifacts/artifacts/...``:
  the files at that location.
"""

from __future__ import annotations

import os
import re
import tempfile
import urllib.parse
from dataclasses import dataclass

from mltrail._plugins import resolve_artifact_repository
from mltrail.artifacts.paths import canonical_relpath, is_local_uri, join_uri, local_path_from_uri, uri_scheme
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.registry.fluent import registry_client
from mltrail.tracking._fluent_state import default_client
from mltrail.tracking.logged_models import LoggedModel, LoggedModelStatus

__all__ = [
    "ModelsUri",
    "parse_models_uri",
    "resolve_artifact_store_uri",
    "resolve_models_uri",
    "resolve_runs_uri",
]

_LOGGED_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")
_LATEST = "latest"
_MAX_INDIRECTIONS = 5


@dataclass(frozen=True, slots=True)
class ModelsUri:
    """A parsed ``models:/`` URI: exactly one of ``model_id``, ``version``, ``alias``, ``stage``
    or ``latest`` names the model, ``sub_path`` a path inside its directory."""

    name: str | None = None
    model_id: str | None = None
    version: str | None = None
    alias: str | None = None
    stage: str | None = None
    latest: bool = False
    sub_path: str = ""


def _improper(uri: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"Not a proper models:/ URI: {uri!r}. Use models:/<model_id>, models:/<name>/<version>, "
        "models:/<name>/<stage>, models:/<name>/latest or models:/<name>@<alias>, optionally "
        "followed by /<path inside the model>."
    )


def _sub_path(parts: list[str]) -> str:
    return canonical_relpath("/".join(parts)) if parts else ""


def parse_models_uri(uri: str) -> ModelsUri:
    """Parse a ``models:/`` URI (see the module docstring for the forms).

    Raises:
        InvalidArgumentError: not a proper ``models:/`` URI, or an unsafe sub-path.
    """
    parsed = urllib.parse.urlparse(uri, allow_fragments=False)
    if parsed.scheme.lower() != "models":
        raise _improper(uri)
    if parsed.netloc:
        raise InvalidArgumentError(
            f"Registry hosts in models:// URIs are not supported: {uri!r}; use models:/<name>/..."
        )
    path = parsed.path
    if not path.startswith("/") or not path.strip("/"):
        raise _improper(uri)
    parts = path.strip("/").split("/")
    head = parts[0]
    if not head.strip():
        raise _improper(uri)
    if "@" in head:
        name, _, alias = head.rpartition("@")
        if not name.strip() or not alias.strip():
            raise _improper(uri)
        return ModelsUri(name=name, alias=alias, sub_path=_sub_path(parts[1:]))
    if len(parts) == 1:
        return ModelsUri(model_id=head)
    if _LOGGED_MODEL_ID.match(head):
        return ModelsUri(model_id=head, sub_path=_sub_path(parts[1:]))
    suffix, rest = parts[1], parts[2:]
    if not suffix.strip():
        raise _improper(uri)
    sub = _sub_path(rest)
    if suffix.isdigit():
        return ModelsUri(name=head, version=suffix, sub_path=sub)
    if suffix.lower() == _LATEST:
        return ModelsUri(name=head, latest=True, sub_path=sub)
    return ModelsUri(name=head, stage=suffix, sub_path=sub)


def _join(base: str, extra: str) -> str:
    return "/".join(p for p in (base, extra) if p)


def _download(storage_uri: str, sub_path: str, depth: int = 0) -> str:
    """The local path of ``sub_path`` below ``storage_uri`` (downloaded unless it is local)."""
    if depth > _MAX_INDIRECTIONS:
        raise InvalidArgumentError(f"Too many indirections resolving {storage_uri!r}")
    scheme = uri_scheme(storage_uri)
    if scheme == "runs":
        return _resolve_runs(storage_uri, sub_path, depth + 1)
    if scheme == "models":
        return _resolve_models(storage_uri, sub_path, depth + 1)
    rel = canonical_relpath(sub_path)
    if is_local_uri(storage_uri):
        local = local_path_from_uri(join_uri(storage_uri, rel) if rel else storage_uri)
        if not os.path.exists(local):
            raise NotFoundError(f"No model files at {local!r}")
        return local
    client = default_client()
    repo = resolve_artifact_repository(
        storage_uri, tracking_uri=client.tracking_uri, settings=client.settings
    )
    local = repo.download_artifacts(rel, tempfile.mkdtemp(prefix="mltrail-model-"))
    if os.path.isdir(local) and not os.listdir(local):
        # Object stores have no directories: an empty download means nothing is stored there.
        raise NotFoundError(f"No model files at {join_uri(storage_uri, rel)!r}")
    return local


def _run_logged_model(run_id: str, experiment_id: str, name: str) -> LoggedModel | None:
    """The newest logged model named ``name`` produced by the run (READY ones first)."""
    client = default_client()
    found: list[LoggedModel] = []
    token: str | None = None
    while True:
        page = client.search_logged_models(
            [experiment_id], filter_string=f"name = '{name}'", page_token=token
        )
        found.extend(m for m in page if m.source_run_id == run_id)
        token = page.next_page_token
        if not token:
            break
    if not found:
        return None
    ready = [m for m in found if m.status == LoggedModelStatus.READY]
    return (ready or found)[0]


def _resolve_runs(uri: str, extra: str = "", depth: int = 0) -> str:
    parsed = urllib.parse.urlparse(uri, allow_fragments=False)
    run_id, _, path = parsed.path.lstrip("/").partition("/")
    if parsed.netloc or not run_id:
        raise InvalidArgumentError(
            f"Not a proper runs:/ URI: {uri!r}. Use runs:/<run_id>/<model name or artifact path>."
        )
    rel = canonical_relpath(_join(path.strip("/"), extra))
    run = default_client().get_run(run_id)
    if rel:
        name, _, inner = rel.partition("/")
        if not set(name) & set("'\\"):
            model = _run_logged_model(run_id, run.info.experiment_id, name)
            if model is not None:
                return _download(model.artifact_uri, inner, depth)
    try:
        return _download(run.info.artifact_uri, rel, depth)
    except NotFoundError:
        raise NotFoundError(
            f"Run {run_id} has no logged model named {rel.partition('/')[0]!r} and no artifacts at "
            f"{rel!r} ({uri})"
        ) from None


def _resolve_models(uri: str, extra: str = "", depth: int = 0) -> str:
    ref = parse_models_uri(uri)
    sub = _join(ref.sub_path, extra)
    if ref.model_id is not None:
        return _download(default_client().get_logged_model(ref.model_id).artifact_uri, sub, depth)
    assert ref.name is not None
    registry = registry_client()
    if ref.version is not None:
        version = ref.version
    elif ref.alias is not None:
        version = registry.get_model_version_by_alias(ref.name, ref.alias).version
    else:
        stages = [ref.stage] if ref.stage is not None else None
        latest = registry.get_latest_versions(ref.name, stages)
        if not latest:
            where = f" and stage {ref.stage!r}" if ref.stage is not None else ""
            raise NotFoundError(f"No versions of model with name {ref.name!r}{where} found ({uri})")
        version = str(max(int(v.version) for v in latest))
    return _download(registry.get_model_version_download_uri(ref.name, version), sub, depth)


def resolve_runs_uri(uri: str) -> str:
    """Download the model a ``runs:/<run_id>/<path>`` URI names; returns its local directory.

    Raises:
        InvalidArgumentError: a malformed URI.
        NotFoundError: an unknown run, or neither a logged model nor artifacts at the path.
    """
    return _resolve_runs(uri)


def resolve_models_uri(uri: str) -> str:
    """Download the model a ``models:/`` URI names; returns its local directory.

    Raises:
        InvalidArgumentError: a malformed URI or an unknown alias.
        NotFoundError: an unknown logged model, registered model or version, or no version in
            the stage.
    """
    return _resolve_models(uri)


def resolve_artifact_store_uri(uri: str) -> str:
    """Download a model stored at an artifact URI (``s3://``, ``mlflow-artifacts:``, ``http(s)://``).

    Raises:
        InvalidArgumentError: no artifact repository serves the URI.
        NotFoundError: nothing is stored there.
    """
    return _download(uri, "")
